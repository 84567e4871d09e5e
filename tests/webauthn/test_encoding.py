"""Strict base64url and the strict CBOR subset."""

from __future__ import annotations

import base64

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.errors import MalformedDataError
from mfakit.webauthn._b64 import b64url_decode, b64url_encode
from mfakit.webauthn._cbor import MAX_DEPTH, decode_prefix, decode_single


def dec(text: object) -> bytes:
    return b64url_decode(text, field="x", max_len=100)


@given(st.binary(max_size=60))
def test_b64_round_trip(data: bytes) -> None:
    """Every byte string survives encode then strict decode."""
    assert dec(b64url_encode(data)) == data


@pytest.mark.parametrize(
    "text",
    ["AA==", "AA=", "A", "AB", "AAA+", "AAA/", "AA A", "AA\n", "ÀAAA", "AAB", "AAd"],
)
def test_b64_rejects_non_canonical_or_foreign(text: str) -> None:
    """Padding, the standard alphabet, whitespace, bad lengths and dirty tail bits are refused."""
    with pytest.raises(MalformedDataError):
        dec(text)


def test_b64_rejects_non_string() -> None:
    """Only text is base64url."""
    with pytest.raises(MalformedDataError):
        dec(b"AAAA")


def test_b64_enforces_max_len() -> None:
    """A value over its size limit is refused before decoding."""
    with pytest.raises(MalformedDataError):
        b64url_decode("A" * 8, field="x", max_len=4)


@given(st.text(max_size=40))
def test_b64_random_text_only_malformed(text: str) -> None:
    """Random text decodes to what Python's decoder gives, or fails with MalformedDataError."""
    try:
        out = dec(text)
    except MalformedDataError:
        return
    assert base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)) == out


@pytest.mark.parametrize(
    "value",
    [
        0,
        23,
        24,
        255,
        256,
        65536,
        2**32,
        2**64 - 1,
        -1,
        -(2**64),
        b"",
        b"ab",
        "",
        "é",
        [],
        [1, [2, [3]]],
        {},
        {1: b"x", "a": [True, False, None]},
        1.5,
        0.1,
    ],
)
def test_cbor_decodes_what_cbor2_encodes(value: object) -> None:
    """The subset round-trips cbor2's encoding of every accepted type."""
    assert decode_single(cbor2.dumps(value), field="x") == value


@pytest.mark.parametrize(
    "data",
    [
        b"",  # nothing
        b"\xa1\x01",  # truncated map
        b"\x19\x01",  # truncated uint16
        b"\x1a\x00",  # truncated uint32
        b"\x1b\x00",  # truncated uint64
        b"\x18",  # truncated uint8
        b"\x42a",  # truncated bytes
        b"\x62\xff\xfe",  # invalid UTF-8
        b"\x5f\x41a\xff",  # indefinite bytes
        b"\x9f\x01\xff",  # indefinite array
        b"\xc1\x01",  # tag
        b"\xf7",  # undefined
        b"\xf8\x20",  # one-byte simple value
        b"\xa2\x01\x01\x01\x02",  # duplicate key
        b"\xa1\x41a\x01",  # bytes key
        b"\x01\x02",  # trailing byte
        b"\x9b\xff\xff\xff\xff\xff\xff\xff\xff",  # huge count
        b"\xbb\xff\xff\xff\xff\xff\xff\xff\xff",  # huge map
        b"\x1c",  # reserved additional info
    ],
)
def test_cbor_rejects(data: bytes) -> None:
    """Truncation, indefinite lengths, tags, odd simple values, duplicate keys, trailing bytes."""
    with pytest.raises(MalformedDataError):
        decode_single(data, field="x")


def test_cbor_depth_limit() -> None:
    """Nesting deeper than MAX_DEPTH is refused (no recursion blow-up)."""
    deep = b"\x81" * (MAX_DEPTH + 1) + b"\x00"
    with pytest.raises(MalformedDataError):
        decode_single(deep, field="x")
    ok = b"\x81" * MAX_DEPTH + b"\x00"
    assert decode_single(ok, field="x") is not None


def test_cbor_prefix_reports_end() -> None:
    """decode_prefix returns the offset after the item."""
    assert decode_prefix(b"\x01\x02", 0, field="x") == (1, 1)


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_cbor_random_bytes_only_malformed(data: bytes) -> None:
    """Random bytes decode or raise MalformedDataError, nothing else."""
    try:
        value = decode_single(data, field="x")
    except MalformedDataError:
        return
    # repr, because NaN is unequal to itself.
    assert repr(cbor2.loads(data)) == repr(value)


@settings(max_examples=200)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**64), 2**64 - 1)
        | st.binary(max_size=8)
        | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.integers(-50, 50) | st.text(max_size=4), inner, max_size=4)
        ),
        max_leaves=12,
    )
)
def test_cbor_agrees_with_cbor2(value: object) -> None:
    """Whatever cbor2 encodes from the accepted types decodes back equal."""
    assert decode_single(cbor2.dumps(value), field="x") == value
