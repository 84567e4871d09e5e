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

    def opener(self, store: MfaStore) -> Callable[[], MfaStore]:
        """Open the same file in a child process."""
        assert isinstance(store, SQLiteStore)
        return functools.partial(SQLiteStore, store._path)


def test_all_is_pinned() -> None:
    """The module's public names are exactly these."""
    assert sqlite.__all__ == ["SQLiteStore"]
