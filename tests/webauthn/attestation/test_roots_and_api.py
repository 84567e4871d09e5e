"""The shipped public roots, and the pinned __all__ of every issue-8 module."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization

from mfakit import webauthn
from mfakit.testing import _attestation_builders
from mfakit.webauthn import (
    _der,
    _fmt_android_key,
    _fmt_android_safetynet,
    _fmt_apple,
    _fmt_compound,
    _fmt_options,
    _fmt_tpm,
    _jws,
    _metadata,
    _revocation,
    _roots,
    _tpm,
)

EXPECTED_FINGERPRINTS = {
    "apple": {"0915dd5c07a28db549d1f677bb5a75d4bfbe9561a773424327762e9e02f9bb29"},
    "android-key": {
        "c1984a3ef45c1e2a918551de10603c86f7051b2249c4891cae3230eabd0c97d5",
        "cedb1cb6dc896ae5ec797348bce9286753c2b38ee71ce0fbe34a9a1248800dfc",
        "6d9db4ce6c5c0b293166d08986e05774a8776ceb525d9e4329520de12ba4bcc0",
    },
    "tpm": {"870c7a35ceab3d59979f2c6a524042d404cb71518004350925fb2ced79a999da"},
}


def test_bundle_fingerprints_match_the_recorded_ones() -> None:
    """Each shipped root hashes to the fingerprint recorded with its source."""
    found: dict[str, set[str]] = {}
    for root in webauthn.public_roots():
        der = root.certificate.public_bytes(serialization.Encoding.DER)
        assert hashlib.sha256(der).hexdigest() == root.sha256
        assert root.source.startswith(("https://", "http://www.microsoft.com/"))
        found.setdefault(root.fmt, set()).add(root.sha256)
    assert found == EXPECTED_FINGERPRINTS


def test_bundle_roots_are_self_signed_cas() -> None:
    """Every shipped root is a self-signed CA (its bytes are exact: the signature verifies)."""
    from cryptography import x509

    for root in webauthn.public_roots():
        cert = root.certificate
        cert.verify_directly_issued_by(cert)
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_public_trust_anchors_by_format() -> None:
    """public_trust_anchors() groups the roots by the format they anchor."""
    anchors = webauthn.public_trust_anchors()
    assert sorted(anchors) == ["android-key", "apple", "tpm"]
    assert len(anchors["android-key"]) == 3
    policy = webauthn.AttestationPolicy(format_trust_anchors=anchors)
    assert policy.format_trust_anchors == anchors


@pytest.mark.parametrize(
    ("module", "names"),
    [
        (
            _der,
            [
                "CLASS_CONTEXT",
                "CLASS_UNIVERSAL",
                "MAX_DEPTH",
                "Element",
                "children",
                "parse_single",
                "read_integer",
            ],
        ),
        (
            _fmt_android_key,
            [
                "KM_ORIGIN_GENERATED",
                "KM_PURPOSE_SIGN",
                "OID_ANDROID_KEY_DESCRIPTION",
                "AuthorizationList",
                "KeyDescription",
                "parse_key_description",
                "verify",
            ],
        ),
        (_fmt_android_safetynet, ["SAFETYNET_HOSTNAME", "verify"]),
        (_fmt_apple, ["OID_APPLE_NONCE", "verify"]),
        (_fmt_compound, ["MAX_COMPOUND_STATEMENTS", "CompoundStatementResult", "verify"]),
        (
            _fmt_options,
            [
                "FormatOptions",
                "NestedVerifier",
                "certificate_key_matches",
                "hash_for_alg",
                "require_now",
            ],
        ),
        (_fmt_tpm, ["TPM_MANUFACTURERS", "check_aik_certificate", "verify"]),
        (_jws, ["JWS_ALGORITHMS", "CompactJWS", "parse_compact_jws"]),
        (
            _metadata,
            [
                "CERTIFICATION_LEVELS",
                "DEFAULT_REJECTED_STATUSES",
                "MAX_BLOB_BYTES",
                "AuthenticatorStatus",
                "MetadataBLOB",
                "MetadataEntry",
                "MetadataSource",
                "StatusReport",
                "load_metadata",
                "parse_metadata_blob",
            ],
        ),
        (_revocation, ["check_revocation", "load_crl"]),
        (_roots, ["PublicRoot", "public_roots", "public_trust_anchors"]),
        (
            _tpm,
            [
                "TPMSAttest",
                "TPMTPublic",
                "TPM_ALG_ECC",
                "TPM_ALG_NULL",
                "TPM_ALG_RSA",
                "TPM_GENERATED_VALUE",
                "TPM_ST_ATTEST_CERTIFY",
                "parse_tpms_attest",
                "parse_tpmt_public",
            ],
        ),
        (_attestation_builders, ["AttestationBuilder", "BuiltRegistration", "der_key_description"]),
    ],
)
def test_module_all_is_pinned(module: object, names: list[str]) -> None:
    """Each module exports exactly these names, in plain sorted() order."""
    assert module.__all__ == sorted(names)  # type: ignore[attr-defined]


class _BrokenCertificate:
    def public_key(self) -> object:
        raise ValueError("unsupported key")


def test_certificate_key_matches_contains_key_errors() -> None:
    """A certificate key cryptography cannot load never matches (no exception escapes)."""
    from mfakit.testing._webauthn_vectors import WEBAUTHN_TEST_VECTORS
    from mfakit.webauthn import parse_credential_public_key

    key = parse_credential_public_key(WEBAUTHN_TEST_VECTORS[0].credential_public_key)
    assert not _fmt_options.certificate_key_matches(_BrokenCertificate(), key)  # type: ignore[arg-type]
