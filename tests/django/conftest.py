"""Django for the ``DjangoStore`` tests: settings configured once, before any model import.

The example project (``examples/django``) goes on ``sys.path``; its settings
are reused with two databases: ``default``, an SQLite file made for the
session, and ``postgres``, filled in when the session's throwaway PostgreSQL
cluster starts (:func:`django_postgres`). Both are migrated with the app's
committed migrations.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "django"
sys.path.insert(0, str(EXAMPLE))

from django.conf import settings  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

# The real-browser tests (tests/browser) keep Playwright's synchronous API open
# for the session, and with it an event loop running in the main thread; Django
# then refuses every database call of these purely synchronous tests as "from an
# async context". Nothing here runs concurrently with that loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django  # noqa: E402 - the example must be importable first

from tests.django._opener import configure  # noqa: E402

_DB_DIR = Path(tempfile.mkdtemp(prefix="mfakit-django-"))


def _databases() -> dict[str, dict[str, Any]]:
    from mfasite import settings as example

    sqlite = {**example.DATABASES["default"], "NAME": str(_DB_DIR / "mfa.sqlite3")}
    # Filled in by django_postgres once the cluster runs; nothing connects before.
    postgres = {"ENGINE": "django.db.backends.postgresql", "NAME": "", "HOST": "", "USER": ""}
    return {"default": sqlite, "postgres": postgres}


if not settings.configured:
    configure(_databases(), with_site=True)
    django.setup()


def _close_with_its_thread(sender: object, connection: Any, **kwargs: object) -> None:
    """Close a thread's database connection when the thread lets go of it.

    Django closes connections at the end of a request; the contract suite's
    thread pools end their threads without one, leaving each thread's
    connection to the garbage collector (the drivers then warn that it was
    deleted while open). The raw connection is closed when its Django wrapper
    is collected instead.
    """
    weakref.finalize(connection, connection.connection.close)


connection_created.connect(_close_with_its_thread)


@pytest.fixture(scope="session", autouse=True)
def _migrated_sqlite() -> Iterator[None]:
    """The SQLite database, migrated, deleted after the session."""
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", database="default", verbosity=0)
    yield
    connections.close_all()
    shutil.rmtree(_DB_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def django_postgres() -> Iterator[str]:
    """The ``postgres`` alias on a private PostgreSQL cluster, migrated; its alias."""
    from django.core.management import call_command
    from django.db import connections

    from mfakit.testing.postgres import TemporaryPostgres

    with TemporaryPostgres(database="mfakit_django") as pg:
        params = dict(item.split("=", 1) for item in pg.dsn.split())
        settings.DATABASES["postgres"].update(
            NAME=params["dbname"], HOST=params["host"], PORT=params["port"], USER=params["user"]
        )
        call_command("migrate", database="postgres", verbosity=0)
        yield "postgres"
        connections["postgres"].close()
