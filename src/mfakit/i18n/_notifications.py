"""Notification messages as text: subject and body from the catalog, in the user's locale."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from mfakit.errors import ConfigurationError
from mfakit.i18n._catalog import Catalog, default_catalog
from mfakit.i18n._render import DateFormatter, utc_minutes
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

__all__ = [
    "NOTIFICATION_KEYS",
    "NOTIFICATION_MESSAGE_IDS",
    "RenderedMessage",
    "render_notification",
]

#: The key of each notification type in its message ids: ``notification.<key>.subject``
#: and ``notification.<key>.body``, plus the variants listed in
#: :data:`NOTIFICATION_MESSAGE_IDS`.
NOTIFICATION_KEYS: Mapping[type[Message], str] = {
    MfaReminder: "mfa_reminder",
    GracePeriodStarted: "grace_period_started",
    EnforcementStopped: "enforcement_stopped",
    LoginCode: "login_code",
    MethodAdded: "method_added",
    MethodRemoved: "method_removed",
    AccountLocked: "account_locked",
    AccountUnlocked: "account_unlocked",
    MemberRemoved: "member_removed",
    MfaReset: "mfa_reset",
    BackupCodesLow: "backup_codes_low",
    SignCountAnomaly: "sign_count_anomaly",
    PasskeyNowSynced: "passkey_now_synced",
}

# The variants of a body, by notification key, besides ``.subject`` and ``.body``.
_VARIANTS: Mapping[str, tuple[str, ...]] = {
    "mfa_reminder": ("body.deadline",),
    "grace_period_started": ("body.deadline",),
    "method_added": ("body.label",),
    "method_removed": ("body.label", "deadline"),
    "account_locked": ("body.mfa_deadline", "body.failed_attempts", "body.admin"),
    "account_unlocked": ("body.deadline",),
    "member_removed": ("body.deadline_missed",),
    "mfa_reset": ("body.organization", "deadline", "closing"),
}

#: The display name of each method kind a notification names.
METHOD_MESSAGE_IDS: Mapping[str, str] = {
    kind: f"method.{kind}" for kind in ("totp", "passkey", "security_key", "backup_codes")
}

#: A paragraph added to any message when the host passes a ``link`` value.
LINK_MESSAGE_ID = "notification.link"

#: Every message id a notification may use: by type, ``.subject`` and ``.body`` first.
NOTIFICATION_MESSAGE_IDS: Mapping[type[Message], tuple[str, ...]] = {
    kind: tuple(
        f"notification.{key}.{part}" for part in ("subject", "body", *_VARIANTS.get(key, ()))
    )
    for kind, key in NOTIFICATION_KEYS.items()
}

#: The notification texts that take a number (plural forms).
PLURAL_NOTIFICATION_IDS = frozenset({"notification.backup_codes_low.body"})

#: The code's placeholder in the login-code e-mail when the code is not revealed.
CODE_MASK = "\u2022" * 6


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderedMessage:
    """A notification's text in one locale.

    Attributes:
        kind: The notification's key (``"login_code"``, ``"mfa_reminder"``, ...).
        locale: The locale asked for (the texts may come from a fallback).
        subject: The subject line (never a secret).
        body: Plain-text paragraphs separated by a blank line. For a
            :class:`~mfakit.service.LoginCode` rendered with
            ``reveal_secrets=True`` it holds the code: send it, never log it.
        contains_secret: Whether ``body`` holds a secret. ``repr`` never shows
            ``body`` when it does.
    """

    kind: str
    locale: str
    subject: str
    body: str = field(repr=False)
    contains_secret: bool = False

    def __repr__(self) -> str:
        body = "<secret>" if self.contains_secret else repr(self.body)
        return (
            f"RenderedMessage(kind={self.kind!r}, locale={self.locale!r}, "
            f"subject={self.subject!r}, body={body})"
        )


@dataclass(slots=True)
class _Plan:
    """Which texts make up one message, and the values the message itself gives."""

    key: str
    body: list[tuple[str, int | None]]
    values: dict[str, str]
    dates: dict[str, datetime]


def _plan(message: Message) -> _Plan:
    key = NOTIFICATION_KEYS[type(message)]
    base = f"notification.{key}."
    plan = _Plan(key=key, body=[], values={}, dates={})
    org_id = getattr(message, "org_id", None)
    if org_id is not None:
        plan.values["org_name"] = org_id
    deadline = getattr(message, "deadline", None)
    if deadline is not None:
        plan.dates["deadline"] = deadline
    match message:
        case MfaReminder() | GracePeriodStarted() | AccountUnlocked():
            plan.body.append((base + ("body.deadline" if deadline else "body"), None))
        case MethodAdded(label=label) | MethodRemoved(label=label):
            plan.values["label"] = label
            plan.body.append((base + ("body.label" if label else "body"), None))
            if isinstance(message, MethodRemoved) and deadline is not None:
                plan.body.append((base + "deadline", None))
        case AccountLocked(reason=reason):
            variant = f"body.{reason}"
            plan.body.append((base + (variant if variant in _VARIANTS[key] else "body"), None))
        case MemberRemoved(actor_id=actor):
            plan.body.append((base + ("body" if actor else "body.deadline_missed"), None))
        case MfaReset(org_id=org):
            plan.body.append((base + ("body.organization" if org else "body"), None))
            if deadline is not None:
                plan.body.append((base + "deadline", None))
            plan.body.append((base + "closing", None))
        case BackupCodesLow(remaining=remaining):
            plan.values["count"] = str(remaining)
            plan.body.append((base + "body", remaining))
        case SignCountAnomaly(label=label) | PasskeyNowSynced(label=label):
            plan.values["label"] = label
            plan.body.append((base + "body", None))
        case LoginCode(expires_at=expires_at):
            plan.dates["expires_at"] = expires_at
            plan.body.append((base + "body", None))
        case _:  # EnforcementStopped: one text
            plan.body.append((base + "body", None))
    return plan


def render_notification(
    message: Message,
    *,
    locale: str | None,
    values: Mapping[str, str] | None = None,
    catalog: Catalog | None = None,
    format_datetime: DateFormatter | None = None,
    reveal_secrets: bool = False,
) -> RenderedMessage:
    """The subject and body of a notification, in the user's locale.

    The message's own fields give the default values of the placeholders:
    ``org_name`` (the organization id), ``label``, ``method`` (the method's
    name, translated), ``count``, ``deadline`` and ``expires_at`` (formatted
    by ``format_datetime``). ``values`` adds to them and wins over them: pass
    the organization's display name, dates in the user's format, and
    ``link`` (a URL to act on) to end the body with a "follow this link"
    paragraph.

    Example::

        rendered = render_notification(
            message,
            locale=user.locale,
            values={"org_name": org.display_name, "link": "https://console.example/security"},
            reveal_secrets=isinstance(message, LoginCode),  # the code is the e-mail's purpose
        )
        send_mail(to=user.email, subject=rendered.subject, body=rendered.body)

    Args:
        message: A message the service delivered.
        locale: The recipient's locale (``"fr"``, ``"fr-FR"``, ``"en_GB"``...);
            ``None`` for the catalog's default.
        values: Display values for the placeholders. Not templates: inserted as
            they are (escape them yourself for HTML).
        catalog: Where the texts come from; the shipped catalogs by default.
        format_datetime: Formats ``deadline`` and ``expires_at``; the default
            is ``2025-03-01 09:30 UTC``.
        reveal_secrets: Put :class:`~mfakit.service.LoginCode`'s code in its
            body (the default shows ``••••••``, for previews and logs). Every
            other message has no secret, so this changes nothing for them.

    Returns:
        The texts, with :attr:`RenderedMessage.contains_secret` set when the body
        holds the code.

    Raises:
        ConfigurationError: ``values`` sets ``code``: a login code comes only
            from the message.
    """
    values = values or {}
    if "code" in values:
        raise ConfigurationError("the login code comes from the message, not from values")
    catalog = catalog or default_catalog()
    formatter = format_datetime or utc_minutes
    plan = _plan(message)
    filled = dict(plan.values)
    filled.update({name: formatter(moment) for name, moment in plan.dates.items()})
    method = getattr(message, "method", None)
    if method is not None:
        method_id = METHOD_MESSAGE_IDS.get(method)
        filled["method"] = catalog.text(method_id, locale=locale) if method_id else method
    secret = isinstance(message, LoginCode) and reveal_secrets
    if isinstance(message, LoginCode):
        filled["code"] = message.code if reveal_secrets else CODE_MASK
    filled.update(values)
    paragraphs = [
        catalog.format(message_id, locale=locale, count=count, values=filled)
        for message_id, count in plan.body
    ]
    if "link" in values:
        paragraphs.append(catalog.format(LINK_MESSAGE_ID, locale=locale, values=filled))
    # A subject is never secret, whatever a host's override says.
    public = {name: value for name, value in filled.items() if name != "code"}
    subject = catalog.format(f"notification.{plan.key}.subject", locale=locale, values=public)
    return RenderedMessage(
        kind=plan.key,
        locale=locale or catalog.default_locale,
        subject=subject,
        body="\n\n".join(paragraphs),
        contains_secret=secret,
    )
