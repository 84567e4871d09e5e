"""Low-level WebAuthn structures: parsers, parsed structures and size limits.

Most applications never need this module: :func:`mfakit.webauthn.verify_registration`
and :func:`mfakit.webauthn.verify_authentication` parse and check everything.
It is for tools that look inside a response (a debugger, an ``inspect``
command, an authenticator's test suite) and for code that must read a
structure before verifying it, such as finding a credential by its id.

**A parsed structure is not a verified one.** Nothing here checks a
challenge, an origin, a flag or a signature: the parsers only refuse what
is malformed or over a limit, with :class:`~mfakit.errors.MalformedDataError`.
Never take a decision on what they return alone.

Every structure is immutable and keeps the raw bytes it came from, because
signatures are computed over raw bytes, never over a re-encoding.
"""

from __future__ import annotations

from ._cbor import MAX_DEPTH as MAX_CBOR_DEPTH
from ._cose import MAX_COSE_KEY_BYTES
from ._public import publish
from ._response import (
    MAX_RESPONSE_BYTES,
    AuthenticationResponse,
    RegistrationResponse,
    parse_authentication_response,
    parse_registration_response,
)
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

# Plain sorted() order, which tests/test_public_api.py pins.
__all__ = [
    "AttestationObject",
    "AttestedCredentialData",
    "AuthenticationResponse",
    "AuthenticatorData",
    "AuthenticatorFlags",
    "CollectedClientData",
    "MAX_ATTESTATION_BYTES",
    "MAX_AUTH_DATA_BYTES",
    "MAX_CBOR_DEPTH",
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
]

publish(__name__, globals(), __all__)
