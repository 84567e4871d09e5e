"""Passkey sign-in without a username: the passkey is the first factor (and, by policy, MFA).

The page asks for a passkey with an empty ``allowCredentials`` (in the
username field's autofill, or in the browser's dialog); the authenticator
answers with a discoverable credential and its user handle. Finishing:

1. pops the single-use challenge (of this purpose and organization);
2. finds the credential by the response's id, and refuses, with one
   :class:`~mfakit.errors.UnknownCredentialError` whatever the reason, an
   unknown (or deleted) credential and a response whose user handle is not
   the credential's: nothing about another user's credential shows, and
   nothing secret was checked, so nothing is charged;
3. in the credential's user's sign-in attempt (the
   :class:`~mfakit.service._gate.LoginGate`: locks, throttle, failures),
   verifies the assertion with user verification required, checks that the
   credential may sign in alone, and stores the counter: the
   :class:`~mfakit.service._assertion.PasskeyAssertion`, the path of
   ``verify_passkey`` too;
4. counts the sign-in as MFA (stamping the user's last second-factor check)
   unless a judging organization's policy says a passkey sign-in does not
   satisfy its MFA requirement; then the result asks for a second factor.

Cost: the challenge pop and the credential read, then a passkey second
factor's calls (memberships, factors, charge, counter, reset, audit): a
bounded number whatever the size of the user's organizations.
"""

from __future__ import annotations

import hmac
from typing import Any

from mfakit import webauthn
from mfakit.errors import (
    ConfigurationError,
    MalformedDataError,
    ReplayedCodeError,
    UnknownCredentialError,
    VerificationError,
)
from mfakit.repositories import Challenge, WebAuthnCredential
from mfakit.service._assertion import SIGN_IN_ACTION, PasskeyAssertion, expected_user_handle
from mfakit.service._context import ServiceContext
from mfakit.service._gate import LoginGate, SignIn
from mfakit.service._results import (
    Mediation,
    PasskeySignInChallenge,
    PasskeySignInResult,
    check_mediation,
)

__all__ = ["SIGN_IN_PURPOSE", "PasskeySignInFlow"]

#: The purpose of the challenges of passkey sign-ins without a username.
SIGN_IN_PURPOSE = "webauthn.sign_in"


class PasskeySignInFlow:
    """Usernameless passkey sign-in: begin, then finish with the browser's assertion.

    Depends on the context, the login gate (the credential's user's sign-in
    attempt) and the passkey assertion (the one path of a passkey's check).
    """

    def __init__(
        self, *, context: ServiceContext, gate: LoginGate, assertion: PasskeyAssertion
    ) -> None:
        self._context = context
        self._gate = gate
        self._assertion = assertion

    def begin_passkey_sign_in(
        self, *, org_id: str | None = None, mediation: Mediation | str = "optional"
    ) -> PasskeySignInChallenge:
        """See :meth:`MfaService.begin_passkey_sign_in`."""
        context = self._context
        mediation = check_mediation(mediation)
        if org_id is not None and (not isinstance(org_id, str) or not org_id):
            raise ConfigurationError("org_id must be a non-empty string or None")
        now = context.now()
        options = webauthn.authentication_options(
            rp_id=context.rp.rp_id, user_verification="required"
        )
        challenge = context.issue_challenge(
            SIGN_IN_PURPOSE,
            options.challenge,
            user_id=None,
            now=now,
            data={"org_id": org_id, "mediation": mediation},
        )
        return PasskeySignInChallenge(
            challenge_id=challenge.challenge_id,
            options=options.to_json(),
            mediation="conditional" if mediation == "conditional" else "optional",
            expires_at=challenge.expires_at,
        )

    def finish_passkey_sign_in(
        self, challenge_id: str, response: Any, *, org_id: str | None = None
    ) -> PasskeySignInResult:
        """See :meth:`MfaService.finish_passkey_sign_in`."""
        context = self._context
        now = context.now()
        owner: str | None = None
        try:
            challenge = self._pop(challenge_id, org_id)
            parsed = webauthn.low_level.parse_authentication_response(response)
            credential = context.store.get_webauthn_credential(parsed.credential_id)
            owner = None if credential is None else credential.user_id
            if credential is None or not _handle_matches(parsed.user_handle, credential):
                raise UnknownCredentialError(
                    signal_options=webauthn.unknown_credential_signal(
                        rp_id=context.rp.rp_id, credential_id=parsed.credential_id
                    )
                )
        except (VerificationError, MalformedDataError) as exc:
            context.audit(
                SIGN_IN_ACTION,
                at=now,
                outcome="failure",
                user_id=owner,
                org_id=org_id,
                details={"error": exc.code},
            )
            raise
        with self._gate.attempt(credential.user_id, org_id, now) as attempt:
            kind = self._assertion.check(
                attempt, response, lambda: (challenge, credential), first_factor=True
            )
            satisfies = self._satisfies_mfa(attempt)
            result = self._gate.after_success(attempt, kind, action=SIGN_IN_ACTION, stamp=satisfies)
        return PasskeySignInResult(
            user_id=result.user_id,
            method=result.method,
            credential_id=credential.credential_id,
            second_factor_required=not satisfies,
            obligations=result.obligations,
            deadline=result.deadline,
            advice=result.advice,
            enrollment_only=result.enrollment_only,
            decisions=result.decisions,
        )

    def _pop(self, challenge_id: str, org_id: str | None) -> Challenge:
        """The sign-in challenge, once; of this purpose, begun for this organization."""
        challenge = self._context.store.pop_challenge(str(challenge_id), now=self._context.now())
        if (
            challenge is None
            or challenge.purpose != SIGN_IN_PURPOSE
            or challenge.user_id is not None
            or challenge.context.get("org_id") != org_id
        ):
            raise ReplayedCodeError("the challenge is unknown, already used or expired")
        return challenge

    def _satisfies_mfa(self, attempt: SignIn) -> bool:
        """Whether every policy judging the sign-in counts a passkey sign-in as MFA.

        The organizations of the attempt; for a user in none, the personal policy.
        """
        policies = [ctx.policy for ctx, _ in attempt.members] or [
            self._context.settings.personal_policy
        ]
        return all(p.passkey_sign_in_satisfies_mfa for p in policies)


def _handle_matches(asserted: bytes | None, credential: WebAuthnCredential) -> bool:
    """Whether the response's user handle is the credential's (a discoverable one has it)."""
    return asserted is not None and hmac.compare_digest(asserted, expected_user_handle(credential))
