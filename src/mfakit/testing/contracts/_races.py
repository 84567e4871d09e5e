"""The race half of the contract: many callers on one atomic operation, one winner."""

from __future__ import annotations

import dataclasses
import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from mfakit.errors import MfaError
from mfakit.repositories import MfaStore
from mfakit.testing.contracts._records import (
    MAX_DEVICES,
    NOW,
    backup_codes,
    challenge,
    invitation,
    login_code,
    membership,
    new_id,
    organization,
    outbox_message,
    pending_totp,
    webauthn_credential,
)
from mfakit.testing.contracts._workers import CLAIM_LIMIT, COOLDOWN, OPS, run_worker

__all__ = ["ProcessRaceContract", "ThreadRaceContract"]

THREADS = 16
PROCESSES = 4
#: Messages enqueued per round of the claim race (more than 4 racers can take).
CLAIM_MESSAGES = 24


def _setup(store: MfaStore, op: str, rounds: int) -> list[Any]:
    """Create one fresh target per round for ``op``; return the targets."""
    targets: list[Any] = []
    if op == "put_login_code_if_cooled_down":
        # One subject for every round; each round is one cool-down after the last.
        subject = new_id("subject")
        return [(subject, NOW + i * COOLDOWN) for i in range(rounds)]
    for _ in range(rounds):
        user = new_id("user")
        if op == "advance_totp_step":
            rec = pending_totp(user)
            store.put_pending_totp(rec)
            store.activate_totp(user, rec.totp_id, step=100, now=NOW, max_devices=MAX_DEVICES)
            targets.append((rec.totp_id, 101))
        elif op == "activate_totp_last_slot":
            for _ in range(MAX_DEVICES - 1):
                rec = pending_totp(user)
                store.put_pending_totp(rec)
                store.activate_totp(user, rec.totp_id, step=1, now=NOW, max_devices=MAX_DEVICES)
            targets.append(user)
        elif op == "advance_totp_step_or_delete":
            rec = pending_totp(user)
            store.put_pending_totp(rec)
            store.activate_totp(user, rec.totp_id, step=100, now=NOW, max_devices=MAX_DEVICES)
            targets.append((user, rec.totp_id))
        elif op == "consume_backup_code":
            codes = backup_codes(user, 3)
            store.replace_backup_codes(user, codes)
            targets.append((user, codes[1].code_id))
        elif op == "pop_challenge":
            ch = challenge(user_id=user)
            store.put_challenge(ch)
            targets.append(ch.challenge_id)
        elif op == "update_sign_count":
            cred = webauthn_credential(user, sign_count=7)
            store.add_webauthn_credential(cred)
            targets.append((cred.credential_id, 7))
        elif op in ("record_failure", "webauthn_user_handle"):
            targets.append(new_id("key" if op == "record_failure" else "user"))
        elif op == "claim_messages":
            kind = new_id("kind")  # the racers claim this kind only
            for _ in range(CLAIM_MESSAGES):
                store.enqueue_message(outbox_message(kind=kind))
            targets.append(kind)
        elif op in ("record_login_code_attempt", "consume_login_code"):
            code = login_code(user, max_attempts=5)
            store.put_login_code(code)
            targets.append((user, code.code_id))
        elif op == "activate_totp":
            rec = pending_totp(user)
            store.put_pending_totp(rec)
            targets.append((user, rec.totp_id))
        elif op == "accept_invitation":
            org = store.create_organization(organization())
            inv = invitation(org.org_id)
            store.create_invitation(inv)
            targets.append((inv.invitation_id, org.org_id))
        else:
            org = store.create_organization(organization())
            targets.append(org.org_id)
    return targets


#: The winners each race must have, given the number of racers.
_EXPECTED_WINS: dict[str, Callable[[int], int]] = {
    "record_login_code_attempt": lambda n: min(n, 5),
}


def _check_round(op: str, outcomes: list[object], racers: int) -> None:
    if op == "claim_messages":
        # No message claimed twice, and no racer left idle while messages were due.
        claimed = [i for ids in outcomes for i in ids]  # type: ignore[attr-defined]
        assert len(claimed) == len(set(claimed)), outcomes
        assert len(claimed) == min(CLAIM_MESSAGES, racers * CLAIM_LIMIT), outcomes
        return
    if op == "advance_totp_step_or_delete":
        # The deletion always happens; at most one sign-in advanced the step first.
        assert outcomes.count("deleted") == 1, outcomes
        assert Counter(outcomes)[True] <= 1, outcomes
        assert all(o in (True, False, "deleted") for o in outcomes), outcomes
        return
    if op == "webauthn_user_handle":
        # One racer's handle is stored, and every racer got that one back.
        pairs = [o for o in outcomes if isinstance(o, tuple)]
        assert len(pairs) == racers, outcomes
        assert sum(bool(won) for won, _ in pairs) == 1, outcomes
        assert len({stored for _, stored in pairs}) == 1, outcomes
        return
    if op == "record_failure":
        # Every racer counted once: the counts seen are exactly 1..n.
        assert sorted(outcomes) == list(range(1, racers + 1)), outcomes  # type: ignore[type-var]
        return
    wins = Counter(outcomes)[True]
    expected = _EXPECTED_WINS[op](racers) if op in _EXPECTED_WINS else 1
    assert wins == expected, f"{op}: {wins} winners, expected {expected}: {outcomes}"
    assert all(o is False for o in outcomes if o is not True), outcomes


RACED_OPS = sorted(OPS)


class ThreadRaceContract:
    """16 threads race on each atomic operation, over many rounds; the right number win.

    Subclass it and override the :meth:`store` fixture.
    """

    #: Rounds per operation.
    rounds = 25

    @pytest.fixture
    def store(self) -> Iterator[MfaStore]:
        """The store under test. Override this fixture in the subclass."""
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def executor(cls) -> Iterator[ThreadPoolExecutor]:
        """Threads reused across rounds, so each round starts them at a barrier only."""
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            yield pool

    @pytest.mark.parametrize("op", RACED_OPS)
    def test_threads_race(self, store: MfaStore, executor: ThreadPoolExecutor, op: str) -> None:
        """16 threads on one atomic operation: exactly the allowed number win, every round."""
        for target in _setup(store, op, self.rounds):
            barrier = threading.Barrier(THREADS)

            def run(worker: int, target: Any = target, barrier: Any = barrier) -> object:
                barrier.wait(timeout=60)
                try:
                    return OPS[op](store, target, worker)
                except MfaError as exc:  # pragma: no cover - shown in the assertion
                    return f"error:{type(exc).__name__}"

            futures = [executor.submit(run, i) for i in range(THREADS)]
            _check_round(op, [f.result() for f in futures], THREADS)

    def test_threads_race_replacing_backup_codes(
        self, store: MfaStore, executor: ThreadPoolExecutor
    ) -> None:
        """Concurrent regenerations leave exactly one whole set, never a mixture."""
        for _ in range(max(1, self.rounds // 5)):
            user = new_id("user")
            sets = [backup_codes(user, 4) for _ in range(THREADS)]
            barrier = threading.Barrier(THREADS)

            def run(i: int, sets: Any = sets, barrier: Any = barrier, user: str = user) -> None:
                barrier.wait(timeout=60)
                store.replace_backup_codes(user, sets[i])

            for f in [executor.submit(run, i) for i in range(THREADS)]:
                f.result()
            stored = {c.code_id for c in store.list_backup_codes(user)}
            assert stored in [{c.code_id for c in s} for s in sets]

    def test_threads_race_locking(self, store: MfaStore, executor: ThreadPoolExecutor) -> None:
        """Concurrent locks of one key end at the longest one."""
        key = new_id("key")
        barrier = threading.Barrier(THREADS)

        def run(i: int) -> None:
            barrier.wait(timeout=60)
            store.lock_throttle(key, until=NOW + timedelta(seconds=i))

        for f in [executor.submit(run, i) for i in range(THREADS)]:
            f.result()
        assert store.get_throttle(key).locked_until == NOW + timedelta(seconds=THREADS - 1)

    def test_threads_race_membership_update(
        self, store: MfaStore, executor: ThreadPoolExecutor
    ) -> None:
        """Concurrent compare-and-set updates of one membership: exactly one wins."""
        org = store.create_organization(organization())
        for _ in range(max(1, self.rounds // 5)):
            m = store.add_membership(membership(org.org_id))
            barrier = threading.Barrier(THREADS)

            def run(i: int, m: Any = m, barrier: Any = barrier) -> bool:
                barrier.wait(timeout=60)
                new = dataclasses.replace(m, grace_reason=f"w{i}")
                return store.update_membership(new) is not None

            wins = [f.result() for f in [executor.submit(run, i) for i in range(THREADS)]]
            assert wins.count(True) == 1


class _Workers:
    """Worker processes kept for a whole test class; each race reuses them."""

    def __init__(self, opener: Callable[[], MfaStore]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.barrier = ctx.Barrier(PROCESSES)
        self.results = ctx.Queue()
        self.inboxes = [ctx.Queue() for _ in range(PROCESSES)]
        self.procs = [
            ctx.Process(
                target=run_worker,
                args=(opener, w, self.inboxes[w], self.barrier, self.results),
                daemon=True,
            )
            for w in range(PROCESSES)
        ]
        for p in self.procs:
            p.start()

    def race(self, op: str, targets: list[Any]) -> dict[int, list[object]]:
        for inbox in self.inboxes:
            inbox.put((op, targets))
        outcomes: dict[int, list[object]] = {i: [] for i in range(len(targets))}
        for _ in range(PROCESSES * len(targets)):
            i, out = self.results.get(timeout=120)
            outcomes[i].append(out)
        return outcomes

    def stop(self) -> list[int | None]:
        for inbox in self.inboxes:
            inbox.put(None)
        for p in self.procs:
            p.join(timeout=60)
        return [p.exitcode for p in self.procs]


class ProcessRaceContract:
    """4 separate processes, each with its own connections, race on each atomic operation.

    Subclass it and override the class-scoped :meth:`store_opener` fixture.
    """

    #: Rounds per operation.
    process_rounds = 20

    @pytest.fixture(scope="class")
    @classmethod
    def store_opener(cls) -> Callable[[], MfaStore]:
        """A picklable callable opening the store under test (in this or another process).

        Override this class-scoped fixture in the subclass.
        """
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def race_workers(cls, store_opener: Callable[[], MfaStore]) -> Iterator[_Workers]:
        """Four worker processes, each with its own store, for the class's races."""
        workers = _Workers(store_opener)
        yield workers
        assert workers.stop() == [0] * PROCESSES

    @pytest.mark.parametrize("op", RACED_OPS)
    def test_processes_race(
        self, store_opener: Callable[[], MfaStore], race_workers: _Workers, op: str
    ) -> None:
        """4 processes on one atomic operation: exactly the allowed number win, every round."""
        store = store_opener()
        try:
            targets = _setup(store, op, self.process_rounds)
        finally:
            store.close()
        outcomes = race_workers.race(op, targets)
        for i in range(len(targets)):
            _check_round(op, outcomes[i], PROCESSES)
