"""Shared databases for tests where several services (threads or processes) meet.

Each test gets a SQLite file or the session's PostgreSQL database, emptied,
and opens as many stores on it as it needs (one per thread or process).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg

from mfakit.repositories import MfaStore
from mfakit.stores.postgres import PostgresStore
from mfakit.stores.sqlite import SQLiteStore

#: Opens a new store (its own connections) on the test's database.
StoreFactory = Callable[[], MfaStore]


def truncate(dsn: str) -> None:
    """Empty every mfakit table of the PostgreSQL database (the schema stays)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename LIKE 'mfa\\_%' AND tablename <> 'mfa_schema_version'"
        ).fetchall()
        if rows:
            names = ", ".join(f'"{r[0]}"' for r in rows)
            conn.execute(f"TRUNCATE {names} CASCADE")


def opener(kind: str, *, path: Path, dsn: str) -> StoreFactory:
    """A factory of stores on one database: ``sqlite`` (a file) or ``postgres`` (a DSN)."""
    if kind == "sqlite":
        return lambda: SQLiteStore(path)
    PostgresStore(dsn).close()  # creates the schema before anything else connects
    truncate(dsn)
    return lambda: PostgresStore(dsn)
