"""The PostgreSQL store: psycopg 3, for deployments with many application servers.

Install the extra: ``pip install 'mfakit[postgres]'``.

* Atomic operations are single conditional statements (``UPDATE ... WHERE``,
  ``DELETE ... RETURNING``, ``INSERT ... ON CONFLICT ... RETURNING``) or short
  transactions that lock their rows first (``SELECT ... FOR UPDATE``), at the
  default READ COMMITTED isolation.
* Each call borrows a connection from a small built-in pool (or from your
  factory), in autocommit mode; driver errors become :class:`~mfakit.errors.StoreError`.
* Schema migrations by a version table, serialized between servers by an
  advisory lock, applied when the store opens.

Example::

    from mfakit.stores.postgres import PostgresStore

    store = PostgresStore("postgresql://mfa@db.internal/mfa")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mfakit.errors import ConfigurationError, StoreError

try:
    import psycopg
except ImportError as _exc:  # pragma: no cover - the extra is installed in the test suite
    raise ImportError("PostgresStore needs psycopg 3: pip install 'mfakit[postgres]'") from _exc

from mfakit.stores._sql import Dialect, Pool
from mfakit.stores._sql_store import SqlStore

__all__ = ["PostgresStore"]

# An arbitrary constant naming the advisory lock that serializes migrations.
_MIGRATION_LOCK_ID = 0x6D66616B6974

_DIALECT = Dialect(
    name="PostgreSQL",
    begin_write="BEGIN",
    for_update=" FOR UPDATE",
    paramstyle_format=True,
    types={"blob": "BYTEA", "key": 'TEXT COLLATE "C"', "serial": "BIGSERIAL PRIMARY KEY"},
    driver_error=psycopg.Error,
    is_duplicate=lambda exc: isinstance(exc, psycopg.errors.UniqueViolation),
    is_reusable=lambda conn: (
        not conn.closed and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    ),
    migration_lock=f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})",
)


class PostgresStore(SqlStore):
    """Implements every port of :class:`mfakit.repositories.MfaStore` on PostgreSQL.

    Args:
        dsn: A libpq connection string or URI. Give this or ``connect``.
        connect: A callable returning a new ``psycopg.Connection`` (for custom
            settings, SSL, or credentials fetched at connect time).
        max_idle: Idle connections kept for reuse.

    Raises:
        ConfigurationError: neither or both of ``dsn`` and ``connect``.
        StoreError: the server cannot be reached, or its schema is newer than this mfakit.
    """

    _dialect = _DIALECT

    def __init__(
        self,
        dsn: str | None = None,
        *,
        connect: Callable[[], psycopg.Connection[Any]] | None = None,
        max_idle: int = 8,
    ) -> None:
        if (dsn is None) == (connect is None):
            raise ConfigurationError("give PostgresStore either a dsn or a connect factory")
        # Kept for tests that open a second store on the same database.
        self._dsn_for_tests = dsn
        if connect is not None:
            opener = connect
        else:
            target = dsn or ""

            def opener() -> psycopg.Connection[Any]:
                return psycopg.connect(target)

        def open_connection() -> psycopg.Connection[Any]:
            conn = opener()
            # Autocommit: one statement is one transaction; the store issues
            # BEGIN/COMMIT itself around its multi-statement writes.
            conn.autocommit = True
            return conn

        super().__init__(Pool(open_connection, max_idle=max_idle))
        try:
            self._migrate()
        except StoreError:
            self.close()
            raise

    def __repr__(self) -> str:
        return "PostgresStore()"
