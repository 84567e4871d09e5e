"""The FastAPI example once in Chromium: register a passkey, sign out, sign in with it.

uvicorn serves the app from a thread on 127.0.0.1; the browser opens it as
``http://localhost:PORT`` (WebAuthn refuses IP addresses as RP IDs) with a
DevTools virtual authenticator. Debian's ``chromium`` is launched through
playwright with ``executable_path``, as in tests/browser.
"""

from __future__ import annotations

import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi_helpers import CHEAP_PASSWORDS, SETTINGS
from tests.async_helpers import in_fresh_thread

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))

from console_helpers import add_authenticator
from mfakit_demo_api import create_app


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The example app under uvicorn on a free port; yields its origin."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    origin = f"http://localhost:{listener.getsockname()[1]}"
    app = create_app(
        data_dir=tmp_path / "data",
        origin=origin,
        settings=SETTINGS,
        password_hasher=CHEAP_PASSWORDS,
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive()
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield origin
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def test_register_a_passkey_and_sign_in_with_it(served: str) -> None:
    """Sign up, add a passkey with the page's button, sign out, sign in with the passkey."""
    in_fresh_thread(lambda: _register_and_sign_in(served))


def _register_and_sign_in(served: str) -> None:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: run `bash scripts/system-deps`")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(10_000)
            authenticator = add_authenticator(
                page, transport="internal", resident_key=True, backup_eligible=True
            )
            page.goto(served)
            status = page.locator("#status")
            page.get_by_label("E-mail address").fill("ada@example.com")
            page.get_by_label("Your name").fill("Ada")
            page.get_by_label("Password").fill("correct horse battery")
            page.get_by_role("button", name="Create account").click()
            page.get_by_text("Signed in as ada@example.com.").wait_for()

            page.get_by_role("button", name="Add a passkey").click()
            page.get_by_text('Passkey "This device" added.').wait_for()
            assert len(authenticator.credentials()) == 1

            page.get_by_role("button", name="Sign out").click()
            page.get_by_text("Signed out.").wait_for()
            page.get_by_role("button", name="Sign in with a passkey").click()
            page.get_by_text("Signed in with a passkey as ada@example.com.").wait_for()
            assert status.inner_text() == "Signed in with a passkey as ada@example.com."
        finally:
            browser.close()
