"""A throwaway PostgreSQL server for tests and benchmarks.

:class:`TemporaryPostgres` runs ``initdb`` in a fresh temporary directory,
starts the server listening only on a Unix socket inside that directory (no
TCP port, nothing shared with other servers), creates a database, and at the
end stops the server and deletes everything.

The server programs are found on ``PATH``, under ``MFAKIT_PG_BIN``, or in
Debian's versioned ``/usr/lib/postgresql/<version>/bin``. PostgreSQL refuses to
run as root, so under root the programs run as the ``postgres`` system user
(through ``runuser``) and the directory is handed to that user.

Example::

    from mfakit.testing.postgres import TemporaryPostgres

    with TemporaryPostgres() as pg:
        store = PostgresStore(pg.dsn)
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from mfakit.errors import ConfigurationError

__all__ = ["TemporaryPostgres", "find_postgres_bin"]

_SERVICE_USER = "postgres"
# Where Debian installs each PostgreSQL version's server programs.
_DEBIAN_ROOT = Path("/usr/lib/postgresql")


def find_postgres_bin() -> Path | None:
    """Return the directory holding ``initdb`` and ``pg_ctl``, or ``None`` if not installed."""
    candidates: list[Path] = []
    if env := os.environ.get("MFAKIT_PG_BIN"):
        candidates.append(Path(env))
    if found := shutil.which("initdb"):
        candidates.append(Path(found).parent)

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in p.parent.name.split(".") if x.isdigit())

    candidates.extend(sorted(_DEBIAN_ROOT.glob("*/bin"), key=version, reverse=True))
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    return None


def _service_ids() -> tuple[int, int]:
    try:
        user = pwd.getpwnam(_SERVICE_USER)
    except KeyError as exc:
        raise ConfigurationError(
            "PostgreSQL refuses to run as root, and there is no 'postgres' user to run it as"
        ) from exc
    return user.pw_uid, user.pw_gid


def _world_traversable(path: Path) -> bool:
    return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents))


class TemporaryPostgres:
    """A private PostgreSQL cluster in a temporary directory.

    Args:
        database: Name of the database to create.
        bin_dir: Where ``initdb`` and ``pg_ctl`` are; found automatically by default.

    Attributes:
        dsn: The libpq connection string of the database (set once started).
    """

    def __init__(self, *, database: str = "mfakit", bin_dir: Path | None = None) -> None:
        found = bin_dir or find_postgres_bin()
        if found is None:
            raise ConfigurationError(
                "PostgreSQL server programs not found: install them "
                "(bash scripts/system-deps) or set MFAKIT_PG_BIN"
            )
        self._bin = found
        self._database = database
        self._root: Path | None = None
        self._started = False
        self.dsn = ""

    def _run(self, *args: str) -> None:
        cmd = [str(self._bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", _SERVICE_USER, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)  # noqa: S603 - our argv

    def start(self) -> str:
        """Create and start the cluster, create the database, and return its DSN."""
        base = Path(tempfile.gettempdir())
        if os.geteuid() == 0 and not _world_traversable(base):
            base = Path("/tmp")  # noqa: S108 - the service user must reach the socket directory
        # A short path: a Unix socket path must fit in about 100 bytes.
        self._root = root = Path(tempfile.mkdtemp(prefix="mfpg-", dir=base))
        if os.geteuid() == 0:
            os.chown(root, *_service_ids())
        data = root / "data"
        self._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            # Unix socket only, in our own directory; durability is not needed
            # for a database that is deleted at the end.
            conf.write(
                f"\nlisten_addresses = ''\nunix_socket_directories = '{root}'\n"
                "fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n"
                "max_connections = 200\n"
            )
        self._run("pg_ctl", "-D", str(data), "-l", str(root / "server.log"), "-w", "start")
        self._started = True
        self.dsn = self.create_database(self._database)
        return self.dsn

    def create_database(self, name: str) -> str:
        """Create another database in the running cluster and return its DSN.

        Raises:
            ConfigurationError: the server is not running or the name is not a plain identifier.
        """
        if self._root is None or not self._started:
            raise ConfigurationError("the server is not running")
        if not name.isidentifier():
            raise ConfigurationError("a database name must be a plain identifier")
        import psycopg  # noqa: PLC0415 - only this method needs the driver

        admin = f"host={self._root} port=5432 user=postgres dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"host={self._root} port=5432 user=postgres dbname={name}"

    def stop(self) -> None:
        """Stop the server (fast) and delete its directory."""
        if self._root is None:
            return
        if self._started:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._run("pg_ctl", "-D", str(self._root / "data"), "-m", "immediate", "-w", "stop")
            self._started = False
        shutil.rmtree(self._root, ignore_errors=True)
        self._root = None

    def __enter__(self) -> TemporaryPostgres:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
