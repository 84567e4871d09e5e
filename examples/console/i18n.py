"""The console's words, in the language the browser asks for.

Every text the console shows or sends comes from one gettext catalog: the
console's own domain, ``console`` (``locale/<lang>/LC_MESSAGES/console.po``,
compiled to ``console.mo``), read by mfakit's :class:`~mfakit.i18n.Catalog`
beside mfakit's shipped texts. Message ids are stable and name where a text
is used (``console.login.title``). The console's domain also holds a few of
mfakit's own ids (``notification.*``, ``policy.*``): there, the console's
wording replaces mfakit's for the console, as an override would.

Each request speaks the language :func:`~mfakit.i18n.choose_locale` picks
from its ``Accept-Language`` header among the console's languages (English
when none matches). Templates call ``t(id, name=value)`` and
``tn(id, count, name=value)``: the catalog's text is trusted markup (a few
ids hold ``<strong>`` or a link), every value is escaped. Python code calls
:func:`t` and :func:`tn`, which return plain text (Jinja escapes it when a
page shows it).

After editing a ``.po`` file, compile it::

    python -m mfakit.i18n compile examples/console/locale --domain console
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, has_request_context, request
from markupsafe import Markup, escape

from mfakit.i18n import Catalog, choose_locale

#: The console's gettext domain and where its catalogs live.
DOMAIN = "console"
LOCALEDIR = Path(__file__).resolve().parent / "locale"
#: The language of a request that asks for none the console speaks.
DEFAULT_LOCALE = "en"
#: The console's texts, then mfakit's (for errors, refusals and e-mails).
CATALOG = Catalog(directories=[LOCALEDIR], domains=(DOMAIN,), default_locale=DEFAULT_LOCALE)
#: The languages the console speaks: those with a compiled catalog of its own.
LANGUAGES = tuple(sorted(mo.parents[1].name for mo in LOCALEDIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")))


def choose(header: str | None) -> str:
    """The console's language that best matches an ``Accept-Language`` header."""
    return choose_locale(header, LANGUAGES, default=DEFAULT_LOCALE)


def current_locale() -> str:
    """This request's language (the default outside a request: e-mails pass their own)."""
    if has_request_context():
        chosen = g.get("locale")
        if isinstance(chosen, str):
            return chosen
    return DEFAULT_LOCALE


def t(message_id: str, /, *, locale: str | None = None, **values: object) -> str:
    """The text of ``message_id`` in ``locale`` (this request's by default), filled in."""
    return CATALOG.format(
        message_id,
        locale=locale or current_locale(),
        values={name: str(value) for name, value in values.items()},
    )


def tn(message_id: str, count: int, /, *, locale: str | None = None, **values: object) -> str:
    """A text with plural forms: the one for ``count``, with ``{count}`` filled in."""
    return CATALOG.format(
        message_id,
        locale=locale or current_locale(),
        count=count,
        values={name: str(value) for name, value in values.items()},
    )


def _markup(message_id: str, count: int | None, values: dict[str, object]) -> Markup:
    """A catalog text as markup for a page: the text is ours, each value is escaped."""
    safe = {name: str(escape(value)) for name, value in values.items()}
    return Markup(  # noqa: S704 - the catalog's text is the console's own; values are escaped
        CATALOG.format(message_id, locale=current_locale(), count=count, values=safe)
    )


def page_t(message_id: str, /, **values: object) -> Markup:
    """``t()`` in templates."""
    return _markup(message_id, None, values)


def page_tn(message_id: str, count: int, /, **values: object) -> Markup:
    """``tn()`` in templates."""
    return _markup(message_id, count, values)


def _pick_locale() -> None:
    g.locale = choose(request.headers.get("Accept-Language"))


def install(app: Flask) -> None:
    """Pick each request's language first; give templates ``t``, ``tn`` and ``locale``."""
    app.before_request_funcs.setdefault(None, []).insert(0, _pick_locale)
    app.jinja_env.globals.update(t=page_t, tn=page_tn, locale=current_locale)
