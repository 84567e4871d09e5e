"""The owner's recovery actions in the console: exemptions, unlock, reset MFA, remove a member."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from console_helpers import age_second_factor, read_outbox, set_up_totp, shot, sign_up, totp_code
from playwright.sync_api import expect


def _member_signs_in(page: Any, base: str, org_id: str, mailbox: Any) -> None:
    """Organization ID, username 'carol', then the e-mailed code."""
    page.goto(f"{base}/login/member")
    page.get_by_label("Organization ID").fill(org_id)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Username").fill("carol")
    page.get_by_role("button", name="Send code").click()
    page.get_by_label("Code from the e-mail").wait_for()
    body = read_outbox(mailbox, base, to="carol@example.com", kind="login_code")
    found = re.search(r"is (\d{6,8})\.", body)
    assert found is not None
    page.get_by_label("Code from the e-mail").fill(found.group(1))
    page.get_by_role("button", name="Continue").click()


def _open(row: Any, summary: str) -> None:
    row.locator("summary", has_text=summary).click()


@pytest.mark.parametrize("width", [1024, 360])
def test_owner_exempts_unlocks_resets_and_removes_a_member(
    console: Any, new_page: Any, tmp_path: Path, width: int
) -> None:
    """An exemption is granted and ended, a locked member unlocked, a member's MFA reset (she
    is signed out and told by e-mail), and the member removed; wrong phrases are refused."""
    base = console.url
    owner = new_page()
    owner.set_viewport_size({"width": width, "height": 720})
    sign_up(owner, base, email="owner@example.com", name="Olivia Owner")
    owner_key, _ = set_up_totp(owner, base, tmp_path)
    owner.goto(f"{base}/org")
    org_id = owner.locator("#org-id").inner_text().strip()
    owner.get_by_label("Username").fill("carol")
    owner.locator("#m-email").fill("carol@example.com")
    owner.get_by_role("button", name="Add member").click()
    owner.get_by_role("cell", name=re.compile("username carol")).wait_for()

    carol = new_page()
    carol.set_viewport_size({"width": width, "height": 720})
    _member_signs_in(carol, base, org_id, owner)
    carol.wait_for_url(f"{base}/account/security")
    set_up_totp(carol, base, tmp_path)
    owner.goto(f"{base}/org/{org_id}")
    row = owner.locator("#members tbody tr", has_text="carol@example.com")
    own_row = owner.locator("#members tbody tr", has_text="owner@example.com")
    expect(own_row.locator("summary", has_text="Reset MFA")).to_have_count(0)

    # An exemption needs a fresh second factor from the owner, then shows on the page.
    # (Confirming her app counted as one: twenty minutes later, it is stale.)
    age_second_factor(console, "owner@example.com")
    last_day = (datetime.now(UTC) + timedelta(days=6)).date().isoformat()
    _open(row, "Exemption")
    row.get_by_label("Last day").fill(last_day)
    row.get_by_label("Reason for the exemption").fill("break-glass account")
    row.get_by_role("button", name="Grant exemption").click()
    owner.get_by_role("heading", name="Confirm it's you").wait_for()
    owner.get_by_label("Code from your authenticator app").fill(totp_code(owner_key, ahead=1))
    owner.get_by_role("button", name="Verify").click()
    owner.wait_for_url(f"{base}/org/{org_id}")
    _open(row, "Exemption")
    row.get_by_label("Last day").fill(last_day)
    row.get_by_label("Reason for the exemption").fill("break-glass account")
    row.get_by_role("button", name="Grant exemption").click()
    expect(owner.locator(".flashes")).to_contain_text("exempt from MFA until")
    expect(row).to_contain_text("exempt until")
    _open(row, "Exemption")
    row.get_by_role("button", name="End exemption").click()
    expect(owner.locator(".flashes")).to_contain_text("exemption of carol has ended")
    expect(row).not_to_contain_text("exempt until")

    # A locked member shows an Unlock button.
    accounts = console.app.extensions["console_accounts"]
    carol_id = accounts.user_by_email("carol@example.com").user_id
    owner_id = accounts.user_by_email("owner@example.com").user_id
    console.app.extensions["mfa_service"].lock_member(org_id, carol_id, actor_id=owner_id)
    owner.goto(f"{base}/org/{org_id}")
    expect(row).to_contain_text("Locked")
    row.get_by_role("button", name=re.compile("^Unlock")).click()
    expect(owner.locator(".flashes")).to_contain_text("is unlocked")
    expect(row.get_by_role("button", name=re.compile("^Unlock"))).to_have_count(0)

    # Reset MFA: the typed phrase is required; then carol is signed out and told.
    _open(row, "Reset MFA")
    row.get_by_label("Reason (kept in the audit trail)").fill("lost her phone")
    row.get_by_label("Type RESET to confirm").fill("reset")
    row.get_by_role("button", name="Reset MFA").click()
    expect(owner.locator("#error")).to_contain_text("Type RESET")
    _open(row, "Reset MFA")
    row.get_by_label("Reason (kept in the audit trail)").fill("lost her phone")
    row.get_by_label("Type RESET to confirm").fill("RESET")
    row.get_by_role("button", name="Reset MFA").click()
    expect(owner.locator(".flashes")).to_contain_text("was reset")
    expect(row).to_contain_text("Disabled")
    shot(owner, f"org-recovery-{width}", tmp_path, full_page=True)
    carol.goto(f"{base}/account/security")
    carol.wait_for_url(re.compile(r"/login"))
    mail = read_outbox(owner, base, to="carol@example.com", kind="mfa_reset")
    assert "signed out" in mail

    # Remove: REMOVE is required; then carol is gone from the list.
    owner.goto(f"{base}/org/{org_id}")
    _open(row, "Remove")
    row.get_by_label("Type REMOVE to confirm").fill("REMOVE")
    row.get_by_role("button", name="Remove member").click()
    expect(owner.locator(".flashes")).to_contain_text("was removed")
    expect(owner.locator("#members tbody tr", has_text="carol@example.com")).to_have_count(0)
    removed = read_outbox(owner, base, to="carol@example.com", kind="removed")
    assert "by an owner" in removed
    width_of_page = owner.evaluate("document.documentElement.scrollWidth")
    assert width_of_page <= width


def test_invited_account_is_reset_by_support_only(
    console: Any, new_page: Any, tmp_path: Path
) -> None:
    """An invited user owns their own organization: the owner's reset is refused, clearly."""
    base = console.url
    owner = new_page()
    sign_up(owner, base, email="owner@example.com", name="Olivia Owner")
    set_up_totp(owner, base, tmp_path)
    bob = new_page()
    sign_up(bob, base, email="bob@example.com", name="Bob Builder")
    set_up_totp(bob, base, tmp_path)
    owner.goto(f"{base}/org")
    org_id = owner.locator("#org-id").inner_text().strip()
    owner.locator("#inv-email").fill("bob@example.com")
    owner.get_by_role("button", name="Send invitation").click()
    link = re.search(r"http://\S+", read_outbox(bob, base, to="bob@example.com", kind="invitation"))
    assert link is not None
    bob.goto(link.group(0))
    bob.get_by_role("button", name="Join the organization").click()
    bob.wait_for_url(f"{base}/org/{org_id}")

    owner.goto(f"{base}/org/{org_id}")
    row = owner.locator("#members tbody tr", has_text="bob@example.com")
    _open(row, "Reset MFA")
    row.get_by_label("Reason (kept in the audit trail)").fill("says he lost his phone")
    row.get_by_label("Type RESET to confirm").fill("RESET")
    row.get_by_role("button", name="Reset MFA").click()
    expect(owner.locator("#error")).to_contain_text("support must reset")
    bob.goto(f"{base}/account/security")
    expect(bob.locator("summary", has_text="Delete Authenticator app")).to_be_visible()
