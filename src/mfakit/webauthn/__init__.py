"""Passkeys and security keys: a WebAuthn Level 3 relying-party verifier.

Build ceremony options, send their Level 3 JSON to the browser, and verify
what comes back:

* :func:`registration_options` / :func:`authentication_options` (§5.4, §5.5);
* :func:`verify_registration` (§7.1) with every attestation format of §8
  (``none``, ``packed``, ``fido-u2f``, ``tpm``, ``android-key``,
  ``android-safetynet``, ``apple``, ``compound``) and an :class:`AttestationPolicy`
  (trust anchors per format and AAGUID, :func:`public_trust_anchors`, CRLs,
  FIDO metadata from :func:`parse_metadata_blob`);
* :func:`verify_authentication` (§7.2), with a cacheable
  :class:`CredentialPublicKey` from :func:`parse_credential_public_key`.

Parsers (``parse_*``) are strict, size-limited and keep raw bytes; they raise
:class:`~mfakit.errors.MalformedDataError`. Verifiers raise a
:class:`~mfakit.errors.VerificationError` subclass. Nothing else escapes.

Example::

    from mfakit import webauthn

    options = webauthn.authentication_options(rp_id="example.com")
    session["challenge"] = options.challenge
    # ... the browser signs options.to_json() ...
    result = webauthn.verify_authentication(
        posted_json,
        expected_challenge=session.pop("challenge"),
        expected_origins="https://example.com",
        expected_rp_id="example.com",
        credential_public_key=cached_key,
        current_sign_count=stored.sign_count,
    )
"""

from __future__ import annotations

from ._attestation import ATTESTATION_FORMATS, AttestationPolicy, MetadataProvider
from ._authentication import VerifiedAuthentication, verify_authentication
from ._cose import (
    DEFAULT_ALGORITHMS,
    MAX_COSE_KEY_BYTES,
    COSEAlgorithm,
    CredentialPublicKey,
    parse_credential_public_key,
)
from ._fmt_common import AttestationType
from ._metadata import (
    CERTIFICATION_LEVELS,
    DEFAULT_REJECTED_STATUSES,
    MAX_BLOB_BYTES,
    AuthenticatorStatus,
    MetadataBLOB,
    MetadataEntry,
    MetadataSource,
    StatusReport,
    load_metadata,
    parse_metadata_blob,
)
from ._options import (
    DEFAULT_TIMEOUT_MS,
    AuthenticationOptions,
    CredentialDescriptor,
    RegistrationOptions,
    authentication_options,
    registration_options,
)
from ._registration import VerifiedRegistration, verify_registration
from ._response import (
    MAX_RESPONSE_BYTES,
    AuthenticationResponse,
    RegistrationResponse,
    parse_authentication_response,
    parse_registration_response,
)
from ._roots import PublicRoot, public_roots, public_trust_anchors
from ._structures import (
    MAX_ATTESTATION_BYTES,
    MAX_AUTH_DATA_BYTES,
    MAX_CLIENT_DATA_BYTES,
    MAX_CREDENTIAL_ID_BYTES,
    MAX_SIGNATURE_BYTES,
    MAX_USER_HANDLE_BYTES,
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    AuthenticatorFlags,
    CollectedClientData,
    parse_attestation_object,
    parse_authenticator_data,
    parse_client_data,
)

# Plain sorted() order, which tests/test_public_api.py pins (ruff prefers isort order).
__all__ = [
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
