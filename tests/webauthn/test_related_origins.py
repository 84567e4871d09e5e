"""Related origin requests (WebAuthn Level 3 §5.11): the document and the coverage check."""

from __future__ import annotations

import json

import pytest

from mfakit.errors import ConfigurationError, MfaError
from mfakit.webauthn import (
    MAX_ORIGIN_LABELS,
    RELATED_ORIGINS_PATH,
    origin_covered,
    related_origins_document,
)


def test_document_is_canonical_json_deduplicated_in_order() -> None:
    text = related_origins_document(
        ["https://example.co.uk", "https://example.de", "https://example.co.uk"]
    )
    assert text == '{"origins":["https://example.co.uk","https://example.de"]}'
    assert json.loads(text) == {"origins": ["https://example.co.uk", "https://example.de"]}
    # A generator works, and so do ports and http on localhost.
    text = related_origins_document(o for o in ("https://a.example:8443", "http://localhost:8000"))
    assert json.loads(text)["origins"] == ["https://a.example:8443", "http://localhost:8000"]


def test_spec_constants() -> None:
    assert RELATED_ORIGINS_PATH == "/.well-known/webauthn"
    assert MAX_ORIGIN_LABELS == 5


@pytest.mark.parametrize(
    "origin",
    [
        "example.com",
        "ftp://example.com",
        "http://example.com",
        "https://example.com/",
        "https://example.com/login",
        "https://example.com?x=1",
        "https://example.com#top",
        "https://example.com?",
        "https://user@example.com",
        "https://Example.com",
        "HTTPS://example.com",
        "https://example.com:443",
        "http://localhost:80",
        "https://example.com:99999",
        "https://",
        "",
        "https://" + "a" * 3000 + ".example",
        7,
        None,
    ],
)
def test_refuses_what_is_not_a_serialized_secure_origin(origin: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        related_origins_document([origin])  # type: ignore[list-item]
    assert isinstance(caught.value, MfaError)
    # Log-safe: the message names the position, never the value.
    if isinstance(origin, str) and "." in origin:
        assert origin not in str(caught.value)
    assert "origins[0]" in str(caught.value)


@pytest.mark.parametrize("origins", [[], (), "https://example.com", b"https://example.com"])
def test_refuses_empty_or_a_single_string(origins: object) -> None:
    with pytest.raises(ConfigurationError):
        related_origins_document(origins)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("origin", "rp_id", "related", "covered"),
    [
        ("https://example.com", "example.com", (), True),
        ("https://login.example.com", "example.com", (), True),
        ("https://a.b.example.com:8443", "example.com", (), True),
        ("http://localhost:8000", "localhost", (), True),
        ("http://app.localhost", "localhost", (), True),
        # Not a subdomain: a suffix match on the text is not enough.
        ("https://badexample.com", "example.com", (), False),
        ("https://example.com", "login.example.com", (), False),
        ("https://example.co.uk", "example.com", (), False),
        ("https://example.co.uk", "example.com", ("https://example.co.uk",), True),
        # Listed origins match exactly, port included.
        ("https://example.co.uk:8443", "example.com", ("https://example.co.uk",), False),
        ("http://localhost:8000", "example.com", (), False),
    ],
)
def test_origin_covered(origin: str, rp_id: str, related: tuple[str, ...], covered: bool) -> None:
    assert origin_covered(origin, rp_id, related) is covered


def test_origin_covered_refuses_bad_arguments() -> None:
    with pytest.raises(ConfigurationError):
        origin_covered("http://example.com", "example.com")
    with pytest.raises(ConfigurationError):
        origin_covered("https://example.co.uk", "example.com", ("https://x/path",))
    with pytest.raises(ConfigurationError):
        origin_covered("https://example.co.uk", "")
