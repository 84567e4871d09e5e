"""Signal API payloads (WebAuthn Level 3): keep the user's passkey provider in step.

A relying party tells the browser, and through it the passkey provider, what
it knows about the user's credentials, so the provider can hide a deleted
passkey or show a renamed account (source: W3C WebAuthn Level 3, the
``PublicKeyCredential`` signal methods; MDN's pages on them):

* ``PublicKeyCredential.signalUnknownCredential({rpId, credentialId})``:
  the relying party does not know this credential (it was deleted, or a sign-in
  used a credential that was never registered);
* ``PublicKeyCredential.signalAllAcceptedCredentials({rpId, userId,
  allAcceptedCredentialIds})``: the complete list of the user's credentials;
  the provider may hide the user's others;
* ``PublicKeyCredential.signalCurrentUserDetails({rpId, userId, name,
  displayName})``: the user's current names.

The functions here build those dictionaries (binary values as unpadded
base64url, as the browser expects). They never send anything: the page does,
with ``mfakit-webauthn.js`` or its own script. Signals are hints: a browser
may ignore them, and nothing here is a security decision.
"""

from __future__ import annotations

from collections.abc import Iterable

from typing_extensions import TypedDict

from mfakit.errors import ConfigurationError

from ._b64 import b64url_encode

__all__ = [
    "AllAcceptedCredentialsOptionsJSON",
    "CurrentUserDetailsOptionsJSON",
    "UnknownCredentialOptionsJSON",
    "all_accepted_credentials_signal",
    "current_user_details_signal",
    "unknown_credential_signal",
]

# §5.1.3 (credential ids are at most 1023 bytes) and §5.4.3 (user handles are
# 1 to 64 bytes).
_MAX_CREDENTIAL_ID = 1023
_MAX_USER_HANDLE = 64
_MAX_NAME = 1024
_MAX_CREDENTIALS = 10_000


class UnknownCredentialOptionsJSON(TypedDict):
    """The argument of ``PublicKeyCredential.signalUnknownCredential``."""

    rpId: str
    credentialId: str


class AllAcceptedCredentialsOptionsJSON(TypedDict):
    """The argument of ``PublicKeyCredential.signalAllAcceptedCredentials``."""

    rpId: str
    userId: str
    allAcceptedCredentialIds: list[str]


class CurrentUserDetailsOptionsJSON(TypedDict):
    """The argument of ``PublicKeyCredential.signalCurrentUserDetails``."""

    rpId: str
    userId: str
    name: str
    displayName: str


def _rp_id(rp_id: object) -> str:
    if not isinstance(rp_id, str) or not rp_id:
        raise ConfigurationError("rp_id must be a non-empty string")
    return rp_id


def _bytes(value: object, field: str, max_len: int) -> str:
    if not isinstance(value, bytes) or not 1 <= len(value) <= max_len:
        raise ConfigurationError(f"{field} must be 1 to {max_len} bytes")
    return b64url_encode(value)


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or len(value) > _MAX_NAME:
        raise ConfigurationError(f"{field} must be a string of at most {_MAX_NAME} characters")
    return value


def unknown_credential_signal(*, rp_id: str, credential_id: bytes) -> UnknownCredentialOptionsJSON:
    """The payload of ``signalUnknownCredential``: this credential is not (or no longer) known.

    Send it after a sign-in presented a credential the relying party does not
    know, or after the user deleted a passkey (the provider may then remove it).

    Raises:
        ConfigurationError: ``rp_id`` empty, or ``credential_id`` not 1 to 1023 bytes.
    """
    return {
        "rpId": _rp_id(rp_id),
        "credentialId": _bytes(credential_id, "credential_id", _MAX_CREDENTIAL_ID),
    }


def all_accepted_credentials_signal(
    *, rp_id: str, user_handle: bytes, credential_ids: Iterable[bytes]
) -> AllAcceptedCredentialsOptionsJSON:
    """The payload of ``signalAllAcceptedCredentials``: every credential the user still has.

    ``credential_ids`` must be the user's complete list: a provider may hide
    any of the user's credentials that it does not name. Duplicates are
    dropped, the order is kept.

    Raises:
        ConfigurationError: ``rp_id`` empty, ``user_handle`` not 1 to 64 bytes,
            a credential id not 1 to 1023 bytes, or more than 10,000 ids.
    """
    rp = _rp_id(rp_id)
    handle = _bytes(user_handle, "user_handle", _MAX_USER_HANDLE)
    given: object = credential_ids  # a bytes value is iterable too: refuse it
    if isinstance(given, (bytes, str)):
        raise ConfigurationError("credential_ids must be an iterable of credential ids")
    ids: dict[str, None] = {}
    for credential_id in credential_ids:
        ids[_bytes(credential_id, "each credential id", _MAX_CREDENTIAL_ID)] = None
        if len(ids) > _MAX_CREDENTIALS:
            raise ConfigurationError(f"credential_ids has more than {_MAX_CREDENTIALS} ids")
    return {"rpId": rp, "userId": handle, "allAcceptedCredentialIds": list(ids)}


def current_user_details_signal(
    *, rp_id: str, user_handle: bytes, name: str, display_name: str
) -> CurrentUserDetailsOptionsJSON:
    """The payload of ``signalCurrentUserDetails``: the user's current account and display names.

    Send it after the user changed either, so the passkey provider shows the
    new ones.

    Raises:
        ConfigurationError: ``rp_id`` empty, ``user_handle`` not 1 to 64 bytes,
            or a name not a string of at most 1,024 characters.
    """
    return {
        "rpId": _rp_id(rp_id),
        "userId": _bytes(user_handle, "user_handle", _MAX_USER_HANDLE),
        "name": _text(name, "name"),
        "displayName": _text(display_name, "display_name"),
    }
