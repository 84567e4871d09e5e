"""Fixtures of the real-browser tests: Debian's Chromium (through playwright) and the console.

The console (examples/console) runs in this process, in a thread, on a free port
of 127.0.0.1 with a fresh SQLite file per test; the browser opens it as
``http://localhost:PORT`` because WebAuthn refuses IP addresses as RP IDs.
Chromium is never downloaded: ``playwright install`` is not run; the system's
``chromium`` is launched with ``executable_path`` (``scripts/system-deps``
installs it when missing).
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from werkzeug.serving import make_server

from mfakit.backup_codes import CHEAP_FOR_TESTS, Hasher
from mfakit.login_codes import LoginCodePolicy
from mfakit.service import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))

from console import create_app  # noqa: E402 - needs examples/ on the path first
from console_http_helpers import make_app  # noqa: E402 - imports the console too

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session (each test gets fresh contexts).

    playwright gives every launch a fresh temporary user-data directory.
    """
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: run `bash scripts/system-deps`")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass(frozen=True, slots=True)
class Console:
    """A running console: its base URL and its Flask app."""

    url: str
    app: Any
    instance: Path


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    """The example console on a free port with a fresh data file, served from a thread."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    def placeholder(environ: Any, start_response: Any) -> list[bytes]:  # pragma: no cover
        start_response("503 Service Unavailable", [])
        return []

    server = make_server("127.0.0.1", 0, placeholder, threaded=True)
    origin = f"http://localhost:{server.server_port}"
    app = create_app(
        instance_dir=tmp_path / "instance",
        origin=origin,
        settings=ServiceSettings(
            backup_code_hasher=Hasher(profile=CHEAP_FOR_TESTS),
            # A member signs in twice within a minute in one test.
            login_codes=LoginCodePolicy(resend_cooldown=timedelta(0)),
        ),
        password_hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1),
        testing=True,
    )
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Console(url=origin, app=app, instance=tmp_path / "instance")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["mfa_store"].close()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    """The example console without a server, for Flask's test client: one client a user."""
    console = make_app(tmp_path)
    yield console
    console.extensions["mfa_store"].close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[[], Any]]:
    """Make pages, each in its own browser context (its own cookies): one per user.

    ``viewport`` (``{"width": ..., "height": ...}``) defaults to 1024 by 720.
    """
    contexts: list[Any] = []

    def make(*, viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(viewport=viewport or {"width": 1024, "height": 720})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
