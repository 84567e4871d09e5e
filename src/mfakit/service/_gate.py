"""The sign-in gate: each organization's login decision, and what follows an attempt.

Every way of signing in (TOTP, backup code, passkey, emailed login code) goes
through one :class:`LoginGate`:

* before any factor is checked, each organization's login decision is
  evaluated and persisted, and a refusal stops the sign-in (a locked or
  overdue member burns nothing);
* after a failed factor, memberships whose failed-attempts limit is reached
  are locked;
* after a success, the throttles are reset and the verification time is
  recorded on each membership (the step-up anchor).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from mfakit.errors import PolicyDeniedError
from mfakit.policy import Decision, MethodKind, Obligation, Outcome, evaluate_login
from mfakit.repositories import Membership
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory, OrgContext
from mfakit.service._effects import EffectWriter
from mfakit.service._facts import principal_of
from mfakit.service._results import Advice, SecondFactorResult
from mfakit.service._throttle import Throttle

__all__ = ["LoginGate"]


class LoginGate:
    """Login decisions before a factor is checked, bookkeeping after.

    Depends on the context, the directory, the effect writer, the throttle and
    a narrow ``advice(user_id)`` callable (the backup code flow's), which the
    success result carries.
    """

    def __init__(
        self,
        *,
        context: ServiceContext,
        directory: Directory,
        effects: EffectWriter,
        throttle: Throttle,
        advice: Callable[[str], tuple[Advice, ...]],
    ) -> None:
        self._context = context
        self._directory = directory
        self._effects = effects
        self._throttle = throttle
        self._advice = advice

    def contexts(self, user_id: str, org_id: str | None) -> list[OrgContext]:
        """The organizations that judge this sign-in: ``org_id``, or all of the user's."""
        if org_id is not None:
            self._directory.membership(org_id, user_id)
            return [self._directory.org_context(org_id)]
        return [ctx for ctx, _ in self._directory.member_contexts(user_id)]

    def evaluate(
        self, ctx: OrgContext, user_id: str, now: datetime, failed_attempts: int
    ) -> Decision:
        """One organization's login decision, its effects persisted (not raised on)."""
        methods = self._directory.methods(user_id)

        def decide(m: Membership) -> Decision:
            principal = principal_of(m, methods, failed_attempts=failed_attempts)
            return evaluate_login(ctx.policy, ctx.state, principal=principal, now=now)

        return self._effects.decide_member(ctx, user_id, decide, at=now)

    def check(self, user_id: str, org_id: str | None, now: datetime) -> dict[str, Decision]:
        """Each organization's login decision, persisted; raise if any refuses.

        Raises:
            PolicyDeniedError: an organization refuses the sign-in.
        """
        failed = self._throttle.failed_attempts(user_id)
        decisions: dict[str, Decision] = {}
        for ctx in self.contexts(user_id, org_id):
            decision = self.evaluate(ctx, user_id, now, failed)
            if decision.outcome is Outcome.DENY:
                self._context.audit(
                    "login.denied", at=now, outcome="denied", user_id=user_id, org_id=ctx.org.org_id
                )
                raise PolicyDeniedError(
                    "the organization does not allow this sign-in", decision=decision
                )
            decisions[ctx.org.org_id] = decision
        return decisions

    def after_failure(self, user_id: str, factor: str, org_id: str | None, now: datetime) -> None:
        """Audit a failed factor; lock memberships whose failed-attempts limit is reached."""
        self._context.audit(
            f"{factor}.verify", at=now, outcome="failure", user_id=user_id, org_id=org_id
        )
        failed = self._throttle.failed_attempts(user_id)
        for ctx in self.contexts(user_id, org_id):
            if failed >= ctx.policy.max_failed_attempts:
                self.evaluate(ctx, user_id, now, failed)

    def after_success(
        self, user_id: str, method: MethodKind, decisions: dict[str, Decision], now: datetime
    ) -> SecondFactorResult:
        """Reset the throttles, stamp each membership's last check; build the result."""
        self._throttle.reset_sign_in(user_id)
        for org_id in decisions:

            def stamp(m: Membership) -> Membership:
                return dataclasses.replace(m, last_mfa_at=now)

            self._effects.change_membership(org_id, user_id, stamp)
        self._context.audit(f"{method.value}.verify", at=now, user_id=user_id)
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
