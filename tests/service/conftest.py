"""Fixtures of the service tests: one service per test over each of the three stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from service_helpers import ORIGIN, START, build_service

from mfakit.clock import FrozenClock
from mfakit.repositories import MfaStore
from mfakit.service import InMemoryOutbox, MfaService
from mfakit.stores.memory import MemoryStore
from mfakit.stores.postgres import PostgresStore
from mfakit.stores.sqlite import SQLiteStore
from mfakit.testing import SoftAuthenticator
from mfakit.testing.postgres import TemporaryPostgres


@pytest.fixture(scope="session")
def service_postgres() -> Iterator[TemporaryPostgres]:
    """A private PostgreSQL server for the service tests, deleted after the session."""
    with TemporaryPostgres(database="mfakit_service") as pg:
        yield pg


@pytest.fixture(scope="session")
def service_postgres_dsn(service_postgres: TemporaryPostgres) -> str:
    """The DSN of the service tests' shared database."""
    return service_postgres.dsn


def _truncate(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename LIKE 'mfa\\_%' AND tablename <> 'mfa_schema_version'"
        ).fetchall()
        if rows:
            names = ", ".join(f'"{r[0]}"' for r in rows)
            conn.execute(f"TRUNCATE {names} CASCADE")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MfaStore]:
    """Each store in turn, empty."""
    opened: MfaStore
    if request.param == "memory":
        opened = MemoryStore()
    elif request.param == "sqlite":
        opened = SQLiteStore(tmp_path / "mfa.sqlite3")
    else:
        dsn: str = request.getfixturevalue("service_postgres_dsn")
        opened = PostgresStore(dsn)
        _truncate(dsn)
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock at the start of a time step."""
    return FrozenClock(START)


@pytest.fixture
def outbox() -> InMemoryOutbox:
    """The messages the service sent."""
    return InMemoryOutbox()


@pytest.fixture
def service(store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox) -> MfaService:
    """A service over the store, with cheap Argon2 for speed."""
    return build_service(store, clock, outbox)


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    """A software passkey for the console's origin."""
    return SoftAuthenticator(origin=ORIGIN)
