"""The console's own security (issue 18, item 4), checked with Flask's test client.

No open redirect after sign-in; sessions kept on the server (a copied cookie
stops working at sign-out, a new id at each step of sign-in, every other
session of a user ended after a reset or a factor change); the password step
throttled like the second factors, unknown addresses included.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from console import create_app

from mfakit.backup_codes import CHEAP_FOR_TESTS, Hasher
from mfakit.otp import TOTP, decode_base32
from mfakit.service import ServiceSettings

BASE = "http://localhost:8000"
PASSWORD = "correct horse battery"
COOKIE = "console_session"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    """A fresh console; a password failure beyond the free ones backs off for a minute."""
    console = create_app(
        instance_dir=tmp_path,
        origin=BASE,
        settings=ServiceSettings(
            backup_code_hasher=Hasher(profile=CHEAP_FOR_TESTS),
            throttle_backoff_base=timedelta(minutes=1),
        ),
        password_hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1),
        testing=True,
    )
    yield console
    console.extensions["mfa_store"].close()


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    """A browser of the console (its own cookies)."""
    with app.test_client() as test_client:
        yield test_client


def _token(client: Any, path: str = "/login") -> str:
    page = client.get(BASE + path)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found is not None, page.status_code
    return found.group(1)


def _sign_up(client: Any, email: str = "ada@example.com") -> None:
    response = client.post(
        BASE + "/signup",
        data={
            "csrf_token": _token(client, "/signup"),
            "email": email,
            "name": "Ada",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302


def _sign_in(
    client: Any, email: str = "ada@example.com", password: str = PASSWORD, **query: str
) -> Any:
    return client.post(
        BASE + "/login",
        query_string=query,
        data={"csrf_token": _token(client), "email": email, "password": password},
    )


def _sign_out(client: Any) -> None:
    client.post(BASE + "/logout", data={"csrf_token": _token(client, "/account/security")})


def _cookie(client: Any) -> str:
    cookie = client.get_cookie(COOKIE, domain="localhost")
    assert cookie is not None
    return str(cookie.value)


def _use_cookie(client: Any, value: str) -> None:
    client.set_cookie(COOKIE, value, domain="localhost")


def _signed_in(client: Any) -> bool:
    response = client.get(BASE + "/account/security")
    return response.status_code == 200 and "Sign out" in response.text


def _set_up_totp(client: Any) -> TOTP:
    setup = client.post(
        BASE + "/account/totp/setup", data={"csrf_token": _token(client, "/account/security")}
    )
    key = re.search(r'id="manual-key" class="key">([^<]+)<', setup.text)
    assert key is not None
    totp = TOTP(decode_base32(key.group(1).replace(" ", "")))
    confirmed = client.post(
        BASE + "/account/totp/confirm",
        data={"csrf_token": _token(client, "/account/security"), "code": totp.at(time.time())},
    )
    assert confirmed.status_code == 302  # to the backup codes, shown once (post/redirect/get)
    return totp


def _second_step(client: Any, totp: TOTP) -> Any:
    """The second factor of sign-in: the app's next code."""
    code = totp.at(time.time() + 30)
    token = _token(client, "/login/verify")
    return client.post(
        BASE + "/login/verify/code", data={"csrf_token": token, "kind": "totp", "code": code}
    )


# -- open redirect ------------------------------------------------------------------------

OFF_SITE = [
    "//evil.example/",
    "/%09/evil.example/",  # as typed in the link: %2509 once encoded in the query
    "/\t/evil.example/",  # the link's %09, decoded (browsers drop tabs)
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "/ /evil.example/",
    "/.//evil.example",
    "/./../evil.example",
    "/%2F/evil.example",
    "/%2e//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/%5Cevil.example",
    "https://evil.example/",
    "http:evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "evil.example",
    "\x00/evil.example",
    "/\u2028/evil.example",
    "/\x7f/evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_redirects_off_site(client: Any, target: str) -> None:
    """Known open-redirect bypasses all land on the default page after sign-in."""
    _sign_up(client)
    _sign_out(client)
    response = _sign_in(client, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/security"


@pytest.mark.parametrize("target", ["/org", "/account/security?tab=keys", "/outbox?to=a%40b.c"])
def test_sign_in_keeps_a_local_next_page(client: Any, target: str) -> None:
    """A path on the console itself is kept."""
    _sign_up(client)
    _sign_out(client)
    assert _sign_in(client, next=target).headers["Location"] == target


# -- server-side sessions -----------------------------------------------------------------


def test_cookie_saved_before_sign_out_no_longer_works(client: Any) -> None:
    """Signing out ends the session on the server: a copy of the cookie opens nothing."""
    _sign_up(client)
    saved = _cookie(client)
    assert _signed_in(client)
    _sign_out(client)
    _use_cookie(client, saved)
    assert not _signed_in(client)
    assert client.get(BASE + "/account/security").headers["Location"].startswith("/login")


def test_cookie_holds_only_a_random_id(client: Any) -> None:
    """No user id, token or data in the cookie: a random id, whose hash only the server keeps."""
    _sign_up(client)
    value = _cookie(client)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value)
    accounts = client.application.extensions["console_accounts"]
    user = accounts.user_by_email("ada@example.com")
    assert user.user_id not in value
    assert accounts.session_count(user.user_id) == 1
    with accounts._connect() as db:
        keys = [row[0] for row in db.execute("SELECT session_key FROM console_sessions")]
    assert value not in keys


def test_each_step_of_sign_in_gets_a_new_session_id(client: Any) -> None:
    """Session fixation: the ids before the password and before the second factor end there."""
    _sign_up(client)
    totp = _set_up_totp(client)
    _sign_out(client)
    _token(client)
    anonymous = _cookie(client)
    assert _sign_in(client).headers["Location"] == "/login/verify"
    pending = _cookie(client)
    assert _second_step(client, totp).headers["Location"] == "/account/security"
    signed_in = _cookie(client)
    assert len({anonymous, pending, signed_in}) == 3
    assert _signed_in(client)
    # The id of the second step no longer reaches it, nor the account.
    _use_cookie(client, pending)
    assert client.get(BASE + "/login/verify").headers["Location"] == "/login"
    assert not _signed_in(client)
    _use_cookie(client, anonymous)
    assert not _signed_in(client)


def test_a_factor_change_signs_the_user_out_everywhere_else(app: Any) -> None:
    """Setting up TOTP in one browser ends the user's session in another; not in this one."""
    here, elsewhere = app.test_client(), app.test_client()
    _sign_up(here)
    _sign_in(elsewhere)
    assert _signed_in(elsewhere)
    _set_up_totp(here)
    assert _signed_in(here)
    assert not _signed_in(elsewhere)


def test_a_reset_signs_the_user_out_of_every_session(app: Any) -> None:
    """An MFA reset (support, through the service) ends every session through the revoker."""
    first, second = app.test_client(), app.test_client()
    _sign_up(first)
    totp = _set_up_totp(first)
    assert _sign_in(second).headers["Location"] == "/login/verify"
    _second_step(second, totp)
    assert _signed_in(first)
    assert _signed_in(second)
    user = app.extensions["console_accounts"].user_by_email("ada@example.com")
    app.extensions["mfa_service"].reset_user_mfa(
        user.user_id, actor_id="support", reason="lost phone"
    )
    assert not _signed_in(first)
    assert not _signed_in(second)
    assert app.extensions["console_accounts"].session_count(user.user_id) == 0


# -- the password step's throttle ---------------------------------------------------------


def _answers(client: Any, email: str, attempts: int) -> list[tuple[int, str]]:
    answers = []
    for _ in range(attempts):
        response = _sign_in(client, email=email, password="wrong password!")
        error = re.search(r'id="error">([^<]+)<', response.text)
        answers.append((response.status_code, error.group(1) if error else ""))
    return answers


def test_password_step_backs_off_like_the_second_factors(client: Any) -> None:
    """After the free failures, even the right password waits for the back-off."""
    _sign_up(client)
    _sign_out(client)
    free = ServiceSettings().throttle_free_failures
    answers = _answers(client, "ada@example.com", free + 2)
    assert [status for status, _ in answers] == [401] * (free + 1) + [429]
    assert answers[-1][1].startswith("Too many attempts. Try again in ")
    refused = _sign_in(client)
    assert refused.status_code == 429
    assert not _signed_in(client)


def test_password_throttle_answers_the_same_for_unknown_addresses(client: Any) -> None:
    """An unknown address is counted and refused exactly like a known one (no enumeration)."""
    _sign_up(client)
    _sign_out(client)
    free = ServiceSettings().throttle_free_failures
    known = _answers(client, "ADA@example.com", free + 2)
    unknown = _answers(client, "nobody@example.com", free + 2)
    assert known == unknown


def test_right_password_forgets_the_failures(client: Any) -> None:
    """A successful sign-in resets the counter."""
    _sign_up(client)
    _sign_out(client)
    free = ServiceSettings().throttle_free_failures
    _answers(client, "ada@example.com", free)
    assert _sign_in(client).status_code == 302
    _sign_out(client)
    assert [s for s, _ in _answers(client, "ada@example.com", free)] == [401] * free


# -- a member's password (item 9) ---------------------------------------------------------

MEMBER_PASSWORD = "purple monkey dishwasher"


def _member(client: Any) -> str:
    """Olivia's organization with the member carol, whose password is set; its ID."""
    _sign_up(client, "olivia@example.com")
    org_page = client.get(BASE + "/org", follow_redirects=True).text
    found = re.search(r'id="org-id">([^<]+)<', org_page)
    assert found is not None
    client.post(
        BASE + f"/org/{found.group(1)}/members",
        data={
            "csrf_token": _token(client, "/account/security"),
            "username": "carol",
            "email": "carol@example.com",
        },
    )
    _sign_out(client)
    app = client.application
    carol = app.extensions["console_accounts"].user_by_email("carol@example.com")
    hashed = app.extensions["console_passwords"].hash(MEMBER_PASSWORD)
    app.extensions["console_accounts"].set_member_password_hash(carol.user_id, hashed)
    return str(found.group(1))


def _member_password(client: Any, org_id: str, username: str, password: str) -> Any:
    return client.post(
        BASE + "/login/member/password",
        data={
            "csrf_token": _token(client, "/login/member"),
            "org_id": org_id,
            "username": username,
            "password": password,
        },
    )


def test_username_step_offers_a_code_or_a_password(client: Any) -> None:
    """The same choice for every username: nothing is looked up before the password."""
    org_id = _member(client)
    pages = []
    for username in ("carol", "mallory"):
        response = client.post(
            BASE + "/login/member",
            data={
                "csrf_token": _token(client, "/login/member"),
                "org_id": org_id,
                "username": username,
                "method": "password",
            },
        )
        assert response.status_code == 200
        assert 'autocomplete="current-password"' in response.text
        pages.append(response.text.replace(username, "NAME"))
    assert pages[0] == pages[1]


def test_member_password_signs_in_and_refuses_alike(client: Any, monkeypatch: Any) -> None:
    """The right password signs in; a wrong one, an unknown username and a member without a
    password get the same page after one Argon2 check each."""
    org_id = _member(client)
    _sign_in(client, email="olivia@example.com")
    client.post(
        BASE + f"/org/{org_id}/members",
        data={
            "csrf_token": _token(client, "/account/security"),
            "username": "dave",
            "email": "dave@example.com",
        },
    )
    _sign_out(client)
    checks: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            checks.append("checked")
            return super().verify(hash, password)

    counting = Counting(time_cost=1, memory_cost=64, parallelism=1)
    monkeypatch.setitem(client.application.extensions, "console_passwords", counting)
    answers = []
    for username, password in (
        ("carol", "not my password at all"),
        ("mallory", MEMBER_PASSWORD),
        ("dave", MEMBER_PASSWORD),  # a member who set no password
    ):
        response = _member_password(client, org_id, username, password)
        answers.append((response.status_code, response.text.replace(username, "NAME")))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401
    assert "Wrong organization ID, username or password." in answers[0][1]
    assert len(checks) == 3
    signed_in = _member_password(client, org_id, "carol", MEMBER_PASSWORD)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/account/security"
    assert "carol@example.com" in client.get(BASE + "/account/security").text


def test_member_password_is_throttled(client: Any) -> None:
    """The member password step backs off like the e-mail one, for unknown usernames too."""
    org_id = _member(client)
    free = ServiceSettings().throttle_free_failures
    for username in ("carol", "mallory"):
        statuses = [
            _member_password(client, org_id, username, "wrong password!").status_code
            for _ in range(free + 2)
        ]
        assert statuses == [401] * (free + 1) + [429]
    assert _member_password(client, org_id, "carol", MEMBER_PASSWORD).status_code == 429


def test_member_password_does_not_open_the_e_mail_sign_in(client: Any) -> None:
    """A member's password works at the member sign-in only, not with the e-mail address."""
    _member(client)
    response = _sign_in(client, email="carol@example.com", password=MEMBER_PASSWORD)
    assert response.status_code == 401
