"""The browser's ``PublicKeyCredential`` in WebAuthn Level 3 JSON form (§5.1.8, §5.1.9).

``credential.toJSON()`` gives a ``RegistrationResponseJSON`` or an
``AuthenticationResponseJSON``; the host app posts it to its server as is.
Binary members are unpadded base64url. The JSON text of a response may be at
most :data:`MAX_RESPONSE_BYTES` long.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from typing_extensions import TypedDict

from mfakit.errors import MalformedDataError

from ._b64 import b64url_decode
from ._structures import (
    EMPTY_MAP,
    MAX_ATTESTATION_BYTES,
    MAX_AUTH_DATA_BYTES,
    MAX_CLIENT_DATA_BYTES,
    MAX_CREDENTIAL_ID_BYTES,
    MAX_SIGNATURE_BYTES,
    MAX_USER_HANDLE_BYTES,
    _freeze,
    loads_json,
)

__all__ = [
    "MAX_RESPONSE_BYTES",
    "AuthenticationResponseJSON",
    "AuthenticatorAssertionResponseJSON",
    "AuthenticatorAttestationResponseJSON",
    "RegistrationResponseJSON",
    "AuthenticationResponse",
    "RegistrationResponse",
    "parse_authentication_response",
    "parse_registration_response",
]

#: Largest response JSON text accepted, in bytes or characters.
MAX_RESPONSE_BYTES = 128 * 1024


def _b64_limit(nbytes: int) -> int:
    return (nbytes * 4 + 2) // 3


_ID_MAX = _b64_limit(MAX_CREDENTIAL_ID_BYTES)
_CD_MAX = _b64_limit(MAX_CLIENT_DATA_BYTES)
_AD_MAX = _b64_limit(MAX_AUTH_DATA_BYTES)
_AO_MAX = _b64_limit(MAX_ATTESTATION_BYTES)
_SIG_MAX = _b64_limit(MAX_SIGNATURE_BYTES)
_UH_MAX = _b64_limit(MAX_USER_HANDLE_BYTES)
_ATTACHMENTS = frozenset({"platform", "cross-platform"})


# The WebAuthn Level 3 JSON shapes verify_registration / verify_authentication
# accept (what ``credential.toJSON()`` gives), for callers that type-check what
# they pass. Binary members are unpadded base64url. Only the members mfakit
# reads are listed; clients may send more.


# Optional members go in ``total=False`` subclasses: ``NotRequired`` inside
# postponed (string) annotations is not seen at run time.


class _AttestationResponseRequired(TypedDict):
    clientDataJSON: str
    attestationObject: str


class AuthenticatorAttestationResponseJSON(_AttestationResponseRequired, total=False):
    """``AuthenticatorAttestationResponseJSON`` (§5.2.1)."""

    transports: list[str]


class _RegistrationRequired(TypedDict):
    id: str
    rawId: str
    type: Literal["public-key"]
    response: AuthenticatorAttestationResponseJSON
    clientExtensionResults: dict[str, Any]


class RegistrationResponseJSON(_RegistrationRequired, total=False):
    """``RegistrationResponseJSON`` (§5.1.8): the ``response`` verify_registration takes."""

    authenticatorAttachment: str


class _AssertionResponseRequired(TypedDict):
    clientDataJSON: str
    authenticatorData: str
    signature: str


class AuthenticatorAssertionResponseJSON(_AssertionResponseRequired, total=False):
    """``AuthenticatorAssertionResponseJSON`` (§5.2.2)."""

    userHandle: str


class _AuthenticationRequired(TypedDict):
    id: str
    rawId: str
    type: Literal["public-key"]
    response: AuthenticatorAssertionResponseJSON
    clientExtensionResults: dict[str, Any]


class AuthenticationResponseJSON(_AuthenticationRequired, total=False):
    """``AuthenticationResponseJSON`` (§5.1.9): the ``response`` verify_authentication takes."""

    authenticatorAttachment: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistrationResponse:
    """A decoded ``RegistrationResponseJSON`` (structure only; nothing verified).

    Attributes:
        credential_id: ``rawId`` decoded.
        client_data_json: The raw ``clientDataJSON``.
        attestation_object: The raw ``attestationObject``.
        transports: ``getTransports()`` as reported.
        authenticator_attachment: ``platform``, ``cross-platform`` or ``None``.
        client_extension_results: ``getClientExtensionResults()`` (read-only).
    """

    credential_id: bytes
    client_data_json: bytes = field(repr=False)
    attestation_object: bytes = field(repr=False)
    transports: tuple[str, ...] = ()
    authenticator_attachment: str | None = None
    client_extension_results: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticationResponse:
    """A decoded ``AuthenticationResponseJSON`` (structure only; nothing verified).

    Attributes:
        credential_id: ``rawId`` decoded.
        client_data_json: The raw ``clientDataJSON``.
        authenticator_data: The raw ``authenticatorData``.
        signature: The assertion signature.
        user_handle: ``userHandle`` when the authenticator returned one.
        authenticator_attachment: ``platform``, ``cross-platform`` or ``None``.
        client_extension_results: ``getClientExtensionResults()`` (read-only).
    """

    credential_id: bytes
    client_data_json: bytes = field(repr=False)
    authenticator_data: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    user_handle: bytes | None = None
    authenticator_attachment: str | None = None
    client_extension_results: Mapping[str, Any]


def _envelope(response: object) -> tuple[dict[str, Any], dict[str, Any], bytes, Any, Any]:
    """Check the members common to both responses; return (outer, inner, id, attachment, ext)."""
    if type(response) is not dict:
        if isinstance(response, str | bytes | bytearray):
            if len(response) > MAX_RESPONSE_BYTES:
                raise MalformedDataError("response too large", field="response")
            response = loads_json(
                bytes(response) if isinstance(response, bytearray) else response, field="response"
            )
        if type(response) is not dict:
            raise MalformedDataError("response must be a JSON object", field="response")
    outer: dict[str, Any] = response
    if outer.get("type") != "public-key":
        raise MalformedDataError('type must be "public-key"', field="type")
    raw_id_text = outer.get("rawId")
    credential_id = b64url_decode(raw_id_text, field="rawId", max_len=_ID_MAX)
    # §5.1.8: id is base64url(rawId); the canonical encoding makes text equality exact.
    if outer.get("id") != raw_id_text:
        raise MalformedDataError("id does not equal rawId", field="id")
    if not credential_id:
        raise MalformedDataError("empty credential id", field="rawId")
    inner = outer.get("response")
    if type(inner) is not dict:
        raise MalformedDataError("response member missing", field="response")
    attachment = outer.get("authenticatorAttachment")
    if attachment is not None and (type(attachment) is not str or attachment not in _ATTACHMENTS):
        # Unknown values are ignored by clients (§5.4.5); an RP cannot rely on them.
        attachment = None
    ext = outer.get("clientExtensionResults", EMPTY_MAP)
    if ext is not EMPTY_MAP:
        if type(ext) is not dict:
            raise MalformedDataError(
                "clientExtensionResults must be an object", field="clientExtensionResults"
            )
        ext = _freeze(ext) if ext else EMPTY_MAP
    return outer, inner, credential_id, attachment, ext


def parse_registration_response(response: object) -> RegistrationResponse:
    """Decode a ``RegistrationResponseJSON`` (WebAuthn Level 3 §5.1.8).

    Args:
        response: A ``dict``, or the JSON as ``str`` / ``bytes``.

    Raises:
        MalformedDataError: Not the Level 3 JSON form: missing or mistyped
            members, bad base64url, ``id`` different from ``rawId``, ``type``
            other than ``"public-key"``, or a size limit exceeded.
    """
    _, inner, credential_id, attachment, ext = _envelope(response)
    transports = inner.get("transports", ())
    if transports != ():
        if type(transports) is not list or any(type(t) is not str for t in transports):
            raise MalformedDataError("transports must be a list of strings", field="transports")
        if len(transports) > 16:
            raise MalformedDataError("too many transports", field="transports")
        transports = tuple(dict.fromkeys(transports))
    return RegistrationResponse(
        credential_id=credential_id,
        client_data_json=b64url_decode(
            inner.get("clientDataJSON"), field="clientDataJSON", max_len=_CD_MAX
        ),
        attestation_object=b64url_decode(
            inner.get("attestationObject"), field="attestationObject", max_len=_AO_MAX
        ),
        transports=transports,
        authenticator_attachment=attachment,
        client_extension_results=ext,
    )


def parse_authentication_response(response: object) -> AuthenticationResponse:
    """Decode an ``AuthenticationResponseJSON`` (WebAuthn Level 3 §5.1.9).

    Args:
        response: A ``dict``, or the JSON as ``str`` / ``bytes``.

    Raises:
        MalformedDataError: As for :func:`parse_registration_response`; also a
            ``userHandle`` longer than 64 bytes.
    """
    _, inner, credential_id, attachment, ext = _envelope(response)
    handle_text = inner.get("userHandle")
    user_handle = (
        None
        if handle_text is None
        else b64url_decode(handle_text, field="userHandle", max_len=_UH_MAX)
    )
    return AuthenticationResponse(
        credential_id=credential_id,
        client_data_json=b64url_decode(
            inner.get("clientDataJSON"), field="clientDataJSON", max_len=_CD_MAX
        ),
        authenticator_data=b64url_decode(
            inner.get("authenticatorData"), field="authenticatorData", max_len=_AD_MAX
        ),
        signature=b64url_decode(inner.get("signature"), field="signature", max_len=_SIG_MAX),
        # An empty userHandle is what a non-discoverable credential returns.
        user_handle=user_handle or None,
        authenticator_attachment=attachment,
        client_extension_results=ext,
    )
