"""What the policy returns: decisions, their reasons, obligations, effects and events.

Everything here is frozen, typed with string-valued enums, and turns into plain
JSON with ``to_dict()``: datetimes become ISO 8601 strings, durations become
seconds, enums become their values.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from mfakit.errors import PolicyDeniedError
from mfakit.policy._codes import ReasonCode, RuleId
from mfakit.policy._facts import GraceKind, LockReason, MethodKind

#: A value allowed in :attr:`Reason.params`.
JsonValue = str | int | float | bool | None | tuple[str, ...]


class Outcome(enum.StrEnum):
    """The verdict of a decision, from the most to the least permissive."""

    #: The action may go ahead (obligations such as "enroll by" may still apply).
    ALLOW = "allow"
    #: The principal may sign in only to set up a qualifying method.
    REQUIRE_ENROLLMENT = "require_enrollment"
    #: Allowed after a fresh second-factor verification.
    REQUIRE_STEP_UP = "require_step_up"
    #: Allowed after the actor types the confirmation phrase.
    REQUIRE_CONFIRMATION = "require_confirmation"
    #: Refused.
    DENY = "deny"


class ConfirmationPhrase(enum.StrEnum):
    """The phrases a user types to confirm a destructive action.

    The typed text is compared exactly and case-sensitively after removing
    surrounding whitespace (a pasted trailing newline is fine; ``delete`` is not).
    """

    ENFORCE = "ENFORCE"
    STOP = "STOP"
    DELETE = "DELETE"


class ObligationKind(enum.StrEnum):
    """Something the caller must have the user do."""

    #: Type :attr:`Obligation.phrase` exactly.
    CONFIRM_PHRASE = "confirm_phrase"
    #: Pass a second factor again (the last check is older than ``max_age_seconds``).
    STEP_UP = "step_up"
    #: Set up a qualifying method before :attr:`Obligation.deadline`.
    ENROLL_BY = "enroll_by"
    #: Set up a qualifying method now.
    ENROLL_NOW = "enroll_now"


class EffectKind(enum.StrEnum):
    """A state change the caller must persist (atomically with the action)."""

    #: Turn enforcement on (``enabled=True``, since ``at``, by ``actor``) or off.
    SET_ENFORCEMENT = "set_enforcement"
    #: Store a grace anchor (``grace_kind``, ``at``) on ``subject``.
    START_GRACE = "start_grace"
    #: Remove ``subject``'s grace anchor.
    CLEAR_GRACE = "clear_grace"
    #: Lock ``subject`` (``lock_reason``, ``at``, ``actor``), replacing any lock.
    LOCK = "lock"
    #: Remove ``subject``'s lock.
    UNLOCK = "unlock"
    #: Set ``subject``'s failed-attempt counter to zero.
    RESET_FAILED_ATTEMPTS = "reset_failed_attempts"
    #: Remove ``subject`` from the organization.
    REMOVE_MEMBER = "remove_member"
    #: Store ``at`` as ``subject``'s last reminder time.
    RECORD_REMINDER = "record_reminder"
    #: Delete every second factor of ``subject`` (TOTP, passkeys, security keys,
    #: backup codes): an MFA reset.
    DELETE_METHODS = "delete_methods"
    #: Store an exemption on ``subject`` from ``at`` until ``until``, granted by ``actor``.
    SET_EXEMPTION = "set_exemption"
    #: Remove ``subject``'s exemption.
    CLEAR_EXEMPTION = "clear_exemption"


class NotificationKind(enum.StrEnum):
    """A message the caller must send."""

    REMINDER = "reminder"
    GRACE_STARTED = "grace_started"
    ENFORCEMENT_STOPPED = "enforcement_stopped"
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    REMOVED = "removed"
    METHOD_ADDED = "method_added"
    METHOD_REMOVED = "method_removed"
    MFA_RESET = "mfa_reset"


class AuditAction(enum.StrEnum):
    """The action a decision (and its audit event) is about."""

    ENABLE_ENFORCEMENT = "enforcement.enable"
    STOP_ENFORCEMENT = "enforcement.stop"
    LOGIN = "login"
    ACCEPT_INVITATION = "invitation.accept"
    ADD_METHOD = "method.add"
    REMOVE_METHOD = "method.remove"
    SENSITIVE_ACTION = "sensitive_action"
    UNLOCK = "principal.unlock"
    RESET_MFA = "principal.reset_mfa"
    REMOVE_MEMBER = "principal.remove"
    GRANT_EXEMPTION = "exemption.grant"
    REVOKE_EXEMPTION = "exemption.revoke"
    SWEEP = "sweep"


class ComplianceStatus(enum.StrEnum):
    """Where one principal stands with the MFA requirement."""

    #: Has enough qualifying methods.
    COMPLIANT = "compliant"
    #: Lacks a method but enforcement is off: nothing is due.
    NOT_ENROLLED = "not_enrolled"
    #: Lacks a method; must enroll before the deadline.
    IN_GRACE = "in_grace"
    #: Lacks a method and the deadline has passed.
    OVERDUE = "overdue"
    #: Lacks a method but a break-glass exemption is in force.
    EXEMPT = "exempt"
    #: Locked (any reason); whether they have a method is in ``has_mfa``.
    LOCKED = "locked"
    #: Their principal kind is outside the policy's scope.
    OUT_OF_SCOPE = "out_of_scope"
    #: Invited or removed: not a member.
    INACTIVE = "inactive"


def to_json(value: Any) -> Any:
    """Convert a policy value (decision, fact, enum, datetime, ...) to plain JSON types."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        return int(seconds) if seconds.is_integer() else seconds
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_json(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.name.startswith("_")
        }
    if isinstance(value, Mapping):
        return {str(to_json(k)): to_json(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(to_json(v) for v in value)
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    return value


class _JsonMixin:
    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """Return this value as a JSON-ready ``dict``."""
        result: dict[str, Any] = to_json(self)
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason(_JsonMixin):
    """Why a decision came out as it did.

    Attributes:
        code: A stable machine code.
        rule: The rule that produced it.
        message: A human, log-safe explanation (no secrets).
        params: The values behind the message, JSON-friendly.
    """

    code: ReasonCode
    rule: RuleId
    message: str
    params: Mapping[str, JsonValue] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True, kw_only=True)
class Obligation(_JsonMixin):
    """Something the user must do before (or, for ``ENROLL_BY``, after) the action.

    Attributes:
        kind: What must be done.
        phrase: For ``CONFIRM_PHRASE``: the exact phrase to type.
        max_age_seconds: For ``STEP_UP``: the largest acceptable age of the check.
        deadline: For ``ENROLL_BY``: the exclusive deadline.
        method_kinds: For ``ENROLL_*``: the kinds that would count.
    """

    kind: ObligationKind
    phrase: str | None = None
    max_age_seconds: int | None = None
    deadline: datetime | None = None
    method_kinds: tuple[MethodKind, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Effect(_JsonMixin):
    """A state change for the caller to persist, in order, atomically with the action.

    Attributes:
        kind: What to change.
        subject: The principal id, or the organization id for ``SET_ENFORCEMENT``.
        at: The time to store (grace anchor, lock time, enforcement start, reminder).
        grace_kind: For ``START_GRACE``.
        lock_reason: For ``LOCK``.
        actor: Who caused it, when a person did.
        enabled: For ``SET_ENFORCEMENT``.
        until: For ``SET_EXEMPTION``: when the exemption ends (exclusive).
        reason: For ``SET_EXEMPTION``: why it was granted (for the audit trail).
    """

    kind: EffectKind
    subject: str
    at: datetime | None = None
    grace_kind: GraceKind | None = None
    lock_reason: LockReason | None = None
    actor: str | None = None
    enabled: bool | None = None
    until: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification(_JsonMixin):
    """A message for the caller to send.

    Attributes:
        kind: What to tell.
        recipient: The principal to tell.
        subject: The principal it is about (differs from ``recipient`` when owners
            are told about the organization).
        deadline: The enrollment deadline, for reminders and grace notices.
        actor: Who caused it, when a person did.
    """

    kind: NotificationKind
    recipient: str
    subject: str
    deadline: datetime | None = None
    actor: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent(_JsonMixin):
    """A security-relevant event for the audit trail. Never holds secrets.

    Attributes:
        action: What was attempted.
        outcome: The decision's outcome.
        subject: The principal (or organization) acted upon.
        actor: Who acted, if a person did.
        at: When.
        reasons: The reason codes, in order.
        effects: The kinds of the effects to persist, in order.
    """

    action: AuditAction
    outcome: Outcome
    subject: str
    actor: str | None
    at: datetime
    reasons: tuple[ReasonCode, ...]
    effects: tuple[EffectKind, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision(_JsonMixin):
    """The result of evaluating one action against the policy.

    Attributes:
        action: What was evaluated.
        outcome: The verdict.
        subject: The principal (or organization) the decision is about.
        actor: Who asked, when a person did.
        reasons: Why, in the order the rules fired.
        obligations: What the user must do.
        effects: State changes to persist, in order (only when allowed, or when a
            refusal itself changes state, such as a lock).
        notifications: Messages to send.
        audit: Events for the audit trail.
        deadline: The enrollment deadline in play, if any (exclusive).
        next_evaluation: The earliest time the decision may change with no change of
            facts (a deadline, a reminder, an exemption or lock ending), if any.
        rules: The ids of the rules that fired, in order, without repeats.
        reminder_targets: Principals who lack a qualifying method, when the
            decision lists them (enabling enforcement).
    """

    action: AuditAction
    outcome: Outcome
    subject: str
    actor: str | None = None
    reasons: tuple[Reason, ...] = ()
    obligations: tuple[Obligation, ...] = ()
    effects: tuple[Effect, ...] = ()
    notifications: tuple[Notification, ...] = ()
    audit: tuple[AuditEvent, ...] = ()
    deadline: datetime | None = None
    next_evaluation: datetime | None = None
    rules: tuple[RuleId, ...] = ()
    reminder_targets: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        """Whether the outcome is :attr:`Outcome.ALLOW`."""
        return self.outcome is Outcome.ALLOW

    @property
    def codes(self) -> tuple[ReasonCode, ...]:
        """The reason codes, in order."""
        return tuple(r.code for r in self.reasons)

    def require_allowed(self) -> Decision:
        """Return the decision if allowed, else raise.

        Raises:
            PolicyDeniedError: the outcome is not ``ALLOW``; ``.decision`` is this one.
        """
        if self.outcome is not Outcome.ALLOW:
            first = self.reasons[0].message if self.reasons else self.outcome.value
            raise PolicyDeniedError(f"{self.action.value}: {first}", decision=self)
        return self


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberCompliance(_JsonMixin):
    """One principal's standing with the MFA requirement.

    Attributes:
        principal_id: Who.
        status: The compliance status.
        has_mfa: Whether they hold enough qualifying methods.
        qualifying_methods: Ids of the methods that count.
        deadline: The exclusive enrollment deadline, when one applies.
        grace_kind: Why the grace period runs, when one applies.
        reminder_due: Whether a deadline reminder is due now.
        next_evaluation: When this may change with no change of facts.
        reasons: Why, in order.
        rules: The rules that fired.
    """

    principal_id: str
    status: ComplianceStatus
    has_mfa: bool
    qualifying_methods: tuple[str, ...] = ()
    deadline: datetime | None = None
    grace_kind: GraceKind | None = None
    reminder_due: bool = False
    next_evaluation: datetime | None = None
    reasons: tuple[Reason, ...] = ()
    rules: tuple[RuleId, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplianceReport(_JsonMixin):
    """The organization's compliance at one instant.

    Attributes:
        total: Principals seen.
        required: Active principals in scope without an exemption: those who must
            have MFA.
        satisfied: Of ``required``, those with enough qualifying methods.
        percent_compliant: ``100 * satisfied / required`` (100.0 when nobody is required).
        counts: Principals per :class:`ComplianceStatus`.
        reminder_targets: Ids of required principals without MFA, in input order.
        can_enable_enforcement: Whether enabling enforcement would be allowed now by
            the activation mode (the actor's own checks are not included).
        next_evaluation: The earliest deadline, reminder or expiry still to come.
        exemptions: Principals with an exemption in force now, with when it ends
            (exclusive, capped by ``max_exemption``), in input order; exempt
            principals who do hold MFA are listed too.
    """

    total: int
    required: int
    satisfied: int
    percent_compliant: float
    counts: Mapping[ComplianceStatus, int]
    reminder_targets: tuple[str, ...]
    can_enable_enforcement: bool
    next_evaluation: datetime | None = None
    exemptions: Mapping[str, datetime] = field(default_factory=lambda: MappingProxyType({}))
