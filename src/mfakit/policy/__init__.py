"""Organization MFA policy: pure decisions about who may do what, and what must happen next.

An owner enforces multi-factor authentication for an organization. This package
decides, from an :class:`OrgPolicy`, the stored facts (:class:`OrgState`,
:class:`Principal`) and ``now``, what is allowed. It stores and sends nothing:
each entry point returns a :class:`Decision` whose ``effects`` the caller
persists (atomically with the action) and whose ``notifications`` and ``audit``
events the caller delivers.

Deadlines are never stored. They are derived at evaluation time from the current
policy and stored anchors (enforcement start, join time, exemption end, a
:class:`GraceAnchor`), and they are exclusive: at ``now == deadline`` the
principal is overdue.

Example::

    from mfakit.policy import OrgState, Principal, can_enable_enforcement, reference_console

    decision = can_enable_enforcement(
        reference_console(),
        OrgState(id="org-1"),
        actor=owner,
        principals=all_members,
        confirmation="ENFORCE",
        now=clock.now(),
    )
    if not decision.allowed:
        remind(decision.reminder_targets)
"""

from __future__ import annotations

from mfakit.policy._access import (
    can_accept_invitation,
    evaluate_login,
    evaluate_sensitive_action,
)
from mfakit.policy._actions import (
    DEFAULT_STEP_UP_ACTIONS,
    METHOD_CHANGE_ACTIONS,
    SensitiveAction,
    check_action,
)
from mfakit.policy._codes import ReasonCode, RuleId
from mfakit.policy._compliance import member_compliance, org_compliance_report
from mfakit.policy._config import (
    MAX_TRUSTED_BROWSER_DAYS,
    ActivationMode,
    LastMethodRemoval,
    OrgPolicy,
    PostDeadlineAction,
    gradual_rollout,
    reference_console,
    remove_noncompliant,
)
from mfakit.policy._decision import (
    AuditAction,
    AuditEvent,
    ComplianceReport,
    ComplianceStatus,
    ConfirmationPhrase,
    Decision,
    Effect,
    EffectKind,
    JsonValue,
    MemberCompliance,
    Notification,
    NotificationKind,
    Obligation,
    ObligationKind,
    Outcome,
    Reason,
    to_json,
)
from mfakit.policy._facts import (
    Exemption,
    GraceAnchor,
    GraceKind,
    Lock,
    LockReason,
    Method,
    MethodKind,
    OrgState,
    Principal,
    PrincipalKind,
    PrincipalStatus,
)
from mfakit.policy._methods import can_add_method, can_remove_method
from mfakit.policy._org import (
    can_enable_enforcement,
    can_stop_enforcement,
    can_unlock,
)
from mfakit.policy._recovery import (
    can_grant_exemption,
    can_remove_member,
    can_reset_mfa,
    can_revoke_exemption,
    evaluate_support_reset,
)
from mfakit.policy._schedule import due_reminders, sweep

__all__ = [
    "ActivationMode",
    "AuditAction",
    "AuditEvent",
    "ComplianceReport",
    "ComplianceStatus",
    "ConfirmationPhrase",
    "DEFAULT_STEP_UP_ACTIONS",
    "Decision",
    "Effect",
    "EffectKind",
    "Exemption",
    "GraceAnchor",
    "GraceKind",
    "JsonValue",
    "LastMethodRemoval",
    "Lock",
    "LockReason",
    "MAX_TRUSTED_BROWSER_DAYS",
    "METHOD_CHANGE_ACTIONS",
    "MemberCompliance",
    "Method",
    "MethodKind",
    "Notification",
    "NotificationKind",
    "Obligation",
    "ObligationKind",
    "OrgPolicy",
    "OrgState",
    "Outcome",
    "PostDeadlineAction",
    "Principal",
    "PrincipalKind",
    "PrincipalStatus",
    "Reason",
    "ReasonCode",
    "RuleId",
    "SensitiveAction",
    "can_accept_invitation",
    "can_add_method",
    "can_enable_enforcement",
    "can_grant_exemption",
    "can_remove_member",
    "can_remove_method",
    "can_reset_mfa",
    "can_revoke_exemption",
    "can_stop_enforcement",
    "can_unlock",
    "check_action",
    "due_reminders",
    "evaluate_login",
    "evaluate_sensitive_action",
    "evaluate_support_reset",
    "gradual_rollout",
    "member_compliance",
    "org_compliance_report",
    "reference_console",
    "remove_noncompliant",
    "sweep",
    "to_json",
]
