"""The stores are built by composition: a facade over one part per port, sharing one context."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from mfakit import repositories
from mfakit.stores._facade import StoreFacade, StoreParts
from mfakit.stores.memory import MemoryStore
from mfakit.stores.postgres import PostgresStore
from mfakit.stores.sqlite import SQLiteStore

PORTS = {
    "totp": repositories.TotpRepository,
    "backup_codes": repositories.BackupCodeRepository,
    "webauthn": repositories.WebAuthnCredentialRepository,
    "challenges": repositories.ChallengeRepository,
    "login_codes": repositories.LoginCodeRepository,
    "throttles": repositories.ThrottleRepository,
    "user_state": repositories.UserStateRepository,
    "trusted_browsers": repositories.TrustedBrowserRepository,
    "organizations": repositories.OrganizationRepository,
    "memberships": repositories.MembershipRepository,
    "invitations": repositories.InvitationRepository,
    "audit": repositories.AuditSink,
    "outbox": repositories.OutboxRepository,
}
PORT_METHODS = {
    name: port
    for port in PORTS.values()
    for name, value in vars(port).items()
    if inspect.isfunction(value) and not name.startswith("_")
}


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFacade]:
    """A store of each family (PostgreSQL builds the same SQL parts as SQLite)."""
    store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "s.sqlite3")
    yield store
    store.close()


def test_every_port_is_one_part() -> None:
    """StoreParts names one part per port, plus the context."""
    fields = [f.name for f in dataclasses.fields(StoreParts)]
    assert fields == ["context", *PORTS]


@pytest.mark.parametrize("cls", [MemoryStore, SQLiteStore, PostgresStore])
def test_store_is_a_one_level_facade(cls: type[StoreFacade]) -> None:
    """Each store subclasses the facade once and overrides no port method."""
    assert cls.__bases__ == (StoreFacade,)
    assert StoreFacade.__bases__ == (object,)
    assert not set(vars(cls)) & {*PORT_METHODS, "atomic", "close"}


@pytest.mark.parametrize("name", sorted(PORT_METHODS))
def test_facade_method_names_its_port_method(name: str) -> None:
    """The facade defines each port method itself, with a docstring naming the port's."""
    method = vars(StoreFacade)[name]
    assert f"{PORT_METHODS[name].__name__}.{name}`" in (method.__doc__ or "")
    assert inspect.signature(method) == inspect.signature(getattr(PORT_METHODS[name], name))


def test_parts_inherit_from_nothing(store: StoreFacade) -> None:
    """Every part and the context are plain classes, each part implementing its port."""
    context = store._context
    assert type(context).__bases__ == (object,)
    for attr, port in PORTS.items():
        part = getattr(store, f"_{attr}")
        assert type(part).__bases__ == (object,), attr
        assert isinstance(part, port), attr
        shared = "_state" if isinstance(store, MemoryStore) else "_sql"
        assert getattr(part, shared) is context, attr
