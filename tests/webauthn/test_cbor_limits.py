"""mfakit's CBOR limits, enforced in front of cbor2, seen through the public parsers."""

from __future__ import annotations

import cbor2
import pytest

from mfakit.errors import MalformedDataError
from mfakit.webauthn import parse_credential_public_key
from mfakit.webauthn._cbor import MAX_DEPTH
from mfakit.webauthn.low_level import (
    MAX_ATTESTATION_BYTES,
    MAX_COSE_KEY_BYTES,
    parse_attestation_object,
    parse_authenticator_data,
)

from .helpers import AT, ED, UP, Credential, auth_data

CRED = Credential.new(-7)
COSE = CRED.cose
AUTH_DATA = auth_data(flags=UP | AT, cred_id=CRED.cred_id, cose=COSE)


def _object(stmt_cbor: bytes = b"\xa0", auth: bytes = AUTH_DATA) -> bytes:
    """An attestation object with a hand-encoded attStmt, in canonical key order."""
    return b"\xa3cfmtdnone" + b"gattStmt" + stmt_cbor + b"hauthData" + cbor2.dumps(auth)


def _nested(depth: int) -> bytes:
    """``depth`` nested one-element arrays around 0."""
    return b"\x81" * depth + b"\x00"


def test_hand_encoded_object_parses() -> None:
    """The helper's attestation object is well formed (the control for the cases below)."""
    assert parse_attestation_object(_object()).fmt == "none"


def test_nesting_at_the_limit_is_accepted() -> None:
    """A statement whose containers reach MAX_DEPTH in all is accepted."""
    stmt = b"\xa1ax" + _nested(MAX_DEPTH - 2)
    assert parse_attestation_object(_object(stmt)).att_stmt["x"] is not None


def test_over_deep_nesting_is_refused() -> None:
    """One container deeper than MAX_DEPTH is refused, before cbor2 decodes anything."""
    stmt = b"\xa1ax" + _nested(MAX_DEPTH - 1)
    with pytest.raises(MalformedDataError, match="deeply"):
        parse_attestation_object(_object(stmt))


def test_very_deep_nesting_is_refused_without_recursion() -> None:
    """Thousands of nested arrays are refused quickly, without a RecursionError."""
    with pytest.raises(MalformedDataError):
        parse_credential_public_key(b"\x81" * 4000 + b"\x00")
    with pytest.raises(MalformedDataError):
        parse_attestation_object(b"\x81" * 60_000 + b"\x00")


def test_duplicate_key_in_the_attestation_object_is_refused() -> None:
    """Two "fmt" members are refused, not resolved to the last one."""
    raw = b"\xa4cfmtdnonecfmtfpacked" + _object()[10:]
    with pytest.raises(MalformedDataError) as info:
        parse_attestation_object(raw)
    assert info.value.field == "attestationObject"


def test_duplicate_key_in_a_cose_key_is_refused() -> None:
    """A COSE key naming its algorithm twice is refused."""
    raw = b"\xa6\x03\x26" + COSE[1:]
    with pytest.raises(MalformedDataError):
        parse_credential_public_key(raw)


def test_duplicate_key_with_a_longer_encoding_is_refused() -> None:
    """The same integer key written in two encodings (0x03 and 0x1803) is a duplicate."""
    raw = b"\xa6\x18\x03\x26" + COSE[1:]
    with pytest.raises(MalformedDataError):
        parse_credential_public_key(raw)


def test_duplicate_key_in_extensions_is_refused() -> None:
    """Authenticator extension outputs with a repeated key are refused."""
    raw = auth_data(flags=UP) + b"\xa2ax\x01ax\x02"
    raw = raw[:32] + bytes([UP | ED]) + raw[33:]
    with pytest.raises(MalformedDataError) as info:
        parse_authenticator_data(raw)
    assert info.value.field == "extensions"


def test_trailing_bytes_after_the_attestation_object_are_refused() -> None:
    """Bytes after the attestation object's map are refused."""
    with pytest.raises(MalformedDataError, match="trailing"):
        parse_attestation_object(_object() + b"\x00")


def test_trailing_bytes_after_a_cose_key_are_refused() -> None:
    """A stored COSE key followed by anything is refused."""
    with pytest.raises(MalformedDataError, match="trailing"):
        parse_credential_public_key(COSE + b"\xa0")


def test_trailing_bytes_in_authenticator_data_are_refused() -> None:
    """Authenticator data with bytes after its COSE key (and no ED flag) is refused."""
    with pytest.raises(MalformedDataError, match="trailing"):
        parse_authenticator_data(AUTH_DATA + b"\x00")


def test_indefinite_attestation_object_is_refused() -> None:
    """An indefinite-length map as the attestation object is refused (CTAP2 canonical form)."""
    raw = b"\xbf" + _object()[1:] + b"\xff"
    with pytest.raises(MalformedDataError, match="indefinite"):
        parse_attestation_object(raw)


def test_indefinite_string_in_the_statement_is_refused() -> None:
    """An indefinite-length byte string inside attStmt is refused."""
    stmt = b"\xa1csig\x5f\x41\x01\x41\x02\xff"
    with pytest.raises(MalformedDataError, match="indefinite"):
        parse_attestation_object(_object(stmt))


def test_indefinite_cose_key_is_refused() -> None:
    """A COSE key encoded as an indefinite-length map is refused."""
    raw = b"\xbf" + COSE[1:] + b"\xff"
    with pytest.raises(MalformedDataError, match="indefinite"):
        parse_credential_public_key(raw)


def test_indefinite_extensions_are_refused() -> None:
    """Authenticator extension outputs as an indefinite-length map are refused."""
    raw = auth_data(flags=UP | ED) + b"\xbfax\x01\xff"
    with pytest.raises(MalformedDataError, match="indefinite"):
        parse_authenticator_data(raw)


def test_oversized_attestation_object_is_refused() -> None:
    """An attestation object over MAX_ATTESTATION_BYTES is refused before decoding."""
    big = _object(cbor2.dumps({"x": bytes(MAX_ATTESTATION_BYTES)}))
    with pytest.raises(MalformedDataError, match="too large"):
        parse_attestation_object(big)


def test_oversized_cose_key_is_refused() -> None:
    """A COSE key over MAX_COSE_KEY_BYTES is refused before decoding."""
    with pytest.raises(MalformedDataError, match="too large"):
        parse_credential_public_key(cbor2.dumps({1: 2, -9: bytes(MAX_COSE_KEY_BYTES)}))


def test_length_beyond_the_input_is_refused_without_allocating() -> None:
    """A header announcing 2**64-1 items or bytes is refused as truncated."""
    for head in (b"\x9b", b"\x5b", b"\xbb"):
        with pytest.raises(MalformedDataError, match="truncated"):
            parse_credential_public_key(head + b"\xff" * 8)


@pytest.mark.parametrize(
    ("encoded", "why"),
    [
        (b"\xc1\x00", "a date tag"),
        (b"\xd8\x1c\x81\xd8\x1d\x00", "a shared reference (cbor2 builds a cycle)"),
        (b"\xd9\x01\x02\x80", "a set tag"),
        (b"\xf7", "undefined"),
        (b"\xf0", "an unassigned simple value"),
    ],
)
def test_tags_and_other_simple_values_are_refused(encoded: bytes, why: str) -> None:
    """Tags and simple values other than false, true and null never reach cbor2."""
    with pytest.raises(MalformedDataError):
        parse_attestation_object(_object(b"\xa1ax" + encoded))


@pytest.mark.parametrize("key", [b"\x41\x01", b"\x80", b"\xa0", b"\xf5", b"\xf9\x3c\x00"])
def test_map_keys_other_than_integers_and_text_are_refused(key: bytes) -> None:
    """A byte string, array, map, boolean or float as a map key is refused."""
    with pytest.raises(MalformedDataError, match="key"):
        parse_credential_public_key(b"\xa1" + key + b"\x00")


def test_invalid_utf8_text_is_refused() -> None:
    """Text that is not UTF-8 is refused by cbor2 and reported as malformed."""
    with pytest.raises(MalformedDataError):
        parse_attestation_object(_object(b"\xa1ax\x62\xc3\x28"))


@pytest.mark.parametrize("encoded", [b"\xff", b"\x1c", b"\xf8\x10"])
def test_other_malformed_cbor_gets_the_generic_message(encoded: bytes) -> None:
    """A stray break, a reserved header or a bad simple value is "malformed CBOR"."""
    from mfakit.webauthn._cbor import decode_single

    with pytest.raises(MalformedDataError, match=r"^malformed CBOR$"):
        decode_single(encoded, field="x")


def test_the_tag_table_refuses_every_tag_and_lists_none() -> None:
    """cbor2 finds a refusal for any tag number; the mapping itself enumerates nothing."""
    from mfakit.webauthn._cbor import _NO_TAGS, _refuse_tag

    assert _NO_TAGS[0] is _NO_TAGS[2**64 - 1] is _refuse_tag
    assert (len(_NO_TAGS), list(_NO_TAGS)) == (0, [])
