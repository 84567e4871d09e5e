"""Step-up: a recent second factor before a sensitive action, the host's or mfakit's own.

The anchor is the user's last successful second-factor check
(``last_mfa_at``, one stamp per user, set by every sign-in completion and by
confirming a new factor). An action needs a step-up when that check is
missing, in the future (a clock running ahead is not trusted), or at least as
old as the applicable maximum age; the refusal is a
:class:`~mfakit.errors.StepUpRequiredError` naming the action, the maximum
age and the method kinds the user can answer with.

Which rules apply:

* :meth:`StepUp.require` (``MfaService.require_recent_second_factor``): with
  an organization, that organization's policy, for its member (an inactive
  or locked member is refused); without one, the personal policy
  (``ServiceSettings.personal_policy``). The host named the action, so a
  step-up is always required; the age is the stricter of the host's
  ``max_age`` and the policy's for the action.
* :meth:`StepUp.require_for_method_change` (adding, replacing, removing a
  method, new backup codes): every organization the user belongs to, or the
  personal policy for a user in none, whenever the user already has a second
  factor. The method changes always need a step-up, whatever a policy lists
  (:data:`~mfakit.policy.METHOD_CHANGE_ACTIONS`); each policy sets how recent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from mfakit.errors import ConfigurationError, StepUpRequiredError
from mfakit.policy import (
    Decision,
    MethodKind,
    OrgPolicy,
    OrgState,
    Outcome,
    Principal,
    check_action,
    evaluate_sensitive_action,
)
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory, UserFactors
from mfakit.service._facts import principal_of
from mfakit.service._settings import check_user_id

__all__ = ["StepUp", "factor_kinds"]

_PERSONAL = OrgState(id="personal")


def factor_kinds(factors: UserFactors) -> tuple[MethodKind, ...]:
    """The kinds of second factor the user can pass now, each once, in listing order."""
    return tuple(dict.fromkeys(m.kind for m in factors.methods))


class StepUp:
    """Requires a recent second factor; depends on the context and the directory."""

    def __init__(self, *, context: ServiceContext, directory: Directory) -> None:
        self._context = context
        self._directory = directory

    def require(
        self,
        user_id: str,
        action: str,
        *,
        max_age: timedelta | None = None,
        org_id: str | None = None,
    ) -> None:
        """See :meth:`MfaService.require_recent_second_factor`."""
        check_user_id(user_id)
        name = check_action(action)
        if max_age is not None and (not isinstance(max_age, timedelta) or max_age <= timedelta(0)):
            raise ConfigurationError("max_age must be a positive timedelta")
        context = self._context
        now = context.now()
        if org_id is None:
            factors = self._directory.factors(user_id)
            policy = context.settings.personal_policy
            principal = Principal(
                id=user_id, methods=factors.methods, last_mfa_at=factors.last_mfa_at
            )
            state = _PERSONAL
        else:
            ctx, membership = self._directory.member_context(org_id, user_id)
            factors = self._directory.factors(user_id)
            policy, state = ctx.policy, ctx.state
            principal = principal_of(membership, factors.methods, last_mfa_at=factors.last_mfa_at)
        age = policy.step_up_max_age_for(name)
        if max_age is not None:
            age = min(age, max_age)
        decision = evaluate_sensitive_action(
            policy, state, principal=principal, action=name, now=now, max_age=age
        )
        self._raise_unless_allowed(user_id, name, [(decision, age)], factors, now, org_id=org_id)

    def require_for_method_change(
        self, user_id: str, action: str, factors: UserFactors, now: datetime
    ) -> None:
        """Raise unless the user's last check is recent enough to change a method.

        Nothing is required of a user without a second factor (a first
        enrollment). Otherwise every organization of the user (the personal
        policy for a user in none) must find the check recent enough for
        ``action``; its membership state is judged elsewhere (the method
        policy), so each is asked about an active principal.

        Raises:
            StepUpRequiredError: the check is missing, in the future or too old
                for one of the policies.
        """
        if not factors.methods:
            return
        policies: Iterable[OrgPolicy] = [
            ctx.policy for ctx, _ in self._directory.member_contexts(user_id)
        ] or [self._context.settings.personal_policy]
        principal = Principal(id=user_id, methods=factors.methods, last_mfa_at=factors.last_mfa_at)
        decisions = [
            (
                evaluate_sensitive_action(
                    policy, _PERSONAL, principal=principal, action=action, now=now
                ),
                policy.step_up_max_age_for(action),
            )
            for policy in policies
        ]
        self._raise_unless_allowed(user_id, action, decisions, factors, now)

    def _raise_unless_allowed(
        self,
        user_id: str,
        action: str,
        decisions: list[tuple[Decision, timedelta]],
        factors: UserFactors,
        now: datetime,
        *,
        org_id: str | None = None,
    ) -> None:
        """Raise a step-up refusal (or another refusal) unless every decision allows.

        ``decisions`` pairs each decision with the maximum age it applied.
        """
        for decision, _ in decisions:
            if decision.outcome is Outcome.DENY:
                decision.require_allowed()
        stale = [(d, age) for d, age in decisions if d.outcome is Outcome.REQUIRE_STEP_UP]
        if not stale:
            return
        max_age = min(age for _, age in stale)
        self._context.audit(
            "step_up.required",
            at=now,
            outcome="denied",
            user_id=user_id,
            org_id=org_id,
            details={"action": str(action), "max_age": int(max_age.total_seconds())},
        )
        raise StepUpRequiredError(
            action=str(action),
            max_age=max_age,
            factors=factor_kinds(factors),
            decision=stale[0][0],
        )
