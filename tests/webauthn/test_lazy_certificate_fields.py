"""Certificate fields cryptography parses lazily cannot leak low-level errors.

Regression: a Hypothesis run once flipped a bit inside the leaf's
AuthorityKeyIdentifier so that its serial number became non-positive.
cryptography parses extensions lazily and then emits a
``CryptographyDeprecationWarning`` — an exception when warnings are errors, as
in this suite — which escaped ``verify_registration``.
"""

from __future__ import annotations

import base64
import datetime as dt

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from mfakit import webauthn
from mfakit.errors import InvalidAttestationError
from mfakit.testing import SoftAuthenticator

ORIGIN = "https://example.com"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _leaf_with_nonpositive_aki_serial() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
            x509.NameAttribute(NameOID.COMMON_NAME, "leaf"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2035, 1, 1, tzinfo=dt.UTC))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier(None, [x509.DirectoryName(name)], 0), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


@pytest.mark.parametrize("fmt", ["packed", "fido-u2f"])
def test_lazily_parsed_extension_warning_becomes_invalid_attestation(fmt: str) -> None:
    """A leaf whose extensions only fail when parsed is refused with an MfaError."""
    options = webauthn.registration_options(
        rp_id="example.com",
        rp_name="Example",
        user_id=b"user-1",
        user_name="u",
        user_display_name="U",
    )
    credential = SoftAuthenticator(origin=ORIGIN, attestation=fmt, algorithm=-7).create(
        options.to_json()
    )
    attestation = cbor2.loads(
        base64.urlsafe_b64decode(credential["response"]["attestationObject"] + "==")
    )
    attestation["attStmt"]["x5c"] = [_leaf_with_nonpositive_aki_serial()]
    credential["response"]["attestationObject"] = _b64(cbor2.dumps(attestation))
    with pytest.raises(InvalidAttestationError):
        webauthn.verify_registration(
            credential,
            expected_challenge=options.challenge,
            expected_origins=ORIGIN,
            expected_rp_id="example.com",
        )
