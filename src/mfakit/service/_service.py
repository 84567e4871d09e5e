"""The :class:`MfaService` facade over small flow objects that share one context.

:class:`MfaService` builds one :class:`~mfakit.service._context.ServiceContext`
("context" below: store, clock, key ring, settings, relying party, issuer,
login-code key, audit, transactions, the outbox) and the parts below. Each
part receives the context and, by name, exactly the parts it uses; no part
inherits from another, and every public method of the facade is a one-line
delegation to a flow (marked ``*``). The class decorator ``timed_calls``
(``_observe``) reports each public call's duration to the host's metrics,
when there are any.

The parts in construction order; each depends only on parts above it, so the
graph is acyclic::

      part                module           depends on
      Throttle            _throttle        context
      Directory           _directory       context
      FactorChanges       _factor_changes  context
      EffectWriter        _effects         context, Directory, Throttle, FactorChanges
      MethodPolicy        _methods         context, Directory, EffectWriter
    * StepUp              _step_up         context, Directory
    * BackupCodeFlow      _backup          context, Directory, StepUp, FactorChanges
      LoginGate           _gate            context, Directory, EffectWriter, Throttle,
                                           BackupCodeFlow.advice (one callable)
    * TotpFlow            _totp            context, Directory, Throttle, MethodPolicy,
                                           StepUp, FactorChanges, BackupCodeFlow
    * SecondFactorFlow    _login           context, Directory, Throttle, LoginGate,
                                           TotpFlow, BackupCodeFlow
      PasskeyAssertion    _assertion       context, LoginGate
    * PasskeyFlow         _passkeys        context, Directory, MethodPolicy, StepUp,
                                           FactorChanges, BackupCodeFlow, LoginGate,
                                           PasskeyAssertion
    * PasskeySignInFlow   _passkey_sign_in context, LoginGate, PasskeyAssertion
    * TrustedBrowserFlow  _trusted         context, Directory, LoginGate
    * MemberFlow          _members         context, Directory, EffectWriter
    * OrgFlow             _org             context, Directory, EffectWriter
    * RecoveryFlow        _recovery        context, Directory, EffectWriter, Throttle,
                                           FactorChanges, the host's SessionRevoker
    * LoginCodeFlow       _login_codes     context, Directory, EffectWriter, Throttle,
                                           LoginGate
    * SecretRewrap        _rotation        the context's store, key ring and clock
                                           (so the CLI can run it without a service)

The context owns the ``Outbox`` (``_outbox``): it writes each message to the
store's outbox in the transaction of the change that causes it and delivers
it afterwards; ``deliver_notifications`` (``*``) delegates to it.

What is loaded from the store (a user's methods, an organization with its
policy and state, members) is the Directory's alone; throttling is the
Throttle's alone; writing policy effects on memberships is the EffectWriter's
alone; recording that a user's factors changed (which voids their trusted
browsers) is the FactorChanges' alone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from mfakit.clock import Clock
from mfakit.errors import ConfigurationError
from mfakit.observability import NO_METRICS, Metrics
from mfakit.policy import (
    ComplianceReport,
    Decision,
    MemberCompliance,
    MethodKind,
    OrgPolicy,
    PrincipalKind,
)
from mfakit.repositories import Invitation, Membership, MfaStore, Organization
from mfakit.secretbox import KeyRing
from mfakit.service._assertion import PasskeyAssertion
from mfakit.service._backup import BackupCodeFlow
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory
from mfakit.service._effects import EffectWriter
from mfakit.service._factor_changes import FactorChanges
from mfakit.service._gate import LoginGate
from mfakit.service._login import SecondFactorFlow
from mfakit.service._login_codes import LoginCodeFlow
from mfakit.service._members import MemberFlow
from mfakit.service._methods import MethodPolicy
from mfakit.service._notify import Notifier
from mfakit.service._observe import timed_calls
from mfakit.service._org import OrgFlow
from mfakit.service._outbox import DeliveryReport
from mfakit.service._passkey_sign_in import PasskeySignInFlow
from mfakit.service._passkeys import PasskeyFlow
from mfakit.service._recovery import RecoveryFlow
from mfakit.service._results import (
    BackupCodeSet,
    BackupCodeStatus,
    IamLoginResult,
    LoginCodeRequested,
    Mediation,
    MethodRemoval,
    Passkey,
    PasskeyRegistration,
    PasskeySignals,
    PasskeySignInChallenge,
    PasskeySignInResult,
    RewrapProgress,
    SecondFactorChallenge,
    SecondFactorResult,
    SweepReport,
    TotpActivation,
    TotpDevice,
    TotpEnrollment,
    TrustedBrowserCheck,
    TrustedBrowserEntry,
    TrustedBrowserToken,
)
from mfakit.service._rotation import SecretRewrap
from mfakit.service._sessions import NoSessionRevoker, SessionRevoker
from mfakit.service._settings import RelyingParty, ServiceSettings, UserRef
from mfakit.service._step_up import StepUp
from mfakit.service._throttle import Throttle
from mfakit.service._totp import TotpFlow
from mfakit.service._trusted import TrustedBrowserFlow

__all__ = ["MfaService"]


@timed_calls
class MfaService:
    """Multi-factor authentication for an application: what the application calls.

    It wires the pure core (otp, backup_codes, login_codes, webauthn, policy,
    secretbox) to a store, a :class:`Notifier` and a clock, and owns throttling,
    replay protection, single use, audit events and notifications. The host
    application owns users and passwords and passes user ids.

    Every argument is keyword-only.

    Args:
        store: Implements every port (:class:`~mfakit.repositories.MfaStore`).
        keys: Encrypts TOTP secrets at rest.
        notifier: Delivers messages taken from the store's outbox (use
            :class:`InMemoryOutbox` in tests); see :meth:`deliver_notifications`.
        clock: The time source (a :class:`~mfakit.clock.FrozenClock` in tests).
        relying_party: The WebAuthn relying party (RP ID, name, origins).
        issuer: The name authenticator apps show next to the account.
        login_code_key: The HMAC key of emailed login codes (32 random bytes),
            kept outside the database. Its key id is ``"default"``
            (:data:`~mfakit.repositories.DEFAULT_LOGIN_CODE_KEY_ID`). Give
            either this or ``login_code_keys``.
        login_code_keys: Several login-code keys by id (ids as for the
            secret-box key ring: 1 to 32 characters from ``A-Z a-z 0-9 . _ -``),
            to rotate the key: codes are verified with the key that made them,
            so codes made under a previous key still verify until they expire.
            Keep the previous key configured for one code lifetime
            (``settings.login_codes.ttl``) after a new one becomes current.
        login_code_key_id: With ``login_code_keys``: the id of the key new
            codes are made with.
        settings: Tunables; see :class:`ServiceSettings`.
        session_revoker: Ends a user's sessions after an MFA reset or a removal
            (see :class:`SessionRevoker`); by default nothing is revoked.
        metrics: Receives a count of each security event and the duration of
            each public call and store call
            (:class:`~mfakit.observability.Metrics`); by default
            :data:`~mfakit.observability.NO_METRICS`, which costs nothing.
            Logging needs no argument: see the observability guide.

    Raises:
        ConfigurationError: an argument is invalid.

    Example::

        service = MfaService(
            store=SQLiteStore("mfa.sqlite3"),
            keys=KeyRing.from_config(os.environ["MFA_KEYS"]),
            notifier=my_mailer,
            relying_party=RelyingParty(
                rp_id="example.com", rp_name="Example", origins=("https://example.com",)
            ),
            issuer="Example",
            login_code_key=bytes.fromhex(os.environ["MFA_LOGIN_CODE_KEY"]),
        )
        enrollment = service.begin_totp_enrollment(UserRef(user_id="u-1", name="ada"))
    """

    def __init__(
        self,
        *,
        store: MfaStore,
        keys: KeyRing,
        notifier: Notifier,
        clock: Clock | None = None,
        relying_party: RelyingParty,
        issuer: str,
        login_code_key: bytes | None = None,
        login_code_keys: Mapping[str, bytes] | None = None,
        login_code_key_id: str | None = None,
        settings: ServiceSettings | None = None,
        session_revoker: SessionRevoker | None = None,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        revoker = NoSessionRevoker() if session_revoker is None else session_revoker
        if not isinstance(revoker, SessionRevoker):
            raise ConfigurationError(
                "session_revoker must have a revoke_sessions(user_id, *, reason, org_id) method"
            )
        context = ServiceContext(
            store=store,
            keys=keys,
            notifier=notifier,
            clock=clock,
            relying_party=relying_party,
            issuer=issuer,
            login_code_key=login_code_key,
            login_code_keys=login_code_keys,
            login_code_key_id=login_code_key_id,
            settings=settings,
            metrics=metrics,
        )
        self._context = context
        # Shared pieces first, then the flows; each gets exactly the parts it uses,
        # by name, so this block is the dependency graph of the module docstring.
        throttle = Throttle(context)
        directory = Directory(context)
        factor_changes = FactorChanges(context)
        effects = EffectWriter(
            context=context, directory=directory, throttle=throttle, factor_changes=factor_changes
        )
        policy = MethodPolicy(context=context, directory=directory, effects=effects)
        step_up = StepUp(context=context, directory=directory)
        backup = BackupCodeFlow(
            context=context, directory=directory, step_up=step_up, factor_changes=factor_changes
        )
        gate = LoginGate(
            context=context,
            directory=directory,
            effects=effects,
            throttle=throttle,
            advice=backup.advice,
        )
        totp = TotpFlow(
            context=context,
            directory=directory,
            throttle=throttle,
            policy=policy,
            step_up=step_up,
            factor_changes=factor_changes,
            backup=backup,
        )
        self._directory = directory
        self._step_up = step_up
        self._backup = backup
        self._totp = totp
        self._second_factor = SecondFactorFlow(
            context=context,
            directory=directory,
            throttle=throttle,
            gate=gate,
            totp=totp,
            backup=backup,
        )
        assertion = PasskeyAssertion(context=context, gate=gate)
        self._passkeys = PasskeyFlow(
            context=context,
            directory=directory,
            policy=policy,
            step_up=step_up,
            factor_changes=factor_changes,
            backup=backup,
            gate=gate,
            assertion=assertion,
        )
        self._passkey_sign_in = PasskeySignInFlow(context=context, gate=gate, assertion=assertion)
        self._trusted = TrustedBrowserFlow(context=context, directory=directory, gate=gate)
        self._members = MemberFlow(context=context, directory=directory, effects=effects)
        self._org = OrgFlow(context=context, directory=directory, effects=effects)
        self._recovery = RecoveryFlow(
            context=context,
            directory=directory,
            effects=effects,
            throttle=throttle,
            factor_changes=factor_changes,
            revoker=revoker,
        )
        self._login_codes = LoginCodeFlow(
            context=context, directory=directory, effects=effects, throttle=throttle, gate=gate
        )
        self._rotation = SecretRewrap(
            store=context.store, keys=context.keys, now=context.now, audit=context.audit_all
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(store={self._context.backend!r}, "
            f"rp_id={self._context.rp.rp_id!r})"
        )

    @property
    def settings(self) -> ServiceSettings:
        """The service's settings."""
        return self._context.settings

    # -- TOTP ------------------------------------------------------------------------------

    def begin_totp_enrollment(
        self, user: UserRef, *, name: str = "Authenticator app"
    ) -> TotpEnrollment:
        """Start adding an authenticator app (a TOTP device) named ``name``.

        A user may have up to ``settings.max_totp_devices`` devices, each with
        its own name (1 to 64 characters, unique per user without regard to
        case), secret and replay state. The name and the limit are checked
        before any secret is made or shown. A new secret is stored encrypted
        as a *pending* enrollment that expires after
        ``settings.pending_totp_ttl``; a user has at most one (beginning again
        replaces it). The user's devices keep working meanwhile.

        A user who already has a second factor must have passed one recently
        (step-up, action ``add_method``), checked before the name, the limit
        or anything stored; a first enrollment needs none.

        Args:
            user: The user, with the account name shown by the app.
            name: The device's name, e.g. ``"Work phone"``.

        Returns:
            The key to type, the ``otpauth://`` URI and its QR code. Show them once.

        Raises:
            StepUpRequiredError: the user has a second factor and their last
                check is too old (nothing is stored).
            InvalidNameError: the name is blank, longer than 64 characters, or
                holds control characters.
            DuplicateError: the user has a device with this name.
            LimitReachedError: the user has ``max_totp_devices`` devices already.
            PolicyDeniedError: an organization does not let this user use TOTP.
        """
        return self._totp.begin_totp_enrollment(user, name=name)

    def confirm_totp(self, user_id: str, totp_id: str, code: str) -> TotpActivation:
        """Activate a pending enrollment with a code from the app; issue new backup codes.

        The new device is added to the user's devices; the confirming code's
        time step is stored, so the same code cannot then be used to sign in.
        The user's backup codes are replaced by a new set (shown once). The
        device limit is checked again atomically with the activation. The
        confirming code counts as a recent second factor (the user's step-up
        stamp is set), and the change revokes every trusted browser of the user.

        Raises:
            ExpiredCodeError: no pending enrollment ``totp_id`` (expired, replaced or
                already confirmed).
            InvalidCodeError: the code does not match.
            ThrottledError: too many wrong codes.
            LimitReachedError: the user reached ``max_totp_devices`` meanwhile.
            DuplicateError: a device was renamed to this name meanwhile.
            PolicyDeniedError: an organization no longer lets the user use TOTP.
        """
        return self._totp.confirm_totp(user_id, totp_id, code)

    def list_totp_devices(self, user_id: str) -> tuple[TotpDevice, ...]:
        """The user's authenticator apps, oldest first."""
        return self._totp.list_totp_devices(user_id)

    def rename_totp_device(self, user_id: str, device_id: str, name: str) -> TotpDevice:
        """Rename one of the user's authenticator apps.

        Not a factor change: no step-up is asked, and trusted browsers stay.

        Raises:
            InvalidNameError: the name is blank, too long or holds control characters.
            NotFoundError: the user has no such device.
            DuplicateError: another of the user's devices has this name.
        """
        return self._totp.rename_totp_device(user_id, device_id, name)

    def delete_totp_device(
        self, user_id: str, device_id: str, *, confirmation: str | None
    ) -> MethodRemoval:
        """Delete one authenticator app after the typed confirmation ``DELETE``.

        A recent second factor is required first (step-up, action
        ``remove_method``). The device is one method to each organization's
        policy: removing the user's last method may be refused or start a
        grace period. When no second factor remains, the backup codes are
        deleted too. A sign-in racing the deletion is refused once the
        device is gone. The change revokes every trusted browser of the user.

        Raises:
            NotFoundError: the user has no such device.
            StepUpRequiredError: the user's last second-factor check is too old.
            PolicyDeniedError: confirmation missing or wrong, or refused by an
                organization (``decision`` says why).
        """
        return self._totp.delete_totp_device(user_id, device_id, confirmation=confirmation)

    def delete_totp(self, user_id: str, *, confirmation: str | None) -> MethodRemoval:
        """Delete all of the user's authenticator apps after the typed confirmation ``DELETE``.

        The devices are judged together, as one method, by each
        organization's policy (as :meth:`delete_totp_device` judges one),
        after the same step-up (action ``remove_method``). A pending
        enrollment is deleted too. The change revokes every trusted browser of
        the user.

        Raises:
            NotFoundError: the user has no TOTP device.
            StepUpRequiredError: the user's last second-factor check is too old.
            PolicyDeniedError: confirmation missing or wrong, or refused by an
                organization (``decision`` says why).
        """
        return self._totp.delete_totp(user_id, confirmation=confirmation)

    # -- backup codes ----------------------------------------------------------------------

    def regenerate_backup_codes(self, user_id: str) -> BackupCodeSet:
        """Replace the user's backup codes with a new set; every old code stops working.

        A recent second factor is required first (step-up, action
        ``regenerate_backup_codes``). The change revokes every trusted browser
        of the user.

        Raises:
            NotFoundError: the user has no second factor (backup codes back one up).
            StepUpRequiredError: the user's last second-factor check is too old.
            PolicyDeniedError: an organization refuses (a locked member).
        """
        return self._backup.regenerate_backup_codes(user_id)

    def backup_code_status(self, user_id: str) -> BackupCodeStatus:
        """How many backup codes the user has, and whether they are running low."""
        return self._backup.backup_code_status(user_id)

    # -- second-factor sign-in --------------------------------------------------------------

    def begin_second_factor(
        self,
        user_id: str,
        *,
        org_id: str | None = None,
        first_factor_credential: bytes | None = None,
    ) -> SecondFactorChallenge:
        """Start the second step of sign-in, once the first factor was checked.

        Returns the methods the user can use and, when the user has passkeys,
        WebAuthn request options with a stored single-use challenge.

        After a passkey sign-in that an organization does not count as MFA
        (:attr:`PasskeySignInResult.second_factor_required`), pass the
        passkey's id as ``first_factor_credential``: it is left out of the
        methods and the request options, and :meth:`verify_passkey` refuses
        it for this challenge, so one authenticator never counts as both
        factors. Another passkey, an authenticator app or a backup code may
        complete the sign-in.

        Args:
            user_id: The user who passed the first factor.
            org_id: The organization signed in to; by default every organization
                the user belongs to must allow the sign-in.
            first_factor_credential: The credential that was the first factor
                (``PasskeySignInResult.credential_id``), ``None`` after a password.

        Raises:
            PolicyDeniedError: an organization refuses the sign-in (locked, overdue).
            NotFoundError: ``first_factor_credential`` was the user's only
                method: the sign-in cannot have a second factor (ask for the
                password, then the passkey as the second factor). Never read
                it as "no second factor needed".
            ConfigurationError: ``first_factor_credential`` is not bytes.

        Example::

            result = service.finish_passkey_sign_in(challenge_id, credential_json)
            if result.second_factor_required:
                step = service.begin_second_factor(
                    result.user_id, first_factor_credential=result.credential_id
                )
        """
        return self._second_factor.begin_second_factor(
            user_id, org_id=org_id, first_factor_credential=first_factor_credential
        )

    def verify_totp(
        self, user_id: str, code: str, *, org_id: str | None = None
    ) -> SecondFactorResult:
        """Complete the second factor with a code from one of the user's authenticator apps.

        The code is checked against each active device in turn (one pass over
        the drift window each, so at most ``2 * totp_window + 1`` HMACs per
        device) until one matches. Replay-proof per device: the matched time
        step is recorded on that device with the store's atomic
        ``advance_totp_step``, so a code (or an older one) is accepted once by
        it, even when two requests race; the other devices' steps are
        unchanged.

        Raises:
            PolicyDeniedError: an organization refuses the sign-in.
            ThrottledError: too many wrong codes; ``retry_after`` says when to retry.
            NotFoundError: the user has no TOTP.
            InvalidCodeError: wrong code.
            ReplayedCodeError: the code was already used.
        """
        return self._second_factor.verify_totp(user_id, code, org_id=org_id)

    def verify_backup_code(
        self, user_id: str, code: str, *, org_id: str | None = None
    ) -> SecondFactorResult:
        """Complete the second factor with a backup code; it is consumed exactly once.

        Costs one Argon2 computation. When few codes remain, the result advises
        generating a new set and a :class:`BackupCodesLow` notice is sent.

        Raises:
            PolicyDeniedError: an organization refuses the sign-in.
            ThrottledError: too many wrong codes.
            InvalidCodeError: wrong or already used code.
            ReplayedCodeError: the code was used by a concurrent request.
        """
        return self._second_factor.verify_backup_code(user_id, code, org_id=org_id)

    # -- passkeys and security keys ---------------------------------------------------------

    def begin_passkey_registration(
        self,
        user: UserRef,
        *,
        name: str,
        kind: MethodKind | str = MethodKind.PASSKEY,
        mediation: Mediation | str = "optional",
    ) -> PasskeyRegistration:
        """Start adding a passkey (discoverable) or a security key, with a unique name.

        The options' ``user.id`` is the user's WebAuthn user handle: 32 random
        bytes made for the user the first time and stored (never derived from
        the user id, so an authenticator holds nothing personal; WebAuthn L3
        §14.6.1); the new credential records it. The options exclude the
        user's existing credentials; the challenge is
        stored for ``settings.challenge_ttl`` and can be used once. It carries
        the name and the ``kind`` chosen here, which
        :meth:`finish_passkey_registration` stores with the credential: the
        kind is what the user chose, not guessed from the authenticator's flags.

        A user who already has a second factor must have passed one recently
        (step-up, action ``add_method``); a first one needs none.

        ``mediation="conditional"`` starts an automatic passkey upgrade (a
        conditional create): right after a password sign-in, the page calls
        ``navigator.credentials.create`` with ``mediation: "conditional"`` and
        the browser's password manager may save a passkey without a dialog.
        Such a response carries neither user presence nor user verification
        (the browser asks for neither), so the options ask for no verification
        and :meth:`finish_passkey_registration` accepts UP=0 and UV=0 for this
        challenge only; every other registration challenge still demands UP.
        It registers a passkey (``kind`` must be ``passkey``).

        Raises:
            ConfigurationError: ``kind`` or ``mediation`` is not one of the
                accepted values, or a conditional create asks for a security key.
            DuplicateError: the user already has a credential with this name.
            StepUpRequiredError: the user has a second factor and their last
                check is too old (no challenge is stored, no options returned).
            PolicyDeniedError: an organization does not let this kind of principal
                use this kind of method.
        """
        return self._passkeys.begin_passkey_registration(
            user, name=name, kind=kind, mediation=mediation
        )

    def finish_passkey_registration(
        self, user_id: str, challenge_id: str, response: Any
    ) -> Passkey:
        """Verify the browser's registration response and store the new credential.

        A passkey may then sign in on its own (:meth:`finish_passkey_sign_in`),
        a security key only as a second factor; see
        :meth:`set_passkey_passwordless`. The new credential's signature
        counts as a recent second factor (the user's step-up stamp is set),
        and the change revokes every trusted browser of the user.

        Raises:
            ReplayedCodeError: the challenge is unknown, used or expired.
            WebAuthnError: the response does not verify (origin, RP ID, signature...).
            MalformedDataError: the response cannot be parsed.
            DuplicateError: the credential or its name is already registered.
            PolicyDeniedError: an organization refuses this kind of method.
        """
        return self._passkeys.finish_passkey_registration(user_id, challenge_id, response)

    def list_passkeys(self, user_id: str) -> tuple[Passkey, ...]:
        """The user's passkeys and security keys, oldest first."""
        return self._passkeys.list_passkeys(user_id)

    def passkey_signals(self, user: UserRef) -> PasskeySignals:
        """The Signal API payloads that keep the user's passkey providers in step.

        Send them to a page the user is signed in to, after a sign-in, after
        a passkey was added or deleted, or after the user's name or display
        name changed (``user`` carries the current ones). Browsers without
        the Signal API ignore them (``mfakit-webauthn.js`` checks). After a
        failed passkey sign-in use
        :attr:`~mfakit.errors.UnknownCredentialError.signal_options`; after
        a deletion, :attr:`MethodRemoval.unknown_credential_signal`.

        The user's passkeys may carry two user handles (the random one, and
        the user id's bytes for passkeys registered before handles were
        random): there is one payload of each kind per handle. Reads the
        credentials and the user's handle (one store call each; the handle is
        made on the first call for a user who has none).

        Raises:
            ConfigurationError: ``user`` is not a :class:`UserRef`, or a name is
                longer than 1,024 characters.
        """
        return self._passkeys.passkey_signals(user)

    def rename_passkey(self, user_id: str, credential_id: bytes, name: str) -> Passkey:
        """Rename one of the user's passkeys.

        Raises:
            NotFoundError: the user has no such credential.
            DuplicateError: another of the user's credentials has this name.
        """
        return self._passkeys.rename_passkey(user_id, credential_id, name)

    def delete_passkey(
        self, user_id: str, credential_id: bytes, *, confirmation: str | None
    ) -> MethodRemoval:
        """Delete a passkey after the typed confirmation ``DELETE`` (policy permitting).

        A recent second factor is required first (step-up, action
        ``remove_method``). The change revokes every trusted browser of the user.

        Raises:
            NotFoundError: the user has no such credential.
            StepUpRequiredError: the user's last second-factor check is too old.
            PolicyDeniedError: confirmation missing, or refused.
        """
        return self._passkeys.delete_passkey(user_id, credential_id, confirmation=confirmation)

    def set_passkey_passwordless(
        self, user_id: str, credential_id: bytes, allowed: bool
    ) -> Passkey:
        """Allow or refuse one of the user's credentials to sign in on its own.

        A credential allowed (``passwordless``, the default of a passkey) can
        sign the user in without a username or password
        (:meth:`finish_passkey_sign_in`); a refused one (the default of a
        security key) is a second factor only. A recent second factor is
        required first, as for the other method changes (step-up, action
        ``add_method`` to allow, ``remove_method`` to refuse); the change is
        audited as ``passkey.passwordless_changed``.

        Returns:
            The credential as listed, with its new ``passwordless``.

        Raises:
            ConfigurationError: ``allowed`` is not a bool.
            NotFoundError: the user has no such credential.
            StepUpRequiredError: the user's last second-factor check is too old.
        """
        return self._passkeys.set_passkey_passwordless(user_id, credential_id, allowed)

    def verify_passkey(
        self, user_id: str, challenge_id: str, response: Any, *, org_id: str | None = None
    ) -> SecondFactorResult:
        """Complete the second factor with a passkey assertion.

        The response's user handle, when it has one, must be the credential's
        (its user's random handle, or for a credential registered before
        handles were recorded the user id's UTF-8 bytes, which this first
        use records on the credential).

        A credential registered without the backup-eligible (BE) flag that now
        asserts it has been taken up by a syncing provider. With
        ``settings.accept_backup_eligibility_upgrade`` (the default) the
        sign-in succeeds and, in the same compare-and-set as the counter, the
        credential is stored as backup-eligible and as a passkey; the user gets
        a :class:`PasskeyNowSynced` notice and a
        ``passkey.backup_eligibility_upgraded`` audit event is written. The
        result's ``method`` is then ``passkey``. Organization policies judge
        the credential as a passkey from then on.

        Raises:
            PolicyDeniedError: an organization refuses the sign-in.
            ThrottledError: too many failed attempts.
            ReplayedCodeError: the challenge is unknown, used or expired.
            SignCountError: the signature counter did not increase (possible clone);
                the user is notified.
            WebAuthnError: the assertion does not verify, the credential is not
                the user's, or its BE flag changed in a way not accepted (lost,
                or gained with the upgrade setting off).
            MalformedDataError: the response cannot be parsed.
        """
        return self._passkeys.verify_passkey(user_id, challenge_id, response, org_id=org_id)

    # -- passkey sign-in without a username ------------------------------------------------

    def begin_passkey_sign_in(
        self, *, org_id: str | None = None, mediation: Mediation | str = "optional"
    ) -> PasskeySignInChallenge:
        """Start a passkey sign-in without a username (the passkey is the first factor).

        The options have an empty ``allowCredentials`` (the authenticator
        offers its discoverable credentials for the RP ID) and require user
        verification. Call it when the sign-in page loads with
        ``mediation="conditional"`` to offer the passkeys in the username
        field's autofill (``autocomplete="username webauthn"``), or on a
        "Sign in with a passkey" button with ``"optional"``. The challenge is
        stored single-use for ``settings.challenge_ttl``, for no user, bound to
        ``org_id``; anyone can ask for one, so run :meth:`sweep` (which purges
        expired challenges) regularly.

        Args:
            org_id: The organization whose sign-in page this is; finish with
                the same one. ``None``: the sign-in is judged by every
                organization of the user.
            mediation: ``"conditional"`` or ``"optional"``, returned for
                ``navigator.credentials.get``.

        Raises:
            ConfigurationError: an unknown ``mediation`` or a bad ``org_id``.

        Example::

            start = service.begin_passkey_sign_in(mediation="conditional")
            # page: navigator.credentials.get({mediation: start.mediation,
            #   publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(start.options)})
            result = service.finish_passkey_sign_in(start.challenge_id, credential_json)
            if result.second_factor_required:
                # as after a password, without the passkey that just signed in
                service.begin_second_factor(
                    result.user_id, first_factor_credential=result.credential_id
                )
        """
        return self._passkey_sign_in.begin_passkey_sign_in(org_id=org_id, mediation=mediation)

    def finish_passkey_sign_in(
        self, challenge_id: str, response: Any, *, org_id: str | None = None
    ) -> PasskeySignInResult:
        """Sign a user in with a discoverable passkey's assertion: the user is the passkey's.

        The challenge is popped (single use); the credential is found by the
        response's id, and the response's user handle must be the
        credential's (a discoverable credential returns it). An unknown or
        deleted credential and a user handle that is not the credential's get
        one refusal, :class:`~mfakit.errors.UnknownCredentialError`, the same
        in every case; pass its ``signal_options`` to
        ``PublicKeyCredential.signalUnknownCredential`` so the passkey manager
        stops offering it. Nothing is charged to anyone then.

        Otherwise the sign-in is the credential's user's, through the same
        gate as :meth:`verify_passkey`: each organization's login decision
        first (a locked member is refused), the attempt charged to the user's
        passkey throttle, failures counted and locking as for second factors.
        The assertion must verify with user verification (UV), whatever
        ``settings.require_user_verification`` says, and the credential must
        be allowed to sign in alone (:meth:`set_passkey_passwordless`). The
        counter is stored with a compare-and-set (a regression is a possible
        clone, and the user is told), as is the handle of a credential
        registered before handles were recorded.

        A sign-in with a UV passkey is multi-factor: the user's last
        second-factor check is stamped (step-up) and the result's
        ``second_factor_required`` is False, unless a judging organization's
        policy (``OrgPolicy.passkey_sign_in_satisfies_mfa``; for a user in
        none, ``settings.personal_policy``) says otherwise: then nothing is
        stamped and ``second_factor_required`` is True; continue with
        :meth:`begin_second_factor`, passing ``first_factor_credential``.
        Audited as ``passkey.sign_in``.

        Args:
            challenge_id: From :meth:`begin_passkey_sign_in`.
            response: The browser's ``PublicKeyCredential`` (``toJSON()``).
            org_id: The organization given to :meth:`begin_passkey_sign_in`.

        Raises:
            ReplayedCodeError: the challenge is unknown, used, expired, of
                another purpose or begun for another organization.
            MalformedDataError: the response cannot be parsed.
            UnknownCredentialError: no such credential, or not this user handle.
            PasswordlessNotAllowedError: the assertion verified, but its owner
                keeps this credential for second factors only (raised only
                after the signature verified; do not signal it as unknown).
            NotFoundError: ``org_id`` is given and the passkey's user is not
                its member.
            PolicyDeniedError: an organization refuses the sign-in (locked...).
            ThrottledError: too many failed attempts.
            UserVerificationError: the authenticator did not verify the user.
            SignCountError: the signature counter did not increase.
            WebAuthnError: the assertion does not verify.
        """
        return self._passkey_sign_in.finish_passkey_sign_in(challenge_id, response, org_id=org_id)

    # -- step-up and trusted browsers -------------------------------------------------------

    def require_recent_second_factor(
        self,
        user_id: str,
        action: str,
        *,
        max_age: timedelta | None = None,
        org_id: str | None = None,
    ) -> None:
        """Refuse ``action`` unless the user passed a second factor recently enough.

        Call it before any action of your own that a stolen session must not
        do on its own: changing the password, creating an API key, deleting a
        project. The anchor is the user's last successful second-factor check
        (a sign-in completion, or confirming a new factor), whichever
        organization judged it; a sign-in that skipped the second factor on a
        trusted browser does not count.

        Args:
            user_id: The signed-in user.
            action: Your name for the action: 1 to 64 characters from
                ``a-z 0-9 _ . : -`` (see :func:`~mfakit.policy.check_action`).
            max_age: Your own limit; the policy's maximum age for the action
                (``step_up_max_ages``, else ``step_up_max_age``) applies when
                stricter.
            org_id: The organization the action belongs to: its policy applies
                and the user must be a member. Without it, the personal policy
                (``ServiceSettings.personal_policy``) applies.

        Raises:
            StepUpRequiredError: the last check is missing, in the future or
                too old; ``factors`` lists what the user can verify with (empty
                when the user has no second factor: decide yourself, e.g. ask
                for the password again).
            PolicyDeniedError: the member is locked or removed.
            NotFoundError: ``org_id`` is given and the user is not a member.
            ConfigurationError: an invalid action name or ``max_age``.

        Example::

            try:
                service.require_recent_second_factor(user_id, "api_key.create")
            except StepUpRequiredError as exc:
                return redirect_to_verify(methods=exc.factors, then=request.path)
        """
        self._step_up.require(user_id, action, max_age=max_age, org_id=org_id)

    def trusted_browser_days(self, user_id: str, *, org_id: str | None = None) -> int:
        """For how many days the user may trust a browser now; 0 when not allowed.

        The strictest of the user's organizations (of ``org_id`` alone when
        given); for a user in none, ``settings.personal_policy``. Use it to
        show (or hide) a "trust this browser" checkbox.

        Raises:
            NotFoundError: ``org_id`` is given and the user is not a member.
        """
        return self._trusted.trusted_browser_days(user_id, org_id=org_id)

    def trust_browser(
        self, user_id: str, *, label: str | None = None, org_id: str | None = None
    ) -> TrustedBrowserToken:
        """Trust the user's browser to skip the second factor for the policy's number of days.

        Call it right after a successful second factor (the user's last check
        must be less than 5 minutes old), when the user ticked "trust this
        browser". Keep the returned token in the browser only: an
        ``HttpOnly``, ``Secure`` (on https), ``SameSite=Lax`` cookie that
        expires at ``expires_at``. Only its SHA-256 is stored.

        Args:
            user_id: The user who just passed a second factor.
            label: What to call the browser in listings (e.g. from the
                User-Agent), at most 64 characters.
            org_id: The organization signed in to: its policy alone decides.
                By default every organization of the user must allow trusted
                browsers, and the trust lasts the fewest days any allows.

        Raises:
            PolicyDeniedError: a policy does not allow trusted browsers
                (``trusted_browser_days`` is 0), or a membership is locked.
            StepUpRequiredError: the last second-factor check is not recent
                (action ``trust_browser``).
            NotFoundError: the user has no second factor, or ``org_id`` is
                given and the user is not a member.
            InvalidNameError: the label is not a valid name.
        """
        return self._trusted.trust_browser(user_id, label=label, org_id=org_id)

    def check_trusted_browser(
        self, user_id: str, token: str, *, org_id: str | None = None
    ) -> TrustedBrowserCheck:
        """Whether the browser holding ``token`` may skip the second factor at this sign-in.

        Call it after the password check, with the token from the browser's
        cookie. The result is truthy only while the token is the user's, not
        expired (also against the policies' days now), issued after the
        user's last factor change, administrator reset or lock, and every
        policy judging the sign-in allows trusted browsers. When trusted, sign
        the user in as after :meth:`verify_totp` (the result carries the
        organizations' obligations and ``enrollment_only``); otherwise ask
        for a second factor (:meth:`begin_second_factor`) and drop the cookie.

        Each organization's login decision applies first, as for any sign-in
        (a locked or overdue member is refused). A trusted sign-in is not a
        second-factor check: the step-up stamp is left alone. Costs a
        bounded number of store calls whatever the organizations' size.

        Raises:
            PolicyDeniedError: an organization refuses the sign-in.
            NotFoundError: ``org_id`` is given and the user is not a member.
            ConfigurationError: ``token`` is not a string.
        """
        return self._trusted.check_trusted_browser(user_id, token, org_id=org_id)

    def list_trusted_browsers(self, user_id: str) -> tuple[TrustedBrowserEntry, ...]:
        """The user's trusted browsers that have not expired, oldest first."""
        return self._trusted.list_trusted_browsers(user_id)

    def revoke_trusted_browser(self, user_id: str, token_id: str) -> bool:
        """Stop trusting one of the user's browsers; True if it was trusted."""
        return self._trusted.revoke_trusted_browser(user_id, token_id)

    def revoke_trusted_browsers(self, user_id: str) -> int:
        """Stop trusting every browser of the user; return how many were trusted.

        Any change of the user's second factors does this too.
        """
        return self._trusted.revoke_trusted_browsers(user_id)

    # -- organizations: members, invitations, locks ----------------------------------------

    def create_organization(
        self,
        org_id: str,
        *,
        name: str,
        owner_id: str,
        policy: OrgPolicy | None = None,
        owner_username: str | None = None,
    ) -> Organization:
        """Create an organization (enforcement off) with its first owner.

        Args:
            org_id: The organization's identifier.
            name: Its display name.
            owner_id: The user who owns it.
            policy: Its MFA policy; the reference console's rules by default.
            owner_username: The owner's login name inside the organization, if any.

        Raises:
            DuplicateError: the id is taken.
        """
        return self._members.create_organization(
            org_id, name=name, owner_id=owner_id, policy=policy, owner_username=owner_username
        )

    def add_member(
        self,
        org_id: str,
        user_id: str,
        *,
        kind: PrincipalKind | str = PrincipalKind.MEMBER,
        username: str | None = None,
        actor_id: str | None = None,
    ) -> Membership:
        """Add a member directly (an IAM member created by an administrator).

        Under enforcement the new member gets the policy's new-member grace period,
        counted from their first sign-in for members who sign in with a login code.

        Raises:
            NotFoundError: no such organization.
            DuplicateError: the user or the username is already in the organization.
        """
        return self._members.add_member(
            org_id, user_id, kind=kind, username=username, actor_id=actor_id
        )

    def invite(
        self,
        org_id: str,
        *,
        actor_id: str,
        email: str,
        kind: PrincipalKind | str = PrincipalKind.MEMBER,
    ) -> Invitation:
        """Invite someone to join the organization (an owner or administrator only).

        Raises:
            PolicyDeniedError: the actor may not manage the organization.
        """
        return self._members.invite(org_id, actor_id=actor_id, email=email, kind=kind)

    def accept_invitation(
        self, invitation_id: str, user_id: str, *, email: str, username: str | None = None
    ) -> Membership:
        """Join the organization; under enforcement the invitee must have MFA first.

        An invitation is bound to the address it was sent to: a link forwarded
        to (or intercepted by) someone else must not let them join.

        Args:
            invitation_id: The invitation, from the link.
            user_id: The signed-in user accepting it.
            email: That user's **verified** e-mail address (one your application
                has proved they control, never one typed in the form). It must
                equal the invitation's ``email``, ignoring surrounding white
                space and case (Unicode case folding); nothing else is normalized.
            username: The member's username in the organization, if any.

        Raises:
            ConfigurationError: ``email`` is not an e-mail address.
            NotFoundError: no such invitation.
            InvitationAddressError: ``email`` is not the invited address;
                nothing is stored and the invitation stays usable.
            ExpiredCodeError: the invitation expired, was revoked or was already used.
            PolicyDeniedError: the organization requires MFA before joining (the
                decision carries an ``enroll_now`` obligation).
        """
        return self._members.accept_invitation(
            invitation_id, user_id, email=email, username=username
        )

    def revoke_invitation(self, invitation_id: str, *, actor_id: str) -> bool:
        """Revoke a pending invitation; True if it was pending."""
        return self._members.revoke_invitation(invitation_id, actor_id=actor_id)

    def lock_member(self, org_id: str, user_id: str, *, actor_id: str) -> Membership:
        """Lock a member (an administrator's lock, lifted only by an administrator).

        Raises:
            PolicyDeniedError: the actor may not manage the organization, or is the member.
        """
        return self._members.lock_member(org_id, user_id, actor_id=actor_id)

    def unlock_member(self, org_id: str, user_id: str, *, actor_id: str) -> Decision:
        """Unlock a member; an overdue member may get a new grace period (policy).

        Raises:
            PolicyDeniedError: refused (not locked, self-unlock, not an administrator).
        """
        return self._members.unlock_member(org_id, user_id, actor_id=actor_id)

    # -- support and administrator recovery, exemptions ------------------------------------

    def reset_member_mfa(
        self, org_id: str, user_id: str, *, actor_id: str, reason: str
    ) -> Decision:
        """Delete every second factor of a member: the administrator's recovery of a lost device.

        The member's TOTP (active and pending), passkeys, security keys and
        backup codes are deleted, their sign-in throttles reset, a lock by the
        MFA deadline or by failed attempts lifted (an administrator's lock
        stays), and under enforcement a grace period of kind ``lost_method``
        starts: they must enroll again by its deadline. A reset is a factor
        change: the member's trusted browsers are revoked and their
        factor-change time set. All of it, the audit events
        (``member.mfa_reset`` with the reason) and the member's
        :class:`MfaReset` notice commit in one transaction; then the session
        revoker ends their sessions. The actor needs a recent second factor
        (``reset_mfa`` is in the default ``step_up_actions``). See
        :func:`~mfakit.policy.can_reset_mfa` for who may reset whom.

        Args:
            org_id: The organization.
            user_id: The member to reset.
            actor_id: The owner or administrator who resets.
            reason: Why (1 to 500 characters, no control characters); kept in
                the audit trail only.

        Raises:
            ConfigurationError: a bad id or reason (nothing is read or written).
            NotFoundError: no such organization, or the actor or user is not a member.
            PolicyDeniedError: refused: the actor resets themselves, is not an
                owner or administrator, is not an owner and the user is; the user
                has nothing to reset (also the loser of two concurrent resets) or
                belongs to other organizations; a step-up is required.
            SessionRevocationError: the reset is done, but the revoker failed.
        """
        return self._recovery.reset_member_mfa(org_id, user_id, actor_id=actor_id, reason=reason)

    def reset_user_mfa(self, user_id: str, *, actor_id: str, reason: str) -> tuple[Decision, ...]:
        """Delete every second factor of a user: the host's support staff's recovery.

        The host decides who its support staff are; no organization's actor
        rule applies. The user's factors are deleted and their throttles reset
        as by :meth:`reset_member_mfa`, and in each organization the user
        belongs to, that organization's policy applies the consequences (lifted
        locks, a new ``lost_method`` grace period under enforcement) and the
        user gets an :class:`MfaReset` notice naming it; a user in no
        organization gets one notice without an organization. The user's
        trusted browsers are revoked, as by any factor change. One transaction
        for everything (``user.mfa_reset`` audited with the reason), then the
        session revoker is called.

        Returns:
            One decision per organization the user belongs to (none for a user
            in no organization).

        Raises:
            ConfigurationError: a bad id or reason.
            NotFoundError: the user has no second factor to reset (also the
                loser of two concurrent resets).
            SessionRevocationError: the reset is done, but the revoker failed.
        """
        return self._recovery.reset_user_mfa(user_id, actor_id=actor_id, reason=reason)

    def remove_member(self, org_id: str, user_id: str, *, actor_id: str) -> Decision:
        """Remove a member from the organization (status ``removed``); they are told.

        Their second factors stay (they belong to the account), and so do
        their trusted browsers (not a factor change: a trusted-browser check
        no longer counts the removed membership). The session revoker is
        called after the commit. See
        :func:`~mfakit.policy.can_remove_member`: nobody removes themselves,
        only an owner removes an owner, and the sole active owner stays.

        Raises:
            ConfigurationError: a bad id.
            NotFoundError: no such organization, or the actor or user is not a member.
            PolicyDeniedError: refused (``decision`` says why; also when already removed).
            SessionRevocationError: the removal is done, but the revoker failed.
        """
        return self._recovery.remove_member(org_id, user_id, actor_id=actor_id)

    def grant_exemption(
        self, org_id: str, user_id: str, *, actor_id: str, until: datetime, reason: str
    ) -> Decision:
        """Exempt a member from the MFA requirement until ``until`` (a break-glass account).

        The exemption ends by itself at ``until`` (then a grace period anchored
        at its end applies); it replaces any previous one and appears in
        :meth:`compliance_report` (``exemptions``). See
        :func:`~mfakit.policy.can_grant_exemption`.

        Args:
            org_id: The organization.
            user_id: The member to exempt.
            actor_id: The owner or administrator who grants it.
            until: When it ends (aware, in the future, within ``max_exemption``).
            reason: Why (1 to 500 characters, no control characters); stored
                with the exemption and audited (``member.exemption_granted``).

        Raises:
            ConfigurationError: a bad id, reason or ``until`` (naive or not in the future).
            NotFoundError: no such organization, or the actor or user is not a member.
            PolicyDeniedError: refused: exemptions are off, longer than the
                policy allows, for oneself, by a non-owner for an owner, step-up.
        """
        return self._recovery.grant_exemption(
            org_id, user_id, actor_id=actor_id, until=until, reason=reason
        )

    def revoke_exemption(
        self, org_id: str, user_id: str, *, actor_id: str, reason: str | None = None
    ) -> Decision:
        """End a member's exemption now; under enforcement a grace period starts if they lack MFA.

        Raises:
            ConfigurationError: a bad id or reason.
            NotFoundError: no such organization, or the actor or user is not a member.
            PolicyDeniedError: refused (no exemption in force, or the actor may not).
        """
        return self._recovery.revoke_exemption(org_id, user_id, actor_id=actor_id, reason=reason)

    # -- organizations: enforcement, compliance, reminders, the sweep ----------------------

    def enforce_mfa(self, org_id: str, *, actor_id: str, confirmation: str | None) -> Decision:
        """Turn MFA enforcement on after the typed confirmation ``ENFORCE``.

        Under the reference console's rules this is refused while anyone lacks
        MFA; the decision's ``reminder_targets`` lists them (send reminders). With
        ``start_grace`` activation, they get a grace period (and a notice).

        Raises:
            PolicyDeniedError: refused; ``decision`` has the reasons and reminder targets.
        """
        return self._org.enforce_mfa(org_id, actor_id=actor_id, confirmation=confirmation)

    def stop_enforcement(self, org_id: str, *, actor_id: str, confirmation: str | None) -> Decision:
        """Turn MFA enforcement off after the typed confirmation ``STOP``; owners are told.

        Raises:
            PolicyDeniedError: refused (not enforced, not an owner, no confirmation,
                step-up required).
        """
        return self._org.stop_enforcement(org_id, actor_id=actor_id, confirmation=confirmation)

    def set_policy(self, org_id: str, policy: OrgPolicy, *, actor_id: str) -> Organization:
        """Replace the organization's policy (an owner or administrator only).

        Raises:
            PolicyDeniedError: the actor may not manage the organization.
        """
        return self._org.set_policy(org_id, policy, actor_id=actor_id)

    def compliance_report(self, org_id: str) -> ComplianceReport:
        """The organization's MFA compliance now (who lacks MFA, percentages)."""
        return self._org.compliance_report(org_id)

    def member_compliance(self, org_id: str, user_id: str) -> MemberCompliance:
        """One member's MFA status, deadline and whether a reminder is due."""
        return self._org.member_compliance(org_id, user_id)

    def send_reminders(
        self, org_id: str, *, actor_id: str, user_ids: Collection[str] | None = None
    ) -> tuple[str, ...]:
        """Remind members without MFA to set it up: one member, some, or all of them.

        Members who already comply are skipped. Returns who was reminded.

        Raises:
            PolicyDeniedError: the actor is not an active owner or administrator.
        """
        return self._org.send_reminders(org_id, actor_id=actor_id, user_ids=user_ids)

    def sweep(self) -> SweepReport:
        """Apply what is due now in every organization: deadline locks, expired locks, reminders.

        Run it from a scheduler (every few minutes). It also purges expired
        challenges, dead login codes (expired or used), including the codes
        stored for unknown usernames, which nothing else would ever delete,
        and expired trusted browsers.
        """
        return self._org.sweep()

    # -- emailed login codes ---------------------------------------------------------------

    def send_login_code(self, org_id: str, username: str) -> LoginCodeRequested:
        """Email a sign-in code to the member ``username`` of ``org_id``, if there is one.

        The answer, its errors and the store calls made do not depend on whether
        the member exists. The code is written to the outbox (sealed), never
        sent inside this call: :meth:`deliver_notifications` sends it.

        Raises:
            ThrottledError: a code was requested less than the cool-down ago.
        """
        return self._login_codes.send_login_code(org_id, username)

    def verify_login_code(self, org_id: str, username: str, code: str) -> IamLoginResult:
        """Sign a member in with the emailed code; then the organization's rules apply.

        Each try is counted atomically before it is checked; the code works once,
        until it expires. At the first sign-in under enforcement, a member without
        MFA gets the new-member grace period, counted from now.

        Raises:
            InvalidCodeError: wrong code (``attempts_remaining`` tells the tries left),
                or no code was sent.
            AttemptsExhaustedError: too many wrong tries; request a new code.
            ExpiredCodeError: the code expired.
            ReplayedCodeError: the code was already used.
            PolicyDeniedError: the organization refuses the sign-in (locked, overdue).
        """
        return self._login_codes.verify_login_code(org_id, username, code)

    # -- notifications ---------------------------------------------------------------------

    def deliver_notifications(
        self, *, limit: int = 100, lease: timedelta | None = None
    ) -> DeliveryReport:
        """Deliver due messages from the store's outbox to the notifier; run it from a worker.

        Claims up to ``limit`` due messages for ``lease`` (default
        ``ServiceSettings.delivery_lease``), hands each to the notifier with its
        stable ``message_id``, and marks it delivered. When the notifier raises
        (or a row cannot be decoded) the message is retried after an exponential
        back-off (``delivery_backoff_*``); after ``delivery_max_attempts`` it is
        given up: kept, never retried, audited as ``notification.failed``.
        Placeholders written for unknown usernames are dropped unsent.

        Run it on as many servers as you like, e.g. every few seconds and until
        it claims fewer than ``limit``: the store's claims never give one message
        to two deliverers at once. Delivery is at least once: if a deliverer
        dies, or its lease runs out, after sending a message but before marking
        it, the message is sent again once the lease has expired, with the same
        ``message_id``, so the notifier can drop the duplicate.

        Raises:
            ConfigurationError: ``limit`` is not 1 to 1000, or ``lease`` is not positive.
            StoreError: the store failed (claimed messages return after their lease).
        """
        return self._context.outbox.deliver(limit=limit, lease=lease)

    # -- key rotation ----------------------------------------------------------------------

    def rewrap_secrets(self, *, batch: int = 500, after: str | None = None) -> RewrapProgress:
        """Re-encrypt one batch of stored TOTP secrets under the current secret-box key.

        One call handles one batch: it reads up to ``batch`` credentials
        (pending enrollments and active ones) after the cursor ``after`` with
        one store query, re-encrypts each envelope that is under another key,
        and writes it back with the store's compare-and-set
        ``rewrap_totp_secret``; it appends one ``secretbox.rewrap`` audit event
        with the counts. Loop until the result is :attr:`~RewrapProgress.done`,
        passing its ``next_cursor`` as ``after``::

            after = None
            while True:
                progress = service.rewrap_secrets(batch=500, after=after)
                log.info("rewrapped %d of %d", progress.rewrapped, progress.scanned)
                if progress.done:
                    break
                after = progress.next_cursor

        Resumable (start again from the last cursor, or from the start: rows
        already under the current key cost a header check) and safe to run on
        several servers at once: a row changed between the read and the write
        (a re-enrollment, a confirmation, another server's rewrap) is skipped
        and counted as ``raced``, never overwritten. Sign-ins go on meanwhile:
        the replay state (``last_step``) is never written. A credential whose
        envelope cannot be opened is left alone and listed in ``failed``.

        Args:
            batch: Credentials read per call, 1 to 1000 (one store page).
            after: The ``next_cursor`` of the previous batch; ``None`` to start.

        Raises:
            ConfigurationError: ``batch`` or ``after`` is invalid.
            StoreError: the store failed (rows written so far stay written;
                run again from the last cursor).
        """
        return self._rotation.rewrap_secrets(batch=batch, after=after)
