"""One passkey assertion inside a sign-in attempt: the one path of both passkey sign-ins.

A passkey completes a sign-in in two ways: as the second factor of a known
user (:meth:`~mfakit.service.MfaService.verify_passkey`), or on its own,
without a username (:meth:`~mfakit.service.MfaService.finish_passkey_sign_in`).
Both run :meth:`PasskeyAssertion.check` inside a
:class:`~mfakit.service._gate.LoginGate` attempt:

1. the attempt is charged to the user's passkey throttle (before any check);
2. the caller's ``load`` pops the challenge and finds the credential;
3. the assertion is verified (WebAuthn L3 §7.2) against the credential's
   key, counter, BE flag and user handle; user verification is required for
   a sign-in on its own, whatever ``require_user_verification`` says;
4. a sign-in on its own needs a credential allowed to sign in alone;
5. the counter is stored with a compare-and-set, together with an accepted
   BE upgrade and the first user handle of a credential stored before
   handles were recorded (the user id's UTF-8 bytes, its registration's).

Any refusal counts as a failed attempt (the gate audits it and locks
memberships whose limit is reached); a counter that did not increase also
tells the user (a possibly cloned authenticator).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from mfakit import webauthn
from mfakit.errors import (
    MalformedDataError,
    PasswordlessNotAllowedError,
    SignCountError,
    VerificationError,
)
from mfakit.policy import MethodKind
from mfakit.repositories import Challenge, WebAuthnCredential
from mfakit.service._context import ServiceContext
from mfakit.service._facts import passkey_kind
from mfakit.service._gate import LoginGate, SignIn
from mfakit.service._notify import PasskeyNowSynced, SignCountAnomaly

__all__ = ["SIGN_IN_ACTION", "PasskeyAssertion", "expected_user_handle"]

#: The audit action of a passkey sign-in on its own (success and failure).
SIGN_IN_ACTION = "passkey.sign_in"

#: What the caller's ``load`` returns: the popped challenge and the credential.
Loaded = tuple[Challenge, WebAuthnCredential]


def expected_user_handle(credential: WebAuthnCredential) -> bytes:
    """The user handle ``credential``'s assertions carry.

    Its recorded handle; for a credential stored before handles were
    recorded, the user id's UTF-8 bytes, which registrations then used.
    """
    if credential.user_handle is not None:
        return credential.user_handle
    return credential.user_id.encode("utf-8")


class PasskeyAssertion:
    """Checks one assertion inside a sign-in attempt; depends on the context and the gate."""

    def __init__(self, *, context: ServiceContext, gate: LoginGate) -> None:
        self._context = context
        self._gate = gate

    def check(
        self,
        attempt: SignIn,
        response: Any,
        load: Callable[[], Loaded],
        *,
        first_factor: bool,
    ) -> MethodKind:
        """Charge, load, verify and record one assertion; count a refusal as a failure.

        Args:
            attempt: The open sign-in attempt of the credential's user.
            response: The browser's ``PublicKeyCredential`` (Level 3 JSON).
            load: Pops the challenge and returns it with the credential; a
                refusal it raises counts as a failed attempt too.
            first_factor: A sign-in on its own: user verification is
                required and the credential must be allowed to sign in alone.

        Returns:
            The kind of method used (``passkey`` after an accepted BE upgrade).
            The caller ends the attempt with the gate's ``after_success``.

        Raises:
            VerificationError: the challenge, the credential or the assertion
                is refused (after the failure was counted).
            MalformedDataError: the response cannot be parsed.
            ThrottledError: the passkey throttle is spent.
        """
        context = self._context
        now = attempt.now
        action = SIGN_IN_ACTION if first_factor else None
        self._gate.charge(attempt, "passkey")
        credential: WebAuthnCredential | None = None
        try:
            challenge, credential = load()
            verified = webauthn.verify_authentication(
                response,
                expected_challenge=challenge.challenge,
                expected_origins=context.rp.origins,
                expected_rp_id=context.rp.rp_id,
                credential_public_key=credential.public_key,
                current_sign_count=credential.sign_count,
                require_user_verification=first_factor
                or context.settings.require_user_verification,
                now=now,
                expected_backup_eligible=credential.backup_eligible,
                expected_user_handle=expected_user_handle(credential),
                accept_backup_eligibility_upgrade=context.settings.accept_backup_eligibility_upgrade,
            )
            if first_factor and not credential.passwordless:
                # Only after the signature verified: only the key's holder learns this.
                raise PasswordlessNotAllowedError
            if not self._record(credential, verified, now):
                # A concurrent sign-in stored a counter first: this one is not newer.
                raise SignCountError(stored=credential.sign_count, received=verified.new_sign_count)
        except SignCountError:
            label = credential.name if credential is not None else ""
            context.send(SignCountAnomaly(user_id=attempt.user_id, label=label), at=now)
            self._gate.hold(
                attempt,
                context.event(
                    "passkey.sign_count_anomaly",
                    at=now,
                    outcome="failure",
                    user_id=attempt.user_id,
                ),
            )
            self._gate.after_failure(attempt, "passkey", action=action)
            raise
        except (VerificationError, MalformedDataError):
            self._gate.after_failure(attempt, "passkey", action=action)
            raise
        if verified.backup_eligibility_upgraded:
            return MethodKind.PASSKEY
        return passkey_kind(credential)

    def _record(
        self,
        credential: WebAuthnCredential,
        verified: webauthn.VerifiedAuthentication,
        now: datetime,
    ) -> bool:
        """Compare-and-set the counter (an accepted BE upgrade, a first handle); False if lost."""
        context = self._context
        # A credential stored before handles were recorded keeps the handle it
        # just asserted (verified above to be its registration's).
        handle = verified.user_handle if credential.user_handle is None else None
        cas = functools.partial(
            context.store.update_sign_count,
            credential.credential_id,
            credential.sign_count,
            verified.new_sign_count,
            now=now,
            backup_state=verified.backup_state,
            user_handle=handle,
        )
        if not verified.backup_eligibility_upgraded:
            return cas()
        with context.transaction():
            # BE and kind="passkey" are written by the same guarded statement as
            # the counter: a lost race records neither, and sends nothing.
            if not cas(backup_eligible=True):
                return False
            context.audit(
                "passkey.backup_eligibility_upgraded",
                at=now,
                user_id=credential.user_id,
                details={"previous_kind": credential.kind, "kind": MethodKind.PASSKEY.value},
            )
            context.send(
                PasskeyNowSynced(user_id=credential.user_id, label=credential.name), at=now
            )
        return True
