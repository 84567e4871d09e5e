"""Contract tests of short-lived state: challenges, login codes, throttling."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from mfakit.errors import ConfigurationError, DuplicateError
from mfakit.repositories import LoginCode, MfaStore
from mfakit.testing.contracts._records import (
    NOW,
    challenge,
    login_code,
    new_id,
)

__all__ = ["FlowContract"]

LATER = NOW + timedelta(hours=1)
# Purge tests run in an era no other test writes in, and delete what they keep,
# so that their counts are exact even when the fixture shares one database.
ERA = NOW - timedelta(days=3650)


def _era_code(**changes: object) -> LoginCode:
    """A login code issued at ``ERA``, live for ten minutes, with ``changes``."""
    code = dataclasses.replace(
        login_code(new_id("subject")), created_at=ERA, expires_at=ERA + timedelta(minutes=10)
    )
    return dataclasses.replace(code, **changes)  # type: ignore[arg-type]


class FlowContract:
    """Contract tests of short-lived state: challenges, login codes, throttling.

    Mixed into :class:`StoreContract`.
    """

    # -- challenges -----------------------------------------------------------------

    def test_pop_challenge_once(self, store: MfaStore) -> None:
        """A challenge pops once, with its context intact."""
        ch = challenge(user_id=new_id("user"))
        store.put_challenge(ch)
        assert store.pop_challenge(ch.challenge_id, now=NOW) == ch
        assert store.pop_challenge(ch.challenge_id, now=NOW) is None

    def test_positional_now(self, store: MfaStore) -> None:
        """pop_challenge and record_failure also take ``now`` positionally."""
        ch = challenge()
        store.put_challenge(ch)
        assert store.pop_challenge(ch.challenge_id, NOW) == ch
        assert store.record_failure(new_id("key"), NOW).failures == 1

    def test_pop_expired_challenge(self, store: MfaStore) -> None:
        """An expired challenge pops as None and is gone."""
        ch = challenge()
        store.put_challenge(ch)
        assert store.pop_challenge(ch.challenge_id, now=ch.expires_at) is None
        assert store.pop_challenge(ch.challenge_id, now=NOW) is None

    def test_put_challenge_duplicate(self, store: MfaStore) -> None:
        """A challenge id used twice: DuplicateError, the first one kept."""
        ch = challenge()
        store.put_challenge(ch)
        with pytest.raises(DuplicateError):
            store.put_challenge(dataclasses.replace(ch, challenge=b"other"))
        assert store.pop_challenge(ch.challenge_id, now=NOW) == ch

    def test_challenge_context_must_be_json(self, store: MfaStore) -> None:
        """A context that is not JSON-able is refused."""
        with pytest.raises(ConfigurationError):
            store.put_challenge(dataclasses.replace(challenge(), context={"x": object()}))

    def test_purge_expired_challenges(self, store: MfaStore) -> None:
        """Purging removes expired challenges and keeps live ones."""
        short, long = challenge(ttl=timedelta(seconds=1)), challenge(ttl=timedelta(days=400))
        store.put_challenge(short)
        store.put_challenge(long)
        assert store.purge_expired_challenges(now=LATER) >= 1
        assert store.pop_challenge(short.challenge_id, now=NOW) is None
        assert store.pop_challenge(long.challenge_id, now=NOW) == long

    # -- login codes ----------------------------------------------------------------

    def test_login_code_round_trip_and_replace(self, store: MfaStore) -> None:
        """A subject keeps one code; a new one replaces the old."""
        subject = new_id("subject")
        first, second = login_code(subject), login_code(subject)
        store.put_login_code(first)
        assert store.get_login_code(subject) == first
        store.put_login_code(second)
        assert store.get_login_code(subject) == second
        assert store.get_login_code(new_id("subject")) is None

    def test_login_code_keeps_its_key_id(self, store: MfaStore) -> None:
        """The id of the key that made a code is stored, replaced and counted with it."""
        subject = new_id("subject")
        first = dataclasses.replace(login_code(subject), key_id="2026-05")
        store.put_login_code(first)
        assert store.get_login_code(subject) == first
        second = dataclasses.replace(
            login_code(subject), key_id="2026-11", created_at=NOW + timedelta(minutes=2)
        )
        assert store.put_login_code_if_cooled_down(second, cooldown=timedelta(minutes=1))
        counted = store.record_login_code_attempt(subject, second.code_id, now=NOW)
        assert counted is not None
        assert counted.key_id == "2026-11"

    def test_login_code_attempts_are_limited(self, store: MfaStore) -> None:
        """Attempts count up to max_attempts, then no more attempt is allowed."""
        code = login_code(new_id("subject"), max_attempts=3)
        store.put_login_code(code)
        counts = [
            store.record_login_code_attempt(code.subject, code.code_id, now=NOW) for _ in range(4)
        ]
        assert [c.attempts if c else None for c in counts] == [1, 2, 3, None]

    def test_login_code_attempt_on_replaced_code(self, store: MfaStore) -> None:
        """An attempt against a replaced code is refused."""
        code = login_code(new_id("subject"))
        store.put_login_code(code)
        assert store.record_login_code_attempt(code.subject, "old", now=NOW) is None

    def test_login_code_attempt_after_expiry(self, store: MfaStore) -> None:
        """An attempt at the expiry instant is refused."""
        code = login_code(new_id("subject"))
        store.put_login_code(code)
        assert (
            store.record_login_code_attempt(code.subject, code.code_id, now=code.expires_at) is None
        )

    def test_consume_login_code_once(self, store: MfaStore) -> None:
        """A code is consumed once; afterwards no attempt or consumption succeeds."""
        code = login_code(new_id("subject"))
        store.put_login_code(code)
        assert store.consume_login_code(code.subject, code.code_id, now=NOW) is True
        assert store.consume_login_code(code.subject, code.code_id, now=NOW) is False
        assert store.record_login_code_attempt(code.subject, code.code_id, now=NOW) is None
        got = store.get_login_code(code.subject)
        assert got is not None
        assert got.consumed_at == NOW

    def test_consume_expired_login_code(self, store: MfaStore) -> None:
        """An expired code cannot be consumed."""
        code = login_code(new_id("subject"))
        store.put_login_code(code)
        assert store.consume_login_code(code.subject, code.code_id, now=code.expires_at) is False

    def test_delete_login_code(self, store: MfaStore) -> None:
        """Deleting reports whether a code existed."""
        code = login_code(new_id("subject"))
        store.put_login_code(code)
        assert store.delete_login_code(code.subject) is True
        assert store.delete_login_code(code.subject) is False

    def test_purge_login_codes_deletes_expired(self, store: MfaStore) -> None:
        """Codes expired at or before ``now`` are deleted and counted; later ones are kept."""
        at = ERA + timedelta(minutes=10)
        dead = [_era_code(expires_at=at), _era_code(expires_at=at - timedelta(seconds=1))]
        live = _era_code(expires_at=at + timedelta(microseconds=1))
        for code in [*dead, live]:
            store.put_login_code(code)
        assert store.purge_expired_login_codes(now=at) == 2
        assert [store.get_login_code(c.subject) for c in dead] == [None, None]
        assert store.get_login_code(live.subject) == live
        store.delete_login_code(live.subject)

    def test_purge_login_codes_deletes_consumed(self, store: MfaStore) -> None:
        """A code consumed at or before ``now`` is deleted though it has not expired."""
        code = _era_code()
        store.put_login_code(code)
        assert store.consume_login_code(code.subject, code.code_id, now=ERA) is True
        assert store.purge_expired_login_codes(now=ERA) == 1
        assert store.get_login_code(code.subject) is None

    def test_purge_login_codes_keeps_consumed_after_now(self, store: MfaStore) -> None:
        """A code consumed after ``now`` is not purged by a sweep dated earlier."""
        code = _era_code(consumed_at=ERA + timedelta(minutes=1))
        store.put_login_code(code)
        assert store.purge_expired_login_codes(now=ERA) == 0
        assert store.get_login_code(code.subject) == code
        store.delete_login_code(code.subject)

    def test_purge_login_codes_keeps_live_codes(self, store: MfaStore) -> None:
        """Unexpired unused codes stay, even out of attempts, and still work."""
        fresh, exhausted = _era_code(), _era_code(max_attempts=1, attempts=1)
        store.put_login_code(fresh)
        store.put_login_code(exhausted)
        assert store.purge_expired_login_codes(now=ERA + timedelta(minutes=5)) == 0
        assert store.get_login_code(exhausted.subject) == exhausted
        assert store.consume_login_code(fresh.subject, fresh.code_id, now=ERA) is True
        store.delete_login_code(fresh.subject)
        store.delete_login_code(exhausted.subject)

    def test_purge_login_codes_naive_now_refused(self, store: MfaStore) -> None:
        """A naive ``now`` is a ConfigurationError, and nothing is deleted."""
        code = _era_code()
        store.put_login_code(code)
        with pytest.raises(ConfigurationError):
            store.purge_expired_login_codes(now=LATER.replace(tzinfo=None))
        assert store.get_login_code(code.subject) == code
        store.delete_login_code(code.subject)

    # -- throttle -------------------------------------------------------------------

    def test_throttle_unknown_key(self, store: MfaStore) -> None:
        """An unknown key has no failures and no lock."""
        key = new_id("key")
        assert store.get_throttle(key).failures == 0
        assert store.get_throttle(key).locked_until is None

    def test_record_failure_counts(self, store: MfaStore) -> None:
        """Each failure increments the count and moves last_failure_at."""
        key = new_id("key")
        store.record_failure(key, now=NOW)
        state = store.record_failure(key, now=LATER)
        assert (state.failures, state.first_failure_at, state.last_failure_at) == (2, NOW, LATER)
        assert store.get_throttle(key) == state

    def test_record_failure_window_restarts_count(self, store: MfaStore) -> None:
        """A failure after the window restarts the count at one."""
        key = new_id("key")
        store.record_failure(key, now=NOW, window=timedelta(minutes=5))
        store.record_failure(key, now=NOW, window=timedelta(minutes=5))
        state = store.record_failure(key, now=LATER, window=timedelta(minutes=5))
        assert (state.failures, state.first_failure_at) == (1, LATER)

    def test_lock_throttle_never_shortened(self, store: MfaStore) -> None:
        """A shorter lock does not shorten a longer one."""
        key = new_id("key")
        store.lock_throttle(key, until=LATER)
        state = store.lock_throttle(key, until=NOW)
        assert state.locked_until == LATER
        assert store.lock_throttle(key, until=LATER + timedelta(hours=1)).locked_until == (
            LATER + timedelta(hours=1)
        )

    def test_reset_throttle(self, store: MfaStore) -> None:
        """Reset forgets failures and the lock."""
        key = new_id("key")
        store.record_failure(key, now=NOW)
        store.lock_throttle(key, until=LATER)
        store.reset_throttle(key)
        assert store.get_throttle(key).failures == 0
        assert store.get_throttle(key).locked_until is None
