"""Second-factor sign-in with TOTP and backup codes; replay, single use and throttling."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from service_helpers import enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import (
    InvalidCodeError,
    MfaError,
    NotFoundError,
    ReplayedCodeError,
    ThrottledError,
)
from mfakit.policy import MethodKind
from mfakit.repositories import MfaStore
from mfakit.service import Advice, BackupCodesLow, InMemoryOutbox, MfaService

USER = "u-bob"


def _race(n: int, attempt: Callable[[], object]) -> list[object]:
    """Run ``attempt`` from ``n`` threads released together; collect results or errors."""
    barrier = threading.Barrier(n)
    results: list[object] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            outcome: object = attempt()
        except MfaError as exc:
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _wrong(good: str) -> str:
    return "000000" if good != "000000" else "111111"


def test_begin_lists_methods(service: MfaService, clock: FrozenClock) -> None:
    """The challenge lists TOTP and backup codes; no WebAuthn options without passkeys."""
    enroll_totp(service, clock, USER)
    start = service.begin_second_factor(USER)
    assert start.methods == (MethodKind.TOTP, MethodKind.BACKUP_CODES)
    assert start.webauthn_options is None


def test_totp_signs_in(service: MfaService, clock: FrozenClock) -> None:
    """A current code passes and advises a second method."""
    app, _ = enroll_totp(service, clock, USER)
    result = service.verify_totp(USER, app.code())
    assert result.method is MethodKind.TOTP
    assert Advice.ADD_SECOND_METHOD in result.advice


def test_totp_drift_window(service: MfaService, clock: FrozenClock) -> None:
    """The previous step's code is accepted (window 1); two steps back is not."""
    app, _ = enroll_totp(service, clock, USER)
    clock.advance(30)  # the confirming step is now two steps back
    with pytest.raises(InvalidCodeError):
        service.verify_totp(USER, app.code(-2))
    assert service.verify_totp(USER, app.code(-1)).method is MethodKind.TOTP


def test_totp_same_code_twice_is_replay(service: MfaService, clock: FrozenClock) -> None:
    """A code is accepted once."""
    app, _ = enroll_totp(service, clock, USER)
    code = app.code()
    service.verify_totp(USER, code)
    with pytest.raises(ReplayedCodeError):
        service.verify_totp(USER, code)


def test_totp_older_code_after_newer_is_replay(service: MfaService, clock: FrozenClock) -> None:
    """After the current step is used, the previous step's code is refused too."""
    app, _ = enroll_totp(service, clock, USER)
    service.verify_totp(USER, app.code())
    with pytest.raises(ReplayedCodeError):
        service.verify_totp(USER, app.code(-1))


def test_totp_same_code_from_threads_one_success(service: MfaService, clock: FrozenClock) -> None:
    """The same code sent by several threads at once signs in exactly once."""
    app, _ = enroll_totp(service, clock, USER)
    code = app.code()
    results = _race(4, lambda: service.verify_totp(USER, code))
    wins = [r for r in results if not isinstance(r, MfaError)]
    assert len(wins) == 1
    assert all(isinstance(r, ReplayedCodeError | ThrottledError) for r in results if r not in wins)


def test_verify_totp_without_totp(service: MfaService) -> None:
    """A user without TOTP gets NotFoundError."""
    with pytest.raises(NotFoundError):
        service.verify_totp(USER, "123456")


def test_backup_code_signs_in_once(service: MfaService, clock: FrozenClock) -> None:
    """A backup code works once and the remaining count drops."""
    _, activation = enroll_totp(service, clock, USER)
    code = activation.backup_codes.codes[0]
    result = service.verify_backup_code(USER, code.lower().replace("-", " "))
    assert result.method is MethodKind.BACKUP_CODES
    assert result.backup_codes_remaining == service.settings.backup_code_count - 1
    with pytest.raises(InvalidCodeError):
        service.verify_backup_code(USER, code)


def test_backup_code_race_one_success(service: MfaService, clock: FrozenClock) -> None:
    """One backup code raced from several threads is consumed exactly once."""
    _, activation = enroll_totp(service, clock, USER)
    code = activation.backup_codes.codes[3]
    results = _race(4, lambda: service.verify_backup_code(USER, code))
    assert sum(1 for r in results if not isinstance(r, MfaError)) == 1


def test_regenerate_invalidates_old_codes(service: MfaService, clock: FrozenClock) -> None:
    """A new set voids every old code."""
    _, activation = enroll_totp(service, clock, USER)
    fresh = service.regenerate_backup_codes(USER)
    with pytest.raises(InvalidCodeError):
        service.verify_backup_code(USER, activation.backup_codes.codes[0])
    assert service.verify_backup_code(USER, fresh.codes[0]).method is MethodKind.BACKUP_CODES


def test_regenerate_needs_a_method(service: MfaService) -> None:
    """Backup codes need a second factor to back up."""
    with pytest.raises(NotFoundError):
        service.regenerate_backup_codes(USER)


def test_low_backup_codes_warn(
    service: MfaService, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """At the threshold, the result advises a new set and the user is notified."""
    _, activation = enroll_totp(service, clock, USER)
    codes = activation.backup_codes.codes
    used = service.settings.backup_code_count - service.settings.backup_codes_low
    for code in codes[:used]:
        result = service.verify_backup_code(USER, code)
    assert Advice.BACKUP_CODES_LOW in result.advice
    assert outbox.of_type(BackupCodesLow, user_id=USER)[-1].remaining == 3
    status = service.backup_code_status(USER)
    assert (status.total, status.remaining, status.low) == (10, 3, True)


def test_throttle_backs_off_after_free_failures(service: MfaService, clock: FrozenClock) -> None:
    """Past the free failures, each failure imposes a doubling wait."""
    app, _ = enroll_totp(service, clock, USER)
    for _ in range(service.settings.throttle_free_failures):
        with pytest.raises(InvalidCodeError):
            service.verify_totp(USER, _wrong(app.code()))
    with pytest.raises(InvalidCodeError):
        service.verify_totp(USER, _wrong(app.code()))
    with pytest.raises(ThrottledError) as caught:
        service.verify_totp(USER, app.code())
    assert caught.value.retry_after == 1.0
    clock.advance(1)
    with pytest.raises(InvalidCodeError):
        service.verify_totp(USER, _wrong(app.code()))
    with pytest.raises(ThrottledError) as caught:
        service.verify_totp(USER, app.code())
    assert caught.value.retry_after == 2.0


def test_throttle_locks_out_after_max_failures(service: MfaService, clock: FrozenClock) -> None:
    """After the maximum failures even the right code is refused until the window ends."""
    app, _ = enroll_totp(service, clock, USER)
    start = clock.now()
    for n in range(1, service.settings.throttle_max_failures + 1):
        with pytest.raises(InvalidCodeError):
            service.verify_totp(USER, _wrong(app.code()))
        if n < service.settings.throttle_max_failures:
            clock.advance(service.settings.backoff(n))
    assert clock.now() - start < service.settings.throttle_window
    with pytest.raises(ThrottledError) as caught:
        service.verify_totp(USER, app.code())
    assert caught.value.retry_after > 0
    clock.set(start + service.settings.throttle_window + timedelta(seconds=1))
    assert service.verify_totp(USER, app.code()).method is MethodKind.TOTP


def test_success_resets_throttle(service: MfaService, store: MfaStore, clock: FrozenClock) -> None:
    """A success forgets the failures."""
    app, _ = enroll_totp(service, clock, USER)
    with pytest.raises(InvalidCodeError):
        service.verify_totp(USER, _wrong(app.code()))
    service.verify_totp(USER, app.code())
    assert store.get_throttle(f"mfa:totp:{USER}").failures == 0


def test_throttle_holds_under_parallel_wrong_guesses(
    service: MfaService, store: MfaStore, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However many wrong guesses race, at most the maximum are ever checked."""
    app, _ = enroll_totp(service, clock, USER)
    checked = []
    real = service._totp.totp_of

    def counting(credential: object) -> object:
        totp = real(credential)  # type: ignore[arg-type]
        checked.append(1)
        return totp

    monkeypatch.setattr(service._totp, "totp_of", counting)
    wrong = _wrong(app.code())
    results = _race(16, lambda: service.verify_totp(USER, wrong))
    assert len(checked) <= service.settings.throttle_max_failures
    assert all(isinstance(r, InvalidCodeError | ThrottledError) for r in results)


def test_factors_are_throttled_separately(service: MfaService, clock: FrozenClock) -> None:
    """Backing off TOTP leaves backup codes usable."""
    app, activation = enroll_totp(service, clock, USER)
    for _ in range(service.settings.throttle_free_failures + 1):
        with pytest.raises(InvalidCodeError):
            service.verify_totp(USER, _wrong(app.code()))
    with pytest.raises(ThrottledError):
        service.verify_totp(USER, app.code())
    service.verify_backup_code(USER, activation.backup_codes.codes[0])


def test_window_edge_stays_locked(service: MfaService, store: MfaStore, clock: FrozenClock) -> None:
    """At the very end of a spent window the count has not restarted: still refused."""
    app, _ = enroll_totp(service, clock, USER)
    start = clock.now()
    for n in range(1, service.settings.throttle_max_failures + 1):
        with pytest.raises(InvalidCodeError):
            service.verify_totp(USER, _wrong(app.code()))
        if n < service.settings.throttle_max_failures:
            clock.advance(service.settings.backoff(n))
    clock.set(start + service.settings.throttle_window)
    with pytest.raises(ThrottledError) as caught:
        service.verify_totp(USER, app.code())
    assert caught.value.retry_after == 1.0
