"""The resend cool-down holds under parallel requests from many servers.

Eight threads, each with its own service and its own store connection, ask
for a code for one username at the same instant, round after round; the
clock moves one cool-down between rounds. Exactly one request per window may
issue (and send) a code; the others are throttled.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from service_databases import StoreFactory, opener
from service_helpers import ORIGIN, RP_ID, SETTINGS, START

from mfakit.clock import FrozenClock
from mfakit.errors import ThrottledError
from mfakit.repositories import MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import InMemoryOutbox, LoginCode, MfaService, RelyingParty

THREADS = 8
ROUNDS = 6
ORG = "acme"
KEYS = KeyRing({"k1": generate_key()}, current="k1")


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Opens stores on one fresh SQLite file or PostgreSQL database."""
    dsn = request.getfixturevalue("service_postgres_dsn") if request.param == "postgres" else ""
    return opener(request.param, path=tmp_path / "race.sqlite3", dsn=dsn)


def _service(store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox) -> MfaService:
    return MfaService(
        store=store,
        keys=KEYS,
        notifier=outbox,
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=SETTINGS,
    )


@pytest.fixture
def services(
    open_store: StoreFactory,
) -> Iterator[tuple[list[MfaService], FrozenClock, InMemoryOutbox]]:
    """Eight services, each on its own store, sharing a clock and a notifier."""
    clock = FrozenClock(START)
    outbox = InMemoryOutbox()
    stores = [open_store() for _ in range(THREADS)]
    services = [_service(s, clock, outbox) for s in stores]
    services[0].create_organization(ORG, name="Acme", owner_id="owner")
    services[0].add_member(ORG, "iam", username="jane")
    yield services, clock, outbox
    for store in stores:
        store.close()


def _round(services: list[MfaService], username: str) -> int:
    """Every service asks at once; return how many requests issued a code."""
    barrier = threading.Barrier(len(services), timeout=30)

    def ask(service: MfaService) -> bool:
        barrier.wait()
        try:
            service.send_login_code(ORG, username)
        except ThrottledError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        return sum(pool.map(ask, services))


@pytest.mark.parametrize("username", ["jane", "nobody"])
def test_one_code_per_cooldown_window(
    services: tuple[list[MfaService], FrozenClock, InMemoryOutbox], username: str
) -> None:
    """Of eight parallel requests, exactly one issues a code in each cool-down window."""
    pool, clock, _outbox = services
    cooldown = SETTINGS.login_codes.resend_cooldown
    issued = []
    for _ in range(ROUNDS):
        issued.append(_round(pool, username))
        clock.advance(cooldown)
    assert issued == [1] * ROUNDS


def test_one_message_per_cooldown_window(
    services: tuple[list[MfaService], FrozenClock, InMemoryOutbox],
) -> None:
    """Of eight parallel requests, exactly one code is sent in each cool-down window."""
    pool, clock, outbox = services
    cooldown = SETTINGS.login_codes.resend_cooldown
    sent = []
    for _ in range(ROUNDS):
        before = len(outbox.of_type(LoginCode))
        _round(pool, "jane")
        pool[0].deliver_notifications()
        sent.append(len(outbox.of_type(LoginCode)) - before)
        clock.advance(cooldown)
    assert sent == [1] * ROUNDS
