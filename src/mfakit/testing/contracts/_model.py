"""The model half of the contract: a Hypothesis state machine against a plain model."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mfakit.repositories import MfaStore
from mfakit.testing.contracts._records import (
    MAX_DEVICES,
    NOW,
    backup_codes,
    challenge,
    login_code,
    new_id,
    pending_totp,
    webauthn_credential,
)

__all__ = ["StateMachineContract"]

_SLOT = st.integers(min_value=0, max_value=2)


def _machine(store: MfaStore) -> type[RuleBasedStateMachine]:
    class StoreMachine(RuleBasedStateMachine):
        """Random sequences of port calls; the store must answer as the model does."""

        def __init__(self) -> None:
            super().__init__()
            # Fresh ids per run: the store may be shared with other tests.
            self.users = [new_id("user") for _ in range(3)]
            self.now = NOW
            self.codes: dict[str, dict[str, bool]] = {u: {} for u in self.users}
            self.code_ids: dict[str, list[str]] = {u: [] for u in self.users}
            self.steps: dict[str, int] = {}
            self.devices: dict[str, str] = {}
            self.challenges: list[tuple[str, datetime]] = []
            self.failures: dict[str, int] = {}
            self.creds: dict[int, tuple[bytes, int]] = {}
            self.login: dict[str, tuple[str, int, int, bool]] = {}
            self.first_failure: dict[str, datetime] = {}

        @rule(slot=_SLOT, n=st.integers(min_value=0, max_value=4))
        def regenerate_codes(self, slot: int, n: int) -> None:
            user = self.users[slot]
            codes = backup_codes(user, n)
            store.replace_backup_codes(user, codes)
            self.codes[user] = {c.code_id: False for c in codes}
            self.code_ids[user] = [c.code_id for c in codes] + self.code_ids[user][:2]

        @rule(slot=_SLOT, pick=st.integers(min_value=0, max_value=5))
        def consume_code(self, slot: int, pick: int) -> None:
            user = self.users[slot]
            known = self.code_ids[user]
            code_id = known[pick % len(known)] if known else "none"
            expected = self.codes[user].get(code_id) is False
            assert store.consume_backup_code(user, code_id, now=self.now) is expected
            if expected:
                self.codes[user][code_id] = True

        @rule(seconds=st.integers(min_value=0, max_value=400))
        def advance_clock(self, seconds: int) -> None:
            self.now += timedelta(seconds=seconds)

        @rule(ttl=st.integers(min_value=1, max_value=600))
        def put_challenge(self, ttl: int) -> None:
            ch = dataclasses.replace(
                challenge(), created_at=self.now, expires_at=self.now + timedelta(seconds=ttl)
            )
            store.put_challenge(ch)
            self.challenges.append((ch.challenge_id, ch.expires_at))

        @rule(pick=st.integers(min_value=0, max_value=10))
        def pop_a_challenge(self, pick: int) -> None:
            if not self.challenges:
                assert store.pop_challenge(new_id("chal"), now=self.now) is None
                return
            cid, expires = self.challenges.pop(pick % len(self.challenges))
            got = store.pop_challenge(cid, now=self.now)
            assert (got is not None) is (expires > self.now)
            assert store.pop_challenge(cid, now=self.now) is None

        @rule(slot=_SLOT, step=st.integers(min_value=0, max_value=50))
        def enroll_totp(self, slot: int, step: int) -> None:
            user = self.users[slot]
            store.delete_totp(user)  # one device per user in this model
            rec = pending_totp(user)
            store.put_pending_totp(rec)
            store.activate_totp(user, rec.totp_id, step=step, now=NOW, max_devices=MAX_DEVICES)
            self.steps[user] = step
            self.devices[user] = rec.totp_id

        @rule(slot=_SLOT, step=st.integers(min_value=0, max_value=60))
        def advance_step(self, slot: int, step: int) -> None:
            user = self.users[slot]
            expected = user in self.steps and step > self.steps[user]
            device = self.devices.get(user, new_id("totp"))
            assert store.advance_totp_step(device, step, now=NOW) is expected
            if expected:
                self.steps[user] = step

        @rule(slot=_SLOT, window=st.sampled_from([None, 60, 600]))
        def fail(self, slot: int, window: int | None) -> None:
            key = f"{self.users[slot]}:throttle"
            state = store.record_failure(
                key, now=self.now, window=None if window is None else timedelta(seconds=window)
            )
            first = self.first_failure.get(key)
            span = None if window is None else timedelta(seconds=window)
            if first is None or (span is not None and first + span < self.now):
                self.failures[key] = 1
                self.first_failure[key] = self.now
            else:
                self.failures[key] += 1
            assert state.failures == self.failures[key]

        @rule(slot=_SLOT)
        def reset(self, slot: int) -> None:
            key = f"{self.users[slot]}:throttle"
            store.reset_throttle(key)
            self.failures.pop(key, None)
            self.first_failure.pop(key, None)

        @rule(slot=_SLOT, start=st.integers(min_value=0, max_value=5))
        def register(self, slot: int, start: int) -> None:
            cred = webauthn_credential(self.users[slot], sign_count=start)
            store.add_webauthn_credential(cred)
            self.creds[len(self.creds)] = (cred.credential_id, start)

        @rule(pick=st.integers(0, 9), old=st.integers(0, 8), new=st.integers(0, 9))
        def sign(self, pick: int, old: int, new: int) -> None:
            if not self.creds:
                return
            idx = pick % len(self.creds)
            cred_id, count = self.creds[idx]
            expected = count == old
            assert store.update_sign_count(cred_id, old, new, now=self.now) is expected
            if expected:
                self.creds[idx] = (cred_id, new)

        @rule(slot=_SLOT, max_attempts=st.integers(min_value=1, max_value=3))
        def send_login_code(self, slot: int, max_attempts: int) -> None:
            code = login_code(self.users[slot], max_attempts=max_attempts)
            store.put_login_code(code)
            self.login[self.users[slot]] = (code.code_id, 0, max_attempts, False)

        @rule(slot=_SLOT)
        def attempt_login_code(self, slot: int) -> None:
            user = self.users[slot]
            if user not in self.login:
                assert store.record_login_code_attempt(user, "x", now=NOW) is None
                return
            code_id, attempts, limit, used = self.login[user]
            got = store.record_login_code_attempt(user, code_id, now=NOW)
            allowed = not used and attempts < limit
            assert (got is not None) is allowed
            if allowed:
                self.login[user] = (code_id, attempts + 1, limit, used)

        @precondition(lambda self: bool(self.login))
        @rule(pick=st.integers(min_value=0, max_value=2))
        def consume_login_code(self, pick: int) -> None:
            user = sorted(self.login)[pick % len(self.login)]
            code_id, attempts, limit, used = self.login[user]
            assert store.consume_login_code(user, code_id, now=NOW) is (not used)
            self.login[user] = (code_id, attempts, limit, True)

        @rule()
        def purge_login_codes(self) -> None:
            # The model's codes live from NOW for ten minutes: at NOW only the
            # consumed ones are dead. (A shared database may hold more.)
            used = [user for user, (_, _, _, spent) in self.login.items() if spent]
            assert store.purge_expired_login_codes(now=NOW) >= len(used)
            for user in used:
                del self.login[user]
                assert store.get_login_code(user) is None

        @invariant()
        def unused_codes_match(self) -> None:
            for user in self.users:
                unused = sum(not used for used in self.codes[user].values())
                assert store.count_unused_backup_codes(user) == unused

        @invariant()
        def sign_counts_match(self) -> None:
            for cred_id, count in self.creds.values():
                got = store.get_webauthn_credential(cred_id)
                assert got is not None
                assert got.sign_count == count

    return StoreMachine


class StateMachineContract:
    """A Hypothesis state machine drives the store and a plain model side by side.

    Subclass it and override the :meth:`store` fixture.
    """

    #: Hypothesis examples (each a random sequence of up to ``steps`` calls).
    max_examples = 25
    steps = 25

    @pytest.fixture
    def store(self) -> Iterator[MfaStore]:
        """The store under test. Override this fixture in the subclass."""
        raise NotImplementedError

    def test_store_matches_model(self, store: MfaStore) -> None:
        """Random call sequences give the answers of a plain model."""
        run_state_machine_as_test(
            _machine(store),
            settings=settings(
                max_examples=self.max_examples,
                stateful_step_count=self.steps,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
