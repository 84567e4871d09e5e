"""Second-factor sign-in: begin, then complete with TOTP or a backup code (passkeys: _passkeys).

The host application checks the password first. Every completion:

1. applies each organization's login decision (a locked or overdue member is
   refused before any factor is checked, so nothing is consumed);
2. charges the attempt to the factor's throttle (atomic count, checked first);
3. checks the factor and makes it single-use with one atomic store call;
4. on success resets the throttles and records the verification time (step-up).
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import datetime

from mfakit import backup_codes, webauthn
from mfakit.errors import InvalidCodeError, NotFoundError, PolicyDeniedError, ReplayedCodeError
from mfakit.policy import Decision, MethodKind, Obligation, Outcome, evaluate_login
from mfakit.repositories import Challenge, Membership
from mfakit.service._core import OrgContext
from mfakit.service._facts import principal_of
from mfakit.service._results import SecondFactorChallenge, SecondFactorResult
from mfakit.service._settings import check_user_id
from mfakit.service._totp import TotpFlows

__all__ = ["LoginFlows"]

#: The purpose of the challenges issued by :meth:`LoginFlows.begin_second_factor`.
AUTHENTICATION_PURPOSE = "webauthn.authentication"


class LoginFlows(TotpFlows):
    """The second step of sign-in."""

    def _login_contexts(self, user_id: str, org_id: str | None) -> list[OrgContext]:
        if org_id is not None:
            self._membership(org_id, user_id)
            return [self._org_context(org_id)]
        return [ctx for ctx, _ in self._member_contexts(user_id)]

    def _evaluate_login(
        self, ctx: OrgContext, user_id: str, now: datetime, failed_attempts: int
    ) -> Decision:
        methods = self._methods(user_id)

        def decide(m: Membership) -> Decision:
            principal = principal_of(m, methods, failed_attempts=failed_attempts)
            return evaluate_login(ctx.policy, ctx.state, principal=principal, now=now)

        return self._decide_member(ctx, user_id, decide, at=now)

    def _login_gate(self, user_id: str, org_id: str | None, now: datetime) -> dict[str, Decision]:
        """Each organization's login decision, persisted; raise if any refuses."""
        failed = self._failed_attempts(user_id)
        decisions: dict[str, Decision] = {}
        for ctx in self._login_contexts(user_id, org_id):
            decision = self._evaluate_login(ctx, user_id, now, failed)
            if decision.outcome is Outcome.DENY:
                self._audit(
                    "login.denied", at=now, outcome="denied", user_id=user_id, org_id=ctx.org.org_id
                )
                raise PolicyDeniedError(
                    "the organization does not allow this sign-in", decision=decision
                )
            decisions[ctx.org.org_id] = decision
        return decisions

    def begin_second_factor(
        self, user_id: str, *, org_id: str | None = None
    ) -> SecondFactorChallenge:
        """Start the second step of sign-in, once the password was checked.

        Returns the methods the user can use and, when the user has passkeys,
        WebAuthn request options with a stored single-use challenge.

        Args:
            user_id: The user who passed the first factor.
            org_id: The organization signed in to; by default every organization
                the user belongs to must allow the sign-in.

        Raises:
            PolicyDeniedError: an organization refuses the sign-in (locked, overdue).
        """
        check_user_id(user_id)
        now = self._now()
        self._login_gate(user_id, org_id, now)
        methods = self._methods(user_id)
        kinds = tuple(dict.fromkeys(m.kind for m in methods))
        credentials = self._store.list_webauthn_credentials(user_id)
        if not credentials:
            return SecondFactorChallenge(user_id=user_id, methods=kinds)
        options = webauthn.authentication_options(
            rp_id=self._rp.rp_id,
            allow_credentials=[c.credential_id for c in credentials],
            user_verification="required"
            if self._settings.require_user_verification
            else "preferred",
        )
        expires_at = now + self._settings.challenge_ttl
        challenge = Challenge(
            challenge_id=secrets.token_urlsafe(16),
            purpose=AUTHENTICATION_PURPOSE,
            user_id=user_id,
            challenge=options.challenge,
            created_at=now,
            expires_at=expires_at,
        )
        self._store.put_challenge(challenge)
        return SecondFactorChallenge(
            user_id=user_id,
            methods=kinds,
            challenge_id=challenge.challenge_id,
            webauthn_options=options.to_json(),
            expires_at=expires_at,
        )

    def verify_totp(
        self, user_id: str, code: str, *, org_id: str | None = None
    ) -> SecondFactorResult:
        """Complete the second factor with a code from the authenticator app.

        Replay-proof: the matched time step is recorded with the store's atomic
        ``advance_totp_step``, so a code (or an older one) is accepted once, even
        when two requests race.

        Raises:
            PolicyDeniedError: an organization refuses the sign-in.
            ThrottledError: too many wrong codes; ``retry_after`` says when to retry.
            NotFoundError: the user has no TOTP.
            InvalidCodeError: wrong code.
            ReplayedCodeError: the code was already used.
        """
        check_user_id(user_id)
        now = self._now()
        decisions = self._login_gate(user_id, org_id, now)
        active = self._store.get_active_totp(user_id)
        if active is None:
            raise NotFoundError("the user has no TOTP")
        self._charge_attempt("totp", user_id, now)
        totp = self._totp_of(active)
        window = self._settings.totp_window
        step = totp.verify(code, for_time=now, window=window, after_step=active.last_step)
        if step is None:
            replay = totp.verify(code, for_time=now, window=window) is not None
            self._after_failure(user_id, "totp", org_id, now)
            raise ReplayedCodeError if replay else InvalidCodeError
        if not self._store.advance_totp_step(user_id, step):
            self._after_failure(user_id, "totp", org_id, now)
            raise ReplayedCodeError
        return self._after_success(user_id, MethodKind.TOTP, decisions, now)

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
        check_user_id(user_id)
        now = self._now()
        decisions = self._login_gate(user_id, org_id, now)
        self._charge_attempt("backup_code", user_id, now)
        records = [
            backup_codes.BackupCodeRecord(code_id=c.code_id, hash=c.hash, consumed_at=c.consumed_at)
            for c in self._store.list_backup_codes(user_id)
        ]
        code_id = backup_codes.verify(code, records, hasher=self._settings.backup_code_hasher)
        if code_id is None:
            self._after_failure(user_id, "backup_code", org_id, now)
            raise InvalidCodeError
        if not self._store.consume_backup_code(user_id, code_id, now=now):
            self._after_failure(user_id, "backup_code", org_id, now)
            raise ReplayedCodeError
        remaining = self._store.count_unused_backup_codes(user_id)
        self._warn_if_low(user_id, remaining, now)
        result = self._after_success(user_id, MethodKind.BACKUP_CODES, decisions, now)
        return dataclasses.replace(result, backup_codes_remaining=remaining)

    def _after_failure(self, user_id: str, factor: str, org_id: str | None, now: datetime) -> None:
        """Audit a failed factor; lock memberships whose failed-attempts limit is reached."""
        self._audit(f"{factor}.verify", at=now, outcome="failure", user_id=user_id, org_id=org_id)
        failed = self._failed_attempts(user_id)
        for ctx in self._login_contexts(user_id, org_id):
            if failed >= ctx.policy.max_failed_attempts:
                self._evaluate_login(ctx, user_id, now, failed)

    def _after_success(
        self, user_id: str, method: MethodKind, decisions: dict[str, Decision], now: datetime
    ) -> SecondFactorResult:
        self._reset_throttles(user_id)
        for org_id in decisions:

            def stamp(m: Membership) -> Membership:
                return dataclasses.replace(m, last_mfa_at=now)

            self._change_membership(org_id, user_id, stamp)
        self._audit(f"{method.value}.verify", at=now, user_id=user_id)
        obligations: list[Obligation] = []
        deadline: datetime | None = None
        for decision in decisions.values():
            obligations.extend(decision.obligations)
            if decision.deadline is not None and (deadline is None or decision.deadline < deadline):
                deadline = decision.deadline
        return SecondFactorResult(
            user_id=user_id,
            method=method,
            obligations=tuple(obligations),
            deadline=deadline,
            advice=self._advice(user_id),
            enrollment_only=any(
                d.outcome is Outcome.REQUIRE_ENROLLMENT for d in decisions.values()
            ),
            decisions=decisions,
        )
