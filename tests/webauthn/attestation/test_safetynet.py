"""The android-safetynet format (WebAuthn L3 §8.5) and the compact JWS reader."""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.errors import (
    ConfigurationError,
    InvalidAttestationError,
    InvalidSignatureError,
    MalformedDataError,
)
from mfakit.testing._attestation_builders import AttestationBuilder, ecdsa_raw
from mfakit.webauthn._jws import parse_compact_jws

from ._support import NOW, register


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_valid_safetynet_is_basic_and_trusted(builder: AttestationBuilder) -> None:
    """A fresh response from attest.android.com, chained to the test root, verifies."""
    result = register(builder, builder.android_safetynet(now=NOW))
    assert (result.fmt, result.attestation_type, result.trusted) == (
        "android-safetynet",
        "basic",
        True,
    )


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("ver", InvalidAttestationError, "needs ver and response"),
        ("nonce", InvalidAttestationError, "nonce"),
        ("cts_profile", InvalidAttestationError, "ctsProfileMatch"),
        ("timestamp", InvalidAttestationError, "outside the window"),
        ("hostname", InvalidAttestationError, "attest.android.com"),
        ("signature", InvalidSignatureError, "safetynet response signature"),
        ("not_jws", InvalidAttestationError, "does not parse"),
        ("no_timestamp", InvalidAttestationError, "timestampMs is missing"),
        ("cn_hostname", InvalidAttestationError, "attest.android.com"),
    ],
)
def test_each_fault_is_refused(
    builder: AttestationBuilder, fault: str, error: type[Exception], message: str
) -> None:
    """One mutation of a valid statement gives one specific error."""
    with pytest.raises(error, match=message):
        register(builder, builder.android_safetynet(now=NOW, fault=fault))


def test_host_name_in_cn_alone_is_accepted(builder: AttestationBuilder) -> None:
    """Without a SAN, the leaf's CN must be attest.android.com."""
    assert register(builder, builder.android_safetynet(now=NOW, fault="cn_only")).trusted


def test_cts_profile_can_be_waived(builder: AttestationBuilder) -> None:
    """safetynet_require_cts_profile=False accepts ctsProfileMatch false."""
    built = builder.android_safetynet(now=NOW, fault="cts_profile")
    assert register(builder, built, safetynet_require_cts_profile=False).trusted


def test_window_is_configurable_and_two_sided(builder: AttestationBuilder) -> None:
    """An hour-old response passes a 2 h window; a response from the future fails."""
    old = builder.android_safetynet(now=NOW, fault="timestamp")
    assert register(builder, old, safetynet_max_age=timedelta(hours=2)).trusted
    future = builder.android_safetynet(now=NOW + timedelta(minutes=5))
    with pytest.raises(InvalidAttestationError, match="outside the window"):
        register(builder, future)


def test_needs_now(builder: AttestationBuilder) -> None:
    """Without now= the timestamp cannot be checked: ConfigurationError."""
    with pytest.raises(ConfigurationError, match="needs now"):
        register(builder, builder.android_safetynet(now=NOW), now=None, trust_anchors=())


def test_window_must_be_positive() -> None:
    """A zero window is a configuration error."""
    from mfakit.webauthn import AttestationPolicy

    with pytest.raises(ConfigurationError):
        AttestationPolicy(safetynet_max_age=timedelta(0))


def _jws(header: dict[str, object], payload: dict[str, object], sig: bytes = b"s") -> str:
    return ".".join(
        (_b64url(json.dumps(header).encode()), _b64url(json.dumps(payload).encode()), _b64url(sig))
    )


def test_jws_es256_signature_verifies(builder: AttestationBuilder) -> None:
    """An ES256 JWS (raw r||s) verifies with its P-256 leaf; a flipped bit does not."""
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = builder.leaf(key.public_key())
    header = {
        "alg": "ES256",
        "x5c": [base64.b64encode(leaf.public_bytes(serialization.Encoding.DER)).decode()],
    }
    head = _b64url(json.dumps(header).encode()) + "." + _b64url(b"{}")
    sig = ecdsa_raw(key.sign(head.encode(), ec.ECDSA(hashes.SHA256())))
    parse_compact_jws(head + "." + _b64url(sig), max_bytes=10_000).verify_signature()
    bad = sig[:-1] + bytes([sig[-1] ^ 1])
    with pytest.raises(InvalidSignatureError):
        parse_compact_jws(head + "." + _b64url(bad), max_bytes=10_000).verify_signature()
    with pytest.raises(InvalidSignatureError, match="wrong length"):
        parse_compact_jws(head + "." + _b64url(sig[:10]), max_bytes=10_000).verify_signature()


def test_jws_key_must_fit_alg(builder: AttestationBuilder) -> None:
    """An EC leaf under RS256 and an RSA leaf under ES256 are refused."""
    ec_leaf = builder.leaf(ec.generate_private_key(ec.SECP256R1()).public_key())
    token = builder.safetynet_jws({"a": 1}).decode()
    x5c = [base64.b64encode(ec_leaf.public_bytes(serialization.Encoding.DER)).decode()]
    with pytest.raises(InvalidSignatureError, match="fit"):
        parse_compact_jws(_jws({"alg": "RS256", "x5c": x5c}, {}), max_bytes=9999).verify_signature()
    rsa_x5c = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["x5c"]
    with pytest.raises(InvalidSignatureError, match="fit"):
        parse_compact_jws(
            _jws({"alg": "ES256", "x5c": rsa_x5c}, {}), max_bytes=9999
        ).verify_signature()


def test_jws_ps256_verifies(builder: AttestationBuilder) -> None:
    """PS256 uses PSS with the digest length as salt."""
    from mfakit.testing._attestation_builders import _rsa_key

    token = builder.safetynet_jws({"a": 1}).decode()
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    header["alg"] = "PS256"
    head = _b64url(json.dumps(header).encode()) + "." + _b64url(b"{}")
    sig = _rsa_key().sign(
        head.encode(), padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()
    )
    parse_compact_jws(head + "." + _b64url(sig), max_bytes=99_999).verify_signature()


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (b"\xff", "ASCII"),
        (5, "string"),
        ("a.b", "three segments"),
        ("x" * 20, "too large"),
        ("a=.b.c", "base64url"),
        ("a.b.c", "base64url|JSON"),
        (_jws({"alg": "none", "x5c": []}, {}), "alg"),
        (_jws({"alg": "HS256", "x5c": []}, {}), "alg"),
        (_jws({"alg": "RS256", "x5c": ["AA=="], "crit": ["b64"]}, {}), "not supported"),
        (_jws({"alg": "RS256", "x5u": "https://x"}, {}), "not supported"),
        (_jws({"alg": "RS256"}, {}), "x5c"),
        (_jws({"alg": "RS256", "x5c": [1]}, {}), "not a string"),
        (_jws({"alg": "RS256", "x5c": ["AAAA"]}, {}), "does not parse"),
        (_b64url(b"[1]") + "." + _b64url(b"{}") + ".c2ln", "JSON object"),
        (_b64url(b'{"a":1,"a":2}') + "." + _b64url(b"{}") + ".c2ln", "not JSON"),
    ],
)
def test_jws_parser_refuses(token: object, message: str) -> None:
    """Every malformed or unsupported token is MalformedDataError."""
    with pytest.raises(MalformedDataError, match=message):
        parse_compact_jws(token, max_bytes=19 if token == "x" * 20 else 10_000)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_jws_parser_fuzz(token: bytes | str) -> None:
    """Random tokens parse or raise MalformedDataError."""
    with contextlib.suppress(MalformedDataError):
        parse_compact_jws(token, max_bytes=10_000)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from("A-_.=x{"))
def test_safetynet_fuzz_mutated_response(index: int, char: str) -> None:
    """A mutated SafetyNet response ends in an MfaError verification or parse error."""
    builder = _BUILDER
    built = _BUILT
    response = bytearray(built.att_stmt["response"])
    response[index % len(response)] = ord(char)
    from mfakit.webauthn.attestation import _android_safetynet as _fmt_android_safetynet
    from mfakit.webauthn.attestation._options import FormatOptions

    from ._support import parts

    auth, key = parts(built)
    stmt = dict(built.att_stmt, response=bytes(response))
    with contextlib.suppress(InvalidAttestationError, InvalidSignatureError):
        _fmt_android_safetynet.verify(
            stmt, auth, built.client_data_hash, key, FormatOptions(now=NOW)
        )
    assert builder.root is not None


_BUILDER = AttestationBuilder()
_BUILT = _BUILDER.android_safetynet(now=NOW)


def test_jws_segments_use_the_strict_base64url_decoder() -> None:
    """A segment with a character outside base64url is refused, not silently skipped."""
    header = _b64url(json.dumps({"alg": "RS256", "x5c": ["AAAA"]}).encode())
    token = header[:4] + "!!!!" + header[4:] + "." + _b64url(b"{}") + ".c2ln"
    with pytest.raises(MalformedDataError, match="header is not base64url"):
        parse_compact_jws(token, max_bytes=10_000)
