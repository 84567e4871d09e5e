"""The shared machinery of every decision: assessing one principal, and building decisions.

Deadline semantics live here, in one place:

* an anchor is a stored or derived instant (enforcement start, join time,
  exemption end, a stored :class:`~mfakit.policy.GraceAnchor`); the latest one wins,
  a stored anchor winning ties;
* ``deadline = anchor + policy.grace_for(kind)``, computed with the *current* policy;
* a deadline is exclusive: at ``now == deadline`` the principal is overdue.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from mfakit.clock import ensure_aware
from mfakit.errors import ConfigurationError
from mfakit.policy._config import OrgPolicy, SensitiveAction
from mfakit.policy._decision import (
    AuditAction,
    AuditEvent,
    ComplianceStatus,
    Decision,
    Effect,
    EffectKind,
    JsonValue,
    Notification,
    NotificationKind,
    Obligation,
    ObligationKind,
    Outcome,
    Reason,
    ReasonCode,
    RuleId,
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
    """The anchor of a grace period under enforcement (``since``): the latest one wins."""
    anchor, kind = since, GraceKind.ENFORCEMENT
    if principal.joined_at is not None and principal.joined_at > anchor:
        anchor, kind = principal.joined_at, GraceKind.NEW_MEMBER
    if ex_end is not None and anchor < ex_end <= now:
        anchor, kind = ex_end, GraceKind.EXEMPTION_ENDED
    stored = principal.grace
    if stored is not None and stored.started_at >= anchor:
        anchor, kind = stored.started_at, stored.kind
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
    Thresholds before the grace anchor are skipped (the grace-started notice
    covers them). Only principals in grace get reminders.
    """
    if a.status is not ComplianceStatus.IN_GRACE or a.deadline is None or a.anchor is None:
        return None, None
    due: datetime | None = None
    upcoming: datetime | None = None
    for offset in policy.reminder_offsets:  # longest first: thresholds ascend
        threshold = a.deadline - offset
        if threshold < a.anchor:
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


def _param(value: Any) -> JsonValue:
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value  # type: ignore[no-any-return]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, tuple | list | frozenset):
        return tuple(str(getattr(v, "value", v)) for v in value)
    return getattr(value, "value", value)  # type: ignore[no-any-return]


class Builder:
    """Collects the pieces of a decision as the rules fire, then freezes them."""

    __slots__ = (
        "_effects",
        "_notes",
        "_oblig",
        "_reasons",
        "_rules",
        "action",
        "actor",
        "deadline",
        "denied",
        "enrollment",
        "needs_confirmation",
        "needs_step_up",
        "next_evaluation",
        "now",
        "reminder_targets",
        "subject",
    )

    def __init__(self, action: AuditAction, subject: str, actor: str | None, now: datetime) -> None:
        self.action = action
        self.subject = subject
        self.actor = actor
        self.now = now
        self._reasons: list[Reason] = []
        self._rules: dict[RuleId, None] = {}
        # Each entry: (item, always). Conditional items are kept only when allowed.
        self._oblig: list[tuple[Obligation, bool]] = []
        self._effects: list[tuple[Effect, bool]] = []
        self._notes: list[tuple[Notification, bool]] = []
        self.denied = False
        self.needs_confirmation = False
        self.needs_step_up = False
        self.enrollment = False
        self.deadline: datetime | None = None
        self.next_evaluation: datetime | None = None
        self.reminder_targets: tuple[str, ...] = ()

    def reason(self, code: ReasonCode, rule: RuleId, message: str, **params: Any) -> None:
        """Record a reason (and its rule)."""
        self._rules[rule] = None
        self._reasons.append(
            Reason(
                code=code,
                rule=rule,
                message=message,
                params=MappingProxyType({k: _param(v) for k, v in params.items()}),
            )
        )

    def deny(self, code: ReasonCode, rule: RuleId, message: str, **params: Any) -> None:
        """Record a reason that refuses the action."""
        self.denied = True
        self.reason(code, rule, message, **params)

    def obligation(self, obligation: Obligation, *, always: bool = True) -> None:
        """Add an obligation (``always=False``: only if the action is allowed)."""
        self._oblig.append((obligation, always))

    def effect(self, kind: EffectKind, subject: str, *, always: bool = False, **kw: Any) -> None:
        """Add an effect (``always=True``: even when the action is refused)."""
        self._effects.append((Effect(kind=kind, subject=subject, **kw), always))

    def notify(
        self,
        kind: NotificationKind,
        recipient: str,
        *,
        subject: str | None = None,
        deadline: datetime | None = None,
        always: bool = False,
    ) -> None:
        """Add a notification (``always=True``: even when the action is refused)."""
        note = Notification(
            kind=kind,
            recipient=recipient,
            subject=recipient if subject is None else subject,
            deadline=deadline,
            actor=self.actor,
        )
        self._notes.append((note, always))

    def next_at(self, when: datetime | None) -> None:
        """Lower the next evaluation time to ``when`` if it is sooner."""
        if when is not None and (self.next_evaluation is None or when < self.next_evaluation):
            self.next_evaluation = when

    def outcome(self) -> Outcome:
        """The outcome implied by the reasons so far, most severe first."""
        if self.denied:
            return Outcome.DENY
        if self.needs_confirmation:
            return Outcome.REQUIRE_CONFIRMATION
        if self.needs_step_up:
            return Outcome.REQUIRE_STEP_UP
        if self.enrollment:
            return Outcome.REQUIRE_ENROLLMENT
        return Outcome.ALLOW

    def build(self) -> Decision:
        """Freeze the collected pieces into a :class:`Decision`."""
        outcome = self.outcome()
        allowed = outcome is Outcome.ALLOW
        effects = tuple([e for e, always in self._effects if always or allowed])
        reasons = tuple(self._reasons)
        event = AuditEvent(
            action=self.action,
            outcome=outcome,
            subject=self.subject,
            actor=self.actor,
            at=self.now,
            reasons=tuple([r.code for r in reasons]),
            effects=tuple([e.kind for e in effects]),
        )
        return Decision(
            action=self.action,
            outcome=outcome,
            subject=self.subject,
            actor=self.actor,
            reasons=reasons,
            obligations=tuple([o for o, always in self._oblig if always or allowed]),
            effects=effects,
            notifications=tuple([n for n, always in self._notes if always or allowed]),
            audit=(event,),
            deadline=self.deadline,
            next_evaluation=self.next_evaluation,
            rules=tuple(self._rules),
            reminder_targets=self.reminder_targets,
        )


def check_confirmation(b: Builder, expected: str, given: Any) -> None:
    """The typed confirmation phrase: exact and case-sensitive, outer whitespace ignored."""
    if given is not None and not isinstance(given, str):
        raise ConfigurationError("confirmation must be a string or None")
    if given is None or given.strip() != expected:
        code = (
            ReasonCode.CONFIRMATION_REQUIRED if given is None else ReasonCode.CONFIRMATION_MISMATCH
        )
        b.needs_confirmation = True
        b.reason(code, RuleId.CONFIRMATION_PHRASE, f"type {expected} to confirm", phrase=expected)
        b.obligation(Obligation(kind=ObligationKind.CONFIRM_PHRASE, phrase=expected))


def check_step_up(
    b: Builder,
    policy: OrgPolicy,
    actor: Principal,
    action: SensitiveAction,
    now: datetime,
    *,
    explain: bool = False,
) -> None:
    """Require a fresh second factor when the action is sensitive and the last check is stale.

    The last check is stale when it is missing, in the future (clock skew is not
    trusted), or ``now - last_mfa_at >= step_up_max_age``.
    """
    max_age = policy.step_up_max_age
    if action not in policy.step_up_actions:
        if explain:
            b.reason(
                ReasonCode.RECENTLY_VERIFIED,
                RuleId.STEP_UP_MAX_AGE,
                "this action does not require a step-up",
                action=action,
                required=False,
            )
        return
    last = actor.last_mfa_at
    if last is None or last > now or now - last >= max_age:
        b.needs_step_up = True
        b.reason(
            ReasonCode.STEP_UP_REQUIRED,
            RuleId.STEP_UP_MAX_AGE,
            "verify a second factor again to continue",
            action=action,
            max_age=max_age,
            last_verified_at=last,
        )
        b.obligation(
            Obligation(kind=ObligationKind.STEP_UP, max_age_seconds=int(max_age.total_seconds()))
        )
        return
    b.next_at(last + max_age)
    if explain:
        b.reason(
            ReasonCode.RECENTLY_VERIFIED,
            RuleId.STEP_UP_MAX_AGE,
            "the last second-factor check is recent enough",
            action=action,
            required=True,
            valid_until=last + max_age,
        )


def check_actor(b: Builder, policy: OrgPolicy, actor: Principal, now: datetime) -> bool:
    """The actor must be an active, unlocked owner (or hold the permission) and have MFA."""
    ok = True
    if (
        actor.status is not _ACTIVE
        or lock_active(policy, actor, now)
        or not (actor.kind is _OWNER or policy.manage_permission in actor.permissions)
    ):
        b.deny(
            ReasonCode.ACTOR_NOT_AUTHORIZED,
            RuleId.ACTOR_AUTHORIZED,
            "only an active owner or a holder of the management permission may do this",
            permission=policy.manage_permission,
        )
        ok = False
    if len(qualifying(policy, actor.kind, actor.methods)) < policy.min_methods:
        b.deny(
            ReasonCode.ACTOR_LACKS_MFA,
            RuleId.ACTOR_HAS_MFA,
            "set up multi-factor authentication on your own account first",
        )
        ok = False
    return ok


def enroll_kinds(policy: OrgPolicy, kind: PrincipalKind) -> tuple[MethodKind, ...]:
    """The method kinds that count for a principal kind, in a stable order."""
    return tuple(sorted(policy.qualifying_kinds(kind)))
