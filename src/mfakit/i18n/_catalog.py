"""The message catalog: shipped gettext catalogs, the host's own, and overrides."""

from __future__ import annotations

import gettext
import importlib.resources
import io
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TypeAlias

from mfakit.errors import ConfigurationError
from mfakit.i18n._locales import fallback_chain, normalize_locale
from mfakit.i18n._render import fill

__all__ = ["DOMAIN", "Catalog", "OverrideText", "default_catalog"]

#: The gettext domain of mfakit's catalogs: ``<lang>/LC_MESSAGES/mfakit.mo``.
DOMAIN = "mfakit"

# A gettext domain names a file (``<domain>.mo``): a plain name, never a path.
_DOMAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")

#: An override's text: one template, or a plural message's forms in the order
#: of the language's gettext plural rule (English: singular, plural).
OverrideText: TypeAlias = str | Sequence[str]


class _MissingError(Exception):
    """Raised by the end of a gettext fallback chain: the id is not in the catalog."""


class _Sentinel(gettext.NullTranslations):
    """A gettext fallback that reports a missing message instead of echoing its id."""

    def gettext(self, message: str) -> str:
        raise _MissingError

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        raise _MissingError


def _english_rule(n: int) -> int:
    return 0 if n == 1 else 1


class _Source:
    """One gettext catalog of one locale."""

    def __init__(self, data: bytes) -> None:
        self.translations = gettext.GNUTranslations(io.BytesIO(data))
        self.translations.add_fallback(_Sentinel())
        # GNUTranslations compiles the Plural-Forms header into this attribute;
        # it is not in the type stubs, so it is read defensively.
        rule = getattr(self.translations, "plural", None)
        self.plural_rule: Callable[[int], int] = rule if callable(rule) else _english_rule

    def text(self, message_id: str) -> str | None:
        try:
            return self.translations.gettext(message_id)
        except _MissingError:
            return None

    def plural(self, message_id: str, count: int) -> str | None:
        try:
            return self.translations.ngettext(message_id, message_id, count)
        except _MissingError:
            return None


def _read_directory(root: Traversable, domain: str) -> dict[str, bytes]:
    """The ``<domain>.mo`` bytes of each locale under a gettext ``localedir``."""
    found: dict[str, bytes] = {}
    if not root.is_dir():
        return found
    for child in sorted(root.iterdir(), key=lambda c: c.name):
        mo = child / "LC_MESSAGES" / f"{domain}.mo"
        tag = normalize_locale(child.name)
        if tag is not None and mo.is_file():
            found[tag] = mo.read_bytes()
    return found


class Catalog:
    """Texts by message id and locale, from gettext catalogs and the host's overrides.

    A lookup for a locale tries its fallback chain (``fr-CA``, then ``fr``,
    then ``default_locale``); within one locale, the host's ``overrides``
    win over the host's ``directories`` (first listed first; within one
    directory, the first of ``domains`` first), which win over the catalogs
    shipped with mfakit. A catalog is loaded once, when first needed; a
    :class:`Catalog` is safe to share between threads.

    Example::

        catalog = Catalog(
            overrides={"en": {"notification.mfa_reminder.subject": "Secure your account"}},
            directories=["/srv/app/locale"],  # <lang>/LC_MESSAGES/mfakit.mo
        )
        catalog.text("error.expired_code", locale="fr-FR")

    An application's own texts can live in its own gettext domain, beside
    mfakit's: one catalog then serves both (ids of the two must not collide;
    prefix yours)::

        app_catalog = Catalog(directories=["/srv/app/locale"], domains=("app", "mfakit"))
        app_catalog.format("app.login.welcome", locale="fr", values={"name": "Ada"})
        user_message(error, locale="fr", catalog=app_catalog)

    Args:
        overrides: ``{locale: {message_id: text}}``; a plural message's text is
            one template for every count or its forms (see :data:`OverrideText`).
        directories: gettext ``localedir`` directories holding
            ``<lang>/LC_MESSAGES/<domain>.mo`` files (a new language, other
            texts, or the application's own texts).
        domains: The gettext domains read from ``directories``, first wins
            (``mfakit`` by default). The shipped catalogs are always read
            as ``mfakit``.
        default_locale: The last locale of every fallback chain.
        shipped: Whether to use the English and French catalogs shipped with mfakit.

    Raises:
        ConfigurationError: A locale in ``overrides`` or ``default_locale`` is not a
            locale tag, ``domains`` is a string or holds a name that is not a
            plain file name, or a directory holds a file gettext cannot read.
    """

    def __init__(
        self,
        *,
        overrides: Mapping[str, Mapping[str, OverrideText]] | None = None,
        directories: Iterable[str | os.PathLike[str]] = (),
        domains: Sequence[str] = (DOMAIN,),
        default_locale: str = "en",
        shipped: bool = True,
    ) -> None:
        if isinstance(domains, str):
            raise ConfigurationError("domains is a sequence of names, such as ('app',)")
        if not all(isinstance(d, str) and _DOMAIN_NAME.fullmatch(d) for d in domains):
            raise ConfigurationError("a gettext domain is a plain file name, such as 'app'")
        default = normalize_locale(default_locale)
        if default is None:
            raise ConfigurationError("default_locale is not a locale tag")
        self.default_locale = default
        self._overrides: dict[str, dict[str, OverrideText]] = {}
        for tag, texts in (overrides or {}).items():
            normal = normalize_locale(tag)
            if normal is None:
                raise ConfigurationError("an override's locale is not a locale tag")
            self._overrides.setdefault(normal, {}).update(texts)
        # Each (localedir, domain) pair, in the order lookups try them.
        self._roots: list[tuple[Traversable, str]] = [
            (Path(d), domain) for d in directories for domain in domains
        ]
        if shipped:
            self._roots.append((importlib.resources.files("mfakit.i18n") / "locale", DOMAIN))
        self._lock = threading.Lock()
        self._sources: dict[str, list[_Source]] | None = None

    def _loaded(self) -> dict[str, list[_Source]]:
        with self._lock:
            if self._sources is None:
                sources: dict[str, list[_Source]] = {}
                for root, domain in self._roots:
                    for tag, data in _read_directory(root, domain).items():
                        try:
                            source = _Source(data)
                        except (OSError, ValueError, UnicodeError) as exc:
                            raise ConfigurationError(
                                f"the {tag} catalog is not a readable .mo file"
                            ) from exc
                        sources.setdefault(tag, []).append(source)
                self._sources = sources
            return self._sources

    @property
    def locales(self) -> tuple[str, ...]:
        """Every locale with a catalog or overrides, sorted (for :func:`choose_locale`)."""
        return tuple(sorted(set(self._loaded()) | set(self._overrides)))

    def chain(self, locale: str | None) -> tuple[str, ...]:
        """The locales a lookup for ``locale`` tries, in order."""
        return fallback_chain(locale, default=self.default_locale)

    def _plural_rule(self, tag: str) -> Callable[[int], int]:
        sources = self._loaded().get(tag)
        return sources[0].plural_rule if sources else _english_rule

    def find(self, message_id: str, *, locale: str | None, count: int | None = None) -> str | None:
        """The text of ``message_id`` for ``locale``, or ``None`` if no catalog has it.

        Args:
            message_id: A stable message id (see :data:`~mfakit.i18n.MESSAGE_IDS`).
            locale: The user's locale, in any spelling; ``None`` for the default.
            count: For a plural message, the number that picks the form.

        Returns:
            The template, placeholders not yet filled in.
        """
        sources = self._loaded()
        for tag in self.chain(locale):
            override = self._overrides.get(tag, {}).get(message_id)
            if isinstance(override, str):
                return override
            if override is not None:
                index = self._plural_rule(tag)(count if count is not None else 1)
                forms = list(override)
                return forms[min(index, len(forms) - 1)] if forms else None
            for source in sources.get(tag, ()):
                found = (
                    source.text(message_id) if count is None else source.plural(message_id, count)
                )
                if found is not None:
                    return found
        return None

    def text(self, message_id: str, *, locale: str | None, count: int | None = None) -> str:
        """Like :meth:`find`, but a missing message gives its id (visible, never an exception).

        A user-facing text must not fail to render; the tests prove that every
        id mfakit uses is in the shipped English catalog.
        """
        found = self.find(message_id, locale=locale, count=count)
        return message_id if found is None else found

    def format(
        self,
        message_id: str,
        *,
        locale: str | None,
        count: int | None = None,
        values: Mapping[str, str] | None = None,
    ) -> str:
        """Like :meth:`text`, with the ``{name}`` placeholders filled in from ``values``.

        A plural message's ``count`` also fills ``{count}`` unless ``values``
        gives it. Values are inserted as they are, never read as templates;
        a placeholder without a value stays visible.

        Example::

            catalog.format("app.codes.left", locale="fr", count=3)  # "Il reste 3 codes."
        """
        filled = {} if count is None else {"count": str(count)}
        filled.update(values or {})
        return fill(self.text(message_id, locale=locale, count=count), filled)


_DEFAULT: Catalog | None = None
_DEFAULT_LOCK = threading.Lock()


def default_catalog() -> Catalog:
    """The shared catalog of the shipped English and French texts, with no overrides."""
    global _DEFAULT  # noqa: PLW0603 - a lazily built, process-wide read-only object
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Catalog()
        return _DEFAULT
