"""The scheduler's view: what must happen now across the organization (locks, reminders).

Both functions stream: they read any iterable of principals lazily, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from mfakit.errors import ConfigurationError
from mfakit.policy._builder import Builder
from mfakit.policy._codes import ReasonCode, RuleId
from mfakit.policy._compliance import apply_deadline_action
from mfakit.policy._config import OrgPolicy, PostDeadlineAction
from mfakit.policy._core import (
    assess,
    check_now,
    check_types,
    earliest,
    lock_active,
    plainly_compliant,
    reminder_threshold,
)
from mfakit.policy._decision import (
    AuditAction,
    ComplianceStatus,
    Decision,
    EffectKind,
    NotificationKind,
)
from mfakit.policy._facts import OrgState, Principal, PrincipalKind, PrincipalStatus

__all__ = ["due_reminders", "sweep"]

_ACTIVE = PrincipalStatus.ACTIVE


def _sweep_one(
    policy: OrgPolicy, org: OrgState, principal: Principal, now: datetime, *, reminders_only: bool
) -> Decision | None:
    if not isinstance(principal, Principal):
        raise ConfigurationError("principals must hold Principal objects")
    if principal.status is not _ACTIVE:
        return None
    b: Builder | None = None
    lock = principal.lock
    a = assess(policy, org, principal, now)
    if not reminders_only and lock is not None and not lock_active(policy, principal, now):
        b = Builder(AuditAction.SWEEP, principal.id, None, now)
        b.reason(
            ReasonCode.LOCK_EXPIRED,
            RuleId.LOCK_EXPIRY,
            "the failed-attempts lock has run out",
            lock_reason=lock.reason,
        )
        b.effect(EffectKind.UNLOCK, principal.id, always=True)
        b.effect(EffectKind.RESET_FAILED_ATTEMPTS, principal.id, always=True)
    if a.status is ComplianceStatus.OVERDUE and not reminders_only:
        if policy.after_deadline is PostDeadlineAction.BLOCK or (
            principal.kind is PrincipalKind.OWNER
            and policy.after_deadline is PostDeadlineAction.REMOVE
        ):
            return b.build() if b is not None else None
        b = b or Builder(AuditAction.SWEEP, principal.id, None, now)
        b.deadline = a.deadline
        apply_deadline_action(b, policy, principal)
    elif a.status is ComplianceStatus.IN_GRACE:
        due, upcoming = reminder_threshold(policy, principal, a, now)
        if due is not None:
            b = b or Builder(AuditAction.SWEEP, principal.id, None, now)
            b.deadline = a.deadline
            b.reason(
                ReasonCode.REMINDER_DUE,
                RuleId.REMINDER_OFFSETS,
                "an enrollment reminder is due",
                threshold=due,
                deadline=a.deadline,
            )
            b.notify(NotificationKind.REMINDER, principal.id, deadline=a.deadline)
            b.effect(EffectKind.RECORD_REMINDER, principal.id, at=now)
            b.next_at(earliest(upcoming, a.deadline))
    return b.build() if b is not None else None


def _stream(
    policy: OrgPolicy,
    org: OrgState,
    principals: Iterable[Principal],
    now: datetime,
    *,
    reminders_only: bool,
) -> Iterator[Decision]:
    for principal in principals:
        if isinstance(principal, Principal) and plainly_compliant(policy, principal):
            continue  # nothing is ever due for them
        decision = _sweep_one(policy, org, principal, now, reminders_only=reminders_only)
        if decision is not None:
            yield decision


def sweep(
    policy: OrgPolicy, org: OrgState, *, principals: Iterable[Principal], now: datetime
) -> Iterator[Decision]:
    """Yield what a scheduler must do now, one decision per principal that needs something.

    * overdue principals are locked (``LOCK``) or removed (``REMOVE_MEMBER``) as the
      policy says (``BLOCK`` needs nothing stored: it applies at sign-in);
    * failed-attempt locks that have run out are released;
    * due reminders are sent (``REMINDER`` notification and ``RECORD_REMINDER``).

    Principals who need nothing yield nothing. The input is read lazily, once.

    Args:
        policy: The organization's policy.
        org: The organization's enforcement state.
        principals: Every principal (any iterable).
        now: The current time (aware).

    Raises:
        ConfigurationError: a naive ``now`` (at once) or a non-principal in the input
            (when reached).
    """
    now = check_now(now)
    check_types(policy, org)
    return _stream(policy, org, principals, now, reminders_only=False)


def due_reminders(
    policy: OrgPolicy, org: OrgState, *, principals: Iterable[Principal], now: datetime
) -> Iterator[Decision]:
    """Yield one decision per principal whose enrollment reminder is due now.

    A reminder is due when ``now`` has reached ``deadline - offset`` for one of the
    policy's offsets and no reminder was recorded since that threshold. Several
    thresholds passed at once give one reminder. Each decision carries a
    ``REMINDER`` notification and a ``RECORD_REMINDER`` effect.

    Args:
        policy: The organization's policy.
        org: The organization's enforcement state.
        principals: Every principal (any iterable; read lazily, once).
        now: The current time (aware).

    Raises:
        ConfigurationError: a naive ``now`` or arguments of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    return _stream(policy, org, principals, now, reminders_only=True)
