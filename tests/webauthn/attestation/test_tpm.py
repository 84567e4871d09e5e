"""The tpm format (WebAuthn L3 §8.3): every requirement broken once, each with its error."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.errors import (
    InvalidAttestationError,
    InvalidSignatureError,
    MalformedDataError,
    UnsupportedAlgorithmError,
)
from mfakit.testing._attestation_builders import AttestationBuilder, BuiltRegistration
from mfakit.webauthn import CredentialPublicKey
from mfakit.webauthn.attestation import _tpm as _fmt_tpm
from mfakit.webauthn.attestation import _tpm_structures as _tpm
from mfakit.webauthn.attestation._tpm_structures import parse_tpms_attest, parse_tpmt_public
from mfakit.webauthn.low_level import AuthenticatorData

from ._support import parts, register

_CACHE: dict[int, BuiltRegistration] = {}


def _valid(builder: AttestationBuilder) -> BuiltRegistration:
    if id(builder) not in _CACHE:
        _CACHE[id(builder)] = builder.tpm()
    return _CACHE[id(builder)]


def _args(built: BuiltRegistration) -> tuple[AuthenticatorData, bytes, CredentialPublicKey]:
    auth, key = parts(built)
    return auth, built.client_data_hash, key


@pytest.mark.parametrize(("alg", "credential_alg"), [(-7, -7), (-257, -257), (-37, -7)])
def test_valid_tpm_registration_is_attca_and_trusted(
    builder: AttestationBuilder, alg: int, credential_alg: int
) -> None:
    """ES256, RS256 and PS256 AIK signatures over ECC and RSA credentials verify."""
    result = register(builder, builder.tpm(alg=alg, credential_alg=credential_alg))
    assert (result.fmt, result.attestation_type, result.trusted) == ("tpm", "attca", True)


def test_rs1_needs_the_policy_opt_in(builder: AttestationBuilder) -> None:
    """RS1 is refused by default and accepted with allow_sha1."""
    built = builder.tpm(alg=-65535, credential_alg=-257)
    with pytest.raises(InvalidAttestationError, match="alg is not allowed"):
        register(builder, built)
    assert register(builder, built, allow_sha1=True).trusted


def test_unknown_alg_is_unsupported(builder: AttestationBuilder) -> None:
    """An EdDSA (or unknown) statement alg is UnsupportedAlgorithmError."""
    built = builder.tpm()
    stmt = dict(built.att_stmt, alg=-8)
    with pytest.raises(UnsupportedAlgorithmError):
        _fmt_tpm.verify(stmt, *_args(built))


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("ver", InvalidAttestationError, "version must be 2.0"),
        ("magic", InvalidAttestationError, "magic"),
        ("type", MalformedDataError, "TPM_ST_ATTEST_CERTIFY"),
        ("extra_data", InvalidAttestationError, "extraData"),
        ("name", InvalidAttestationError, "attested name"),
        ("pub_area_key", InvalidAttestationError, "pubArea key"),
        ("signature", InvalidSignatureError, "tpm attestation signature"),
        ("cert_info_trailing", MalformedDataError, "trailing"),
        ("aik_subject", InvalidAttestationError, "subject must be empty"),
        ("aik_san", InvalidAttestationError, "subject alternative name"),
        ("aik_san_model", InvalidAttestationError, "manufacturer, model, version"),
        ("aik_san_not_critical", InvalidAttestationError, "SAN must be critical"),
        ("aik_eku", InvalidAttestationError, "tcg-kp-AIKCertificate"),
        ("aik_no_eku", InvalidAttestationError, "lacks extended key usage"),
        ("aik_ca", InvalidAttestationError, "must not be a CA"),
        ("aik_basic_constraints", InvalidAttestationError, "lacks basic constraints"),
        ("aik_aaguid", InvalidAttestationError, "AAGUID"),
    ],
)
def test_each_fault_is_refused(
    builder: AttestationBuilder, fault: str, error: type[Exception], message: str
) -> None:
    """One mutation of a valid statement gives one specific error."""
    with pytest.raises(error, match=message):
        register(builder, builder.tpm(fault=fault))


def test_unknown_manufacturer_is_refused_by_default(builder: AttestationBuilder) -> None:
    """A vendor outside the TCG registry is refused unless the check is switched off."""
    built = builder.tpm(manufacturer="id:00000000")
    with pytest.raises(InvalidAttestationError, match="unknown TPM manufacturer"):
        register(builder, built)
    assert register(builder, built, tpm_check_manufacturer=False).trusted


def test_manufacturer_ids_compare_case_insensitively(builder: AttestationBuilder) -> None:
    """IBM's id is written in lower case by some TPMs ("id:49424d00")."""
    assert register(builder, builder.tpm(manufacturer="id:49424d00")).trusted


def test_missing_x5c_and_wrong_types(builder: AttestationBuilder) -> None:
    """No x5c, or certInfo/pubArea that are not bytes, are refused."""
    built = builder.tpm()
    stmt = dict(built.att_stmt)
    del stmt["x5c"]
    with pytest.raises(InvalidAttestationError, match="lacks x5c"):
        _fmt_tpm.verify(stmt, *_args(built))
    stmt = dict(built.att_stmt, certInfo="text")
    with pytest.raises(InvalidAttestationError, match="certInfo and pubArea"):
        _fmt_tpm.verify(stmt, *_args(built))
    stmt = dict(built.att_stmt, alg="ES256")
    with pytest.raises(InvalidAttestationError, match="integer alg"):
        _fmt_tpm.verify(stmt, *_args(built))


def test_aik_key_must_fit_alg(builder: AttestationBuilder) -> None:
    """An EC AIK used with alg RS256 is refused."""
    built = builder.tpm()
    stmt = dict(built.att_stmt, alg=-257)
    with pytest.raises(InvalidAttestationError, match=r"extraData|key does not match"):
        _fmt_tpm.verify(stmt, *_args(built))


def test_rsa_pub_area_must_match_rsa_credential(builder: AttestationBuilder) -> None:
    """An ECC pubArea does not match an RSA credential, nor the reverse."""
    rsa_built = builder.tpm(alg=-257, credential_alg=-257)
    ec_built = builder.tpm()
    stmt = dict(rsa_built.att_stmt, pubArea=ec_built.att_stmt["pubArea"])
    with pytest.raises(InvalidAttestationError, match="pubArea key"):
        _fmt_tpm.verify(stmt, *_args(rsa_built))
    stmt = dict(ec_built.att_stmt, pubArea=rsa_built.att_stmt["pubArea"])
    with pytest.raises(InvalidAttestationError, match="pubArea key"):
        _fmt_tpm.verify(stmt, *_args(ec_built))


def test_pub_area_with_other_curve_does_not_match(builder: AttestationBuilder) -> None:
    """The same point under TPM_ECC_NIST_P384 is not the P-256 credential key."""
    built = builder.tpm()
    pub = bytearray(built.att_stmt["pubArea"])
    curve_at = 2 + 2 + 4 + 2 + 2 + 2
    pub[curve_at : curve_at + 2] = b"\x00\x04"
    stmt = dict(built.att_stmt, pubArea=bytes(pub))
    with pytest.raises(InvalidAttestationError, match="pubArea key"):
        _fmt_tpm.verify(stmt, *_args(built))


def test_parse_pub_area_fields(builder: AttestationBuilder) -> None:
    """The ECC pubArea's fields read back as built."""
    built = builder.tpm()
    pub = parse_tpmt_public(built.att_stmt["pubArea"])
    assert (pub.type, pub.name_alg, pub.symmetric, pub.scheme, pub.ecc_curve) == (
        _tpm.TPM_ALG_ECC,
        0x000B,
        _tpm.TPM_ALG_NULL,
        _tpm.TPM_ALG_NULL,
        3,
    )
    assert len(pub.ecc_x) == len(pub.ecc_y) == 32


def test_parse_rsa_pub_area_with_scheme_and_symmetric() -> None:
    """An RSA pubArea with an AES symmetric definition and an RSASSA scheme parses."""
    head = b"\x00\x01\x00\x0b" + bytes(4) + b"\x00\x00"
    body = b"\x00\x06\x00\x80\x00\x43" + b"\x00\x14\x00\x0b" + b"\x08\x00" + bytes(4)
    data = head + body + b"\x00\x02\xab\xcd"
    pub = parse_tpmt_public(data)
    assert (pub.symmetric, pub.scheme, pub.scheme_hash, pub.rsa_modulus) == (
        0x0006,
        0x0014,
        0x000B,
        b"\xab\xcd",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x02\x00\x0b", "neither RSA nor ECC"),
        (b"\x00\x01\x00\x12", "nameAlg"),
        (b"\x00\x01\x00\x0b" + bytes(4) + b"\x00\x00\x00\x99", "symmetric"),
        (b"\x00\x01\x00\x0b" + bytes(4) + b"\x00\x00\x00\x10\x00\x99", "scheme"),
        (b"\x00\x01\x00\x0b" + bytes(4) + b"\x00\x00\x00\x10\x00\x14\x00\x99", "scheme hash"),
        (b"\x00\x23\x00\x0b" + bytes(4) + b"\x00\x00\x00\x10\x00\x10\x00\x07", "curve"),
        (b"\x00\x01\x00\x0b" + bytes(4) + b"\x00\x41", "authPolicy too large"),
        (b"\x00\x01", "truncated"),
    ],
)
def test_pub_area_parser_refuses(data: bytes, message: str) -> None:
    """Unknown algorithms, oversized fields and truncation are MalformedDataError."""
    with pytest.raises(MalformedDataError, match=message):
        parse_tpmt_public(data)


def test_parsers_refuse_non_bytes_and_oversize() -> None:
    """Both parsers take bytes of at most MAX_TPM_STRUCTURE_BYTES."""
    with pytest.raises(MalformedDataError, match="must be bytes"):
        parse_tpms_attest("x")  # type: ignore[arg-type]
    with pytest.raises(MalformedDataError, match="too large"):
        parse_tpmt_public(bytes(_tpm.MAX_TPM_STRUCTURE_BYTES + 1))


def test_cert_info_fields(builder: AttestationBuilder) -> None:
    """certInfo reads back: magic, type, extraData, the attested name."""
    built = builder.tpm()
    info = parse_tpms_attest(built.att_stmt["certInfo"])
    assert info.magic == _tpm.TPM_GENERATED_VALUE
    assert info.type == _tpm.TPM_ST_ATTEST_CERTIFY
    assert info.extra_data == hashlib.sha256(built.auth_data + built.client_data_hash).digest()
    assert info.attested_name[:2] == b"\x00\x0b"
    assert (info.clock, info.reset_count, info.restart_count, info.safe) == (1234, 1, 0, 1)


def test_manufacturer_list_is_upper_case_ids() -> None:
    """Every registry entry is "id:" and eight upper-case hex digits."""
    for entry in _fmt_tpm.TPM_MANUFACTURERS:
        assert entry.startswith("id:")
        assert len(entry) == 11
        assert entry[3:] == entry[3:].upper()
        int(entry[3:], 16)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_parsers_fuzz_random_bytes(data: bytes) -> None:
    """Random bytes parse or raise MalformedDataError, nothing else."""
    for parser in (parse_tpms_attest, parse_tpmt_public):
        with contextlib.suppress(MalformedDataError):
            parser(data)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_verify_fuzz_mutated_structures(builder: AttestationBuilder, data: st.DataObject) -> None:
    """Mutated certInfo/pubArea bytes end in MalformedDataError or a VerificationError."""
    built = _valid(builder)
    which = data.draw(st.sampled_from(["certInfo", "pubArea"]))
    raw = bytearray(built.att_stmt[which])
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    stmt = dict(built.att_stmt, **{which: bytes(raw[:cut])})
    with contextlib.suppress(MalformedDataError, InvalidAttestationError, InvalidSignatureError):
        _fmt_tpm.verify(stmt, *_args(built))


def test_aik_certificate_must_be_version_3(builder: AttestationBuilder) -> None:
    """A v1 AIK certificate (version field removed, lengths fixed) is refused."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    der = builder.aik_certificate(builder.root_key.public_key()).public_bytes(
        serialization.Encoding.DER
    )
    assert der[0:2] == b"\x30\x82"
    assert der[4:6] == b"\x30\x82"
    assert der[8:13] == b"\xa0\x03\x02\x01\x02"
    outer, inner = int.from_bytes(der[2:4], "big") - 5, int.from_bytes(der[6:8], "big") - 5
    v1 = b"\x30\x82" + outer.to_bytes(2, "big") + b"\x30\x82" + inner.to_bytes(2, "big") + der[13:]
    with pytest.raises(InvalidAttestationError, match="version 3"):
        _fmt_tpm.check_aik_certificate(x509.load_der_x509_certificate(v1), builder.aaguid)
