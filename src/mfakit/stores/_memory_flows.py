"""The in-memory parts of short-lived state: challenges, login codes, throttling."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from mfakit.errors import DuplicateError
from mfakit.repositories import (
    Challenge,
    LoginCode,
    ThrottleState,
)
from mfakit.stores._common import check_cooldown, check_keys, normalize, utc
from mfakit.stores._memory import MemoryState

__all__ = ["MemoryChallenges", "MemoryLoginCodes", "MemoryThrottles"]


class MemoryChallenges:
    """:class:`~mfakit.repositories.ChallengeRepository` in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def put_challenge(self, challenge: Challenge) -> None:
        """See :meth:`mfakit.repositories.ChallengeRepository.put_challenge`."""
        record = normalize(challenge)
        with self._state.lock:
            self._state.check_open()
            if record.challenge_id in self._state.challenges:
                raise DuplicateError("the challenge id is taken")
            self._state.challenges[record.challenge_id] = record

    def pop_challenge(self, challenge_id: str, now: datetime) -> Challenge | None:
        """See :meth:`mfakit.repositories.ChallengeRepository.pop_challenge`."""
        now = utc(now)
        with self._state.lock:
            self._state.check_open()
            record = self._state.challenges.pop(challenge_id, None)
        if record is None or record.expires_at <= now:
            return None
        return record

    def purge_expired_challenges(self, *, now: datetime) -> int:
        """See :meth:`mfakit.repositories.ChallengeRepository.purge_expired_challenges`."""
        now = utc(now)
        with self._state.lock:
            self._state.check_open()
            dead = [k for k, c in self._state.challenges.items() if c.expires_at <= now]
            for k in dead:
                del self._state.challenges[k]
            return len(dead)


class MemoryLoginCodes:
    """:class:`~mfakit.repositories.LoginCodeRepository` in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def put_login_code(self, code: LoginCode) -> None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.put_login_code`."""
        record = normalize(code)
        with self._state.lock:
            self._state.check_open()
            self._state.login_codes[record.subject] = record

    def put_login_code_if_cooled_down(self, code: LoginCode, *, cooldown: timedelta) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.put_login_code_if_cooled_down`."""
        check_cooldown(cooldown)
        record = normalize(code)
        with self._state.lock:
            self._state.check_open()
            previous = self._state.login_codes.get(record.subject)
            if previous is not None and previous.created_at > record.created_at - cooldown:
                return False
            self._state.login_codes[record.subject] = record
            return True

    def get_login_code(self, subject: str) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.get_login_code`."""
        with self._state.lock:
            self._state.check_open()
            return self._state.login_codes.get(subject)

    def _live_code(self, subject: str, code_id: str, now: datetime) -> LoginCode | None:
        code = self._state.login_codes.get(subject)
        if (
            code is None
            or code.code_id != code_id
            or code.consumed_at is not None
            or code.expires_at <= now
        ):
            return None
        return code

    def record_login_code_attempt(
        self, subject: str, code_id: str, *, now: datetime
    ) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.record_login_code_attempt`."""
        now = utc(now)
        with self._state.lock:
            self._state.check_open()
            code = self._live_code(subject, code_id, now)
            if code is None or code.attempts >= code.max_attempts:
                return None
            updated = dataclasses.replace(code, attempts=code.attempts + 1)
            self._state.login_codes[subject] = updated
            return updated

    def consume_login_code(self, subject: str, code_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.consume_login_code`."""
        now = utc(now)
        with self._state.lock:
            self._state.check_open()
            code = self._live_code(subject, code_id, now)
            if code is None:
                return False
            self._state.login_codes[subject] = dataclasses.replace(code, consumed_at=now)
            return True

    def delete_login_code(self, subject: str) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.delete_login_code`."""
        with self._state.lock:
            self._state.check_open()
            return self._state.login_codes.pop(subject, None) is not None

    def purge_expired_login_codes(self, *, now: datetime) -> int:
        """See :meth:`mfakit.repositories.LoginCodeRepository.purge_expired_login_codes`."""
        now = utc(now)
        with self._state.lock:
            self._state.check_open()
            dead = [
                subject
                for subject, code in self._state.login_codes.items()
                if code.expires_at <= now
                or (code.consumed_at is not None and code.consumed_at <= now)
            ]
            for subject in dead:
                del self._state.login_codes[subject]
            return len(dead)


class MemoryThrottles:
    """:class:`~mfakit.repositories.ThrottleRepository` in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def get_throttle(self, key: str) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.get_throttle`."""
        with self._state.lock:
            self._state.check_open()
            return self._state.throttle.get(key) or ThrottleState(key=key)

    def get_throttles(self, keys: Sequence[str]) -> Mapping[str, ThrottleState]:
        """See :meth:`mfakit.repositories.ThrottleRepository.get_throttles`."""
        unique = check_keys(keys)
        with self._state.lock:
            self._state.check_open()
            return {k: self._state.throttle.get(k) or ThrottleState(key=k) for k in unique}

    def record_failure(
        self, key: str, now: datetime, *, window: timedelta | None = None
    ) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.record_failure`."""
        now = utc(now)
        with self._state.lock:
            self._state.check_open()
            state = self._state.throttle.get(key) or ThrottleState(key=key)
            first = state.first_failure_at
            if first is None or (window is not None and first + window < now):
                state = dataclasses.replace(state, failures=1, first_failure_at=now)
            else:
                state = dataclasses.replace(state, failures=state.failures + 1)
            state = dataclasses.replace(state, last_failure_at=now)
            self._state.throttle[key] = state
            return state

    def lock_throttle(self, key: str, *, until: datetime) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.lock_throttle`."""
        until = utc(until)
        with self._state.lock:
            self._state.check_open()
            state = self._state.throttle.get(key) or ThrottleState(key=key)
            if state.locked_until is None or state.locked_until < until:
                state = dataclasses.replace(state, locked_until=until)
            self._state.throttle[key] = state
            return state

    def reset_throttle(self, key: str) -> None:
        """See :meth:`mfakit.repositories.ThrottleRepository.reset_throttle`."""
        with self._state.lock:
            self._state.check_open()
            self._state.throttle.pop(key, None)

    def reset_throttles(self, keys: Sequence[str]) -> None:
        """See :meth:`mfakit.repositories.ThrottleRepository.reset_throttles`."""
        unique = check_keys(keys)
        with self._state.lock:
            self._state.check_open()
            for k in unique:
                self._state.throttle.pop(k, None)
