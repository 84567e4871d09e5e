"""Emailed one-time login codes: policy, records, generation and verification."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from mfakit.clock import ensure_aware
from mfakit.errors import (
    AttemptsExhaustedError,
    ConfigurationError,
    ExpiredCodeError,
    InvalidCodeError,
    MalformedDataError,
    ReplayedCodeError,
    ThrottledError,
)

__all__ = [
    "DEFAULT_POLICY",
    "MIN_KEY_LENGTH",
    "IssuedLoginCode",
    "LoginCodePolicy",
    "LoginCodeRecord",
    "count_attempt",
    "generate_login_code",
    "verify_login_code",
]

#: Shortest server-side HMAC key accepted, in bytes (32 random bytes are recommended).
MIN_KEY_LENGTH = 16
_MIN_DIGITS, _MAX_DIGITS = 6, 10
_MAX_ATTEMPTS = 100
_MAX_TTL = timedelta(days=1)
_MAX_CONTEXT_LENGTH = 1024
_MAX_INPUT_LENGTH = 64
_DIGEST_SIZE = hashlib.sha256().digest_size
_DOMAIN = b"mfakit.login_codes.v1\x00"
_DIGITS = frozenset("0123456789")
_SEPARATORS = frozenset(" -\t\u00a0")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if not _int_in(value, low, high):
        raise ConfigurationError(f"{name} must be an integer from {low} to {high}")


def _int_in(value: object, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginCodePolicy:
    """How login codes are made and how long they live.

    Args:
        digits: Code length, 6 to 10 digits.
        ttl: Lifetime of a code, more than zero and at most one day. A code is
            expired from ``issued_at + ttl`` on (that instant included).
        max_attempts: Tries allowed per code, 1 to 100; then the code is dead.
        resend_cooldown: Minimum time between two codes for the same identity,
            from zero to ``ttl``.

    Raises:
        ConfigurationError: a field is out of range (the message names it).
    """

    digits: int = 6
    ttl: timedelta = timedelta(minutes=10)
    max_attempts: int = 5
    resend_cooldown: timedelta = timedelta(seconds=60)

    def __post_init__(self) -> None:
        _check_int("digits", self.digits, _MIN_DIGITS, _MAX_DIGITS)
        _check_int("max_attempts", self.max_attempts, 1, _MAX_ATTEMPTS)
        if not isinstance(self.ttl, timedelta) or not timedelta(0) < self.ttl <= _MAX_TTL:
            raise ConfigurationError("ttl must be a timedelta above zero and at most one day")
        if not isinstance(self.resend_cooldown, timedelta) or not (
            timedelta(0) <= self.resend_cooldown <= self.ttl
        ):
            raise ConfigurationError("resend_cooldown must be a timedelta from zero to ttl")


#: The defaults: 6 digits, 10 minutes, 5 attempts, 60 seconds between sends.
DEFAULT_POLICY = LoginCodePolicy()


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginCodeRecord:
    """The stored state of one login code. Holds a keyed hash, never the code.

    Args:
        digest: HMAC-SHA256 of the code under the server key, bound to the context.
        digits: The code's length.
        issued_at: When the code was made (aware).
        expires_at: First instant at which the code is expired (aware).
        max_attempts: Tries allowed for this code.
        attempts: Tries counted so far (each try is counted before it is checked).
        used_at: When the code was accepted, or ``None``.

    Raises:
        MalformedDataError: a field is inconsistent (``field`` names it).
    """

    digest: bytes = field(repr=False)
    digits: int
    issued_at: datetime
    expires_at: datetime
    max_attempts: int
    attempts: int = 0
    used_at: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.digest, bytes) or len(self.digest) != _DIGEST_SIZE:
            raise MalformedDataError("digest must be 32 bytes", field="digest")
        if not _int_in(self.digits, _MIN_DIGITS, _MAX_DIGITS):
            raise MalformedDataError("digits out of range", field="digits")
        if not _int_in(self.max_attempts, 1, _MAX_ATTEMPTS):
            raise MalformedDataError("max_attempts out of range", field="max_attempts")
        if not _int_in(self.attempts, 0, self.max_attempts):
            raise MalformedDataError("attempts out of range", field="attempts")
        for name in ("issued_at", "expires_at", "used_at"):
            value = getattr(self, name)
            if value is None and name == "used_at":
                continue
            if not _aware(value):
                raise MalformedDataError(f"{name} must be an aware datetime", field=name)
        if self.expires_at <= self.issued_at:
            raise MalformedDataError("expires_at must follow issued_at", field="expires_at")

    @property
    def used(self) -> bool:
        """Whether the code has been accepted once already."""
        return self.used_at is not None

    @property
    def attempts_remaining(self) -> int:
        """Tries that may still be counted."""
        return self.max_attempts - self.attempts


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedLoginCode:
    """A freshly generated login code: send :attr:`code`, store :attr:`record`.

    Attributes:
        code: The digits to email. Never shown in ``repr``.
        record: What to store.
    """

    code: str = field(repr=False)
    record: LoginCodeRecord


def generate_login_code(
    *,
    key: bytes,
    context: str,
    now: datetime,
    policy: LoginCodePolicy = DEFAULT_POLICY,
    previous: LoginCodeRecord | None = None,
) -> IssuedLoginCode:
    """Make a new login code for ``context`` and its record.

    Args:
        key: The server-side HMAC key (at least :data:`MIN_KEY_LENGTH` random bytes),
            kept out of the database that holds the records.
        context: What the code is for, e.g. ``"login:<org id>:<username>"``. The
            code only verifies under the same context.
        now: The current time (aware).
        policy: Length, lifetime, attempts and cool-down.
        previous: The last code issued for this context, to enforce the cool-down.

    Raises:
        ThrottledError: ``previous`` was issued less than ``policy.resend_cooldown``
            ago; ``retry_after`` says how many seconds to wait.
        ConfigurationError: an argument is invalid.
    """
    when = _now(now)
    _check_key(key)
    _check_context(context)
    if not isinstance(policy, LoginCodePolicy):
        raise ConfigurationError("policy must be a LoginCodePolicy")
    if previous is not None:
        _check_record(previous)
        ready_at = previous.issued_at + policy.resend_cooldown
        if when < ready_at:
            raise ThrottledError(
                "a code was sent moments ago; wait before asking again",
                retry_after=(ready_at - when).total_seconds(),
            )
    code = str(secrets.randbelow(10**policy.digits)).zfill(policy.digits)
    record = LoginCodeRecord(
        digest=_digest(key, context, code),
        digits=policy.digits,
        issued_at=when,
        expires_at=when + policy.ttl,
        max_attempts=policy.max_attempts,
    )
    return IssuedLoginCode(code=code, record=record)


def count_attempt(record: LoginCodeRecord, *, now: datetime) -> LoginCodeRecord:
    """Charge one try to ``record`` and return the updated record.

    Call this (or the store's atomic equivalent) BEFORE :func:`verify_login_code`
    and persist the result, so that concurrent guesses cannot exceed the limit.

    Raises:
        ReplayedCodeError: the code was already used.
        AttemptsExhaustedError: every try has been spent.
        ExpiredCodeError: ``now`` is at or past ``record.expires_at``.
        ConfigurationError: an argument is invalid.
    """
    when = _now(now)
    _check_record(record)
    _check_usable(record, when, counted=False)
    return replace(record, attempts=record.attempts + 1)


def verify_login_code(
    record: LoginCodeRecord,
    code: object,
    *,
    key: bytes,
    context: str,
    now: datetime,
) -> LoginCodeRecord:
    """Check ``code`` against a record whose try was already counted.

    Args:
        record: The record as returned by :func:`count_attempt` (or by the store's
            atomic attempt counter) for THIS try.
        code: What the user typed; spaces and dashes are ignored. Anything that
            is not the right number of ASCII digits is a wrong code.
        key: The server-side HMAC key the code was issued with.
        context: The context the code was issued for.
        now: The current time (aware).

    Returns:
        The record marked as used at ``now``; the caller consumes it atomically.

    Raises:
        InvalidCodeError: wrong code; ``attempts_remaining`` tells how many tries are left.
        AttemptsExhaustedError: wrong code, and it was the last try.
        ReplayedCodeError: the code was already used.
        ExpiredCodeError: ``now`` is at or past ``record.expires_at``.
        ConfigurationError: an argument is invalid, or the try was not counted
            (``record.attempts`` is zero).
    """
    when = _now(now)
    _check_record(record)
    _check_key(key)
    _check_context(context)
    if record.attempts == 0:
        raise ConfigurationError("count the attempt (count_attempt) before verifying it")
    _check_usable(record, when, counted=True)
    typed = _normalize(code, record.digits)
    # hmac.compare_digest: the time taken does not depend on where the digests differ.
    if typed is None or not hmac.compare_digest(_digest(key, context, typed), record.digest):
        left = record.attempts_remaining
        if left == 0:
            raise AttemptsExhaustedError
        raise InvalidCodeError(attempts_remaining=left)
    return replace(record, used_at=when)


def _check_usable(record: LoginCodeRecord, when: datetime, *, counted: bool) -> None:
    if record.used:
        raise ReplayedCodeError
    # Before counting, a try needs one left; once counted, the count may equal the limit.
    if record.attempts > record.max_attempts - (0 if counted else 1):
        raise AttemptsExhaustedError
    if when >= record.expires_at:
        raise ExpiredCodeError


def _digest(key: bytes, context: str, code: str) -> bytes:
    # Length-prefixing the context keeps (context, code) pairs unambiguous.
    ctx = context.encode("utf-8")
    message = _DOMAIN + len(ctx).to_bytes(4, "big") + ctx + code.encode("ascii")
    return hmac.digest(key, message, "sha256")


def _normalize(code: object, digits: int) -> str | None:
    if not isinstance(code, str) or len(code) > _MAX_INPUT_LENGTH:
        return None
    compact = "".join(ch for ch in code.strip() if ch not in _SEPARATORS)
    if len(compact) != digits or not _DIGITS.issuperset(compact):
        return None
    return compact


def _now(now: datetime) -> datetime:
    return ensure_aware(now)


def _check_key(key: object) -> None:
    if not isinstance(key, bytes) or len(key) < MIN_KEY_LENGTH:
        raise ConfigurationError(f"key must be at least {MIN_KEY_LENGTH} bytes")


def _check_context(context: object) -> None:
    if not isinstance(context, str) or not 0 < len(context) <= _MAX_CONTEXT_LENGTH:
        raise ConfigurationError(
            f"context must be a non-empty string of at most {_MAX_CONTEXT_LENGTH} characters"
        )
    try:
        context.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ConfigurationError("context must be valid text") from exc


def _check_record(record: object) -> None:
    if not isinstance(record, LoginCodeRecord):
        raise ConfigurationError("record must be a LoginCodeRecord")


def _aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None
