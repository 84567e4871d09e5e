"""Passkeys and security keys: a WebAuthn Level 3 relying-party verifier.

The recipes: build ceremony options, send their Level 3 JSON to the
browser, and verify what comes back.

* :func:`registration_options` / :func:`authentication_options` (§5.4, §5.5);
* :func:`verify_registration` (§7.1) with every attestation format of §8
  and an :class:`AttestationPolicy` (trust anchors, :func:`public_trust_anchors`,
  CRLs, FIDO metadata);
* :func:`verify_authentication` (§7.2), with a cacheable
  :class:`CredentialPublicKey` from :func:`parse_credential_public_key`;
* the results :class:`VerifiedRegistration` and :class:`VerifiedAuthentication`,
  and the errors they raise (also in :mod:`mfakit.errors`);
* :func:`related_origins_document` and :func:`origin_covered` for related
  origin requests (§5.11, the ``/.well-known/webauthn`` document);
* :func:`unknown_credential_signal`, :func:`all_accepted_credentials_signal`
  and :func:`current_user_details_signal`: the payloads of the browser's
  Signal API, which keep passkey providers in step with the server.

Each verifier follows one path, in the spec's step order; signatures are
checked only by ``cryptography`` and CBOR is decoded only by ``cbor2``.
Verifiers raise a :class:`~mfakit.errors.VerificationError` subclass, or
:class:`~mfakit.errors.MalformedDataError` for input that cannot be parsed.
Nothing else escapes.

Beyond the recipes:

* :mod:`mfakit.webauthn.attestation`: the attestation formats, the format
  registry and the shipped public roots;
* :mod:`mfakit.webauthn.metadata`: the FIDO Metadata Service (MDS3);
* :mod:`mfakit.webauthn.low_level`: parsers, parsed structures and size
  limits, for tools that look inside a response (parsed is not verified);
* :mod:`mfakit.webauthn.typing`: ``TypedDict`` shapes of the Level 3 JSON.

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

import importlib
import warnings
from typing import Any

from mfakit.errors import (
    CeremonyMismatchError,
    InvalidAttestationError,
    InvalidSignatureError,
    MalformedDataError,
    SignCountError,
    UnsupportedAlgorithmError,
    UnsupportedAttestationError,
    UntrustedAttestationError,
    UserPresenceError,
    UserVerificationError,
    WebAuthnError,
)

from . import attestation, low_level, metadata, typing
from ._authentication import VerifiedAuthentication, verify_authentication
from ._cose import (
    DEFAULT_ALGORITHMS,
    COSEAlgorithm,
    CredentialPublicKey,
    parse_credential_public_key,
)
from ._options import (
    DEFAULT_TIMEOUT_MS,
    AuthenticationOptions,
    CredentialDescriptor,
    RegistrationOptions,
    authentication_options,
    registration_options,
)
from ._public import publish
from ._registration import VerifiedRegistration, verify_registration
from ._related import (
    MAX_ORIGIN_LABELS,
    RELATED_ORIGINS_PATH,
    origin_covered,
    related_origins_document,
)
from ._signals import (
    all_accepted_credentials_signal,
    current_user_details_signal,
    unknown_credential_signal,
)
from .attestation import (
    AttestationPolicy,
    AttestationType,
    MetadataProvider,
    public_trust_anchors,
)

# Plain sorted() order, which tests/test_public_api.py pins (ruff prefers isort order).
__all__ = [
    "AttestationPolicy",
    "AttestationType",
    "AuthenticationOptions",
    "COSEAlgorithm",
    "CeremonyMismatchError",
    "CredentialDescriptor",
    "CredentialPublicKey",
    "DEFAULT_ALGORITHMS",
    "DEFAULT_TIMEOUT_MS",
    "InvalidAttestationError",
    "InvalidSignatureError",
    "MAX_ORIGIN_LABELS",
    "MalformedDataError",
    "MetadataProvider",
    "RELATED_ORIGINS_PATH",
    "RegistrationOptions",
    "SignCountError",
    "UnsupportedAlgorithmError",
    "UnsupportedAttestationError",
    "UntrustedAttestationError",
    "UserPresenceError",
    "UserVerificationError",
    "VerifiedAuthentication",
    "VerifiedRegistration",
    "WebAuthnError",
    "all_accepted_credentials_signal",
    "attestation",
    "authentication_options",
    "current_user_details_signal",
    "low_level",
    "metadata",
    "origin_covered",
    "parse_credential_public_key",
    "public_trust_anchors",
    "registration_options",
    "related_origins_document",
    "typing",
    "unknown_credential_signal",
    "verify_authentication",
    "verify_registration",
]

publish(__name__, globals(), __all__)

# Names this module exported before the front door was made small, and the
# module each now lives in. They keep working, with a DeprecationWarning,
# until the release after 0.1.
_MOVED: dict[str, str] = {
    **dict.fromkeys(
        (
            "AttestationObject",
            "AttestedCredentialData",
            "AuthenticationResponse",
            "AuthenticatorData",
            "AuthenticatorFlags",
            "CollectedClientData",
            "MAX_ATTESTATION_BYTES",
            "MAX_AUTH_DATA_BYTES",
            "MAX_CLIENT_DATA_BYTES",
            "MAX_COSE_KEY_BYTES",
            "MAX_CREDENTIAL_ID_BYTES",
            "MAX_RESPONSE_BYTES",
            "MAX_SIGNATURE_BYTES",
            "MAX_USER_HANDLE_BYTES",
            "RegistrationResponse",
            "parse_attestation_object",
            "parse_authentication_response",
            "parse_authenticator_data",
            "parse_client_data",
            "parse_registration_response",
        ),
        "mfakit.webauthn.low_level",
    ),
    **dict.fromkeys(
        (
            "AuthenticatorStatus",
            "CERTIFICATION_LEVELS",
            "DEFAULT_REJECTED_STATUSES",
            "MAX_BLOB_BYTES",
            "MetadataBLOB",
            "MetadataEntry",
            "MetadataSource",
            "StatusReport",
            "load_metadata",
            "parse_metadata_blob",
        ),
        "mfakit.webauthn.metadata",
    ),
    **dict.fromkeys(
        ("ATTESTATION_FORMATS", "PublicRoot", "public_roots"), "mfakit.webauthn.attestation"
    ),
}


def __getattr__(name: str) -> Any:
    """Forward a moved name to its new module, with a DeprecationWarning."""
    new_module = _MOVED.get(name)
    if new_module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"mfakit.webauthn.{name} moved to {new_module}.{name}; "
        "the old name will be removed in the release after 0.1",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(new_module), name)
