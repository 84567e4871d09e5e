"""The android-key format (WebAuthn L3 §8.4) and its DER reader."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.errors import InvalidAttestationError, InvalidSignatureError, MalformedDataError
from mfakit.testing._attestation_builders import AttestationBuilder, der_key_description
from mfakit.webauthn.attestation import _android_key as _fmt_android_key
from mfakit.webauthn.attestation import _der
from mfakit.webauthn.attestation._android_key import parse_key_description

from ._support import parts, register


def test_valid_android_key_is_basic_and_trusted(builder: AttestationBuilder) -> None:
    """A TEE-generated signing key attested under the test root verifies."""
    result = register(builder, builder.android_key())
    assert (result.fmt, result.attestation_type, result.trusted) == ("android-key", "basic", True)


def test_chain_without_root_is_completed_from_the_anchors(builder: AttestationBuilder) -> None:
    """x5c is (leaf, intermediate): the configured root completes the chain."""
    built = builder.android_key()
    assert len(built.att_stmt["x5c"]) == 2
    assert register(builder, built).trusted
    assert not register(builder, built, trust_anchors=[AttestationBuilder().root]).trusted


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("signature", InvalidSignatureError, "android-key attestation signature"),
        ("key_mismatch", InvalidAttestationError, "not the credential key"),
        ("challenge", InvalidAttestationError, "attestationChallenge"),
        ("all_applications", InvalidAttestationError, "all applications"),
        ("origin", InvalidAttestationError, "not generated"),
        ("purpose", InvalidAttestationError, "purpose is not SIGN"),
        ("software_only", InvalidAttestationError, "not generated"),
        ("no_extension", InvalidAttestationError, "lacks the key description"),
        ("bad_der", InvalidAttestationError, "does not parse"),
    ],
)
def test_each_fault_is_refused(
    builder: AttestationBuilder, fault: str, error: type[Exception], message: str
) -> None:
    """One mutation of a valid statement gives one specific error."""
    with pytest.raises(error, match=message):
        register(builder, builder.android_key(fault=fault))


def test_software_enforced_lists_need_the_policy(builder: AttestationBuilder) -> None:
    """origin/purpose only in softwareEnforced pass with android_key_allow_software."""
    result = register(
        builder, builder.android_key(fault="software_only"), android_key_allow_software=True
    )
    assert result.trusted


def test_statement_members(builder: AttestationBuilder) -> None:
    """Missing alg/sig/x5c and unknown members are refused."""
    built = builder.android_key()
    auth, key = parts(built)
    for stmt in ({"alg": -7, "sig": b"x"}, dict(built.att_stmt, extra=1)):
        with pytest.raises(InvalidAttestationError):
            _fmt_android_key.verify(stmt, auth, built.client_data_hash, key)


def test_key_description_fields() -> None:
    """The builder's KeyDescription reads back: version, level, challenge, lists."""
    description = parse_key_description(der_key_description(b"c" * 32))
    assert description.attestation_version == 3
    assert description.attestation_security_level == 1
    assert description.attestation_challenge == b"c" * 32
    assert description.tee_enforced.origin == 0
    assert description.tee_enforced.purpose == frozenset({2})
    assert description.software_enforced.purpose == frozenset()


@pytest.mark.parametrize(
    ("der", "message"),
    [
        (b"", "truncated"),
        (b"\x30\x80\x00\x00", "indefinite"),
        (b"\x30\x81\x01\x00", "non-minimal length"),
        (b"\x30\x82\x00\x01\x00", "non-minimal length"),
        (b"\x30\x02\x02\x00", "too few"),
        (b"\x30\x01", "truncated content"),
        (b"\x30\x00\x00", "trailing"),
        (b"\x04\x00", "wrong tag"),
        (b"\x30\x00", "too few"),
        (b"\x1f\x80\x01\x00", "non-minimal tag"),
        (b"\x1f\x05\x00", "non-minimal tag"),
        (b"\x1f\x81\x81\x81\x81\x01\x00", "too large"),
        (b"\x1f\x81", "truncated tag"),
        (b"\x30", "truncated length"),
        (b"\x30\x85\x01\x00\x00\x00\x00", "bad length"),
    ],
)
def test_der_reader_refuses(der: bytes, message: str) -> None:
    """The DER reader refuses every non-DER or truncated encoding."""
    with pytest.raises(MalformedDataError, match=message):
        parse_key_description(der)


def test_der_integer_rules() -> None:
    """INTEGERs must be non-empty and minimal; ENUMERATED is checked by tag."""
    for content, message in (
        (b"", "bad length"),
        (b"\x00\x01", "minimally"),
        (b"\xff\x80", "minimally"),
    ):
        element = _der.Element(0, False, 2, content)
        with pytest.raises(MalformedDataError, match=message):
            _der.read_integer(element, what="n")
    assert _der.read_integer(_der.Element(0, False, 2, b"\x00\x80"), what="n") == 128
    assert _der.read_integer(_der.Element(0, False, 2, b"\xff\x7f"), what="n") == -129


def test_der_depth_limit() -> None:
    """Nesting beyond MAX_DEPTH is refused."""
    element = _der.Element(0, True, 16, b"\x30\x00", _der.MAX_DEPTH)
    with pytest.raises(MalformedDataError, match="too deep"):
        _der.children(element)
    with pytest.raises(MalformedDataError, match="primitive"):
        _der.children(_der.Element(0, False, 4, b""))


def _with_software(raw_list: bytes) -> bytes:
    body = (
        b"\x02\x01\x03\x0a\x01\x01\x02\x01\x04\x0a\x01\x01\x04\x01c\x04\x00"
        + raw_list
        + b"\x30\x00"
    )
    return b"\x30" + bytes([len(body)]) + body


@pytest.mark.parametrize(
    ("software", "message"),
    [
        (b"\x30\x03\x02\x01\x00", "not \\[n\\] EXPLICIT"),
        (b"\x30\x0e" + b"\xa1\x05\x31\x03\x02\x01\x02" * 2, "out of order"),
        (b"\x30\x06\xa1\x04\x31\x00\x31\x00", "one value"),
        (b"\x30\x07\xbf\x84\x58\x03\x05\x01\x00", "has content"),
        (b"\x30\x05\xa1\x03\x02\x01\x02", "wrong tag"),
    ],
)
def test_authorization_list_rules(software: bytes, message: str) -> None:
    """Entries are [n] EXPLICIT, in order, one value each; purpose a SET; NULL empty."""
    with pytest.raises(MalformedDataError, match=message):
        parse_key_description(_with_software(software))


def test_key_description_must_be_bytes() -> None:
    """A non-bytes value is MalformedDataError."""
    with pytest.raises(MalformedDataError):
        parse_key_description("x")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_der_reader_fuzz_random(data: bytes) -> None:
    """Random bytes parse or raise MalformedDataError."""
    with contextlib.suppress(MalformedDataError):
        parse_key_description(data)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 200), st.integers(0, 255), st.integers(0, 200))
def test_der_reader_fuzz_mutated(index: int, value: int, cut: int) -> None:
    """A mutated, truncated KeyDescription parses or raises MalformedDataError."""
    raw = bytearray(der_key_description(b"c" * 32, software={"all_applications": True}))
    raw[index % len(raw)] = value
    with contextlib.suppress(MalformedDataError):
        parse_key_description(bytes(raw[: len(raw) - cut % len(raw)]))


def test_statement_alg_must_fit_the_leaf(builder: AttestationBuilder) -> None:
    """alg RS256 with an EC leaf is InvalidAttestationError; an unknown alg is unsupported."""
    from mfakit.errors import UnsupportedAlgorithmError

    built = builder.android_key()
    auth, key = parts(built)
    with pytest.raises(InvalidAttestationError, match="does not match alg"):
        _fmt_android_key.verify(dict(built.att_stmt, alg=-257), auth, built.client_data_hash, key)
    with pytest.raises(UnsupportedAlgorithmError):
        _fmt_android_key.verify(dict(built.att_stmt, alg=-999), auth, built.client_data_hash, key)


def test_other_authorization_tags_are_skipped() -> None:
    """Tags §8.4 does not use (e.g. [2] algorithm) are read over, in order."""
    description = parse_key_description(_with_software(b"\x30\x05\xa2\x03\x02\x01\x03"))
    assert description.software_enforced.origin is None
