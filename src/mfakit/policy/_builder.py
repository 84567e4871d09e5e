"""Building decisions: the collector the rules write into, and the checks shared by entry points."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from mfakit.errors import ConfigurationError
from mfakit.policy._codes import ReasonCode, RuleId
from mfakit.policy._config import OrgPolicy
from mfakit.policy._core import enroll_kinds, lock_active, qualifying
from mfakit.policy._decision import (
    AuditAction,
    AuditEvent,
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
)
from mfakit.policy._facts import (
    Principal,
    PrincipalKind,
    PrincipalStatus,
)

_ACTIVE = PrincipalStatus.ACTIVE
_OWNER = PrincipalKind.OWNER


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


def step_up_due(
    policy: OrgPolicy,
    action: str,
    last_mfa_at: datetime | None,
    now: datetime,
    *,
    max_age: timedelta | None = None,
) -> tuple[bool, timedelta]:
    """Whether ``action`` needs a fresh second factor now, and the maximum age in play.

    A step-up is needed when the action requires one (:meth:`OrgPolicy.requires_step_up`,
    or any action when the caller gives ``max_age``) and the last check is
    stale: missing, in the future (clock skew is not trusted), or
    ``now - last_mfa_at >= age``. The age is the policy's for the action
    (:meth:`OrgPolicy.step_up_max_age_for`), or the stricter of it and
    ``max_age``.
    """
    age = policy.step_up_max_age_for(action)
    if max_age is not None:
        age = min(age, max_age)
    if max_age is None and not policy.requires_step_up(action):
        return False, age
    stale = last_mfa_at is None or last_mfa_at > now or now - last_mfa_at >= age
    return stale, age


def check_step_up(
    b: Builder,
    policy: OrgPolicy,
    actor: Principal,
    action: str,
    now: datetime,
    *,
    explain: bool = False,
    max_age: timedelta | None = None,
) -> None:
    """Require a fresh second factor when the action is sensitive and the last check is stale.

    See :func:`step_up_due`: ``max_age`` (the caller's own limit) makes any
    action require a step-up, at the stricter of it and the policy's age.
    """
    due, age = step_up_due(policy, action, actor.last_mfa_at, now, max_age=max_age)
    if max_age is None and not policy.requires_step_up(action):
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
    if due:
        b.needs_step_up = True
        b.reason(
            ReasonCode.STEP_UP_REQUIRED,
            RuleId.STEP_UP_MAX_AGE,
            "verify a second factor again to continue",
            action=action,
            max_age=age,
            last_verified_at=last,
        )
        b.obligation(
            Obligation(kind=ObligationKind.STEP_UP, max_age_seconds=int(age.total_seconds()))
        )
        return
    assert last is not None  # noqa: S101 - a fresh check has a time
    b.next_at(last + age)
    if explain:
        b.reason(
            ReasonCode.RECENTLY_VERIFIED,
            RuleId.STEP_UP_MAX_AGE,
            "the last second-factor check is recent enough",
            action=action,
            required=True,
            valid_until=last + age,
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


def enroll_by(b: Builder, policy: OrgPolicy, kind: PrincipalKind, deadline: datetime) -> None:
    """Add an ``ENROLL_BY`` obligation (kept only when the action is allowed)."""
    b.obligation(
        Obligation(
            kind=ObligationKind.ENROLL_BY,
            deadline=deadline,
            method_kinds=enroll_kinds(policy, kind),
        ),
        always=False,
    )
