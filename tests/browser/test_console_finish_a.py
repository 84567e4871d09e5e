"""The console as a finished product (issue 18), checked through Flask's test client."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_http_helpers import (
    BASE,
    add_member,
    flashes,
    make_app,
    member_sign_in,
    pass_grace_period,
    post,
    set_up_totp,
    sign_out,
    sign_up,
    user_id,
)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    """A fresh console; each user is one of its test clients."""
    console = make_app(tmp_path)
    yield console
    console.extensions["mfa_store"].close()


def _locked_member(app: Any) -> tuple[Any, Any, str, str]:
    """An enforcing organization whose member deleted her only method and let the grace
    period pass; returns the owner's and the member's clients, the org id and her id."""
    owner = app.test_client()
    carol = app.test_client()
    org = sign_up(owner, "olivia@example.com", "Olivia Owner")
    set_up_totp(owner)
    add_member(owner, org, "carol", "carol@example.com")
    member_sign_in(app, carol, org, "carol", "carol@example.com")
    set_up_totp(carol)
    enforced = post(owner, f"/org/{org}/enforce", {"confirmation": "ENFORCE"})
    assert enforced.status_code == 302
    security = carol.get(BASE + "/account/security").text
    device = re.search(r"/account/totp/([^/]+)/delete", security)
    assert device is not None
    deleted = post(carol, f"/account/totp/{device.group(1)}/delete", {"confirmation": "DELETE"})
    assert deleted.status_code == 302
    carol_id = user_id(app, "carol@example.com")
    pass_grace_period(app, org, carol_id)
    sign_out(carol)
    return owner, carol, org, carol_id


def test_locked_member_is_told_whom_to_ask(app: Any) -> None:
    """A member locked by the deadline is named the organization's owners, without a code form."""
    _, carol, org, _ = _locked_member(app)
    refused = member_sign_in(app, carol, org, "carol", "carol@example.com")
    assert refused.status_code == 403
    text = html.unescape(refused.text)
    assert "Ask an administrator of Olivia Owner's organization to unlock your account" in text
    assert "Olivia Owner" in text
    assert 'href="mailto:olivia@example.com"' in text
    assert 'name="code"' not in text


def test_owner_unlocks_and_the_member_goes_straight_to_set_up(app: Any) -> None:
    """The owner's page offers the recovery actions (no reminder); the unlock gives a deadline
    and the member's next sign-in lands on the set-up."""
    owner, carol, org, carol_id = _locked_member(app)
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
