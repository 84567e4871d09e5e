"""Run one WebAuthn response through mfakit, py_webauthn and fido2 and compare verdicts.

Each runner returns True (accepted) or False (refused). mfakit must refuse with an
``MfaError``; anything else escaping it fails the test. The peers are oracles: any
exception they raise counts as a refusal, because they leak low-level exceptions
(``KeyError``, ``cbor2`` errors, ...) on malformed input.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fido2.attestation import AttestationVerifier, NoneAttestation, PackedAttestation
from fido2.server import Fido2Server
from fido2.webauthn import AttestationObject, AttestedCredentialData, PublicKeyCredentialRpEntity
from webauthn import verify_authentication_response, verify_registration_response
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import AttestationFormat

from mfakit import webauthn
from mfakit.errors import MfaError

RP_ID = "example.org"
ORIGIN = "https://example.org"
NOW = datetime(2026, 11, 23, tzinfo=UTC)


def b64(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Registration:
    """A registration response and what the RP expects."""

    response: dict[str, Any]
    challenge: bytes
    algorithm: int
    root: x509.Certificate | None = None
    rp_id: str = RP_ID
    origin: str = ORIGIN


@dataclass(frozen=True)
class Authentication:
    """An assertion response, the registered COSE key and the stored counter."""

    response: dict[str, Any]
    challenge: bytes
    public_key: bytes
    attestation_object: bytes
    stored_count: int = 0
    rp_id: str = RP_ID
    origin: str = ORIGIN


def mfakit_registration(c: Registration) -> bool:
    """mfakit's verdict; only MfaError may signal a refusal."""
    anchors = [c.root] if c.root is not None else []
    try:
        webauthn.verify_registration(
            c.response,
            expected_challenge=c.challenge,
            expected_origins=c.origin,
            expected_rp_id=c.rp_id,
            # The peers refuse a chain that does not reach the given root; so must mfakit.
            attestation=webauthn.AttestationPolicy(
                trust_anchors=anchors, require_trusted=c.root is not None
            ),
            now=NOW,
        )
    except MfaError:
        return False
    return True


def py_webauthn_registration(c: Registration) -> bool:
    """py_webauthn's verdict (any exception is a refusal)."""
    roots = {}
    if c.root is not None:
        pem = c.root.public_bytes(serialization.Encoding.PEM)
        roots = {fmt: [pem] for fmt in AttestationFormat}
    try:
        verify_registration_response(
            credential=c.response,
            expected_challenge=c.challenge,
            expected_origin=c.origin,
            expected_rp_id=c.rp_id,
            pem_root_certs_bytes_by_fmt=roots,
            supported_pub_key_algs=[COSEAlgorithmIdentifier(c.algorithm)],
        )
    except Exception:  # noqa: BLE001  (peer oracle: it leaks arbitrary exceptions)
        return False
    return True


class _Anchored(AttestationVerifier):
    def __init__(self, root: x509.Certificate) -> None:
        super().__init__()
        self._root = root.public_bytes(serialization.Encoding.DER)

    def ca_lookup(self, result: Any, auth_data: Any) -> bytes:
        return self._root


def fido2_registration(c: Registration) -> bool:
    """fido2's verdict: its server's checks, then its attestation statement verifier."""
    server = Fido2Server(PublicKeyCredentialRpEntity(id=c.rp_id, name="Example"))
    state = {"challenge": b64(c.challenge), "user_verification": None}
    try:
        server.register_complete(state, c.response)
        att = AttestationObject(unb64(c.response["response"]["attestationObject"]))
        client_hash = hashlib.sha256(unb64(c.response["response"]["clientDataJSON"])).digest()
        if att.fmt == "none":
            NoneAttestation().verify(att.att_stmt, att.auth_data, client_hash)
        elif att.fmt == "packed" and "x5c" not in att.att_stmt:
            PackedAttestation().verify(att.att_stmt, att.auth_data, client_hash)
        elif c.root is not None:
            _Anchored(c.root).verify_attestation(att, client_hash)
        else:
            return False
    except Exception:  # noqa: BLE001  (peer oracle: it leaks arbitrary exceptions)
        return False
    return True


def mfakit_authentication(c: Authentication, **options: Any) -> bool:
    """mfakit's verdict on an assertion."""
    try:
        webauthn.verify_authentication(
            c.response,
            expected_challenge=c.challenge,
            expected_origins=c.origin,
            expected_rp_id=c.rp_id,
            credential_public_key=c.public_key,
            current_sign_count=c.stored_count,
            **options,
        )
    except MfaError:
        return False
    return True


def py_webauthn_authentication(c: Authentication) -> bool:
    """py_webauthn's verdict on an assertion."""
    try:
        verify_authentication_response(
            credential=c.response,
            expected_challenge=c.challenge,
            expected_origin=c.origin,
            expected_rp_id=c.rp_id,
            credential_public_key=c.public_key,
            credential_current_sign_count=c.stored_count,
        )
    except Exception:  # noqa: BLE001  (peer oracle: it leaks arbitrary exceptions)
        return False
    return True


def fido2_authentication(c: Authentication) -> bool:
    """fido2's server verdict on an assertion (it leaves counters to the application)."""
    server = Fido2Server(PublicKeyCredentialRpEntity(id=c.rp_id, name="Example"))
    state = {"challenge": b64(c.challenge), "user_verification": None}
    credential = AttestationObject(c.attestation_object).auth_data.credential_data
    assert isinstance(credential, AttestedCredentialData)
    try:
        server.authenticate_complete(state, [credential], c.response)
    except Exception:  # noqa: BLE001  (peer oracle: it leaks arbitrary exceptions)
        return False
    return True


def registration_verdicts(c: Registration) -> dict[str, bool]:
    """{implementation: accepted} for a registration."""
    return {
        "mfakit": mfakit_registration(c),
        "py_webauthn": py_webauthn_registration(c),
        "fido2": fido2_registration(c),
    }


def authentication_verdicts(c: Authentication, **mfakit_options: Any) -> dict[str, bool]:
    """{implementation: accepted} for an assertion."""
    return {
        "mfakit": mfakit_authentication(c, **mfakit_options),
        "py_webauthn": py_webauthn_authentication(c),
        "fido2": fido2_authentication(c),
    }
