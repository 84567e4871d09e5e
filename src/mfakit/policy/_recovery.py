"""Recovery decisions: resetting a member's MFA, removing a member, granting exemptions.

Who may do what, in one place (every entry point applies the same target rules):

* nobody acts on themselves (``cannot_act_on_self``): another administrator,
  or the host's support, resets, removes or exempts you;
* the actor must be an active, unlocked owner or a holder of
  ``policy.manage_permission``, with MFA (``actor_not_authorized``,
  ``actor_lacks_mfa``), exactly as for enforcement and unlocking;
* only an owner acts on an owner (``owner_protected``): a permission holder
  cannot reset, remove or exempt an owner;
* the target must be an active member (``principal_removed``,
  ``principal_not_member``);
* the sole active owner is never removed (``sole_owner``);
* a reset needs something to reset (``no_methods_to_reset``) and an account
  that serves this organization alone (``account_shared``): a user who also
  belongs to other organizations is reset by the host's support, whose reset
  (:func:`evaluate_support_reset`) applies every organization's rules.
"""

from __future__ import annotations

from datetime import datetime

from mfakit.errors import ConfigurationError
from mfakit.policy._actions import SensitiveAction
from mfakit.policy._builder import Builder, check_actor, check_step_up
from mfakit.policy._codes import ReasonCode, RuleId
from mfakit.policy._config import OrgPolicy
from mfakit.policy._core import assess, check_now, check_principal, check_types
from mfakit.policy._decision import (
    AuditAction,
    ComplianceStatus,
    Decision,
    EffectKind,
    NotificationKind,
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
    "can_grant_exemption",
    "can_remove_member",
    "can_reset_mfa",
    "can_revoke_exemption",
    "evaluate_support_reset",
]

_OWNER = PrincipalKind.OWNER
# Locks that a reset lifts: both are about the factors it deletes. An
# administrator's lock is deliberate and stays (unlock it on its own).
_RESET_LIFTS = frozenset({LockReason.MFA_DEADLINE, LockReason.FAILED_ATTEMPTS})
_DUE = (ComplianceStatus.IN_GRACE, ComplianceStatus.OVERDUE)


def _target(
    b: Builder, policy: OrgPolicy, actor: Principal, principal: Principal, now: datetime
) -> bool:
    """The shared checks of the actor and the target; False once refused."""
    if actor.id == principal.id:
        b.deny(
            ReasonCode.CANNOT_ACT_ON_SELF,
            RuleId.RECOVERY_TARGET,
            "another administrator must do this for your account",
        )
        return False
    if not check_actor(b, policy, actor, now):
        return False
    if principal.kind is _OWNER and actor.kind is not _OWNER:
        b.deny(
            ReasonCode.OWNER_PROTECTED,
            RuleId.RECOVERY_TARGET,
            "only an owner may do this to an owner",
        )
        return False
    if principal.status is PrincipalStatus.REMOVED:
        b.deny(
            ReasonCode.PRINCIPAL_REMOVED,
            RuleId.PRINCIPAL_ACTIVE,
            "the user was removed from the organization",
        )
        return False
    if principal.status is not PrincipalStatus.ACTIVE:
        b.deny(
            ReasonCode.PRINCIPAL_NOT_MEMBER,
            RuleId.PRINCIPAL_ACTIVE,
            "the user is not a member of the organization yet",
        )
        return False
    return True


def _reset_consequences(
    b: Builder, policy: OrgPolicy, org: OrgState, principal: Principal, now: datetime
) -> None:
    """What a reset does to one membership: the effects and the notice."""
    b.reason(
        ReasonCode.MFA_RESET,
        RuleId.RESET_METHODS,
        "every second factor and backup code of the account will be deleted",
        count=len(principal.methods),
    )
    b.effect(EffectKind.DELETE_METHODS, principal.id, actor=b.actor)
    lock = principal.lock
    if lock is not None and lock.reason in _RESET_LIFTS:
        b.reason(
            ReasonCode.UNLOCKED,
            RuleId.RESET_GRACE,
            "the account will be unlocked",
            lock_reason=lock.reason,
        )
        b.effect(EffectKind.UNLOCK, principal.id, actor=b.actor)
    b.effect(EffectKind.RESET_FAILED_ATTEMPTS, principal.id)
    a = assess(policy, org, principal, now, methods=(), ignore_lock=True)
    deadline: datetime | None = None
    if a.status in _DUE:
        deadline = _start_grace(
            b,
            policy,
            principal,
            kind=GraceKind.LOST_METHOD,
            rule=RuleId.RESET_GRACE,
            message="a new grace period starts to set up multi-factor authentication again",
            now=now,
        )
    b.notify(NotificationKind.MFA_RESET, principal.id, deadline=deadline)


def can_reset_mfa(
    policy: OrgPolicy,
    org: OrgState,
    *,
    actor: Principal,
    principal: Principal,
    now: datetime,
    other_organizations: int = 0,
) -> Decision:
    """Decide whether ``actor`` may reset ``principal``'s MFA (support and administrator recovery).

    Besides the shared target rules (module docstring), the principal must
    hold at least one method, and ``other_organizations`` (how many other
    organizations the principal belongs to, removed memberships aside) must be
    0: second factors belong to the account, and one organization may not
    strip the factors another one relies on. A step-up applies when
    ``RESET_MFA`` is in ``policy.step_up_actions`` (the default).

    When allowed, the effects are ``DELETE_METHODS`` (every TOTP, passkey,
    security key and backup code), ``UNLOCK`` for a lock by the MFA deadline
    or by failed attempts (an administrator's lock stays),
    ``RESET_FAILED_ATTEMPTS`` and, when MFA is enforced and the principal is in
    scope and not exempt, ``START_GRACE`` of kind ``lost_method``: the
    principal must enroll again within ``policy.grace_lost_method`` (with a
    zero grace the post-deadline action applies at the next sign-in). The
    principal gets an ``MFA_RESET`` notification with that deadline.

    Args:
        policy: The organization's policy.
        org: The organization's state.
        actor: The owner or administrator who resets.
        principal: The member whose MFA is reset.
        now: The current time (aware).
        other_organizations: How many other organizations the principal belongs to.

    Raises:
        ConfigurationError: a naive ``now`` or arguments of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    actor = check_principal("actor", actor)
    principal = check_principal("principal", principal)
    if isinstance(other_organizations, bool) or not isinstance(other_organizations, int):
        raise ConfigurationError("other_organizations must be an int")
    b = Builder(AuditAction.RESET_MFA, principal.id, actor.id, now)
    if not _target(b, policy, actor, principal, now):
        return b.build()
    if not principal.methods:
        b.deny(
            ReasonCode.NO_METHODS_TO_RESET,
            RuleId.RESET_METHODS,
            "the user has no second factor to reset",
        )
        return b.build()
    if other_organizations > 0:
        b.deny(
            ReasonCode.ACCOUNT_SHARED,
            RuleId.RESET_SHARED_ACCOUNT,
            "the user also belongs to other organizations: support must reset their MFA",
            count=other_organizations,
        )
        return b.build()
    check_step_up(b, policy, actor, SensitiveAction.RESET_MFA, now)
    _reset_consequences(b, policy, org, principal, now)
    return b.build()


def evaluate_support_reset(
    policy: OrgPolicy, org: OrgState, *, principal: Principal, actor_id: str, now: datetime
) -> Decision:
    """What a reset by the host's support staff does to one of the user's memberships.

    The host decided who may reset (its support staff, ``actor_id``), so no
    actor rule applies: the decision is always allowed and carries the same
    consequences as :func:`can_reset_mfa` under this organization's policy.
    A removed membership gets only the ``DELETE_METHODS`` effect's reason,
    without grace, unlock or notice.

    Raises:
        ConfigurationError: a naive ``now``, an empty ``actor_id`` or arguments
            of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    principal = check_principal("principal", principal)
    if not isinstance(actor_id, str) or not actor_id:
        raise ConfigurationError("actor_id must be a non-empty string")
    b = Builder(AuditAction.RESET_MFA, principal.id, actor_id, now)
    if principal.status is not PrincipalStatus.ACTIVE:
        b.reason(
            ReasonCode.MFA_RESET,
            RuleId.RESET_METHODS,
            "every second factor and backup code of the account will be deleted",
            count=len(principal.methods),
        )
        return b.build()
    _reset_consequences(b, policy, org, principal, now)
    return b.build()


def can_remove_member(
    policy: OrgPolicy, org: OrgState, *, actor: Principal, principal: Principal, now: datetime
) -> Decision:
    """Decide whether ``actor`` may remove ``principal`` from the organization.

    The shared target rules apply (module docstring), and removing an owner
    must leave at least one active owner (``org.owner_count``). A step-up
    applies when ``REMOVE_MEMBER`` is in ``policy.step_up_actions`` (the
    default). When allowed: a ``REMOVE_MEMBER`` effect and a ``REMOVED``
    notification. The user's second factors stay: they belong to the account.

    Raises:
        ConfigurationError: a naive ``now`` or arguments of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    actor = check_principal("actor", actor)
    principal = check_principal("principal", principal)
    b = Builder(AuditAction.REMOVE_MEMBER, principal.id, actor.id, now)
    if not _target(b, policy, actor, principal, now):
        return b.build()
    counted = principal.kind is _OWNER and principal.lock is None
    if principal.kind is _OWNER and org.owner_count - (1 if counted else 0) < 1:
        b.deny(
            ReasonCode.SOLE_OWNER,
            RuleId.REMOVE_MEMBER_SOLE_OWNER,
            "the organization's only active owner cannot be removed",
        )
        return b.build()
    check_step_up(b, policy, actor, SensitiveAction.REMOVE_MEMBER, now)
    b.reason(
        ReasonCode.MEMBER_REMOVED,
        RuleId.RECOVERY_TARGET,
        "the user will be removed from the organization",
    )
    b.effect(EffectKind.REMOVE_MEMBER, principal.id, actor=actor.id)
    b.notify(NotificationKind.REMOVED, principal.id)
    return b.build()


def can_grant_exemption(
    policy: OrgPolicy,
    org: OrgState,
    *,
    actor: Principal,
    principal: Principal,
    until: datetime,
    now: datetime,
    reason: str = "",
) -> Decision:
    """Decide whether ``actor`` may exempt ``principal`` from the MFA requirement until ``until``.

    Refused when ``policy.allow_exemptions`` is off, by the shared target
    rules (module docstring; so nobody exempts themselves), and when the
    exemption would last longer than ``policy.max_exemption``. A step-up
    applies when ``GRANT_EXEMPTION`` is in ``policy.step_up_actions`` (the
    default). When allowed: a ``SET_EXEMPTION`` effect from ``now`` to
    ``until``, replacing any exemption. It ends by itself at ``until``; then
    the principal gets a grace period anchored at its end.

    Args:
        policy: The organization's policy.
        org: The organization's state.
        actor: The owner or administrator who grants it.
        principal: The member to exempt.
        until: When the exemption ends (exclusive, aware).
        now: The current time (aware).
        reason: Why, kept with the exemption for the audit trail.

    Raises:
        ConfigurationError: a naive ``now`` or ``until``, ``until`` not after
            ``now``, or arguments of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    actor = check_principal("actor", actor)
    principal = check_principal("principal", principal)
    try:
        until = check_now(until)
    except ConfigurationError:
        raise ConfigurationError("until must be a timezone-aware datetime") from None
    if until <= now:
        raise ConfigurationError("until must be in the future")
    if not isinstance(reason, str):
        raise ConfigurationError("reason must be a string")
    b = Builder(AuditAction.GRANT_EXEMPTION, principal.id, actor.id, now)
    if not policy.allow_exemptions:
        b.deny(
            ReasonCode.EXEMPTIONS_DISABLED,
            RuleId.EXEMPTION_ALLOWED,
            "the organization's policy does not allow exemptions",
        )
        return b.build()
    if not _target(b, policy, actor, principal, now):
        return b.build()
    longest = policy.max_exemption
    if longest is not None and until - now > longest:
        b.deny(
            ReasonCode.EXEMPTION_TOO_LONG,
            RuleId.EXEMPTION_MAX,
            "the exemption would last longer than the policy allows",
            max=longest,
            latest=now + longest,
        )
        return b.build()
    check_step_up(b, policy, actor, SensitiveAction.GRANT_EXEMPTION, now)
    b.reason(
        ReasonCode.EXEMPTION_GRANTED,
        RuleId.EXEMPTION_ALLOWED,
        "the user will not need multi-factor authentication until the exemption ends",
        until=until,
    )
    b.next_at(until)
    b.effect(
        EffectKind.SET_EXEMPTION, principal.id, at=now, until=until, actor=actor.id, reason=reason
    )
    return b.build()


def can_revoke_exemption(
    policy: OrgPolicy, org: OrgState, *, actor: Principal, principal: Principal, now: datetime
) -> Decision:
    """Decide whether ``actor`` may end ``principal``'s exemption now.

    The shared target rules apply (module docstring), and an exemption must be
    in force (``not_exempt`` otherwise; one that already ended is kept, as it
    anchors the grace period that followed). When allowed: ``CLEAR_EXEMPTION``
    and, when MFA is enforced and the principal is in scope without MFA, a
    ``START_GRACE`` of kind ``exemption_ended`` from now (``grace_existing``),
    exactly as if the exemption had ended by itself, with a ``GRACE_STARTED``
    notification.

    Raises:
        ConfigurationError: a naive ``now`` or arguments of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    actor = check_principal("actor", actor)
    principal = check_principal("principal", principal)
    b = Builder(AuditAction.REVOKE_EXEMPTION, principal.id, actor.id, now)
    if not _target(b, policy, actor, principal, now):
        return b.build()
    before = assess(policy, org, principal, now, ignore_lock=True)
    if not before.exempt:
        b.deny(
            ReasonCode.NOT_EXEMPT,
            RuleId.EXEMPTION_ACTIVE,
            "the user has no exemption in force",
        )
        return b.build()
    b.reason(
        ReasonCode.EXEMPTION_REVOKED,
        RuleId.EXEMPTION_ACTIVE,
        "the exemption ends now",
    )
    b.effect(EffectKind.CLEAR_EXEMPTION, principal.id, actor=actor.id)
    if not before.has_mfa and org.enforced_since is not None:
        deadline = _start_grace(
            b,
            policy,
            principal,
            kind=GraceKind.EXEMPTION_ENDED,
            rule=RuleId.EXEMPTION_ACTIVE,
            message="a grace period starts to set up multi-factor authentication",
            now=now,
        )
        b.notify(NotificationKind.GRACE_STARTED, principal.id, deadline=deadline)
    return b.build()


def _start_grace(
    b: Builder,
    policy: OrgPolicy,
    principal: Principal,
    *,
    kind: GraceKind,
    rule: RuleId,
    message: str,
    now: datetime,
) -> datetime:
    """Start a ``kind`` grace period for ``principal`` now; return its deadline."""
    deadline = now + policy.grace_for(kind)
    b.deadline = deadline
    b.next_at(deadline)
    b.reason(ReasonCode.GRACE_STARTED, rule, message, deadline=deadline)
    b.effect(EffectKind.START_GRACE, principal.id, at=now, grace_kind=kind)
    return deadline
