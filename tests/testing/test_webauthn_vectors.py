"""The recorded W3C WebAuthn L3 §16 test vectors, checked by independent peers.

Each vector's assertion signature verifies with fido2's COSE keys, its challenges
are the ones in clientDataJSON, and every registration a peer supports is accepted
by py_webauthn and/or fido2's attestation verifier anchored at the §16.1 root.
Where a peer cannot check a vector, the test records why.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fido2.attestation import AttestationVerifier
from fido2.attestation.base import InvalidAttestation
from fido2.cose import CoseKey
from fido2.webauthn import AttestationObject
from tests.vectors.webauthn_regenerate import Draws, derive_packed
from webauthn import verify_authentication_response, verify_registration_response
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import InvalidRegistrationResponse
from webauthn.helpers.structs import AttestationFormat

from mfakit.testing import _webauthn_vectors
from mfakit.testing._webauthn_vectors import (
    WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE,
    WEBAUTHN_TEST_VECTORS,
    WebAuthnTestVector,
)

ROOT = x509.load_der_x509_certificate(WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE)
BY_NAME = {v.name: v for v in WEBAUTHN_TEST_VECTORS}

#: Registrations py_webauthn cannot check, and why (the spec decides; see README).
PY_WEBAUTHN_CANNOT = {
    "packed-es384": "py_webauthn has no ES384 (COSE -35)",
    "packed-ed448": "py_webauthn has no Ed448 (COSE -53)",
    "tpm-es256": "py_webauthn knows only TCG-registered TPM vendors; the vector has id:00000000",
    "android-key-es256": "py_webauthn refuses its android-key statement (reports 'x5c was empty')",
    "fido-u2f-es256": "py_webauthn requires a zero AAGUID for fido-u2f; §8.6 verification does not",
}
#: Registrations fido2's attestation verifier cannot check, and why.
FIDO2_CANNOT = {
    "tpm-es256": "fido2 reads TPMS_CLOCK_INFO.safe strictly as 0/1; the vector has 0x33",
    "android-key-es256": "fido2's default verifier has no android-key format",
}


def _ids(vector: WebAuthnTestVector) -> str:
    return vector.name


def _challenge_in(client_data_json: bytes) -> bytes:
    text = json.loads(client_data_json)["challenge"]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_module_all_is_pinned() -> None:
    """The vectors module exports exactly these names."""
    assert _webauthn_vectors.__all__ == [
        "WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE",
        "WEBAUTHN_TEST_VECTORS",
        "WEBAUTHN_TEST_VECTORS_SOURCE",
        "WebAuthnTestVector",
    ]


def test_every_section_is_recorded() -> None:
    """§16.2-16.16 are all present, in the order of the section."""
    sections = [v.section for v in WEBAUTHN_TEST_VECTORS]
    assert sections == [f"16.{n}" for n in range(2, 17)]
    assert {v.fmt for v in WEBAUTHN_TEST_VECTORS} == {
        "none",
        "packed",
        "tpm",
        "android-key",
        "apple",
        "fido-u2f",
    }
    assert {v.algorithm for v in WEBAUTHN_TEST_VECTORS} == {-7, -35, -36, -257, -8, -53}


def test_root_certificate_is_the_vector_ca() -> None:
    """§16.1's root is a self-signed CA named 'WebAuthn test vectors'."""
    assert ROOT.subject == ROOT.issuer
    assert ROOT.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    cn = ROOT.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert cn == "WebAuthn test vectors"
    ROOT.verify_directly_issued_by(ROOT)


@pytest.mark.parametrize("vector", WEBAUTHN_TEST_VECTORS, ids=_ids)
def test_client_data_matches_recorded_challenges_and_origin(vector: WebAuthnTestVector) -> None:
    """Both clientDataJSON carry the recorded challenge, type, origin and crossOrigin."""
    for raw, kind, challenge in (
        (vector.registration_client_data_json, "webauthn.create", vector.registration_challenge),
        (vector.authentication_client_data_json, "webauthn.get", vector.authentication_challenge),
    ):
        data = json.loads(raw)
        assert data["type"] == kind
        assert _challenge_in(raw) == challenge
        assert data["origin"] == vector.origin
        assert data["crossOrigin"] is vector.cross_origin
        assert data.get("topOrigin") == vector.top_origin


@pytest.mark.parametrize("vector", WEBAUTHN_TEST_VECTORS, ids=_ids)
def test_fido2_verifies_assertion_signature(vector: WebAuthnTestVector) -> None:
    """fido2's COSE key verifies the assertion signature over authData || hash(clientData)."""
    key = CoseKey.parse(
        AttestationObject(vector.attestation_object).auth_data.credential_data.public_key
    )
    assert vector.algorithm == key.ALGORITHM
    message = (
        vector.authenticator_data + hashlib.sha256(vector.authentication_client_data_json).digest()
    )
    key.verify(message, vector.signature)
    assert AttestationObject(vector.attestation_object).fmt == vector.fmt
    assert vector.authenticator_data[:32] == hashlib.sha256(vector.rp_id.encode()).digest()


class _VectorRoot(AttestationVerifier):
    def ca_lookup(self, result: object, auth_data: object) -> bytes:
        return WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE


@pytest.mark.parametrize(
    "vector",
    [v for v in WEBAUTHN_TEST_VECTORS if v.fmt != "none" and v.name not in FIDO2_CANNOT],
    ids=_ids,
)
def test_fido2_verifies_attestation_to_the_root(vector: WebAuthnTestVector) -> None:
    """fido2's attestation verifier accepts the statement and chains it to §16.1's root."""
    att = AttestationObject(vector.attestation_object)
    _VectorRoot().verify_attestation(
        att, hashlib.sha256(vector.registration_client_data_json).digest()
    )


@pytest.mark.parametrize("name", sorted(FIDO2_CANNOT))
def test_fido2_cannot_check(name: str) -> None:
    """Recorded gap: fido2 refuses these vectors for the reason in FIDO2_CANNOT."""
    vector = BY_NAME[name]
    att = AttestationObject(vector.attestation_object)
    with pytest.raises((InvalidAttestation, ValueError)):
        _VectorRoot().verify_attestation(
            att, hashlib.sha256(vector.registration_client_data_json).digest()
        )


def _pw_register(vector: WebAuthnTestVector) -> object:
    pem = ROOT.public_bytes(serialization.Encoding.PEM)
    return verify_registration_response(
        credential=vector.registration_response(),
        expected_challenge=vector.registration_challenge,
        expected_origin=vector.origin,
        expected_rp_id=vector.rp_id,
        pem_root_certs_bytes_by_fmt={fmt: [pem] for fmt in AttestationFormat},
        supported_pub_key_algs=[COSEAlgorithmIdentifier(vector.algorithm)],
    )


@pytest.mark.parametrize(
    "vector", [v for v in WEBAUTHN_TEST_VECTORS if v.name not in PY_WEBAUTHN_CANNOT], ids=_ids
)
def test_py_webauthn_verifies_registration(vector: WebAuthnTestVector) -> None:
    """py_webauthn accepts the registration, with the recorded credential ID and key."""
    verified = _pw_register(vector)
    assert verified.credential_id == vector.credential_id  # type: ignore[attr-defined]
    assert verified.credential_public_key == vector.credential_public_key  # type: ignore[attr-defined]
    assert verified.aaguid.replace("-", "") == vector.aaguid.hex()  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(set(PY_WEBAUTHN_CANNOT) - {"packed-es384", "packed-ed448"}))
def test_py_webauthn_cannot_check(name: str) -> None:
    """Recorded gap: py_webauthn refuses these vectors for the reason in PY_WEBAUTHN_CANNOT."""
    with pytest.raises(InvalidRegistrationResponse):
        _pw_register(BY_NAME[name])


@pytest.mark.parametrize(
    "vector", [v for v in WEBAUTHN_TEST_VECTORS if v.algorithm not in (-35, -53)], ids=_ids
)
def test_py_webauthn_verifies_authentication(vector: WebAuthnTestVector) -> None:
    """py_webauthn accepts the assertion with the registered public key (counters both 0)."""
    verified = verify_authentication_response(
        credential=vector.authentication_response(),
        expected_challenge=vector.authentication_challenge,
        expected_origin=vector.origin,
        expected_rp_id=vector.rp_id,
        credential_public_key=vector.credential_public_key,
        credential_current_sign_count=0,
    )
    assert verified.new_sign_count == 0
    assert verified.credential_id == vector.credential_id


def test_long_credential_id_is_1023_bytes() -> None:
    """§16.6 carries the longest credential ID the spec allows."""
    assert len(BY_NAME["none-es256-long-credential-id"].credential_id) == 1023


def test_vector_urls_point_at_the_recommendation() -> None:
    """Each vector names its section of the Level 3 recommendation."""
    assert (
        BY_NAME["packed-es256"].url
        == "https://www.w3.org/TR/webauthn-3/#sctn-test-vectors-packed-es256"
    )
    assert _webauthn_vectors.WEBAUTHN_TEST_VECTORS_SOURCE.endswith("#sctn-test-vectors")


@pytest.mark.parametrize(
    ("info", "alg", "name"),
    [
        ("packed.ES256", -7, "packed-es256"),
        ("packed.EdDSA", -8, "packed-eddsa"),
        ("packed.Ed448", -53, "packed-ed448"),
    ],
)
def test_derivation_reproduces_recorded_vector(info: str, alg: int, name: str) -> None:
    """§16's stated derivation (HKDF draws, RFC 6979) reproduces the recorded bytes exactly.

    Reproducing §16.7 and §16.11 byte for byte is what vouches for §16.12 (Ed448),
    whose bytes were re-derived rather than copied.
    """
    derived = derive_packed(info, alg)
    vector = BY_NAME[name]
    for field, value in vars(derived).items():
        assert getattr(vector, field) == value, field


def test_derivation_gives_the_spec_ca_key() -> None:
    """The first 'Attestation CA' draw is §16.1's published attestation_ca_key."""
    expected = "7809337f05740a96a78eedf9e9280499dcc8f2aa129616049ec1dccfe103eb2a"
    assert Draws("Attestation CA").next(32).hex() == expected
