"""Screenshots of every page of the console, at a desktop width and at a phone's.

Run it from ``examples/``::

    ../.venv/bin/python -m console.screens            # into ../screens/
    ../.venv/bin/python -m console.screens --out DIR

It starts a fresh console (a temporary data file) per width, walks every page
the console renders, in each state a user sees (the step-up, a member's
password, grace period and lock, the owner's view of a locked member, the
passkey offer, the error pages...), in headless Chromium (the system's
``chromium``, driven by ``playwright`` with ``executable_path``; nothing is
downloaded) and saves ``<width>/<page>.png``. The browser tests walk the same
tour (:func:`tour`) to check that no page scrolls sideways at 360 pixels.
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
#: A second app's name, as long: the backup codes page that follows is titled with it.
SECOND_NAME = ("SpareAuthenticatorAppInTheDeskDrawer" * 2)[:64]
PASSWORD = "correct horse battery"  # noqa: S105 - the tour's made-up users
MEMBER_PASSWORD = "purple monkey dishwasher"  # noqa: S105 - the member's, as made up
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


def _open_details(page: Any, scope: str) -> None:
    """Open every ``<details>`` in ``scope``: the forms behind Rename, Delete, Reset MFA..."""
    page.locator(f"{scope} details").evaluate_all("all => all.forEach(d => { d.open = true; })")


def pass_grace_period(app: Any, org_id: str, user_id: str, *, days: int = 8) -> None:
    """Move a member's grace period ``days`` into the past (the console runs on real time)."""
    store = app.extensions["mfa_store"]
    membership = store.get_membership(org_id, user_id)
    if membership is None or membership.grace_started_at is None:
        raise RuntimeError("the member has no grace period to pass")
    moved = membership.grace_started_at - timedelta(days=days)
    if not store.update_membership(dataclasses.replace(membership, grace_started_at=moved)):
        raise RuntimeError("the membership changed meanwhile")


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _sign_out(page: Any, base: str) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login")


def _member_username(page: Any, base: str, org_id: str) -> None:
    """The member sign-in up to its username step, with carol's username typed."""
    page.goto(f"{base}/login/member")
    page.get_by_label("Organization ID").fill(org_id)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Username").fill("carol")


def _set_up_totp(page: Any, name: str) -> str:
    """Add an authenticator app called ``name`` from the security page; its key."""
    page.get_by_label("App name").fill(name)
    page.locator("#totp form button[type=submit]").last.click()
    key = str(page.locator("#manual-key").inner_text().strip())
    page.get_by_label("Enter the 6-digit code the app shows").fill(_code(key))
    page.get_by_role("button", name="Submit").click()
    page.locator("#backup-code-list").wait_for()
    return key


def _saved_them(page: Any, base: str) -> None:
    page.get_by_role("link", name="I saved them").click()
    page.wait_for_url(f"{base}/account/security")


def tour(new_page: Callable[[], Any], base: str, app: Any, visit: Visit) -> None:
    """Walk every page a user can reach, calling ``visit(name, page)`` on each.

    ``new_page`` makes a page in a fresh browser context (one per user), at the
    width wanted. ``app`` is the console being toured: the e-mailed codes
    are delivered through its service, and a member's grace period is moved
    into the past in its store.
    """
    owner = new_page()
    org_id = _owner(owner, base, visit)
    carol = new_page()
    _member(carol, owner, base, app, org_id=org_id, visit=visit)
    bob = new_page()
    _invitee(bob, base, visit)
    _errors(new_page(), base, visit)


def _owner(owner: Any, base: str, visit: Visit) -> str:
    """Olivia signs up, sets up every kind of method and her organization; its ID."""
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
    _saved_them(owner, base)
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
    # Every Rename and Delete open: their forms, with the long name in their labels.
    _open_details(owner, "#set-up")
    visit("security-actions", owner)

    # A second app, also with a long name: the new backup codes are titled with it.
    _set_up_totp(owner, SECOND_NAME)
    owner.get_by_role("heading", name=f'"{SECOND_NAME}" is added').wait_for()
    visit("backup-codes-added-app", owner)
    _saved_them(owner, base)
    # "Confirm it's you": the page a change of factors leads to when the last check is old.
    owner.goto(f"{base}/account/verify")
    owner.get_by_role("heading", name="Confirm it's you").wait_for()
    visit("step-up", owner)

    owner.goto(f"{base}/org")
    org_id = str(owner.locator("#org-id").inner_text().strip())
    owner.get_by_label("Username").fill("carol")
    owner.locator("#m-email").fill("carol@example.com")
    owner.get_by_role("button", name="Add member").click()
    owner.locator("#inv-email").fill("bob@example.com")
    owner.get_by_role("button", name="Send invitation").click()
    owner.locator("#members").wait_for()
    visit("org", owner)
    owner.goto(f"{base}/outbox")
    visit("outbox", owner)

    _sign_out(owner, base)
    _sign_in(owner, base, "olivia@example.com")
    owner.wait_for_url(f"{base}/login/verify")
    visit("second-factor", owner)
    owner.get_by_label("Code from your authenticator app").fill(_code(key, ahead=1))
    owner.get_by_role("button", name="Verify").click()
    owner.wait_for_url(re.compile(r"/account/security"))
    return org_id


def _member(carol: Any, owner: Any, base: str, app: Any, *, org_id: str, visit: Visit) -> None:
    """Carol, a member: the e-mailed code, her password, enforcement, her grace period and
    her lock; the owner's view of her once locked."""
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
    app.extensions["mfa_service"].deliver_notifications()
    body = _mail(owner, base, to="carol@example.com", kind="login_code")
    found = re.search(r"is (\d{6,8})\.", body)
    if found is None:  # pragma: no cover - the console always sends one
        raise RuntimeError("no sign-in code in the outbox")
    carol.get_by_label("Code from the e-mail").fill(found.group(1))
    carol.get_by_role("button", name="Continue").click()
    carol.wait_for_url(re.compile(r"/account/security"))
    visit("member-security", carol)

    card = carol.locator("#member-password")
    card.get_by_label("Password", exact=True).fill(MEMBER_PASSWORD)
    card.get_by_label("Type it again").fill(MEMBER_PASSWORD)
    card.get_by_role("button", name="Set password").click()
    carol.locator("#member-password .badge.on").wait_for()
    visit("member-security-password", carol)
    key = _set_up_totp(carol, "Authenticator app")
    _saved_them(carol, base)

    # Everyone has MFA now: the owner enforces it (she verified a factor minutes ago).
    owner.goto(f"{base}/org")
    owner.locator("#enforcement summary").click()
    owner.locator("#enforce").fill("ENFORCE")
    owner.get_by_role("button", name="Enforce MFA").click()
    owner.locator("#enforcement .badge.on").wait_for()

    _sign_out(carol, base)
    _member_username(carol, base, org_id)
    carol.get_by_role("button", name="Enter password").click()
    carol.get_by_label("Password").wait_for()
    visit("member-password", carol)
    carol.get_by_label("Password").fill(MEMBER_PASSWORD)
    carol.get_by_role("button", name="Sign in", exact=True).click()
    carol.wait_for_url(f"{base}/login/verify")
    visit("member-second-factor", carol)
    carol.get_by_label("Code from your authenticator app").fill(_code(key, ahead=1))
    carol.get_by_role("button", name="Verify").click()
    carol.wait_for_url(re.compile(r"/account/security"))

    # Her only method deleted, a grace period starts; once it has passed, she is locked.
    carol.locator("#totp-apps summary", has_text="Delete").click()
    carol.locator("#totp-apps input[name=confirmation]").fill("DELETE")
    carol.locator("#totp-apps button.destructive").click()
    carol.locator("p.notice[role=alert]", has_text="Set up a method before").wait_for()
    visit("member-security-grace", carol)
    _sign_out(carol, base)
    carol_id = app.extensions["console_accounts"].user_by_email("carol@example.com").user_id
    pass_grace_period(app, org_id, carol_id)
    _member_username(carol, base, org_id)
    carol.get_by_role("button", name="Enter password").click()
    carol.get_by_label("Password").fill(MEMBER_PASSWORD)
    carol.get_by_role("button", name="Sign in", exact=True).click()
    carol.locator(".lockout h2", has_text="Ask an administrator").wait_for()
    visit("member-locked", carol)

    owner.goto(f"{base}/org")
    row = owner.locator("#members tr", has_text="carol@example.com")
    row.get_by_role("button", name=re.compile(r"^Unlock")).wait_for()
    _open_details(owner, "#members")
    visit("org-locked-member", owner)


def _invitee(bob: Any, base: str, visit: Visit) -> None:
    """Bob follows his invitation, creates an account, then signs in with his password."""
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
    bob.locator("#invitation-mfa").wait_for()  # the organization enforces MFA by now
    visit("invitation", bob)
    # After a password, a user without a passkey is offered one.
    _sign_out(bob, base)
    _sign_in(bob, base, "bob@example.com")
    bob.wait_for_url(re.compile(r"/account/security"))
    bob.locator("#passkey-offer").wait_for(state="visible")
    visit("passkey-offer", bob)


def _errors(page: Any, base: str, visit: Visit) -> None:
    """The error pages: an unknown address, and a form whose session ended."""
    page.goto(f"{base}/no/such/page")
    page.get_by_role("heading", name="Page not found").wait_for()
    visit("not-found", page)
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill("olivia@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.context.clear_cookies()  # the session ended meanwhile
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="This form expired").wait_for()
    visit("form-expired", page)


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
