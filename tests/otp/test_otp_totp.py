"""TOTP: time handling, verification order, window, replay protection, input handling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.errors import ConfigurationError
from mfakit.otp import MAX_WINDOW, TOTP

SECRET = b"0123456789abcdefghij"
NOW = 1_750_000_010  # step 58_333_333 with period 30


@pytest.fixture
def totp() -> TOTP:
    """A default TOTP: SHA1, 6 digits, 30 s."""
    return TOTP(SECRET)


def _wrong(totp: TOTP, for_time: int, spread: int) -> str:
    used = {totp.at(for_time + d * totp.period) for d in range(-spread, spread + 1)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in used)


# -- construction -------------------------------------------------------------


def test_defaults(totp: TOTP) -> None:
    """The defaults are those of RFC 6238 and every authenticator app."""
    assert (totp.digits, totp.period, totp.algorithm, totp.t0) == (6, 30, "sha1", 0)
    assert totp.secret == SECRET


@pytest.mark.parametrize("digits", [0, 5, 9, 10, -6, 6.0, "6", True, None])
def test_digits_out_of_range_refused(digits: object) -> None:
    """Only 6, 7 or 8 digits are accepted."""
    with pytest.raises(ConfigurationError):
        TOTP(SECRET, digits=digits)  # type: ignore[arg-type]


@pytest.mark.parametrize("algorithm", ["md5", "sha224", "sha3_256", "", None, 1])
def test_unsupported_algorithm_refused(algorithm: object) -> None:
    """Only SHA1, SHA256 and SHA512 are accepted."""
    with pytest.raises(ConfigurationError):
        TOTP(SECRET, algorithm=algorithm)  # type: ignore[arg-type]


def test_algorithm_name_is_case_insensitive() -> None:
    """'SHA256' and 'sha256' are the same algorithm."""
    assert TOTP(SECRET, algorithm="SHA256").algorithm == "sha256"


@pytest.mark.parametrize("secret", ["GEZDGNBVGY3TQOJQ" * 2, None, 12, b"short", b"", b"x" * 15])
def test_bad_secret_refused(secret: object) -> None:
    """The secret must be bytes of at least 128 bits (RFC 4226 R6); text is refused."""
    with pytest.raises(ConfigurationError):
        TOTP(secret)  # type: ignore[arg-type]


def test_bytearray_secret_is_copied() -> None:
    """A bytearray secret is copied: mutating it later changes nothing."""
    raw = bytearray(SECRET)
    totp = TOTP(raw)
    code = totp.at(NOW)
    raw[0] ^= 1
    assert totp.secret == SECRET
    assert totp.at(NOW) == code


@pytest.mark.parametrize("period", [0, -30, 30.0, "30", True, None])
def test_bad_period_refused(period: object) -> None:
    """The period is a positive int."""
    with pytest.raises(ConfigurationError):
        TOTP(SECRET, period=period)  # type: ignore[arg-type]


@pytest.mark.parametrize("t0", [1.5, "0", None, True])
def test_bad_t0_refused(t0: object) -> None:
    """t0 is an int."""
    with pytest.raises(ConfigurationError):
        TOTP(SECRET, t0=t0)  # type: ignore[arg-type]


def test_repr_hides_secret(totp: TOTP) -> None:
    """The repr shows the parameters, never the secret."""
    text = repr(totp)
    assert text == "TOTP(digits=6, period=30, algorithm='sha1', t0=0)"
    assert "0123456789" not in text


def test_equality_compares_secret_and_parameters() -> None:
    """Two TOTPs are equal when secret and parameters are; hash follows equality."""
    assert TOTP(SECRET) == TOTP(bytes(SECRET))
    assert hash(TOTP(SECRET)) == hash(TOTP(SECRET))
    assert TOTP(SECRET) != TOTP(SECRET[::-1])
    assert TOTP(SECRET) != TOTP(SECRET, period=60)
    assert TOTP(SECRET) != TOTP(SECRET, t0=1)
    assert TOTP(SECRET) != TOTP(SECRET, digits=8)
    assert TOTP(SECRET) != "TOTP"


# -- time -----------------------------------------------------------------------


def test_codes_are_zero_padded() -> None:
    """A code with a leading zero keeps it (RFC 6238 vector 07081804)."""
    totp = TOTP(b"12345678901234567890", digits=8)
    assert totp.at(1111111109) == "07081804"


def test_int_float_and_datetime_agree(totp: TOTP) -> None:
    """Unix seconds as int or float and an aware datetime give the same code."""
    when = datetime.fromtimestamp(NOW, tz=UTC)
    assert totp.at(NOW) == totp.at(float(NOW) + 0.999) == totp.at(when)
    paris = when.astimezone(timezone(timedelta(hours=2)))
    assert totp.at(paris) == totp.at(NOW)


def test_naive_datetime_refused(totp: TOTP) -> None:
    """A naive datetime is ambiguous and refused everywhere a time is taken."""
    naive = datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
    for call in (totp.at, totp.step, totp.remaining):
        with pytest.raises(ConfigurationError):
            call(naive)
    with pytest.raises(ConfigurationError):
        totp.verify("123456", for_time=naive)


@pytest.mark.parametrize("when", [True, "1750000000", None, float("nan"), float("inf"), [1]])
def test_bad_time_refused(totp: TOTP, when: object) -> None:
    """Times that are not finite numbers or datetimes are refused."""
    with pytest.raises(ConfigurationError):
        totp.at(when)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        totp.verify("123456", for_time=when)  # type: ignore[arg-type]


def test_time_before_t0_refused() -> None:
    """A time before t0 has no step."""
    totp = TOTP(SECRET, t0=1000)
    with pytest.raises(ConfigurationError):
        totp.step(999)
    with pytest.raises(ConfigurationError):
        totp.verify("123456", for_time=999)
    assert totp.step(1000) == 0


def test_time_beyond_counter_refused(totp: TOTP) -> None:
    """A step that does not fit the 8-byte counter is refused."""
    with pytest.raises(ConfigurationError):
        totp.at(30 * 2**64)
    with pytest.raises(ConfigurationError):
        totp.verify("123456", for_time=30 * 2**64)


def test_step_boundaries() -> None:
    """The step changes exactly at multiples of the period after t0."""
    totp = TOTP(SECRET, period=45, t0=100)
    assert totp.step(100) == 0
    assert totp.step(144) == 0
    assert totp.step(144.999) == 0
    assert totp.step(145) == 1


def test_t0_shifts_codes() -> None:
    """With t0, the code at t0 + k * period is that of step k."""
    shifted = TOTP(SECRET, t0=1_000_000)
    plain = TOTP(SECRET)
    assert shifted.at(1_000_000 + 95) == plain.at(95)


def test_at_step_matches_at(totp: TOTP) -> None:
    """at_step(step(t)) == at(t); a bad step is refused."""
    assert totp.at_step(totp.step(NOW)) == totp.at(NOW)
    with pytest.raises(ConfigurationError):
        totp.at_step(-1)
    with pytest.raises(ConfigurationError):
        totp.at_step(True)


def test_remaining(totp: TOTP) -> None:
    """remaining() counts down to the next step for numbers and datetimes."""
    start = NOW - NOW % 30
    assert totp.remaining(start) == 30.0
    assert totp.remaining(start + 29.5) == 0.5
    assert totp.remaining(datetime.fromtimestamp(start + 1, tz=UTC)) == 29.0


@settings(max_examples=60)
@given(seconds=st.integers(0, 2**37), micro=st.integers(0, 999_999))
def test_datetime_step_is_exact(seconds: int, micro: int) -> None:
    """Datetimes are converted exactly (no float rounding at step boundaries)."""
    totp = TOTP(SECRET, period=7)
    when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds, microseconds=micro)
    assert totp.step(when) == seconds // 7


# -- verify -----------------------------------------------------------------------


def test_verify_returns_current_step(totp: TOTP) -> None:
    """The current code matches and the current step is returned."""
    assert totp.verify(totp.at(NOW), for_time=NOW) == NOW // 30


def test_verify_accepts_spaces(totp: TOTP) -> None:
    """Spaces (as apps display '123 456') and surrounding whitespace are ignored."""
    code = totp.at(NOW)
    assert totp.verify(f" {code[:3]} {code[3:]}\n", for_time=NOW) == NOW // 30
    assert totp.verify(f"{code[:3]}\t{code[3:]}", for_time=NOW) == NOW // 30


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c[:-1],
        lambda c: c + "0",
        lambda c: c[:3] + "-" + c[3:],
        lambda c: "".join(chr(ord(d) - 0x30 + 0xFF10) for d in c),  # fullwidth digits
        lambda c: "".join(chr(ord(d) - 0x30 + 0x0660) for d in c),  # Arabic-Indic digits
        lambda c: c.encode(),
        int,
        lambda c: None,
        lambda c: [c],
        lambda c: c + " " * 100,
        lambda c: "+" + c[1:],
    ],
)
def test_verify_malformed_input_is_none(totp: TOTP, mutate: object) -> None:
    """Anything that is not exactly the right number of ASCII digits is no match."""
    code = totp.at(NOW)
    assert totp.verify(mutate(code), for_time=NOW) is None  # type: ignore[operator]


@settings(max_examples=200)
@given(code=st.one_of(st.text(max_size=20), st.binary(max_size=10), st.integers(), st.none()))
def test_verify_never_raises_on_any_input(code: object) -> None:
    """Whatever the user types, verify returns a step or None, never raises."""
    totp = TOTP(SECRET)
    result = totp.verify(code, for_time=NOW)
    assert result is None or result in (NOW // 30 - 1, NOW // 30, NOW // 30 + 1)


class _Recorder:
    """Wraps the inner pad state and records the counter each HMAC is fed."""

    def __init__(self, real: Any, seen: list[int]) -> None:
        self.real = real
        self.seen = seen

    def copy(self) -> _Recorder:
        return _Recorder(self.real.copy(), self.seen)

    def update(self, message: bytes) -> None:
        self.seen.append(int.from_bytes(message, "big"))
        self.real.update(message)

    def digest(self) -> bytes:
        return bytes(self.real.digest())


def _tried_steps(totp: TOTP, code: str, **kwargs: Any) -> tuple[int | None, list[int]]:
    seen: list[int] = []
    totp._inner = _Recorder(totp._inner, seen)  # type: ignore[assignment]
    return totp.verify(code, **kwargs), seen


def test_verify_order_is_current_then_nearest_past_first(totp: TOTP) -> None:
    """Steps are tried as current, -1, +1, -2, +2, ... (RFC 6238 section 5.2 favours the past)."""
    step = NOW // 30
    result, seen = _tried_steps(totp, _wrong(totp, NOW, 2), for_time=NOW, window=2)
    assert result is None
    assert seen == [step, step - 1, step + 1, step - 2, step + 2]


def test_verify_stops_at_first_match(totp: TOTP) -> None:
    """The search stops at the first matching step."""
    step = NOW // 30
    result, seen = _tried_steps(totp, totp.at(NOW + 30), for_time=NOW, window=2)
    assert result == step + 1
    assert seen == [step, step - 1, step + 1]


def test_verify_skips_replayed_steps(totp: TOTP) -> None:
    """Steps at or below after_step are never computed."""
    step = NOW // 30
    result, seen = _tried_steps(totp, _wrong(totp, NOW, 2), for_time=NOW, window=2, after_step=step)
    assert result is None
    assert seen == [step + 1, step + 2]


def test_window_zero_accepts_only_current(totp: TOTP) -> None:
    """window=0 refuses the neighbours' codes."""
    assert totp.verify(totp.at(NOW - 30), for_time=NOW, window=0) is None
    assert totp.verify(totp.at(NOW + 30), for_time=NOW, window=0) is None
    assert totp.verify(totp.at(NOW), for_time=NOW, window=0) == NOW // 30


def test_window_one_accepts_neighbours_only(totp: TOTP) -> None:
    """window=1 accepts steps -1 and +1, not -2 or +2."""
    step = NOW // 30
    assert totp.verify(totp.at(NOW - 30), for_time=NOW) == step - 1
    assert totp.verify(totp.at(NOW + 30), for_time=NOW) == step + 1
    far = {totp.at(NOW + d * 30) for d in (-2, 2)} - {totp.at(NOW + d * 30) for d in (-1, 0, 1)}
    for code in far:
        assert totp.verify(code, for_time=NOW) is None


def test_larger_window(totp: TOTP) -> None:
    """window=3 reaches three steps either side."""
    step = NOW // 30
    assert totp.verify(totp.at(NOW - 90), for_time=NOW, window=3) == step - 3
    assert totp.verify(totp.at(NOW + 90), for_time=NOW, window=3) == step + 3


@pytest.mark.parametrize("window", [-1, MAX_WINDOW + 1, 1.0, "1", True, None])
def test_bad_window_refused(totp: TOTP, window: object) -> None:
    """The window is an int from 0 to MAX_WINDOW."""
    with pytest.raises(ConfigurationError):
        totp.verify("123456", for_time=NOW, window=window)  # type: ignore[arg-type]


@pytest.mark.parametrize("after_step", [1.0, "5", True])
def test_bad_after_step_refused(totp: TOTP, after_step: object) -> None:
    """after_step is an int or None."""
    with pytest.raises(ConfigurationError):
        totp.verify("123456", for_time=NOW, after_step=after_step)  # type: ignore[arg-type]


def test_window_at_step_zero_skips_negative_steps() -> None:
    """At step 0 the previous step does not exist and is skipped, not an error."""
    totp = TOTP(SECRET)
    assert totp.verify(totp.at(5), for_time=5) == 0
    assert totp.verify(totp.at(35), for_time=5) == 1


# -- replay (after_step) --------------------------------------------------------------


def test_replay_of_same_code_refused(totp: TOTP) -> None:
    """A code accepted once is refused when its step is passed back as after_step."""
    code = totp.at(NOW)
    step = totp.verify(code, for_time=NOW)
    assert step is not None
    assert totp.verify(code, for_time=NOW, after_step=step) is None
    assert totp.verify(code, for_time=NOW + 20, after_step=step) is None  # still in window


def test_replay_of_older_code_refused(totp: TOTP) -> None:
    """After accepting step s, the code of step s - 1 (still in window) is refused."""
    step = totp.verify(totp.at(NOW), for_time=NOW)
    assert step is not None
    assert totp.verify(totp.at(NOW - 30), for_time=NOW, after_step=step) is None


def test_future_code_then_current_refused(totp: TOTP) -> None:
    """Accepting a +1 code moves the floor: the current code is then refused."""
    step = totp.verify(totp.at(NOW + 30), for_time=NOW)
    assert step == NOW // 30 + 1
    assert totp.verify(totp.at(NOW), for_time=NOW, after_step=step) is None


def test_next_code_accepted_after_replay_floor(totp: TOTP) -> None:
    """A fresh code of a later step is still accepted after after_step."""
    step = NOW // 30
    assert totp.verify(totp.at(NOW + 30), for_time=NOW + 30, after_step=step) == step + 1


def test_after_step_in_future_blocks_everything(totp: TOTP) -> None:
    """An after_step ahead of the window blocks every code in it."""
    for d in (-1, 0, 1):
        assert totp.verify(totp.at(NOW + 30 * d), for_time=NOW, after_step=NOW // 30 + 1) is None


@settings(max_examples=60)
@given(offset=st.integers(-3, 3), floor_delta=st.integers(-3, 3), window=st.integers(0, 3))
def test_replay_and_window_model(offset: int, floor_delta: int, window: int) -> None:
    """verify agrees with the specification: |offset| <= window and step > after_step."""
    totp = TOTP(SECRET)
    step = NOW // 30
    target = step + offset
    after = step + floor_delta
    code = totp.at_step(target)
    # Every step that could match (in the window, above the floor), current first.
    order = [0, *[o for d in range(1, window + 1) for o in (-d, d)]]
    allowed = [step + o for o in order if step + o > after]
    expected = next((s for s in allowed if totp.at_step(s) == code), None)
    assert totp.verify(code, for_time=NOW, window=window, after_step=after) == expected
    if abs(offset) <= window and target > after:
        assert expected is not None


def test_uri_refuses_t0() -> None:
    """A TOTP with t0 != 0 cannot be expressed as an otpauth URI."""
    with pytest.raises(ConfigurationError):
        TOTP(SECRET, t0=5).uri(account_name="a", issuer="b")
