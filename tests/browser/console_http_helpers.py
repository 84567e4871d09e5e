"""What a user does in the console, as HTTP requests through Flask's test client."""

from __future__ import annotations

import html
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from console import create_app
from console.screens import pass_grace_period

from mfakit.backup_codes import CHEAP_FOR_TESTS, Hasher
from mfakit.login_codes import LoginCodePolicy
from mfakit.otp import TOTP, decode_base32
from mfakit.service import ServiceSettings

BASE = "http://localhost:8000"
PASSWORD = "correct horse battery"
MEMBER_PASSWORD = "purple monkey dishwasher"


def make_app(tmp_path: Path, *, resend_cooldown: timedelta = timedelta(0)) -> Any:
    """A fresh console with cheap hashing."""
    return create_app(
        instance_dir=tmp_path,
        origin=BASE,
        settings=ServiceSettings(
            backup_code_hasher=Hasher(profile=CHEAP_FOR_TESTS),
            login_codes=LoginCodePolicy(resend_cooldown=resend_cooldown),
        ),
        password_hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1),
        testing=True,
    )


def token(client: Any, path: str = "/login") -> str:
    """This session's CSRF token, read from a page."""
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get(BASE + path).text)
    assert found is not None
    return found.group(1)


def post(client: Any, path: str, data: dict[str, str] | None = None, *, page: str = "") -> Any:
    """POST a form with this session's CSRF token (read from ``page``)."""
    form = dict(data or {})
    form["csrf_token"] = token(client, page or "/login")
    return client.post(BASE + path, data=form)


def sign_up(client: Any, email: str, name: str) -> str:
    """Create an account; return the id of the organization it owns."""
    response = post(
        client, "/signup", {"email": email, "name": name, "password": PASSWORD}, page="/signup"
    )
    assert response.status_code == 302
    return org_id(client)


def org_id(client: Any) -> str:
    """The id of the signed-in user's organization."""
    page = client.get(BASE + "/org", follow_redirects=True).text
    found = re.search(r'id="org-id">([^<]+)<', page)
    assert found is not None
    return found.group(1)


def set_up_totp(client: Any, name: str = "Authenticator app") -> TOTP:
    """Add an authenticator app; return it (its first code is used)."""
    setup = post(client, "/account/totp/setup", {"name": name}, page="/account/security")
    key = re.search(r'id="manual-key" class="key">([^<]+)<', setup.text)
    assert key is not None, setup.text
    totp = TOTP(decode_base32(key.group(1).replace(" ", "")))
    confirmed = post(
        client, "/account/totp/confirm", {"code": totp.at(time.time())}, page="/account/security"
    )
    assert confirmed.status_code in (200, 302)
    return totp


def sign_out(client: Any) -> None:
    """Sign out."""
    post(client, "/logout", page="/login")


def user_id(app: Any, email: str) -> str:
    """The console's id of the user with this address."""
    user = app.extensions["console_accounts"].user_by_email(email)
    assert user is not None
    return str(user.user_id)


def add_member(client: Any, org: str, username: str, email: str) -> None:
    """The owner creates a member who signs in with an e-mailed code."""
    response = post(
        client,
        f"/org/{org}/members",
        {"username": username, "email": email},
        page="/account/security",
    )
    assert response.status_code == 302


def member_sign_in(app: Any, client: Any, org: str, username: str, email: str) -> Any:
    """Organization ID, username, then the e-mailed code; return the last answer."""
    post(client, "/login/member", {"org_id": org, "username": username})
    app.extensions["mfa_service"].deliver_notifications()
    mail = app.extensions["console_accounts"].mails(recipient=email)[0]
    code = re.search(r"is (\d{6,8})\.", mail.body)
    assert code is not None
    return post(
        client, "/login/member/code", {"org_id": org, "username": username, "code": code.group(1)}
    )


def flashes(page: str) -> list[str]:
    """The texts of the page's notices."""
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m)).strip()
        for m in re.findall(r'<p class="notice [^"]*"[^>]*>(.*?)</p>', page, re.S)
    ]


def set_member_password(client: Any, password: str = MEMBER_PASSWORD) -> None:
    """The signed-in member sets the password of the member sign-in on their security page."""
    response = post(
        client,
        "/account/member-password",
        {"password": password, "confirm": password},
        page="/account/security",
    )
    assert response.status_code == 302
    assert "Your password is set" in " ".join(flashes(client.get(BASE + "/account/security").text))


def delete_totp(client: Any) -> None:
    """Delete the signed-in user's first authenticator app (typed confirmation DELETE)."""
    security = client.get(BASE + "/account/security").text
    device = re.search(r"/account/totp/([^/]+)/delete", security)
    assert device is not None
    deleted = post(client, f"/account/totp/{device.group(1)}/delete", {"confirmation": "DELETE"})
    assert deleted.status_code == 302


def enforced_member(app: Any, *, member_password: bool = False) -> tuple[Any, Any, str, TOTP]:
    """Olivia's organization, which enforces MFA, and its member carol (signed in with an
    e-mailed code, with an authenticator app and, if asked, a member password).

    Returns the owner's and carol's clients, the organization's ID and carol's app.
    """
    owner = app.test_client()
    carol = app.test_client()
    org = sign_up(owner, "olivia@example.com", "Olivia Owner")
    set_up_totp(owner)
    add_member(owner, org, "carol", "carol@example.com")
    member_sign_in(app, carol, org, "carol", "carol@example.com")
    if member_password:
        set_member_password(carol)
    totp = set_up_totp(carol)
    enforced = post(owner, f"/org/{org}/enforce", {"confirmation": "ENFORCE"})
    assert enforced.status_code == 302
    return owner, carol, org, totp


def locked_member(app: Any, *, member_password: bool = False) -> tuple[Any, Any, str, str]:
    """:func:`enforced_member`, after carol deleted her only method and let the grace period
    pass, signed out (her next sign-in locks her).

    Returns the owner's and carol's clients, the organization's ID and carol's user id.
    """
    owner, carol, org, _ = enforced_member(app, member_password=member_password)
    delete_totp(carol)
    carol_id = user_id(app, "carol@example.com")
    pass_grace_period(app, org, carol_id)
    sign_out(carol)
    return owner, carol, org, carol_id


def told_whom_to_ask(response: Any) -> str:
    """Check a locked member's answer: a 403 member page naming Olivia, the owner, that asks
    for no code and no password. Its text, unescaped."""
    assert response.status_code == 403
    text = html.unescape(response.text)
    assert "Sign in as an organization member" in text
    assert "Ask an administrator of Olivia Owner's organization to unlock your account" in text
    assert 'href="mailto:olivia@example.com"' in text
    assert 'name="code"' not in text
    assert 'name="password"' not in text
    return text
