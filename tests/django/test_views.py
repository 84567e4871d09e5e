"""The Django example's views over HTTP (Django's test client): TOTP, backup codes, passkeys."""

from __future__ import annotations

import html
import json
import re
import secrets
import time
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from mfakit import static
from mfakit.otp import parse_uri
from mfakit.testing import SoftAuthenticator

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client() -> Client:
    """A browser and a fresh user (not signed in yet), whose name is ``client.username``."""
    username = f"ada-{secrets.token_hex(4)}"
    get_user_model().objects.create_user(username=username, password=PASSWORD)
    browser = Client()
    browser.username = username  # type: ignore[attr-defined]
    return browser


def _sign_in(client: Client) -> Any:
    """Post the password; return the response that follows the redirects."""
    username = client.username  # type: ignore[attr-defined]
    return client.post("/login/", {"username": username, "password": PASSWORD}, follow=True)


def _text(response: Any) -> str:
    return str(response.content.decode())


def _enroll_totp(client: Client) -> tuple[Any, list[str]]:
    """Add an authenticator app through the pages; return its TOTP and the backup codes shown."""
    page = _text(client.post("/security/totp/", {"name": "Phone"}))
    assert "<svg" in page
    uri = html.unescape(re.search(r'id="otpauth-uri" href="([^"]+)"', page)[1])  # type: ignore[index]
    totp_id = re.search(r'name="totp_id" value="([^"]+)"', page)[1]  # type: ignore[index]
    otp = parse_uri(uri).otp
    shown = _text(
        client.post("/security/totp/confirm/", {"totp_id": totp_id, "code": otp.at(time.time())})
    )
    codes = re.findall(r"<li>([^<]+)</li>", shown.split('class="codes"')[1].split("</ul>")[0])
    return otp, codes


def _signed_in_as(client: Client) -> bool:
    page = _text(client.get("/"))
    return f"Signed in as {client.username}" in page  # type: ignore[attr-defined]


def test_password_alone_signs_in_a_user_without_second_factor(client: Client) -> None:
    """Without a second factor, the password leads straight to the security page."""
    response = _sign_in(client)
    assert response.redirect_chain[-1][0] == "/"
    assert _signed_in_as(client)


def test_wrong_password_is_refused(client: Client) -> None:
    """A wrong password signs nobody in."""
    response = client.post("/login/", {"username": client.username, "password": "nope"})  # type: ignore[attr-defined]
    assert "Wrong username or password." in _text(response)
    assert not _signed_in_as(client)


def test_totp_enrollment_then_sign_in_with_a_real_code(client: Client) -> None:
    """Add an app (QR, confirm), then sign in again with the app's next code."""
    _sign_in(client)
    otp, codes = _enroll_totp(client)
    assert len(codes) == 10
    assert "Phone" in _text(client.get("/"))
    client.post("/logout/")
    page = _text(_sign_in(client))
    assert "Code from your authenticator app" in page
    assert not _signed_in_as(client)
    # The confirming code's step is used: the next step's code (within the drift window).
    response = client.post(
        "/login/second-factor/", {"method": "totp", "code": otp.at(time.time() + 30)}
    )
    assert response.status_code == 302
    assert _signed_in_as(client)


def test_wrong_totp_code_is_refused(client: Client) -> None:
    """A wrong code at the second step shows mfakit's log-safe error and signs nobody in."""
    _sign_in(client)
    otp, _ = _enroll_totp(client)
    client.post("/logout/")
    _sign_in(client)
    wrong = f"{(int(otp.at(time.time() + 30)) + 1) % 1000000:06d}"
    response = client.post("/login/second-factor/", {"method": "totp", "code": wrong})
    assert 'role="alert"' in _text(response)
    assert not _signed_in_as(client)


def test_backup_code_signs_in_once(client: Client) -> None:
    """A backup code shown at enrollment signs in once; the second use is refused."""
    _sign_in(client)
    _, codes = _enroll_totp(client)
    client.post("/logout/")
    _sign_in(client)
    form = {"method": "backup_code", "code": codes[0]}
    assert client.post("/login/second-factor/", form).status_code == 302
    assert _signed_in_as(client)
    client.post("/logout/")
    _sign_in(client)
    assert 'role="alert"' in _text(client.post("/login/second-factor/", form))
    assert not _signed_in_as(client)


def test_new_backup_codes_replace_the_old_set(client: Client) -> None:
    """Generating a new set shows ten new codes, and an old code no longer works."""
    _sign_in(client)
    _, old = _enroll_totp(client)
    page = _text(client.post("/security/backup-codes/"))
    new = re.findall(r"<li>([^<]+)</li>", page.split('class="codes"')[1].split("</ul>")[0])
    assert len(new) == 10
    assert not set(new) & set(old)
    client.post("/logout/")
    _sign_in(client)
    response = client.post("/login/second-factor/", {"method": "backup_code", "code": old[1]})
    assert 'role="alert"' in _text(response)


def _post_json(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_passkey_registration_then_second_factor(client: Client) -> None:
    """Register a passkey with a software authenticator, then pass the second step with it."""
    authenticator = SoftAuthenticator(origin=settings.MFA_ORIGINS[0])
    _sign_in(client)
    started = _post_json(client, "/security/passkeys/options/", {"name": "Laptop"}).json()
    response = authenticator.create(started["options"])
    done = _post_json(
        client,
        "/security/passkeys/",
        {"challenge_id": started["challenge_id"], "response": response},
    )
    assert done.json() == {"name": "Laptop"}
    assert "Laptop" in _text(client.get("/"))
    client.post("/logout/")
    page = _text(_sign_in(client))
    options = json.loads(
        html.unescape(re.search(r'id="webauthn-options"[^>]*>(.*?)</script>', page, re.S)[1])  # type: ignore[index]
    )
    challenge_id = re.search(r'data-challenge="([^"]+)"', page)[1]  # type: ignore[index]
    assertion = authenticator.get(options)
    result = _post_json(
        client,
        "/login/second-factor/passkey/",
        {"challenge_id": challenge_id, "response": assertion},
    )
    assert result.status_code == 200
    assert _signed_in_as(client)


def test_forged_passkey_assertion_is_refused(client: Client) -> None:
    """An assertion for another challenge is refused with a log-safe error."""
    authenticator = SoftAuthenticator(origin=settings.MFA_ORIGINS[0])
    _sign_in(client)
    started = _post_json(client, "/security/passkeys/options/", {"name": "Key"}).json()
    _post_json(
        client,
        "/security/passkeys/",
        {
            "challenge_id": started["challenge_id"],
            "response": authenticator.create(started["options"]),
        },
    )
    client.post("/logout/")
    page = _text(_sign_in(client))
    options = json.loads(
        html.unescape(re.search(r'id="webauthn-options"[^>]*>(.*?)</script>', page, re.S)[1])  # type: ignore[index]
    )
    assertion = authenticator.get({**options, "challenge": "AAAAAAAAAAAAAAAAAAAAAA"})
    challenge_id = re.search(r'data-challenge="([^"]+)"', page)[1]  # type: ignore[index]
    result = _post_json(
        client,
        "/login/second-factor/passkey/",
        {"challenge_id": challenge_id, "response": assertion},
    )
    assert result.status_code == 400
    assert "error" in result.json()
    assert not _signed_in_as(client)


def test_browser_module_is_served_as_javascript(client: Client) -> None:
    """The page's module URL serves mfakit-webauthn.js with a JavaScript media type."""
    response = client.get(f"/static/{static.MODULE_NAME}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(static.MEDIA_TYPE)
    assert response.content == static.read_module()
