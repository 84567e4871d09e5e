"""The SQL store: every port, for the SQLite and PostgreSQL dialects."""

from __future__ import annotations

from mfakit.stores._sql_factors import FactorPorts
from mfakit.stores._sql_flows import FlowPorts
from mfakit.stores._sql_orgs import OrgPorts
from mfakit.stores._sql_outbox import OutboxPorts
from mfakit.stores._sql_summaries import SummaryPorts

__all__ = ["SqlStore"]


class SqlStore(FactorPorts, FlowPorts, OrgPorts, SummaryPorts, OutboxPorts):
    """Every port of :class:`mfakit.repositories.MfaStore` over a SQL connection pool."""
