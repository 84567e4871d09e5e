"""Decisions about a principal's second factors: adding one, removing one (typed ``DELETE``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mfakit.errors import ConfigurationError
from mfakit.policy._actions import SensitiveAction
from mfakit.policy._builder import (
    Builder,
    check_actor,
    check_confirmation,
    check_step_up,
    enroll_by,
)
from mfakit.policy._codes import ReasonCode, RuleId
from mfakit.policy._compliance import explain_lock, explain_status
from mfakit.policy._config import LastMethodRemoval, OrgPolicy
from mfakit.policy._core import (
    assess,
    check_now,
    check_principal,
    check_types,
    lock_active,
    qualifying,
)
from mfakit.policy._decision import (
    AuditAction,
    ComplianceStatus,
    ConfirmationPhrase,
    Decision,
    EffectKind,
    NotificationKind,
)
from mfakit.policy._facts import (
    GraceKind,
    Method,
    MethodKind,
    OrgState,
    Principal,
    PrincipalKind,
    PrincipalStatus,
)

__all__ = ["can_add_method", "can_remove_method"]


def _coerce_kind(kind: Any) -> MethodKind:
    try:
        return MethodKind(kind)
    except ValueError as exc:
        raise ConfigurationError("kind is not a valid MethodKind") from exc


def can_add_method(
    policy: OrgPolicy,
    org: OrgState,
    *,
    principal: Principal,
    kind: MethodKind | str,
    label: str = "",
    now: datetime,
) -> Decision:
    """Decide whether ``principal`` may set up a method of ``kind`` named ``label``.

    Only kinds in ``policy.eligible_methods`` for the principal's kind may be added
    (backup codes always may, but count only with ``backup_codes_count``). Labels
    are unique per kind, compared without case or outer whitespace. When the new
    method makes the principal compliant, a running grace period is cleared.
    Invitees may add methods (they must, to join an enforcing organization).

    Args:
        policy: The organization's policy.
        org: The organization's enforcement state.
        principal: Who adds the method.
        kind: The kind of method (a :class:`MethodKind` or its value).
        label: The name the user gives it (unique per kind).
        now: The current time (aware).

    Raises:
        ConfigurationError: a naive ``now`` or arguments of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    principal = check_principal("principal", principal)
    method_kind = _coerce_kind(kind)
    if not isinstance(label, str):
        raise ConfigurationError("label must be a string")
    b = Builder(AuditAction.ADD_METHOD, principal.id, principal.id, now)
    if principal.status is PrincipalStatus.REMOVED:
        a = assess(policy, org, principal, now)
        explain_status(b, policy, principal, a, now)
        return b.build()
    if lock_active(policy, principal, now):
        explain_lock(b, policy, principal)
        return b.build()
    allowed = policy.eligible_methods[principal.kind]
    if method_kind is not MethodKind.BACKUP_CODES and method_kind not in allowed:
        b.deny(
            ReasonCode.METHOD_KIND_NOT_ALLOWED,
            RuleId.ADD_ELIGIBLE_KIND,
            f"{principal.kind.value}s may not use this kind of method",
            kind=method_kind,
            allowed=tuple(sorted(allowed)),
            principal_kind=principal.kind,
        )
        return b.build()
    wanted = label.strip().casefold()
    if wanted and any(
        m.kind is method_kind and m.label.strip().casefold() == wanted for m in principal.methods
    ):
        b.deny(
            ReasonCode.DUPLICATE_LABEL,
            RuleId.ADD_UNIQUE_LABEL,
            "another method of this kind already has this name",
            kind=method_kind,
        )
        return b.build()
    b.reason(
        ReasonCode.METHOD_ADDED,
        RuleId.ADD_ELIGIBLE_KIND,
        "the method may be added",
        kind=method_kind,
    )
    current = qualifying(policy, principal.kind, principal.methods)
    counts = method_kind in policy.qualifying_kinds(principal.kind)
    if not counts:
        b.reason(
            ReasonCode.BACKUP_CODES_DO_NOT_COUNT,
            RuleId.METHODS_QUALIFYING,
            "backup codes are for recovery; they do not satisfy the MFA requirement alone",
        )
    after = len(current) + (1 if counts else 0)
    if after >= policy.min_methods > len(current):
        b.reason(
            ReasonCode.COMPLIANT,
            RuleId.METHODS_QUALIFYING,
            "the principal will have multi-factor authentication",
            methods=after,
        )
        if principal.grace is not None:
            b.reason(
                ReasonCode.GRACE_CLEARED,
                RuleId.ADD_CLEARS_GRACE,
                "the running grace period ends",
            )
            b.effect(EffectKind.CLEAR_GRACE, principal.id)
    if counts and after == 1:
        b.reason(
            ReasonCode.SECOND_METHOD_RECOMMENDED,
            RuleId.METHODS_QUALIFYING,
            "add a second method so that losing one device does not lock you out",
        )
    b.notify(NotificationKind.METHOD_ADDED, principal.id)
    return b.build()


def _replacement(
    policy: OrgPolicy, principal: Principal, method_id: str, replacement: Any
) -> Method | None:
    if replacement is None:
        return None
    if not isinstance(replacement, Method):
        raise ConfigurationError("replacement must be a Method or None")
    if (
        replacement.confirmed
        and replacement.id != method_id
        and replacement.kind in policy.qualifying_kinds(principal.kind)
        and all(m.id != replacement.id for m in principal.methods)
    ):
        return replacement
    return None


def can_remove_method(
    policy: OrgPolicy,
    org: OrgState,
    *,
    principal: Principal,
    method_id: str,
    confirmation: str | None,
    now: datetime,
    actor: Principal | None = None,
    replacement: Method | None = None,
) -> Decision:
    """Decide whether the method ``method_id`` may be deleted from ``principal``.

    The user types ``DELETE``; a step-up is required when the policy lists
    ``REMOVE_METHOD``. When other qualifying methods remain (including a confirmed
    ``replacement`` that is not stored yet, as when a TOTP is re-enrolled), the
    removal is fine and starts no grace period. Removing the last one under
    enforcement is refused for the sole owner, whatever the policy; otherwise
    ``policy.last_method_removal`` refuses it, starts a grace period, or warns.

    Args:
        policy: The organization's policy.
        org: The organization's state.
        principal: Whose method.
        method_id: Which method.
        confirmation: What the user typed (``None`` if nothing yet).
        now: The current time (aware).
        actor: Who deletes, when not the principal (an administrator).
        replacement: A newly confirmed method that replaces the removed one.

    Raises:
        ConfigurationError: a naive ``now`` or arguments of the wrong type.
    """
    now = check_now(now)
    check_types(policy, org)
    principal = check_principal("principal", principal)
    actor = principal if actor is None else check_principal("actor", actor)
    b = Builder(AuditAction.REMOVE_METHOD, principal.id, actor.id, now)
    if actor.id != principal.id and not check_actor(b, policy, actor, now):
        return b.build()
    if principal.status is PrincipalStatus.REMOVED:
        explain_status(b, policy, principal, assess(policy, org, principal, now), now)
        return b.build()
    if actor is principal and lock_active(policy, principal, now):
        explain_lock(b, policy, principal)
        return b.build()
    if all(m.id != method_id for m in principal.methods):
        b.deny(
            ReasonCode.METHOD_NOT_FOUND,
            RuleId.REMOVE_KNOWN_METHOD,
            "the principal has no such method",
        )
        return b.build()
    check_confirmation(b, ConfirmationPhrase.DELETE, confirmation)
    check_step_up(b, policy, actor, SensitiveAction.REMOVE_METHOD, now)
    remaining = tuple(m for m in principal.methods if m.id != method_id)
    new = _replacement(policy, principal, method_id, replacement)
    if new is not None:
        remaining = (*remaining, new)
        b.reason(
            ReasonCode.REPLACEMENT_CONFIRMED,
            RuleId.REMOVE_REPLACEMENT,
            "a newly confirmed method replaces this one",
        )
    before = len(qualifying(policy, principal.kind, principal.methods)) >= policy.min_methods
    after = assess(policy, org, principal, now, methods=remaining, ignore_lock=True)
    if after.has_mfa:
        b.reason(
            ReasonCode.OTHER_METHODS_REMAIN,
            RuleId.REMOVE_OTHER_METHODS,
            "other methods remain; nothing else changes",
            remaining=len(after.qualifying),
        )
    elif not before:
        b.reason(
            ReasonCode.METHOD_NOT_REQUIRED,
            RuleId.REMOVE_OTHER_METHODS,
            "this method does not count towards the MFA requirement",
        )
    else:
        _last_method(b, policy, org, principal, after)
    b.notify(NotificationKind.METHOD_REMOVED, principal.id)
    return b.build()


def _last_method(
    b: Builder, policy: OrgPolicy, org: OrgState, principal: Principal, after: Any
) -> None:
    """The removal takes away the principal's last qualifying method."""
    if org.enforced_since is None:
        b.reason(
            ReasonCode.NOT_ENFORCED,
            RuleId.ENFORCEMENT_STATE,
            "the organization does not enforce multi-factor authentication",
        )
    elif principal.kind is PrincipalKind.OWNER and org.owner_count <= 1:
        # Whatever the scope or an exemption says: without a method, the only owner
        # could no longer manage (or stop) enforcement, since that requires MFA.
        b.deny(
            ReasonCode.SOLE_OWNER_LAST_METHOD,
            RuleId.REMOVE_SOLE_OWNER,
            "the only owner cannot remove their last method while MFA is enforced",
        )
    elif after.status is ComplianceStatus.OUT_OF_SCOPE:
        b.reason(
            ReasonCode.OUT_OF_SCOPE,
            RuleId.SCOPE_KINDS,
            f"the MFA requirement does not apply to {principal.kind.value}s",
            kind=principal.kind,
        )
    elif after.exempt:
        b.reason(
            ReasonCode.EXEMPT,
            RuleId.EXEMPTION_ACTIVE,
            "a break-glass exemption is in force",
            until=after.exemption_end,
        )
    elif policy.last_method_removal is LastMethodRemoval.REFUSE:
        b.deny(
            ReasonCode.LAST_METHOD_REFUSED,
            RuleId.REMOVE_LAST_METHOD,
            "add another method before removing your last one",
        )
    elif policy.last_method_removal is LastMethodRemoval.GRACE:
        deadline = b.now + policy.grace_lost_method
        b.deadline = deadline
        b.next_at(deadline)
        b.reason(
            ReasonCode.GRACE_STARTED,
            RuleId.REMOVE_LAST_METHOD,
            "set up a new method before the deadline or the account will be "
            + policy.after_deadline.value
            + "ed",
            deadline=deadline,
            after_deadline=policy.after_deadline,
        )
        b.effect(EffectKind.START_GRACE, principal.id, at=b.now, grace_kind=GraceKind.LOST_METHOD)
        b.notify(NotificationKind.GRACE_STARTED, principal.id, deadline=deadline)
        enroll_by(b, policy, principal.kind, deadline)
    else:
        b.deadline = after.deadline
        overdue = after.status is ComplianceStatus.OVERDUE
        b.reason(
            ReasonCode.LAST_METHOD_WARNING,
            RuleId.REMOVE_LAST_METHOD,
            "no grace period starts: "
            + ("the deadline has already passed" if overdue else "the existing deadline applies"),
            deadline=after.deadline,
            overdue=overdue,
            after_deadline=policy.after_deadline,
        )
        if not overdue:
            b.next_at(after.deadline)
            enroll_by(b, policy, principal.kind, after.deadline)
