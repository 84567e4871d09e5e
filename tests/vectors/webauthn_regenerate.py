"""Re-derive WebAuthn L3 §16 packed test vectors from the procedure §16 describes.

§16 states how its values were made: every random value is HKDF-SHA-256 of the key
material ``'WebAuthn test vectors'`` with a per-example ``info`` and a salt that
counts the draws (0, 1, 2, ...); ECDSA uses deterministic nonces (RFC 6979);
EdDSA is deterministic by design. This module re-derives a packed (x5c)
example from that description, written here from the spec's text and values.

It is used by tests/testing/test_webauthn_vectors.py to prove the derivation
reproduces the recorded §16.7 (ES256) and §16.11 (Ed25519) examples byte for
byte, which is what makes the re-derived §16.12 (Ed448) example trustworthy.
Run it as a script to print a vector's fields as hex.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID

from mfakit.testing._webauthn_vectors import WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE

IKM = b"WebAuthn test vectors"
RP_ID_HASH = hashlib.sha256(b"example.org").digest()
ORIGIN = "https://example.org"
NOT_BEFORE = datetime(2024, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(3024, 1, 1, tzinfo=UTC)
# ecdsa-with-SHA256 AlgorithmIdentifier (RFC 5758 §3.2), DER.
ECDSA_SHA256_ALGORITHM_ID = bytes.fromhex("300a06082a8648ce3d040302")


class Draws:
    """The sequence of HKDF outputs for one example (salt 0, 1, 2, ...)."""

    def __init__(self, info: str) -> None:
        self._info = info
        self._salt = 0

    def next(self, length: int) -> bytes:
        """The next value, ``length`` bytes long."""
        value = HKDF(hashes.SHA256(), length, bytes([self._salt]), self._info.encode()).derive(IKM)
        self._salt += 1
        return value


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(body)) + body


def _ca_key() -> ec.EllipticCurvePrivateKey:
    scalar = Draws("Attestation CA").next(32)
    return ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1())


def _deterministic_cert(
    builder: x509.CertificateBuilder, ca_key: ec.EllipticCurvePrivateKey
) -> bytes:
    # cryptography signs certificates with random nonces; re-sign the same TBS with
    # an RFC 6979 nonce and assemble Certificate ::= SEQUENCE { tbs, alg, BIT STRING }.
    tbs = builder.sign(ca_key, hashes.SHA256()).tbs_certificate_bytes
    signature = ca_key.sign(tbs, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    return _der(0x30, tbs + ECDSA_SHA256_ALGORITHM_ID + _der(0x03, b"\x00" + signature))


def _attestation_cert(
    draws: Draws, ca_key: ec.EllipticCurvePrivateKey
) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    root = x509.load_der_x509_certificate(WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE)
    key = ec.derive_private_key(int.from_bytes(draws.next(32), "big"), ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "WebAuthn test vectors"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "W3C"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "AA"),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(draws.next(16), "big"))
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            critical=False,
        )
    )
    return _deterministic_cert(builder, ca_key), key


def _client_data(draws: Draws, kind: str, challenge: bytes) -> bytes:
    fields: dict[str, Any] = {
        "type": kind,
        "challenge": _b64(challenge),
        "origin": ORIGIN,
        "crossOrigin": False,
    }
    if draws.next(1)[0] & 0x01:
        extra = _b64(draws.next(16))
        fields["extraData"] = (
            "clientDataJSON may be extended with additional fields in the future, "
            f"such as this: {extra}"
        )
    return json.dumps(fields, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Derived:
    """A re-derived example: the fields of :class:`WebAuthnTestVector`."""

    registration_challenge: bytes
    attestation_object: bytes
    registration_client_data_json: bytes
    authentication_challenge: bytes
    authenticator_data: bytes
    authentication_client_data_json: bytes
    signature: bytes


def derive_packed(info: str, alg: int) -> Derived:
    """Re-derive the packed x5c example ``info`` (e.g. ``packed.Ed448``) for COSE ``alg``."""
    draws = Draws(info)
    ca_key = _ca_key()
    challenge = draws.next(32)
    private: Any
    if alg == -7:
        private = ec.derive_private_key(int.from_bytes(draws.next(32), "big"), ec.SECP256R1())
        nums = private.public_key().public_numbers()
        cose: dict[int, Any] = {
            1: 2,
            3: -7,
            -1: 1,
            -2: nums.x.to_bytes(32, "big"),
            -3: nums.y.to_bytes(32, "big"),
        }
    elif alg == -8:
        private = ed25519.Ed25519PrivateKey.from_private_bytes(draws.next(32))
        cose = {1: 1, 3: -8, -1: 6, -2: private.public_key().public_bytes_raw()}
    elif alg == -53:
        private = ed448.Ed448PrivateKey.from_private_bytes(draws.next(57))
        cose = {1: 1, 3: -53, -1: 7, -2: private.public_key().public_bytes_raw()}
    else:
        raise ValueError(alg)
    client_data = _client_data(draws, "webauthn.create", challenge)
    aaguid = draws.next(16)
    credential_id = draws.next(32)
    uv_be_bs = draws.next(1)[0] & 0x1C
    if not uv_be_bs & 0x08:
        uv_be_bs &= ~0x18  # BS only with BE
    attested = (
        aaguid
        + len(credential_id).to_bytes(2, "big")
        + credential_id
        + cbor2.dumps(cose, canonical=True)
    )
    auth_data = RP_ID_HASH + bytes([uv_be_bs | 0x41]) + bytes(4) + attested
    cert, cert_key = _attestation_cert(draws, ca_key)
    signed = auth_data + hashlib.sha256(client_data).digest()
    statement = {
        "alg": -7,
        "sig": cert_key.sign(signed, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)),
        "x5c": [cert],
    }
    attestation_object = cbor2.dumps(
        {"fmt": "packed", "attStmt": statement, "authData": auth_data}, canonical=True
    )

    challenge2 = draws.next(32)
    client_data2 = _client_data(draws, "webauthn.get", challenge2)
    be = auth_data[32] & 0x08
    uv_bs = draws.next(1)[0] & 0x14
    if not be:
        uv_bs &= ~0x18
    assertion_data = RP_ID_HASH + bytes([uv_bs | be | 0x01]) + bytes(4)
    message = assertion_data + hashlib.sha256(client_data2).digest()
    if alg == -7:
        signature = private.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    else:
        signature = private.sign(message)
    return Derived(
        registration_challenge=challenge,
        attestation_object=attestation_object,
        registration_client_data_json=client_data,
        authentication_challenge=challenge2,
        authenticator_data=assertion_data,
        authentication_client_data_json=client_data2,
        signature=signature,
    )


if __name__ == "__main__":
    derived = derive_packed(sys.argv[1], int(sys.argv[2]))
    for name, value in vars(derived).items():
        sys.stdout.write(f"{name}={value.hex()}\n")
