"""Decisions about a principal's access: signing in, joining, and step-up for sensitive actions."""

from __future__ import annotations

from datetime import datetime, timedelta

from mfakit.errors import ConfigurationError
from mfakit.policy._actions import SensitiveAction, check_action
from mfakit.policy._builder import (
    Builder,
    check_step_up,
    enroll_by,
)
from mfakit.policy._codes import ReasonCode, RuleId
from mfakit.policy._compliance import apply_deadline_action, explain_lock, explain_status
from mfakit.policy._config import OrgPolicy
from mfakit.policy._core import (
    assess,
    check_now,
    check_principal,
    check_types,
    enroll_kinds,
    exemption_end,
    lock_active,
    qualifying,
)
from mfakit.policy._decision import (
    AuditAction,
    ComplianceStatus,
    Decision,
    EffectKind,
    NotificationKind,
    Obligation,
    ObligationKind,
)
from mfakit.policy._facts import (
    GraceKind,
    LockReason,
    OrgState,
    Principal,
    PrincipalStatus,
)

__all__ = ["can_accept_invitation", "evaluate_login", "evaluate_sensitive_action"]

_ACTIVE = PrincipalStatus.ACTIVE


def evaluate_login(
    policy: OrgPolicy, org: OrgState, *, principal: Principal, now: datetime
) -> Decision:
    """Decide what the organization's policy says about ``principal`` signing in now.

    Call it once the first factor is known (and again after recording a failed
    second factor, so the failed-attempts lockout applies at once). Outcomes:

    * ``ALLOW``: compliant, exempt, out of scope, not enforced, or in grace (then
      with an ``ENROLL_BY`` obligation and the ``deadline``);
    * ``REQUIRE_ENROLLMENT``: overdue under ``BLOCK`` (or an owner under
      ``REMOVE``): the session may only set up a method;
    * ``DENY``: removed, invited, locked (the reason says why and whether time or
      an administrator lifts it), too many failed attempts (with a ``LOCK``
      effect), or overdue under ``LOCK``/``REMOVE`` (with the effect to persist).

    A failed-attempts lock that has run out is released (``UNLOCK`` and
    ``RESET_FAILED_ATTEMPTS`` effects) and evaluation goes on.

    Args:
        policy: The organization's policy.
        org: The organization's enforcement state.
        principal: Who signs in.
        now: The current time (aware).

    Raises:
        ConfigurationError: a naive ``now`` or arguments of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    principal = check_principal("principal", principal)
    b = Builder(AuditAction.LOGIN, principal.id, principal.id, now)
    a = assess(policy, org, principal, now, ignore_lock=True)
    if a.status is ComplianceStatus.INACTIVE:
        explain_status(b, policy, principal, a, now)
        return b.build()
    released = False
    if principal.lock is not None:
        if lock_active(policy, principal, now):
            explain_lock(b, policy, principal)
            return b.build()
        released = True
        b.reason(
            ReasonCode.LOCK_EXPIRED,
            RuleId.LOCK_EXPIRY,
            "the failed-attempts lock has run out",
            lock_reason=principal.lock.reason,
        )
        b.effect(EffectKind.UNLOCK, principal.id, always=True)
        b.effect(EffectKind.RESET_FAILED_ATTEMPTS, principal.id, always=True)
    if not released and principal.failed_attempts >= policy.max_failed_attempts:
        lockout = policy.failed_attempts_lockout
        until = now + lockout if lockout is not None else None
        b.deny(
            ReasonCode.FAILED_ATTEMPTS_EXCEEDED,
            RuleId.LOCKOUT_FAILED_ATTEMPTS,
            "too many failed attempts; the account is locked",
            threshold=policy.max_failed_attempts,
            unlock="time" if until else "admin",
            unlock_at=until,
        )
        b.next_at(until)
        b.effect(
            EffectKind.LOCK,
            principal.id,
            always=True,
            at=now,
            lock_reason=LockReason.FAILED_ATTEMPTS,
        )
        b.notify(NotificationKind.LOCKED, principal.id, always=True)
        return b.build()
    explain_status(b, policy, principal, a, now)
    if a.status is ComplianceStatus.IN_GRACE and a.deadline is not None:
        enroll_by(b, policy, principal.kind, a.deadline)
    elif a.status is ComplianceStatus.OVERDUE:
        apply_deadline_action(b, policy, principal)
    return b.build()


def can_accept_invitation(
    policy: OrgPolicy, org: OrgState, *, invitee: Principal, now: datetime
) -> Decision:
    """Decide whether an invited principal may join the organization now.

    Under enforcement with ``invitations_require_mfa``, an invitee without a
    qualifying method (for the kind they are invited as) is refused with an
    ``ENROLL_NOW`` obligation; once enrolled, they are allowed. Without that flag,
    they join with a new-member grace period (``START_GRACE`` effect).

    Args:
        policy: The organization's policy.
        org: The organization's enforcement state.
        invitee: The invited principal (status ``INVITED``), with the methods
            set up on their account and the kind they are invited as.
        now: The current time (aware).

    Raises:
        ConfigurationError: a naive ``now`` or arguments of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    invitee = check_principal("invitee", invitee)
    b = Builder(AuditAction.ACCEPT_INVITATION, invitee.id, invitee.id, now)
    if invitee.status is not PrincipalStatus.INVITED:
        b.deny(
            ReasonCode.NOT_INVITED,
            RuleId.INVITATION_STATE,
            "there is no pending invitation for this principal",
            status=invitee.status,
        )
        return b.build()
    has_mfa = len(qualifying(policy, invitee.kind, invitee.methods)) >= policy.min_methods
    end = exemption_end(policy, invitee)
    exempt = end is not None and invitee.exemption is not None
    exempt = exempt and invitee.exemption.granted_at <= now < end  # type: ignore[union-attr,operator]
    if org.enforced_since is None:
        b.reason(
            ReasonCode.NOT_ENFORCED,
            RuleId.ENFORCEMENT_STATE,
            "the organization does not enforce multi-factor authentication",
        )
    elif invitee.kind not in policy.scope:
        b.reason(
            ReasonCode.OUT_OF_SCOPE,
            RuleId.SCOPE_KINDS,
            f"the MFA requirement does not apply to {invitee.kind.value}s",
            kind=invitee.kind,
        )
    elif has_mfa:
        b.reason(
            ReasonCode.COMPLIANT,
            RuleId.METHODS_QUALIFYING,
            "the invitee has multi-factor authentication",
        )
    elif exempt:
        b.reason(
            ReasonCode.EXEMPT,
            RuleId.EXEMPTION_ACTIVE,
            "a break-glass exemption is in force",
            until=end,
        )
        b.next_at(end)
    elif policy.invitations_require_mfa:
        b.deny(
            ReasonCode.INVITEE_WITHOUT_MFA,
            RuleId.INVITATION_REQUIRES_MFA,
            "set up multi-factor authentication before joining this organization",
        )
        b.obligation(
            Obligation(
                kind=ObligationKind.ENROLL_NOW,
                method_kinds=enroll_kinds(policy, invitee.kind),
            )
        )
    else:
        deadline = now + policy.grace_new_member
        b.deadline = deadline
        b.next_at(deadline)
        b.reason(
            ReasonCode.GRACE_STARTED,
            RuleId.INVITATION_GRACE,
            "the new member has a grace period to set up multi-factor authentication",
            deadline=deadline,
        )
        b.effect(EffectKind.START_GRACE, invitee.id, at=now, grace_kind=GraceKind.NEW_MEMBER)
        b.notify(NotificationKind.GRACE_STARTED, invitee.id, deadline=deadline)
        enroll_by(b, policy, invitee.kind, deadline)
    return b.build()


def evaluate_sensitive_action(
    policy: OrgPolicy,
    org: OrgState,
    *,
    principal: Principal,
    action: SensitiveAction | str,
    now: datetime,
    max_age: timedelta | None = None,
) -> Decision:
    """Decide whether ``principal`` must pass a second factor again before ``action``.

    A step-up is required when the action needs one under the policy
    (:meth:`OrgPolicy.requires_step_up`: listed in ``step_up_actions``, or a
    method change) and the last verification is missing, in the future, or at
    least as old as the policy's maximum age for the action
    (:meth:`OrgPolicy.step_up_max_age_for`). ``next_evaluation`` says when a
    fresh verification goes stale. An inactive or locked principal is refused.

    Args:
        policy: The organization's policy.
        org: The organization's enforcement state.
        principal: Who wants to act.
        action: The sensitive action: a :class:`SensitiveAction` or any name
            accepted by :func:`check_action` (the host application's own).
        now: The current time (aware).
        max_age: The caller's own limit: with it the action requires a step-up
            whatever the policy's lists say, and the stricter of ``max_age``
            and the policy's age for the action applies.

    Raises:
        ConfigurationError: a naive ``now``, an invalid action name, a
            ``max_age`` that is not a positive timedelta, or arguments of the
            wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    principal = check_principal("principal", principal)
    sensitive = check_action(action)
    if max_age is not None and (not isinstance(max_age, timedelta) or max_age <= timedelta(0)):
        raise ConfigurationError("max_age must be a positive timedelta")
    b = Builder(AuditAction.SENSITIVE_ACTION, principal.id, principal.id, now)
    if principal.status is not _ACTIVE:
        explain_status(b, policy, principal, assess(policy, org, principal, now), now)
        return b.build()
    if lock_active(policy, principal, now):
        explain_lock(b, policy, principal)
        return b.build()
    check_step_up(b, policy, principal, sensitive, now, explain=True, max_age=max_age)
    return b.build()
