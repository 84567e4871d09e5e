"""The shared machinery of every decision: assessing one principal, and building decisions.

Deadline semantics live here, in one place:

* the anchor is the stored :class:`~mfakit.policy.GraceAnchor` if there is one,
  else the enforcement start, or the join time when the principal joined later;
  the end of an exemption replaces it when later;
* ``deadline = anchor + policy.grace_for(kind)``, computed with the *current* policy;
* a deadline is exclusive: at ``now == deadline`` the principal is overdue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mfakit.clock import ensure_aware
from mfakit.errors import ConfigurationError
from mfakit.policy._config import OrgPolicy
from mfakit.policy._decision import (
    ComplianceStatus,
)
from mfakit.policy._facts import (
    GraceKind,
    LockReason,
    Method,
    MethodKind,
    OrgState,
    Principal,
    PrincipalKind,
    PrincipalStatus,
)

_ACTIVE = PrincipalStatus.ACTIVE
_OWNER = PrincipalKind.OWNER


def check_now(now: Any) -> datetime:
    """Validate ``now`` (aware datetime) and return it in UTC."""
    try:
        return ensure_aware(now)
    except ConfigurationError as exc:
        raise ConfigurationError("now must be a timezone-aware datetime") from exc


def check_types(policy: Any, org: Any) -> None:
    """Refuse a policy or organization state of the wrong type."""
    if not isinstance(policy, OrgPolicy):
        raise ConfigurationError("policy must be an OrgPolicy")
    if not isinstance(org, OrgState):
        raise ConfigurationError("org must be an OrgState")


def check_principal(name: str, value: Any) -> Principal:
    """Refuse a principal of the wrong type."""
    if not isinstance(value, Principal):
        raise ConfigurationError(f"{name} must be a Principal")
    return value


def qualifying(policy: OrgPolicy, kind: PrincipalKind, methods: tuple[Method, ...]) -> list[str]:
    """Ids of the confirmed methods whose kind counts for a principal kind."""
    kinds = policy.qualifying_kinds(kind)
    return [m.id for m in methods if m.confirmed and m.kind in kinds]


def plainly_compliant(policy: OrgPolicy, principal: Principal) -> bool:
    """Fast path of :func:`assess` for the common case: an active, in-scope principal
    without lock or exemption who holds enough qualifying methods (status ``COMPLIANT``).

    ``False`` means only "take the full path", never "not compliant".
    """
    if (
        principal.lock is not None
        or principal.exemption is not None
        or principal.status is not _ACTIVE
        or principal.kind not in policy.scope
    ):
        return False
    kinds = policy.qualifying_kinds(principal.kind)
    held = 0
    for m in principal.methods:
        if m.confirmed and m.kind in kinds:
            held += 1
    return held >= policy.min_methods


def exemption_end(policy: OrgPolicy, principal: Principal) -> datetime | None:
    """When the principal's exemption ends (capped by the policy), or None without one."""
    ex = principal.exemption
    if ex is None or not policy.allow_exemptions:
        return None
    if policy.max_exemption is not None:
        return min(ex.expires_at, ex.granted_at + policy.max_exemption)
    return ex.expires_at


def lock_expiry(policy: OrgPolicy, principal: Principal) -> datetime | None:
    """When the principal's lock ends by itself, or None if it never does (or no lock)."""
    lock = principal.lock
    if (
        lock is not None
        and lock.reason is LockReason.FAILED_ATTEMPTS
        and policy.failed_attempts_lockout is not None
    ):
        return lock.locked_at + policy.failed_attempts_lockout
    return None


def lock_active(policy: OrgPolicy, principal: Principal, now: datetime) -> bool:
    """Whether the principal is locked at ``now``."""
    if principal.lock is None:
        return False
    until = lock_expiry(policy, principal)
    return until is None or now < until


def grace_anchor(
    since: datetime, principal: Principal, ex_end: datetime | None, now: datetime
) -> tuple[datetime, GraceKind]:
    """The anchor of a grace period under enforcement (enforced ``since``).

    A stored anchor is explicit and wins over the derived ones (enforcement start,
    joining after it); an exemption that ended later than the anchor restarts it.
    """
    stored = principal.grace
    if stored is not None:
        anchor, kind = stored.started_at, stored.kind
    else:
        anchor, kind = since, GraceKind.ENFORCEMENT
        if principal.joined_at is not None and principal.joined_at > anchor:
            anchor, kind = principal.joined_at, GraceKind.NEW_MEMBER
    if ex_end is not None and anchor < ex_end <= now:
        anchor, kind = ex_end, GraceKind.EXEMPTION_ENDED
    return anchor, kind


class Assessment:
    """One principal's standing at ``now`` (internal, mutable for speed)."""

    __slots__ = (
        "anchor",
        "deadline",
        "exempt",
        "exemption_end",
        "grace_kind",
        "has_mfa",
        "lock_active",
        "qualifying",
        "status",
    )

    def __init__(self) -> None:
        self.status = ComplianceStatus.INACTIVE
        self.has_mfa = False
        self.qualifying: list[str] = []
        self.lock_active = False
        self.exemption_end: datetime | None = None
        self.exempt = False
        self.anchor: datetime | None = None
        self.grace_kind: GraceKind | None = None
        self.deadline: datetime | None = None


def assess(
    policy: OrgPolicy,
    org: OrgState,
    principal: Principal,
    now: datetime,
    *,
    methods: tuple[Method, ...] | None = None,
    ignore_lock: bool = False,
) -> Assessment:
    """Assess a principal (optionally with a hypothetical set of methods)."""
    a = Assessment()
    a.qualifying = qualifying(
        policy, principal.kind, principal.methods if methods is None else methods
    )
    a.has_mfa = len(a.qualifying) >= policy.min_methods
    if principal.status is not _ACTIVE:
        return a
    if principal.kind not in policy.scope:
        a.status = ComplianceStatus.OUT_OF_SCOPE
        return a
    a.lock_active = not ignore_lock and lock_active(policy, principal, now)
    a.exemption_end = end = exemption_end(policy, principal)
    ex = principal.exemption
    a.exempt = end is not None and ex is not None and ex.granted_at <= now < end
    if a.lock_active:
        a.status = ComplianceStatus.LOCKED
    elif a.has_mfa:
        a.status = ComplianceStatus.COMPLIANT
    elif a.exempt:
        a.status = ComplianceStatus.EXEMPT
    elif org.enforced_since is None:
        a.status = ComplianceStatus.NOT_ENROLLED
    else:
        a.anchor, a.grace_kind = grace_anchor(org.enforced_since, principal, end, now)
        a.deadline = a.anchor + policy.grace_for(a.grace_kind)
        a.status = ComplianceStatus.IN_GRACE if now < a.deadline else ComplianceStatus.OVERDUE
    return a


def reminder_threshold(
    policy: OrgPolicy, principal: Principal, a: Assessment, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """The latest reached reminder threshold not yet reminded, and the next one to come.

    A threshold is ``deadline - offset``; it is reached at ``now >= threshold``.
    Thresholds at or before the grace anchor are skipped (the grace-started
    notice covers them). Only principals in grace get reminders.
    """
    if a.status is not ComplianceStatus.IN_GRACE or a.deadline is None or a.anchor is None:
        return None, None
    due: datetime | None = None
    upcoming: datetime | None = None
    for offset in policy.reminder_offsets:  # longest first: thresholds ascend
        threshold = a.deadline - offset
        if threshold <= a.anchor:
            continue
        if threshold <= now:
            due = threshold
        elif upcoming is None:
            upcoming = threshold
    last = principal.last_reminder_at
    if due is not None and last is not None and last >= due:
        due = None
    return due, upcoming


def earliest(*times: datetime | None) -> datetime | None:
    """The earliest of the given times, ignoring None."""
    present = [t for t in times if t is not None]
    return min(present) if present else None


def enroll_kinds(policy: OrgPolicy, kind: PrincipalKind) -> tuple[MethodKind, ...]:
    """The method kinds that count for a principal kind, in a stable order."""
    return tuple(sorted(policy.qualifying_kinds(kind)))
