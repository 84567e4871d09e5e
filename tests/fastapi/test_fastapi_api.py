"""The FastAPI example's JSON API through httpx: every endpoint, and its errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi_helpers import ORIGIN

from mfakit import static
from mfakit.clock import FrozenClock
from mfakit.otp import TOTP, decode_base32
from mfakit.testing import SoftAuthenticator

Run = Callable[[Callable[[httpx.AsyncClient], Any]], Any]
PASSWORD = "correct horse battery"


async def _sign_up(client: httpx.AsyncClient, email: str = "ada@example.com") -> dict[str, Any]:
    response = await client.post(
        "/api/signup", json={"email": email, "name": "Ada", "password": PASSWORD}
    )
    assert response.status_code == 201
    return dict(response.json())


async def _enroll_totp(client: httpx.AsyncClient, clock: FrozenClock) -> tuple[TOTP, list[str]]:
    """Set up an authenticator app; the clock moves to the next time step."""
    started = (await client.post("/api/totp/enrollments", json={"name": "Phone"})).json()
    app = TOTP(decode_base32(started["manual_key"].replace(" ", "")))
    confirmed = await client.post(
        f"/api/totp/enrollments/{started['totp_id']}/confirm",
        json={"code": app.at(clock.now())},
    )
    assert confirmed.status_code == 200
    clock.advance(30)
    return app, confirmed.json()["backup_codes"]["codes"]


async def _log_in(client: httpx.AsyncClient, email: str = "ada@example.com") -> dict[str, Any]:
    response = await client.post("/api/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    return dict(response.json())


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code
    return dict(body)


def test_sign_up_me_and_log_out(run: Run) -> None:
    """A new account is signed in; after logging out, /api/me answers 401 not_signed_in."""

    async def scenario(client: httpx.AsyncClient) -> None:
        created = await _sign_up(client)
        me = (await client.get("/api/me")).json()
        assert me == {**created, "stage": "signed_in"}
        assert (await client.post("/api/logout")).json() == {"status": "signed_out"}
        _error(await client.get("/api/me"), 401, "not_signed_in")

    run(scenario)


def test_sign_up_refusals(run: Run) -> None:
    """A taken address is 409 email_taken; a short password is 422 invalid_request."""

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        again = await client.post(
            "/api/signup", json={"email": "ADA@example.com", "name": "A", "password": PASSWORD}
        )
        _error(again, 409, "email_taken")
        short = await client.post(
            "/api/signup", json={"email": "b@example.com", "name": "B", "password": "short"}
        )
        assert _error(short, 422, "invalid_request")["fields"] == ["password"]

    run(scenario)


def test_wrong_password_and_forged_cookie_are_refused(run: Run) -> None:
    """A wrong password is 401 invalid_credentials; a tampered session cookie is no session."""

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        wrong = await client.post(
            "/api/login", json={"email": "ada@example.com", "password": "nope"}
        )
        _error(wrong, 401, "invalid_credentials")
        cookie = client.cookies["mfa_demo_session"]
        body, _, signature = cookie.partition(".")
        client.cookies.set("mfa_demo_session", f"{body}x.{signature}")
        _error(await client.get("/api/me"), 401, "not_signed_in")

    run(scenario)


def test_totp_enrollment_gives_uri_qr_and_backup_codes(run: Run, clock: FrozenClock) -> None:
    """Enrollment returns the otpauth URI and an SVG QR code; confirming lists the device."""

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        started = (await client.post("/api/totp/enrollments", json={"name": "Phone"})).json()
        assert started["uri"].startswith("otpauth://totp/mfakit%20demo:ada@example.com?")
        assert "<svg" in started["qr_svg"]
        wrong = await client.post(
            f"/api/totp/enrollments/{started['totp_id']}/confirm", json={"code": "000000"}
        )
        _error(wrong, 400, "invalid_code")
        app = TOTP(decode_base32(started["manual_key"].replace(" ", "")))
        confirmed = await client.post(
            f"/api/totp/enrollments/{started['totp_id']}/confirm",
            json={"code": app.at(clock.now())},
        )
        assert confirmed.json()["device"]["name"] == "Phone"
        assert len(confirmed.json()["backup_codes"]["codes"]) == 10
        devices = (await client.get("/api/totp/devices")).json()
        assert [d["name"] for d in devices] == ["Phone"]

    run(scenario)


def test_sign_in_with_totp_refuses_a_replayed_code(run: Run, clock: FrozenClock) -> None:
    """Password, then TOTP: the confirming code is a replay (400), the next one signs in."""

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        app, _ = await _enroll_totp(client, clock)
        await client.post("/api/logout")
        step = await _log_in(client)
        assert step["status"] == "second_factor_required"
        assert step["methods"] == ["totp", "backup_codes"]
        _error(await client.get("/api/methods"), 401, "second_factor_required")
        replay = await client.post(
            "/api/second-factor/totp", json={"code": app.at(clock.now().timestamp() - 30)}
        )
        _error(replay, 400, "replayed_code")
        done = await client.post("/api/second-factor/totp", json={"code": app.at(clock.now())})
        assert done.json() == {"status": "signed_in", "method": "totp"}
        assert (await client.get("/api/me")).json()["stage"] == "signed_in"

    run(scenario)


def test_wrong_codes_are_throttled_with_retry_after(run: Run, clock: FrozenClock) -> None:
    """Repeated wrong codes end in 429 throttled with a Retry-After header."""

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        await _enroll_totp(client, clock)
        statuses = []
        for _ in range(6):
            response = await client.post("/api/second-factor/totp", json={"code": "000000"})
            statuses.append(response.status_code)
            if response.status_code == 429:
                body = _error(response, 429, "throttled")
                assert body["retry_after"] > 0
                assert int(response.headers["Retry-After"]) >= 1
                break
        assert statuses[0] == 400
        assert statuses[-1] == 429

    run(scenario)


def test_no_totp_is_404_not_found(run: Run) -> None:
    """A TOTP second factor for a user without TOTP is 404 not_found."""

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        response = await client.post("/api/second-factor/totp", json={"code": "123456"})
        _error(response, 404, "not_found")

    run(scenario)


def test_backup_codes_status_regenerate_and_sign_in(run: Run, clock: FrozenClock) -> None:
    """New codes replace the old ones; one signs in once, then it is refused."""

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        _, first_codes = await _enroll_totp(client, clock)
        assert (await client.get("/api/backup-codes")).json() == {
            "total": 10,
            "remaining": 10,
            "low": False,
        }
        regenerated = await client.post("/api/backup-codes")
        assert regenerated.status_code == 201
        codes = regenerated.json()["codes"]
        assert set(codes).isdisjoint(first_codes)
        await client.post("/api/logout")
        await _log_in(client)
        old = await client.post("/api/second-factor/backup-code", json={"code": first_codes[0]})
        _error(old, 400, "invalid_code")
        used = await client.post("/api/second-factor/backup-code", json={"code": codes[0]})
        assert used.json() == {
            "status": "signed_in",
            "method": "backup_codes",
            "backup_codes_remaining": 9,
        }
        again = await client.post("/api/second-factor/backup-code", json={"code": codes[0]})
        _error(again, 400, "invalid_code")

    run(scenario)


def test_delete_totp_device_needs_the_typed_confirmation(run: Run, clock: FrozenClock) -> None:
    """Without ``DELETE`` the deletion is 403 policy_denied; with it the device is gone."""

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        await _enroll_totp(client, clock)
        device = (await client.get("/api/totp/devices")).json()[0]["device_id"]
        url = f"/api/totp/devices/{device}"
        refused = await client.request("DELETE", url, json={"confirmation": "delete"})
        _error(refused, 403, "policy_denied")
        deleted = await client.request("DELETE", url, json={"confirmation": "DELETE"})
        assert deleted.json() == {"deleted": "totp", "remaining_methods": 0}
        assert (await client.get("/api/totp/devices")).json() == []
        missing = await client.request("DELETE", url, json={"confirmation": "DELETE"})
        _error(missing, 404, "not_found")

    run(scenario)


async def _add_passkey(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator, name: str = "Laptop"
) -> dict[str, Any]:
    started = await client.post("/api/passkeys/registrations", json={"name": name})
    assert started.status_code == 201
    begun = started.json()
    credential = authenticator.create(begun["options"])
    finished = await client.post(
        f"/api/passkeys/registrations/{begun['challenge_id']}/finish",
        json={"credential": credential},
    )
    assert finished.status_code == 201, finished.text
    return dict(finished.json())


def test_passkey_registration_list_and_duplicate_name(run: Run) -> None:
    """A passkey is registered and listed; a second one with the same name is 409 duplicate."""
    authenticator = SoftAuthenticator(origin=ORIGIN)

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        added = await _add_passkey(client, authenticator)
        assert added["name"] == "Laptop"
        assert added["kind"] == "passkey"
        listed = (await client.get("/api/passkeys")).json()
        assert [p["credential_id"] for p in listed] == [added["credential_id"]]
        again = await client.post("/api/passkeys/registrations", json={"name": "laptop"})
        _error(again, 409, "duplicate")

    run(scenario)


def test_a_forged_registration_response_is_refused(run: Run) -> None:
    """A response for another origin is 400 with the WebAuthn error's code."""
    other = SoftAuthenticator(origin="https://evil.example")

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        begun = (await client.post("/api/passkeys/registrations", json={"name": "X"})).json()
        response = await client.post(
            f"/api/passkeys/registrations/{begun['challenge_id']}/finish",
            json={"credential": other.create(begun["options"])},
        )
        assert _error(response, 400, "ceremony_mismatch")["field"] == "origin"

    run(scenario)


def test_usernameless_passkey_sign_in(run: Run) -> None:
    """Begin and finish a passkey sign-in without a username: signed in as the passkey's owner."""
    authenticator = SoftAuthenticator(origin=ORIGIN)

    async def scenario(client: httpx.AsyncClient) -> None:
        user = await _sign_up(client)
        await _add_passkey(client, authenticator)
        await client.post("/api/logout")
        begun = (await client.post("/api/passkey-sign-in/begin")).json()
        assert begun["options"].get("allowCredentials", []) == []
        finished = await client.post(
            "/api/passkey-sign-in/finish",
            json={
                "challenge_id": begun["challenge_id"],
                "credential": authenticator.get(begun["options"]),
            },
        )
        assert finished.json() == {
            "status": "signed_in",
            "user_id": user["user_id"],
            "method": "passkey",
        }
        assert (await client.get("/api/me")).json()["user_id"] == user["user_id"]
        replay = await client.post(
            "/api/passkey-sign-in/finish",
            json={
                "challenge_id": begun["challenge_id"],
                "credential": authenticator.get(begun["options"]),
            },
        )
        assert replay.status_code == 400

    run(scenario)


def test_passkey_as_second_factor_and_deleted_passkey_is_unknown(run: Run) -> None:
    """Password then passkey signs in; once deleted, the passkey is 400 unknown_credential."""
    authenticator = SoftAuthenticator(origin=ORIGIN)

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        added = await _add_passkey(client, authenticator)
        await client.post("/api/logout")
        step = await _log_in(client)
        assert step["methods"] == ["passkey"]
        verified = await client.post(
            "/api/second-factor/passkey",
            json={
                "challenge_id": step["challenge_id"],
                "credential": authenticator.get(step["webauthn_options"]),
            },
        )
        assert verified.json() == {"status": "signed_in", "method": "passkey"}
        url = f"/api/passkeys/{added['credential_id']}"
        refused = await client.request("DELETE", url, json={})
        _error(refused, 403, "policy_denied")
        deleted = await client.request("DELETE", url, json={"confirmation": "DELETE"})
        assert deleted.json()["signal"]["credentialId"] == added["credential_id"]
        await client.post("/api/logout")
        begun = (await client.post("/api/passkey-sign-in/begin")).json()
        unknown = await client.post(
            "/api/passkey-sign-in/finish",
            json={
                "challenge_id": begun["challenge_id"],
                "credential": authenticator.get(begun["options"]),
            },
        )
        body = _error(unknown, 400, "unknown_credential")
        assert body["signal"]["credentialId"] == added["credential_id"]

    run(scenario)


def test_a_malformed_credential_id_is_400_malformed_data(run: Run) -> None:
    """A passkey id that is not base64url is refused before the service is called."""

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        response = await client.request("DELETE", "/api/passkeys/a", json={})
        _error(response, 400, "malformed_data")

    run(scenario)


def test_methods_lists_every_kind(run: Run, clock: FrozenClock) -> None:
    """/api/methods lists apps, passkeys and the backup-code count."""
    authenticator = SoftAuthenticator(origin=ORIGIN)

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        await _enroll_totp(client, clock)
        await _add_passkey(client, authenticator)
        methods = (await client.get("/api/methods")).json()
        assert [d["name"] for d in methods["totp_devices"]] == ["Phone"]
        assert [p["name"] for p in methods["passkeys"]] == ["Laptop"]
        assert methods["backup_codes"]["remaining"] == 10

    run(scenario)


def test_member_signs_in_with_an_emailed_code(run: Run) -> None:
    """An owner adds a member; the member gets a code and signs in with it, once."""

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        org = await client.post("/api/orgs", json={"org_id": "acme", "name": "Acme"})
        assert org.status_code == 201
        member = await client.post(
            "/api/orgs/acme/members", json={"username": "bob", "name": "Bob"}
        )
        assert member.status_code == 201
        await client.post("/api/logout")
        sent = await client.post(
            "/api/login-codes/send", json={"org_id": "acme", "username": "bob"}
        )
        assert sent.status_code == 202
        codes = (await client.get("/api/demo/mailbox")).json()
        assert [c["user_id"] for c in codes] == [member.json()["user_id"]]
        code = codes[0]["code"]
        wrong = await client.post(
            "/api/login-codes/verify",
            json={"org_id": "acme", "username": "bob", "code": "0" * len(code)},
        )
        assert _error(wrong, 400, "invalid_code")["attempts_remaining"] >= 1
        good = {"org_id": "acme", "username": "bob", "code": code}
        signed_in = await client.post("/api/login-codes/verify", json=good)
        assert signed_in.json()["status"] == "signed_in"
        assert signed_in.json()["first_login"] is True
        assert (await client.get("/api/me")).json()["user_id"] == member.json()["user_id"]
        _error(await client.post("/api/login-codes/verify", json=good), 400, "replayed_code")

    run(scenario)


def test_unknown_member_gets_the_same_answer(run: Run) -> None:
    """Sending a code to nobody answers 202 like for a member, and mails nothing."""

    async def scenario(client: httpx.AsyncClient) -> None:
        sent = await client.post("/api/login-codes/send", json={"org_id": "x", "username": "y"})
        assert sent.status_code == 202
        assert set(sent.json()) == {"resend_after", "expires_at"}
        assert (await client.get("/api/demo/mailbox")).json() == []

    run(scenario)


@pytest.mark.parametrize("path", ["/api/totp/devices", "/api/passkeys", "/api/backup-codes"])
def test_account_endpoints_need_a_session(run: Run, path: str) -> None:
    """Without a session cookie every account endpoint is 401 not_signed_in."""

    async def scenario(client: httpx.AsyncClient) -> None:
        _error(await client.get(path), 401, "not_signed_in")

    run(scenario)


def test_page_and_browser_module_are_served(run: Run) -> None:
    """The page imports the browser module, served as JavaScript from mfakit.static."""

    async def scenario(client: httpx.AsyncClient) -> None:
        page = await client.get("/")
        assert page.headers["content-type"].startswith("text/html")
        assert f'from "/js/{static.MODULE_NAME}"' in page.text
        module = await client.get(f"/js/{static.MODULE_NAME}")
        assert module.headers["content-type"].startswith(static.MEDIA_TYPE)
        assert module.content == static.read_module()

    run(scenario)
