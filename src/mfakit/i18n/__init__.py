"""Translations: every text mfakit shows a user, by stable message id, in the user's locale.

Notification messages (:mod:`mfakit.service`) are data; an error's
:attr:`~mfakit.errors.MfaError.message` is for logs. This module turns both
into text for people, from gettext catalogs keyed by stable message ids
(``notification.mfa_reminder.subject``, ``error.throttled.seconds``). English
and French catalogs ship in the wheel as ``.po`` sources and compiled ``.mo``
files, read by the standard library's :class:`gettext.GNUTranslations`.

* :func:`render_notification`: a message's subject and body.
* :func:`user_message`: what to tell the user about an :class:`~mfakit.errors.MfaError`.
* :func:`reason_message`: a policy decision's :class:`~mfakit.policy.Reason` as a sentence.
* :class:`Catalog`: the shipped catalogs, the host's own ``.mo`` files and
  overrides (``{locale: {message_id: text}}``), overrides winning; a locale
  falls back to its language, then to English. The host's files may be in a
  gettext domain of its own (``domains=("app",)``), so that one catalog holds
  the application's texts beside mfakit's; :meth:`Catalog.format` fills in
  placeholders.
* :func:`choose_locale`: the best available locale for an ``Accept-Language`` header.

Example::

    from mfakit.i18n import choose_locale, default_catalog, render_notification, user_message

    locale = user.locale or choose_locale(
        request.headers.get("Accept-Language"), default_catalog().locales
    )
    rendered = render_notification(message, locale=locale, values={"org_name": org.name})
    text = user_message(error, locale=locale)

Compile the catalogs after editing a ``.po`` file::

    python -m mfakit.i18n compile [LOCALEDIR]
"""

from __future__ import annotations

from mfakit.i18n._catalog import DOMAIN, Catalog, OverrideText, default_catalog
from mfakit.i18n._errors import (
    ERROR_MESSAGE_IDS,
    POLICY_MESSAGE_IDS,
    reason_message,
    user_message,
)
from mfakit.i18n._ids import MESSAGE_IDS, PLURAL_MESSAGE_IDS
from mfakit.i18n._locales import (
    choose_locale,
    fallback_chain,
    normalize_locale,
    parse_accept_language,
)
from mfakit.i18n._notifications import (
    NOTIFICATION_KEYS,
    NOTIFICATION_MESSAGE_IDS,
    RenderedMessage,
    render_notification,
)
from mfakit.i18n._render import DateFormatter

__all__ = [
    "Catalog",
    "DOMAIN",
    "DateFormatter",
    "ERROR_MESSAGE_IDS",
    "MESSAGE_IDS",
    "NOTIFICATION_KEYS",
    "NOTIFICATION_MESSAGE_IDS",
    "OverrideText",
    "PLURAL_MESSAGE_IDS",
    "POLICY_MESSAGE_IDS",
    "RenderedMessage",
    "choose_locale",
    "default_catalog",
    "fallback_chain",
    "normalize_locale",
    "parse_accept_language",
    "reason_message",
    "render_notification",
    "user_message",
]
