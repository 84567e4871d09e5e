"""The sign-in gate: each organization's login decision, and what follows an attempt.

Every way of signing in (TOTP, backup code, passkey, emailed login code) goes
through one :class:`LoginGate`:

* before any factor is checked, each organization's login decision is
  evaluated and persisted, and a refusal stops the sign-in (a locked or
  overdue member burns nothing);
* after a failed factor, memberships whose failed-attempts limit is reached
  are locked;
* after a success, the throttles are reset and the verification time is
  recorded once for the user (the step-up anchor), in one store call
  whatever the organizations: a member of any number of them makes the
  same calls as a user in none.

A flow opens an attempt with :meth:`LoginGate.attempt` (a ``with`` block):
the login decisions' audit events that change nothing else are held and
written with the attempt's outcome (the success's or failure's event), in
one ``append_audit_events``; whatever ends the block writes those still held.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Protocol

from mfakit.errors import PolicyDeniedError
from mfakit.policy import Decision, MethodKind, Obligation, Outcome, evaluate_login
from mfakit.repositories import AuditEvent, Membership, ThrottleState
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory, OrgContext, UserFactors
from mfakit.service._effects import EffectWriter
from mfakit.service._facts import principal_of
from mfakit.service._results import Advice, SecondFactorResult
from mfakit.service._throttle import Throttle

__all__ = ["AdviceFor", "LoginGate", "SignIn"]


class AdviceFor(Protocol):
    """What the success result advises (the backup code flow's ``advice``)."""

    def __call__(
        self, user_id: str, factors: UserFactors | None = None, *, unused: int | None = None
    ) -> tuple[Advice, ...]:
        """The advice for ``user_id``, from ``factors`` when given."""
        ...


@dataclasses.dataclass(slots=True, kw_only=True)
class SignIn:
    """One sign-in attempt: what the gate read once, and what happened so far.

    Attributes:
        user_id: Who signs in.
        org_id: The one organization judging it, or ``None`` for all the user's.
        now: The attempt's time.
        members: Each judging organization with the membership as last stored.
        read: The memberships as first read, before the login decisions'
            effects (a lock that ran out is released by them).
        decisions: Each organization's login decision, by organization id.
        charged: The charged counter after this attempt was counted.
        factors: The user's factors with the sign-in counters, once read
            (``None`` until needed).
        audit: Audit events held to be written with the attempt's outcome.
    """

    user_id: str
    org_id: str | None
    now: datetime
    members: list[tuple[OrgContext, Membership]]
    read: tuple[Membership, ...] = ()
    decisions: dict[str, Decision] = dataclasses.field(default_factory=dict)
    charged: tuple[str, ThrottleState] | None = None
    factors: UserFactors | None = None
    audit: list[AuditEvent] = dataclasses.field(default_factory=list)

    def outcome(self) -> tuple[tuple[Obligation, ...], datetime | None, bool]:
        """What the login decisions ask of a sign-in that succeeds.

        Returns their obligations together, the earliest deadline, and whether
        some organization allows the session only to enroll.
        """
        obligations: list[Obligation] = []
        deadline: datetime | None = None
        for decision in self.decisions.values():
            obligations.extend(decision.obligations)
            if decision.deadline is not None and (deadline is None or decision.deadline < deadline):
                deadline = decision.deadline
        enrollment_only = any(
            d.outcome is Outcome.REQUIRE_ENROLLMENT for d in self.decisions.values()
        )
        return tuple(obligations), deadline, enrollment_only


class LoginGate:
    """Login decisions before a factor is checked, bookkeeping after.

    Depends on the context, the directory, the effect writer, the throttle and
    a narrow ``advice`` callable (the backup code flow's), which the success
    result carries.

    A sign-in reads each thing once: the user's memberships with each
    judging organization and its owner count (one
    ``list_user_memberships_with_orgs``), and the user's factors with the
    sign-in counters (one ``get_user_factors``); the failure and success
    bookkeeping reuse them. Its cost does not depend on how many members the
    organizations have.
    """

    def __init__(
        self,
        *,
        context: ServiceContext,
        directory: Directory,
        effects: EffectWriter,
        throttle: Throttle,
        advice: AdviceFor,
    ) -> None:
        self._context = context
        self._directory = directory
        self._effects = effects
        self._throttle = throttle
        self._advice = advice

    def contexts(self, user_id: str, org_id: str | None) -> list[OrgContext]:
        """The organizations that judge this sign-in: ``org_id``, or all of the user's."""
        return [ctx for ctx, _ in self._members(user_id, org_id)]

    def _members(self, user_id: str, org_id: str | None) -> list[tuple[OrgContext, Membership]]:
        if org_id is not None:
            return [self._directory.member_context(org_id, user_id)]
        return self._directory.member_contexts(user_id)

    def evaluate(
        self, ctx: OrgContext, user_id: str, now: datetime, failed_attempts: int
    ) -> Decision:
        """One organization's login decision, its effects persisted (not raised on)."""
        factors = self._directory.factors(user_id)
        return self._evaluate(ctx, user_id, factors=factors, now=now, failed=failed_attempts)[0]

    def _evaluate(
        self,
        ctx: OrgContext,
        user_id: str,
        *,
        factors: UserFactors,
        now: datetime,
        failed: int,
        current: Membership | None = None,
        defer: list[AuditEvent] | None = None,
    ) -> tuple[Decision, Membership]:
        methods, last_mfa_at = factors.methods, factors.last_mfa_at

        def decide(m: Membership) -> Decision:
            principal = principal_of(m, methods, last_mfa_at=last_mfa_at, failed_attempts=failed)
            return evaluate_login(ctx.policy, ctx.state, principal=principal, now=now)

        return self._effects.decide_and_store(
            ctx, user_id, decide, at=now, current=current, defer=defer
        )

    def factors(self, attempt: SignIn) -> UserFactors:
        """The user's factors with the sign-in counters, read once per attempt (one call)."""
        if attempt.factors is None:
            attempt.factors = self._directory.factors(
                attempt.user_id, throttle_keys=self._throttle.keys(attempt.user_id)
            )
        return attempt.factors

    def _throttles(self, attempt: SignIn) -> dict[str, ThrottleState]:
        return self._throttle.by_factor(attempt.user_id, self.factors(attempt).throttles)

    @contextmanager
    def attempt(self, user_id: str, org_id: str | None, now: datetime) -> Iterator[SignIn]:
        """One sign-in attempt: each organization's login decision, then the flow's block.

        The audit events the attempt still holds when the block ends (however
        it ends) are written then.

        Raises:
            PolicyDeniedError: an organization refuses the sign-in.
        """
        members = self._members(user_id, org_id)
        attempt = SignIn(
            user_id=user_id,
            org_id=org_id,
            now=now,
            members=members,
            read=tuple(m for _, m in members),
        )
        try:
            self._check(attempt)
            yield attempt
        finally:
            self._flush(attempt)

    def hold(self, attempt: SignIn, event: AuditEvent) -> None:
        """Hold ``event`` to be written with the attempt's outcome (in order)."""
        attempt.audit.append(event)

    def _flush(self, attempt: SignIn, *events: AuditEvent) -> None:
        """Write the held events and ``events`` in one call; hold nothing after."""
        held = [*attempt.audit, *events]
        attempt.audit.clear()
        self._context.audit_all(held)

    def _check(self, attempt: SignIn) -> None:
        """Each organization's login decision, persisted; raise if any refuses.

        Raises:
            PolicyDeniedError: an organization refuses the sign-in.
        """
        if not attempt.members:
            return
        user_id, now = attempt.user_id, attempt.now
        failed = self._throttle.failed_attempts(user_id, self._throttles(attempt))
        factors = self.factors(attempt)
        for i, (ctx, m) in enumerate(attempt.members):
            decision, stored = self._evaluate(
                ctx,
                user_id,
                factors=factors,
                now=now,
                failed=failed,
                current=m,
                defer=attempt.audit,
            )
            if decision.outcome is Outcome.DENY:
                self._flush(
                    attempt,
                    self._context.event(
                        "login.denied",
                        at=now,
                        outcome="denied",
                        user_id=user_id,
                        org_id=ctx.org.org_id,
                    ),
                )
                raise PolicyDeniedError(
                    "the organization does not allow this sign-in", decision=decision
                )
            attempt.members[i] = (ctx, stored)
            attempt.decisions[ctx.org.org_id] = decision

    def charge(self, attempt: SignIn, factor: str) -> None:
        """Count this attempt on ``factor``'s counter before the factor is checked.

        Raises:
            ThrottledError: the factor is locked or backing off.
        """
        state = self._throttles(attempt)[factor]
        charged = self._throttle.charge(
            factor, attempt.user_id, attempt.now, state=state, pending=attempt.audit
        )
        attempt.charged = (factor, charged)

    def after_failure(self, attempt: SignIn, factor: str, *, action: str | None = None) -> None:
        """Audit a failed factor; lock memberships whose failed-attempts limit is reached.

        The audit event's action is ``action``, by default ``<factor>.verify``.
        """
        user_id, now = attempt.user_id, attempt.now
        self._flush(
            attempt,
            self._context.event(
                action or f"{factor}.verify",
                at=now,
                outcome="failure",
                user_id=user_id,
                org_id=attempt.org_id,
            ),
        )
        if not attempt.members:
            return
        # The counters as read, with this attempt's count on the charged one.
        states = dict(self._throttles(attempt))
        if attempt.charged is not None:
            states[attempt.charged[0]] = attempt.charged[1]
        failed = self._throttle.failed_attempts(user_id, states)
        factors = self.factors(attempt)
        for ctx, m in attempt.members:
            if failed >= ctx.policy.max_failed_attempts:
                self._evaluate(ctx, user_id, factors=factors, now=now, failed=failed, current=m)

    def after_success(
        self,
        attempt: SignIn,
        method: MethodKind,
        *,
        backup_codes_unused: int | None = None,
        action: str | None = None,
        stamp: bool = True,
    ) -> SecondFactorResult:
        """Reset the throttles and stamp the user's last check; build the result.

        ``backup_codes_unused`` is the count after a backup code was consumed.
        The audit event's action is ``action``, by default
        ``<method>.verify``. With ``stamp=False`` (a sign-in that does not
        count as a second factor) the throttles are reset and the user's last
        check is left as it is.
        """
        user_id, now = attempt.user_id, attempt.now
        # The success's bookkeeping: one transaction, so one commit, of two
        # calls whatever the user's organizations (the stamp is the user's, not
        # each membership's). Its events (the held login decisions' and the
        # verification's) are one write; they stay held, for the attempt's end
        # to write, if the transaction fails.
        events = [
            *attempt.audit,
            self._context.event(action or f"{method.value}.verify", at=now, user_id=user_id),
        ]
        with self._context.transaction():
            if stamp:
                self._throttle.record_success(user_id, now)
            else:
                self._throttle.reset_sign_in(user_id)
            self._context.audit_all(events)
        attempt.audit.clear()
        obligations, deadline, enrollment_only = attempt.outcome()
        return SecondFactorResult(
            user_id=user_id,
            method=method,
            obligations=obligations,
            deadline=deadline,
            advice=self._advice(user_id, self.factors(attempt), unused=backup_codes_unused),
            enrollment_only=enrollment_only,
            decisions=dict(attempt.decisions),
        )
