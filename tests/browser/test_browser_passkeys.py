"""Passkeys and security keys in the console, with Chromium's DevTools virtual authenticator."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from console_helpers import (
    add_authenticator,
    add_passkey,
    age_second_factor,
    shot,
    sign_in_password,
    sign_out,
    sign_up,
)
from playwright.sync_api import expect


def _sign_in_with_passkey(page: Any, base: str, email: str) -> None:
    sign_in_password(page, base, email=email)
    page.wait_for_url(f"{base}/login/verify")
    page.get_by_role("button", name="Use a passkey or security key").click()
    page.wait_for_url(f"{base}/account/security")


def test_platform_passkey_discoverable(console: Any, new_page: Any, tmp_path: Path) -> None:
    """A discoverable platform passkey (internal transport, synced) registers and signs in."""
    base = console.url
    page = new_page()
    authenticator = add_authenticator(
        page, transport="internal", resident_key=True, backup_eligible=True
    )
    sign_up(page, base, email="ada@example.com", name="Ada Lovelace")
    add_passkey(page, base, name="Work laptop", kind="passkey")
    row = page.get_by_role("row", name="Work laptop")
    expect(row).to_contain_text("Passkey")
    expect(row).to_contain_text("Never")
    # The virtual authenticator's AAGUID is in no provider list.
    expect(row.get_by_role("cell").nth(2)).to_have_text("Unknown")
    (stored,) = authenticator.credentials()
    assert stored["isResidentCredential"] is True
    # The user handle the browser keeps is 32 random bytes: neither the e-mail nor the user id.
    handle = base64.b64decode(stored["userHandle"])
    assert len(handle) == 32
    assert b"ada" not in handle
    assert not handle.startswith(b"u-")
    sign_out(page, base)

    _sign_in_with_passkey(page, base, "ada@example.com")
    row = page.get_by_role("row", name="Work laptop")
    expect(row).not_to_contain_text("Never")
    assert authenticator.credentials()[0]["signCount"] >= 2
    shot(page, "account-security", tmp_path, full_page=True)


def test_security_key_not_discoverable(console: Any, new_page: Any, tmp_path: Path) -> None:
    """A USB security key without resident keys registers a server-side credential and
    signs in through the allow list."""
    base = console.url
    page = new_page()
    authenticator = add_authenticator(
        page, transport="usb", resident_key=False, backup_eligible=False
    )
    sign_up(page, base, email="grace@example.com", name="Grace Hopper")
    add_passkey(page, base, name="Blue key", kind="security_key")
    expect(page.get_by_role("row", name="Blue key")).to_contain_text("Security key")
    (stored,) = authenticator.credentials()
    assert stored["isResidentCredential"] is False
    sign_out(page, base)

    sign_in_password(page, base, email="grace@example.com")
    page.wait_for_url(f"{base}/login/verify")
    page.get_by_role("button", name="Use a passkey or security key").click()
    page.wait_for_url(f"{base}/account/security")


def test_two_named_keys_listed_then_one_deleted(
    console: Any, new_page: Any, tmp_path: Path
) -> None:
    """Names are unique per user; the same authenticator is not registered twice; a key
    is renamed, and deleted with the typed DELETE after a fresh passkey check."""
    base = console.url
    page = new_page()
    add_authenticator(page, transport="internal", resident_key=True, backup_eligible=True)
    sign_up(page, base, email="ada@example.com", name="Ada")
    add_passkey(page, base, name="Laptop", kind="passkey")

    page.get_by_label("Name", exact=True).fill("laptop")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#passkey-status")).to_contain_text("already used")
    # The same authenticator is excluded by the options (excludeCredentials).
    page.get_by_label("Name", exact=True).fill("Laptop again")
    page.get_by_role("button", name="Add", exact=True).click()
    page.locator("#passkey-status.error").wait_for()
    expect(page.locator("#passkey-status")).to_contain_text("already registered")

    second = add_authenticator(page, transport="usb", resident_key=False, backup_eligible=False)
    assert second.credentials() == []
    page.goto(f"{base}/account/security")
    add_passkey(page, base, name="Yubi", kind="security_key")
    assert len(second.credentials()) == 1
    assert page.locator("#passkeys tbody tr").count() == 2

    row = page.get_by_role("row", name="Laptop")
    row.locator("summary", has_text="Rename").click()
    row.get_by_label('New name for "Laptop"').fill("Work laptop")
    row.get_by_role("button", name="Rename").click()
    page.get_by_text('Renamed to "Work laptop".').wait_for()
    expect(page.get_by_role("cell", name="Work laptop", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="Laptop", exact=True)).to_have_count(0)

    def delete(name: str) -> None:
        row = page.get_by_role("row", name=name)
        row.locator("summary", has_text="Delete").click()
        row.get_by_label(f'Type DELETE to delete "{name}"').fill("DELETE")
        row.get_by_role("button", name="Delete", exact=True).click()

    age_second_factor(console, "ada@example.com")  # twenty minutes later
    delete("Yubi")
    page.get_by_role("heading", name="Confirm it's you").wait_for()
    page.get_by_role("button", name="Use a passkey or security key").click()
    page.wait_for_url(f"{base}/account/security")
    delete("Yubi")
    page.get_by_text('"Yubi" is deleted.').wait_for()
    assert page.locator("#passkeys tbody tr").count() == 1
