"""Screenshots of every page of the console, at a desktop width and at a phone's.

Run it from ``examples/``::

    ../.venv/bin/python -m console.screens            # into ../screens/
    ../.venv/bin/python -m console.screens --out DIR

It starts a fresh console (a temporary data file) per width, walks every page
a user can reach in headless Chromium (the system's ``chromium``, driven by
``playwright`` with ``executable_path``; nothing is downloaded) and saves
``<width>/<page>.png``. The browser tests walk the same tour (:func:`tour`) to
check that no page scrolls sideways at 360 pixels.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from werkzeug.serving import make_server

from mfakit.backup_codes import CHEAP_FOR_TESTS, Hasher
from mfakit.otp import TOTP, decode_base32
from mfakit.service import ServiceSettings

from . import create_app

#: The widths the script shoots, by name.
WIDTHS = {"desktop": 1280, "phone": 360}
#: Where the screenshots go by default (git ignores it).
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "screens"
#: A device name of 64 characters without a space or hyphen: the longest the console accepts.
LONG_NAME = ("AuthenticatorAppOnTheWorkPhone" * 3)[:64]
PASSWORD = "correct horse battery"  # noqa: S105 - the tour's made-up users
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]

#: What the tour calls on each page: its name and the playwright page.
Visit = Callable[[str, Any], None]


@contextmanager
def serve(instance_dir: Path) -> Iterator[tuple[str, Any]]:
    """A fresh console on a free port, served from a thread: its base URL and its app."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, lambda environ, start: [], threaded=True)
    origin = f"http://localhost:{server.server_port}"
    app = create_app(
        instance_dir=instance_dir,
        origin=origin,
        settings=ServiceSettings(backup_code_hasher=Hasher(profile=CHEAP_FOR_TESTS)),
        password_hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1),
    )
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield origin, app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["mfa_store"].close()


def _code(key: str, *, ahead: int = 0) -> str:
    return TOTP(decode_base32(key.replace(" ", ""))).at(time.time() + 30 * ahead)


def _mail(page: Any, base: str, *, to: str, kind: str) -> str:
    page.goto(f"{base}/outbox?to={to}")
    return str(page.locator(f'li.mail[data-kind="{kind}"]').first.locator(".body").inner_text())


def pass_grace_period(app: Any, org_id: str, user_id: str, *, days: int = 8) -> None:
    """Move a member's grace period ``days`` into the past (the console runs on real time)."""
    store = app.extensions["mfa_store"]
    membership = store.get_membership(org_id, user_id)
    if membership is None or membership.grace_started_at is None:
        raise RuntimeError("the member has no grace period to pass")
    moved = membership.grace_started_at - timedelta(days=days)
    if not store.update_membership(dataclasses.replace(membership, grace_started_at=moved)):
        raise RuntimeError("the membership changed meanwhile")


def tour(new_page: Callable[[], Any], base: str, app: Any, visit: Visit) -> None:
    """Walk every page a user can reach, calling ``visit(name, page)`` on each.

    ``new_page`` makes a page in a fresh browser context (one per user), at the
    width wanted. ``app`` is the console being toured: the e-mailed codes
    are delivered through its service.
    """
    service = app.extensions["mfa_service"]
    owner = new_page()
    owner.goto(f"{base}/login")
    visit("login", owner)
    owner.goto(f"{base}/signup")
    visit("signup", owner)
    owner.get_by_label("Your name").fill("Olivia Owner")
    owner.get_by_label("E-mail address").fill("olivia@example.com")
    owner.get_by_label("Password").fill(PASSWORD)
    owner.get_by_role("button", name="Create account").click()
    owner.wait_for_url(f"{base}/account/security")
    visit("security-new", owner)

    owner.get_by_label("App name").fill(LONG_NAME)
    owner.get_by_role("button", name="Set up TOTP").click()
    key = owner.locator("#manual-key").inner_text().strip()
    visit("totp-setup", owner)
    owner.get_by_label("Enter the 6-digit code the app shows").fill(_code(key))
    owner.get_by_role("button", name="Submit").click()
    owner.locator("#backup-code-list").wait_for()
    visit("backup-codes", owner)
    owner.get_by_role("link", name="I saved them").click()
    owner.wait_for_url(f"{base}/account/security")
    # A passkey with the longest name, made by Chromium's virtual authenticator,
    # which is removed again before the sign-in page (it would answer its autofill).
    cdp = owner.context.new_cdp_session(owner)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    owner.get_by_label("Name", exact=True).fill(LONG_NAME)
    owner.get_by_role("button", name="Add", exact=True).click()
    owner.locator("#passkey-list td.name").wait_for()
    cdp.send("WebAuthn.removeVirtualAuthenticator", authenticator)
    visit("security", owner)

    owner.goto(f"{base}/org")
    org_id = owner.locator("#org-id").inner_text().strip()
    owner.get_by_label("Username").fill("carol")
    owner.locator("#m-email").fill("carol@example.com")
    owner.get_by_role("button", name="Add member").click()
    owner.locator("#inv-email").fill("bob@example.com")
    owner.get_by_role("button", name="Send invitation").click()
    owner.locator("#members").wait_for()
    visit("org", owner)
    owner.goto(f"{base}/outbox")
    visit("outbox", owner)

    owner.get_by_role("button", name="Sign out").click()
    owner.goto(f"{base}/login")
    owner.get_by_label("E-mail address").fill("olivia@example.com")
    owner.get_by_label("Password").fill(PASSWORD)
    owner.get_by_role("button", name="Sign in", exact=True).click()
    owner.wait_for_url(f"{base}/login/verify")
    visit("second-factor", owner)
    owner.get_by_label("Code from your authenticator app").fill(_code(key, ahead=1))
    owner.get_by_role("button", name="Verify").click()
    owner.wait_for_url(re.compile(r"/account/security"))

    carol = new_page()
    carol.goto(f"{base}/login/member")
    visit("member-login", carol)
    carol.get_by_label("Organization ID").fill(org_id)
    carol.get_by_role("button", name="Continue").click()
    carol.get_by_label("Username").wait_for()
    visit("member-username", carol)
    carol.get_by_label("Username").fill("carol")
    carol.get_by_role("button", name="Send code").click()
    carol.get_by_label("Code from the e-mail").wait_for()
    visit("member-code", carol)
    service.deliver_notifications()
    body = _mail(owner, base, to="carol@example.com", kind="login_code")
    found = re.search(r"is (\d{6,8})\.", body)
    if found is None:  # pragma: no cover - the console always sends one
        raise RuntimeError("no sign-in code in the outbox")
    carol.get_by_label("Code from the e-mail").fill(found.group(1))
    carol.get_by_role("button", name="Continue").click()
    carol.wait_for_url(re.compile(r"/account/security"))
    visit("member-security", carol)

    bob = new_page()
    link = re.search(r"http://\S+", _mail(bob, base, to="bob@example.com", kind="invitation"))
    if link is None:  # pragma: no cover - the console always sends one
        raise RuntimeError("no invitation link in the outbox")
    bob.goto(link.group(0))
    bob.wait_for_url(re.compile(r"/login"))
    bob.get_by_role("link", name="Create an account").last.click()
    bob.get_by_label("Your name").fill("Bob Builder")
    bob.get_by_label("E-mail address").fill("bob@example.com")
    bob.get_by_label("Password").fill(PASSWORD)
    bob.get_by_role("button", name="Create account").click()
    bob.wait_for_url(re.compile(r"/(invitations|account)/"))
    if "/invitations/" not in bob.url:
        bob.goto(link.group(0))
    visit("invitation", bob)


def shoot(out: Path, widths: dict[str, int] = WIDTHS, *, browser: Any = None) -> list[Path]:
    """Take every page's screenshot at each width into ``out/<width name>/``.

    ``browser`` is a launched playwright browser to use (the tests'); by
    default the system's Chromium is launched for the run.
    """
    if browser is None:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a test-only dependency

        executable = shutil.which("chromium")
        if executable is None:
            raise SystemExit("chromium is not installed: run `bash scripts/system-deps`")
        with sync_playwright() as p:
            launched = p.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            try:
                return shoot(out, widths, browser=launched)
            finally:
                launched.close()
    taken: list[Path] = []
    for label, width in widths.items():
        folder = out / label
        folder.mkdir(parents=True, exist_ok=True)
        contexts: list[Any] = []

        def new_page(width: int = width, contexts: list[Any] = contexts) -> Any:
            context = browser.new_context(viewport={"width": width, "height": 800})
            context.set_default_timeout(15_000)
            contexts.append(context)
            return context.new_page()

        def visit(name: str, page: Any, folder: Path = folder) -> None:
            path = folder / f"{name}.png"
            page.screenshot(path=str(path), full_page=True, animations="disabled")
            taken.append(path)

        try:
            with tempfile.TemporaryDirectory() as instance, serve(Path(instance)) as served:
                tour(new_page, *served, visit)
        finally:
            for context in contexts:
                context.close()
    return taken


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m console.screens [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m console.screens", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the folder (screens/)")
    args = parser.parse_args(argv)
    taken = shoot(args.out)
    print(f"{len(taken)} screenshots in {args.out}", file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
