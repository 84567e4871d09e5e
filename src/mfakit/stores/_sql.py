"""The context of the SQL stores: connections, dialect, transactions, migrations.

:class:`SqlContext` is what every SQL part shares (see
:mod:`mfakit.stores._facade`): where connections come from, the
:class:`Dialect`, and how a call or an ``atomic()`` block runs as a
transaction. Both databases run the same statements; a small :class:`Dialect` says how they
differ (placeholders, column types, how a write transaction starts, which driver
exceptions mean what). Every atomic port method is either one conditional
statement (``UPDATE ... WHERE <expected state>``, ``DELETE ... RETURNING``,
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``), which both databases run
atomically, or a short write transaction that takes its row locks first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from mfakit.errors import DuplicateError, MfaError, StoreError
from mfakit.stores._schema import MIGRATIONS

__all__ = ["Conn", "ConnectionSource", "Dialect", "Pool", "Row", "SqlContext"]

T = TypeVar("T")
Row = tuple[Any, ...]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    """What differs between the SQL databases."""

    name: str
    begin_write: str
    for_update: str
    paramstyle_format: bool
    types: dict[str, str]
    driver_error: type[BaseException]
    is_duplicate: Callable[[BaseException], bool]
    is_reusable: Callable[[Any], bool]
    migration_lock: str | None = None
    #: Opens a read-only snapshot of several statements (see ``SqlContext.call``).
    begin_read: str = "BEGIN"

    def sql(self, statement: str) -> str:
        """Translate ``?`` placeholders to the driver's style."""
        return _format_style(statement) if self.paramstyle_format else statement


@functools.lru_cache(maxsize=1024)
def _format_style(statement: str) -> str:
    # The statements are this module's constants and contain no literal "?" or "%".
    return statement.replace("?", "%s")


class Conn:
    """A connection with the dialect's placeholder translation."""

    __slots__ = ("_dialect", "raw")

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw = raw
        self._dialect = dialect

    def run(self, statement: str, params: Sequence[Any] = ()) -> int:
        cursor = self.raw.execute(self._dialect.sql(statement), tuple(params))
        return int(cursor.rowcount)

    def one(self, statement: str, params: Sequence[Any] = ()) -> Row | None:
        # fetchall, not fetchone: sqlite3 only finishes (and, in autocommit
        # mode, commits) a statement with RETURNING once every row is read.
        rows = self.all(statement, params)
        return rows[0] if rows else None

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        rows: list[Row] = self.raw.execute(self._dialect.sql(statement), tuple(params)).fetchall()
        return rows


class ConnectionSource(Protocol):
    """Where :class:`SqlContext` borrows connections: one call or one atomic block each.

    SQLite uses :class:`Pool`; PostgreSQL adapts a ``psycopg_pool.ConnectionPool``.
    """

    def acquire(self) -> Any:
        """Return a connection for this thread's exclusive use, in autocommit mode.

        Raises:
            StoreError: the source is closed or has no connection to give.
        """

    def release(self, conn: Any, *, discard: bool) -> None:
        """Give back a connection from :meth:`acquire`; ``discard`` means it is broken."""

    def close(self) -> None:
        """Stop handing out connections (those given back later are closed)."""


class Pool:
    """SQLite's connection source: idle connections kept for reuse.

    A connection is used by one thread at a time, and the number of open
    connections follows the real concurrency instead of the number of threads
    that ever called the store. Opening an SQLite connection never waits on a
    server, so there is no size limit to wait on.
    """

    def __init__(self, connect: Callable[[], Any], *, max_idle: int = 8) -> None:
        self._connect = connect
        self._max_idle = max_idle
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self.closed = False

    def acquire(self) -> Any:
        """Return an idle connection, or a new one."""
        with self._lock:
            if self.closed:
                raise StoreError("the store is closed")
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def release(self, conn: Any, *, discard: bool) -> None:
        """Give a connection back (closing it if broken, surplus or the pool is closed)."""
        with self._lock:
            if not discard and not self.closed and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        _close_quietly(conn)

    def close(self) -> None:
        """Close every idle connection; borrowed ones close when given back."""
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            _close_quietly(conn)


def _close_quietly(conn: Any) -> None:
    # A connection that fails to close is unusable anyway; nothing to report.
    with contextlib.suppress(Exception):
        conn.close()


class SqlContext:
    """Connection handling, transactions, error wrapping and migrations.

    Every SQL part receives the store's one context and runs its statements
    through :meth:`call`, so each port call is one transaction (or one
    savepoint inside :meth:`atomic`) and driver errors are wrapped the same
    way everywhere.

    Args:
        source: Where connections are borrowed.
        dialect: How the database differs.
    """

    __slots__ = ("_local", "_source", "dialect")

    def __init__(self, source: ConnectionSource, dialect: Dialect) -> None:
        self._source = source
        self.dialect = dialect
        # The connection of the thread's open atomic() block, if any.
        self._local = threading.local()

    # -- calls and transactions -------------------------------------------------------

    def _wrap(self, exc: BaseException) -> StoreError:
        if self.dialect.is_duplicate(exc):
            return DuplicateError("the record already exists; nothing was written")
        return StoreError(f"the {self.dialect.name} database failed")

    def _run_in(self, conn: Conn, fn: Callable[[Conn], T], begin: str, end: str, undo: str) -> T:
        conn.run(begin)
        try:
            result = fn(conn)
        except BaseException:
            # If even the rollback fails the connection is discarded on release.
            with contextlib.suppress(self.dialect.driver_error):
                conn.run(undo)
            raise
        conn.run(end)
        return result

    def call(self, fn: Callable[[Conn], T], *, write: bool = False, snapshot: bool = False) -> T:
        """Run ``fn`` on a borrowed connection, in a write transaction if asked.

        ``snapshot`` runs a read of several statements in one read transaction
        (``Dialect.begin_read``), so they see one consistent state.

        Inside :meth:`atomic` it runs on the block's connection, under a
        savepoint, so a failed call leaves the block usable. Driver errors
        become :class:`StoreError` (unique violations :class:`DuplicateError`);
        mfakit errors roll the call back and pass through.
        """
        try:
            pinned: Conn | None = getattr(self._local, "conn", None)
            if pinned is not None:
                return self._run_in(
                    pinned,
                    fn,
                    "SAVEPOINT mfa_call",
                    "RELEASE SAVEPOINT mfa_call",
                    "ROLLBACK TO SAVEPOINT mfa_call",
                )
            raw = self._source.acquire()
            try:
                conn = Conn(raw, self.dialect)
                if write:
                    return self._run_in(conn, fn, self.dialect.begin_write, "COMMIT", "ROLLBACK")
                if snapshot:
                    return self._run_in(conn, fn, self.dialect.begin_read, "COMMIT", "ROLLBACK")
                return fn(conn)
            finally:
                # A connection that died, or was left inside a transaction, is dropped.
                self._source.release(raw, discard=not self.dialect.is_reusable(raw))
        except MfaError:
            raise
        except self.dialect.driver_error as exc:
            raise self._wrap(exc) from exc

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Run the port calls made in the block (by this thread) as one transaction.

        See :meth:`mfakit.repositories.MfaStore.atomic`.
        """
        if getattr(self._local, "conn", None) is not None:
            yield  # nested: part of the enclosing block
            return
        try:
            raw = self._source.acquire()
        except self.dialect.driver_error as exc:
            raise self._wrap(exc) from exc
        conn = Conn(raw, self.dialect)
        try:
            try:
                conn.run(self.dialect.begin_write)
            except self.dialect.driver_error as exc:
                raise self._wrap(exc) from exc
            self._local.conn = conn
            try:
                yield
            except BaseException:
                with contextlib.suppress(self.dialect.driver_error):
                    conn.run("ROLLBACK")
                raise
            finally:
                self._local.conn = None
            try:
                conn.run("COMMIT")
            except self.dialect.driver_error as exc:
                raise self._wrap(exc) from exc
        finally:
            self._source.release(raw, discard=not self.dialect.is_reusable(raw))

    # -- schema -----------------------------------------------------------------------

    def migrate(self) -> None:
        """Apply the missing forward migrations in one transaction.

        Raises:
            StoreError: the database cannot be migrated, or its schema is newer
                than this mfakit.
        """

        def migrate(c: Conn) -> None:
            if self.dialect.migration_lock:
                c.one(self.dialect.migration_lock)
            c.run("CREATE TABLE IF NOT EXISTS mfa_schema_version (version INTEGER NOT NULL)")
            row = c.one("SELECT version FROM mfa_schema_version")
            current = 0 if row is None else int(row[0])
            if current > len(MIGRATIONS):
                raise StoreError(
                    f"the database schema (version {current}) is newer than this mfakit "
                    f"(version {len(MIGRATIONS)})"
                )
            for steps in MIGRATIONS[current:]:
                for step in steps:
                    if isinstance(step, str):
                        c.run(step.format(**self.dialect.types))
                    else:
                        step(c)
            if row is None:
                c.run("INSERT INTO mfa_schema_version (version) VALUES (?)", [len(MIGRATIONS)])
            else:
                c.run("UPDATE mfa_schema_version SET version = ?", [len(MIGRATIONS)])

        self.call(migrate, write=True)

    def schema_version(self) -> int:
        """Return the schema version of the database."""
        row = self.call(lambda c: c.one("SELECT version FROM mfa_schema_version"))
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the store's connections; further calls raise :class:`StoreError`."""
        self._source.close()
