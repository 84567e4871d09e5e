"""Time, in one place: the only module of mfakit that reads the current time.

The pure core (:mod:`mfakit.otp`, :mod:`mfakit.webauthn`, :mod:`mfakit.policy`, ...)
takes ``now`` as an argument; the service layer asks a :class:`Clock`. Tests use
:class:`FrozenClock` and advance it instead of sleeping.

All datetimes are timezone-aware and in UTC. A naive datetime is refused with a
:class:`~mfakit.errors.ConfigurationError`, because its meaning depends on the
machine it runs on.

Example::

    from datetime import timedelta
    from mfakit.clock import FrozenClock

    clock = FrozenClock.at("2026-01-01T00:00:00Z")
    clock.advance(timedelta(seconds=30))
    assert clock.now().second == 30
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from mfakit.errors import ConfigurationError

__all__ = ["Clock", "FrozenClock", "SystemClock", "ensure_aware", "to_timestamp"]


@runtime_checkable
class Clock(Protocol):
    """Something that tells the current time as an aware UTC ``datetime``."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock (``time.time``), in UTC."""

    __slots__ = ()

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        return datetime.fromtimestamp(time.time(), tz=UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FrozenClock:
    """A clock that stands still until told to move. Thread-safe.

    Args:
        start: The initial time (aware). Defaults to 2026-01-01T00:00:00Z.
    """

    __slots__ = ("_lock", "_now")

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._now = ensure_aware(start) if start is not None else datetime(2026, 1, 1, tzinfo=UTC)

    @classmethod
    def at(cls, when: datetime | str | float) -> FrozenClock:
        """Build a clock frozen at an aware datetime, an ISO 8601 string or a Unix time.

        Raises:
            ConfigurationError: the time is naive or cannot be read.
        """
        if isinstance(when, datetime):
            return cls(when)
        if isinstance(when, str):
            try:
                parsed = datetime.fromisoformat(when)
            except ValueError as exc:
                raise ConfigurationError("not an ISO 8601 time") from exc
            return cls(parsed)
        if isinstance(when, bool) or not isinstance(when, int | float):
            raise ConfigurationError("a time must be a datetime, an ISO 8601 string or a number")
        return cls(datetime.fromtimestamp(when, tz=UTC))

    def now(self) -> datetime:
        """Return the frozen time."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        """Move the clock forward by ``delta`` (a timedelta or seconds) and return the new time.

        Raises:
            ConfigurationError: ``delta`` is negative (use :meth:`set` to go back on purpose).
        """
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ConfigurationError("a clock only advances; use set() to move it back")
        with self._lock:
            self._now += step
            return self._now

    def set(self, when: datetime) -> None:
        """Put the clock at ``when`` (aware), forwards or backwards."""
        aware = ensure_aware(when)
        with self._lock:
            self._now = aware

    def __repr__(self) -> str:
        return f"FrozenClock({self.now().isoformat()!r})"


def ensure_aware(when: datetime) -> datetime:
    """Return ``when`` converted to UTC, refusing naive datetimes.

    Raises:
        ConfigurationError: ``when`` has no timezone.
    """
    if not isinstance(when, datetime):
        raise ConfigurationError("expected a datetime")
    if when.tzinfo is UTC:
        return when  # what astimezone(UTC) returns for it, without the offset call
    if when.tzinfo is None or when.tzinfo.utcoffset(when) is None:
        raise ConfigurationError("naive datetimes are ambiguous; pass a timezone-aware datetime")
    return when.astimezone(UTC)


def to_timestamp(when: datetime | float) -> float:
    """Return a Unix timestamp for an aware datetime or a number of seconds.

    Raises:
        ConfigurationError: a naive datetime, a bool, or another type.
    """
    if isinstance(when, datetime):
        return ensure_aware(when).timestamp()
    if isinstance(when, bool) or not isinstance(when, int | float):
        raise ConfigurationError("a time must be an aware datetime or a number of seconds")
    return float(when)
