"""Signing in with a passkey (autofill and the button), the passkey offered after a password
sign-in, the passwordless setting and the WebAuthn signals, in Chromium.

The virtual authenticator (CTAP2, internal, resident keys, user verification)
answers the sign-in page's autofill request as soon as it holds a passkey for
the site, focused field or not: a test that wants the button turns simulated
presence off first, so that the autofill request waits (turning it back on
does not complete a waiting request). Chromium reports conditional create but never
completes one with a virtual authenticator: the offer's tests check that the
page asked for it, and use the offer's button.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from console.views.auth import CONSOLE_POLICY
from console_helpers import (
    Authenticator,
    add_authenticator,
    add_passkey,
    age_second_factor,
    sign_in_password,
    sign_out,
    sign_up,
)
from playwright.sync_api import expect

from mfakit.policy import MethodKind

WIDTHS = [1024, 360]
UNKNOWN = "This passkey cannot sign in here. Sign in with your password."
SECOND_STEP_ONLY = (
    "This passkey is for the second step of sign-in only. Sign in with your password first."
)
# Records the mediation of every navigator.credentials.create call of the page.
RECORD_CREATE = """
    const create = navigator.credentials.create.bind(navigator.credentials);
    window.createCalls = [];
    navigator.credentials.create = (request) => {
        window.createCalls.push(request.mediation || "modal");
        return create(request);
    };
"""


def _no_horizontal_scroll(page: Any) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def _passkey_user(console: Any, new_page: Any, width: int = 1024) -> tuple[Any, Authenticator]:
    """Ada with one passkey, on her security page (its signals sent)."""
    page = new_page()
    page.set_viewport_size({"width": width, "height": 720})
    authenticator = add_authenticator(
        page, transport="internal", resident_key=True, backup_eligible=True, autofill=True
    )
    sign_up(page, console.url, email="ada@example.com", name="Ada Lovelace")
    add_passkey(page, console.url, name="Laptop", kind="passkey")
    _signals_sent(page)
    return page, authenticator


def _signals_sent(page: Any) -> None:
    page.locator("html[data-passkey-signals=sent]").wait_for(state="attached")


def _user_id(console: Any, email: str) -> str:
    user = console.app.extensions["console_accounts"].user_by_email(email)
    assert user is not None
    return str(user.user_id)


def _service(console: Any) -> Any:
    return console.app.extensions["mfa_service"]


@pytest.mark.parametrize("width", WIDTHS)
def test_sign_in_through_the_email_fields_autofill(console: Any, new_page: Any, width: int) -> None:
    """The passkey offered in the e-mail field's autofill signs in without a password."""
    base = console.url
    page, authenticator = _passkey_user(console, new_page, width)
    authenticator.presence(enabled=False)  # the autofill request waits for Ada
    sign_out(page, base)
    page.locator("#passkey-sign-in[data-autofill=waiting]").wait_for(state="attached")
    email = page.get_by_label("E-mail address")
    expect(email).to_have_attribute("autocomplete", "username webauthn")
    _no_horizontal_scroll(page)
    # A waiting request does not complete when presence comes back: ask again, with presence.
    authenticator.presence(enabled=True)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(_mediation(r)))
    page.reload()
    page.wait_for_url(f"{base}/account/security")
    assert asked.count("conditional") == 1
    assert "optional" not in asked  # the button was not used
    expect(page.get_by_role("row", name="Laptop")).not_to_contain_text("Never")
    _no_horizontal_scroll(page)


def _mediation(request: Any) -> str:
    """The mediation a request for sign-in options asks for ("" for other requests)."""
    if not request.url.endswith("/login/passkey/options"):
        return ""
    return str(request.post_data_json.get("mediation", ""))


@pytest.mark.parametrize("width", WIDTHS)
def test_sign_in_with_the_passkey_button(console: Any, new_page: Any, width: int) -> None:
    """The button signs in with a passkey; it ends the autofill request that was waiting."""
    base = console.url
    page, authenticator = _passkey_user(console, new_page, width)
    authenticator.presence(enabled=False)
    sign_out(page, base)
    page.locator("#passkey-sign-in[data-autofill=waiting]").wait_for(state="attached")
    authenticator.presence(enabled=True)
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(f"{base}/account/security")
    expect(page.get_by_role("row", name="Laptop")).not_to_contain_text("Never")
    _no_horizontal_scroll(page)


def test_unknown_passkey_is_refused_and_signalled(console: Any, new_page: Any) -> None:
    """A passkey deleted on the server gets one generic answer; the browser is told to forget it."""
    base = console.url
    page, authenticator = _passkey_user(console, new_page)
    (stored,) = authenticator.credentials()
    _service(console).delete_passkey(
        _user_id(console, "ada@example.com"),
        base64.b64decode(stored["credentialId"]),
        confirmation="DELETE",
    )
    sign_out(page, base)
    expect(page.locator("#passkey-status")).to_have_text(UNKNOWN)
    _signals_sent(page)
    assert authenticator.credentials() == []
    assert page.url == f"{base}/login"


def test_passkey_for_the_second_step_only_cannot_sign_in_alone(console: Any, new_page: Any) -> None:
    """Turned off (after a fresh second factor), the passkey no longer signs in alone."""
    base = console.url
    page, authenticator = _passkey_user(console, new_page)
    row = page.get_by_role("row", name="Laptop")
    expect(row).to_contain_text("Usable for sign-in without a password")
    age_second_factor(console, "ada@example.com")
    turn_off = "Turn off sign-in without a password for Laptop"
    row.get_by_role("button", name=turn_off).click()
    page.get_by_role("heading", name="Confirm it's you").wait_for()
    page.get_by_role("button", name="Use a passkey or security key").click()
    page.wait_for_url(f"{base}/account/security")
    row.get_by_role("button", name=turn_off).click()
    expect(page.locator(".flashes")).to_contain_text("for the second step of sign-in only")
    expect(row).to_contain_text("Second step only")
    expect(row.get_by_role("button", name="Turn on sign-in without a password for Laptop"))
    sign_out(page, base)
    expect(page.locator("#passkey-status")).to_have_text(SECOND_STEP_ONLY)
    assert len(authenticator.credentials()) == 1  # not signalled as unknown

    sign_in_password(page, base, email="ada@example.com")
    page.wait_for_url(f"{base}/login/verify")
    page.get_by_role("button", name="Use a passkey or security key").click()
    page.wait_for_url(f"{base}/account/security")


def test_passkey_deleted_on_the_security_page_leaves_the_authenticator(
    console: Any, new_page: Any
) -> None:
    """After a deletion, the next page tells the browser: the passkey leaves the authenticator."""
    base = console.url
    page, authenticator = _passkey_user(console, new_page)
    assert len(authenticator.credentials()) == 1
    row = page.get_by_role("row", name="Laptop")
    row.locator("summary", has_text="Delete").click()
    row.get_by_label('Type DELETE to delete "Laptop"').fill("DELETE")
    row.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_text('"Laptop" is deleted.').wait_for()
    _signals_sent(page)
    assert authenticator.credentials() == []
    assert page.url == f"{base}/account/security"


# -- the passkey offered after a password sign-in ---------------------------------------


def _password_user(console: Any, new_page: Any, width: int = 1024) -> tuple[Any, Authenticator]:
    """Ada without a passkey, signed out, with an authenticator and create() recorded."""
    page = new_page()
    page.set_viewport_size({"width": width, "height": 720})
    page.add_init_script(RECORD_CREATE)
    authenticator = add_authenticator(
        page, transport="internal", resident_key=True, backup_eligible=True
    )
    sign_up(page, console.url, email="ada@example.com", name="Ada Lovelace")
    sign_out(page, console.url)
    return page, authenticator


@pytest.mark.parametrize("width", WIDTHS)
def test_offer_after_a_password_sign_in_creates_a_passkey(
    console: Any, new_page: Any, width: int
) -> None:
    """After the password the page quietly asks for a passkey, and offers one; the offer's
    button creates it (ending the quiet request, which Chromium leaves waiting)."""
    base = console.url
    page, authenticator = _password_user(console, new_page, width)
    sign_in_password(page, base, email="ada@example.com")
    page.wait_for_url(f"{base}/account/security")
    offer = page.get_by_role("region", name="Sign in faster next time: create a passkey")
    expect(offer).to_be_visible()
    page.locator("#passkey-offer[data-conditional-create=started]").wait_for(state="attached")
    assert page.evaluate("() => window.createCalls") == ["conditional"]
    assert authenticator.credentials() == []
    _no_horizontal_scroll(page)

    offer.get_by_role("button", name="Create a passkey").click()
    expect(page.locator(".flashes")).to_contain_text(re.compile(r'Passkey "Passkey \(.+\)" added'))
    (passkey,) = _service(console).list_passkeys(_user_id(console, "ada@example.com"))
    assert passkey.kind is MethodKind.PASSKEY
    assert passkey.name.startswith("Passkey (")
    assert len(authenticator.credentials()) == 1
    expect(page.locator("#passkey-offer")).to_have_count(0)
    _no_horizontal_scroll(page)


def test_declined_offer_is_not_made_again(console: Any, new_page: Any) -> None:
    """The "Not now" button hides the offer; the next password sign-in here makes none."""
    base = console.url
    page, _ = _password_user(console, new_page)
    sign_in_password(page, base, email="ada@example.com")
    offer = page.get_by_role("region", name="Sign in faster next time: create a passkey")
    with page.expect_response(f"{base}/account/passkeys/upgrade/dismiss"):
        offer.get_by_role("button", name="Not now").click()
    expect(offer).to_be_hidden()
    page.reload()
    expect(page.locator("#passkey-offer")).to_have_count(0)
    sign_out(page, base)
    sign_in_password(page, base, email="ada@example.com")
    page.wait_for_url(f"{base}/account/security")
    expect(page.locator("#passkey-offer")).to_have_count(0)


def test_no_offer_where_an_organization_refuses_passkeys(console: Any, new_page: Any) -> None:
    """A member of an organization that allows its members TOTP only is offered no passkey."""
    base = console.url
    page, _ = _password_user(console, new_page)
    accounts = console.app.extensions["console_accounts"]
    owner = accounts.create_user(email="olivia@example.com", name="Olivia", password_hash=None)
    service = _service(console)
    service.create_organization(
        "org-acme", name="Acme", owner_id=owner.user_id, policy=CONSOLE_POLICY
    )
    service.add_member("org-acme", _user_id(console, "ada@example.com"))
    with page.expect_response(f"{base}/account/passkeys/upgrade") as upgrade:
        sign_in_password(page, base, email="ada@example.com")
    assert upgrade.value.status == 403
    expect(page.locator("#passkey-offer")).to_be_hidden()
    page.reload()
    expect(page.locator("#passkey-offer")).to_have_count(0)
    assert page.evaluate("() => window.createCalls") == []
