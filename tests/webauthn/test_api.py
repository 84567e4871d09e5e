"""The public surface of mfakit.webauthn is pinned."""

from __future__ import annotations

import mfakit.webauthn

EXPECTED = [
    "ATTESTATION_FORMATS",
    "AttestationObject",
    "AttestationPolicy",
    "AttestationType",
    "AttestedCredentialData",
    "AuthenticationOptions",
    "AuthenticationResponse",
    "AuthenticatorData",
    "AuthenticatorFlags",
    "AuthenticatorStatus",
    "CERTIFICATION_LEVELS",
    "COSEAlgorithm",
    "CollectedClientData",
    "CredentialDescriptor",
    "CredentialPublicKey",
    "DEFAULT_ALGORITHMS",
    "DEFAULT_REJECTED_STATUSES",
    "DEFAULT_TIMEOUT_MS",
    "MAX_ATTESTATION_BYTES",
    "MAX_AUTH_DATA_BYTES",
    "MAX_BLOB_BYTES",
    "MAX_CLIENT_DATA_BYTES",
    "MAX_COSE_KEY_BYTES",
    "MAX_CREDENTIAL_ID_BYTES",
    "MAX_RESPONSE_BYTES",
    "MAX_SIGNATURE_BYTES",
    "MAX_USER_HANDLE_BYTES",
    "MetadataBLOB",
    "MetadataEntry",
    "MetadataProvider",
    "MetadataSource",
    "PublicRoot",
    "RegistrationOptions",
    "RegistrationResponse",
    "StatusReport",
    "VerifiedAuthentication",
    "VerifiedRegistration",
    "authentication_options",
    "load_metadata",
    "parse_attestation_object",
    "parse_authentication_response",
    "parse_authenticator_data",
    "parse_client_data",
    "parse_credential_public_key",
    "parse_metadata_blob",
    "parse_registration_response",
    "public_roots",
    "public_trust_anchors",
    "registration_options",
    "verify_authentication",
    "verify_registration",
]


def test_all_is_pinned() -> None:
    """mfakit.webauthn exports exactly these names, sorted."""
    assert mfakit.webauthn.__all__ == sorted(EXPECTED)
