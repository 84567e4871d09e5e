"""TOTP and backup codes in the console, through a real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from console_helpers import (
    age_second_factor,
    set_up_totp,
    shot,
    sign_in_password,
    sign_out,
    sign_up,
    totp_code,
)
from playwright.sync_api import expect


def test_totp_setup_then_sign_in_with_a_code(console: Any, new_page: Any, tmp_path: Path) -> None:
    """The key read from the page gives codes that confirm TOTP and then sign in, once each."""
    page = new_page()
    sign_up(page, console.url, email="ada@example.com", name="Ada Lovelace")
    key, codes = set_up_totp(page, console.url, tmp_path, screenshot=True)
    assert len(codes) == 10
    expect(page.locator("#totp .badge")).to_have_text("Enabled")
    sign_out(page, console.url)

    sign_in_password(page, console.url, email="ada@example.com")
    page.wait_for_url(f"{console.url}/login/verify")
    shot(page, "second-factor", tmp_path)
    # The confirming code's step is spent: sign in with the next one.
    code = totp_code(key, ahead=1)
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{console.url}/account/security")
    assert page.get_by_role("heading", name="Account security").is_visible()
    sign_out(page, console.url)

    # The same code again is refused as replayed.
    sign_in_password(page, console.url, email="ada@example.com")
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#error")).to_contain_text("already used")


def test_sign_in_with_a_backup_code_once(console: Any, new_page: Any, tmp_path: Path) -> None:
    """A backup code signs in once; the same code is then refused."""
    page = new_page()
    sign_up(page, console.url, email="ada@example.com", name="Ada")
    _, codes = set_up_totp(page, console.url, tmp_path)
    sign_out(page, console.url)

    for attempt in range(2):
        sign_in_password(page, console.url, email="ada@example.com")
        page.get_by_text("Use a backup code").click()
        page.get_by_label("Backup code", exact=True).fill(codes[0])
        page.get_by_role("button", name="Use backup code").click()
        if attempt == 0:
            page.wait_for_url(f"{console.url}/account/security")
            expect(page.locator(".flashes")).to_contain_text("9 unused backup codes left")
            expect(page.locator("#backup-codes")).to_contain_text("9 of 10 codes unused")
            sign_out(page, console.url)
    expect(page.locator("#error")).to_have_text("That code is not valid.")


def test_several_named_apps_add_list_rename_delete(
    console: Any, new_page: Any, tmp_path: Path
) -> None:
    """Add another named app; rename one; delete each (later: step-up first, typed DELETE)."""
    page = new_page()
    sign_up(page, console.url, email="ada@example.com", name="Ada")
    old_key, _ = set_up_totp(page, console.url, tmp_path)
    apps = page.locator("#totp-apps tbody tr")
    expect(apps).to_have_count(1)
    expect(apps.first).to_contain_text("Authenticator app")

    page.get_by_label("App name").fill("Authenticator app")  # taken: refused before a QR
    page.get_by_role("button", name="Add another authenticator app").click()
    expect(page.locator(".flashes")).to_contain_text("That name is already used.")
    page.get_by_label("App name").fill("Work phone")
    page.get_by_role("button", name="Add another authenticator app").click()
    expect(page.locator("#totp-app-name")).to_have_text("Work phone")
    new_key = page.locator("#manual-key").inner_text().strip()
    assert new_key != old_key
    page.get_by_label("Enter the 6-digit code the app shows").fill(totp_code(new_key))
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("heading", name='"Work phone" is added').wait_for()
    page.get_by_role("link", name="I saved them").click()
    expect(apps).to_have_count(2)
    expect(page.locator("#totp-apps")).to_contain_text("Work phone")
    shot(page, "account-security-apps", tmp_path)

    page.locator("summary", has_text="Rename Work phone").click()
    page.get_by_label('New name for "Work phone"').fill("Old phone")
    page.get_by_role("button", name="Rename", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text('Renamed to "Old phone".')
    expect(page.locator("#totp-apps")).to_contain_text("Old phone")

    def delete(name: str, phrase: str) -> None:
        page.locator("summary", has_text=f"Delete {name}").click()
        page.get_by_label(f'Type DELETE to delete "{name}"').fill(phrase)
        page.locator("#totp-apps").get_by_role("button", name="Delete").click()

    age_second_factor(console, "ada@example.com")  # twenty minutes later
    delete("Authenticator app", "DELETE")
    page.get_by_role("heading", name="Confirm it's you").wait_for()
    page.get_by_label("Code from your authenticator app").fill(totp_code(new_key, ahead=1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{console.url}/account/security")

    delete("Authenticator app", "delete")
    expect(page.locator(".flashes")).to_contain_text("DELETE")
    expect(apps).to_have_count(2)
    delete("Authenticator app", "DELETE")
    expect(page.locator(".flashes")).to_contain_text('"Authenticator app" is deleted.')
    expect(apps).to_have_count(1)
    expect(page.locator("#totp .badge")).to_have_text("Enabled")
    delete("Old phone", "DELETE")
    page.get_by_role("button", name="Set up TOTP").wait_for()
    expect(page.locator("#backup-codes")).not_to_contain_text("unused")
    shot(page, "account-security-empty", tmp_path)
