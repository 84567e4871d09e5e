"""`mfakit secretbox rewrap`: re-encrypt a real database's TOTP secrets from the command line."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from psycopg.conninfo import conninfo_to_dict

from mfakit.cli import main
from mfakit.repositories import MfaStore, TotpCredential
from mfakit.secretbox import TOTP_SECRET_PURPOSE, KeyRing, generate_key_entry, parse_envelope
from mfakit.stores.sqlite import SQLiteStore
from mfakit.testing.postgres import TemporaryPostgres

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OLD, NEW = generate_key_entry("old"), generate_key_entry("new")
SECRET = b"s" * 20


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def _fill(store: MfaStore, users: int) -> None:
    """Active TOTP credentials under the old key."""
    ring = KeyRing.from_config(OLD)
    for i in range(users):
        user = f"u{i}"
        store.put_pending_totp(
            TotpCredential(
                totp_id=f"t{i:03d}",
                user_id=user,
                state="pending",
                secret=ring.encrypt(SECRET, owner=user, purpose=TOTP_SECRET_PURPOSE),
                created_at=NOW,
                expires_at=NOW + timedelta(minutes=10),
            )
        )
        store.activate_totp(user, f"t{i:03d}", step=1, now=NOW, max_devices=5)


def _check_moved(store: MfaStore, users: int) -> None:
    ring = KeyRing.from_config(NEW)
    items = store.list_totp_credentials(limit=1000).items
    assert len(items) == users
    for c in items:
        assert parse_envelope(c.secret).key_id == "new"
        assert ring.decrypt(c.secret, owner=c.user_id, purpose=TOTP_SECRET_PURPOSE) == SECRET


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    """A SQLite file with seven credentials under the old key."""
    path = tmp_path / "mfa.sqlite3"
    store = SQLiteStore(path)
    _fill(store, 7)
    store.close()
    return path


def test_rewrap_sqlite_file(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Batches of three move all seven secrets; progress lines, no secret printed."""
    monkeypatch.setenv("MFAKIT_SECRET_KEYS", f"{NEW},{OLD}")
    status, out = run("secretbox", "rewrap", "--store", f"sqlite:///{database}", "--batch", "3")
    assert status == 0
    lines = out.splitlines()
    assert lines[:3] == [
        "batch 1: scanned 3, rewrapped 3, already current 0, raced 0, failed 0",
        "batch 2: scanned 3, rewrapped 3, already current 0, raced 0, failed 0",
        "batch 3: scanned 1, rewrapped 1, already current 0, raced 0, failed 0",
    ]
    assert lines[3] == "done: key new; scanned 7, rewrapped 7, already current 0, raced 0, failed 0"
    for secret_text in (NEW, OLD, NEW.split(":")[1], OLD.split(":")[1]):
        assert secret_text not in out + capsys.readouterr().err
    store = SQLiteStore(database)
    _check_moved(store, 7)
    store.close()


def test_rewrap_again_finds_everything_current(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second run rewrites nothing."""
    monkeypatch.setenv("MY_KEYS", f"{NEW},{OLD}")
    url = f"sqlite:///{database}"
    assert run("secretbox", "rewrap", "--store", url, "--keys-env", "MY_KEYS")[0] == 0
    status, out = run("secretbox", "rewrap", "--store", url, "--keys-env", "MY_KEYS")
    assert status == 0
    assert "rewrapped 0, already current 7" in out


def test_rewrap_reports_rows_that_do_not_open(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the old key already gone, rows fail: listed by totp id, exit status 1."""
    monkeypatch.setenv("MFAKIT_SECRET_KEYS", NEW)
    status, out = run("secretbox", "rewrap", "--store", f"sqlite:///{database}")
    assert status == 1
    assert "failed: totp_id t000" in out
    assert "failed 7" in out


@pytest.mark.parametrize(
    "case",
    [
        (["--store", "mysql://x"], True, "--store must start with"),
        (["--store", "sqlite:///"], True, "needs the path"),
        (["--store", "sqlite:///no/such/file.db"], True, "no existing SQLite"),
        (["--batch", "0"], True, "--batch must be from 1 to 1000"),
        (["--batch", "1001"], True, "--batch must be from 1 to 1000"),
        ([], False, "MFAKIT_SECRET_KEYS holds no key ring"),
        (["--batch", "x"], True, "invalid int value"),
    ],
)
def test_bad_usage_is_one_line_and_status_2(
    database: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: tuple[list[str], bool, str],
) -> None:
    """Every usage mistake exits 2 with one line on standard error; nothing is changed."""
    args, env, message = case
    if env:
        monkeypatch.setenv("MFAKIT_SECRET_KEYS", f"{NEW},{OLD}")
    else:
        monkeypatch.delenv("MFAKIT_SECRET_KEYS", raising=False)
    if "--store" not in args:
        args = ["--store", f"sqlite:///{database}", *args]
    status, out = run("secretbox", "rewrap", *args)
    err = capsys.readouterr().err
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err
    store = SQLiteStore(database)
    assert {parse_envelope(c.secret).key_id for c in store.list_totp_credentials().items} == {"old"}
    store.close()


def test_bad_key_ring_names_no_key(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed key ring is a usage error whose message holds no key."""
    monkeypatch.setenv("MFAKIT_SECRET_KEYS", "new:" + "A" * 20)
    status, _ = run("secretbox", "rewrap", "--store", f"sqlite:///{database}")
    assert status == 2
    assert "A" * 20 not in capsys.readouterr().err


def test_not_a_database_is_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that is not an SQLite database fails with status 1 and one line."""
    path = tmp_path / "junk.db"
    path.write_bytes(b"not a database" * 100)
    monkeypatch.setenv("MFAKIT_SECRET_KEYS", NEW)
    status, _ = run("secretbox", "rewrap", "--store", f"sqlite:///{path}")
    assert status == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_rewrap_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same command over a PostgreSQL database."""
    with TemporaryPostgres(database="mfakit_cli") as pg:
        from mfakit.stores.postgres import PostgresStore

        store = PostgresStore(pg.dsn)
        _fill(store, 4)
        store.close()
        monkeypatch.setenv("MFAKIT_SECRET_KEYS", f"{NEW},{OLD}")
        parts = conninfo_to_dict(pg.dsn)
        url = (
            f"postgresql://{parts['user']}@/{parts['dbname']}"
            f"?host={quote(str(parts['host']), safe='')}&port={parts['port']}"
        )
        status, out = run("secretbox", "rewrap", "--store", url, "--batch", "2")
        assert status == 0
        assert "done: key new; scanned 4, rewrapped 4" in out
        store = PostgresStore(pg.dsn)
        _check_moved(store, 4)
        store.close()
