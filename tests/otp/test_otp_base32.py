"""Base32 helpers and secret generation."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.errors import ConfigurationError, MalformedDataError
from mfakit.otp import decode_base32, encode_base32, generate_secret


def _attempt(text: str) -> bytes | MalformedDataError:
    try:
        return decode_base32(text)
    except MalformedDataError as exc:
        return exc


def test_encode_unpadded_upper() -> None:
    """Encoding is upper case and unpadded by default, padded on request."""
    assert encode_base32(b"12345678901234567890") == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert encode_base32(b"abc") == "MFRGG"
    assert encode_base32(b"abc", padding=True) == "MFRGG==="


def test_encode_refuses_text() -> None:
    """encode_base32 takes bytes."""
    with pytest.raises(ConfigurationError):
        encode_base32("abc")  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["MFRGG", "mfrgg", "MFRGG===", "mf rg g", " MfRgG\t", "mfrgg==="])
def test_decode_is_lenient_on_form(text: str) -> None:
    """Lower case, whitespace and missing padding are accepted."""
    assert decode_base32(text) == b"abc"


@pytest.mark.parametrize(
    "text",
    ["MFRG1", "MFRGG=", "MFRGG====", "MF=RGG", "M", "MFR", "MFRGGZ", "ÄFRGG", "MFRGß", "mfrgg=a"],
)
def test_decode_refuses_bad_input(text: str) -> None:
    """Bad characters, wrong padding and impossible lengths are MalformedDataError."""
    with pytest.raises(MalformedDataError) as info:
        decode_base32(text)
    assert info.value.field == "base32"


def test_decode_refuses_non_text() -> None:
    """Bytes or None are malformed input."""
    for value in (b"MFRGG", None, 5):
        with pytest.raises(MalformedDataError):
            decode_base32(value)  # type: ignore[arg-type]


@settings(max_examples=150)
@given(data=st.binary(max_size=80), padding=st.booleans(), lower=st.booleans())
def test_round_trip(data: bytes, padding: bool, lower: bool) -> None:
    """decode(encode(x)) == x, with or without padding, in any case."""
    text = encode_base32(data, padding=padding)
    assert decode_base32(text.lower() if lower else text) == data


@settings(max_examples=300)
@given(text=st.text(max_size=40))
def test_decode_random_text_only_documented_outcomes(text: str) -> None:
    """Random text either decodes (agreeing with the stdlib) or is MalformedDataError."""
    try:
        result = decode_base32(text)
    except MalformedDataError:
        return
    compact = "".join(text.split()).upper().rstrip("=")
    assert result == base64.b32decode(compact + "=" * (-len(compact) % 8))


@settings(max_examples=150)
@given(
    text=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcxyz= \t-01", max_size=40),
)
def test_decode_near_alphabet_only_documented_outcomes(text: str) -> None:
    """Text close to the alphabet decodes or raises MalformedDataError, nothing else."""
    outcome = _attempt(text)
    if isinstance(outcome, MalformedDataError):
        assert outcome.field == "base32"
    else:
        compact = "".join(text.split()).upper().rstrip("=")
        assert len(outcome) == len(compact) * 5 // 8


def test_generate_secret_default_and_size() -> None:
    """20 random bytes by default; other sizes on request; never twice the same."""
    first, second = generate_secret(), generate_secret()
    assert len(first) == 20
    assert first != second
    assert len(generate_secret(32)) == 32
    assert len(generate_secret(16)) == 16


@pytest.mark.parametrize("nbytes", [15, 0, -1, 1025, 20.0, "20", True])
def test_generate_secret_refuses_bad_sizes(nbytes: object) -> None:
    """Fewer than 16 bytes (or not an int) is refused."""
    with pytest.raises(ConfigurationError):
        generate_secret(nbytes)  # type: ignore[arg-type]
