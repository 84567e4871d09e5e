"""The example console as a finished product (issue 18): error pages, e-mails, member passwords.

Each page is checked at a desktop width and at 360 px (a small phone).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from console_helpers import sign_up
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


def test_member_reminder_names_the_organization_and_how_to_sign_in(
    console: Any, sized_page: Any
) -> None:
    """A reminder to a member names the organization, and gives its ID, the username and
    the member sign-in link; it says nothing about a missing deadline."""
    base = console.url
    owner = sized_page()
    sign_up(owner, base, email="olivia@example.com", name="Olivia")
    owner.goto(f"{base}/org")
    org_id = owner.locator("#org-id").inner_text().strip()
    owner.get_by_label("Username").fill("carol")
    owner.locator("#m-email").fill("carol@example.com")
    owner.get_by_role("button", name="Add member").click()
    owner.get_by_role("button", name="Send MFA reminder to carol@example.com").click()
    owner.goto(f"{base}/outbox?to=carol@example.com")
    mail = owner.locator('li.mail[data-kind="reminder"]').first
    body = mail.locator(".body").inner_text()
    assert f"Olivia's organization (ID {org_id})" in body
    assert "username carol" in body
    assert f"{base}/login/member" in body
    assert "deadline" not in body
    _fits(owner)
