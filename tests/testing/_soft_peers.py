"""Oracles: drive py_webauthn and fido2 with SoftAuthenticator responses.

Peers are used only here, as independent verifiers of what the software
authenticator produces (they never appear in ``src/``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fido2.attestation import AttestationVerifier, NoneAttestation, PackedAttestation
from fido2.server import Fido2Server
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    UserVerificationRequirement,
)
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import PublicKeyCredentialDescriptor

from mfakit.testing import SoftAuthenticator

RP_ID = "example.org"
ORIGIN = "https://example.org"

#: COSE algorithms py_webauthn 2.x verifies (it has no ES384: see the differential tests).
PY_WEBAUTHN_ALGS = frozenset({-7, -36, -257, -37, -8, -48})


def b64decode(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Anchored(AttestationVerifier):
    """fido2's attestation verifier with one trust anchor for every AAGUID."""

    def __init__(self, root: x509.Certificate) -> None:
        super().__init__()
        self._root = root.public_bytes(serialization.Encoding.DER)

    def ca_lookup(self, result: Any, auth_data: Any) -> bytes:
        return self._root


def fido2_verify_statement(response: dict[str, Any], root: x509.Certificate | None) -> None:
    """Check a registration's attestation statement (and chain to ``root``) with fido2.

    Raises whatever fido2 raises when the statement or its chain is not valid.
    """
    att = AttestationObject(b64decode(response["response"]["attestationObject"]))
    client_hash = hashlib.sha256(b64decode(response["response"]["clientDataJSON"])).digest()
    if att.fmt == "none":
        NoneAttestation().verify(att.att_stmt, att.auth_data, client_hash)
    elif root is None:  # packed self attestation: no chain
        PackedAttestation().verify(att.att_stmt, att.auth_data, client_hash)
    else:
        _Anchored(root).verify_attestation(att, client_hash)


def pw_options(alg: int | None) -> tuple[bytes, dict[str, Any]]:
    """py_webauthn registration options: (challenge, Level 3 JSON)."""
    algs = None if alg is None else [COSEAlgorithmIdentifier(alg)]
    opts = generate_registration_options(
        rp_id=RP_ID,
        rp_name="Example",
        user_name="ada",
        user_id=b"user-1",
        supported_pub_key_algs=algs,
    )
    return opts.challenge, json.loads(options_to_json(opts))


def pw_register(
    auth: SoftAuthenticator, alg: int, *, uv: bool = False, faults: Any = ()
) -> tuple[Any, dict[str, Any]]:
    """Register with py_webauthn; returns (VerifiedRegistration, response)."""
    challenge, options = pw_options(alg)
    response = auth.create(options, algorithm=alg, faults=faults)
    verified = verify_registration_response(
        credential=response,
        expected_challenge=challenge,
        expected_origin=ORIGIN,
        expected_rp_id=RP_ID,
        require_user_verification=uv,
        supported_pub_key_algs=[COSEAlgorithmIdentifier(alg)],
    )
    return verified, response


def pw_authenticate(
    auth: SoftAuthenticator,
    registered: Any,
    *,
    uv: bool = False,
    faults: Any = (),
    stored_count: int | None = None,
) -> Any:
    """Authenticate with py_webauthn against a py_webauthn registration."""
    opts = generate_authentication_options(
        rp_id=RP_ID, allow_credentials=[PublicKeyCredentialDescriptor(id=registered.credential_id)]
    )
    response = auth.get(json.loads(options_to_json(opts)), faults=faults)
    return verify_authentication_response(
        credential=response,
        expected_challenge=opts.challenge,
        expected_origin=ORIGIN,
        expected_rp_id=RP_ID,
        credential_public_key=registered.credential_public_key,
        credential_current_sign_count=(
            registered.sign_count if stored_count is None else stored_count
        ),
        require_user_verification=uv,
    )


def fido2_server() -> Fido2Server:
    """A fido2 server for the test RP."""
    return Fido2Server(PublicKeyCredentialRpEntity(id=RP_ID, name="Example"))


def fido2_register(
    server: Fido2Server,
    auth: SoftAuthenticator,
    alg: int,
    *,
    uv: bool = False,
    faults: Any = (),
) -> AttestedCredentialData:
    """Register through fido2's server; returns the attested credential data."""
    options, state = server.register_begin(
        PublicKeyCredentialUserEntity(id=b"user-1", name="ada", display_name="Ada"),
        user_verification=UserVerificationRequirement.REQUIRED if uv else None,
    )
    response = auth.create(dict(options)["publicKey"], algorithm=alg, faults=faults)
    auth_data = server.register_complete(state, response)
    assert auth_data.credential_data is not None
    return auth_data.credential_data


def fido2_authenticate(
    server: Fido2Server,
    auth: SoftAuthenticator,
    credential: AttestedCredentialData,
    *,
    uv: bool = False,
    faults: Any = (),
) -> AttestedCredentialData:
    """Authenticate through fido2's server."""
    options, state = server.authenticate_begin(
        [credential], user_verification=UserVerificationRequirement.REQUIRED if uv else None
    )
    response = auth.get(dict(options)["publicKey"], faults=faults)
    return server.authenticate_complete(state, [credential], response)
