"""Helpers shared by the store adapters: time, JSON, validation, cursors."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from mfakit.clock import ensure_aware
from mfakit.errors import ConfigurationError, DuplicateError
from mfakit.repositories import AuditEvent, TrustedBrowser

R = TypeVar("R")

#: Largest page a listing returns, so one call never loads an unbounded set.
MAX_PAGE = 1000
#: Most keys one batched throttle call takes (one statement, one placeholder each).
MAX_KEYS = 1000
#: Most throttle prefixes a member summary listing sums.
MAX_PREFIXES = 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
# Record fields holding JSON-able mappings (see mfakit.repositories).
_JSON_FIELDS = frozenset({"attributes", "context", "details", "policy"})


def check_limit(limit: int) -> int:
    """Validate a page size."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ConfigurationError(f"limit must be an integer from 1 to {MAX_PAGE}")
    return limit


def utc(when: datetime) -> datetime:
    """Return an aware datetime in UTC, truncated to what every store keeps (microseconds)."""
    return ensure_aware(when)


def to_micros(when: datetime) -> int:
    """Encode an aware datetime as integer microseconds since the Unix epoch (exact, sortable)."""
    return (ensure_aware(when) - _EPOCH) // _US


def from_micros(value: int) -> datetime:
    """Decode :func:`to_micros`."""
    # Multiplying the constant is exact and cheaper than timedelta(microseconds=value).
    return _EPOCH + _US * value


def opt_micros(when: datetime | None) -> int | None:
    """:func:`to_micros` that passes ``None`` through."""
    return None if when is None else to_micros(when)


def opt_from_micros(value: int | None) -> datetime | None:
    """:func:`from_micros` that passes ``None`` through."""
    return None if value is None else from_micros(value)


def dump_json(value: Mapping[str, Any]) -> str:
    """Serialize a JSON-able mapping canonically, refusing anything else."""
    if not isinstance(value, Mapping):
        raise ConfigurationError("expected a JSON-able mapping")
    try:
        return json.dumps(dict(value), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError("the mapping is not JSON-serializable") from exc


def load_json(text: str) -> dict[str, Any]:
    """Parse what :func:`dump_json` wrote."""
    if text == "{}":
        return {}  # by far the most common value, and json.loads costs a microsecond
    value: dict[str, Any] = json.loads(text)
    return value


_ALLOWED: dict[str, frozenset[object]] = {
    "state": frozenset({"pending", "active"}),
    "kind": frozenset({"owner", "member", "guest"}),
    "status": frozenset({"active", "locked", "removed"}),
    "lock_reason": frozenset({None, "mfa_deadline", "failed_attempts", "admin"}),
}
# Fields whose allowed values depend on the record (``kind`` of a credential is not
# a principal kind).
_ALLOWED_IN: dict[tuple[str, str], frozenset[object] | None] = {
    ("WebAuthnCredential", "kind"): frozenset({"passkey", "security_key"}),
    ("OutboxMessage", "kind"): None,  # free text
}
_COUNTERS = frozenset({"attempts", "digits", "max_attempts", "period", "sign_count", "version"})
_INT64 = 2**63


def check_int(value: object, what: str) -> int:
    """Refuse anything but an integer that every store can hold (signed 64 bits)."""
    if isinstance(value, bool) or not isinstance(value, int) or not -_INT64 <= value < _INT64:
        raise ConfigurationError(f"{what} must be an integer that fits in 64 bits")
    return value


def check_max_devices(value: object) -> int:
    """Refuse a device limit that is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE:
        raise ConfigurationError(f"max_devices must be an integer from 1 to {MAX_PAGE}")
    return value


def check_bool(value: object, what: str) -> bool:
    """Refuse anything but ``True`` or ``False`` (no truthy stand-ins)."""
    if not isinstance(value, bool):
        raise ConfigurationError(f"{what} must be a bool")
    return value


def check_opt_bool(value: object, what: str) -> bool | None:
    """Refuse anything but ``True``, ``False`` or ``None`` (no truthy stand-ins)."""
    if value is not None and not isinstance(value, bool):
        raise ConfigurationError(f"{what} must be a bool or None")
    return value


#: The longest WebAuthn user handle (WebAuthn L3 §5.4.3).
MAX_USER_HANDLE_BYTES = 64


def check_user_handle(value: object, what: str) -> bytes:
    """Refuse anything but a WebAuthn user handle: bytes, 1 to 64 of them."""
    if not isinstance(value, bytes) or not 1 <= len(value) <= MAX_USER_HANDLE_BYTES:
        raise ConfigurationError(f"{what} must be 1 to {MAX_USER_HANDLE_BYTES} bytes")
    return bytes(value)


def check_record(record: object) -> None:
    """Validate what a record's type annotations cannot enforce, the same way in every store.

    Raises:
        ConfigurationError: a value outside its literal set, a negative or
            oversized counter, or a NUL character in a string (which
            PostgreSQL cannot store).
    """
    kind = type(record).__name__
    for f in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, f.name)
        allowed = (
            _ALLOWED_IN[kind, f.name] if (kind, f.name) in _ALLOWED_IN else _ALLOWED.get(f.name)
        )
        if allowed is not None and value not in allowed:
            raise ConfigurationError(f"{kind}.{f.name} has an unknown value")
        if isinstance(value, str) and "\x00" in value:
            raise ConfigurationError(f"{kind}.{f.name} contains a NUL character")
        if f.name == "user_handle" and value is not None:
            check_user_handle(value, f"{kind}.{f.name}")
        if f.name == "passwordless":
            check_bool(value, f"{kind}.{f.name}")
        if isinstance(value, int) and not isinstance(value, bool):
            check_int(value, f"{kind}.{f.name}")
            if f.name in _COUNTERS and value < 0:
                raise ConfigurationError(f"{kind}.{f.name} must not be negative")


def normalize(record: R) -> R:
    """Return ``record`` with every datetime in UTC and every mapping a JSON copy.

    Raises:
        ConfigurationError: a naive datetime or a mapping that is not JSON-able.
    """
    check_record(record)
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, f.name)
        if isinstance(value, datetime):
            changes[f.name] = utc(value)
        elif f.name in _JSON_FIELDS:
            changes[f.name] = load_json(dump_json(value))
    return dataclasses.replace(record, **changes)  # type: ignore[type-var]


def parse_seq_cursor(after: str | None) -> int:
    """Read a cursor of a listing ordered by an append sequence."""
    if after is None:
        return 0
    if not after.isdecimal():
        raise ConfigurationError("not a cursor of this listing")
    return int(after)


def list_of(values: Collection[str]) -> list[str]:
    """A list of the strings of a collection, refusing a lone string (a common slip)."""
    if isinstance(values, str | bytes):
        raise ConfigurationError("expected a collection of strings, not one string")
    return sorted(values) if isinstance(values, set | frozenset) else list(values)


def check_keys(keys: Sequence[str]) -> list[str]:
    """Validate the keys of a batched call; return them without duplicates, in order."""
    if isinstance(keys, str | bytes):
        raise ConfigurationError("keys must be a sequence of strings, not one string")
    unique = list(dict.fromkeys(keys))
    if len(unique) > MAX_KEYS:
        raise ConfigurationError(f"at most {MAX_KEYS} keys per call")
    if not all(isinstance(k, str) for k in unique):
        raise ConfigurationError("every key must be a string")
    return unique


def check_prefixes(prefixes: Sequence[str]) -> list[str]:
    """Validate the throttle prefixes of a member summary listing; drop duplicates."""
    if isinstance(prefixes, str | bytes):
        raise ConfigurationError("throttle_prefixes must be a sequence of strings")
    unique = list(dict.fromkeys(prefixes))
    if len(unique) > MAX_PREFIXES:
        raise ConfigurationError(f"at most {MAX_PREFIXES} throttle prefixes")
    if not all(isinstance(p, str) for p in unique):
        raise ConfigurationError("every throttle prefix must be a string")
    return unique


def pair_cursor(org_id: str, user_id: str) -> str:
    """The opaque cursor of a listing ordered by ``(org_id, user_id)``."""
    return json.dumps([org_id, user_id], separators=(",", ":"))


def parse_pair_cursor(after: str | None) -> tuple[str, str] | None:
    """Read :func:`pair_cursor`."""
    if after is None:
        return None
    try:
        value = json.loads(after)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError("not a cursor of this listing") from exc
    if not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, str) for v in value):
        raise ConfigurationError("not a cursor of this listing")
    return value[0], value[1]


def check_cooldown(cooldown: timedelta) -> timedelta:
    """Validate a resend cool-down."""
    if not isinstance(cooldown, timedelta) or cooldown < timedelta(0):
        raise ConfigurationError("cooldown must be a timedelta of zero or more")
    return cooldown


def check_lease(lease: timedelta) -> timedelta:
    """Validate an outbox claim's lease."""
    if not isinstance(lease, timedelta) or lease <= timedelta(0):
        raise ConfigurationError("lease must be a positive timedelta")
    return lease


def checked(record: R) -> R:
    """:func:`check_record`, returning the record: what a SQL store does before encoding it."""
    check_record(record)
    return record


def check_events(
    events: Sequence[AuditEvent], prepare: Callable[[AuditEvent], AuditEvent]
) -> list[AuditEvent]:
    """Validate a batch of events; refuse one sharing an id with another.

    Each event goes through ``prepare``, the store's own step for one event
    (:func:`normalize` to keep a copy, :func:`checked` to encode it), so a
    batch is validated as each of its events would be alone.

    Raises:
        ConfigurationError: more than 1000 events, or an invalid one.
        DuplicateError: two events share an id.
    """
    if isinstance(events, AuditEvent):
        raise ConfigurationError("events must be a sequence of AuditEvent")
    records = list(events)
    if not all(isinstance(e, AuditEvent) for e in records):
        raise ConfigurationError("events must be AuditEvent records")
    if len(records) > MAX_KEYS:
        raise ConfigurationError(f"at most {MAX_KEYS} events per call")
    records = [prepare(e) for e in records]
    if len({r.event_id for r in records}) != len(records):
        raise DuplicateError("two events share an id")
    return records


#: The length of a trusted browser's token hash (SHA-256).
TOKEN_HASH_BYTES = 32


def check_trusted_browser(browser: TrustedBrowser) -> TrustedBrowser:
    """Validate a trusted browser record the same way in every store; return it normalized.

    Raises:
        ConfigurationError: not a :class:`~mfakit.repositories.TrustedBrowser`,
            a hash that is not 32 bytes, an expiry not after the creation, or
            what :func:`normalize` refuses.
    """
    if not isinstance(browser, TrustedBrowser):
        raise ConfigurationError("expected a TrustedBrowser")
    if not isinstance(browser.token_hash, bytes) or len(browser.token_hash) != TOKEN_HASH_BYTES:
        raise ConfigurationError("TrustedBrowser.token_hash must be 32 bytes (SHA-256)")
    if browser.label is not None and not isinstance(browser.label, str):
        raise ConfigurationError("TrustedBrowser.label must be a string or None")
    record = normalize(browser)
    if record.expires_at <= record.created_at:
        raise ConfigurationError("TrustedBrowser.expires_at must be after created_at")
    return record
