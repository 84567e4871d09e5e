"""The console as a finished product (issue 18), checked through Flask's test client."""

from __future__ import annotations

import dataclasses
import html
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from console.views.auth import CONSOLE_POLICY
from console.web import explain
from console_http_helpers import (
    BASE,
    PASSWORD,
    add_member,
    flashes,
    locked_member,
    make_app,
    member_sign_in,
    post,
    set_up_totp,
    sign_out,
    sign_up,
    token,
    told_whom_to_ask,
    user_id,
)

from mfakit.errors import ThrottledError
from mfakit.otp import TOTP, decode_base32
from mfakit.service import UserRef
from mfakit.testing import SoftAuthenticator


def test_locked_member_is_told_whom_to_ask(app: Any) -> None:
    """A member locked by the deadline is named the organization's owners, without a code form."""
    _, carol, org, _ = locked_member(app)
    text = told_whom_to_ask(member_sign_in(app, carol, org, "carol", "carol@example.com"))
    assert '<span class="wrap">Olivia Owner</span>' in text


def test_owner_unlocks_and_the_member_goes_straight_to_set_up(app: Any) -> None:
    """The owner's page offers the recovery actions (no reminder); the unlock gives a deadline
    and the member's next sign-in lands on the set-up."""
    owner, carol, org, carol_id = locked_member(app)
    member_sign_in(app, carol, org, "carol", "carol@example.com")  # the deadline locks her
    page = owner.get(BASE + f"/org/{org}").text
    row = page[page.index("carol@example.com") :].split("</tr>", 1)[0]
    assert f"/members/{carol_id}/unlock" in row
    assert f"/members/{carol_id}/reset" in row
    assert f"/members/{carol_id}/remove" in row
    assert "Send MFA reminder" not in row
    assert "Locked out." in row

    unlocked = post(owner, f"/org/{org}/members/{carol_id}/unlock")
    assert unlocked.status_code == 302
    told = " ".join(flashes(owner.get(BASE + f"/org/{org}").text))
    assert "carol is unlocked and must set up MFA before" in told

    signed_in = member_sign_in(app, carol, org, "carol", "carol@example.com")
    assert signed_in.headers["Location"] == "/account/security#set-up"
    assert 'id="set-up"' in carol.get(BASE + "/account/security").text


# -- 2. only the methods the policy allows ---------------------------------------------


def _member(app: Any) -> tuple[Any, Any, str]:
    """An owner and a member (signed in with an e-mailed code) of the owner's organization."""
    owner = app.test_client()
    carol = app.test_client()
    org = sign_up(owner, "olivia@example.com", "Olivia Owner")
    add_member(owner, org, "carol", "carol@example.com")
    member_sign_in(app, carol, org, "carol", "carol@example.com")
    return owner, carol, org


def test_member_is_not_offered_passkeys_and_is_told_why(app: Any) -> None:
    """A member's security page has no passkey form; it says what to use instead."""
    _, carol, _ = _member(app)
    page = html.unescape(carol.get(BASE + "/account/security").text)
    assert 'id="add-passkey"' not in page
    assert (
        "Olivia Owner's organization (as a member) does not allow passkeys: "
        "use an authenticator app (TOTP) instead." in page
    )
    assert 'id="setup-totp"' in page


def test_refused_passkey_names_the_methods_that_count(app: Any) -> None:
    """Asked for a passkey anyway, the console names the methods a member may use."""
    _, carol, _ = _member(app)
    headers = {"X-CSRF-Token": token(carol, "/account/security")}
    refused = carol.post(
        BASE + "/account/passkeys/options", json={"name": "Key", "kind": "passkey"}, headers=headers
    )
    assert refused.status_code == 400
    assert refused.json["error"] == (
        "Members of this organization may not use passkeys: "
        "use an authenticator app (TOTP) instead."
    )


def test_invitee_with_only_a_passkey_is_told_before_joining(app: Any) -> None:
    """Under enforcement the invitation says up front that a member needs an authenticator app
    and that a passkey does not count; the refusal names the method too."""
    owner = app.test_client()
    bob = app.test_client()
    org = sign_up(owner, "olivia@example.com", "Olivia Owner")
    set_up_totp(owner)
    assert post(owner, f"/org/{org}/enforce", {"confirmation": "ENFORCE"}).status_code == 302
    post(owner, f"/org/{org}/invitations", {"email": "bob@example.com"})
    sign_up(bob, "bob@example.com", "Bob Builder")
    service = app.extensions["mfa_service"]
    bob_ref = UserRef(user_id=user_id(app, "bob@example.com"), name="bob@example.com")
    started = service.begin_passkey_registration(bob_ref, name="Laptop")
    device = SoftAuthenticator(origin=BASE)
    service.finish_passkey_registration(
        bob_ref.user_id, started.challenge_id, device.create(started.options)
    )
    (invitation,) = app.extensions["mfa_store"].list_invitations(org).items
    path = f"/invitations/{invitation.invitation_id}"

    page = html.unescape(bob.get(BASE + path).text)
    assert "members must have an authenticator app (TOTP) before joining" in page
    assert "You have a passkey, which does not count for members here." in page
    joined = post(bob, path, page=path)
    assert joined.status_code == 403
    assert "What counts here: an authenticator app (TOTP)." in html.unescape(joined.text)


# -- 6. messages ----------------------------------------------------------------------


def test_one_second_is_singular() -> None:
    """A throttle of about a second reads "1 second", more read "N seconds"."""
    assert explain(ThrottledError(retry_after=0.6)).endswith("Try again in 1 second.")
    assert explain(ThrottledError(retry_after=12)).endswith("Try again in 12 seconds.")


def test_lock_after_failed_attempts_says_until_when(app: Any) -> None:
    """A lock that ends by itself gives its end time."""
    _, carol, org = _member(app)
    sign_out(carol)
    store = app.extensions["mfa_store"]
    membership = store.get_membership(org, user_id(app, "carol@example.com"))
    locked_at = datetime.now(UTC)
    store.update_membership(
        dataclasses.replace(
            membership, status="locked", locked_at=locked_at, lock_reason="failed_attempts"
        )
    )
    refused = member_sign_in(app, carol, org, "carol", "carol@example.com")
    until = locked_at + CONSOLE_POLICY.failed_attempts_lockout
    assert f"The account is locked until {until:%Y-%m-%d %H:%M} UTC; try again then." in (
        html.unescape(refused.text)
    )


def test_resend_inside_the_cool_down_asks_to_wait(tmp_path: Path) -> None:
    """Asking for another code too soon says how long to wait, not "too many attempts"."""
    console = make_app(tmp_path, resend_cooldown=timedelta(seconds=60))
    try:
        owner = console.test_client()
        org = sign_up(owner, "olivia@example.com", "Olivia Owner")
        add_member(owner, org, "carol", "carol@example.com")
        carol = console.test_client()
        form = {"org_id": org, "username": "carol"}
        assert post(carol, "/login/member", form).status_code == 200
        again = post(carol, "/login/member", form)
    finally:
        console.extensions["mfa_store"].close()
    assert again.status_code == 429
    text = html.unescape(again.text)
    assert re.search(r"Wait (59|60) seconds before asking for another one\.", text)
    assert "Too many attempts" not in text


def test_replayed_totp_code_says_to_wait_for_the_next_one(app: Any) -> None:
    """The code just used, typed again, asks for the app's next code."""
    owner = app.test_client()
    sign_up(owner, "olivia@example.com", "Olivia Owner")
    totp = set_up_totp(owner)
    sign_out(owner)
    login = {"email": "olivia@example.com", "password": PASSWORD}
    code = totp.at(time.time() + 30)
    for _ in range(2):
        post(owner, "/login", login)
        answer = post(owner, "/login/verify/code", {"kind": "totp", "code": code})
        sign_out(owner)
    assert answer.status_code == 400
    assert "Wait for the next code in your app" in html.unescape(answer.text)


def test_members_are_not_told_about_password_leaks(app: Any) -> None:
    """A member has no password: the security page does not mention one; an owner's does."""
    owner, carol, _ = _member(app)
    assert "password leaks" not in carol.get(BASE + "/account/security").text
    assert "password leaks" in owner.get(BASE + "/account/security").text


def test_reminder_count_is_proper_english(app: Any) -> None:
    """One reminder reads "1 member", two read "2 members"."""
    owner, _, org = _member(app)
    post(owner, f"/org/{org}/remind", {"user_id": user_id(app, "carol@example.com")})
    assert "Reminder sent to 1 member." in flashes(owner.get(BASE + f"/org/{org}").text)
    post(owner, f"/org/{org}/remind")  # the owner has no MFA either
    assert "Reminder sent to 2 members." in flashes(owner.get(BASE + f"/org/{org}").text)


# -- 8. flows keep their place ----------------------------------------------------------


def test_backup_codes_are_shown_once_after_a_redirect(app: Any) -> None:
    """Confirming redirects to the codes (post/redirect/get); a reload says they were shown."""
    owner = app.test_client()
    sign_up(owner, "olivia@example.com", "Olivia Owner")
    setup = post(owner, "/account/totp/setup", {"name": "Phone"}, page="/account/security")
    key = re.search(r'id="manual-key" class="key">([^<]+)<', setup.text)
    assert key is not None
    code = TOTP(decode_base32(key.group(1).replace(" ", ""))).at(time.time())
    confirmed = post(owner, "/account/totp/confirm", {"code": code})
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"] == "/account/backup-codes/new"
    shown = owner.get(BASE + "/account/backup-codes/new")
    assert shown.status_code == 200
    assert len(re.findall(r"<li><code>[^<]+</code></li>", shown.text)) == 10
    reloaded = owner.get(BASE + "/account/backup-codes/new", follow_redirects=True)
    assert "<li><code>" not in reloaded.text
    assert "Backup codes are shown only once." in " ".join(flashes(reloaded.text))
    assert "The set-up expired" not in reloaded.text


def test_create_an_account_from_an_invitation_link_keeps_the_invitation(app: Any) -> None:
    """Signed out, the invitation link leads to sign-in, then sign-up, then back to it."""
    owner = app.test_client()
    org = sign_up(owner, "olivia@example.com", "Olivia Owner")
    post(owner, f"/org/{org}/invitations", {"email": "bob@example.com"})
    (invitation,) = app.extensions["mfa_store"].list_invitations(org).items
    path = f"/invitations/{invitation.invitation_id}"
    bob = app.test_client()
    login = bob.get(BASE + path).headers["Location"]
    assert login == f"/login?next={path}"
    signup = re.search(
        r'href="(/signup\?next=[^"]+)">Create an account', bob.get(BASE + login).text
    )
    assert signup is not None
    target = html.unescape(signup.group(1))
    form = bob.get(BASE + target).text
    assert f'action="{signup.group(1)}"' in form
    created = post(
        bob,
        target,
        {"email": "bob@example.com", "name": "Bob Builder", "password": PASSWORD},
        page="/signup",
    )
    assert created.headers["Location"] == path


def test_last_method_warns_with_the_deadline_before_deletion(app: Any) -> None:
    """Under enforcement the only method's Delete says the deadline the policy would give."""
    owner, carol, org = _member(app)
    set_up_totp(owner)
    set_up_totp(carol)
    assert post(owner, f"/org/{org}/enforce", {"confirmation": "ENFORCE"}).status_code == 302
    page = html.unescape(carol.get(BASE + "/account/security").text)
    found = re.search(
        r"After deleting it, set up another before (\d{4}-\d\d-\d\d \d\d:\d\d) UTC, "
        r"or you will be locked out of Olivia Owner's organization\.",
        page,
    )
    assert found is not None
    deadline = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    expected = datetime.now(UTC) + CONSOLE_POLICY.grace_lost_method
    assert abs(deadline - expected) < timedelta(minutes=2)


def test_set_up_replaced_in_another_tab_is_explained(app: Any) -> None:
    """Confirming the first of two set-ups says a newer one replaced it."""
    owner = app.test_client()
    sign_up(owner, "olivia@example.com", "Olivia Owner")
    pages = [
        post(owner, "/account/totp/setup", {"name": "Phone"}, page="/account/security").text
        for _ in range(2)
    ]
    first_key = re.search(r'id="manual-key" class="key">([^<]+)<', pages[0])
    first_id = re.search(r'name="totp_id" value="([^"]+)"', pages[0])
    assert first_key is not None
    assert first_id is not None
    code = TOTP(decode_base32(first_key.group(1).replace(" ", ""))).at(time.time())
    answer = post(owner, "/account/totp/confirm", {"code": code, "totp_id": first_id.group(1)})
    assert answer.status_code == 302
    told = " ".join(flashes(owner.get(BASE + "/account/security").text))
    assert "A newer set-up of an authenticator app" in told
    assert "replaced this one" in told
