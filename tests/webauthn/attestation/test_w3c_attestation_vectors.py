"""The W3C WebAuthn Level 3 §16 vectors for tpm (§16.13), android-key (§16.14), apple (§16.15).

Recorded in src/mfakit/testing/_webauthn_vectors.py (sources in tests/vectors/README.md).
Every chain ends at the §16.1 root.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import cbor2
import pytest
from cryptography import x509

from mfakit import webauthn
from mfakit.errors import InvalidAttestationError
from mfakit.testing._webauthn_vectors import (
    WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE,
    WEBAUTHN_TEST_VECTORS,
    WebAuthnTestVector,
)
from mfakit.webauthn.attestation._android_key import (
    OID_ANDROID_KEY_DESCRIPTION,
    parse_key_description,
)
from mfakit.webauthn.attestation._tpm_structures import parse_tpms_attest

NOW = datetime(2026, 11, 23, tzinfo=UTC)
_BY_NAME = {v.name: v for v in WEBAUTHN_TEST_VECTORS}


def _register(vector: WebAuthnTestVector, **policy: object) -> webauthn.VerifiedRegistration:
    return webauthn.verify_registration(
        vector.registration_response(),
        expected_challenge=vector.registration_challenge,
        expected_origins=vector.origin,
        expected_rp_id=vector.rp_id,
        attestation=webauthn.AttestationPolicy(
            trust_anchors=[WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE],
            **policy,  # type: ignore[arg-type]
        ),
        now=NOW,
    )


def test_tpm_vector_verifies_with_the_manufacturer_check_off() -> None:
    """§16.13 verifies (attca, trusted at §16.1) once the TCG-registry check is off."""
    result = _register(_BY_NAME["tpm-es256"], tpm_check_manufacturer=False, require_trusted=True)
    assert (result.attestation_type, result.trusted) == ("attca", True)


def test_tpm_vector_manufacturer_is_not_registered() -> None:
    """§16.13's AIK names manufacturer id:00000000, outside the TCG registry: refused by default."""
    with pytest.raises(InvalidAttestationError, match="unknown TPM manufacturer"):
        _register(_BY_NAME["tpm-es256"])


def test_tpm_vector_cert_info_is_read_strictly_but_safe_is_kept_as_is() -> None:
    """§16.13 has TPMS_CLOCK_INFO.safe = 0x33 (test data): kept, not judged (§8.3 ignores it)."""
    stmt = cbor2.loads(_BY_NAME["tpm-es256"].attestation_object)["attStmt"]
    info = parse_tpms_attest(stmt["certInfo"])
    assert info.safe == 0x33


def test_apple_vector_verifies() -> None:
    """§16.15 verifies: anonca, trusted at the §16.1 root."""
    result = _register(_BY_NAME["apple-es256"], require_trusted=True)
    assert (result.attestation_type, result.trusted) == ("anonca", True)


def test_apple_vector_is_untrusted_without_its_root() -> None:
    """Without the §16.1 root (e.g. with only the shipped Apple root) it is not trusted."""
    result = webauthn.verify_registration(
        _BY_NAME["apple-es256"].registration_response(),
        expected_challenge=_BY_NAME["apple-es256"].registration_challenge,
        expected_origins="https://example.org",
        expected_rp_id="example.org",
        attestation=webauthn.AttestationPolicy(
            format_trust_anchors=webauthn.public_trust_anchors()
        ),
        now=NOW,
    )
    assert not result.trusted


def test_android_key_vector_fails_only_the_authorization_list_rule() -> None:
    """§16.14 passes signature, key and challenge checks but its KeyDescription has empty
    authorization lists, so §8.4's origin=GENERATED rule refuses it (the spec decides)."""
    vector = _BY_NAME["android-key-es256"]
    with pytest.raises(InvalidAttestationError, match="not generated"):
        _register(vector)
    with pytest.raises(InvalidAttestationError, match="not generated"):
        _register(vector, android_key_allow_software=True)
    stmt = cbor2.loads(vector.attestation_object)["attStmt"]
    leaf = x509.load_der_x509_certificate(stmt["x5c"][0])
    ext = leaf.extensions.get_extension_for_oid(OID_ANDROID_KEY_DESCRIPTION).value
    description = parse_key_description(ext.value)  # type: ignore[attr-defined]
    client_data_hash = hashlib.sha256(vector.registration_client_data_json).digest()
    assert description.attestation_challenge == client_data_hash
    assert description.tee_enforced.origin is None
    assert description.software_enforced.origin is None
