"""PostgresStore against the contract suite, on a throwaway PostgreSQL server."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from mfakit.errors import StoreError
from mfakit.repositories import MfaStore
from mfakit.stores import _sql, postgres
from mfakit.stores._schema import MIGRATIONS
from mfakit.stores._sql_summaries import summary_statement
from mfakit.stores.postgres import PostgresStore
from mfakit.testing.contracts import (
    ProcessRaceContract,
    StateMachineContract,
    StoreContract,
    ThreadRaceContract,
)
from mfakit.testing.contracts._records import NOW, new_id
from mfakit.testing.postgres import TemporaryPostgres

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


class TestPostgresStore(
    StoreContract, ThreadRaceContract, ProcessRaceContract, StateMachineContract
):
    """The PostgreSQL store passes the whole contract, races of processes included."""

    @pytest.fixture
    def store(self, postgres_dsn: str) -> Iterator[PostgresStore]:
        """A PostgresStore on the session's database."""
        store = PostgresStore(postgres_dsn)
        yield store
        store.close()

    def reopen(self, store: MfaStore) -> MfaStore:
        """A second store instance with its own connections."""
        assert isinstance(store, PostgresStore)
        return PostgresStore(store._dsn_for_tests)

    @pytest.fixture(scope="class")
    @classmethod
    def store_opener(cls, postgres_dsn: str) -> Callable[[], MfaStore]:
        """Open the session's database, in this process or in a race worker."""
        return functools.partial(PostgresStore, postgres_dsn)


def test_all_is_pinned() -> None:
    """The module's public names are exactly these."""
    assert postgres.__all__ == ["PostgresStore"]


def test_connect_factory_deprecated_but_working(postgres_dsn: str) -> None:
    """A connection factory still works, warned as deprecated; its connections run in autocommit."""
    made: list[psycopg.Connection[Any]] = []

    def factory() -> psycopg.Connection[Any]:
        conn = psycopg.connect(postgres_dsn)
        made.append(conn)
        return conn

    with pytest.deprecated_call(match="pool="):
        store = PostgresStore(connect=factory)
    assert store.record_failure(new_id("key"), now=NOW).failures == 1
    assert made
    assert all(c.autocommit for c in made)
    store.close()


def test_unreachable_server_is_store_error(tmp_path: Path) -> None:
    """No server at the address: StoreError after the timeout, chained to the pool's error."""
    with pytest.raises(StoreError, match="could not open") as info:
        PostgresStore(f"host={tmp_path} port=5432 user=postgres dbname=x", timeout=0.5)
    assert isinstance(info.value.__cause__, psycopg.Error)


def test_driver_error_wrapped(postgres_dsn: str) -> None:
    """A value PostgreSQL refuses (a NUL in text) is a StoreError, not a driver exception."""
    store = PostgresStore(postgres_dsn)
    with pytest.raises(StoreError) as info:
        store.get_throttle("a\x00b")
    assert isinstance(info.value.__cause__, psycopg.Error)
    store.close()


def test_schema_version_and_newer_schema_refused(postgres_cluster: TemporaryPostgres) -> None:
    """A fresh database gets the latest schema; one from a newer mfakit is refused."""
    dsn = postgres_cluster.create_database(new_id("db").replace("-", "_"))
    store = PostgresStore(dsn)
    assert store.schema_version() == len(MIGRATIONS)
    store.close()
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("UPDATE mfa_schema_version SET version = 999")
    with pytest.raises(StoreError, match="newer"):
        PostgresStore(dsn)


def test_forward_migration(
    postgres_cluster: TemporaryPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening an older database applies only the missing migrations, keeping its data."""
    dsn = postgres_cluster.create_database(new_id("db").replace("-", "_"))
    store = PostgresStore(dsn)
    store.record_failure("kept", now=NOW)
    store.close()
    monkeypatch.setattr(_sql, "MIGRATIONS", (*MIGRATIONS, ("CREATE TABLE mfa_future (x INT)",)))
    store = PostgresStore(dsn)
    assert store.schema_version() == len(MIGRATIONS) + 1
    assert store.get_throttle("kept").failures == 1
    store.close()


@pytest.mark.parametrize("start", [1, 2])
def test_upgrade_keeps_and_completes_old_rows(
    postgres_cluster: TemporaryPostgres, monkeypatch: pytest.MonkeyPatch, start: int
) -> None:
    """A database at an older version, with rows, opens migrated: new fields derived."""
    dsn = postgres_cluster.create_database(new_id("db").replace("-", "_"))
    with monkeypatch.context() as patch:
        patch.setattr(_sql, "MIGRATIONS", MIGRATIONS[:start])
        old = PostgresStore(dsn)
        assert old.schema_version() == start
        write_old_rows(old)
        old.close()
    store = PostgresStore(dsn)
    assert store.schema_version() == len(MIGRATIONS)
    check_migrated(store)
    store.close()


def test_concurrent_first_opens_migrate_once(postgres_cluster: TemporaryPostgres) -> None:
    """Several servers opening a fresh database at once all succeed (migrations serialize)."""
    dsn = postgres_cluster.create_database(new_id("db").replace("-", "_"))
    stores: list[PostgresStore] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            stores.append(PostgresStore(dsn))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {s.schema_version() for s in stores} == {len(MIGRATIONS)}
    for s in stores:
        s.close()


def test_repr_hides_dsn(postgres_dsn: str) -> None:
    """The repr never shows the DSN (it may hold a password)."""
    store = PostgresStore(postgres_dsn)
    assert repr(store) == "PostgresStore()"
    store.close()


def test_atomic_commit_failure_is_store_error(postgres_dsn: str) -> None:
    """If the connection dies before COMMIT, the block raises StoreError and nothing lands."""
    store = PostgresStore(postgres_dsn, min_size=1, max_size=1)
    key = new_id("key")

    def block() -> None:
        with store.atomic():
            store.record_failure(key, now=NOW)
            with psycopg.connect(postgres_dsn, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND state = 'idle in transaction'"
                )

    with pytest.raises(StoreError):
        block()
    assert store.get_throttle(key).failures == 0
    store.close()


def test_upgrade_from_version_3_with_data(
    postgres_cluster: TemporaryPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version-3 database with members and factors opens at the latest version, rows intact."""
    dsn = postgres_cluster.create_database(new_id("db").replace("-", "_"))
    store, _ = upgrade_from(3, lambda: PostgresStore(dsn), write_v3_rows, monkeypatch)
    indexes = {
        row[0]
        for row in store._call(
            lambda c: c.all("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        )
    }
    assert indexes >= V4_INDEXES
    check_v3_rows_in_v4(store)
    store.close()


def test_upgrade_from_version_4_with_data(
    postgres_cluster: TemporaryPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version-4 database opens at the latest version: each user keeps their latest stamp."""
    dsn = postgres_cluster.create_database(new_id("db").replace("-", "_"))
    store, _ = upgrade_from(4, lambda: PostgresStore(dsn), write_v4_rows, monkeypatch)
    check_v4_rows_in_v5(store)
    store.close()


def test_upgrade_gives_old_login_codes_the_default_key_id(
    postgres_cluster: TemporaryPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key-rotation migration (version 6) keeps login codes, under key id "default"."""
    dsn = postgres_cluster.create_database(new_id("db").replace("-", "_"))
    store, _ = upgrade_from(
        5, lambda: PostgresStore(dsn), lambda old: write_old_login_code(old, "org/ada"), monkeypatch
    )
    check_login_code_key_id_migrated(store, "org/ada")
    store.close()


def test_member_summary_page_reads_factors_by_index(postgres_cluster: TemporaryPostgres) -> None:
    """A summary page looks each member's TOTP, codes, throttles and stamp up by index."""
    dsn = postgres_cluster.create_database(new_id("db").replace("-", "_"))
    PostgresStore(dsn).close()  # migrate
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "CREATE TEMPORARY TABLE users AS "
            "SELECT 'u' || lpad(i::text, 6, '0') AS u FROM generate_series(1, 20000) i"
        )
        conn.execute(
            "INSERT INTO mfa_organizations (org_id, name, policy, enforced, created_at, version) "
            "VALUES ('o', 'o', '{}', 0, 0, 1)"
        )
        conn.execute(
            "INSERT INTO mfa_memberships (org_id, user_id, kind, status, joined_at, attributes, "
            "version) SELECT 'o', u, 'member', 'active', 0, '{}', 1 FROM users"
        )
        conn.execute(
            "INSERT INTO mfa_totp (user_id, state, totp_id, name, secret, algorithm, digits, "
            "period, created_at) SELECT u, 'active', u, 'app', '\\x00', 'sha1', 6, 30, 0 FROM users"
        )
        conn.execute("INSERT INTO mfa_backup_code_sets SELECT u, 0 FROM users")
        conn.execute(
            "INSERT INTO mfa_backup_codes SELECT u, c::text, 'h', 0, NULL "
            "FROM users, generate_series(1, 5) c"
        )
        conn.execute("INSERT INTO mfa_throttle SELECT 't:' || u, 1 FROM users")
        conn.execute("INSERT INTO mfa_user_state (user_id, last_mfa_at) SELECT u, 0 FROM users")
        conn.execute("ANALYZE")
        statement = summary_statement("org_id = ? AND user_id > ?", ["user_id"], 1)
        plan = conn.execute(
            "EXPLAIN (FORMAT JSON) " + postgres._DIALECT.sql(statement),
            ["o", "u010000", 1001, "t:"],
        ).fetchone()
    assert plan is not None

    def scanned(node: dict[str, Any]) -> Iterator[str]:
        if node["Node Type"] == "Seq Scan":
            yield node["Relation Name"]
        for child in node.get("Plans", ()):
            yield from scanned(child)

    assert set(scanned(plan[0][0]["Plan"])) <= {"mfa_webauthn_credentials"}


def test_upgrade_turns_the_old_totp_into_one_named_device(
    postgres_cluster: TemporaryPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TOTP devices migration (version 7) recreates the table with every row kept."""
    dsn = postgres_cluster.create_database(new_id("db").replace("-", "_"))
    store, _ = upgrade_from(6, lambda: PostgresStore(dsn), write_v6_totp_rows, monkeypatch)
    indexes = {
        row[0]
        for row in store._call(
            lambda c: c.all("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        )
    }
    assert indexes >= V7_INDEXES
    check_v6_totp_in_v7(store)
    store.close()


def test_upgrade_to_trusted_browsers_keeps_the_users_stamps(
    postgres_cluster: TemporaryPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trusted-browser migration (version 8) keeps each user's stamp; no change time yet."""
    dsn = postgres_cluster.create_database(new_id("db").replace("-", "_"))
    store, _ = upgrade_from(7, lambda: PostgresStore(dsn), write_v7_rows, monkeypatch)
    indexes = {
        row[0]
        for row in store._call(
            lambda c: c.all("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        )
    }
    assert indexes >= {"mfa_trusted_browsers_user", "mfa_trusted_browsers_expiry"}
    check_v7_rows_in_v8(store)
    store.close()


def test_upgrade_to_user_handles_keeps_the_credentials(
    postgres_cluster: TemporaryPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user-handle migration (version 9): credentials kept, passkeys may sign in alone."""
    dsn = postgres_cluster.create_database(new_id("db").replace("-", "_"))
    store, written = upgrade_from(8, lambda: PostgresStore(dsn), write_v8_rows, monkeypatch)
    check_v8_rows_in_v9(store, written)
    store.close()


def test_upgrade_to_attested_provider_names_keeps_the_credentials(
    postgres_cluster: TemporaryPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider-name migration (version 10): credentials kept, none attested."""
    dsn = postgres_cluster.create_database(new_id("db").replace("-", "_"))
    store, cred = upgrade_from(9, lambda: PostgresStore(dsn), write_v9_credential, monkeypatch)
    check_v9_credential_in_v10(store, cred)
    store.close()
