"""Organization journeys in the console: enforcement with two users, member sign-in by e-mail."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from console_helpers import (
    age_second_factor,
    read_outbox,
    set_up_totp,
    shot,
    sign_up,
    totp_code,
)
from playwright.sync_api import expect


def _org_id(page: Any, base: str) -> str:
    page.goto(f"{base}/org")
    return str(page.locator("#org-id").inner_text().strip())


def _enforce(page: Any, phrase: str) -> None:
    page.locator("summary", has_text="Enforce MFA").click()
    page.get_by_label("Type ENFORCE to confirm").fill(phrase)
    page.get_by_role("button", name="Enforce MFA").click()


def test_enforcement_waits_for_every_user_then_stops(
    console: Any, new_page: Any, tmp_path: Path
) -> None:
    """Enforcing is refused while a member lacks MFA (who blocks it is listed), a reminder
    reaches them, it succeeds once they set up TOTP, an invitee must set up MFA before
    joining, a member who deletes their only method gets a grace period, and STOP tells
    the owner."""
    base = console.url
    owner = new_page()
    sign_up(owner, base, email="owner@example.com", name="Olivia Owner")
    owner_key, _ = set_up_totp(owner, base, tmp_path)
    bob = new_page()
    sign_up(bob, base, email="bob@example.com", name="Bob Builder")

    # The owner invites Bob; Bob opens the link from his e-mail and joins.
    owner_org = _org_id(owner, base)
    owner.locator("#inv-email").fill("bob@example.com")
    owner.get_by_role("button", name="Send invitation").click()
    owner.get_by_text("Invitation sent to bob@example.com.").wait_for()
    link = re.search(r"http://\S+", read_outbox(bob, base, to="bob@example.com", kind="invitation"))
    assert link is not None
    bob.goto(link.group(0))
    bob.get_by_role("button", name="Join the organization").click()
    bob.wait_for_url(f"{base}/org/{owner_org}")

    # Enforcing is refused: Bob has no MFA. The page lists him.
    owner.goto(f"{base}/org/{owner_org}")
    _enforce(owner, "ENFORCE")
    blockers = owner.locator("#blockers")
    expect(blockers).to_contain_text("bob@example.com")
    expect(blockers).not_to_contain_text("owner@example.com")
    shot(owner, "org-enforce-blocked", tmp_path, full_page=True)
    blockers.get_by_role("button", name="Send them a reminder").click()
    owner.get_by_text("Reminder sent to 1 member.").wait_for()
    reminder = read_outbox(bob, base, to="bob@example.com", kind="reminder")
    assert "set up multi-factor authentication" in reminder

    # Bob sets up TOTP; now the owner can enforce (after a wrong phrase is refused).
    bob_key, _ = set_up_totp(bob, base, tmp_path)
    owner.goto(f"{base}/org/{owner_org}")
    _enforce(owner, "enforce")
    expect(owner.locator("#error")).to_contain_text("ENFORCE")
    _enforce(owner, "ENFORCE")
    owner.get_by_text("MFA is now enforced").wait_for()
    expect(owner.locator("#enforcement .badge")).to_have_text("Enforced")

    # Under enforcement an invitee must set up MFA before joining.
    owner.locator("#inv-email").fill("carol@example.com")
    owner.get_by_role("button", name="Send invitation").click()
    owner.get_by_text("Invitation sent to carol@example.com.").wait_for()
    carol = new_page()
    sign_up(carol, base, email="carol@example.com", name="Carol")
    mail = read_outbox(carol, base, to="carol@example.com", kind="invitation")
    invite = re.search(r"http://\S+", mail)
    assert invite is not None
    carol.goto(invite.group(0))
    carol.get_by_role("button", name="Join the organization").click()
    expect(carol.locator("#error")).to_be_visible()
    carol.get_by_role("link", name="Set up multi-factor authentication").click()
    set_up_totp(carol, base, tmp_path)
    carol.goto(invite.group(0))
    carol.get_by_role("button", name="Join the organization").click()
    carol.wait_for_url(f"{base}/org/{owner_org}")

    # Twenty minutes later, Bob deletes his only method: first a fresh second
    # factor, then a grace period starts, shown with its deadline.
    age_second_factor(console, "bob@example.com")
    bob.goto(f"{base}/account/security")
    bob.locator("summary", has_text="Delete Authenticator app").click()
    bob.get_by_label('Type DELETE to delete "Authenticator app"').fill("DELETE")
    bob.locator("#totp-apps").get_by_role("button", name="Delete").click()
    bob.get_by_role("heading", name="Confirm it's you").wait_for()
    bob.get_by_label("Code from your authenticator app").fill(totp_code(bob_key, ahead=1))
    bob.get_by_role("button", name="Verify").click()
    bob.locator("summary", has_text="Delete Authenticator app").click()
    bob.get_by_label('Type DELETE to delete "Authenticator app"').fill("DELETE")
    bob.locator("#totp-apps").get_by_role("button", name="Delete").click()
    expect(bob.locator(".flashes")).to_contain_text("set up a method before")
    expect(bob.get_by_role("alert")).to_contain_text("requires multi-factor authentication")
    owner.goto(f"{base}/org/{owner_org}")
    expect(owner.get_by_role("row", name=re.compile("Bob Builder"))).to_contain_text("In grace")

    # Stopping needs STOP (and a fresh second factor from the owner); the owner is told.
    def stop() -> None:
        owner.locator("summary", has_text="Stop enforcing MFA").click()
        owner.get_by_label("Type STOP to confirm").fill("STOP")
        owner.get_by_role("button", name="Stop enforcing MFA").click()

    age_second_factor(console, "owner@example.com")
    stop()
    owner.get_by_role("heading", name="Confirm it's you").wait_for()
    owner.get_by_label("Code from your authenticator app").fill(totp_code(owner_key, ahead=1))
    owner.get_by_role("button", name="Verify").click()
    owner.wait_for_url(f"{base}/org/{owner_org}")
    stop()
    owner.get_by_text("MFA is no longer enforced").first.wait_for()
    expect(owner.locator("#enforcement .badge")).to_have_text("Not enforced")
    stopped = read_outbox(owner, base, to="owner@example.com", kind="enforcement_stopped")
    assert "no longer enforced" in stopped
    assert owner.locator('li.mail[data-kind="enforcement_stopped"]').count() == 1


def test_member_signs_in_with_an_emailed_code(console: Any, new_page: Any, tmp_path: Path) -> None:
    """Organization ID, then username, then the code read in the outbox: signed in once."""
    base = console.url
    owner = new_page()
    sign_up(owner, base, email="owner@example.com", name="Olivia Owner")
    org_id = _org_id(owner, base)
    owner.get_by_label("Username").fill("carol")
    owner.locator("#m-email").fill("carol@example.com")
    owner.get_by_role("button", name="Add member").click()
    owner.get_by_role("cell", name=re.compile("username carol")).wait_for()
    shot(owner, "org-members", tmp_path, full_page=True)

    carol = new_page()
    carol.goto(f"{base}/login/member")
    carol.get_by_label("Organization ID").fill(org_id)
    carol.get_by_role("button", name="Continue").click()
    carol.get_by_label("Username").fill("carol")
    carol.get_by_role("button", name="Send code").click()
    carol.get_by_label("Code from the e-mail").wait_for()
    shot(carol, "member-code", tmp_path)

    mailbox = new_page()
    body = read_outbox(mailbox, base, to="carol@example.com", kind="login_code")
    shot(mailbox, "outbox", tmp_path)
    code = re.search(r"is (\d{6,8})\.", body)
    assert code is not None
    carol.get_by_label("Code from the e-mail").fill("000000" if code.group(1) != "000000" else "1")
    carol.get_by_role("button", name="Continue").click()
    expect(carol.locator("#error")).to_have_text("That code is not valid.")
    carol.get_by_label("Code from the e-mail").fill(code.group(1))
    carol.get_by_role("button", name="Continue").click()
    carol.wait_for_url(f"{base}/account/security")
    expect(carol.locator(".flashes")).to_contain_text("first sign-in")

    # The code worked once: signing in with it again is refused.
    carol.get_by_role("button", name="Sign out").click()
    carol.goto(f"{base}/login/member")
    carol.get_by_label("Organization ID").fill(org_id)
    carol.get_by_role("button", name="Continue").click()
    carol.get_by_label("Username").fill("carol")
    carol.get_by_role("button", name="Send code").click()
    carol.get_by_label("Code from the e-mail").fill(code.group(1))
    carol.get_by_role("button", name="Continue").click()
    assert carol.locator("#error").is_visible()


def test_member_with_totp_passes_a_second_factor(
    console: Any, new_page: Any, tmp_path: Path
) -> None:
    """After the e-mailed code, a member who set up TOTP is asked for a TOTP code too."""
    base = console.url
    owner = new_page()
    sign_up(owner, base, email="owner@example.com", name="Olivia Owner")
    org_id = _org_id(owner, base)
    owner.get_by_label("Username").fill("dave")
    owner.locator("#m-email").fill("dave@example.com")
    owner.get_by_role("button", name="Add member").click()
    owner.get_by_role("cell", name=re.compile("username dave")).wait_for()

    dave = new_page()

    def code_login() -> None:
        dave.goto(f"{base}/login/member")
        dave.get_by_label("Organization ID").fill(org_id)
        dave.get_by_role("button", name="Continue").click()
        dave.get_by_label("Username").fill("dave")
        dave.get_by_role("button", name="Send code").click()
        dave.get_by_label("Code from the e-mail").wait_for()
        body = read_outbox(owner, base, to="dave@example.com", kind="login_code")
        found = re.search(r"is (\d{6,8})\.", body)
        assert found is not None
        dave.get_by_label("Code from the e-mail").fill(found.group(1))
        dave.get_by_role("button", name="Continue").click()

    code_login()
    dave.wait_for_url(f"{base}/account/security")
    key, _ = set_up_totp(dave, base, tmp_path)
    dave.get_by_role("button", name="Sign out").click()

    code_login()
    dave.wait_for_url(f"{base}/login/verify")
    dave.get_by_label("Code from your authenticator app").fill(totp_code(key, ahead=1))
    dave.get_by_role("button", name="Verify").click()
    dave.wait_for_url(f"{base}/account/security")
