"""Policy checks shared by every flow that adds or removes a second factor.

A user may belong to several organizations (or none): adding or removing a
method must be allowed by every organization the user is an active member of.
A user outside any organization is judged by ``settings.personal_policy``.
Each judges the user with their last second-factor check (``last_mfa_at``,
one stamp per user), the anchor of a step-up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from mfakit.policy import (
    Decision,
    Method,
    MethodKind,
    Obligation,
    OrgState,
    Principal,
    can_add_method,
    can_remove_method,
)
from mfakit.repositories import Membership
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory, OrgContext
from mfakit.service._effects import EffectWriter
from mfakit.service._facts import principal_of

__all__ = ["MethodPolicy"]

_PERSONAL = OrgState(id="personal")


class MethodPolicy:
    """May a method be added or removed; depends on the context, directory and effect writer."""

    def __init__(
        self, *, context: ServiceContext, directory: Directory, effects: EffectWriter
    ) -> None:
        self._context = context
        self._directory = directory
        self._effects = effects

    def _check_methods(
        self,
        user_id: str,
        decide: Callable[[OrgContext | None, Principal], Decision],
        methods: tuple[Method, ...],
        last_mfa_at: datetime | None,
    ) -> list[tuple[OrgContext, Decision]]:
        """Ask every organization (or the personal policy); raise on the first refusal."""
        contexts = self._directory.member_contexts(user_id)
        if not contexts:
            personal = Principal(id=user_id, methods=methods, last_mfa_at=last_mfa_at)
            decide(None, personal).require_allowed()
            return []
        decisions = []
        for ctx, m in contexts:
            decision = decide(ctx, principal_of(m, methods, last_mfa_at=last_mfa_at))
            decision.require_allowed()
            decisions.append((ctx, decision))
        return decisions

    def check_add(
        self,
        user_id: str,
        kind: MethodKind,
        label: str,
        methods: tuple[Method, ...],
        now: datetime,
        *,
        last_mfa_at: datetime | None,
    ) -> list[tuple[OrgContext, Decision]]:
        """Raise :class:`PolicyDeniedError` unless every organization lets the user add ``kind``."""

        def decide(ctx: OrgContext | None, principal: Principal) -> Decision:
            policy = self._context.settings.personal_policy if ctx is None else ctx.policy
            state = _PERSONAL if ctx is None else ctx.state
            return can_add_method(
                policy, state, principal=principal, kind=kind, label=label, now=now
            )

        return self._check_methods(user_id, decide, methods, last_mfa_at)

    def commit_add(
        self,
        user_id: str,
        kind: MethodKind,
        label: str,
        methods_before: tuple[Method, ...],
        now: datetime,
        *,
        last_mfa_at: datetime | None,
    ) -> None:
        """Persist each organization's effects of an added method (e.g. end a grace period)."""
        for ctx, _ in self._directory.member_contexts(user_id):

            def decide(m: Membership, ctx: OrgContext = ctx) -> Decision:
                return can_add_method(
                    ctx.policy,
                    ctx.state,
                    principal=principal_of(m, methods_before, last_mfa_at=last_mfa_at),
                    kind=kind,
                    label=label,
                    now=now,
                )

            self._effects.decide_member(ctx, user_id, decide, at=now)

    def check_remove(
        self,
        user_id: str,
        method_id: str,
        confirmation: str | None,
        methods: tuple[Method, ...],
        now: datetime,
        *,
        last_mfa_at: datetime | None,
        replacement: Method | None = None,
    ) -> list[tuple[OrgContext, Decision]]:
        """Raise :class:`PolicyDeniedError` unless every organization lets the method go."""

        def decide(ctx: OrgContext | None, principal: Principal) -> Decision:
            policy = self._context.settings.personal_policy if ctx is None else ctx.policy
            state = _PERSONAL if ctx is None else ctx.state
            return can_remove_method(
                policy,
                state,
                principal=principal,
                method_id=method_id,
                confirmation=confirmation,
                now=now,
                replacement=replacement,
            )

        return self._check_methods(user_id, decide, methods, last_mfa_at)

    def commit_remove(
        self,
        user_id: str,
        method_id: str,
        confirmation: str | None,
        methods_before: tuple[Method, ...],
        now: datetime,
        *,
        last_mfa_at: datetime | None,
    ) -> tuple[datetime | None, tuple[Obligation, ...]]:
        """Persist each organization's effects of a removal; return the deadline and obligations."""
        deadline: datetime | None = None
        obligations: list[Obligation] = []
        for ctx, _ in self._directory.member_contexts(user_id):

            def decide(m: Membership, ctx: OrgContext = ctx) -> Decision:
                # Step-up and confirmation were checked before the removal.
                return can_remove_method(
                    ctx.policy,
                    ctx.state,
                    principal=principal_of(m, methods_before, last_mfa_at=last_mfa_at),
                    method_id=method_id,
                    confirmation=confirmation,
                    now=now,
                )

            decision = self._effects.decide_member(ctx, user_id, decide, at=now)
            obligations.extend(decision.obligations)
            if decision.deadline is not None and (deadline is None or decision.deadline < deadline):
                deadline = decision.deadline
        return deadline, tuple(obligations)
