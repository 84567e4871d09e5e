"""A passkey sign-in the rules do not count as MFA: the second step never takes that passkey."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi_helpers import CHEAP_PASSWORDS, ORIGIN, SETTINGS
from mfakit_demo_api import close, create_app
from test_fastapi_api import PASSWORD, _add_passkey, _enroll_totp, _error, _sign_up
from tests.async_helpers import run_async

from mfakit.clock import FrozenClock
from mfakit.testing import SoftAuthenticator


@pytest.fixture
def app(tmp_path: Path, clock: FrozenClock) -> Iterator[Any]:
    """The example app for users in no organization whose passkey sign-in is not MFA."""
    personal = dataclasses.replace(SETTINGS.personal_policy, passkey_sign_in_satisfies_mfa=False)
    made = create_app(
        data_dir=tmp_path / "data",
        origin=ORIGIN,
        settings=dataclasses.replace(SETTINGS, personal_policy=personal),
        clock=clock,
        password_hasher=CHEAP_PASSWORDS,
        max_workers=2,
    )
    yield made
    run_async(lambda: close(made))


async def _passkey_first(client: httpx.AsyncClient, device: SoftAuthenticator) -> httpx.Response:
    begun = (await client.post("/api/passkey-sign-in/begin")).json()
    return await client.post(
        "/api/passkey-sign-in/finish",
        json={"challenge_id": begun["challenge_id"], "credential": device.get(begun["options"])},
    )


def test_second_step_offers_the_other_factors_only(run: Any, clock: FrozenClock) -> None:
    """After the passkey, the app or another passkey; the same passkey is refused (attack)."""
    laptop = SoftAuthenticator(origin=ORIGIN)
    phone = SoftAuthenticator(origin=ORIGIN)

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        await _enroll_totp(client, clock)
        first = await _add_passkey(client, laptop)
        other = await _add_passkey(client, phone, name="Phone")
        await client.post("/api/logout")
        started = await _passkey_first(client, laptop)
        assert started.json()["status"] == "second_factor_required"
        step = (await client.post("/api/second-factor/begin")).json()
        allowed = [c["id"] for c in step["webauthn_options"]["allowCredentials"]]
        assert allowed == [other["credential_id"]] != [first["credential_id"]]
        forged = laptop.get(step["webauthn_options"], credential_id=laptop_id(first))
        refused = await client.post(
            "/api/second-factor/passkey",
            json={"challenge_id": step["challenge_id"], "credential": forged},
        )
        assert refused.status_code == 400
        assert (await client.get("/api/me")).json()["stage"] == "second_factor"
        step = (await client.post("/api/second-factor/begin")).json()
        done = await client.post(
            "/api/second-factor/passkey",
            json={
                "challenge_id": step["challenge_id"],
                "credential": phone.get(step["webauthn_options"]),
            },
        )
        assert done.json() == {"status": "signed_in", "method": "passkey"}

    run(scenario)


def test_only_that_passkey_means_no_second_step(run: Any) -> None:
    """A user whose only method is the passkey is refused, not signed in."""
    laptop = SoftAuthenticator(origin=ORIGIN)

    async def scenario(client: httpx.AsyncClient) -> None:
        await _sign_up(client)
        await _add_passkey(client, laptop)
        await client.post("/api/logout")
        started = await _passkey_first(client, laptop)
        assert started.json()["status"] == "second_factor_required"
        _error(await client.post("/api/second-factor/begin"), 404, "not_found")
        assert (await client.get("/api/me")).json()["stage"] == "second_factor"
        # The password, then the passkey as the second step, still works.
        await client.post("/api/logout")
        login = await client.post(
            "/api/login", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert login.json()["methods"] == ["passkey"]

    run(scenario)


def laptop_id(added: dict[str, Any]) -> bytes:
    """The raw id of a passkey the API listed (base64url)."""
    text = str(added["credential_id"])
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
