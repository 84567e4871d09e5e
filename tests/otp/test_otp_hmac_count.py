"""How many HMACs a verification costs, counted by wrapping the prepared hash states."""

from __future__ import annotations

from typing import Any

import pytest

from mfakit.otp import HOTP, TOTP

SECRET = bytes(range(40, 60))
NOW = 1_800_000_000


class CountingState:
    """Stands in for a prepared HMAC pad state; each HMAC copies it exactly once."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.copies = 0

    def copy(self) -> Any:
        self.copies += 1
        return self.real.copy()


def _instrument(otp: TOTP | HOTP) -> tuple[CountingState, CountingState]:
    inner = CountingState(otp._inner)
    outer = CountingState(otp._outer)
    otp._inner = inner  # type: ignore[assignment]
    otp._outer = outer  # type: ignore[assignment]
    return inner, outer


def _hmacs(inner: CountingState, outer: CountingState) -> int:
    assert inner.copies == outer.copies
    return outer.copies


def _wrong_code(totp: TOTP, window: int) -> str:
    used = {totp.at(NOW + d * totp.period) for d in range(-window, window + 1)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in used)


def test_accepted_current_code_costs_one_hmac() -> None:
    """The current code is tried first and accepted after a single HMAC."""
    totp = TOTP(SECRET)
    code = totp.at(NOW)
    counters = _instrument(totp)
    assert totp.verify(code, for_time=NOW, window=1) == totp.step(NOW)
    assert _hmacs(*counters) == 1


def test_rejected_code_costs_at_most_three_hmacs() -> None:
    """A wrong code with window=1 costs three HMACs (steps -1, 0, +1), no more."""
    totp = TOTP(SECRET)
    wrong = _wrong_code(totp, 1)
    counters = _instrument(totp)
    assert totp.verify(wrong, for_time=NOW, window=1) is None
    assert _hmacs(*counters) == 3


def test_previous_step_costs_two_hmacs() -> None:
    """A code of the previous step is found second: two HMACs."""
    totp = TOTP(SECRET)
    code = totp.at(NOW - 30)
    counters = _instrument(totp)
    assert totp.verify(code, for_time=NOW) == totp.step(NOW) - 1
    assert _hmacs(*counters) == 2


def test_replayed_steps_cost_nothing() -> None:
    """Steps at or below after_step are skipped without computing their HMAC."""
    totp = TOTP(SECRET)
    step, code = totp.step(NOW), totp.at(NOW)
    counters = _instrument(totp)
    assert totp.verify(code, for_time=NOW, after_step=step) is None
    assert _hmacs(*counters) == 1  # only step + 1 was tried


@pytest.mark.parametrize(
    "code", ["", "12345", "abcdef", "1234567", None, 123456, "\uff11\uff12\uff13\uff14\uff15\uff16"]
)
def test_malformed_code_costs_no_hmac(code: object) -> None:
    """Input that cannot be a code is refused before any HMAC."""
    totp = TOTP(SECRET)
    counters = _instrument(totp)
    assert totp.verify(code, for_time=NOW) is None
    assert _hmacs(*counters) == 0


def test_window_bounds_hmac_count() -> None:
    """A rejection costs exactly 2 * window + 1 HMACs."""
    for window in range(4):
        totp = TOTP(SECRET)
        wrong = _wrong_code(totp, window)
        counters = _instrument(totp)
        assert totp.verify(wrong, for_time=NOW, window=window) is None
        assert _hmacs(*counters) == 2 * window + 1


def test_hotp_look_ahead_bounds_hmac_count() -> None:
    """HOTP.verify costs one HMAC per counter tried, look_ahead + 1 at most."""
    hotp = HOTP(SECRET)
    used = {hotp.at(c) for c in range(10, 16)}
    wrong = next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in used)
    counters = _instrument(hotp)
    assert hotp.verify(wrong, counter=10, look_ahead=5) is None
    assert _hmacs(*counters) == 6
