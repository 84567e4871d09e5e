"""The store contract suite: what every :class:`~mfakit.repositories.MfaStore` must do.

Subclass the base classes in your test module and override the ``store``
fixture; pytest then runs every inherited test against your adapter::

    import pytest
    from mfakit.testing.contracts import StoreContract, ThreadRaceContract

    class TestMyStore(StoreContract, ThreadRaceContract):
        @pytest.fixture
        def store(self):
            store = MyStore(...)
            yield store
            store.close()

* :class:`StoreContract` -- every port's behaviour: round trips, expiry,
  pagination, not-found, duplicates (nothing overwritten), UTC datetimes,
  validation, and ``atomic()`` blocks (commit, rollback, nesting).
* :class:`ThreadRaceContract` -- 16 threads race on each atomic operation,
  over many rounds; exactly the allowed number of callers win.
* :class:`ProcessRaceContract` -- the same with 4 separate processes and their
  own connections; override ``opener`` too.
* :class:`StateMachineContract` -- a Hypothesis state machine compares the
  store with a plain model.

Tests create fresh random ids, so the fixture may share one database between
tests. The suite needs ``pytest`` and ``hypothesis`` (the ``test`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mfakit.testing.contracts._behaviour import StoreContract
    from mfakit.testing.contracts._model import StateMachineContract
    from mfakit.testing.contracts._races import ProcessRaceContract, ThreadRaceContract

__all__ = [
    "ProcessRaceContract",
    "StateMachineContract",
    "StoreContract",
    "ThreadRaceContract",
]

_HOMES = {
    "ProcessRaceContract": "_races",
    "StateMachineContract": "_model",
    "StoreContract": "_behaviour",
    "ThreadRaceContract": "_races",
}


def __getattr__(name: str) -> Any:
    # Lazy, so the race worker processes (which import a sibling module) start
    # without importing pytest and hypothesis.
    if name in _HOMES:
        import importlib  # noqa: PLC0415 - lazy on purpose

        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(name)
