"""Parsing: client data, authenticator data, attestation objects, response JSON."""

from __future__ import annotations

import json

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.errors import MalformedDataError
from mfakit.webauthn.low_level import (
    MAX_RESPONSE_BYTES,
    AuthenticatorFlags,
    parse_attestation_object,
    parse_authentication_response,
    parse_authenticator_data,
    parse_client_data,
    parse_registration_response,
)

from .helpers import AT, BE, BS, ED, UP, UV, Credential, assertion, auth_data, b64, registration

CRED = Credential.new(-7)


def test_client_data_fields() -> None:
    """All five members are read and the raw bytes kept."""
    raw = json.dumps(
        {
            "type": "webauthn.get",
            "challenge": b64(b"c" * 16),
            "origin": "https://a.example",
            "crossOrigin": True,
            "topOrigin": "https://top.example",
            "extra": 1,
        }
    ).encode()
    cd = parse_client_data(raw)
    assert (cd.type, cd.challenge, cd.origin) == ("webauthn.get", b"c" * 16, "https://a.example")
    assert cd.cross_origin is True
    assert cd.top_origin == "https://top.example"
    assert cd.raw == raw


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b"not json",
        b'{"type":"webauthn.get","challenge":"AAAA","origin":"o","type":"webauthn.get"}',
        b'{"type":1,"challenge":"AAAA","origin":"o"}',
        b'{"type":"t","challenge":"AAAA"}',
        b'{"type":"t","challenge":"AA==","origin":"o"}',
        b'{"type":"t","challenge":"AAAA","origin":"o","crossOrigin":"true"}',
        b'{"type":"t","challenge":"AAAA","origin":"o","topOrigin":1}',
        b'{"type":"t","challenge":"AAAA","origin":"o","x":NaN}',
        b"\xff\xfe{}",
        b"[" * 100_000,
        b" " * 9000,
    ],
)
def test_client_data_rejects(raw: bytes) -> None:
    """Non-objects, duplicates, wrong types, NaN, non-UTF-8, deep nesting, oversize."""
    with pytest.raises(MalformedDataError):
        parse_client_data(raw)


def test_client_data_must_be_bytes() -> None:
    """Text is not accepted where bytes are expected."""
    with pytest.raises(MalformedDataError):
        parse_client_data("{}")  # type: ignore[arg-type]


def test_authenticator_data_with_credential_and_extensions() -> None:
    """AT and ED data are parsed, and flags come back as an IntFlag."""
    raw = auth_data(
        flags=UP | UV | BE | BS | AT | ED,
        count=7,
        aaguid=b"\x11" * 16,
        cred_id=CRED.cred_id,
        cose=CRED.cose,
        ext={"credProtect": 2},
    )
    ad = parse_authenticator_data(raw)
    assert (
        ad.flags
        == AuthenticatorFlags.UP
        | AuthenticatorFlags.UV
        | AuthenticatorFlags.BE
        | AuthenticatorFlags.BS
        | AuthenticatorFlags.AT
        | AuthenticatorFlags.ED
    )
    assert ad.sign_count == 7
    assert ad.attested_credential_data is not None
    assert ad.attested_credential_data.aaguid == b"\x11" * 16
    assert ad.attested_credential_data.credential_id == CRED.cred_id
    assert ad.attested_credential_data.credential_public_key == CRED.cose
    assert ad.extensions == {"credProtect": 2}
    assert ad.raw == raw


@pytest.mark.parametrize(
    "raw",
    [
        auth_data()[:36],
        auth_data() + b"\x00",
        auth_data(flags=UP | BS),
        auth_data(flags=UP | AT),
        auth_data(flags=UP | AT)[:37] + b"\x00" * 18 + b"\x04\x00" + b"\x00" * 10,
        auth_data(flags=UP | AT, cred_id=b"x" * 1024, cose=CRED.cose),
        auth_data(flags=UP | AT, cred_id=b"x" * 20, cose=CRED.cose)[:70],
        auth_data(flags=UP | AT, cred_id=b"x", cose=cbor2.dumps([1])),
        auth_data(flags=UP | ED),
        auth_data(flags=UP | ED)[:37] + cbor2.dumps([1]),
        auth_data(flags=UP | AT, cred_id=b"x", cose=CRED.cose) + b"\x00",
        auth_data() + b"\x00" * 20000,
    ],
)
def test_authenticator_data_rejects(raw: bytes) -> None:
    """Short, trailing, BS without BE, AT/ED without data, long ids, non-map COSE/extensions."""
    with pytest.raises(MalformedDataError):
        parse_authenticator_data(raw)


def test_authenticator_data_must_be_bytes() -> None:
    """Only bytes are parsed."""
    with pytest.raises(MalformedDataError):
        parse_authenticator_data(bytearray(37))  # type: ignore[arg-type]


def _att(obj: object) -> bytes:
    return cbor2.dumps(obj)


GOOD_AD = auth_data(flags=UP | AT, cred_id=CRED.cred_id, cose=CRED.cose)


def test_attestation_object_parses() -> None:
    """fmt, attStmt and authData come out, with the raw bytes."""
    raw = _att({"fmt": "none", "attStmt": {}, "authData": GOOD_AD})
    obj = parse_attestation_object(raw)
    assert obj.fmt == "none"
    assert dict(obj.att_stmt) == {}
    assert obj.auth_data.raw == GOOD_AD
    assert obj.raw == raw


@pytest.mark.parametrize(
    "raw",
    [
        _att({"fmt": "none", "attStmt": {}, "authData": GOOD_AD}) + b"\x00",
        _att({"fmt": "none", "attStmt": {}}),
        _att({"fmt": "none", "attStmt": {}, "authData": GOOD_AD, "x": 1}),
        _att({"fmt": 1, "attStmt": {}, "authData": GOOD_AD}),
        _att({"fmt": "none", "attStmt": [], "authData": GOOD_AD}),
        _att({"fmt": "none", "attStmt": {}, "authData": "text"}),
        _att({"fmt": "none", "attStmt": {1: 2}, "authData": GOOD_AD}),
        _att(["none", {}, GOOD_AD]),
        b"\xa3\x63fmt\x64none\x63fmt\x64none\x67attStmt\xa0",
        b"\x00" * 70_000,
    ],
)
def test_attestation_object_rejects(raw: bytes) -> None:
    """Trailing bytes, missing/extra/duplicate keys, wrong types, oversize."""
    with pytest.raises(MalformedDataError):
        parse_attestation_object(raw)


def test_attestation_object_must_be_bytes() -> None:
    """Only bytes are parsed."""
    with pytest.raises(MalformedDataError):
        parse_attestation_object("x")  # type: ignore[arg-type]


def test_registration_response_from_dict_str_and_bytes() -> None:
    """The three input forms give the same result."""
    resp = registration(CRED, transports=["usb", "nfc", "usb"])
    parsed = [
        parse_registration_response(x)
        for x in (
            resp,
            json.dumps(resp),
            json.dumps(resp).encode(),
            bytearray(json.dumps(resp), "utf-8"),
        )
    ]
    assert all(p == parsed[0] for p in parsed)
    assert parsed[0].credential_id == CRED.cred_id
    assert parsed[0].transports == ("usb", "nfc")
    assert parsed[0].authenticator_attachment == "cross-platform"


def test_authentication_response_fields() -> None:
    """Signature, user handle and authenticator data are decoded."""
    resp = assertion(CRED, user_handle=b"user-1")
    parsed = parse_authentication_response(resp)
    assert parsed.user_handle == b"user-1"
    assert parsed.credential_id == CRED.cred_id
    assert len(parsed.authenticator_data) == 37


def _set(resp: dict, path: tuple[str, ...], value: object) -> dict:
    out = json.loads(json.dumps(resp))
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


REG = registration(CRED)
ASSERT = assertion(CRED)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("type",), "public_key"),
        (("type",), KeyError),
        (("id",), "other"),
        (("rawId",), KeyError),
        (("rawId",), ""),
        (("rawId",), "AA=="),
        (("response",), KeyError),
        (("response",), "x"),
        (("clientExtensionResults",), []),
        (("response", "clientDataJSON"), KeyError),
        (("response", "attestationObject"), 5),
        (("response", "transports"), "usb"),
        (("response", "transports"), [1]),
        (("response", "transports"), ["usb"] * 17),
    ],
)
def test_registration_response_rejects(path: tuple[str, ...], value: object) -> None:
    """Each structural rule of the Level 3 JSON is enforced."""
    with pytest.raises(MalformedDataError):
        parse_registration_response(_set(REG, path, value))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("response", "signature"), KeyError),
        (("response", "authenticatorData"), "***"),
        (("response", "userHandle"), b64(b"u" * 65)),
    ],
)
def test_authentication_response_rejects(path: tuple[str, ...], value: object) -> None:
    """Missing signature, bad base64url and an over-long user handle are refused."""
    with pytest.raises(MalformedDataError):
        parse_authentication_response(_set(ASSERT, path, value))


def test_unknown_attachment_is_dropped() -> None:
    """An unknown authenticatorAttachment value is ignored, as clients do."""
    parsed = parse_authentication_response(_set(ASSERT, ("authenticatorAttachment",), "usb"))
    assert parsed.authenticator_attachment is None


def test_empty_user_handle_is_none() -> None:
    """An empty userHandle means no handle."""
    parsed = parse_authentication_response(_set(ASSERT, ("response", "userHandle"), ""))
    assert parsed.user_handle is None


@pytest.mark.parametrize("raw", ["[]", "{", b"\xff", 5, None, "x" * (MAX_RESPONSE_BYTES + 1)])
def test_response_container_rejects(raw: object) -> None:
    """Non-object JSON, broken JSON, non-JSON types and oversize input are refused."""
    with pytest.raises(MalformedDataError):
        parse_authentication_response(raw)


def test_extension_results_are_read_only() -> None:
    """clientExtensionResults come back as a read-only mapping."""
    parsed = parse_registration_response(
        _set(REG, ("clientExtensionResults",), {"credProps": {"rk": True}})
    )
    assert parsed.client_extension_results["credProps"]["rk"] is True
    with pytest.raises(TypeError):
        parsed.client_extension_results["x"] = 1  # type: ignore[index]


@settings(max_examples=200)
@given(st.binary(max_size=120))
def test_random_bytes_into_every_parser(data: bytes) -> None:
    """Random bytes make every parser raise MalformedDataError or succeed."""
    for parser in (
        parse_client_data,
        parse_authenticator_data,
        parse_attestation_object,
        parse_registration_response,
        parse_authentication_response,
    ):
        try:
            parsed = parser(data)
        except MalformedDataError:
            continue
        assert parsed is not None


_ATT_RAW = _att({"fmt": "none", "attStmt": {}, "authData": GOOD_AD})


@settings(max_examples=300)
@given(st.integers(0, len(_ATT_RAW) - 1), st.integers(1, 255))
def test_mutated_attestation_object(pos: int, xor: int) -> None:
    """A flipped byte in an attestation object parses or raises MalformedDataError."""
    data = bytearray(_ATT_RAW)
    data[pos] ^= xor
    try:
        obj = parse_attestation_object(bytes(data))
    except MalformedDataError:
        return
    assert obj.raw == bytes(data)


_JSON = json.dumps(ASSERT)


@settings(max_examples=200)
@given(st.integers(0, len(_JSON) - 1), st.characters(codec="utf-8"))
def test_mutated_response_json(pos: int, char: str) -> None:
    """A changed character in the response JSON parses or raises MalformedDataError."""
    text = _JSON[:pos] + char + _JSON[pos + 1 :]
    try:
        parsed = parse_authentication_response(text)
    except MalformedDataError:
        return
    assert parsed.credential_id
