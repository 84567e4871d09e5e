"""render_notification: every message type in both languages, host values, and the login code."""

from __future__ import annotations

import typing
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mfakit.errors import ConfigurationError
from mfakit.i18n import Catalog, RenderedMessage, render_notification
from mfakit.service import (
    AccountLocked,
    AccountUnlocked,
    BackupCodesLow,
    EnforcementStopped,
    GracePeriodStarted,
    LoginCode,
    MemberRemoved,
    Message,
    MethodAdded,
    MethodRemoved,
    MfaReminder,
    MfaReset,
    PasskeyNowSynced,
    SignCountAnomaly,
)

WHEN = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
CODE = "482913"
SAMPLES: list[Message] = [
    MfaReminder(user_id="u", org_id="acme", deadline=WHEN),
    MfaReminder(user_id="u", org_id="acme"),
    GracePeriodStarted(user_id="u", org_id="acme", deadline=WHEN),
    GracePeriodStarted(user_id="u", org_id="acme"),
    EnforcementStopped(user_id="u", org_id="acme"),
    LoginCode(user_id="u", org_id="acme", code=CODE, expires_at=WHEN),
    MethodAdded(user_id="u", method="passkey", label="Laptop"),
    MethodAdded(user_id="u", method="totp"),
    MethodRemoved(user_id="u", method="security_key", label="Key", deadline=WHEN),
    MethodRemoved(user_id="u", method="mystery"),
    AccountLocked(user_id="u", org_id="acme", reason="mfa_deadline"),
    AccountLocked(user_id="u", org_id="acme", reason="failed_attempts"),
    AccountLocked(user_id="u", org_id="acme", reason="admin"),
    AccountLocked(user_id="u", org_id="acme", reason="other"),
    AccountUnlocked(user_id="u", org_id="acme", deadline=WHEN),
    AccountUnlocked(user_id="u", org_id="acme"),
    MemberRemoved(user_id="u", org_id="acme", actor_id="owner"),
    MemberRemoved(user_id="u", org_id="acme"),
    MfaReset(user_id="u", org_id="acme", deadline=WHEN),
    MfaReset(user_id="u"),
    BackupCodesLow(user_id="u", remaining=2),
    SignCountAnomaly(user_id="u", label="Phone"),
    PasskeyNowSynced(user_id="u", label="Phone"),
]


def test_samples_cover_every_type() -> None:
    """The samples include each member of the Message union."""
    assert {type(m) for m in SAMPLES} == set(typing.get_args(Message))


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: type(m).__name__)
def test_every_message_renders_in_both_languages(message: Message) -> None:
    """Subject and body are filled in, differ between English and French, and show no id."""
    english = render_notification(message, locale="en")
    french = render_notification(message, locale="fr-FR")
    for rendered in (english, french):
        text = rendered.subject + rendered.body
        assert rendered.subject
        assert rendered.body
        assert "{" not in text
        assert "notification." not in text
        assert "method." not in text
    assert english.subject != french.subject
    assert english.body != french.body


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: type(m).__name__)
def test_no_secret_unless_revealed(message: Message) -> None:
    """Without reveal_secrets no text holds the login code; repr never shows a secret body."""
    for locale in ("en", "fr"):
        rendered = render_notification(message, locale=locale)
        assert CODE not in rendered.subject + rendered.body + repr(rendered)
        assert not rendered.contains_secret
        revealed = render_notification(message, locale=locale, reveal_secrets=True)
        assert CODE not in revealed.subject + repr(revealed)


def test_login_code_body_shows_the_code_when_asked() -> None:
    """reveal_secrets=True puts the code in the body, marked as secret and kept out of repr."""
    message = SAMPLES[5]
    rendered = render_notification(message, locale="fr", reveal_secrets=True)
    assert isinstance(message, LoginCode)
    assert CODE in rendered.body
    assert rendered.contains_secret
    assert "<secret>" in repr(rendered)
    masked = render_notification(message, locale="fr")
    assert "\u2022" * 6 in masked.body
    assert repr(masked).count("\u2022") == 6


def test_values_cannot_inject_a_code() -> None:
    """A login code comes only from the message, never from the host's values."""
    with pytest.raises(ConfigurationError):
        render_notification(SAMPLES[5], locale="en", values={"code": "000000"})


def test_host_values_override_defaults_and_add_a_link() -> None:
    """org_name replaces the id; link adds a closing paragraph; values are not templates."""
    rendered = render_notification(
        SAMPLES[0],
        locale="fr",
        values={"org_name": "ACME {deadline}", "link": "https://console.example/security"},
    )
    assert "ACME {deadline}" in rendered.body
    assert "acme" not in rendered.body
    assert rendered.body.endswith("Continuez ici\u00a0: https://console.example/security")
    assert "\n\n" in rendered.body


def test_dates_use_the_host_formatter() -> None:
    """format_datetime formats deadline and expires_at; the default is UTC minutes."""
    paris = timezone(timedelta(hours=1))
    assert "2025-03-01 09:30 UTC" in render_notification(SAMPLES[0], locale="en").body
    rendered = render_notification(
        SAMPLES[0],
        locale="fr",
        format_datetime=lambda d: d.astimezone(paris).strftime("%d/%m/%Y à %H:%M"),
    )
    assert "avant le 01/03/2025 à 10:30." in rendered.body


def test_method_names_are_translated() -> None:
    """The method's display name comes from the catalog; an unknown kind stays raw."""
    added = render_notification(SAMPLES[6], locale="fr")
    assert "clé d\u2019accès «\u00a0Laptop\u00a0»" in added.body
    assert "mystery" in render_notification(SAMPLES[9], locale="en").body


def test_variants_follow_the_message_fields() -> None:
    """Deadline, label, reason and actor choose distinct texts."""
    bodies = [render_notification(m, locale="en").body for m in SAMPLES]
    assert len(set(bodies)) == len(bodies)
    assert "before 2025-03-01 09:30 UTC" in bodies[8]  # MethodRemoved with a deadline


@pytest.mark.parametrize(
    ("remaining", "english", "french"),
    [
        (0, "0 unused backup codes are", "0 code de secours inutilisé."),
        (1, "1 unused backup code is", "1 code de secours inutilisé."),
        (3, "3 unused backup codes are", "3 codes de secours inutilisés."),
    ],
)
def test_backup_codes_low_plural(remaining: int, english: str, french: str) -> None:
    """The backup-code count uses each language's plural forms."""
    message = BackupCodesLow(user_id="u", remaining=remaining)
    assert english in render_notification(message, locale="en").body
    assert french in render_notification(message, locale="fr").body


def test_override_changes_a_subject() -> None:
    """A host override replaces a subject; the body keeps the shipped text."""
    catalog = Catalog(
        overrides={"en": {"notification.mfa_reminder.subject": "{org_name} needs you"}}
    )
    rendered = render_notification(SAMPLES[0], locale="en-US", catalog=catalog)
    assert rendered.subject == "acme needs you"
    assert rendered.body.startswith("The organization acme asks")


def test_rendered_message_records_kind_and_locale() -> None:
    """The result names the notification kind and the requested locale."""
    rendered = render_notification(SAMPLES[4], locale=None)
    assert rendered == RenderedMessage(
        kind="enforcement_stopped",
        locale="en",
        subject="Multi-factor authentication is no longer enforced",
        body="Multi-factor authentication is no longer enforced in the organization acme.",
    )
