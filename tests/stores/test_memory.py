"""MemoryStore against the contract suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mfakit.stores import memory
from mfakit.stores.memory import MemoryStore
from mfakit.testing.contracts import StateMachineContract, StoreContract, ThreadRaceContract


class TestMemoryStore(StoreContract, ThreadRaceContract, StateMachineContract):
    """The in-memory store passes every contract that applies in one process."""

    @pytest.fixture
    def store(self) -> Iterator[MemoryStore]:
        """A fresh MemoryStore."""
        store = MemoryStore()
        yield store
        store.close()


def test_all_is_pinned() -> None:
    """The module's public names are exactly these."""
    assert memory.__all__ == ["MemoryStore"]


def test_repr() -> None:
    """The repr names the class and nothing else."""
    assert repr(MemoryStore()) == "MemoryStore()"
