"""mfakit.clock: the only place that reads time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mfakit.clock import Clock, FrozenClock, SystemClock, ensure_aware, to_timestamp
from mfakit.errors import ConfigurationError


def test_system_clock_is_aware_utc() -> None:
    """SystemClock returns an aware UTC datetime close to time.time()."""
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert abs(now.timestamp() - datetime.now(UTC).timestamp()) < 5
    assert repr(SystemClock()) == "SystemClock()"


def test_clocks_satisfy_protocol() -> None:
    """Both clocks are Clocks."""
    assert isinstance(SystemClock(), Clock)
    assert isinstance(FrozenClock(), Clock)


def test_frozen_clock_stands_still_and_advances() -> None:
    """FrozenClock only moves when told."""
    clock = FrozenClock.at("2026-03-01T12:00:00+00:00")
    first = clock.now()
    assert clock.now() == first
    assert clock.advance(30) == first + timedelta(seconds=30)
    assert clock.advance(timedelta(minutes=1)) == first + timedelta(seconds=90)
    assert "2026-03-01T12:01:30" in repr(clock)


def test_frozen_clock_default_start() -> None:
    """The default start is a fixed, aware instant."""
    assert FrozenClock().now() == datetime(2026, 1, 1, tzinfo=UTC)


def test_frozen_clock_from_number_and_datetime() -> None:
    """A Unix time or an aware datetime both work, converted to UTC."""
    assert FrozenClock.at(59).now() == datetime(1970, 1, 1, 0, 0, 59, tzinfo=UTC)
    paris = timezone(timedelta(hours=1))
    clock = FrozenClock.at(datetime(2026, 1, 1, 1, 0, tzinfo=paris))
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


@pytest.mark.parametrize("bad", ["yesterday", True, None, [1]])
def test_frozen_clock_rejects_bad_start(bad: object) -> None:
    """Unreadable start times are configuration errors."""
    with pytest.raises(ConfigurationError):
        FrozenClock.at(bad)  # type: ignore[arg-type]


def test_frozen_clock_rejects_naive() -> None:
    """A naive start time is refused."""
    with pytest.raises(ConfigurationError):
        FrozenClock(datetime(2026, 1, 1))  # noqa: DTZ001


def test_frozen_clock_never_goes_back_by_advance() -> None:
    """advance() refuses negative steps; set() moves anywhere."""
    clock = FrozenClock()
    with pytest.raises(ConfigurationError):
        clock.advance(-1)
    earlier = datetime(2020, 1, 1, tzinfo=UTC)
    clock.set(earlier)
    assert clock.now() == earlier


def test_frozen_clock_is_thread_safe() -> None:
    """Concurrent advances are never lost."""
    clock = FrozenClock()
    start = clock.now()

    def work() -> None:
        for _ in range(1000):
            clock.advance(1)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.now() - start == timedelta(seconds=8000)


def test_ensure_aware() -> None:
    """ensure_aware converts to UTC and refuses naive or non-datetimes."""
    plus2 = timezone(timedelta(hours=2))
    assert ensure_aware(datetime(2026, 1, 1, 2, tzinfo=plus2)) == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ConfigurationError):
        ensure_aware(datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ConfigurationError):
        ensure_aware("2026")  # type: ignore[arg-type]


def test_to_timestamp() -> None:
    """to_timestamp accepts numbers and aware datetimes only."""
    assert to_timestamp(59) == 59.0
    assert to_timestamp(1.5) == 1.5
    assert to_timestamp(datetime(1970, 1, 1, 0, 1, tzinfo=UTC)) == 60.0
    for bad in (True, "59", None):
        with pytest.raises(ConfigurationError):
            to_timestamp(bad)  # type: ignore[arg-type]
