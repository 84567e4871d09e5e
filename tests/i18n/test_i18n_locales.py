"""Locale tags, fallback chains and the Accept-Language header."""

from __future__ import annotations

import pytest

from mfakit.i18n import choose_locale, fallback_chain, normalize_locale, parse_accept_language

AVAILABLE = ("en", "fr")


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("fr", "fr"),
        ("FR-fr", "fr-FR"),
        ("fr_FR.UTF-8@euro", "fr-FR"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("de-CH-1996", "de-CH-1996"),
        ("", None),
        ("*", None),
        ("f", None),
        ("fr--FR", None),
        ("12", None),
        ("en-GB;q=1", None),
    ],
)
def test_normalize_locale(tag: str, expected: str | None) -> None:
    """BCP 47 and POSIX spellings give one canonical tag; junk gives None."""
    assert normalize_locale(tag) == expected


def test_fallback_chain_goes_to_language_then_default() -> None:
    """A regional tag falls back to its language, then to English."""
    assert fallback_chain("fr_CA") == ("fr-CA", "fr", "en")
    assert fallback_chain("zh-Hant-TW") == ("zh-Hant-TW", "zh-Hant", "zh", "en")
    assert fallback_chain("en-GB") == ("en-GB", "en")
    assert fallback_chain(None) == ("en",)
    assert fallback_chain("!!") == ("en",)
    assert fallback_chain("de", default="fr") == ("de", "fr")


def test_parse_sorts_by_weight_keeping_header_order() -> None:
    """Ranges come most preferred first; equal weights keep their order."""
    header = "en;q=0.8, fr-CH, de;q=0.8, *;q=0.1, fr"
    assert parse_accept_language(header) == [
        ("fr-CH", 1.0),
        ("fr", 1.0),
        ("en", 0.8),
        ("de", 0.8),
        ("*", 0.1),
    ]


@pytest.mark.parametrize("header", [None, "", "   ", ",,,", ";q=0.5", "12, !!;q=1"])
def test_parse_empty_or_junk_gives_nothing(header: str | None) -> None:
    """Nothing readable gives an empty list, never an exception."""
    assert parse_accept_language(header) == []


def test_parse_skips_bad_weights() -> None:
    """A range whose q is not a valid qvalue is dropped, the others kept."""
    header = "fr;q=2, de;q=abc, it;q=0.5;q=x, es;Q=0.3, en;q=1.000, nl;q=0.1234"
    assert parse_accept_language(header) == [("en", 1.0), ("es", 0.3)]


def test_parse_caps_huge_headers() -> None:
    """A header of thousands of ranges is cut, not parsed in full."""
    ranges = parse_accept_language(",".join(["fr"] * 10_000))
    assert 0 < len(ranges) <= 64


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("en-GB,en;q=0.9", "en"),
        ("de-DE, fr;q=0.5", "fr"),
        ("de, it", "en"),
        ("*", "en"),
        ("de, *;q=0.5", "en"),
        ("en;q=0, *", "fr"),
        ("en;q=0, fr;q=0", "en"),
        ("fr;q=0, fr-CA", "en"),
        ("", "en"),
        (None, "en"),
        ("garbage;;;=", "en"),
        ("fr;q=0.1, en;q=0.2", "en"),
    ],
)
def test_choose_locale(header: str | None, expected: str) -> None:
    """The best available locale, with fallbacks, wildcards and refusals."""
    assert choose_locale(header, AVAILABLE) == expected


def test_choose_locale_prefix_match_and_spelling() -> None:
    """A bare language matches a regional locale, returned as the host spelled it."""
    assert choose_locale("fr", ["en", "fr_CA"]) == "fr_CA"
    assert choose_locale("pt-BR", ["pt_BR", "pt"]) == "pt_BR"
    assert choose_locale("de", ["en"], default="en-US") == "en-US"
