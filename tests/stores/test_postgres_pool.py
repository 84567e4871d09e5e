"""PostgresStore's connections: its own psycopg_pool, a host's pool, broken and busy connections."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout

from mfakit.errors import ConfigurationError, StoreError
from mfakit.repositories import MfaStore
from mfakit.stores.postgres import PostgresStore
from mfakit.testing.contracts import StoreContract, ThreadRaceContract
from mfakit.testing.contracts._records import NOW, new_id

Pool = ConnectionPool[psycopg.Connection[Any]]


def host_pool(dsn: str, **options: Any) -> Pool:
    """An application's own pool: transactions on, dict rows, as many apps configure it."""
    options = {"min_size": 1, "max_size": 4, "kwargs": {"row_factory": dict_row}} | options
    pool: Pool = ConnectionPool(dsn, open=True, **options)
    pool.wait()
    return pool


def kill_other_backends(dsn: str) -> None:
    """Terminate every other server process on the database, as a restart would."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def backend_pid(store: PostgresStore) -> int:
    """The server process of the connection a call gets (back door)."""
    row = store._call(lambda c: c.one("SELECT pg_backend_pid()"))
    assert row is not None
    return int(row[0])


class TestPostgresStoreOnHostPool(StoreContract, ThreadRaceContract):
    """The whole contract and the thread races, on a pool the application owns."""

    @pytest.fixture(scope="class")
    @classmethod
    def pool(cls, postgres_dsn: str) -> Iterator[Pool]:
        """One host pool for the class, non-autocommit with dict rows."""
        pool = host_pool(postgres_dsn, max_size=8)
        yield pool
        pool.close()

    @pytest.fixture
    def store(self, pool: Pool) -> Iterator[PostgresStore]:
        """A PostgresStore borrowing from the host pool."""
        store = PostgresStore(pool=pool)
        yield store
        store.close()

    def reopen(self, store: MfaStore) -> MfaStore:
        """A second store on the same host pool."""
        assert isinstance(store, PostgresStore)
        return PostgresStore(pool=store._pool.pool)  # type: ignore[attr-defined]


def test_own_pool_opened_sized_and_closed(postgres_dsn: str) -> None:
    """From a DSN the store opens its own autocommit pool of the given sizes, and closes it."""
    store = PostgresStore(postgres_dsn, min_size=1, max_size=3, timeout=5)
    pool = store._pool.pool  # type: ignore[attr-defined]
    assert (pool.min_size, pool.max_size, pool.timeout) == (1, 3, 5)
    with pool.connection() as conn:
        assert conn.autocommit
    store.close()
    assert pool.closed
    with pytest.raises(StoreError, match="closed"):
        store.get_throttle("k")


def test_host_pool_stays_open_after_close(postgres_dsn: str) -> None:
    """store.close() leaves the host's pool open and usable; the store itself refuses calls."""
    pool = host_pool(postgres_dsn)
    store = PostgresStore(pool=pool)
    key = new_id("key")
    store.record_failure(key, now=NOW)
    store.close()
    assert not pool.closed
    with pool.connection() as conn:
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    with pytest.raises(StoreError, match="closed"):
        store.get_throttle(key)
    pool.close()


def test_host_pool_settings_restored(postgres_dsn: str) -> None:
    """A borrowed host connection runs in autocommit with tuple rows, then gets its own back."""
    pool = host_pool(postgres_dsn, max_size=1)
    store = PostgresStore(pool=pool)
    assert store._call(lambda c: (c.raw.autocommit, c.raw.row_factory)) == (True, tuple_row)
    pid = backend_pid(store)
    key = new_id("key")
    with store.atomic():
        store.record_failure(key, now=NOW)
        store.record_failure(key, now=NOW)
    assert store.get_throttle(key).failures == 2
    assert backend_pid(store) == pid  # given back in good order, not replaced
    with pool.connection() as conn:
        assert conn.autocommit is False
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    store.close()
    pool.close()


def test_host_pool_closed_by_host_is_store_error(postgres_dsn: str) -> None:
    """If the host closes its pool, calls raise StoreError, not a pool exception."""
    pool = host_pool(postgres_dsn)
    store = PostgresStore(pool=pool)
    pool.close()
    with pytest.raises(StoreError):
        store.get_throttle("k")


@pytest.mark.parametrize(
    "options",
    [
        {"min_size": 3, "max_size": 2},
        {"min_size": -1},
        {"max_size": 0, "min_size": 0},
        {"timeout": 0},
    ],
)
def test_bad_sizes_refused(options: dict[str, Any]) -> None:
    """Sizes the pool cannot have, or a non-positive timeout, are a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        PostgresStore("host=/nowhere", **options)


def test_one_connection_source_required(postgres_dsn: str) -> None:
    """Exactly one of dsn, pool and connect; sizes only with a dsn."""
    pool = host_pool(postgres_dsn)
    with pytest.raises(ConfigurationError):
        PostgresStore()
    with pytest.raises(ConfigurationError):
        PostgresStore(postgres_dsn, pool=pool)
    with pytest.raises(ConfigurationError):
        PostgresStore(pool=pool, max_size=20)
    with pytest.raises(ConfigurationError):
        PostgresStore(pool=pool, check_connections=True)
    pool.close()


def test_unusable_pool_refused(postgres_dsn: str) -> None:
    """A pool that is not open, or not a ConnectionPool, is a ConfigurationError."""
    unopened: Pool = ConnectionPool(postgres_dsn, open=False)
    with pytest.raises(ConfigurationError, match="open"):
        PostgresStore(pool=unopened)
    with pytest.raises(ConfigurationError):
        PostgresStore(pool=object())  # type: ignore[arg-type]


def test_killed_connection_never_reaches_a_call(postgres_dsn: str) -> None:
    """With check_connections, after the server drops the connections, calls still succeed."""
    store = PostgresStore(postgres_dsn, min_size=2, max_size=2, check_connections=True)
    key = new_id("key")
    store.record_failure(key, now=NOW)
    kill_other_backends(postgres_dsn)
    assert store.get_throttle(key).failures == 1
    store.close()


def test_killed_connection_fails_one_call_by_default(postgres_dsn: str) -> None:
    """By default a dropped connection fails one call with StoreError, then is replaced."""
    store = PostgresStore(postgres_dsn, min_size=1, max_size=1)
    key = new_id("key")
    store.record_failure(key, now=NOW)
    kill_other_backends(postgres_dsn)
    with pytest.raises(StoreError):
        store.get_throttle(key)
    assert store.get_throttle(key).failures == 1
    store.close()


def test_killed_connection_not_reused_from_unchecked_host_pool(postgres_dsn: str) -> None:
    """Without the pool's check a dropped connection fails one call, then is replaced."""
    pool = host_pool(postgres_dsn, min_size=1, max_size=1)
    store = PostgresStore(pool=pool)
    key = new_id("key")
    store.record_failure(key, now=NOW)
    kill_other_backends(postgres_dsn)
    with pytest.raises(StoreError) as info:
        store.get_throttle(key)
    assert isinstance(info.value.__cause__, psycopg.OperationalError)
    assert store.get_throttle(key).failures == 1
    store.close()
    pool.close()


def test_connection_left_in_transaction_not_reused(postgres_dsn: str) -> None:
    """A connection given back inside a transaction is closed, and the next call gets another."""
    store = PostgresStore(postgres_dsn, min_size=1, max_size=1)
    before = backend_pid(store)
    store._call(lambda c: c.run("BEGIN"))
    assert backend_pid(store) != before
    store.close()


def test_pool_exhaustion_is_store_error(postgres_dsn: str) -> None:
    """With every connection busy, a call raises StoreError after the timeout instead of hanging."""
    store = PostgresStore(postgres_dsn, min_size=1, max_size=1, timeout=0.2)
    busy = store._pool.acquire()  # the only connection, held elsewhere
    with pytest.raises(StoreError, match="no PostgreSQL connection") as info:
        store.get_throttle("k")
    assert isinstance(info.value.__cause__, PoolTimeout)
    store._pool.release(busy, discard=False)
    assert store.get_throttle("k").failures == 0
    store.close()


class StubbornConnection(psycopg.Connection[Any]):
    """A connection that refuses to switch autocommit to the value in ``refuse``."""

    refuse: bool | None = None

    @property
    def autocommit(self) -> bool:
        return psycopg.Connection.autocommit.fget(self)  # type: ignore[attr-defined,no-any-return]

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        if value is StubbornConnection.refuse:
            raise psycopg.ProgrammingError("refused")
        psycopg.Connection.autocommit.fset(self, value)  # type: ignore[attr-defined]


@pytest.fixture
def stubborn_store(postgres_dsn: str) -> Iterator[PostgresStore]:
    """A store on a one-connection host pool of StubbornConnection."""
    pool = host_pool(postgres_dsn, max_size=1, connection_class=StubbornConnection)
    store = PostgresStore(pool=pool)
    yield store
    StubbornConnection.refuse = None
    store.close()
    pool.close()


def test_connection_refusing_autocommit_given_back(stubborn_store: PostgresStore) -> None:
    """A connection that cannot switch to autocommit fails the call and goes back to the pool."""
    StubbornConnection.refuse = True
    with pytest.raises(StoreError):
        stubborn_store.get_throttle("k")
    StubbornConnection.refuse = None
    assert stubborn_store.get_throttle("k").failures == 0


def test_connection_refusing_its_settings_back_replaced(stubborn_store: PostgresStore) -> None:
    """A connection that cannot get the host's settings back is closed, not returned as it is."""
    before = backend_pid(stubborn_store)
    StubbornConnection.refuse = False
    assert backend_pid(stubborn_store) == before  # the call itself succeeds
    StubbornConnection.refuse = None
    assert backend_pid(stubborn_store) != before
