"""The SQLite store: stdlib :mod:`sqlite3`, the embedded default.

* WAL journal, foreign keys on, a busy timeout so concurrent writers wait
  instead of failing, and ``synchronous=NORMAL`` by default (a crash of the
  process never loses a committed write; pass ``synchronous="FULL"`` to also
  survive power loss).
* Safe across threads (each call borrows a connection from a small pool, so a
  connection is never shared by two threads at once) and across processes
  sharing the file (SQLite's file locks; writes that read first start with
  ``BEGIN IMMEDIATE``).
* Schema migrations by a version table, applied when the store opens.

Example::

    from mfakit.stores.sqlite import SQLiteStore

    store = SQLiteStore("mfa.sqlite3")
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import Literal, TypeVar

from mfakit.errors import ConfigurationError, StoreError
from mfakit.stores._facade import StoreFacade
from mfakit.stores._sql import Conn, Dialect, Pool, SqlContext
from mfakit.stores._sql_store import sql_store_parts

__all__ = ["SQLiteStore"]

T = TypeVar("T")

_UNIQUE_CODES = frozenset({sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE})

_DIALECT = Dialect(
    name="SQLite",
    begin_write="BEGIN IMMEDIATE",
    for_update="",
    paramstyle_format=False,
    types={"blob": "BLOB", "key": "TEXT", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"},
    driver_error=sqlite3.Error,
    is_duplicate=lambda exc: getattr(exc, "sqlite_errorcode", None) in _UNIQUE_CODES,
    is_reusable=lambda conn: not conn.in_transaction,
)


class SQLiteStore(StoreFacade):
    """Implements every port of :class:`mfakit.repositories.MfaStore` on an SQLite file.

    A facade: a ``SqlContext`` over a small connection pool and the SQLite
    dialect, shared by the SQL parts (the same as
    :class:`~mfakit.stores.postgres.PostgresStore`'s); every method delegates
    to its part.

    Args:
        path: The database file (created if missing). ``":memory:"`` is refused:
            every connection would see a different database; use
            :class:`~mfakit.stores.memory.MemoryStore`.
        busy_timeout: Seconds a writer waits for another one before failing.
        synchronous: ``"NORMAL"`` (durable against process crashes) or ``"FULL"``
            (also against power loss).

    Raises:
        ConfigurationError: a bad argument.
        StoreError: the file cannot be opened, or its schema is newer than this mfakit.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 10.0,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
    ) -> None:
        location = os.fspath(path)
        if location == ":memory:" or location.startswith("file:"):
            raise ConfigurationError("SQLiteStore needs a file path; use MemoryStore in memory")
        if synchronous not in ("NORMAL", "FULL"):
            raise ConfigurationError("synchronous must be 'NORMAL' or 'FULL'")
        if busy_timeout <= 0:
            raise ConfigurationError("busy_timeout must be positive")
        self._path = location

        def connect() -> sqlite3.Connection:
            # isolation_level=None: no implicit transactions; the store issues
            # BEGIN IMMEDIATE itself where a write must see what it read.
            conn = sqlite3.connect(
                location, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute(f"PRAGMA synchronous = {synchronous}")
            except sqlite3.Error:
                conn.close()
                raise
            return conn

        self._pool = Pool(connect)
        self._sql = SqlContext(self._pool, _DIALECT)
        super().__init__(sql_store_parts(self._sql))
        try:
            self._sql.call(lambda c: c.all("PRAGMA journal_mode = WAL"))
            self._sql.migrate()
        except StoreError:
            self._sql.close()
            raise

    def schema_version(self) -> int:
        """Return the schema version of the database."""
        return self._sql.schema_version()

    def _call(self, fn: Callable[[Conn], T], *, write: bool = False) -> T:
        # Back door for tests: run fn on a connection, as a port call would.
        return self._sql.call(fn, write=write)

    def __repr__(self) -> str:
        return f"SQLiteStore({self._path!r})"
