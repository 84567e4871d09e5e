"""The console's HTTP hardening, checked without a browser (Flask's test client)."""

from __future__ import annotations

import dataclasses
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from console import create_app
from console.views.auth import CONSOLE_POLICY
from console_http_helpers import set_up_totp

from mfakit import static, webauthn
from mfakit.backup_codes import CHEAP_FOR_TESTS, Hasher
from mfakit.service import ServiceSettings, UserRef
from mfakit.testing import SoftAuthenticator

BASE = "http://localhost:8000"


@pytest.fixture
def client(tmp_path: Path) -> Any:
    """A test client of a fresh console."""
    app = create_app(
        instance_dir=tmp_path,
        origin=BASE,
        settings=ServiceSettings(
            backup_code_hasher=Hasher(profile=CHEAP_FOR_TESTS), challenge_ttl=timedelta(minutes=1)
        ),
        password_hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1),
        testing=True,
    )
    with app.test_client() as test_client:
        yield test_client
    app.extensions["mfa_store"].close()


def _token(client: Any, path: str = "/login") -> str:
    page = client.get(BASE + path)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def _sign_up(client: Any, email: str = "ada@example.com") -> Any:
    return client.post(
        BASE + "/signup",
        data={
            "csrf_token": _token(client, "/signup"),
            "email": email,
            "name": "Ada",
            "password": "correct horse battery",
        },
    )


def test_post_without_csrf_token_is_refused(client: Any) -> None:
    """A POST without this session's CSRF token changes nothing (400)."""
    _token(client)
    response = client.post(
        BASE + "/signup",
        data={"email": "ada@example.com", "name": "Ada", "password": "correct horse battery"},
    )
    assert response.status_code == 400
    assert _sign_up(client).status_code == 302  # the address was not taken by the forgery


def test_post_with_another_sessions_token_is_refused(client: Any) -> None:
    """A token from another session is refused."""
    stolen = _token(client)
    client.delete_cookie("console_session", domain="localhost")
    _token(client)
    response = client.post(BASE + "/logout", data={"csrf_token": stolen})
    assert response.status_code == 400


def test_json_post_needs_the_csrf_header(client: Any) -> None:
    """The passkey endpoints (JSON from the page's script) need the X-CSRF-Token header."""
    _sign_up(client)
    token = _token(client, "/account/security")
    without = client.post(BASE + "/account/passkeys/options", json={"name": "Key"})
    assert without.status_code == 400
    with_header = client.post(
        BASE + "/account/passkeys/options", json={"name": "Key"}, headers={"X-CSRF-Token": token}
    )
    assert with_header.status_code == 200
    assert with_header.json["options"]["rp"]["id"] == "localhost"


def test_session_cookie_is_httponly_and_samesite_lax(client: Any) -> None:
    """The session cookie is out of reach of scripts and of cross-site POSTs."""
    response = _sign_up(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_pages_send_a_strict_content_security_policy(client: Any) -> None:
    """Only the console's own scripts, styles and images: no CDN, no inline script."""
    headers = client.get(BASE + "/login").headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_reference_no_external_assets(client: Any) -> None:
    """Every script and stylesheet is served by the console itself."""
    _sign_up(client)
    for path in ("/login", "/account/security", "/outbox"):
        html = client.get(BASE + path).text
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert url.startswith(("/", "#", "data:")) or url == "https://pypi.org/project/mfakit/"


def test_ip_address_host_redirects_to_localhost(client: Any) -> None:
    """WebAuthn refuses IP addresses as RP IDs: 127.0.0.1 is sent to localhost."""
    response = client.get("http://127.0.0.1:8000/login?x=1")
    assert response.status_code == 308
    assert response.headers["Location"] == "http://localhost:8000/login?x=1"


def test_unknown_email_and_wrong_password_look_the_same(client: Any) -> None:
    """Sign-in does not reveal which e-mail addresses have an account."""
    _sign_up(client)
    client.post(BASE + "/logout", data={"csrf_token": _token(client, "/account/security")})
    answers = []
    for email in ("ada@example.com", "nobody@example.com"):
        response = client.post(
            BASE + "/login",
            data={"csrf_token": _token(client), "email": email, "password": "wrong password!"},
        )
        answers.append((response.status_code, "Wrong e-mail or password." in response.text))
    assert answers == [(401, True), (401, True)]


def test_sign_in_does_not_redirect_off_site(client: Any) -> None:
    """A ``next`` pointing to another site is ignored after sign-in."""
    _sign_up(client)
    client.post(BASE + "/logout", data={"csrf_token": _token(client, "/account/security")})
    response = client.post(
        BASE + "/login?next=//evil.example/",
        data={
            "csrf_token": _token(client),
            "email": "ada@example.com",
            "password": "correct horse battery",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/security"


def test_secrets_file_is_private_and_reused(tmp_path: Path) -> None:
    """The instance secrets are created owner-only and kept across restarts."""
    first = create_app(instance_dir=tmp_path, origin=BASE)
    second = create_app(instance_dir=tmp_path, origin=BASE)
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0
    assert first.secret_key == second.secret_key
    for app in (first, second):
        app.extensions["mfa_store"].close()


def test_member_code_request_does_not_reveal_usernames(client: Any) -> None:
    """Asking a code for an unknown username answers exactly like for a real member."""
    _sign_up(client)
    org_page = client.get(BASE + "/org", follow_redirects=True).text
    org_id = re.search(r'id="org-id">([^<]+)<', org_page)
    assert org_id is not None
    token = _token(client, "/account/security")
    client.post(
        BASE + f"/org/{org_id.group(1)}/members",
        data={"csrf_token": token, "username": "carol", "email": "carol@example.com"},
    )
    client.post(BASE + "/logout", data={"csrf_token": token})
    bodies = []
    for username in ("carol", "mallory"):
        response = client.post(
            BASE + "/login/member",
            data={"csrf_token": _token(client), "org_id": org_id.group(1), "username": username},
        )
        # Only the echoed username and the expiry minute may differ.
        text = re.sub(r"expires at \d\d:\d\d UTC", "", response.text)
        bodies.append(text.replace(username, "NAME"))
    assert bodies[0] == bodies[1]


def test_taken_member_username_creates_no_account(client: Any) -> None:
    """Adding a member under a taken username is refused before any account is made."""
    _sign_up(client)
    org_page = client.get(BASE + "/org", follow_redirects=True).text
    org_id = re.search(r'id="org-id">([^<]+)<', org_page)
    assert org_id is not None
    token = _token(client, "/account/security")
    statuses = []
    for email in ("carol@example.com", "carol2@example.com"):
        response = client.post(
            BASE + f"/org/{org_id.group(1)}/members",
            data={"csrf_token": token, "username": "carol", "email": email},
        )
        statuses.append(response.status_code)
    assert statuses == [302, 400]
    accounts = client.application.extensions["console_accounts"]
    assert accounts.user_by_email("carol2@example.com") is None


def test_page_asked_for_before_sign_in_is_reached_after_the_second_factor(client: Any) -> None:
    """The local ``next`` page survives the second-factor step."""
    from mfakit.otp import TOTP, decode_base32

    _sign_up(client)
    setup = client.post(
        BASE + "/account/totp/setup", data={"csrf_token": _token(client, "/account/security")}
    )
    key = re.search(r'id="manual-key" class="key">([^<]+)<', setup.text)
    assert key is not None
    totp = TOTP(decode_base32(key.group(1).replace(" ", "")))
    token = _token(client, "/account/security")
    confirmed = client.post(
        BASE + "/account/totp/confirm", data={"csrf_token": token, "code": totp.at(time.time())}
    )
    assert confirmed.headers["Location"] == "/account/backup-codes/new"  # post/redirect/get
    client.post(BASE + "/logout", data={"csrf_token": token})

    assert client.get(BASE + "/org").headers["Location"] == "/login?next=/org"
    first = client.post(
        BASE + "/login?next=/org",
        data={
            "csrf_token": _token(client),
            "email": "ada@example.com",
            "password": "correct horse battery",
        },
    )
    assert first.headers["Location"] == "/login/verify"
    second = client.post(
        BASE + "/login/verify/code",
        data={
            "csrf_token": _token(client, "/login/verify"),
            "kind": "totp",
            "code": totp.at(time.time() + 30),
        },
    )
    assert second.headers["Location"] == "/org"


def test_forwarded_invitation_link_is_refused(client: Any) -> None:
    """Another signed-in account cannot join with an invitation sent to someone else."""
    _sign_up(client)
    org_page = client.get(BASE + "/org", follow_redirects=True).text
    org_id = re.search(r'id="org-id">([^<]+)<', org_page)
    assert org_id is not None
    token = _token(client, "/account/security")
    client.post(
        BASE + f"/org/{org_id.group(1)}/invitations",
        data={"csrf_token": token, "email": "bob@example.com"},
    )
    store = client.application.extensions["mfa_store"]
    (invitation,) = store.list_invitations(org_id.group(1)).items
    client.post(BASE + "/logout", data={"csrf_token": token})
    _sign_up(client, email="mallory@example.com")
    response = client.post(
        BASE + f"/invitations/{invitation.invitation_id}",
        data={"csrf_token": _token(client, "/account/security")},
    )
    assert response.status_code == 403
    assert "sent to another e-mail address" in response.text
    pending = store.get_invitation(invitation.invitation_id)
    assert pending is not None
    assert pending.accepted_at is None


def test_trusted_browser_cookie_is_secure_on_https(tmp_path: Path) -> None:
    """Served over https, the trusted-browser cookie is Secure, HttpOnly and SameSite=Lax."""
    from mfakit.otp import TOTP, decode_base32

    base = "https://localhost:8443"
    app = create_app(
        instance_dir=tmp_path,
        origin=base,
        settings=ServiceSettings(backup_code_hasher=Hasher(profile=CHEAP_FOR_TESTS)),
        password_hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1),
        testing=True,
    )

    def token(path: str) -> str:
        found = re.search(r'name="csrf-token" content="([^"]+)"', client.get(base + path).text)
        assert found is not None
        return found.group(1)

    with app.test_client() as client:
        client.post(
            base + "/signup",
            data={
                "csrf_token": token("/signup"),
                "email": "ada@example.com",
                "name": "Ada",
                "password": "correct horse battery",
            },
        )
        setup = client.post(
            base + "/account/totp/setup", data={"csrf_token": token("/account/security")}
        )
        key = re.search(r'id="manual-key" class="key">([^<]+)<', setup.text)
        assert key is not None
        totp = TOTP(decode_base32(key.group(1).replace(" ", "")))
        client.post(
            base + "/account/totp/confirm",
            data={"csrf_token": token("/account/security"), "code": totp.at(time.time())},
        )
        client.post(base + "/logout", data={"csrf_token": token("/account/security")})
        client.post(
            base + "/login",
            data={
                "csrf_token": token("/login"),
                "email": "ada@example.com",
                "password": "correct horse battery",
            },
        )
        page = client.get(base + "/login/verify").text
        assert "Trust this browser for 30 days" in page
        verified = client.post(
            base + "/login/verify/code",
            data={
                "csrf_token": token("/login/verify"),
                "kind": "totp",
                "code": totp.at(time.time() + 30),
                "trust": "1",
            },
        )
    app.extensions["mfa_store"].close()
    (cookie,) = [
        c for c in verified.headers.getlist("Set-Cookie") if c.startswith("console_trusted_")
    ]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "expires", "path"} <= flags
    assert "SameSite=Lax" in cookie


# -- passkey sign-in, the offered passkey and the browser module -----------------------


def _json(client: Any, path: str, body: Any, token: str | None) -> Any:
    headers = {} if token is None else {"X-CSRF-Token": token}
    return client.post(BASE + path, json=body, headers=headers)


@pytest.mark.parametrize("path", ["/login/passkey/options", "/login/passkey"])
def test_passkey_sign_in_endpoints_need_the_csrf_header(client: Any, path: str) -> None:
    """Without this session's token, neither passkey sign-in endpoint runs."""
    _token(client)
    response = _json(client, path, {"mediation": "conditional"}, None)
    assert response.status_code == 400
    assert "form expired" in response.text


@pytest.mark.parametrize("path", ["/login/passkey/options", "/login/passkey"])
@pytest.mark.parametrize("body", [None, b"{not json", b"[1, 2]", b'"text"'])
def test_passkey_sign_in_endpoints_want_a_json_object(client: Any, path: str, body: Any) -> None:
    """A body that is not a JSON object is refused with a JSON error (400)."""
    headers = {"X-CSRF-Token": _token(client), "Content-Type": "application/json"}
    response = client.post(BASE + path, data=body, headers=headers)
    assert response.status_code == 400
    assert response.json == {"error": "Bad request."}


def test_passkey_sign_in_options_for_autofill(client: Any) -> None:
    """Sign-in options ask for any discoverable passkey of the site, with verification."""
    response = _json(client, "/login/passkey/options", {"mediation": "conditional"}, _token(client))
    assert response.status_code == 200
    assert response.json["mediation"] == "conditional"
    options = response.json["options"]
    assert options["rpId"] == "localhost"
    assert options.get("allowCredentials", []) == []
    assert options["userVerification"] == "required"


def test_passkey_sign_in_options_refuse_another_mediation(client: Any) -> None:
    """Only "conditional" and "optional" mediation are asked for."""
    response = _json(client, "/login/passkey/options", {"mediation": "silent"}, _token(client))
    assert response.status_code == 400


def test_unknown_passkey_gets_a_generic_answer_and_the_signal(client: Any) -> None:
    """A passkey the console does not know: one generic message, and the signal's payload."""
    device = SoftAuthenticator(origin=BASE)
    created = webauthn.registration_options(
        rp_id="localhost",
        rp_name="elsewhere",
        user_id=b"\x01" * 32,
        user_name="ada@example.com",
        user_display_name="Ada",
    )
    device.create(created.to_json(), discoverable=True)
    token = _token(client)
    begun = _json(client, "/login/passkey/options", {"mediation": "optional"}, token).json
    credential = device.get(begun["options"])
    body = {"challenge_id": begun["challenge_id"], "credential": credential}
    response = _json(client, "/login/passkey", body, token)
    assert response.status_code == 400
    assert response.json == {
        "error": "This passkey cannot sign in here. Sign in with your password.",
        "signal": {"rpId": "localhost", "credentialId": credential["id"]},
    }
    assert client.get(BASE + "/account/security").status_code == 302  # not signed in


def _sign_in(client: Any, email: str = "ada@example.com") -> Any:
    client.post(BASE + "/logout", data={"csrf_token": _token(client, "/account/security")})
    return client.post(
        BASE + "/login",
        data={"csrf_token": _token(client), "email": email, "password": "correct horse battery"},
    )


def test_offer_starts_a_conditional_create_after_a_password(client: Any) -> None:
    """After a password sign-in the offer's options are a passkey's, for a conditional create."""
    _sign_up(client)
    token = _token(client, "/account/security")
    assert _json(client, "/account/passkeys/upgrade", {}, token).status_code == 404
    _sign_in(client)
    token = _token(client, "/account/security")
    assert 'id="passkey-offer"' in client.get(BASE + "/account/security").text
    response = _json(client, "/account/passkeys/upgrade", {}, token)
    assert response.status_code == 200
    assert response.json["name"].startswith("Passkey (")
    options = response.json["options"]
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "discouraged"


def test_dismissed_offer_is_remembered_by_a_cookie(client: Any) -> None:
    """Declining ("Not now") sets an HttpOnly cookie; the next password sign-in makes no offer."""
    _sign_up(client)
    _sign_in(client)
    token = _token(client, "/account/security")
    response = _json(client, "/account/passkeys/upgrade/dismiss", {}, token)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("console_no_passkey_offer_u-")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    _sign_in(client)
    assert 'id="passkey-offer"' not in client.get(BASE + "/account/security").text


def test_browser_module_is_served_as_javascript(client: Any) -> None:
    """The console serves mfakit's module, revalidated by its ETag."""
    response = client.get(BASE + "/js/mfakit-webauthn.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.data == static.read_module()
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get(
        BASE + "/js/mfakit-webauthn.js", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    page = client.get(BASE + "/login").text
    assert '<script type="module" src="/static/console.js">' in page


def _passkey_not_mfa(client: Any, *, with_totp: bool) -> SoftAuthenticator:
    """Ada's passkey in an organization that does not count a passkey sign-in as MFA."""
    _sign_up(client)
    if with_totp:
        set_up_totp(client)
    app = client.application
    service = app.extensions["mfa_service"]
    user = app.extensions["console_accounts"].user_by_email("ada@example.com")
    device = SoftAuthenticator(origin=BASE)
    ada = UserRef(user_id=user.user_id, name="ada@example.com", display_name="Ada")
    started = service.begin_passkey_registration(ada, name="Laptop")
    service.finish_passkey_registration(
        user.user_id, started.challenge_id, device.create(started.options)
    )
    org_id = "org-" + user.user_id.removeprefix("u-")
    service.set_policy(
        org_id,
        dataclasses.replace(CONSOLE_POLICY, passkey_sign_in_satisfies_mfa=False),
        actor_id=user.user_id,
    )
    client.post(BASE + "/logout", data={"csrf_token": _token(client, "/account/security")})
    return device


def _passkey_sign_in(client: Any, device: SoftAuthenticator) -> Any:
    token = _token(client)
    begun = _json(client, "/login/passkey/options", {"mediation": "optional"}, token).json
    body = {"challenge_id": begun["challenge_id"], "credential": device.get(begun["options"])}
    return _json(client, "/login/passkey", body, token)


def test_passkey_sign_in_leads_to_the_second_step_when_the_policy_wants_one(client: Any) -> None:
    """An organization that does not count a passkey sign-in as MFA gets its second step.

    The passkey that signed in is not offered again there: one authenticator is one factor.
    """
    device = _passkey_not_mfa(client, with_totp=True)
    response = _passkey_sign_in(client, device)
    assert response.status_code == 200
    assert response.json["redirect"].endswith("/login/verify")
    # Not signed in yet: the second step is still ahead, without the passkey.
    assert client.get(BASE + "/account/security").status_code == 302
    page = client.get(BASE + "/login/verify")
    assert page.status_code == 200
    assert "Code from your authenticator app" in page.text
    options = _json(client, "/login/verify/passkey/options", {}, _token(client, "/login/verify"))
    assert options.status_code == 400


def test_passkey_that_is_the_only_method_cannot_also_be_the_second_step(client: Any) -> None:
    """With only that passkey, the sign-in is refused with the way forward, not completed."""
    device = _passkey_not_mfa(client, with_totp=False)
    response = _passkey_sign_in(client, device)
    assert response.status_code == 403
    assert response.json["error"] == (
        "Your organization asks for a second step besides this passkey. Sign in with your "
        "password, then use your passkey."
    )
    assert client.get(BASE + "/account/security").status_code == 302
