"""SQLiteStore against the contract suite, plus what only a file database can show."""

from __future__ import annotations

import functools
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from mfakit.errors import ConfigurationError, StoreError
from mfakit.repositories import MfaStore
from mfakit.stores import _sql, sqlite
from mfakit.stores._schema import MIGRATIONS
from mfakit.stores.sqlite import SQLiteStore
from mfakit.testing.contracts import (
    ProcessRaceContract,
    StateMachineContract,
    StoreContract,
    ThreadRaceContract,
)
from mfakit.testing.contracts._records import NOW

from ._migrations import (
    V4_INDEXES,
    V7_INDEXES,
    check_login_code_key_id_migrated,
    check_migrated,
    check_v3_rows_in_v4,
    check_v4_rows_in_v5,
    check_v6_totp_in_v7,
    check_v7_rows_in_v8,
    check_v8_rows_in_v9,
    check_v9_credential_in_v10,
    upgrade_from,
    write_old_login_code,
    write_old_rows,
    write_v3_rows,
    write_v4_rows,
    write_v6_totp_rows,
    write_v7_rows,
    write_v8_rows,
    write_v9_credential,
)


class TestSQLiteStore(StoreContract, ThreadRaceContract, ProcessRaceContract, StateMachineContract):
    """The SQLite store passes the whole contract, races of processes included."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SQLiteStore]:
        """A SQLiteStore on a fresh file."""
        store = SQLiteStore(tmp_path / "mfa.sqlite3")
        yield store
        store.close()

    def reopen(self, store: MfaStore) -> MfaStore:
        """A second store instance on the same file."""
        assert isinstance(store, SQLiteStore)
        return SQLiteStore(store._path)

    @pytest.fixture(scope="class")
    @classmethod
    def store_opener(cls, tmp_path_factory: pytest.TempPathFactory) -> Callable[[], MfaStore]:
        """Open one shared file, in this process or in a race worker."""
        return functools.partial(SQLiteStore, tmp_path_factory.mktemp("race") / "mfa.sqlite3")


def test_all_is_pinned() -> None:
    """The module's public names are exactly these."""
    assert sqlite.__all__ == ["SQLiteStore"]


def test_file_is_in_wal_mode(tmp_path: Path) -> None:
    """The database file uses the write-ahead log."""
    store = SQLiteStore(tmp_path / "mfa.sqlite3")
    store.close()
    with closing(sqlite3.connect(tmp_path / "mfa.sqlite3")) as raw, raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_foreign_keys_enforced(tmp_path: Path) -> None:
    """Foreign keys are on: a backup code without its set row is refused by the database."""
    store = SQLiteStore(tmp_path / "mfa.sqlite3")
    with pytest.raises(StoreError):
        store._call(
            lambda c: c.run(
                "INSERT INTO mfa_backup_codes VALUES ('u', 'c', 'h', 0, NULL)",
            )
        )
    store.close()


@pytest.mark.parametrize("path", [":memory:", "file:mfa?mode=memory"])
def test_memory_database_refused(path: str) -> None:
    """An in-memory SQLite database is refused: each connection would see another one."""
    with pytest.raises(ConfigurationError):
        SQLiteStore(path)


@pytest.mark.parametrize(
    "kwargs", [{"synchronous": "OFF"}, {"busy_timeout": 0}, {"busy_timeout": -1.0}]
)
def test_bad_arguments_refused(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    """Unsafe or meaningless settings are a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        SQLiteStore(tmp_path / "mfa.sqlite3", **kwargs)


def test_synchronous_full_accepted(tmp_path: Path) -> None:
    """synchronous="FULL" opens a working store."""
    store = SQLiteStore(tmp_path / "mfa.sqlite3", synchronous="FULL")
    assert store.get_throttle("k").failures == 0
    store.close()


def test_unopenable_path_is_store_error(tmp_path: Path) -> None:
    """A file that cannot be created is a StoreError wrapping the driver's error."""
    with pytest.raises(StoreError) as info:
        SQLiteStore(tmp_path / "missing-dir" / "mfa.sqlite3")
    assert isinstance(info.value.__cause__, sqlite3.Error)


def test_not_a_database_is_store_error(tmp_path: Path) -> None:
    """A file that is not an SQLite database is a StoreError."""
    path = tmp_path / "mfa.sqlite3"
    path.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(StoreError):
        SQLiteStore(path)


def test_driver_error_wrapped(tmp_path: Path) -> None:
    """A failure inside the database surfaces as StoreError chained to the driver error."""
    store = SQLiteStore(tmp_path / "mfa.sqlite3")
    store._call(lambda c: c.run("DROP TABLE mfa_throttle"))
    with pytest.raises(StoreError) as info:
        store.get_throttle("k")
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    store.close()


def test_schema_version_recorded(tmp_path: Path) -> None:
    """A new database is at the latest schema version, and reopening keeps it."""
    SQLiteStore(tmp_path / "mfa.sqlite3").close()
    store = SQLiteStore(tmp_path / "mfa.sqlite3")
    assert store.schema_version() == len(MIGRATIONS)
    store.close()


def test_newer_schema_refused(tmp_path: Path) -> None:
    """A database migrated by a newer mfakit is refused rather than misread."""
    SQLiteStore(tmp_path / "mfa.sqlite3").close()
    with closing(sqlite3.connect(tmp_path / "mfa.sqlite3")) as raw, raw:
        raw.execute("UPDATE mfa_schema_version SET version = 999")
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(tmp_path / "mfa.sqlite3")


def test_forward_migration_applies_new_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening an older database applies only the migrations it lacks, keeping its data."""
    store = SQLiteStore(tmp_path / "mfa.sqlite3")
    store.record_failure("kept", now=NOW)
    store.close()
    extra = ("CREATE TABLE mfa_future (x INTEGER)",)
    monkeypatch.setattr(_sql, "MIGRATIONS", (*MIGRATIONS, extra))
    store = SQLiteStore(tmp_path / "mfa.sqlite3")
    assert store.schema_version() == len(MIGRATIONS) + 1
    assert store.get_throttle("kept").failures == 1
    assert store._call(lambda c: c.all("SELECT x FROM mfa_future")) == []
    store.close()


@pytest.mark.parametrize("start", [1, 2])
def test_upgrade_keeps_and_completes_old_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: int
) -> None:
    """A database at an older version, with rows, opens migrated: new fields derived."""
    path = tmp_path / "mfa.sqlite3"
    with monkeypatch.context() as patch:
        patch.setattr(_sql, "MIGRATIONS", MIGRATIONS[:start])
        old = SQLiteStore(path)
        assert old.schema_version() == start
        write_old_rows(old)
        old.close()
    store = SQLiteStore(path)
    assert store.schema_version() == len(MIGRATIONS)
    check_migrated(store)
    store.close()


def test_upgrade_from_version_3_with_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A version-3 database with members and factors opens at the latest version, rows intact."""
    store, _ = upgrade_from(
        3, lambda: SQLiteStore(tmp_path / "mfa.sqlite3"), write_v3_rows, monkeypatch
    )
    indexes = {
        row[0]
        for row in store._call(
            lambda c: c.all("SELECT name FROM sqlite_master WHERE type = 'index'")
        )
    }
    assert indexes >= V4_INDEXES
    check_v3_rows_in_v4(store)
    store.close()


def test_upgrade_from_version_4_with_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A version-4 database opens at the latest version: each user keeps their latest stamp."""
    store, _ = upgrade_from(
        4, lambda: SQLiteStore(tmp_path / "mfa.sqlite3"), write_v4_rows, monkeypatch
    )
    check_v4_rows_in_v5(store)
    store.close()


def test_upgrade_gives_old_login_codes_the_default_key_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key-rotation migration (version 6) keeps login codes, under key id "default"."""
    store, _ = upgrade_from(
        5,
        lambda: SQLiteStore(tmp_path / "mfa.sqlite3"),
        lambda old: write_old_login_code(old, "org/ada"),
        monkeypatch,
    )
    check_login_code_key_id_migrated(store, "org/ada")
    store.close()


def test_upgrade_turns_the_old_totp_into_one_named_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TOTP devices migration (version 7) recreates the table with every row kept."""
    store, _ = upgrade_from(
        6, lambda: SQLiteStore(tmp_path / "mfa.sqlite3"), write_v6_totp_rows, monkeypatch
    )
    indexes = {
        row[0]
        for row in store._call(
            lambda c: c.all("SELECT name FROM sqlite_master WHERE type = 'index'")
        )
    }
    assert indexes >= V7_INDEXES
    check_v6_totp_in_v7(store)
    store.close()


def test_connections_follow_concurrency_not_thread_count(tmp_path: Path) -> None:
    """Many short-lived threads leave at most a few idle connections open."""
    store = SQLiteStore(tmp_path / "mfa.sqlite3")
    threads = [threading.Thread(target=store.get_throttle, args=("k",)) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store._pool._idle) <= 8
    store.close()


def test_repr_shows_path_only(tmp_path: Path) -> None:
    """The repr names the file."""
    store = SQLiteStore(tmp_path / "mfa.sqlite3")
    assert repr(store) == f"SQLiteStore({str(tmp_path / 'mfa.sqlite3')!r})"
    store.close()


_WRITER = """
import sys
from datetime import UTC, datetime
from mfakit.repositories import AuditEvent, BackupCode
from mfakit.stores.sqlite import SQLiteStore

store = SQLiteStore(sys.argv[1])
now = datetime(2026, 1, 1, tzinfo=UTC)
i = 0
while True:
    user = f"u{i}"
    codes = [BackupCode(user_id=user, code_id=f"c{k}", hash="h", created_at=now) for k in range(5)]
    store.replace_backup_codes(user, codes)
    store.append_audit_event(AuditEvent(event_id=f"e{i}", at=now, action="write", user_id=user))
    print(i, flush=True)
    i += 1
"""


def test_killed_writer_loses_nothing_committed(tmp_path: Path) -> None:
    """SIGKILL mid-write: every write reported committed is there, no set is partial."""
    path = tmp_path / "mfa.sqlite3"
    SQLiteStore(path).close()
    with subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        committed = [int(proc.stdout.readline()) for _ in range(300)]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with closing(sqlite3.connect(path)) as raw, raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = SQLiteStore(path)
    for i in committed:
        assert store.count_unused_backup_codes(f"u{i}") == 5
    page = store.list_audit_events(limit=1000)
    written = len(page.items)
    assert written >= len(committed)
    # The write in flight at the kill is all or nothing.
    for i in range(written, written + 2):
        assert store.count_unused_backup_codes(f"u{i}") in (0, 5)
    store.close()


def test_atomic_waits_then_fails_when_file_stays_locked(tmp_path: Path) -> None:
    """A block that cannot get the write lock in time is a StoreError; nothing is held."""
    path = tmp_path / "mfa.sqlite3"
    store = SQLiteStore(path, busy_timeout=0.05)
    with closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")

        def block() -> None:
            with store.atomic():
                pass  # pragma: no cover - the block never starts

        with pytest.raises(StoreError):
            block()
        other.execute("ROLLBACK")
    with store.atomic():
        store.record_failure("k", now=NOW)
    assert store.get_throttle("k").failures == 1
    store.close()


def test_atomic_cannot_open_connection(tmp_path: Path) -> None:
    """If no connection can be opened, atomic() raises StoreError."""
    directory = tmp_path / "d"
    directory.mkdir()
    store = SQLiteStore(directory / "mfa.sqlite3")
    store._pool.close()
    store._pool.closed = False  # reopen the pool empty: the next call must connect
    for leftover in directory.iterdir():
        leftover.unlink()
    directory.rmdir()

    def block() -> None:
        with store.atomic():
            pass  # pragma: no cover - the block never starts

    with pytest.raises(StoreError) as info:
        block()
    assert isinstance(info.value.__cause__, sqlite3.Error)
    store.close()


def test_upgrade_to_trusted_browsers_keeps_the_users_stamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trusted-browser migration (version 8) keeps each user's stamp; no change time yet."""
    store, _ = upgrade_from(
        7, lambda: SQLiteStore(tmp_path / "mfa.sqlite3"), write_v7_rows, monkeypatch
    )
    indexes = {
        row[0]
        for row in store._call(
            lambda c: c.all("SELECT name FROM sqlite_master WHERE type = 'index'")
        )
    }
    assert indexes >= {"mfa_trusted_browsers_user", "mfa_trusted_browsers_expiry"}
    check_v7_rows_in_v8(store)
    store.close()


def test_upgrade_to_user_handles_keeps_the_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user-handle migration (version 9): credentials kept, passkeys may sign in alone."""
    store, written = upgrade_from(
        8, lambda: SQLiteStore(tmp_path / "mfa.sqlite3"), write_v8_rows, monkeypatch
    )
    check_v8_rows_in_v9(store, written)
    store.close()


def test_upgrade_to_attested_provider_names_keeps_the_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider-name migration (version 10): credentials kept, none attested."""
    store, cred = upgrade_from(
        9, lambda: SQLiteStore(tmp_path / "mfa.sqlite3"), write_v9_credential, monkeypatch
    )
    check_v9_credential_in_v10(store, cred)
    store.close()
