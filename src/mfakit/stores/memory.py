"""An in-memory store: thread-safe, for tests and small single-process apps.

Every method runs under one lock, so each is atomic with respect to the
others. Nothing survives the process.

Example::

    from mfakit.stores.memory import MemoryStore

    store = MemoryStore()
"""

from __future__ import annotations

from mfakit.stores._memory_factors import FactorPorts
from mfakit.stores._memory_flows import FlowPorts
from mfakit.stores._memory_orgs import OrgPorts
from mfakit.stores._memory_outbox import OutboxPorts
from mfakit.stores._memory_summaries import SummaryPorts

__all__ = ["MemoryStore"]


class MemoryStore(FactorPorts, FlowPorts, OrgPorts, SummaryPorts, OutboxPorts):
    """Implements every port of :class:`mfakit.repositories.MfaStore` in process memory."""

    def __repr__(self) -> str:
        return "MemoryStore()"
