"""The organization's MFA policy: one frozen, validated value, and named presets."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any, TypeVar

from mfakit.errors import ConfigurationError
from mfakit.policy._actions import DEFAULT_STEP_UP_ACTIONS, METHOD_CHANGE_ACTIONS, check_action
from mfakit.policy._facts import GraceKind, MethodKind, PrincipalKind
from mfakit.policy._policy_json import policy_from_json, policy_to_json

_E = TypeVar("_E", bound=enum.Enum)

# A year and a day: long enough for any real grace period, short enough to catch
# a duration given in the wrong unit.
_MAX_DURATION = timedelta(days=366)
#: The longest a browser may be trusted to skip the second factor, in days.
MAX_TRUSTED_BROWSER_DAYS = 90


class ActivationMode(enum.StrEnum):
    """What enabling enforcement requires."""

    #: Refused while anyone in scope lacks a qualifying method (the reference console).
    REQUIRE_FULL_COMPLIANCE = "require_full_compliance"
    #: Allowed at once; everyone without a qualifying method gets a grace period.
    START_GRACE = "start_grace"


class PostDeadlineAction(enum.StrEnum):
    """What happens to a principal whose enrollment deadline has passed."""

    #: The principal is locked until an administrator unlocks them.
    LOCK = "lock"
    #: The principal may sign in only to enroll a method (no lock is stored).
    BLOCK = "block"
    #: The principal is removed from the organization (owners are blocked instead).
    REMOVE = "remove"


class LastMethodRemoval(enum.StrEnum):
    """What removing one's last qualifying method does under enforcement."""

    #: Refused: add another method first.
    REFUSE = "refuse"
    #: Allowed; a grace period starts (then the post-deadline action applies).
    GRACE = "grace"
    #: Allowed with a warning; no new grace period starts.
    WARN = "warn"


def _strong_methods() -> Mapping[PrincipalKind, frozenset[MethodKind]]:
    strong = frozenset({MethodKind.TOTP, MethodKind.PASSKEY, MethodKind.SECURITY_KEY})
    return dict.fromkeys(PrincipalKind, strong)


def _coerce(name: str, enum_type: type[_E], value: Any) -> _E:
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(value)
    except ValueError as exc:
        raise ConfigurationError(f"OrgPolicy.{name} is not a valid {enum_type.__name__}") from exc


def _duration(name: str, value: Any, *, positive: bool = False) -> None:
    if not isinstance(value, timedelta):
        raise ConfigurationError(f"OrgPolicy.{name} must be a timedelta")
    if value < timedelta(0) or (positive and value == timedelta(0)):
        raise ConfigurationError(
            f"OrgPolicy.{name} must be {'positive' if positive else 'zero or more'}"
        )
    if value > _MAX_DURATION:
        raise ConfigurationError(f"OrgPolicy.{name} must not exceed 366 days")


def _int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(f"OrgPolicy.{name} must be an int from {low} to {high}")


def _enum_set(name: str, enum_type: type[_E], value: Any) -> frozenset[_E]:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise ConfigurationError(f"OrgPolicy.{name} must be a set of {enum_type.__name__}")
    return frozenset(_coerce(name, enum_type, v) for v in value)


def _action_set(name: str, value: Any) -> frozenset[str]:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise ConfigurationError(f"OrgPolicy.{name} must be a set of action names")
    return frozenset(check_action(v, field=f"OrgPolicy.{name}") for v in value)


def _action_ages(name: str, value: Any) -> Mapping[str, timedelta]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"OrgPolicy.{name} must be a mapping of action to timedelta")
    ages: dict[str, timedelta] = {}
    for action, age in value.items():
        _duration(name, age, positive=True)
        ages[check_action(action, field=f"OrgPolicy.{name}")] = age
    return MappingProxyType(dict(sorted(ages.items())))


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgPolicy:
    """An organization's MFA policy. The defaults are the safe choice for each field.

    Durations are :class:`~datetime.timedelta` objects. A deadline is never stored:
    it is derived at evaluation time from these durations and the principal's
    stored anchors, so shortening a grace period also shortens running ones.

    Attributes:
        activation: What enabling enforcement requires.
        grace_existing: Grace for principals without a method when enforcement
            starts (and after an exemption ends).
        grace_new_member: Grace for a principal who joins after enforcement started.
        grace_lost_method: Grace after removing one's last method (with
            ``last_method_removal=GRACE``).
        grace_after_unlock: Grace given by an admin unlock when
            ``unlock_restarts_grace`` is set.
        unlock_restarts_grace: Whether an admin unlock of a principal without a
            method starts a new grace period.
        eligible_methods: Method kinds that count for each principal kind. Backup
            codes are handled by ``backup_codes_count``, not here.
        min_methods: How many qualifying methods make a principal compliant.
        backup_codes_count: Whether backup codes count as a qualifying method.
        scope: Principal kinds the MFA requirement applies to.
        after_deadline: What happens when a deadline passes.
        last_method_removal: What removing one's last method does under enforcement.
        invitations_require_mfa: Whether an invitee must have MFA to join an
            enforcing organization.
        allow_exemptions: Whether break-glass exemptions are honoured at all.
        max_exemption: Longest an exemption can last, whatever its stored expiry;
            ``None`` for no cap.
        step_up_max_age: How recent the last second-factor check must be for a
            sensitive action (older or equal is stale), unless
            ``step_up_max_ages`` names the action.
        step_up_max_ages: A maximum age per action (any action name, see
            :func:`~mfakit.policy.check_action`), for actions that need a
            fresher (or allow an older) check than ``step_up_max_age``.
        step_up_actions: The actions that require a step-up (action names; the
            default is :data:`~mfakit.policy.DEFAULT_STEP_UP_ACTIONS`). The
            method changes (:data:`~mfakit.policy.METHOD_CHANGE_ACTIONS`)
            require one whether listed or not: see :meth:`requires_step_up`.
        trusted_browser_days: For how many days a browser the user chose to
            trust may skip the second factor at sign-in, 0 (the default:
            trusted browsers are off) to 90.
        passkey_sign_in_satisfies_mfa: Whether a passkey sign-in with user
            verification (a usernameless sign-in: the passkey is something
            the user has, unlocked by something they know or are) satisfies
            the MFA requirement on its own. When False, the user passes a
            second factor after it, as after a password.
        max_failed_attempts: Consecutive failed attempts that lock the principal.
        failed_attempts_lockout: How long a failed-attempts lock lasts; ``None``
            means only an administrator can unlock.
        reminder_offsets: How long before a deadline reminders are due (normalised
            to distinct values, longest first).
        stop_clears_grace: Whether stopping enforcement clears running grace periods
            (otherwise they resume, with their deadlines, if enforcement is enabled
            again under ``START_GRACE``).
        stop_releases_locks: Whether stopping enforcement unlocks principals locked
            by an MFA deadline (other locks stay).
        manage_permission: The permission that lets a non-owner manage enforcement.
    """

    activation: ActivationMode = ActivationMode.REQUIRE_FULL_COMPLIANCE
    grace_existing: timedelta = timedelta(days=7)
    grace_new_member: timedelta = timedelta(days=7)
    grace_lost_method: timedelta = timedelta(days=7)
    grace_after_unlock: timedelta = timedelta(days=1)
    unlock_restarts_grace: bool = True
    eligible_methods: Mapping[PrincipalKind, frozenset[MethodKind]] = field(
        default_factory=_strong_methods
    )
    min_methods: int = 1
    backup_codes_count: bool = False
    scope: frozenset[PrincipalKind] = frozenset(PrincipalKind)
    after_deadline: PostDeadlineAction = PostDeadlineAction.LOCK
    last_method_removal: LastMethodRemoval = LastMethodRemoval.GRACE
    invitations_require_mfa: bool = True
    allow_exemptions: bool = True
    max_exemption: timedelta | None = timedelta(days=90)
    step_up_max_age: timedelta = timedelta(minutes=15)
    step_up_max_ages: Mapping[str, timedelta] = field(default_factory=dict)
    step_up_actions: frozenset[str] = DEFAULT_STEP_UP_ACTIONS
    trusted_browser_days: int = 0
    passkey_sign_in_satisfies_mfa: bool = True
    max_failed_attempts: int = 10
    failed_attempts_lockout: timedelta | None = timedelta(minutes=15)
    reminder_offsets: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=1))
    stop_clears_grace: bool = True
    stop_releases_locks: bool = True
    manage_permission: str = "organization:mfa:manage"
    # Derived once: the kinds that count for each principal kind.
    _qualifying: Mapping[PrincipalKind, frozenset[MethodKind]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "activation", _coerce("activation", ActivationMode, self.activation))
        for name in ("grace_existing", "grace_new_member", "grace_lost_method"):
            _duration(name, getattr(self, name))
        _duration("grace_after_unlock", self.grace_after_unlock)
        _duration("step_up_max_age", self.step_up_max_age, positive=True)
        if self.max_exemption is not None:
            _duration("max_exemption", self.max_exemption, positive=True)
        if self.failed_attempts_lockout is not None:
            _duration("failed_attempts_lockout", self.failed_attempts_lockout, positive=True)
        for name in (
            "unlock_restarts_grace",
            "backup_codes_count",
            "invitations_require_mfa",
            "allow_exemptions",
            "stop_clears_grace",
            "stop_releases_locks",
            "passkey_sign_in_satisfies_mfa",
        ):
            if not isinstance(getattr(self, name), bool):
                raise ConfigurationError(f"OrgPolicy.{name} must be a bool")
        _int("min_methods", self.min_methods, 1, 10)
        _int("max_failed_attempts", self.max_failed_attempts, 1, 1000)
        set_(self, "scope", _enum_set("scope", PrincipalKind, self.scope))
        set_(
            self,
            "after_deadline",
            _coerce("after_deadline", PostDeadlineAction, self.after_deadline),
        )
        set_(
            self,
            "last_method_removal",
            _coerce("last_method_removal", LastMethodRemoval, self.last_method_removal),
        )
        set_(self, "step_up_actions", _action_set("step_up_actions", self.step_up_actions))
        set_(self, "step_up_max_ages", _action_ages("step_up_max_ages", self.step_up_max_ages))
        _int("trusted_browser_days", self.trusted_browser_days, 0, MAX_TRUSTED_BROWSER_DAYS)
        if not isinstance(self.manage_permission, str) or not self.manage_permission:
            raise ConfigurationError("OrgPolicy.manage_permission must be a non-empty string")
        given: Any = self.reminder_offsets
        if isinstance(given, str | bytes) or not hasattr(given, "__iter__"):
            raise ConfigurationError("OrgPolicy.reminder_offsets must be a sequence of timedelta")
        offsets = tuple(given)
        for offset in offsets:
            _duration("reminder_offsets", offset, positive=True)
        set_(self, "reminder_offsets", tuple(sorted(set(offsets), reverse=True)))
        set_(self, "eligible_methods", self._eligible(self.eligible_methods))
        extra = frozenset({MethodKind.BACKUP_CODES}) if self.backup_codes_count else frozenset()
        set_(
            self,
            "_qualifying",
            MappingProxyType({k: v | extra for k, v in self.eligible_methods.items()}),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the policy as JSON-able data (durations in seconds, enums as values).

        Example::

            stored = policy.to_json()  # e.g. in a JSON column
            assert OrgPolicy.from_json(stored) == policy
        """
        return policy_to_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrgPolicy:
        """Rebuild a policy from :meth:`to_json`'s output.

        Absent fields take their defaults (an empty mapping is the default
        policy); unknown keys are ignored, so a policy written by a newer
        mfakit still loads.

        Raises:
            MalformedDataError: ``data`` is not a mapping, or a field has the
                wrong type or a refused value; ``field`` names it.
        """
        policy: OrgPolicy = policy_from_json(cls, data)
        return policy

    def _eligible(self, value: Any) -> Mapping[PrincipalKind, frozenset[MethodKind]]:
        if not isinstance(value, Mapping):
            raise ConfigurationError("OrgPolicy.eligible_methods must be a mapping")
        table: dict[PrincipalKind, frozenset[MethodKind]] = dict.fromkeys(
            PrincipalKind, frozenset()
        )
        for key, kinds in value.items():
            table[_coerce("eligible_methods", PrincipalKind, key)] = _enum_set(
                "eligible_methods", MethodKind, kinds
            ) - {MethodKind.BACKUP_CODES}
        for kind in self.scope:
            if not table[kind] and not self.backup_codes_count:
                raise ConfigurationError(
                    f"OrgPolicy.eligible_methods gives {kind.value} no method kind, "
                    "so nobody of that kind could comply"
                )
        return MappingProxyType(table)

    def requires_step_up(self, action: str) -> bool:
        """Whether ``action`` needs a recent second factor under this policy.

        True for the actions in ``step_up_actions`` and, always, for the
        method changes (:data:`~mfakit.policy.METHOD_CHANGE_ACTIONS`).

        Raises:
            ConfigurationError: ``action`` is not a valid action name.
        """
        action = check_action(action)
        return action in self.step_up_actions or action in METHOD_CHANGE_ACTIONS

    def step_up_max_age_for(self, action: str) -> timedelta:
        """How recent the last second-factor check must be for ``action``.

        Its entry in ``step_up_max_ages``, else ``step_up_max_age``.

        Raises:
            ConfigurationError: ``action`` is not a valid action name.
        """
        return self.step_up_max_ages.get(check_action(action), self.step_up_max_age)

    def qualifying_kinds(self, kind: PrincipalKind) -> frozenset[MethodKind]:
        """Return the method kinds that count towards compliance for a principal kind."""
        return self._qualifying[kind]

    def grace_for(self, kind: GraceKind) -> timedelta:
        """Return the current grace duration for a kind of grace period."""
        if kind is GraceKind.NEW_MEMBER:
            return self.grace_new_member
        if kind is GraceKind.LOST_METHOD:
            return self.grace_lost_method
        if kind is GraceKind.UNLOCK:
            return self.grace_after_unlock
        return self.grace_existing


def reference_console() -> OrgPolicy:
    """The reference cloud console's organization MFA rules.

    * Enforcement can be enabled only when every user already has MFA; otherwise
      the owner sends reminders.
    * Passkeys and security keys for owners only; TOTP for everyone.
    * A member who deletes their only method has a grace period, then is locked.
    * Invitees must set up MFA before joining.
    """
    owner = frozenset({MethodKind.TOTP, MethodKind.PASSKEY, MethodKind.SECURITY_KEY})
    totp = frozenset({MethodKind.TOTP})
    return OrgPolicy(
        activation=ActivationMode.REQUIRE_FULL_COMPLIANCE,
        eligible_methods={
            PrincipalKind.OWNER: owner,
            PrincipalKind.MEMBER: totp,
            PrincipalKind.GUEST: totp,
        },
        after_deadline=PostDeadlineAction.LOCK,
        last_method_removal=LastMethodRemoval.GRACE,
        grace_lost_method=timedelta(days=7),
        invitations_require_mfa=True,
    )


def remove_noncompliant() -> OrgPolicy:
    """Members who miss the deadline are removed from the organization instead of locked.

    Enforcement starts at once with a 7-day grace period for everyone without a
    method; removing one's last method is refused. Owners are never removed: an
    overdue owner can sign in only to enroll.
    """
    return OrgPolicy(
        activation=ActivationMode.START_GRACE,
        grace_existing=timedelta(days=7),
        after_deadline=PostDeadlineAction.REMOVE,
        last_method_removal=LastMethodRemoval.REFUSE,
    )


def gradual_rollout() -> OrgPolicy:
    """Enforcement starts a grace period for everyone; overdue users must enroll to sign in.

    A 14-day grace period starts at enforcement for everyone without a method,
    new members join without MFA and get 7 days, and after a deadline a principal
    can sign in only to set up a method (nobody is locked).
    """
    return OrgPolicy(
        activation=ActivationMode.START_GRACE,
        grace_existing=timedelta(days=14),
        grace_new_member=timedelta(days=7),
        grace_lost_method=timedelta(days=3),
        after_deadline=PostDeadlineAction.BLOCK,
        invitations_require_mfa=False,
        reminder_offsets=(timedelta(days=7), timedelta(days=3), timedelta(days=1)),
    )
