"""The PostgreSQL store: psycopg 3, for deployments with many application servers.

Install the extra: ``pip install 'mfakit[postgres]'`` (psycopg and psycopg_pool).

* Atomic operations are single conditional statements (``UPDATE ... WHERE``,
  ``DELETE ... RETURNING``, ``INSERT ... ON CONFLICT ... RETURNING``) or short
  transactions that lock their rows first (``SELECT ... FOR UPDATE``), at the
  default READ COMMITTED isolation.
* Each call borrows a connection from a :class:`psycopg_pool.ConnectionPool`,
  the store's own or one your application already has, and uses it in
  autocommit mode; driver and pool errors become :class:`~mfakit.errors.StoreError`.
* Schema migrations by a version table, serialized between servers by an
  advisory lock, applied when the store opens.

Example::

    from mfakit.stores.postgres import PostgresStore

    store = PostgresStore("postgresql://mfa@db.internal/mfa", max_size=20)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

from mfakit.errors import ConfigurationError, StoreError

try:
    import psycopg
    from psycopg.rows import tuple_row
    from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout
except ImportError as _exc:  # pragma: no cover - the extra is installed in the test suite
    raise ImportError(
        "PostgresStore needs psycopg 3 and psycopg_pool: pip install 'mfakit[postgres]'"
    ) from _exc

from mfakit.stores._facade import StoreFacade
from mfakit.stores._sql import Conn, Dialect, SqlContext
from mfakit.stores._sql_store import sql_store_parts

__all__ = ["PostgresStore"]

T = TypeVar("T")

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
    begin_read="BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
)

_MIN_SIZE = 2
_MAX_SIZE = 10
_TIMEOUT = 10.0

_Connection: TypeAlias = psycopg.Connection[Any]


class _PooledConnections:
    """The store's connection source over a ``psycopg_pool.ConnectionPool``.

    A connection is borrowed for one call or one atomic block and switched to
    autocommit with plain tuple rows (the store issues BEGIN/COMMIT itself and
    reads rows by position); a host pool's own settings are put back before
    the connection is returned to it.
    """

    __slots__ = ("_closed", "_owned", "_saved", "pool")

    def __init__(self, pool: ConnectionPool[_Connection], *, owned: bool) -> None:
        self.pool = pool
        self._owned = owned
        self._closed = False
        # The host's (autocommit, row_factory) of each borrowed connection we changed.
        self._saved: dict[_Connection, tuple[bool, Any]] = {}

    def acquire(self) -> _Connection:
        if self._closed:
            raise StoreError("the store is closed")
        try:
            conn = self.pool.getconn()
        except PoolTimeout as exc:
            raise StoreError(
                f"no PostgreSQL connection became free within {self.pool.timeout:g} s "
                f"(the pool holds at most {self.pool.max_size})"
            ) from exc
        except PoolClosed as exc:
            raise StoreError("the PostgreSQL connection pool is closed") from exc
        settings = (conn.autocommit, conn.row_factory)
        if settings != (True, tuple_row):
            self._saved[conn] = settings
            try:
                conn.autocommit = True
                conn.row_factory = tuple_row
            except BaseException:
                self.release(conn, discard=True)
                raise
        return conn

    def release(self, conn: _Connection, *, discard: bool) -> None:
        settings = self._saved.pop(conn, None)
        try:
            if not discard and settings is not None:
                conn.autocommit, conn.row_factory = settings
        except psycopg.Error:
            discard = True
        if discard:
            # Dead, or stuck in a transaction: close it and the pool opens a
            # replacement. Not conn.close(): a pool made with close_returns=True
            # turns that into giving the connection back.
            conn.pgconn.finish()
        self.pool.putconn(conn)

    def close(self) -> None:
        self._closed = True
        if self._owned:
            self.pool.close()


def _autocommit(conn: _Connection) -> None:
    # One statement is one transaction; the store issues BEGIN/COMMIT itself
    # around its multi-statement writes.
    conn.autocommit = True


def _factory_class(factory: Callable[[], _Connection]) -> type[_Connection]:
    """A connection class whose ``connect`` calls ``factory``, for the pool to use."""

    class FactoryConnection(psycopg.Connection[Any]):
        @classmethod
        def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
            return factory()

    return FactoryConnection


def _open_pool(
    dsn: str,
    connection_class: type[_Connection],
    *,
    min_size: int,
    max_size: int,
    timeout: float,
    check_connections: bool,
) -> ConnectionPool[_Connection]:
    pool: ConnectionPool[_Connection] = ConnectionPool(
        dsn,
        connection_class=connection_class,
        min_size=min_size,
        max_size=max_size,
        timeout=timeout,
        configure=_autocommit,
        # Optionally an empty query at every checkout, so a connection the
        # server dropped (restart, failover, idle timeout) is replaced before a
        # call sees it; it costs a round trip per call. Without it, such a
        # connection fails one call (StoreError) and is then replaced.
        check=ConnectionPool.check_connection if check_connections else None,
        name="mfakit",
        open=True,
    )
    try:
        # A store that opened can serve: wait for min_size connections now.
        pool.wait(timeout=timeout)
    except PoolTimeout as exc:
        pool.close()
        raise StoreError(
            f"could not open {min_size} PostgreSQL connection(s) within {timeout:g} s "
            "(the psycopg.pool logger says why)"
        ) from exc
    return pool


class PostgresStore(StoreFacade):
    """Implements every port of :class:`mfakit.repositories.MfaStore` on PostgreSQL.

    A facade: a ``SqlContext`` over a ``psycopg_pool.ConnectionPool`` and the
    PostgreSQL dialect, shared by the SQL parts (the same as
    :class:`~mfakit.stores.sqlite.SQLiteStore`'s); every method delegates to
    its part.

    Give either a ``dsn``, and the store opens (and, in :meth:`close`, closes)
    its own :class:`psycopg_pool.ConnectionPool`, or the ``pool`` your
    application already has.

    Args:
        dsn: A libpq connection string or URI.
        pool: An open ``psycopg_pool.ConnectionPool`` owned by your application:
            the store borrows from it and never closes it. Its connections may
            use any ``autocommit`` and ``row_factory``: the store switches a
            borrowed connection to autocommit and tuple rows and switches it
            back before returning it.
        min_size: Connections the store's own pool keeps open (default 2).
        max_size: The most connections the store's own pool opens (default 10):
            at least the number of threads that call the store at once.
        timeout: Seconds a call waits for a free connection before raising
            :class:`~mfakit.errors.StoreError` (default 10); also how long opening
            waits for the first ``min_size`` connections.
        check_connections: Check each connection of the store's own pool with
            an empty query when a call borrows it (default off: one round trip
            more per call). Off, a connection the server dropped (a restart, a
            failover) fails one call with :class:`~mfakit.errors.StoreError`
            and is then replaced; on, no call sees it.
        connect: Deprecated: a callable returning a new ``psycopg.Connection``.
            Pass ``pool=ConnectionPool(...)`` instead (its ``kwargs`` and
            ``connection_class`` cover custom settings, SSL and credentials).

    Raises:
        ConfigurationError: not exactly one of ``dsn``, ``pool`` and ``connect``;
            sizes with ``pool``; bad sizes; a pool that is not an open ``ConnectionPool``.
        StoreError: the server cannot be reached, or its schema is newer than this mfakit.

    Example::

        from psycopg_pool import ConnectionPool

        app_pool = ConnectionPool(dsn, max_size=30, open=True)
        store = PostgresStore(pool=app_pool)
        ...
        store.close()  # app_pool stays open
        app_pool.close()
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        pool: ConnectionPool[Any] | None = None,
        min_size: int | None = None,
        max_size: int | None = None,
        timeout: float | None = None,
        check_connections: bool = False,
        connect: Callable[[], _Connection] | None = None,
    ) -> None:
        if sum(x is not None for x in (dsn, pool, connect)) != 1:
            raise ConfigurationError("give PostgresStore one of a dsn, a pool or a connect factory")
        # Kept for tests that open a second store on the same database.
        self._dsn_for_tests = dsn
        if pool is not None:
            if (min_size, max_size, timeout, check_connections) != (None, None, None, False):
                raise ConfigurationError("size and timeout options belong to your own pool")
            if not isinstance(pool, ConnectionPool) or pool.closed:
                raise ConfigurationError("pool must be an open psycopg_pool.ConnectionPool")
            source = _PooledConnections(pool, owned=False)
        else:
            low = _MIN_SIZE if min_size is None else min_size
            high = max(_MAX_SIZE, low) if max_size is None else max_size
            wait = _TIMEOUT if timeout is None else timeout
            if not 0 <= low <= high or high < 1 or wait <= 0:
                raise ConfigurationError(
                    "need 0 <= min_size <= max_size, max_size >= 1 and a positive timeout"
                )
            connection_class: type[_Connection] = psycopg.Connection
            if connect is not None:
                warnings.warn(
                    "PostgresStore(connect=...) is deprecated; pass pool=ConnectionPool(...)",
                    DeprecationWarning,
                    stacklevel=2,
                )
                connection_class = _factory_class(connect)
            owned = _open_pool(
                dsn or "",
                connection_class,
                min_size=low,
                max_size=high,
                timeout=wait,
                check_connections=check_connections,
            )
            source = _PooledConnections(owned, owned=True)
        self._pool = source
        self._sql = SqlContext(source, _DIALECT)
        super().__init__(sql_store_parts(self._sql))
        try:
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
        return "PostgresStore()"
