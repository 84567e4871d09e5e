"""The example console as a finished product (issue 18): error pages, e-mails, member passwords.

Each page is checked at a desktop width and at 360 px (a small phone).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from console_helpers import read_outbox, sign_up
from playwright.sync_api import expect

VIEWPORTS = {
    "desktop": {"width": 1024, "height": 720},
    "phone": {"width": 360, "height": 740},
}


@pytest.fixture(params=sorted(VIEWPORTS))
def sized_page(request: Any, new_page: Any) -> Callable[[], Any]:
    """Make pages (each in its own browser context) at the test's viewport."""
    return lambda: new_page(viewport=VIEWPORTS[request.param])


def _fits(page: Any) -> None:
    """Nothing wider than the window: no sideways scrolling."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]


def _styled(page: Any) -> None:
    """The console's layout: its header, its stylesheet applied, its icon."""
    expect(page.get_by_role("link", name="mfakit console")).to_be_visible()
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Times" not in font
    assert page.locator('link[rel="icon"]').count() == 1
    _fits(page)


def _error_page(page: Any, heading: str, *, back: str, to: str) -> None:
    """The console's error page: its heading, the console's look, a link that leads ``to``."""
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    _styled(page)
    page.get_by_role("link", name=back).click()
    expect(page).to_have_url(to)


# -- item 5: error pages ------------------------------------------------------------------


def test_step_urls_opened_directly_go_to_the_start_of_their_step(
    console: Any, sized_page: Any
) -> None:
    """A bookmarked or reloaded step URL leads to where the step starts, not to a bare 405."""
    base = console.url
    page = sized_page()
    sign_up(page, base, email="ada@example.com", name="Ada Lovelace")
    for path in ("/account/totp/setup", "/account/totp/confirm", "/account/backup-codes"):
        page.goto(base + path)
        expect(page).to_have_url(f"{base}/account/security")
        expect(page.get_by_role("heading", name="Account security")).to_be_visible()
    page.goto(f"{base}/org")
    org_id = page.locator("#org-id").inner_text().strip()
    for step in ("enforce", "stop", "remind"):
        page.goto(f"{base}/org/{org_id}/{step}")
        expect(page).to_have_url(f"{base}/org/{org_id}")
    page.goto(f"{base}/login/member/code")
    expect(page).to_have_url(f"{base}/login/member")


def test_missing_page_is_a_styled_404_with_a_way_back(console: Any, sized_page: Any) -> None:
    """An unknown address gets the console's page: what happened and a link home."""
    base = console.url
    page = sized_page()
    response = page.goto(f"{base}/no/such/page")
    assert response is not None
    assert response.status == 404
    _error_page(page, "Page not found", back="Go to the home page", to=f"{base}/login")


def test_expired_form_says_so_and_links_back(console: Any, sized_page: Any) -> None:
    """A form whose session ended gets a styled 400 that says it expired, with a way back."""
    base = console.url
    page = sized_page()
    sign_up(page, base, email="ada@example.com", name="Ada Lovelace")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login")
    page.get_by_label("E-mail address").fill("ada@example.com")
    page.get_by_label("Password").fill("correct horse battery")
    page.context.clear_cookies()  # the session ended meanwhile
    with page.expect_response(f"{base}/login") as answer:
        page.get_by_role("button", name="Sign in", exact=True).click()
    assert answer.value.status == 400
    expect(page.get_by_text("Nothing was changed")).to_be_visible()
    _error_page(page, "This form expired", back="Go back", to=f"{base}/login")


def test_favicon_is_served(console: Any, new_page: Any) -> None:
    """/favicon.ico and the pages' icon link answer with the console's SVG icon."""
    base = console.url
    page = new_page()
    page.goto(f"{base}/login")
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon is not None
    for url in (f"{base}/favicon.ico", base + icon):
        response = page.request.get(url)
        assert response.status == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert b"<svg" in response.body()


# -- item 7: e-mails ----------------------------------------------------------------------


def _owner_adds_carol(owner: Any, base: str) -> str:
    """Olivia signs up and adds the member carol; her organization's ID."""
    sign_up(owner, base, email="olivia@example.com", name="Olivia")
    owner.goto(f"{base}/org")
    org_id = str(owner.locator("#org-id").inner_text().strip())
    owner.get_by_label("Username").fill("carol")
    owner.locator("#m-email").fill("carol@example.com")
    owner.get_by_role("button", name="Add member").click()
    return org_id


def test_member_reminder_names_the_organization_and_how_to_sign_in(
    console: Any, sized_page: Any
) -> None:
    """A reminder to a member names the organization, and gives its ID, the username and
    the member sign-in link; it says nothing about a missing deadline."""
    base = console.url
    owner = sized_page()
    org_id = _owner_adds_carol(owner, base)
    owner.get_by_role("button", name="Send MFA reminder to carol@example.com").click()
    owner.goto(f"{base}/outbox?to=carol@example.com")
    mail = owner.locator('li.mail[data-kind="reminder"]').first
    body = mail.locator(".body").inner_text()
    assert f"Olivia's organization (ID {org_id})" in body
    assert "username carol" in body
    assert f"{base}/login/member" in body
    assert "deadline" not in body
    _fits(owner)


# -- item 9: a member's password ----------------------------------------------------------

MEMBER_PASSWORD = "purple monkey dishwasher"


def _member_username_step(page: Any, base: str, org_id: str, username: str) -> None:
    page.goto(f"{base}/login/member")
    page.get_by_label("Organization ID").fill(org_id)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Username").fill(username)


def _member_password_answer(page: Any, base: str, org_id: str, username: str, password: str) -> str:
    """Sign in as a member with a password; the error shown ("" if none)."""
    _member_username_step(page, base, org_id, username)
    page.get_by_role("button", name="Enter password").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    error = page.locator("#error")
    return str(error.inner_text()) if error.count() else ""


def test_member_sets_a_password_and_signs_in_with_it(console: Any, sized_page: Any) -> None:
    """A member signs in with a code, sets a password, then picks Enter password instead of
    Send code; a wrong password and an unknown username get the same answer."""
    base = console.url
    owner = sized_page()
    org_id = _owner_adds_carol(owner, base)
    owner.get_by_role("button", name="Sign out").click()

    carol = sized_page()
    _member_username_step(carol, base, org_id, "carol")
    carol.get_by_role("button", name="Send code").click()
    carol.get_by_label("Code from the e-mail").wait_for()
    console.app.extensions["mfa_service"].deliver_notifications()
    body = read_outbox(owner, base, to="carol@example.com", kind="login_code")
    code = re.search(r"is (\d{6,8})\.", body)
    assert code is not None
    carol.get_by_label("Code from the e-mail").fill(code.group(1))
    carol.get_by_role("button", name="Continue").click()
    carol.wait_for_url(f"{base}/account/security")

    card = carol.locator("#member-password")
    expect(card).to_contain_text(org_id)
    expect(card).to_contain_text("carol")
    expect(card.locator(".badge")).to_have_text("Not set")
    card.get_by_label("Password", exact=True).fill(MEMBER_PASSWORD)
    card.get_by_label("Type it again").fill(MEMBER_PASSWORD)
    card.get_by_role("button", name="Set password").click()
    expect(carol.locator(".flashes")).to_contain_text("Your password is set")
    expect(carol.locator("#member-password .badge")).to_have_text("Set")
    _fits(carol)
    carol.get_by_role("button", name="Sign out").click()
    carol.wait_for_url(f"{base}/login")

    wrong = _member_password_answer(carol, base, org_id, "carol", "not my password at all")
    unknown = _member_password_answer(carol, base, org_id, "mallory", MEMBER_PASSWORD)
    assert wrong == unknown == "Wrong organization ID, username or password."
    _fits(carol)
    assert _member_password_answer(carol, base, org_id, "carol", MEMBER_PASSWORD) == ""
    carol.wait_for_url(f"{base}/account/security")
    expect(carol.locator(".who")).to_contain_text("carol@example.com")
