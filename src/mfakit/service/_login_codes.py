"""IAM member sign-in with an emailed code: organization id + username + code.

No user enumeration: :meth:`LoginCodeFlow.send_login_code` makes the same
store calls in the same order, returns the same value and raises the same
errors (the resend cool-down included) whether or not the username exists:
look up the member, store the code with the guarded cool-down write, write
one outbox row, append one audit event. For a member the row is the sealed
code addressed to them; for an unknown (or removed) username it is a sealed
placeholder addressed to no one, which the deliverer marks delivered without
calling the notifier. Login codes are never delivered inside the request
(whatever ``deliver_after_commit`` says), so its timing does not depend on the
notifier either. A code issued for an unknown username can never sign anyone in.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import datetime

from mfakit import login_codes
from mfakit.errors import (
    AttemptsExhaustedError,
    ConfigurationError,
    InvalidCodeError,
    PolicyDeniedError,
    ReplayedCodeError,
    ThrottledError,
    VerificationError,
)
from mfakit.policy import GraceKind, Outcome, member_compliance
from mfakit.repositories import LoginCode, Membership
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory
from mfakit.service._effects import EffectWriter
from mfakit.service._facts import principal_of
from mfakit.service._gate import LoginGate
from mfakit.service._notify import LoginCode as LoginCodeMessage
from mfakit.service._results import IamLoginResult, LoginCodeRequested
from mfakit.service._throttle import Throttle

__all__ = ["LoginCodeFlow"]

_MAX_NAME = 256


def _subject(org_id: object, username: object) -> str:
    for name, value in (("org_id", org_id), ("username", username)):
        if not isinstance(value, str) or not value or len(value) > _MAX_NAME:
            raise ConfigurationError(f"{name} must be a non-empty string of at most 256 characters")
    # Length-prefixed so that no (org, username) pair can spell another one.
    return f"iam:{len(org_id)}:{org_id}:{username}"  # type: ignore[arg-type]


class LoginCodeFlow:
    """Emailed one-time codes for organization members.

    Depends on the context, the directory, the effect writer, the throttle
    (failed second-factor attempts count in the login decision) and the login
    gate (the organization's login decision after the code).
    """

    def __init__(
        self,
        *,
        context: ServiceContext,
        directory: Directory,
        effects: EffectWriter,
        throttle: Throttle,
        gate: LoginGate,
    ) -> None:
        self._context = context
        self._directory = directory
        self._effects = effects
        self._throttle = throttle
        self._gate = gate

    def _core_record(self, stored: LoginCode) -> login_codes.LoginCodeRecord:
        return login_codes.LoginCodeRecord(
            digest=stored.code_hash,
            digits=self._context.settings.login_codes.digits,
            issued_at=stored.created_at,
            expires_at=stored.expires_at,
            max_attempts=stored.max_attempts,
            attempts=stored.attempts,
            used_at=stored.consumed_at,
        )

    def send_login_code(self, org_id: str, username: str) -> LoginCodeRequested:
        """See :meth:`MfaService.send_login_code`."""
        context = self._context
        subject = _subject(org_id, username)
        now = context.now()
        policy = context.settings.login_codes
        member = context.store.get_membership_by_username(org_id, username)
        keys = context.login_code_keys
        issued = login_codes.generate_login_code(
            key=keys.current, context=subject, now=now, policy=policy
        )
        record = issued.record
        code = LoginCode(
            subject=subject,
            code_id=secrets.token_urlsafe(16),
            code_hash=record.digest,
            created_at=now,
            expires_at=record.expires_at,
            max_attempts=record.max_attempts,
            key_id=keys.current_id,
        )
        known = member is not None and member.status != "removed"
        with context.transaction():
            # The cool-down is one guarded write: of parallel requests, one stores its code.
            stored = context.store.put_login_code_if_cooled_down(
                code, cooldown=policy.resend_cooldown
            )
            if stored:
                # Known or not, one outbox row: only its recipient differs.
                if member is not None and known:
                    context.send(
                        LoginCodeMessage(
                            user_id=member.user_id,
                            org_id=org_id,
                            code=issued.code,
                            expires_at=record.expires_at,
                        ),
                        at=now,
                    )
                else:
                    context.send_nothing(
                        org_id=org_id, code=issued.code, expires_at=record.expires_at, at=now
                    )
                context.audit(
                    "login_code.requested",
                    at=now,
                    org_id=org_id,
                    user_id=member.user_id if member is not None else None,
                )
        if not stored:
            raise self._cooling_down(subject, now)
        return LoginCodeRequested(
            resend_after=now + policy.resend_cooldown, expires_at=record.expires_at
        )

    def _cooling_down(self, subject: str, now: datetime) -> ThrottledError:
        cooldown = self._context.settings.login_codes.resend_cooldown
        last = self._context.store.get_login_code(subject)
        # The last code may be gone meanwhile (purged): then one more cool-down is a safe answer.
        ready_at = now + cooldown if last is None else last.created_at + cooldown
        return ThrottledError(
            "a code was sent moments ago; wait before asking again",
            retry_after=max((ready_at - now).total_seconds(), 0.0),
        )

    def verify_login_code(self, org_id: str, username: str, code: str) -> IamLoginResult:
        """See :meth:`MfaService.verify_login_code`."""
        subject = _subject(org_id, username)
        now = self._context.now()
        try:
            member = self._check_code(subject, org_id, username, code, now)
        except VerificationError as exc:
            self._context.audit(
                "login_code.verify",
                at=now,
                outcome="failure",
                org_id=org_id,
                details={"error": exc.code},
            )
            raise
        return self._first_login(org_id, member, now)

    def _check_code(
        self, subject: str, org_id: str, username: str, code: str, now: datetime
    ) -> Membership:
        context = self._context
        stored = context.store.get_login_code(subject)
        if stored is None:
            raise InvalidCodeError
        counted = context.store.record_login_code_attempt(subject, stored.code_id, now=now)
        if counted is None:
            # Say why (used, expired, out of tries); a concurrent try may have taken the last one.
            login_codes.count_attempt(self._core_record(stored), now=now)
            raise AttemptsExhaustedError
        key = context.login_code_keys.get(counted.key_id)
        if key is None:
            # Made under a key no longer configured: fail closed, as a wrong code
            # (the try is counted), and say so to the operator.
            context.audit(
                "login_code.unknown_key",
                at=now,
                outcome="failure",
                org_id=org_id,
                details={"key_id": counted.key_id},
            )
            left = counted.max_attempts - counted.attempts
            raise AttemptsExhaustedError if left == 0 else InvalidCodeError(attempts_remaining=left)
        login_codes.verify_login_code(
            self._core_record(counted), code, key=key, context=subject, now=now
        )
        if not context.store.consume_login_code(subject, counted.code_id, now=now):
            raise ReplayedCodeError
        member = context.store.get_membership_by_username(org_id, username)
        if member is None or member.status == "removed":
            raise InvalidCodeError  # a code issued for an unknown name was never sent
        return member

    def _first_login(self, org_id: str, member: Membership, now: datetime) -> IamLoginResult:
        user_id = member.user_id
        first_login = "first_login_at" not in member.attributes
        ctx = self._directory.org_context(org_id)
        factors = self._directory.factors(user_id)
        methods = factors.methods
        if first_login:
            principal = principal_of(member, methods, last_mfa_at=factors.last_mfa_at)
            status = member_compliance(ctx.policy, ctx.state, principal=principal, now=now)

            def stamp(m: Membership) -> Membership:
                attributes = dict(m.attributes)
                attributes.setdefault("first_login_at", now.isoformat())
                changed = dataclasses.replace(m, attributes=attributes)
                if ctx.state.enforced and not status.has_mfa and m.grace_started_at is None:
                    # The grace period of a member created by an administrator runs
                    # from their first sign-in, not from when the account was made.
                    changed = dataclasses.replace(
                        changed, grace_started_at=now, grace_reason=GraceKind.NEW_MEMBER.value
                    )
                return changed

            self._effects.change_membership(org_id, user_id, stamp)
        decision = self._gate.evaluate(ctx, user_id, now, self._throttle.failed_attempts(user_id))
        if decision.outcome is Outcome.DENY:
            self._context.audit(
                "login.denied", at=now, outcome="denied", user_id=user_id, org_id=org_id
            )
            raise PolicyDeniedError(
                "the organization does not allow this sign-in", decision=decision
            )
        self._context.audit(
            "login_code.verify",
            at=now,
            user_id=user_id,
            org_id=org_id,
            details={"first_login": first_login},
        )
        return IamLoginResult(
            user_id=user_id,
            org_id=org_id,
            first_login=first_login,
            second_factor=tuple(dict.fromkeys(m.kind for m in methods)),
            obligations=decision.obligations,
            deadline=decision.deadline,
            enrollment_only=decision.outcome is Outcome.REQUIRE_ENROLLMENT,
            decision=decision,
        )
