"""The throwaway PostgreSQL helper used by the tests and the benchmark."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from mfakit.errors import ConfigurationError
from mfakit.testing import postgres as helper
from mfakit.testing.postgres import TemporaryPostgres, find_postgres_bin


def _fake_bin(directory: Path) -> Path:
    directory.mkdir(parents=True)
    for name in ("initdb", "pg_ctl"):
        script = directory / name
        script.write_text("#!/bin/sh\nexit 3\n")
        script.chmod(0o755)
    return directory


def test_env_var_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MFAKIT_PG_BIN names the directory to use."""
    fake = _fake_bin(tmp_path / "bin")
    monkeypatch.setenv("MFAKIT_PG_BIN", str(fake))
    assert find_postgres_bin() == fake


def test_debian_versions_newest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Among Debian's versioned directories the newest is chosen."""
    monkeypatch.delenv("MFAKIT_PG_BIN", raising=False)
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(helper, "_DEBIAN_ROOT", tmp_path)
    _fake_bin(tmp_path / "9.6" / "bin")
    newest = _fake_bin(tmp_path / "16" / "bin")
    (tmp_path / "17" / "bin").mkdir(parents=True)  # incomplete: no programs
    assert find_postgres_bin() == newest


def test_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without server programs: None, and TemporaryPostgres says how to install them."""
    monkeypatch.delenv("MFAKIT_PG_BIN", raising=False)
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(helper, "_DEBIAN_ROOT", tmp_path)
    assert find_postgres_bin() is None
    with pytest.raises(ConfigurationError, match="system-deps"):
        TemporaryPostgres()


def test_failed_start_cleans_up(tmp_path: Path) -> None:
    """If initdb fails, the error surfaces and the temporary directory is gone."""
    before = set(Path(tempfile.gettempdir()).glob("mfpg-*")) | set(Path("/tmp").glob("mfpg-*"))  # noqa: S108
    pg = TemporaryPostgres(bin_dir=_fake_bin(tmp_path / "bin"))
    with pytest.raises(subprocess.CalledProcessError), pg:
        pass
    after = set(Path(tempfile.gettempdir()).glob("mfpg-*")) | set(Path("/tmp").glob("mfpg-*"))  # noqa: S108
    assert after <= before


def test_stop_before_start_is_harmless() -> None:
    """Stopping a server that never started does nothing."""
    TemporaryPostgres().stop()


def test_create_database_needs_running_server() -> None:
    """Creating a database before start is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        TemporaryPostgres().create_database("x")


def test_create_database_refuses_odd_names(postgres_cluster: TemporaryPostgres) -> None:
    """Only plain identifiers are accepted as database names."""
    with pytest.raises(ConfigurationError):
        postgres_cluster.create_database('x"; DROP DATABASE postgres; --')


def test_private_tmpdir_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A temp directory the server's user cannot enter does not stop the cluster."""
    tmp_path.chmod(0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with TemporaryPostgres(database="probe") as pg, psycopg.connect(pg.dsn) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        socket_dir = Path(pg.dsn.split()[0].removeprefix("host="))
        assert socket_dir.exists()
        if os.geteuid() == 0:
            assert not socket_dir.is_relative_to(tmp_path)
    assert not socket_dir.exists()


def test_root_without_service_user(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under root with no 'postgres' user, a clear ConfigurationError, not a KeyError."""
    monkeypatch.setattr(helper, "_SERVICE_USER", "no-such-user-mfakit")
    with pytest.raises(ConfigurationError, match="postgres"):
        helper._service_ids()
