"""The shipped public roots, and the pinned __all__ of every issue-8 module."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mfakit import webauthn
from mfakit.testing import _attestation_builders
from mfakit.webauthn import _jws, _revocation
from mfakit.webauthn import metadata as _metadata
from mfakit.webauthn.attestation import _android_key as _fmt_android_key
from mfakit.webauthn.attestation import _android_safetynet as _fmt_android_safetynet
from mfakit.webauthn.attestation import _apple as _fmt_apple
from mfakit.webauthn.attestation import _compound as _fmt_compound
from mfakit.webauthn.attestation import _der, _roots
from mfakit.webauthn.attestation import _options as _fmt_options
from mfakit.webauthn.attestation import _tpm as _fmt_tpm
from mfakit.webauthn.attestation import _tpm_structures as _tpm

# Yubico U2F Root CA Serial 457200631, as published at
# https://developers.yubico.com/U2F/yubico-u2f-ca-certs.txt (see the bundle).
_YUBICO_U2F_ROOT = "0fa1386f80eb8713263ae5c1d84deb455bdf08aea50ab05503cefee82b092d42"
EXPECTED_FINGERPRINTS = {
    "apple": {"0915dd5c07a28db549d1f677bb5a75d4bfbe9561a773424327762e9e02f9bb29"},
    "android-key": {
        "c1984a3ef45c1e2a918551de10603c86f7051b2249c4891cae3230eabd0c97d5",
        "1ef1a04b8ba58ab94589ac498c8982a783f24ea7307e0159a0c3a73b377d87cc",
        "ab6641178a36e179aa0c1cdddf9a16eb45fa20943e2b8cd7c7c05c26cf8b487a",
        "cedb1cb6dc896ae5ec797348bce9286753c2b38ee71ce0fbe34a9a1248800dfc",
        "6d9db4ce6c5c0b293166d08986e05774a8776ceb525d9e4329520de12ba4bcc0",
    },
    "tpm": {"870c7a35ceab3d59979f2c6a524042d404cb71518004350925fb2ced79a999da"},
    "fido-u2f": {_YUBICO_U2F_ROOT},
    "packed": {_YUBICO_U2F_ROOT},
}


def test_bundle_fingerprints_match_the_recorded_ones() -> None:
    """Each shipped root hashes to the fingerprint recorded with its source."""
    found: dict[str, set[str]] = {}
    for root in webauthn.attestation.public_roots():
        der = root.certificate.public_bytes(serialization.Encoding.DER)
        assert hashlib.sha256(der).hexdigest() == root.sha256
        assert root.source.startswith(("https://", "http://www.microsoft.com/"))
        assert root.fmt == root.formats[0]
        for fmt in root.formats:
            found.setdefault(fmt, set()).add(root.sha256)
    assert found == EXPECTED_FINGERPRINTS


def test_bundle_roots_are_self_signed_cas() -> None:
    """Every shipped root is a self-signed CA (its bytes are exact: the signature verifies)."""
    for root in webauthn.attestation.public_roots():
        cert = root.certificate
        cert.verify_directly_issued_by(cert)
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_yubico_u2f_root_has_non_critical_basic_constraints() -> None:
    """The shipped Yubico U2F root is a CA (pathLen 0) whose basicConstraints is not critical."""
    (root,) = [r for r in webauthn.attestation.public_roots() if r.sha256 == _YUBICO_U2F_ROOT]
    assert root.name == "Yubico U2F Root CA Serial 457200631"
    basic = root.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert (basic.critical, basic.value.ca, basic.value.path_length) == (False, True, 0)


def test_bundle_agrees_with_py_webauthn() -> None:
    """Every root py_webauthn ships for apple and android-key is in the bundle, byte for byte."""
    from webauthn.helpers import known_root_certs as peer

    ours = {r.sha256 for r in webauthn.attestation.public_roots()}
    for name in (
        "apple_webauthn_root_ca",
        *(f"google_hardware_attestation_root_{n}" for n in range(2, 6)),
    ):
        cert = x509.load_pem_x509_certificate(getattr(peer, name))
        assert hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest() in ours


def test_public_trust_anchors_by_format() -> None:
    """public_trust_anchors() groups the roots by the format they anchor."""
    anchors = webauthn.public_trust_anchors()
    assert sorted(anchors) == ["android-key", "apple", "fido-u2f", "packed", "tpm"]
    assert len(anchors["android-key"]) == 5
    assert anchors["fido-u2f"] == anchors["packed"]
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
