"""Compliance of one principal and of a whole organization, and the reasons that explain it.

The organization report streams: it takes any iterable of principals
(a database cursor, a generator) and holds only counters and the ids it reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from types import MappingProxyType

from mfakit.errors import ConfigurationError
from mfakit.policy._builder import Builder
from mfakit.policy._codes import ReasonCode, RuleId
from mfakit.policy._config import ActivationMode, OrgPolicy, PostDeadlineAction
from mfakit.policy._core import (
    Assessment,
    assess,
    check_now,
    check_principal,
    check_types,
    earliest,
    enroll_kinds,
    lock_expiry,
    plainly_compliant,
    reminder_threshold,
)
from mfakit.policy._decision import (
    AuditAction,
    ComplianceReport,
    ComplianceStatus,
    EffectKind,
    MemberCompliance,
    NotificationKind,
    Obligation,
    ObligationKind,
)
from mfakit.policy._facts import LockReason, OrgState, Principal, PrincipalKind, PrincipalStatus

__all__ = [
    "apply_deadline_action",
    "explain_lock",
    "explain_status",
    "member_compliance",
    "org_compliance_report",
]

_ACTIVE = PrincipalStatus.ACTIVE


def explain_status(
    b: Builder, policy: OrgPolicy, principal: Principal, a: Assessment, now: datetime
) -> None:
    """Add the reasons that explain an assessment (every status gives exactly one)."""
    status = a.status
    if status is ComplianceStatus.INACTIVE:
        if principal.status is PrincipalStatus.REMOVED:
            b.deny(
                ReasonCode.PRINCIPAL_REMOVED,
                RuleId.PRINCIPAL_ACTIVE,
                "the principal was removed from the organization",
            )
        else:
            b.deny(
                ReasonCode.PRINCIPAL_NOT_MEMBER,
                RuleId.PRINCIPAL_ACTIVE,
                "the principal has not accepted the invitation yet",
            )
    elif status is ComplianceStatus.OUT_OF_SCOPE:
        b.reason(
            ReasonCode.OUT_OF_SCOPE,
            RuleId.SCOPE_KINDS,
            f"the MFA requirement does not apply to {principal.kind.value}s",
            kind=principal.kind,
        )
    elif status is ComplianceStatus.LOCKED:
        explain_lock(b, policy, principal)
    elif status is ComplianceStatus.COMPLIANT:
        b.reason(
            ReasonCode.COMPLIANT,
            RuleId.METHODS_QUALIFYING,
            "the principal has multi-factor authentication",
            methods=len(a.qualifying),
        )
    elif status is ComplianceStatus.EXEMPT:
        b.reason(
            ReasonCode.EXEMPT,
            RuleId.EXEMPTION_ACTIVE,
            "a break-glass exemption is in force",
            until=a.exemption_end,
        )
        b.next_at(a.exemption_end)
    elif status is ComplianceStatus.NOT_ENROLLED:
        b.reason(
            ReasonCode.NOT_ENFORCED,
            RuleId.ENFORCEMENT_STATE,
            "the organization does not enforce multi-factor authentication",
        )
    elif status is ComplianceStatus.IN_GRACE:
        b.deadline = a.deadline
        b.next_at(a.deadline)
        b.reason(
            ReasonCode.IN_GRACE,
            RuleId.GRACE_DEADLINE,
            "set up multi-factor authentication before the deadline",
            deadline=a.deadline,
            grace_kind=a.grace_kind,
        )
    else:
        b.deadline = a.deadline
        b.reason(
            ReasonCode.DEADLINE_PASSED,
            RuleId.GRACE_DEADLINE,
            "the deadline to set up multi-factor authentication has passed",
            deadline=a.deadline,
            grace_kind=a.grace_kind,
        )


def explain_lock(b: Builder, policy: OrgPolicy, principal: Principal) -> None:
    """Refuse because the principal is locked, saying why and how the lock ends."""
    until = lock_expiry(policy, principal)
    b.deny(
        ReasonCode.PRINCIPAL_LOCKED,
        RuleId.LOCK_ACTIVE,
        "the account is locked; "
        + ("it unlocks by itself later" if until else "an administrator must unlock it"),
        lock_reason=principal.lock.reason if principal.lock else None,
        unlock="time" if until else "admin",
        unlock_at=until,
    )
    b.next_at(until)


def apply_deadline_action(b: Builder, policy: OrgPolicy, principal: Principal) -> None:
    """Apply the post-deadline action to an overdue principal.

    Owners are never removed: under ``REMOVE`` they are blocked instead (a block
    stores nothing; it limits the sign-in to enrollment).
    """
    action = policy.after_deadline
    owner_kept = action is PostDeadlineAction.REMOVE and principal.kind is PrincipalKind.OWNER
    if action is PostDeadlineAction.BLOCK or owner_kept:
        b.enrollment = True
        b.obligation(
            Obligation(
                kind=ObligationKind.ENROLL_NOW,
                method_kinds=enroll_kinds(policy, principal.kind),
            )
        )
        b.reason(
            ReasonCode.DEADLINE_PASSED,
            RuleId.DEADLINE_ACTION,
            "sign-in is limited to setting up multi-factor authentication",
            action=PostDeadlineAction.BLOCK,
            owner_kept=owner_kept,
            deadline=b.deadline,
        )
        return
    if action is PostDeadlineAction.LOCK:
        b.deny(
            ReasonCode.DEADLINE_PASSED,
            RuleId.DEADLINE_ACTION,
            "the account is locked: multi-factor authentication was not set up in time",
            action=action,
            unlock="admin",
            deadline=b.deadline,
        )
        b.effect(
            EffectKind.LOCK,
            principal.id,
            always=True,
            at=b.now,
            lock_reason=LockReason.MFA_DEADLINE,
        )
        b.notify(NotificationKind.LOCKED, principal.id, always=True)
        return
    b.deny(
        ReasonCode.DEADLINE_PASSED,
        RuleId.DEADLINE_ACTION,
        "the principal is removed: multi-factor authentication was not set up in time",
        action=action,
        deadline=b.deadline,
    )
    b.effect(EffectKind.REMOVE_MEMBER, principal.id, always=True, at=b.now)
    b.notify(NotificationKind.REMOVED, principal.id, always=True)


def member_compliance(
    policy: OrgPolicy, org: OrgState, *, principal: Principal, now: datetime
) -> MemberCompliance:
    """Return one principal's compliance status, deadline and reminder state.

    Args:
        policy: The organization's policy.
        org: The organization's enforcement state.
        principal: The principal to assess.
        now: The current time (aware).

    Returns:
        The status (``COMPLIANT``, ``IN_GRACE`` with its deadline, ``OVERDUE``,
        ``EXEMPT``, ``LOCKED``, ...), with reasons.

    Raises:
        ConfigurationError: a naive ``now`` or arguments of the wrong type.

    Example::

        status = member_compliance(policy, org, principal=alice, now=clock.now())
        if status.status is ComplianceStatus.IN_GRACE:
            show_banner(deadline=status.deadline)
    """
    now = check_now(now)
    check_types(policy, org)
    principal = check_principal("principal", principal)
    a = assess(policy, org, principal, now)
    b = Builder(AuditAction.SWEEP, principal.id, None, now)
    explain_status(b, policy, principal, a, now)
    due, upcoming = reminder_threshold(policy, principal, a, now)
    if due is not None:
        b.reason(
            ReasonCode.REMINDER_DUE,
            RuleId.REMINDER_OFFSETS,
            "an enrollment reminder is due",
            threshold=due,
        )
    b.next_at(upcoming)
    decision = b.build()
    return MemberCompliance(
        principal_id=principal.id,
        status=a.status,
        has_mfa=a.has_mfa,
        qualifying_methods=tuple(a.qualifying),
        deadline=a.deadline,
        grace_kind=a.grace_kind,
        reminder_due=due is not None,
        next_evaluation=decision.next_evaluation,
        reasons=decision.reasons,
        rules=decision.rules,
    )


def org_compliance_report(
    policy: OrgPolicy, org: OrgState, *, principals: Iterable[Principal], now: datetime
) -> ComplianceReport:
    """Summarise the organization's compliance, streaming over its principals.

    A principal is *required* when active, in scope and not exempt; the percentage
    is of required principals with enough qualifying methods. Reminder targets are
    required principals without MFA, in input order.

    Args:
        policy: The organization's policy.
        org: The organization's enforcement state.
        principals: Every principal (any iterable; read once).
        now: The current time (aware).

    Raises:
        ConfigurationError: a naive ``now`` or arguments of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    counts = dict.fromkeys(ComplianceStatus, 0)
    targets: list[str] = []
    exemptions: dict[str, datetime] = {}
    total = required = satisfied = 0
    nxt: datetime | None = None
    in_grace = ComplianceStatus.IN_GRACE
    compliant = ComplianceStatus.COMPLIANT
    for principal in principals:
        if not isinstance(principal, Principal):
            raise ConfigurationError("principals must hold Principal objects")
        total += 1
        if plainly_compliant(policy, principal):
            counts[compliant] += 1
            required += 1
            satisfied += 1
            continue
        a = assess(policy, org, principal, now)
        counts[a.status] += 1
        if a.status is ComplianceStatus.INACTIVE or a.status is ComplianceStatus.OUT_OF_SCOPE:
            continue
        if a.exempt:
            nxt = earliest(nxt, a.exemption_end)
            if a.exemption_end is not None:
                exemptions[principal.id] = a.exemption_end
        else:
            required += 1
            if a.has_mfa:
                satisfied += 1
            else:
                targets.append(principal.id)
        if a.status is in_grace:
            _, upcoming = reminder_threshold(policy, principal, a, now)
            nxt = earliest(nxt, a.deadline, upcoming)
        elif a.lock_active:
            nxt = earliest(nxt, lock_expiry(policy, principal))
    can_enable = org.enforced_since is None and (
        policy.activation is ActivationMode.START_GRACE or satisfied == required
    )
    return ComplianceReport(
        total=total,
        required=required,
        satisfied=satisfied,
        percent_compliant=100.0 if required == 0 else 100.0 * satisfied / required,
        counts=MappingProxyType(counts),
        reminder_targets=tuple(targets),
        can_enable_enforcement=can_enable,
        next_evaluation=nxt,
        exemptions=MappingProxyType(exemptions),
    )
