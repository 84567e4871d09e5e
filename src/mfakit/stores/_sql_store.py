"""The SQL store: every port, for the SQLite and PostgreSQL dialects."""

from __future__ import annotations

from mfakit.stores._sql_factors import FactorPorts
from mfakit.stores._sql_flows import FlowPorts
from mfakit.stores._sql_orgs import OrgPorts

__all__ = ["SqlStore"]


class SqlStore(FactorPorts, FlowPorts, OrgPorts):
    """Every port of :class:`mfakit.repositories.MfaStore` over a SQL connection pool."""
