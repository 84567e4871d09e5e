"""What the service's flows return: frozen, log-safe results (secrets hidden from ``repr``)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from mfakit.errors import ConfigurationError
from mfakit.policy import Decision, MethodKind, Obligation
from mfakit.webauthn.providers import ProviderName

__all__ = [
    "Advice",
    "BackupCodeSet",
    "BackupCodeStatus",
    "IamLoginResult",
    "LoginCodeRequested",
    "Mediation",
    "MethodRemoval",
    "Passkey",
    "PasskeyRegistration",
    "PasskeySignals",
    "PasskeySignInChallenge",
    "PasskeySignInResult",
    "RewrapProgress",
    "SecondFactorChallenge",
    "SecondFactorResult",
    "SweepReport",
    "TotpActivation",
    "TotpDevice",
    "TotpEnrollment",
    "TrustRefusal",
    "TrustedBrowserCheck",
    "TrustedBrowserEntry",
    "TrustedBrowserToken",
]


class Advice(enum.StrEnum):
    """Recommendations for the user interface, never requirements."""

    #: Only one second factor is set up: losing that device locks the user out.
    ADD_SECOND_METHOD = "add_second_method"
    #: Few unused backup codes remain: generate a new set.
    BACKUP_CODES_LOW = "backup_codes_low"


@dataclass(frozen=True, slots=True, kw_only=True)
class TotpEnrollment:
    """A pending TOTP enrollment to show the user (once; never cache or log it).

    Attributes:
        totp_id: Pass it back to :meth:`~mfakit.service.MfaService.confirm_totp`.
        name: The name the device will have once confirmed.
        manual_key: The secret in base32, grouped by four, for typing into the app.
        uri: The ``otpauth://`` URI (contains the secret).
        qr_svg: The URI as an accessible SVG QR code.
        expires_at: When the enrollment stops being confirmable.
    """

    totp_id: str
    name: str = "Authenticator app"
    manual_key: str = field(repr=False)
    uri: str = field(repr=False)
    qr_svg: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupCodeSet:
    """A fresh set of backup codes: show them once, then drop this object.

    Attributes:
        codes: The codes in display form. Never in ``repr``.
        created_at: When the set was generated (all older codes are void).
    """

    codes: tuple[str, ...] = field(repr=False)
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TotpActivation:
    """The result of confirming a TOTP enrollment.

    Attributes:
        totp_id: The now active device (its ``device_id``).
        replaced: Always ``False``: a confirmed enrollment is added as one more
            device, it no longer replaces one. Kept for compatibility.
        backup_codes: The new backup codes, shown once.
        advice: Recommendations (e.g. add a second method).
        device: The new device as listed by
            :meth:`~mfakit.service.MfaService.list_totp_devices`.
    """

    totp_id: str
    replaced: bool
    backup_codes: BackupCodeSet
    advice: tuple[Advice, ...] = ()
    device: TotpDevice


@dataclass(frozen=True, slots=True, kw_only=True)
class TotpDevice:
    """One of the user's authenticator apps (TOTP devices), as listed to its owner.

    Attributes:
        device_id: The device's id (use it to rename or delete it).
        name: The user's name for it, unique among the user's devices.
        created_at: When its enrollment began.
        confirmed_at: When it was confirmed.
        last_used_at: When it last completed a sign-in, ``None`` before any.
    """

    device_id: str
    name: str
    created_at: datetime
    confirmed_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupCodeStatus:
    """How many backup codes a user has left.

    Attributes:
        total: Codes in the current set.
        remaining: Unused codes.
        low: Whether ``remaining`` is at or below the warning threshold.
    """

    total: int
    remaining: int
    low: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodRemoval:
    """The result of deleting a second factor.

    Attributes:
        method: The kind of method removed.
        label: Its name.
        deadline: The end of a grace period the removal started (or the running
            one), when an organization requires MFA.
        obligations: What the user must now do (e.g. enroll before ``deadline``).
        remaining_methods: How many second factors are left.
        unknown_credential_signal: For a deleted passkey or security key, the
            argument of ``PublicKeyCredential.signalUnknownCredential``
            (:func:`~mfakit.webauthn.unknown_credential_signal`), so the
            user's passkey provider can stop offering it; ``None`` otherwise.
    """

    method: MethodKind
    label: str
    deadline: datetime | None = None
    obligations: tuple[Obligation, ...] = ()
    remaining_methods: int = 0
    unknown_credential_signal: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PasskeySignals:
    """What the browser should tell the user's passkey providers (the Signal API).

    Send them from a page the user is signed in to (after a sign-in, after a
    passkey was added or deleted, after the user's names changed), for
    example with ``mfakit-webauthn.js``'s ``signalAllAcceptedCredentials``
    and ``signalCurrentUserDetails``. There is one payload per user handle
    the user's passkeys may carry: the user's random handle, and the user
    id's bytes for passkeys registered before handles were random.

    Attributes:
        all_accepted_credentials: Arguments of
            ``PublicKeyCredential.signalAllAcceptedCredentials``: every
            credential id the user still has (a provider may hide the others).
        current_user_details: Arguments of
            ``PublicKeyCredential.signalCurrentUserDetails``: the user's
            current account name and display name.
    """

    all_accepted_credentials: tuple[Mapping[str, Any], ...]
    current_user_details: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Passkey:
    """A registered passkey or security key, as listed to its owner.

    Attributes:
        credential_id: The credential id (use it to rename or delete).
        name: The user's label.
        kind: ``passkey`` or ``security_key``, as chosen when it was registered.
        created_at: Registration time.
        last_used_at: Last successful sign-in with it.
        transports: Transport hints.
        backed_up: Whether the credential is currently backed up (synced).
        provider_name: Who holds it ("Google Password Manager"), for display:
            from the AAGUID list of ``ServiceSettings.provider_names``
            (``attested=False``: the authenticator's claim), or ``None``
            when the list does not know the AAGUID or is off. The service
            verifies registrations without an attestation policy, so its
            names are never ``attested``; see
            :func:`mfakit.webauthn.providers.provider_name`.
        passwordless: Whether it may sign the user in on its own (a passkey
            sign-in without a username), not only as a second factor; see
            :meth:`~mfakit.service.MfaService.set_passkey_passwordless`.
    """

    credential_id: bytes
    name: str
    kind: MethodKind
    created_at: datetime
    last_used_at: datetime | None = None
    transports: tuple[str, ...] = ()
    backed_up: bool = False
    provider_name: ProviderName | None = None
    passwordless: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PasskeyRegistration:
    """A started passkey registration: send ``options`` to the browser.

    Attributes:
        challenge_id: Pass it back with the browser's response.
        options: ``PublicKeyCredentialCreationOptionsJSON`` for
            ``PublicKeyCredential.parseCreationOptionsFromJSON``.
        expires_at: When the single-use challenge expires.
        mediation: :data:`Mediation`: ``"optional"`` (a modal ceremony) or ``"conditional"``
            (the browser's automatic upgrade: pass it as
            ``navigator.credentials.create({mediation: "conditional", ...})``).
    """

    challenge_id: str
    options: Mapping[str, Any]
    expires_at: datetime
    mediation: Mediation = "optional"


#: How the browser asks for a passkey at sign-in (``mediation`` of
#: ``navigator.credentials.get``): ``"conditional"`` offers the passkeys in the
#: username field's autofill, ``"optional"`` opens the browser's dialog.
Mediation = Literal["conditional", "optional"]
_MEDIATIONS: frozenset[str] = frozenset({"conditional", "optional"})


def check_mediation(mediation: object) -> Mediation:
    """Return ``mediation`` if it is ``"conditional"`` or ``"optional"``.

    Raises:
        ConfigurationError: Anything else.
    """
    if isinstance(mediation, str) and mediation in _MEDIATIONS:
        return cast(Mediation, mediation)
    raise ConfigurationError('mediation must be "conditional" or "optional"')


@dataclass(frozen=True, slots=True, kw_only=True)
class PasskeySignInChallenge:
    """A started passkey sign-in (no username): send ``options`` to the browser.

    Attributes:
        challenge_id: Pass it back with the browser's response.
        options: ``PublicKeyCredentialRequestOptionsJSON`` for
            ``PublicKeyCredential.parseRequestOptionsFromJSON``: an empty
            ``allowCredentials`` (the authenticator offers its discoverable
            credentials) and ``userVerification: "required"``.
        mediation: Pass it as ``mediation`` to ``navigator.credentials.get``.
        expires_at: When the single-use challenge expires.
    """

    challenge_id: str
    options: Mapping[str, Any]
    mediation: Mediation
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PasskeySignInResult:
    """A passkey sign-in that verified: who signed in, and what the organizations ask next.

    Attributes:
        user_id: The user the passkey belongs to.
        method: ``passkey`` or ``security_key``: the kind of the credential used.
        credential_id: The credential that signed in.
        second_factor_required: An organization judging the sign-in does not
            count a passkey sign-in as MFA
            (``OrgPolicy.passkey_sign_in_satisfies_mfa`` is False): continue
            with :meth:`~mfakit.service.MfaService.begin_second_factor`, as
            after a password; the user's last second-factor check was not
            updated. When False the sign-in was multi-factor (a recent second
            factor for step-up).
        obligations: What the organizations require next (as in
            :class:`SecondFactorResult`).
        deadline: The earliest enrollment deadline in play, if any.
        advice: Recommendations (second method, backup codes low).
        enrollment_only: The session may only set up a method.
        decisions: The organizations' login decisions, by organization id.
    """

    user_id: str
    method: MethodKind
    credential_id: bytes
    second_factor_required: bool = False
    obligations: tuple[Obligation, ...] = ()
    deadline: datetime | None = None
    advice: tuple[Advice, ...] = ()
    enrollment_only: bool = False
    decisions: Mapping[str, Decision] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SecondFactorChallenge:
    """What the user can use to pass the second factor.

    Attributes:
        user_id: The user signing in.
        methods: The usable method kinds: ``totp``, ``passkey``/``security_key``,
            ``backup_codes``.
        challenge_id: The WebAuthn challenge id, when the user has passkeys.
        webauthn_options: ``PublicKeyCredentialRequestOptionsJSON``, when the user has
            passkeys.
        expires_at: When the WebAuthn challenge expires.
    """

    user_id: str
    methods: tuple[MethodKind, ...]
    challenge_id: str | None = None
    webauthn_options: Mapping[str, Any] | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SecondFactorResult:
    """A passed second factor.

    Attributes:
        user_id: The user.
        method: The kind of factor that was used.
        obligations: What the organizations require next (e.g. enroll by a deadline,
            or enroll now when sign-in is limited to enrollment).
        deadline: The earliest enrollment deadline in play, if any.
        advice: Recommendations (second method, backup codes low).
        enrollment_only: The session may only set up a method (an overdue user under
            a ``block`` policy).
        backup_codes_remaining: Unused backup codes left, after a backup code was used.
        decisions: The organizations' login decisions, by organization id.
    """

    user_id: str
    method: MethodKind
    obligations: tuple[Obligation, ...] = ()
    deadline: datetime | None = None
    advice: tuple[Advice, ...] = ()
    enrollment_only: bool = False
    backup_codes_remaining: int | None = None
    decisions: Mapping[str, Decision] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginCodeRequested:
    """The answer to a login-code request: identical whether or not the user exists.

    Attributes:
        resend_after: When another code may be requested.
        expires_at: When a code sent now would expire.
    """

    resend_after: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class IamLoginResult:
    """An organization member signed in with an emailed code.

    Attributes:
        user_id: The member's user id.
        org_id: The organization.
        first_login: Whether this was the member's first sign-in.
        second_factor: The member's second factors; when not empty, continue with
            :meth:`~mfakit.service.MfaService.begin_second_factor`.
        obligations: What the organization requires (e.g. enroll by a deadline).
        deadline: The enrollment deadline in play, if any.
        enrollment_only: The session may only set up a method.
        decision: The organization's login decision.
    """

    user_id: str
    org_id: str
    first_login: bool
    second_factor: tuple[MethodKind, ...]
    obligations: tuple[Obligation, ...] = ()
    deadline: datetime | None = None
    enrollment_only: bool = False
    decision: Decision | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepReport:
    """What one :meth:`~mfakit.service.MfaService.sweep` run did.

    Attributes:
        organizations: Organizations visited.
        locked: ``(org_id, user_id)`` locked for a missed deadline.
        removed: ``(org_id, user_id)`` removed for a missed deadline.
        unlocked: ``(org_id, user_id)`` whose failed-attempts lock ran out.
        reminded: ``(org_id, user_id)`` sent an enrollment reminder.
        purged_challenges: Expired WebAuthn challenges deleted.
        purged_login_codes: Expired or used emailed login codes deleted (those
            requested for unknown usernames included).
        purged_trusted_browsers: Expired trusted browsers deleted.
    """

    organizations: int
    locked: tuple[tuple[str, str], ...] = ()
    removed: tuple[tuple[str, str], ...] = ()
    unlocked: tuple[tuple[str, str], ...] = ()
    reminded: tuple[tuple[str, str], ...] = ()
    purged_challenges: int = 0
    purged_login_codes: int = 0
    purged_trusted_browsers: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class RewrapProgress:
    """What one :meth:`~mfakit.service.MfaService.rewrap_secrets` batch did.

    Attributes:
        key_id: The current secret-box key, the one secrets were sealed under.
        scanned: TOTP credentials (pending and active) read in this batch.
        rewrapped: Re-encrypted under ``key_id`` and written back by this call.
        already_current: Already under ``key_id`` (another run, or a newer
            enrollment, did it): nothing written.
        raced: Changed between the read and the compare-and-set (a
            re-enrollment, a confirmation, a deletion or another server's
            rewrap): skipped, nothing overwritten. A later run sees them again.
        failed: ``totp_id`` of each credential whose envelope could not be
            opened (damaged, tampered with, or under a key the ring no longer
            holds): left as they are; the user must enroll again.
        next_cursor: Pass it as ``after`` to continue; ``None`` after the last batch.
    """

    key_id: str
    scanned: int
    rewrapped: int
    already_current: int
    raced: int
    failed: tuple[str, ...] = ()
    next_cursor: str | None

    @property
    def done(self) -> bool:
        """Whether this was the last batch (every credential has been scanned)."""
        return self.next_cursor is None


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustedBrowserToken:
    """A browser just trusted: the token to keep in it (once; never log it).

    Attributes:
        token: The random token (256 bits, URL-safe): put it in an ``HttpOnly``,
            ``Secure``, ``SameSite=Lax`` cookie and pass it to
            :meth:`~mfakit.service.MfaService.check_trusted_browser`. Only its
            SHA-256 is stored.
        token_id: Identifies the trusted browser in listings and revocations
            (not secret, and useless as a token).
        label: What the browser is called, if anything.
        created_at: When it was trusted.
        expires_at: When the trust ends; the cookie should expire then too.
    """

    token: str = field(repr=False)
    token_id: str
    label: str | None
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustedBrowserEntry:
    """One of the user's trusted browsers, as listed on a security page.

    Attributes:
        token_id: Pass it to :meth:`~mfakit.service.MfaService.revoke_trusted_browser`.
        label: What the browser is called, if anything.
        created_at: When it was trusted.
        expires_at: When the trust ends.
        last_used_at: When it last skipped the second factor, ``None`` before.
    """

    token_id: str
    label: str | None
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


class TrustRefusal(enum.StrEnum):
    """Why :meth:`~mfakit.service.MfaService.check_trusted_browser` did not trust a browser."""

    #: No trusted browser of this user has this token (unknown, revoked,
    #: another user's, malformed or tampered with).
    UNKNOWN = "unknown"
    #: The trust ran out (its own expiry, or the policy's current number of days).
    EXPIRED = "expired"
    #: The user's second factors changed (or an administrator reset them) after
    #: the browser was trusted.
    FACTORS_CHANGED = "factors_changed"
    #: A membership of the user was locked after the browser was trusted.
    LOCKED = "locked"
    #: A policy that judges this sign-in does not allow trusted browsers (now).
    NOT_ALLOWED = "not_allowed"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustedBrowserCheck:
    """Whether a browser may skip the second factor at this sign-in.

    Truthy exactly when ``trusted``. When trusted, it carries what a
    :class:`SecondFactorResult` would: each organization's obligations, the
    earliest deadline and whether the session may only set up a method.

    Attributes:
        user_id: Who signs in.
        trusted: Whether the second factor may be skipped.
        reason: Why not, when not trusted (``None`` when trusted).
        token_id: The trusted browser's id when the token was found.
        obligations: What each organization requires (e.g. enroll by a deadline).
        deadline: The earliest enrollment deadline in play.
        enrollment_only: The session may only set up a method.
        decisions: Each organization's login decision, by organization id.
    """

    user_id: str
    trusted: bool
    reason: TrustRefusal | None = None
    token_id: str | None = None
    obligations: tuple[Obligation, ...] = ()
    deadline: datetime | None = None
    enrollment_only: bool = False
    decisions: Mapping[str, Decision] = field(default_factory=dict)

    def __bool__(self) -> bool:
        """True exactly when the browser is trusted."""
        return self.trusted
