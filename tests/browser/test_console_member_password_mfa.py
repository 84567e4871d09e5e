"""A member's password sign-in under MFA enforcement, checked with Flask's test client.

After the password (seed 004: *Enter password* instead of *Send code*), the
organization's rules apply exactly as after an e-mailed code: the second
factor for a member who has one, the set-up for a member in their grace
period, and for a member whose grace period passed, the lock and whom to ask.
"""

from __future__ import annotations

import html
import re
import time
from typing import Any

from console_http_helpers import (
    BASE,
    MEMBER_PASSWORD,
    delete_totp,
    enforced_member,
    flashes,
    locked_member,
    member_sign_in,
    post,
    sign_out,
    told_whom_to_ask,
)


def _password_sign_in(client: Any, org: str, password: str = MEMBER_PASSWORD) -> Any:
    """Organization ID, username, *Enter password*, then the password; the last answer."""
    asked = post(
        client, "/login/member", {"org_id": org, "username": "carol", "method": "password"}
    )
    assert 'autocomplete="current-password"' in asked.text
    return post(
        client,
        "/login/member/password",
        {"org_id": org, "username": "carol", "password": password},
        page="/login/member",
    )


def _both_ways_lead_to(app: Any, carol: Any, org: str, location: str) -> None:
    """Carol signs in with an e-mailed code, then (signed out again) with her password: both
    are sent to ``location``; she is left between the two steps or signed in."""
    sign_out(carol)
    by_code = member_sign_in(app, carol, org, "carol", "carol@example.com")
    assert (by_code.status_code, by_code.headers.get("Location")) == (302, location)
    sign_out(carol)
    answer = _password_sign_in(carol, org)
    assert (answer.status_code, answer.headers.get("Location")) == (302, location)


def _signed_in(client: Any) -> bool:
    return client.get(BASE + "/account/security").status_code == 200


def _main(page: str) -> str:
    """The page's <main> (unescaped), its text only: no tags, so no form tokens."""
    found = re.search(r"<main\b.*?</main>", page, re.S)
    assert found is not None
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))).strip()


def test_member_with_totp_is_asked_for_the_second_factor(app: Any) -> None:
    """The right password of a member with an authenticator app leads to the second step, as
    the e-mailed code does; the app's code then signs her in."""
    _, carol, org, totp = enforced_member(app, member_password=True)
    _both_ways_lead_to(app, carol, org, "/login/verify")
    step = carol.get(BASE + "/login/verify").text
    assert "Code from your authenticator app" in step
    assert "Use a backup code" in step
    assert not _signed_in(carol)
    verified = post(
        carol,
        "/login/verify/code",
        {"kind": "totp", "code": totp.at(time.time() + 30)},
        page="/login/verify",
    )
    assert verified.headers["Location"] == "/account/security"
    assert _signed_in(carol)


def test_member_in_her_grace_period_is_led_to_the_set_up(app: Any) -> None:
    """A member who deleted her only method signs in with her password straight onto the
    set-up, told the deadline, as with an e-mailed code."""
    _, carol, org, _ = enforced_member(app, member_password=True)
    delete_totp(carol)
    _both_ways_lead_to(app, carol, org, "/account/security#set-up")
    page = carol.get(BASE + "/account/security").text
    told = html.unescape(" ".join(flashes(page)))
    assert "Olivia Owner's organization requires multi-factor authentication." in told
    assert re.search(r"Set up a method before \d{4}-\d\d-\d\d \d\d:\d\d UTC\.", told)
    assert 'id="setup-totp"' in page


def test_member_past_her_grace_period_is_locked_and_told_whom_to_ask(app: Any) -> None:
    """Once the grace period passed, the right password locks the member out like an
    e-mailed code: the same member page naming the owner, no session, no form; the owner
    then sees her as locked, with Unlock."""
    owner, carol, org, carol_id = locked_member(app, member_password=True)
    told_whom_to_ask(_password_sign_in(carol, org))
    assert not _signed_in(carol)
    assert f"/members/{carol_id}/unlock" in owner.get(BASE + f"/org/{org}").text

    by_code = told_whom_to_ask(member_sign_in(app, carol, org, "carol", "carol@example.com"))
    again = told_whom_to_ask(_password_sign_in(carol, org))
    assert _main(again) == _main(by_code)


def test_wrong_password_of_a_locked_member_says_nothing_of_the_lock(app: Any) -> None:
    """The lock is only told after the right password: a wrong one gets the usual refusal."""
    _, carol, org, _ = locked_member(app, member_password=True)
    refused = _password_sign_in(carol, org, password="not my password at all")
    assert refused.status_code == 401
    text = html.unescape(refused.text)
    assert "Wrong organization ID, username or password." in text
    assert "administrator" not in text
