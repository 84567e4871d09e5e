"""rewrap_secrets on several servers at once, and racing sign-ins, on SQLite and PostgreSQL.

Each thread has its own service and its own store (its own connections) on one
database, as separate application servers would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from service_databases import StoreFactory, opener
from service_helpers import ORIGIN, RP_ID, SETTINGS, START, App, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.repositories import MfaStore
from mfakit.secretbox import TOTP_SECRET_PURPOSE, KeyRing, generate_key, parse_envelope
from mfakit.service import InMemoryOutbox, MfaService, RelyingParty, RewrapProgress

OLD, NEW = generate_key(), generate_key()
BEFORE = KeyRing({"old": OLD}, current="old")
DURING = KeyRing({"new": NEW, "old": OLD}, current="new")
AFTER = KeyRing({"new": NEW}, current="new")
USERS = [f"u{i:02d}" for i in range(24)]
SERVERS = 4
STEPS = 15


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Opens stores on one fresh SQLite file or PostgreSQL database."""
    dsn = request.getfixturevalue("service_postgres_dsn") if request.param == "postgres" else ""
    return opener(request.param, path=tmp_path / "rewrap.sqlite3", dsn=dsn)


def _service(store: MfaStore, clock: FrozenClock, ring: KeyRing) -> MfaService:
    return MfaService(
        store=store,
        keys=ring,
        notifier=InMemoryOutbox(),
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=SETTINGS,
    )


@pytest.fixture
def stores(open_store: StoreFactory) -> Iterator[list[MfaStore]]:
    """One store per server, on the same database."""
    opened = [open_store() for _ in range(SERVERS)]
    yield opened
    for store in opened:
        store.close()


@pytest.fixture
def apps(stores: list[MfaStore]) -> tuple[FrozenClock, dict[str, App]]:
    """The users, enrolled under the old key."""
    clock = FrozenClock(START)
    before = _service(stores[0], clock, BEFORE)
    return clock, {user: enroll_totp(before, clock, user)[0] for user in USERS}


def _full_run(service: MfaService, barrier: threading.Barrier) -> list[RewrapProgress]:
    barrier.wait()
    batches, after = [], None
    while True:
        progress = service.rewrap_secrets(batch=5, after=after)
        batches.append(progress)
        if progress.done:
            return batches
        after = progress.next_cursor


def _parallel(jobs: list[Callable[[], object]]) -> list[object]:
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(job) for job in jobs]
        return [f.result(timeout=120) for f in futures]


def _check_all_under_new_key(store: MfaStore) -> None:
    credentials = store.list_totp_credentials(limit=1000).items
    assert len(credentials) == len(USERS)
    for credential in credentials:
        assert parse_envelope(credential.secret).key_id == "new"
        secret = AFTER.decrypt(
            credential.secret, owner=credential.user_id, purpose=TOTP_SECRET_PURPOSE
        )
        assert len(secret) == 20


def test_parallel_runs_rewrap_each_row_once(
    stores: list[MfaStore], apps: tuple[FrozenClock, dict[str, App]]
) -> None:
    """Four servers running the job at once: every row moved exactly once, none damaged."""
    clock, users = apps
    services = [_service(s, clock, DURING) for s in stores]
    barrier = threading.Barrier(SERVERS, timeout=30)
    runs = _parallel([lambda s=s: _full_run(s, barrier) for s in services])
    batches = [b for run in runs for b in run]  # type: ignore[attr-defined]
    assert sum(b.rewrapped for b in batches) == len(USERS)
    assert sum(b.rewrapped + b.already_current + b.raced for b in batches) == len(USERS) * SERVERS
    assert not any(b.failed for b in batches)
    _check_all_under_new_key(stores[0])
    after = _service(stores[0], clock, AFTER)
    for user, app in users.items():
        assert after.verify_totp(user, app.code()).user_id == user


def test_rewrap_racing_sign_ins_keeps_replay_state_and_secret(
    stores: list[MfaStore], apps: tuple[FrozenClock, dict[str, App]]
) -> None:
    """Sign-ins and step advances racing the job: none is lost, every secret still opens."""
    clock, users = apps
    rewrappers = [_service(s, clock, DURING) for s in stores[:2]]
    signer_store = stores[2]
    signer = _service(stores[3], clock, DURING)
    barrier = threading.Barrier(4, timeout=30)
    step = users[USERS[0]].totp.step(clock.now())

    signing, advancing = USERS[::2], USERS[1::2]
    devices = {u: stores[0].list_totp_devices(u)[0].totp_id for u in advancing}

    def sign_ins() -> list[bool]:
        barrier.wait()
        return [signer.verify_totp(u, users[u].code()).user_id == u for u in signing]

    def advances() -> list[bool]:
        barrier.wait()
        # What later sign-ins record: each step above the last must be accepted once.
        return [
            signer_store.advance_totp_step(devices[user], step + k, now=clock.now())
            for k in range(1, STEPS + 1)
            for user in advancing
        ]

    results = _parallel(
        [
            sign_ins,
            advances,
            *[lambda s=s: _full_run(s, barrier) for s in rewrappers],
        ]
    )
    assert all(results[0])  # type: ignore[arg-type]
    assert all(results[1])  # type: ignore[arg-type]
    batches = [b for run in results[2:] for b in run]  # type: ignore[attr-defined]
    assert sum(b.rewrapped for b in batches) == len(USERS)
    _check_all_under_new_key(stores[0])
    for user in USERS:
        (active,) = stores[0].list_totp_devices(user)
        assert active.last_step == (step if user in signing else step + STEPS)
