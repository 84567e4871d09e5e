"""SQLite's connection pool (the SqlContext connection source), with fake connections."""

from __future__ import annotations

import pytest

from mfakit.errors import StoreError
from mfakit.stores._sql import Pool


class FakeConnection:
    """Counts close() calls; can be told to fail closing."""

    def __init__(self, *, fail_close: bool = False) -> None:
        self.closed = 0
        self.fail_close = fail_close

    def close(self) -> None:
        self.closed += 1
        if self.fail_close:
            raise OSError("already gone")


def test_idle_connection_reused() -> None:
    """A released connection is handed out again instead of opening a new one."""
    opened: list[FakeConnection] = []
    pool = Pool(lambda: opened.append(FakeConnection()) or opened[-1])
    conn = pool.acquire()
    pool.release(conn, discard=False)
    assert pool.acquire() is conn
    assert len(opened) == 1


def test_surplus_connections_closed() -> None:
    """Beyond max_idle, released connections are closed."""
    pool = Pool(FakeConnection, max_idle=1)
    a, b = pool.acquire(), pool.acquire()
    pool.release(a, discard=False)
    pool.release(b, discard=False)
    assert (a.closed, b.closed) == (0, 1)


def test_discarded_connection_closed_even_if_close_fails() -> None:
    """A broken connection is dropped; a failing close() does not escape."""
    pool = Pool(lambda: FakeConnection(fail_close=True))
    conn = pool.acquire()
    pool.release(conn, discard=True)
    assert conn.closed == 1


def test_closed_pool_refuses_and_closes_returns() -> None:
    """After close(), acquire fails and connections given back are closed."""
    pool = Pool(FakeConnection)
    idle, borrowed = pool.acquire(), pool.acquire()
    pool.release(idle, discard=False)
    pool.close()
    assert idle.closed == 1
    pool.release(borrowed, discard=False)
    assert borrowed.closed == 1
    with pytest.raises(StoreError):
        pool.acquire()
