"""Facts about an organization and its principals, as the service loads them from storage.

Every datetime is validated when the fact is built: a naive datetime raises
:class:`~mfakit.errors.ConfigurationError` and aware ones are normalised to UTC,
so evaluation never meets a value whose meaning depends on the machine.
Enum fields also accept their string values (handy when loading database rows).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from mfakit.clock import ensure_aware
from mfakit.errors import ConfigurationError

_E = TypeVar("_E", bound=enum.Enum)


class PrincipalKind(enum.StrEnum):
    """The role of a principal in the organization."""

    OWNER = "owner"
    MEMBER = "member"
    GUEST = "guest"


class PrincipalStatus(enum.StrEnum):
    """Where a principal stands with the organization."""

    #: Invited but has not joined yet; see :func:`~mfakit.policy.can_accept_invitation`.
    INVITED = "invited"
    #: A member of the organization.
    ACTIVE = "active"
    #: Removed from the organization; never allowed in.
    REMOVED = "removed"


class MethodKind(enum.StrEnum):
    """A kind of second factor."""

    TOTP = "totp"
    #: A discoverable WebAuthn credential (synced or device-bound).
    PASSKEY = "passkey"
    #: A WebAuthn security key used as a second factor.
    SECURITY_KEY = "security_key"
    #: A set of single-use recovery codes.
    BACKUP_CODES = "backup_codes"


class LockReason(enum.StrEnum):
    """Why a principal is locked."""

    #: The MFA enrollment deadline passed (the policy's post-deadline action is ``lock``).
    MFA_DEADLINE = "mfa_deadline"
    #: Too many failed second-factor attempts.
    FAILED_ATTEMPTS = "failed_attempts"
    #: An administrator locked the account.
    ADMIN = "admin"


class GraceKind(enum.StrEnum):
    """Why a grace period runs; it selects the policy's grace duration."""

    #: Enforcement started while the principal had no qualifying method.
    ENFORCEMENT = "enforcement"
    #: The principal joined after enforcement started.
    NEW_MEMBER = "new_member"
    #: The principal removed their last qualifying method.
    LOST_METHOD = "lost_method"
    #: An administrator unlocked the principal and the policy restarts the grace period.
    UNLOCK = "unlock"
    #: The principal's exemption ended.
    EXEMPTION_ENDED = "exemption_ended"


# Each enum's members by value, built once: a dict lookup is several times cheaper
# than ``Enum.__call__``. A StrEnum member hashes and compares as its value, so
# it finds itself.
_BY_VALUE: dict[type[enum.Enum], dict[Any, enum.Enum]] = {
    e: {m.value: m for m in e}
    for e in (PrincipalKind, PrincipalStatus, MethodKind, LockReason, GraceKind)
}


def _coerce(owner: str, name: str, enum_type: type[_E], value: Any) -> _E:
    try:
        member = _BY_VALUE[enum_type].get(value)
    except TypeError:  # unhashable
        member = None
    if member is None:
        raise ConfigurationError(f"{owner}.{name} is not a valid {enum_type.__name__}")
    return member  # type: ignore[return-value]


def _when(owner: str, name: str, value: Any) -> datetime:
    if type(value) is datetime and value.tzinfo is UTC:
        return value  # what ensure_aware returns for it, without two calls
    try:
        return ensure_aware(value)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{owner}.{name} must be a timezone-aware datetime") from exc


def _maybe_when(owner: str, name: str, value: Any) -> datetime | None:
    if value is None or (type(value) is datetime and value.tzinfo is UTC):
        return value
    return _when(owner, name, value)


def _text(owner: str, name: str, value: Any, *, empty: bool = False) -> None:
    if not isinstance(value, str) or (not empty and not value):
        raise ConfigurationError(f"{owner}.{name} must be a non-empty string")


# Frozen dataclasses normalise their own fields once, in __post_init__.
_set = object.__setattr__

# Built once: ``isinstance(value, tuple | list)`` builds the union on every call.
_SEQUENCES = (tuple, list)
_COLLECTIONS = (set, frozenset, tuple, list)


@dataclass(frozen=True, slots=True, kw_only=True)
class Method:
    """A second factor a principal has set up.

    Attributes:
        id: The method's identifier (unique per principal).
        kind: What kind of factor it is.
        created_at: When it was confirmed (or created, for an unconfirmed one).
        label: The name the user gave it ("YubiKey 5", "Phone").
        last_used_at: When it last verified a login, if ever.
        confirmed: ``False`` while set-up is pending (a TOTP secret shown but no
            code entered yet); an unconfirmed method never counts.
    """

    id: str
    kind: MethodKind
    created_at: datetime
    label: str = ""
    last_used_at: datetime | None = None
    confirmed: bool = True

    def __post_init__(self) -> None:
        # Each field is written back only when normalising changed it: most
        # facts arrive normalised already, and a frozen write is not free.
        _text("Method", "id", self.id)
        if (kind := _coerce("Method", "kind", MethodKind, self.kind)) is not self.kind:
            _set(self, "kind", kind)
        if (created := _when("Method", "created_at", self.created_at)) is not self.created_at:
            _set(self, "created_at", created)
        _text("Method", "label", self.label, empty=True)
        used = _maybe_when("Method", "last_used_at", self.last_used_at)
        if used is not self.last_used_at:
            _set(self, "last_used_at", used)
        if not isinstance(self.confirmed, bool):
            raise ConfigurationError("Method.confirmed must be a bool")


@dataclass(frozen=True, slots=True, kw_only=True)
class Exemption:
    """A break-glass exemption from the MFA requirement, valid for a limited time.

    The exemption is in force for ``granted_at <= now < expires_at``, further capped
    by the policy's ``max_exemption``.

    Attributes:
        granted_by: The id of the principal who granted it.
        granted_at: When it starts.
        expires_at: When it ends (exclusive).
        reason: Why it was granted, for the audit trail.
    """

    granted_by: str
    granted_at: datetime
    expires_at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        _text("Exemption", "granted_by", self.granted_by)
        _set(self, "granted_at", _when("Exemption", "granted_at", self.granted_at))
        _set(self, "expires_at", _when("Exemption", "expires_at", self.expires_at))
        _text("Exemption", "reason", self.reason, empty=True)
        if self.expires_at <= self.granted_at:
            raise ConfigurationError("Exemption.expires_at must be after granted_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class Lock:
    """A lock on a principal's access to the organization.

    Attributes:
        reason: Why the principal is locked.
        locked_at: When the lock started.
        locked_by: The administrator's id for an admin lock; ``None`` for automatic locks.
    """

    reason: LockReason
    locked_at: datetime
    locked_by: str | None = None

    def __post_init__(self) -> None:
        _set(self, "reason", _coerce("Lock", "reason", LockReason, self.reason))
        _set(self, "locked_at", _when("Lock", "locked_at", self.locked_at))
        if self.locked_by is not None:
            _text("Lock", "locked_by", self.locked_by)


@dataclass(frozen=True, slots=True, kw_only=True)
class GraceAnchor:
    """The stored start of a grace period; its end is derived from the current policy.

    Attributes:
        kind: Why the grace period runs (selects the duration).
        started_at: When it started.
    """

    kind: GraceKind
    started_at: datetime

    def __post_init__(self) -> None:
        _set(self, "kind", _coerce("GraceAnchor", "kind", GraceKind, self.kind))
        _set(self, "started_at", _when("GraceAnchor", "started_at", self.started_at))


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Everything the policy needs to know about one user of the organization.

    Attributes:
        id: The principal's identifier.
        kind: Owner, member or guest.
        status: Invited, active or removed.
        methods: The second factors set up on the account.
        joined_at: When the principal joined; ``None`` means "before enforcement".
        grace: The stored anchor of a running grace period, if any.
        last_reminder_at: When the last enrollment reminder was sent, if ever.
        exemption: A break-glass exemption, if any.
        lock: The current lock, if any.
        failed_attempts: Consecutive failed second-factor attempts.
        last_mfa_at: When the principal last passed a second-factor check.
        permissions: Permission names held in the organization (e.g. the policy's
            ``manage_permission``).
    """

    id: str
    kind: PrincipalKind = PrincipalKind.MEMBER
    status: PrincipalStatus = PrincipalStatus.ACTIVE
    methods: tuple[Method, ...] = ()
    joined_at: datetime | None = None
    grace: GraceAnchor | None = None
    last_reminder_at: datetime | None = None
    exemption: Exemption | None = None
    lock: Lock | None = None
    failed_attempts: int = 0
    last_mfa_at: datetime | None = None
    permissions: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _text("Principal", "id", self.id)
        if (kind := _coerce("Principal", "kind", PrincipalKind, self.kind)) is not self.kind:
            _set(self, "kind", kind)
        status = _coerce("Principal", "status", PrincipalStatus, self.status)
        if status is not self.status:
            _set(self, "status", status)
        given: Any = self.methods
        if not isinstance(given, _SEQUENCES):
            raise ConfigurationError("Principal.methods must be a tuple of Method objects")
        for m in given:
            if not isinstance(m, Method):
                raise ConfigurationError("Principal.methods must be a tuple of Method objects")
        if len(given) > 1 and len({m.id for m in given}) != len(given):
            raise ConfigurationError("Principal.methods has two methods with the same id")
        if type(given) is not tuple:
            _set(self, "methods", tuple(given))
        joined = _maybe_when("Principal", "joined_at", self.joined_at)
        if joined is not self.joined_at:
            _set(self, "joined_at", joined)
        if self.grace is not None and not isinstance(self.grace, GraceAnchor):
            raise ConfigurationError("Principal.grace must be a GraceAnchor")
        reminded = _maybe_when("Principal", "last_reminder_at", self.last_reminder_at)
        if reminded is not self.last_reminder_at:
            _set(self, "last_reminder_at", reminded)
        if self.exemption is not None and not isinstance(self.exemption, Exemption):
            raise ConfigurationError("Principal.exemption must be an Exemption")
        if self.lock is not None and not isinstance(self.lock, Lock):
            raise ConfigurationError("Principal.lock must be a Lock")
        if (
            isinstance(self.failed_attempts, bool)
            or not isinstance(self.failed_attempts, int)
            or self.failed_attempts < 0
        ):
            raise ConfigurationError("Principal.failed_attempts must be a non-negative int")
        last_mfa = _maybe_when("Principal", "last_mfa_at", self.last_mfa_at)
        if last_mfa is not self.last_mfa_at:
            _set(self, "last_mfa_at", last_mfa)
        held: Any = self.permissions
        if not isinstance(held, _COLLECTIONS):
            raise ConfigurationError("Principal.permissions must be a set of strings")
        for p in held:
            if not isinstance(p, str):
                raise ConfigurationError("Principal.permissions must be a set of strings")
        if type(held) is not frozenset:
            _set(self, "permissions", frozenset(held))


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgState:
    """The organization's enforcement state, as stored.

    Attributes:
        id: The organization's identifier.
        enforced_since: When MFA enforcement was enabled; ``None`` when it is off.
        enforced_by: Who enabled it.
        owner_count: How many active owners the organization has (for the
            sole-owner rule).
    """

    id: str
    enforced_since: datetime | None = None
    enforced_by: str | None = None
    owner_count: int = 1

    def __post_init__(self) -> None:
        _text("OrgState", "id", self.id)
        _set(self, "enforced_since", _maybe_when("OrgState", "enforced_since", self.enforced_since))
        if self.enforced_by is not None:
            _text("OrgState", "enforced_by", self.enforced_by)
        if (
            isinstance(self.owner_count, bool)
            or not isinstance(self.owner_count, int)
            or self.owner_count < 0
        ):
            raise ConfigurationError("OrgState.owner_count must be a non-negative int")

    @property
    def enforced(self) -> bool:
        """Whether MFA is enforced."""
        return self.enforced_since is not None
