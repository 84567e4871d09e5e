"""Organization-level decisions: enabling and stopping enforcement, unlocking a principal."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from mfakit.policy._actions import SensitiveAction
from mfakit.policy._builder import Builder, check_actor, check_confirmation, check_step_up
from mfakit.policy._codes import ReasonCode, RuleId
from mfakit.policy._compliance import explain_status
from mfakit.policy._config import ActivationMode, OrgPolicy
from mfakit.policy._core import (
    assess,
    check_now,
    check_principal,
    check_types,
)
from mfakit.policy._decision import (
    AuditAction,
    ComplianceStatus,
    ConfirmationPhrase,
    Decision,
    EffectKind,
    NotificationKind,
    Outcome,
)
from mfakit.policy._facts import (
    GraceKind,
    LockReason,
    OrgState,
    Principal,
    PrincipalKind,
    PrincipalStatus,
)

__all__ = [
    "can_enable_enforcement",
    "can_stop_enforcement",
    "can_unlock",
]

_ACTIVE = PrincipalStatus.ACTIVE
_DEADLINE = LockReason.MFA_DEADLINE
_SKIPPED = (ComplianceStatus.INACTIVE, ComplianceStatus.OUT_OF_SCOPE)


def can_enable_enforcement(
    policy: OrgPolicy,
    org: OrgState,
    *,
    actor: Principal,
    principals: Iterable[Principal],
    confirmation: str | None,
    now: datetime,
) -> Decision:
    """Decide whether ``actor`` may turn MFA enforcement on now.

    The actor must be an active owner (or hold ``policy.manage_permission``) with
    MFA, and must type ``ENFORCE``. Only then are the principals read (so the list
    of who lacks MFA is never shown to someone who may not enforce):

    * ``REQUIRE_FULL_COMPLIANCE``: refused while any required principal (active,
      in scope, not exempt) lacks a qualifying method; they are listed in
      ``reminder_targets``.
    * ``START_GRACE``: allowed; each of them gets a ``START_GRACE`` effect and a
      ``GRACE_STARTED`` notification with the deadline, except those who still
      hold a grace anchor kept when enforcement last stopped: theirs resumes.

    Args:
        policy: The organization's policy.
        org: The organization's current state.
        actor: Who asks.
        principals: Every principal of the organization (read once).
        confirmation: What the actor typed (``None`` if nothing yet).
        now: The current time (aware).

    Returns:
        The decision; when allowed, its effects start with ``SET_ENFORCEMENT``.

    Raises:
        ConfigurationError: a naive ``now`` or arguments of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    actor = check_principal("actor", actor)
    b = Builder(AuditAction.ENABLE_ENFORCEMENT, org.id, actor.id, now)
    if org.enforced_since is not None:
        b.deny(
            ReasonCode.ALREADY_ENFORCED,
            RuleId.ENABLE_STATE,
            "multi-factor authentication is already enforced",
            since=org.enforced_since,
        )
        return b.build()
    if not check_actor(b, policy, actor, now):
        return b.build()
    check_confirmation(b, ConfirmationPhrase.ENFORCE, confirmation)
    check_step_up(b, policy, actor, SensitiveAction.ENABLE_ENFORCEMENT, now)
    targets: list[str] = []
    kept: set[str] = set()
    required = 0
    for principal in principals:
        a = assess(policy, org, check_principal("principals", principal), now)
        if a.status in _SKIPPED or a.exempt:
            continue
        required += 1
        if not a.has_mfa:
            targets.append(principal.id)
            if principal.grace is not None:
                kept.add(principal.id)
    b.reminder_targets = tuple(targets)
    percent = 100.0 if required == 0 else 100.0 * (required - len(targets)) / required
    if policy.activation is ActivationMode.REQUIRE_FULL_COMPLIANCE and targets:
        b.deny(
            ReasonCode.PRINCIPALS_WITHOUT_MFA,
            RuleId.ENABLE_FULL_COMPLIANCE,
            f"{len(targets)} of {required} users have not set up multi-factor "
            "authentication; send them a reminder",
            count=len(targets),
            percent_compliant=percent,
            principal_ids=tuple(targets),
        )
        return b.build()
    if b.outcome() is not Outcome.ALLOW:
        return b.build()
    b.reason(
        ReasonCode.ENFORCEMENT_ENABLED,
        RuleId.ENABLE_FULL_COMPLIANCE
        if policy.activation is ActivationMode.REQUIRE_FULL_COMPLIANCE
        else RuleId.ENABLE_START_GRACE,
        "multi-factor authentication will be required of every user",
        activation=policy.activation,
        percent_compliant=percent,
    )
    b.effect(EffectKind.SET_ENFORCEMENT, org.id, at=now, actor=actor.id, enabled=True)
    # A grace period kept when enforcement last stopped (stop_clears_grace=False)
    # resumes with its own deadline instead of starting afresh.
    resumed = sum(1 for pid in targets if pid in kept)
    targets = [pid for pid in targets if pid not in kept]
    if resumed:
        b.reason(
            ReasonCode.GRACE_RESUMED,
            RuleId.ENABLE_START_GRACE,
            f"{resumed} users resume the grace period kept from the last enforcement",
            count=resumed,
        )
    if targets:
        deadline = now + policy.grace_existing
        b.deadline = deadline
        b.next_at(deadline)
        b.reason(
            ReasonCode.GRACE_STARTED,
            RuleId.ENABLE_START_GRACE,
            f"{len(targets)} users get a grace period to set up multi-factor authentication",
            count=len(targets),
            deadline=deadline,
        )
        for pid in targets:
            b.effect(EffectKind.START_GRACE, pid, at=now, grace_kind=GraceKind.ENFORCEMENT)
            b.notify(NotificationKind.GRACE_STARTED, pid, deadline=deadline)
    return b.build()


def can_stop_enforcement(
    policy: OrgPolicy,
    org: OrgState,
    *,
    actor: Principal,
    principals: Iterable[Principal],
    confirmation: str | None,
    now: datetime,
) -> Decision:
    """Decide whether ``actor`` may turn MFA enforcement off now.

    The actor must be an active owner (or hold the permission) with MFA, type
    ``STOP``, and pass a step-up when the policy lists ``STOP_ENFORCEMENT``. When
    allowed, every active owner gets an ``ENFORCEMENT_STOPPED`` notification;
    running grace periods are cleared when ``policy.stop_clears_grace`` and
    MFA-deadline locks released when ``policy.stop_releases_locks`` (locks for
    failed attempts or by an administrator stay).

    Args:
        policy: The organization's policy.
        org: The organization's current state.
        actor: Who asks.
        principals: Every principal of the organization (read once, only if allowed).
        confirmation: What the actor typed (``None`` if nothing yet).
        now: The current time (aware).

    Raises:
        ConfigurationError: a naive ``now`` or arguments of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    actor = check_principal("actor", actor)
    b = Builder(AuditAction.STOP_ENFORCEMENT, org.id, actor.id, now)
    if org.enforced_since is None:
        b.deny(
            ReasonCode.NOT_ENFORCED,
            RuleId.STOP_STATE,
            "multi-factor authentication is not enforced",
        )
        return b.build()
    if not check_actor(b, policy, actor, now):
        return b.build()
    check_confirmation(b, ConfirmationPhrase.STOP, confirmation)
    check_step_up(b, policy, actor, SensitiveAction.STOP_ENFORCEMENT, now)
    if b.outcome() is not Outcome.ALLOW:
        return b.build()
    b.reason(
        ReasonCode.ENFORCEMENT_STOPPED,
        RuleId.STOP_STATE,
        "multi-factor authentication will no longer be required",
    )
    b.effect(EffectKind.SET_ENFORCEMENT, org.id, at=now, actor=actor.id, enabled=False)
    owners = cleared = released = 0
    for principal in principals:
        check_principal("principals", principal)
        if principal.status is _ACTIVE and principal.kind is PrincipalKind.OWNER:
            owners += 1
            b.notify(NotificationKind.ENFORCEMENT_STOPPED, principal.id, subject=org.id)
        if policy.stop_clears_grace and principal.grace is not None:
            cleared += 1
            b.effect(EffectKind.CLEAR_GRACE, principal.id)
        lock = principal.lock
        if policy.stop_releases_locks and lock is not None and lock.reason is _DEADLINE:
            released += 1
            b.effect(EffectKind.UNLOCK, principal.id)
            b.notify(NotificationKind.UNLOCKED, principal.id)
    b.reason(
        ReasonCode.OWNERS_NOTIFIED,
        RuleId.STOP_NOTIFY_OWNERS,
        "the owners are told that enforcement stopped",
        count=owners,
    )
    b.reason(
        ReasonCode.GRACE_CLEARED,
        RuleId.STOP_GRACE_AND_LOCKS,
        "running grace periods are cleared"
        if policy.stop_clears_grace
        else "running grace periods are kept: they resume if enforcement is enabled again",
        count=cleared,
        policy=policy.stop_clears_grace,
    )
    b.reason(
        ReasonCode.LOCKS_RELEASED,
        RuleId.STOP_GRACE_AND_LOCKS,
        "accounts locked for a missed deadline are unlocked"
        if policy.stop_releases_locks
        else "accounts locked for a missed deadline stay locked",
        count=released,
        policy=policy.stop_releases_locks,
    )
    return b.build()


def can_unlock(
    policy: OrgPolicy, org: OrgState, *, actor: Principal, principal: Principal, now: datetime
) -> Decision:
    """Decide whether ``actor`` (an administrator) may unlock ``principal``.

    Nobody unlocks themselves. When allowed, the effects are ``UNLOCK`` and
    ``RESET_FAILED_ATTEMPTS``; if the principal is overdue under enforcement and
    ``policy.unlock_restarts_grace`` is set, a ``START_GRACE`` (kind ``UNLOCK``,
    ``policy.grace_after_unlock``) follows. Without it, the decision warns
    (``STILL_OVERDUE``) that the post-deadline action will apply again.

    Args:
        policy: The organization's policy.
        org: The organization's enforcement state.
        actor: The administrator who unlocks.
        principal: The locked principal.
        now: The current time (aware).

    Raises:
        ConfigurationError: a naive ``now`` or arguments of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    actor = check_principal("actor", actor)
    principal = check_principal("principal", principal)
    b = Builder(AuditAction.UNLOCK, principal.id, actor.id, now)
    if actor.id == principal.id:
        b.deny(
            ReasonCode.CANNOT_UNLOCK_SELF,
            RuleId.UNLOCK_STATE,
            "another administrator must unlock this account",
        )
        return b.build()
    if not check_actor(b, policy, actor, now):
        return b.build()
    a = assess(policy, org, principal, now, ignore_lock=True)
    if a.status is ComplianceStatus.INACTIVE:
        explain_status(b, policy, principal, a, now)
        return b.build()
    if principal.lock is None:
        b.deny(ReasonCode.NOT_LOCKED, RuleId.UNLOCK_STATE, "the account is not locked")
        return b.build()
    check_step_up(b, policy, actor, SensitiveAction.UNLOCK_PRINCIPAL, now)
    b.reason(
        ReasonCode.UNLOCKED,
        RuleId.UNLOCK_STATE,
        "the account will be unlocked",
        lock_reason=principal.lock.reason,
    )
    b.effect(EffectKind.UNLOCK, principal.id, actor=actor.id)
    b.effect(EffectKind.RESET_FAILED_ATTEMPTS, principal.id)
    b.notify(NotificationKind.UNLOCKED, principal.id)
    if a.status is ComplianceStatus.IN_GRACE:
        b.deadline = a.deadline
        b.next_at(a.deadline)
    elif a.status is ComplianceStatus.OVERDUE:
        if policy.unlock_restarts_grace:
            deadline = now + policy.grace_after_unlock
            b.deadline = deadline
            b.next_at(deadline)
            b.reason(
                ReasonCode.GRACE_STARTED,
                RuleId.UNLOCK_RESTART_GRACE,
                "a new grace period starts to set up multi-factor authentication",
                deadline=deadline,
            )
            b.effect(EffectKind.START_GRACE, principal.id, at=now, grace_kind=GraceKind.UNLOCK)
            b.notify(NotificationKind.GRACE_STARTED, principal.id, deadline=deadline)
        else:
            b.deadline = a.deadline
            b.reason(
                ReasonCode.STILL_OVERDUE,
                RuleId.UNLOCK_RESTART_GRACE,
                "the deadline has passed and no new grace period starts: the "
                "post-deadline action applies again at the next sign-in or sweep",
                deadline=a.deadline,
            )
    return b.build()
