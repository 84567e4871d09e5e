"""mfakit.login_codes: emailed one-time login codes."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit import login_codes
from mfakit.errors import (
    AttemptsExhaustedError,
    ConfigurationError,
    ExpiredCodeError,
    InvalidCodeError,
    MalformedDataError,
    ReplayedCodeError,
    ThrottledError,
)
from mfakit.login_codes import IssuedLoginCode, LoginCodePolicy, LoginCodeRecord

KEY = bytes(range(32))
ALICE = "login:org-1:alice"
BOB = "login:org-1:bob"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def issue(context: str = ALICE, **kwargs: object) -> IssuedLoginCode:
    """Issue a code for ``context`` at T0."""
    return login_codes.generate_login_code(key=KEY, context=context, now=T0, **kwargs)  # type: ignore[arg-type]


def attempt(
    record: LoginCodeRecord, code: str, *, now: datetime = T0, context: str = ALICE
) -> LoginCodeRecord:
    """Count a try, then check it, as the service does."""
    counted = login_codes.count_attempt(record, now=now)
    return login_codes.verify_login_code(counted, code, key=KEY, context=context, now=now)


def wrong(code: str) -> str:
    """A different code of the same length."""
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def test_public_names_are_pinned() -> None:
    """The exact public surface of mfakit.login_codes."""
    assert login_codes.__all__ == [
        "DEFAULT_POLICY",
        "IssuedLoginCode",
        "LoginCodePolicy",
        "LoginCodeRecord",
        "MIN_KEY_LENGTH",
        "count_attempt",
        "generate_login_code",
        "verify_login_code",
    ]


def test_default_policy() -> None:
    """Defaults: 6 digits, 10 minutes, 5 tries, 60 seconds between sends."""
    policy = login_codes.DEFAULT_POLICY
    assert policy == LoginCodePolicy()
    assert policy.digits == 6
    assert policy.ttl == timedelta(minutes=10)
    assert policy.max_attempts == 5
    assert policy.resend_cooldown == timedelta(seconds=60)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("digits", 5),
        ("digits", 11),
        ("digits", True),
        ("digits", "6"),
        ("max_attempts", 0),
        ("max_attempts", 101),
        ("ttl", timedelta(0)),
        ("ttl", timedelta(days=2)),
        ("ttl", 600),
        ("resend_cooldown", timedelta(seconds=-1)),
        ("resend_cooldown", timedelta(minutes=11)),
        ("resend_cooldown", 60),
    ],
)
def test_bad_policy_names_the_field(field: str, value: object) -> None:
    """An invalid policy field is a ConfigurationError whose message names the field."""
    with pytest.raises(ConfigurationError, match=field):
        LoginCodePolicy(**{field: value})  # type: ignore[arg-type]


def test_generated_code_shape_and_record() -> None:
    """A code is 6 digits; the record holds expiry, limits and no code."""
    issued = issue()
    assert len(issued.code) == 6
    assert issued.code.isascii()
    assert issued.code.isdigit()
    record = issued.record
    assert record.issued_at == T0
    assert record.expires_at == T0 + timedelta(minutes=10)
    assert (record.attempts, record.max_attempts, record.used_at) == (0, 5, None)
    assert record.attempts_remaining == 5
    assert issued.code not in repr(issued)


@pytest.mark.parametrize("digits", [6, 8, 10])
def test_length_follows_the_policy(digits: int) -> None:
    """The code has the policy's number of digits and verifies."""
    issued = issue(policy=LoginCodePolicy(digits=digits))
    assert len(issued.code) == digits
    assert attempt(issued.record, issued.code).used


def test_leading_zeros_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small random number is zero-padded to the full length."""
    monkeypatch.setattr(login_codes._login_codes.secrets, "randbelow", lambda _n: 42)
    issued = issue()
    assert issued.code == "000042"
    assert attempt(issued.record, "000042").used


def test_digest_is_keyed_not_plain() -> None:
    """The stored digest is not the code, nor an unkeyed hash of it, and depends on the key."""
    issued = issue()
    digest = issued.record.digest
    code = issued.code.encode()
    assert code not in digest
    assert issued.code not in digest.hex()
    assert digest != hashlib.sha256(code).digest()
    assert digest != hmac.digest(b"", code, "sha256")
    other = login_codes.generate_login_code(key=b"k" * 32, context=ALICE, now=T0)
    assert other.record.digest != hmac.digest(KEY, other.code.encode(), "sha256")
    assert digest not in repr(issued.record).encode()


def test_digest_is_hmac_sha256_of_context_and_code() -> None:
    """Recomputed independently: HMAC-SHA256 under the key over domain, context and code."""
    issued = issue()
    ctx = ALICE.encode()
    message = b"mfakit.login_codes.v1\x00" + len(ctx).to_bytes(4, "big") + ctx
    expected = hmac.new(KEY, message + issued.code.encode(), hashlib.sha256).digest()
    assert issued.record.digest == expected
    unkeyed = hashlib.sha256(message + issued.code.encode()).digest()
    assert issued.record.digest != unkeyed


def test_right_code_is_accepted_and_consumed() -> None:
    """The right code returns the record marked used at now, with the try counted."""
    issued = issue()
    later = T0 + timedelta(minutes=3)
    used = attempt(issued.record, issued.code, now=later)
    assert used.used_at == later
    assert used.used
    assert used.attempts == 1


def test_spaces_and_dashes_are_ignored() -> None:
    """'123 456' and '123-456' are the code 123456."""
    issued = issue()
    typed = f" {issued.code[:3]} - {issued.code[3:]} "
    assert attempt(issued.record, typed).used


def test_wrong_code_reports_attempts_remaining() -> None:
    """A wrong code raises InvalidCodeError with the tries left."""
    issued = issue()
    counted = login_codes.count_attempt(issued.record, now=T0)
    with pytest.raises(InvalidCodeError) as info:
        login_codes.verify_login_code(counted, wrong(issued.code), key=KEY, context=ALICE, now=T0)
    assert type(info.value) is InvalidCodeError
    assert info.value.attempts_remaining == 4


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", None, 123456])
def test_malformed_code_is_a_wrong_code(typed: object) -> None:
    """Anything not made of the right number of ASCII digits is simply a wrong code."""
    issued = issue()
    counted = login_codes.count_attempt(issued.record, now=T0)
    with pytest.raises(InvalidCodeError):
        login_codes.verify_login_code(counted, typed, key=KEY, context=ALICE, now=T0)


def test_five_wrong_tries_kill_the_code() -> None:
    """After five wrong tries the sixth is refused even with the right code."""
    issued = issue()
    record = issued.record
    for n in range(5):
        record = login_codes.count_attempt(record, now=T0)  # persisted before the check
        expected = AttemptsExhaustedError if n == 4 else InvalidCodeError
        with pytest.raises(expected):
            login_codes.verify_login_code(
                record, wrong(issued.code), key=KEY, context=ALICE, now=T0
            )
    assert record.attempts == 5
    with pytest.raises(AttemptsExhaustedError) as info:
        attempt(record, issued.code)
    assert info.value.attempts_remaining == 0


def test_verify_refuses_an_uncounted_try() -> None:
    """Checking a code whose try was not counted first is a ConfigurationError."""
    issued = issue()
    with pytest.raises(ConfigurationError, match="count"):
        login_codes.verify_login_code(issued.record, issued.code, key=KEY, context=ALICE, now=T0)


def test_exactly_at_expiry_is_expired() -> None:
    """A code is valid until just before expires_at; at expires_at it is expired."""
    issued = issue()
    expiry = issued.record.expires_at
    assert attempt(issued.record, issued.code, now=expiry - timedelta(microseconds=1)).used
    with pytest.raises(ExpiredCodeError):
        attempt(issued.record, issued.code, now=expiry)


def test_expiry_is_checked_again_at_verify() -> None:
    """A try counted in time but checked at expiry is expired."""
    issued = issue()
    counted = login_codes.count_attempt(issued.record, now=T0)
    with pytest.raises(ExpiredCodeError):
        login_codes.verify_login_code(
            counted, issued.code, key=KEY, context=ALICE, now=issued.record.expires_at
        )


def test_code_for_another_user_is_refused() -> None:
    """Alice's code does not verify in Bob's context, even with the same key."""
    issued = issue(ALICE)
    with pytest.raises(InvalidCodeError):
        attempt(issued.record, issued.code, context=BOB)


def test_code_under_another_key_is_refused() -> None:
    """A record verified with another server key never matches."""
    issued = issue()
    counted = login_codes.count_attempt(issued.record, now=T0)
    with pytest.raises(InvalidCodeError):
        login_codes.verify_login_code(counted, issued.code, key=b"x" * 32, context=ALICE, now=T0)


def test_replay_is_refused() -> None:
    """A used record refuses both counting and checking, even with the right code."""
    issued = issue()
    used = attempt(issued.record, issued.code)
    with pytest.raises(ReplayedCodeError):
        login_codes.count_attempt(used, now=T0)
    with pytest.raises(ReplayedCodeError):
        login_codes.verify_login_code(used, issued.code, key=KEY, context=ALICE, now=T0)


def test_resend_within_cool_down_is_throttled() -> None:
    """Asking again 59 s later raises ThrottledError with retry_after = 1 s."""
    first = issue()
    with pytest.raises(ThrottledError) as info:
        login_codes.generate_login_code(
            key=KEY, context=ALICE, now=T0 + timedelta(seconds=59), previous=first.record
        )
    assert info.value.retry_after == pytest.approx(1.0)


def test_resend_after_cool_down_is_allowed() -> None:
    """At exactly 60 s a new code is issued."""
    first = issue()
    later = T0 + timedelta(seconds=60)
    second = login_codes.generate_login_code(
        key=KEY, context=ALICE, now=later, previous=first.record
    )
    assert second.record.issued_at == later


def test_zero_cool_down_allows_immediate_resend() -> None:
    """A policy without cool-down never throttles."""
    first = issue()
    policy = LoginCodePolicy(resend_cooldown=timedelta(0))
    assert issue(policy=policy, previous=first.record).record.issued_at == T0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key": b"short"},
        {"key": "a string key of enough length"},
        {"context": ""},
        {"context": "x" * 1025},
        {"context": "\ud800"},
        {"context": b"bytes"},
        {"now": datetime(2026, 1, 1)},  # noqa: DTZ001
        {"policy": {"digits": 6}},
        {"previous": "record"},
    ],
)
def test_bad_generate_arguments(kwargs: dict[str, object]) -> None:
    """Short keys, empty or huge contexts, naive times and wrong types are refused."""
    args: dict[str, object] = {"key": KEY, "context": ALICE, "now": T0}
    args.update(kwargs)
    with pytest.raises(ConfigurationError):
        login_codes.generate_login_code(**args)  # type: ignore[arg-type]


def test_bad_verify_arguments() -> None:
    """verify_login_code checks its record, key, context and time."""
    issued = issue()
    counted = login_codes.count_attempt(issued.record, now=T0)
    for record, key, context, now in [
        ("record", KEY, ALICE, T0),
        (counted, b"short", ALICE, T0),
        (counted, KEY, "", T0),
        (counted, KEY, ALICE, datetime(2026, 1, 1)),  # noqa: DTZ001
    ]:
        with pytest.raises(ConfigurationError):
            login_codes.verify_login_code(
                record,  # type: ignore[arg-type]
                issued.code,
                key=key,
                context=context,
                now=now,
            )


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("digest", {"digest": b"short"}),
        ("digits", {"digits": 5}),
        ("max_attempts", {"max_attempts": 0}),
        ("attempts", {"attempts": 6}),
        ("attempts", {"attempts": -1}),
        ("issued_at", {"issued_at": datetime(2026, 1, 1)}),  # noqa: DTZ001
        ("used_at", {"used_at": "yesterday"}),
        ("expires_at", {"expires_at": T0}),
    ],
)
def test_inconsistent_record_is_malformed(field: str, changes: dict[str, object]) -> None:
    """A record read back from storage with an impossible field is refused."""
    record = issue().record
    with pytest.raises(MalformedDataError) as info:
        replace(record, **changes)  # type: ignore[arg-type]
    assert info.value.field == field


@settings(max_examples=150, deadline=None)
@given(typed=st.one_of(st.text(max_size=80), st.text(alphabet="0123456789 -", max_size=12)))
def test_any_input_ends_in_a_documented_outcome(typed: str) -> None:
    """Random input is accepted only if it is the code; otherwise InvalidCodeError."""
    issued = issue()
    counted = login_codes.count_attempt(issued.record, now=T0)
    if typed.replace(" ", "").replace("-", "") == issued.code:
        used = login_codes.verify_login_code(counted, typed, key=KEY, context=ALICE, now=T0)
        assert used.used
        return
    with pytest.raises(InvalidCodeError) as info:
        login_codes.verify_login_code(counted, typed, key=KEY, context=ALICE, now=T0)
    assert info.value.attempts_remaining == 4


def test_atomic_counting_bounds_concurrent_guesses() -> None:
    """With counting done atomically before checking, 20 racing guesses get only 5 checks."""
    issued = issue()
    stored = [issued.record]
    lock = threading.Lock()
    checks: list[int] = []
    start = threading.Barrier(20)

    def guess(n: int) -> None:
        start.wait()
        try:
            with lock:  # what the store's single UPDATE ... RETURNING does
                stored[0] = counted = login_codes.count_attempt(stored[0], now=T0)
        except AttemptsExhaustedError:
            return
        checks.append(n)
        with contextlib.suppress(InvalidCodeError):
            login_codes.verify_login_code(
                counted, wrong(issued.code), key=KEY, context=ALICE, now=T0
            )

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checks) == 5
    assert stored[0].attempts == 5
