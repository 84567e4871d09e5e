"""The console's e-mails read as written for people (issue 18, item 7)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from console.data import Accounts
from console.mailer import OutboxMailer, Recipient, render

from mfakit import service
from mfakit.secretbox import KeyRing, generate_key
from mfakit.stores.memory import MemoryStore

WHEN = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
ACME = Recipient(org_name="Acme", username="carol", member_sign_in="https://c.example/login/member")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            service.MethodRemoved(user_id="u-1", method="totp", label="Phone"),
            'The authenticator app "Phone" was removed from your account.',
        ),
        (
            service.MethodAdded(user_id="u-1", method="totp", label="Phone"),
            'The authenticator app "Phone" was added to your account.',
        ),
        (
            service.MethodRemoved(user_id="u-1", method="security_key", label="YubiKey"),
            'The security key "YubiKey" was removed from your account.',
        ),
        (
            service.MethodAdded(user_id="u-1", method="passkey", label="Laptop"),
            'The passkey "Laptop" was added to your account.',
        ),
    ],
)
def test_a_method_is_named_once(message: service.Message, expected: str) -> None:
    """'The authenticator app "Phone" was removed', not 'An authenticator app (TOTP) ("...")'."""
    _, _, body = render(message)
    assert body.startswith(expected)


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("mfa_deadline", "not set up before the organization's deadline"),
        ("failed_attempts", "after too many failed sign-in attempts"),
        ("admin", "by an owner of the organization"),
        ("something_new", "is locked. Ask an owner"),
    ],
)
def test_lock_reasons_are_in_words(reason: str, words: str) -> None:
    """No raw reason code such as '(mfa deadline)'."""
    message = service.AccountLocked(user_id="u-1", org_id="org-1", reason=reason)
    _, _, body = render(message, ACME)
    assert words in body
    assert reason not in body
    assert reason.replace("_", " ") not in body
    assert "(" + reason.replace("_", " ") not in body
    assert "Your membership of Acme (ID org-1) is locked" in body


def test_reminder_without_deadline_says_none_and_tells_a_member_how_to_sign_in() -> None:
    """No '(no deadline)'; the organization ID, the username and the sign-in link."""
    _, _, body = render(service.MfaReminder(user_id="u-1", org_id="org-1"), ACME)
    assert "deadline" not in body
    assert "Acme (ID org-1) asks you" in body
    assert "the organization ID org-1 and your username carol" in body
    assert "https://c.example/login/member" in body
    _, _, dated = render(service.MfaReminder(user_id="u-1", org_id="org-1", deadline=WHEN))
    assert "by 2030-01-02 03:04 UTC" in dated
    assert "username" not in dated  # not a member with a username


@pytest.mark.parametrize(
    "message",
    [
        service.MfaReminder(user_id="u-1", org_id="org-1", deadline=WHEN),
        service.GracePeriodStarted(user_id="u-1", org_id="org-1", deadline=WHEN),
        service.EnforcementStopped(user_id="u-1", org_id="org-1"),
        service.LoginCode(user_id="u-1", org_id="org-1", code="123456", expires_at=WHEN),
        service.AccountLocked(user_id="u-1", org_id="org-1", reason="admin"),
        service.AccountUnlocked(user_id="u-1", org_id="org-1"),
        service.MemberRemoved(user_id="u-1", org_id="org-1"),
        service.MfaReset(user_id="u-1", org_id="org-1", actor_id="u-2"),
    ],
    ids=lambda m: type(m).__name__,
)
def test_organization_is_named(message: service.Message) -> None:
    """Every e-mail about an organization gives its name, its ID only beside it."""
    _, _, body = render(message, ACME)
    assert "Acme (ID org-1)" in body
    assert "organization org-1" not in body


def test_mailer_looks_up_the_organization_and_username(tmp_path: Path) -> None:
    """The notifier finds the name and the member's username in the store."""
    accounts = Accounts(tmp_path / "db.sqlite3")
    store = MemoryStore()
    owner = accounts.create_user(email="olivia@example.com", name="Olivia", password_hash=None)
    member = accounts.create_user(email="carol@example.com", name="Carol", password_hash=None)
    assert owner is not None
    assert member is not None
    mailer = OutboxMailer(accounts, store=store, origin="https://c.example")
    mfa = service.MfaService(
        store=store,
        notifier=mailer,
        keys=KeyRing({"k1": generate_key()}, current="k1"),
        relying_party=service.RelyingParty(
            rp_id="c.example", rp_name="c", origins=("https://c.example",)
        ),
        issuer="c",
        login_code_key=bytes(32),
    )
    mfa.create_organization("org-9", name="Acme", owner_id=owner.user_id)
    mfa.add_member("org-9", member.user_id, username="carol", actor_id=owner.user_id)
    mailer.send(service.MfaReminder(user_id=member.user_id, org_id="org-9"))
    (mail,) = [m for m in accounts.mails(recipient="carol@example.com") if m.kind == "reminder"]
    assert "Acme (ID org-9)" in mail.body
    assert "your username carol" in mail.body
    assert "https://c.example/login/member" in mail.body
