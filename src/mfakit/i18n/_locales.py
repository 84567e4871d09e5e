"""Locale tags: normalization, the fallback chain, and the Accept-Language header."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["choose_locale", "fallback_chain", "normalize_locale", "parse_accept_language"]

# Language (2-3 letters, or 5-8 registered), then script, region or variant subtags.
_SUBTAG = re.compile(r"[A-Za-z0-9]{1,8}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}|[A-Za-z]{5,8}")
_QVALUE = re.compile(r"q\s*=\s*(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)", re.IGNORECASE)
# A header longer than this is cut: nobody prefers a hundredth language.
_MAX_HEADER = 4096
_MAX_RANGES = 64


def normalize_locale(tag: str) -> str | None:
    """A locale in mfakit's spelling (``fr``, ``fr-FR``, ``zh-Hant-TW``), or ``None``.

    Accepts the BCP 47 form (``fr-FR``), the POSIX form (``fr_FR.UTF-8@euro``:
    encoding and modifier are dropped) and any letter case.

    Args:
        tag: What the host or the browser sent.

    Returns:
        The language in lower case, a four-letter script in title case, a
        two-letter or three-digit region in upper case, other subtags in lower
        case, joined by ``-``; ``None`` when ``tag`` is not a locale.
    """
    base = tag.strip().split(".", 1)[0].split("@", 1)[0].replace("_", "-")
    parts = base.split("-")
    if not parts or not _LANGUAGE.fullmatch(parts[0]):
        return None
    out = [parts[0].lower()]
    for part in parts[1:]:
        if not _SUBTAG.fullmatch(part):
            return None
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def fallback_chain(tag: str | None, *, default: str = "en") -> tuple[str, ...]:
    """The locales to try for ``tag``, most specific first, ending with ``default``.

    Example::

        >>> fallback_chain("fr_CA")
        ('fr-CA', 'fr', 'en')

    Args:
        tag: The user's locale, in any spelling :func:`normalize_locale` reads;
            ``None`` or an unreadable tag gives ``(default,)``.
        default: The last resort.

    Returns:
        Distinct normalized tags.
    """
    chain: list[str] = []
    normal = normalize_locale(tag) if tag else None
    if normal is not None:
        parts = normal.split("-")
        chain.extend("-".join(parts[:end]) for end in range(len(parts), 0, -1))
    last = normalize_locale(default) or "en"
    if last not in chain:
        chain.append(last)
    return tuple(chain)


def parse_accept_language(header: str | None) -> list[tuple[str, float]]:
    """The language ranges of an ``Accept-Language`` header, most preferred first.

    Malformed ranges and parameters are skipped, never raised: the header
    comes from the network. Among equal weights the header's order is kept.

    Example::

        >>> parse_accept_language("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5")
        [('fr-CH', 1.0), ('fr', 0.9), ('en', 0.8), ('*', 0.5)]

    Args:
        header: The header's value (RFC 9110, section 12.5.4), or ``None``.

    Returns:
        ``(range, weight)`` pairs: each range normalized (see
        :func:`normalize_locale`) or ``"*"``, each weight in ``[0, 1]``;
        ranges weighted 0 ("not acceptable") are kept, last.
    """
    if not header:
        return []
    ranges: list[tuple[str, float]] = []
    for item in header[:_MAX_HEADER].split(",")[:_MAX_RANGES]:
        name, *params = (p.strip() for p in item.split(";"))
        tag = "*" if name == "*" else normalize_locale(name) if name else None
        if tag is None:
            continue
        weight = 1.0
        for param in params:
            match = _QVALUE.fullmatch(param)
            if match is None:
                weight = -1.0  # a bad weight makes the whole range unreadable
                break
            weight = float(match.group(1))
        if weight >= 0:
            ranges.append((tag, weight))
    ranges.sort(key=lambda pair: -pair[1])
    return ranges


def choose_locale(header: str | None, available: Iterable[str], *, default: str = "en") -> str:
    """The available locale that best matches an ``Accept-Language`` header.

    Each range, most preferred first, is looked up as in RFC 4647 section 3.4
    (``fr-CA`` matches ``fr-CA``, then ``fr``); failing that, a range matches
    an available locale it is a prefix of (``fr`` matches ``fr-CA``). ``*``
    matches ``default``, or else the first available locale the header does
    not refuse. A locale weighted ``q=0`` is never chosen for ``*``.

    Example::

        >>> choose_locale("fr-CA,fr;q=0.9,en;q=0.5", ["en", "fr"])
        'fr'

    Args:
        header: The header's value, possibly ``None``, empty or malformed.
        available: The locales you can answer in (for example :attr:`Catalog.locales
            <mfakit.i18n.Catalog.locales>`).
        default: The answer when nothing matches.

    Returns:
        One of ``available`` as given, or ``default``.
    """
    offered: dict[str, str] = {}
    for locale in available:
        normal = normalize_locale(locale)
        if normal is not None:
            offered.setdefault(normal, locale)
    ranges = parse_accept_language(header)
    refused = {tag for tag, weight in ranges if weight == 0}
    for tag, weight in ranges:
        if weight == 0:
            break
        if tag == "*":
            usable = [n for n in offered if n not in refused]
            if normalize_locale(default) in usable or not usable:
                return default
            return offered[usable[0]]
        for candidate in fallback_chain(tag, default=tag):
            if candidate in offered and candidate not in refused:
                return offered[candidate]
        for normal, original in offered.items():
            if normal.startswith(tag + "-") and normal not in refused:
                return original
    return default
