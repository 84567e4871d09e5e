"""PostgresStore against the contract suite, on a throwaway PostgreSQL server."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import pytest

from mfakit.repositories import MfaStore
from mfakit.stores import postgres
from mfakit.stores.postgres import PostgresStore
from mfakit.testing.contracts import (
    ProcessRaceContract,
    StateMachineContract,
    StoreContract,
    ThreadRaceContract,
)


class TestPostgresStore(
    StoreContract, ThreadRaceContract, ProcessRaceContract, StateMachineContract
):
    """The PostgreSQL store passes the whole contract, races of processes included."""

    @pytest.fixture
    def store(self, postgres_dsn: str) -> Iterator[PostgresStore]:
        """A PostgresStore on the session's database."""
        store = PostgresStore(postgres_dsn)
        yield store
        store.close()

    def reopen(self, store: MfaStore) -> MfaStore:
        """A second store instance with its own connections."""
        assert isinstance(store, PostgresStore)
        return PostgresStore(store._dsn_for_tests)

    @pytest.fixture(scope="class")
    @classmethod
    def store_opener(cls, postgres_dsn: str) -> Callable[[], MfaStore]:
        """Open the session's database, in this process or in a race worker."""
        return functools.partial(PostgresStore, postgres_dsn)


def test_all_is_pinned() -> None:
    """The module's public names are exactly these."""
    assert postgres.__all__ == ["PostgresStore"]
