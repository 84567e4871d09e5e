"""Trusting a browser and stepping up before sensitive changes, in the console, through Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from console_helpers import (
    add_authenticator,
    age_second_factor,
    set_up_totp,
    shot,
    sign_in_password,
    sign_out,
    sign_up,
    totp_code,
    trust_cookies,
)
from playwright.sync_api import expect


def test_trusted_browser_skips_the_second_factor_until_revoked(
    console: Any, new_page: Any, tmp_path: Path
) -> None:
    """Ticking "trust this browser" sets an HttpOnly, SameSite=Lax cookie; the next sign-in
    skips the second factor; the security page lists the browser and revokes it."""
    base = console.url
    page = new_page()
    sign_up(page, base, email="ada@example.com", name="Ada")
    key, _ = set_up_totp(page, base, tmp_path)
    sign_out(page, base)

    sign_in_password(page, base, email="ada@example.com")
    page.wait_for_url(f"{base}/login/verify")
    trust = page.get_by_label("Trust this browser for 30 days")
    expect(trust).not_to_be_checked()
    trust.check()
    shot(page, "trust-this-browser", tmp_path)
    page.get_by_label("Code from your authenticator app").fill(totp_code(key, ahead=1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{base}/account/security")
    expect(page.locator(".flashes")).to_contain_text("This browser is trusted until")

    (cookie,) = trust_cookies(page)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # served over http://localhost in the tests
    assert cookie["expires"] > 0  # a persistent cookie, until the trust ends
    assert page.evaluate("document.cookie").find("console_trusted_") == -1
    row = page.locator("#trusted-browsers tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("This browser")

    # The next sign-in from this browser needs only the password.
    sign_out(page, base)
    sign_in_password(page, base, email="ada@example.com")
    page.wait_for_url(f"{base}/account/security")
    expect(page.locator(".flashes")).to_contain_text("Signed in on a trusted browser")
    shot(page, "trusted-browsers", tmp_path, full_page=True)

    # Another browser (no cookie) is asked for the second factor.
    other = new_page()
    sign_in_password(other, base, email="ada@example.com")
    other.wait_for_url(f"{base}/login/verify")

    # Revoked: the cookie goes, and the next sign-in asks for the second factor again.
    browsers = page.locator("#trusted-browsers")
    browsers.get_by_role("button", name="Revoke", exact=False).first.click()
    expect(page.locator(".flashes")).to_contain_text("no longer trusted")
    expect(page.locator("#trusted-browsers")).to_contain_text("No trusted browser")
    assert trust_cookies(page) == []
    sign_out(page, base)
    sign_in_password(page, base, email="ada@example.com")
    page.wait_for_url(f"{base}/login/verify")


def test_a_new_factor_ends_the_trust(console: Any, new_page: Any, tmp_path: Path) -> None:
    """After the user adds a passkey, the trusted browser asks for a second factor again."""
    base = console.url
    page = new_page()
    add_authenticator(page, transport="internal", resident_key=True, backup_eligible=True)
    sign_up(page, base, email="ada@example.com", name="Ada")
    key, _ = set_up_totp(page, base, tmp_path)
    sign_out(page, base)
    sign_in_password(page, base, email="ada@example.com")
    page.get_by_label("Trust this browser for 30 days").check()
    page.get_by_label("Code from your authenticator app").fill(totp_code(key, ahead=1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{base}/account/security")

    page.get_by_label("Name", exact=True).fill("Laptop")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_role("cell", name="Laptop", exact=True).wait_for()
    expect(page.locator("#trusted-browsers")).to_contain_text("No trusted browser")
    sign_out(page, base)
    sign_in_password(page, base, email="ada@example.com")
    page.wait_for_url(f"{base}/login/verify")
    assert trust_cookies(page) == []  # the refused cookie was dropped


def test_trust_with_a_passkey(console: Any, new_page: Any, tmp_path: Path) -> None:
    """The checkbox also works when the second factor is a passkey."""
    base = console.url
    page = new_page()
    add_authenticator(page, transport="internal", resident_key=True, backup_eligible=True)
    sign_up(page, base, email="ada@example.com", name="Ada")
    page.get_by_label("Name", exact=True).fill("Laptop")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_role("cell", name="Laptop", exact=True).wait_for()
    sign_out(page, base)
    sign_in_password(page, base, email="ada@example.com")
    page.get_by_label("Trust this browser for 30 days").check()
    page.get_by_role("button", name="Use a passkey or security key").click()
    page.wait_for_url(f"{base}/account/security")
    assert len(trust_cookies(page)) == 1
    sign_out(page, base)
    sign_in_password(page, base, email="ada@example.com")
    page.wait_for_url(f"{base}/account/security")


def test_adding_a_method_later_asks_to_verify_again(
    console: Any, new_page: Any, tmp_path: Path
) -> None:
    """Twenty minutes after the last check, adding another authenticator app or a passkey
    first goes through "Confirm it's you", then back to the security page."""
    base = console.url
    page = new_page()
    sign_up(page, base, email="ada@example.com", name="Ada")
    key, codes = set_up_totp(page, base, tmp_path)
    age_second_factor(console, "ada@example.com")

    page.get_by_label("App name").fill("Work phone")
    page.get_by_role("button", name="Add another authenticator app").click()
    page.get_by_role("heading", name="Confirm it's you").wait_for()
    expect(page.get_by_label("Trust this browser", exact=False)).to_have_count(0)
    shot(page, "step-up", tmp_path)
    page.get_by_label("Code from your authenticator app").fill(totp_code(key, ahead=1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{base}/account/security")
    expect(page.locator(".flashes")).to_contain_text("Verified")
    page.get_by_label("App name").fill("Work phone")
    page.get_by_role("button", name="Add another authenticator app").click()
    expect(page.locator("#totp-app-name")).to_have_text("Work phone")

    # Adding a passkey: the page is sent to the same check before any ceremony.
    age_second_factor(console, "ada@example.com")
    page.goto(f"{base}/account/security")
    page.get_by_label("Name", exact=True).fill("Laptop")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_role("heading", name="Confirm it's you").wait_for()
    # The app's next code is spent: a backup code answers this time.
    page.locator("summary", has_text="Use a backup code").click()
    page.get_by_label("Backup code").fill(codes[0])
    page.get_by_role("button", name="Use backup code").click()
    page.wait_for_url(f"{base}/account/security")
    expect(page.locator(".flashes")).to_contain_text("Verified")


def test_enforcement_change_asks_to_verify_again(
    console: Any, new_page: Any, tmp_path: Path
) -> None:
    """Enforcing MFA for the organization is a sensitive change for the console."""
    base = console.url
    page = new_page()
    sign_up(page, base, email="owner@example.com", name="Olivia")
    key, _ = set_up_totp(page, base, tmp_path)
    age_second_factor(console, "owner@example.com")
    page.goto(f"{base}/org")
    page.locator("summary", has_text="Enforce MFA").click()
    page.get_by_label("Type ENFORCE to confirm").fill("ENFORCE")
    page.get_by_role("button", name="Enforce MFA").click()
    page.get_by_role("heading", name="Confirm it's you").wait_for()
    page.get_by_label("Code from your authenticator app").fill(totp_code(key, ahead=1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{base}/org/*")
    page.locator("summary", has_text="Enforce MFA").click()
    page.get_by_label("Type ENFORCE to confirm").fill("ENFORCE")
    page.get_by_role("button", name="Enforce MFA").click()
    page.get_by_text("MFA is now enforced").wait_for()
