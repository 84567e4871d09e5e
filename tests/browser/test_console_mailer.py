"""The console's notifier: every message mfakit sends becomes a readable e-mail."""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from console.data import Accounts
from console.mailer import OutboxMailer, render

from mfakit import service
from mfakit.service import LoginCode, MfaReminder

WHEN = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
MESSAGES = [
    service.MfaReminder(user_id="u-1", org_id="org-1", deadline=WHEN),
    service.GracePeriodStarted(user_id="u-1", org_id="org-1", deadline=WHEN),
    service.EnforcementStopped(user_id="u-1", org_id="org-1"),
    service.LoginCode(user_id="u-1", org_id="org-1", code="123456", expires_at=WHEN),
    service.MethodAdded(user_id="u-1", method="passkey", label="Laptop"),
    service.MethodRemoved(user_id="u-1", method="totp", label="App", deadline=WHEN),
    service.AccountLocked(user_id="u-1", org_id="org-1", reason="mfa_deadline"),
    service.AccountUnlocked(user_id="u-1", org_id="org-1", deadline=WHEN),
    service.MemberRemoved(user_id="u-1", org_id="org-1"),
    service.MfaReset(user_id="u-1", org_id="org-1", deadline=WHEN, actor_id="u-2"),
    service.BackupCodesLow(user_id="u-1", remaining=2),
    service.SignCountAnomaly(user_id="u-1", label="Laptop"),
    service.PasskeyNowSynced(user_id="u-1", label="YubiKey"),
]


def test_every_message_type_is_rendered() -> None:
    """The list above covers every type of mfakit's Message union."""
    kinds = {type(m) for m in MESSAGES}
    assert kinds == set(typing.get_args(service.Message))


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_message_renders_as_an_email(message: service.Message) -> None:
    """Each message has its own kind, a subject and a body."""
    kind, subject, body = render(message)
    assert kind != "other"
    assert subject
    assert body


def test_login_code_email_carries_the_code_and_expiry() -> None:
    """The sign-in e-mail holds the code and when it expires."""
    _, _, body = render(LoginCode(user_id="u-1", org_id="org-1", code="654321", expires_at=WHEN))
    assert "654321" in body
    assert "2030-01-02 03:04 UTC" in body


def test_mailer_addresses_the_users_email(tmp_path: Path) -> None:
    """The recipient's address comes from the console's users, not from mfakit."""
    accounts = Accounts(tmp_path / "db.sqlite3")
    user = accounts.create_user(email="ada@example.com", name="Ada", password_hash=None)
    assert user is not None
    OutboxMailer(accounts).send(MfaReminder(user_id=user.user_id, org_id="org-1"))
    (mail,) = accounts.mails()
    assert mail.recipient == "ada@example.com"
    assert mail.kind == "reminder"


def test_mailer_drops_a_redelivered_message(tmp_path: Path) -> None:
    """A message delivered twice (at-least-once) becomes one e-mail; hand-built ones always go."""
    accounts = Accounts(tmp_path / "db.sqlite3")
    user = accounts.create_user(email="ada@example.com", name="Ada", password_hash=None)
    assert user is not None
    mailer = OutboxMailer(accounts)
    again = MfaReminder(user_id=user.user_id, org_id="org-1", message_id="m-1")
    for message in (again, again, MfaReminder(user_id=user.user_id, org_id="org-1")):
        mailer.send(message)
    assert len(accounts.mails(recipient="ada@example.com")) == 2
