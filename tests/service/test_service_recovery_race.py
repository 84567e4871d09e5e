"""Recovery under concurrency, with separate connections on SQLite and PostgreSQL.

* Two owners reset one member at the same instant, round after round: exactly
  one reset takes effect (one audit event, one notice, one session
  revocation); the other is refused with ``no_methods_to_reset``.
* A sign-in that checked a TOTP code before the reset, but records it after
  the reset committed, fails: the deleted factor cannot complete a sign-in.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from service_databases import StoreFactory, opener
from service_helpers import START, enroll_totp
from store_spy import StoreSpy
from test_service_recovery import RecordingRevoker, build

from mfakit.clock import FrozenClock
from mfakit.errors import MfaError, PolicyDeniedError, ReplayedCodeError
from mfakit.policy import OrgPolicy, ReasonCode
from mfakit.repositories import MfaStore
from mfakit.service import InMemoryOutbox, MfaReset, MfaService

ORG = "acme"
ROUNDS = 4
REASON = "lost phone"


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Opens stores on one fresh SQLite file or PostgreSQL database."""
    dsn = request.getfixturevalue("service_postgres_dsn") if request.param == "postgres" else ""
    return opener(request.param, path=tmp_path / "race.sqlite3", dsn=dsn)


class World:
    """Two owners' services on their own connections, a member, shared clock and outbox."""

    def __init__(self, open_store: StoreFactory) -> None:
        self.clock = FrozenClock(START)
        self.outbox = InMemoryOutbox()
        self.revoker = RecordingRevoker()
        self.stores: list[MfaStore] = [open_store(), open_store(), open_store()]
        self.services = [build(s, self.clock, self.outbox, self.revoker) for s in self.stores[:2]]
        first = self.services[0]
        enroll_totp(first, self.clock, "o1")
        enroll_totp(first, self.clock, "o2")
        # No step-up, so the owners can act at once in every round.
        policy = OrgPolicy(step_up_actions=frozenset())
        first.create_organization(ORG, name="Acme", owner_id="o1", policy=policy)
        first.add_member(ORG, "o2", kind="owner")
        first.add_member(ORG, "mia")

    def close(self) -> None:
        for store in self.stores:
            store.close()


@pytest.fixture
def world(open_store: StoreFactory) -> Iterator[World]:
    """The shared database with two owners and a member."""
    opened = World(open_store)
    yield opened
    opened.close()


def _resets(store: MfaStore) -> int:
    events = store.list_audit_events(user_id="mia", limit=1000).items
    return sum(1 for e in events if e.action == "member.mfa_reset")


def _reset_at_once(services: list[MfaService]) -> list[str]:
    """Both owners reset mia at the same instant; each outcome: reset or the refusal's code."""
    barrier = threading.Barrier(len(services), timeout=30)

    def reset(pair: tuple[MfaService, str]) -> str:
        service, actor = pair
        barrier.wait()
        try:
            service.reset_member_mfa(ORG, "mia", actor_id=actor, reason=REASON)
        except PolicyDeniedError as exc:
            return ",".join(exc.decision.codes)
        return "reset"

    pairs = list(zip(services, ("o1", "o2"), strict=True))
    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        return sorted(pool.map(reset, pairs))


def test_two_owners_resetting_at_once_reset_once(world: World) -> None:
    """Of two simultaneous resets, exactly one takes effect; the other is refused."""
    for round_ in range(ROUNDS):
        enroll_totp(world.services[0], world.clock, "mia")
        outcomes = _reset_at_once(world.services)
        assert outcomes == [ReasonCode.NO_METHODS_TO_RESET.value, "reset"]
        world.services[0].deliver_notifications()
        assert _resets(world.stores[0]) == round_ + 1
        assert len(world.revoker.calls) == round_ + 1
        assert len(world.outbox.of_type(MfaReset, user_id="mia")) == round_ + 1
        assert world.stores[0].list_totp_devices("mia") == ()
        world.clock.advance(60)


def _gated(store: MfaStore, reached: threading.Event, go: threading.Event) -> MfaStore:
    """``store`` whose ``advance_totp_step`` waits, after the code was checked, for ``go``."""

    def advance_totp_step(self: Any, totp_id: str, step: int, *, now: Any) -> bool:
        reached.set()
        assert go.wait(30)
        return bool(self.wrapped.advance_totp_step(totp_id, step, now=now))

    gated_type = type("Gated", (StoreSpy,), {"advance_totp_step": advance_totp_step})
    gated: MfaStore = gated_type(store)
    return gated


def test_a_sign_in_racing_a_reset_cannot_use_the_deleted_factor(world: World) -> None:
    """The code is checked before the reset; recording it after the reset commits fails."""
    app, _ = enroll_totp(world.services[0], world.clock, "mia")
    reached, go = threading.Event(), threading.Event()
    signing_in = build(
        _gated(world.stores[2], reached, go), world.clock, world.outbox, world.revoker
    )
    code = app.code()
    outcome: list[object] = []

    def sign_in() -> None:
        try:
            outcome.append(signing_in.verify_totp("mia", code))
        except MfaError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=sign_in)
    thread.start()
    assert reached.wait(30)
    world.services[1].reset_member_mfa(ORG, "mia", actor_id="o2", reason=REASON)
    go.set()
    thread.join(30)
    (result,) = outcome
    assert isinstance(result, ReplayedCodeError)
    assert world.stores[0].list_totp_devices("mia") == ()
    assert world.revoker.calls == [("mia", "mfa_reset", ORG)]
