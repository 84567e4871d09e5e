"""SQLiteStore against the contract suite, plus what only a file database can show."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mfakit.repositories import MfaStore
from mfakit.stores import sqlite
from mfakit.stores.sqlite import SQLiteStore
from mfakit.testing.contracts import (
    ProcessRaceContract,
    StateMachineContract,
    StoreContract,
    ThreadRaceContract,
)


class TestSQLiteStore(StoreContract, ThreadRaceContract, ProcessRaceContract, StateMachineContract):
    """The SQLite store passes the whole contract, races of processes included."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SQLiteStore]:
        """A SQLiteStore on a fresh file."""
        store = SQLiteStore(tmp_path / "mfa.sqlite3")
        yield store
        store.close()

    def reopen(self, store: MfaStore) -> MfaStore:
        """A second store instance on the same file."""
        assert isinstance(store, SQLiteStore)
        return SQLiteStore(store._path)

    @pytest.fixture(scope="class")
    @classmethod
    def store_opener(cls, tmp_path_factory: pytest.TempPathFactory) -> Callable[[], MfaStore]:
        """Open one shared file, in this process or in a race worker."""
        return functools.partial(SQLiteStore, tmp_path_factory.mktemp("race") / "mfa.sqlite3")


def test_all_is_pinned() -> None:
    """The module's public names are exactly these."""
    assert sqlite.__all__ == ["SQLiteStore"]
