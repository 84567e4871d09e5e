"""Ceremony options: what the server sends to ``navigator.credentials.create/get``.

:func:`registration_options` and :func:`authentication_options` build
immutable option objects; ``to_json()`` gives the WebAuthn Level 3 JSON form
(``PublicKeyCredentialCreationOptionsJSON`` §5.4.11 and
``PublicKeyCredentialRequestOptionsJSON`` §5.5.1) that
``PublicKeyCredential.parseCreationOptionsFromJSON()`` and
``parseRequestOptionsFromJSON()`` accept. Keep :attr:`challenge` on the server
(in the session) and pass it as ``expected_challenge`` when verifying.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from typing_extensions import TypedDict

from mfakit.errors import ConfigurationError

from ._b64 import b64url_encode
from ._ceremony import MAX_CHALLENGE_BYTES
from ._cose import DEFAULT_ALGORITHMS, COSEAlgorithm

__all__ = [
    "DEFAULT_TIMEOUT_MS",
    "AuthenticationOptions",
    "AuthenticatorSelectionCriteriaJSON",
    "CredentialDescriptor",
    "PublicKeyCredentialCreationOptionsJSON",
    "PublicKeyCredentialDescriptorJSON",
    "PublicKeyCredentialParametersJSON",
    "PublicKeyCredentialRequestOptionsJSON",
    "PublicKeyCredentialRpEntityJSON",
    "PublicKeyCredentialUserEntityJSON",
    "RegistrationOptions",
    "authentication_options",
    "registration_options",
]

#: Default ceremony timeout: 5 minutes (the range §15.1 recommends is 5-10 min).
DEFAULT_TIMEOUT_MS = 300_000
#: Shortest challenge accepted, in bytes (§13.4.3 asks for at least 16); the
#: longest is :data:`MAX_CHALLENGE_BYTES` (768), what client data may carry.
MIN_CHALLENGE_BYTES = 16

_USER_VERIFICATION = frozenset({"required", "preferred", "discouraged"})
_RESIDENT_KEY = frozenset({"required", "preferred", "discouraged"})
_ATTESTATION = frozenset({"none", "indirect", "direct", "enterprise"})
_HINTS = frozenset({"security-key", "client-device", "hybrid"})
_ATTACHMENT = frozenset({"platform", "cross-platform"})
_TRANSPORTS = frozenset({"usb", "nfc", "ble", "smart-card", "hybrid", "internal"})


# The WebAuthn Level 3 JSON shapes ``to_json()`` returns, for callers that
# type-check what they send to the browser. Binary members are unpadded base64url.


# Optional members go in a ``total=False`` subclass: ``NotRequired`` inside
# postponed (string) annotations is not seen at run time.


class _DescriptorRequired(TypedDict):
    type: Literal["public-key"]
    id: str


class PublicKeyCredentialDescriptorJSON(_DescriptorRequired, total=False):
    """``PublicKeyCredentialDescriptorJSON`` (§5.8.3)."""

    transports: list[str]


class PublicKeyCredentialRpEntityJSON(TypedDict):
    """``PublicKeyCredentialRpEntity`` (§5.4.2) as JSON."""

    id: str
    name: str


class PublicKeyCredentialUserEntityJSON(TypedDict):
    """``PublicKeyCredentialUserEntityJSON`` (§5.4.3)."""

    id: str
    name: str
    displayName: str


class PublicKeyCredentialParametersJSON(TypedDict):
    """``PublicKeyCredentialParameters`` (§5.3): one acceptable COSE algorithm."""

    type: Literal["public-key"]
    alg: int


class _SelectionRequired(TypedDict):
    residentKey: str
    requireResidentKey: bool
    userVerification: str


class AuthenticatorSelectionCriteriaJSON(_SelectionRequired, total=False):
    """``AuthenticatorSelectionCriteria`` (§5.4.4) as JSON."""

    authenticatorAttachment: str


class PublicKeyCredentialCreationOptionsJSON(TypedDict):
    """``PublicKeyCredentialCreationOptionsJSON`` (§5.4.11): ``RegistrationOptions.to_json()``."""

    rp: PublicKeyCredentialRpEntityJSON
    user: PublicKeyCredentialUserEntityJSON
    challenge: str
    pubKeyCredParams: list[PublicKeyCredentialParametersJSON]
    timeout: int
    excludeCredentials: list[PublicKeyCredentialDescriptorJSON]
    authenticatorSelection: AuthenticatorSelectionCriteriaJSON
    hints: list[str]
    attestation: str
    extensions: dict[str, Any]


class PublicKeyCredentialRequestOptionsJSON(TypedDict):
    """``PublicKeyCredentialRequestOptionsJSON`` (§5.5.1): ``AuthenticationOptions.to_json()``."""

    challenge: str
    timeout: int
    rpId: str
    allowCredentials: list[PublicKeyCredentialDescriptorJSON]
    userVerification: str
    hints: list[str]
    extensions: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialDescriptor:
    """A ``PublicKeyCredentialDescriptor`` (§5.8.3) for exclude/allow lists.

    Attributes:
        id: The credential id.
        transports: Transport hints recorded at registration.
    """

    id: bytes
    transports: tuple[str, ...] = ()

    def to_json(self) -> PublicKeyCredentialDescriptorJSON:
        """The ``PublicKeyCredentialDescriptorJSON`` form."""
        out: PublicKeyCredentialDescriptorJSON = {
            "type": "public-key",
            "id": b64url_encode(self.id),
        }
        if self.transports:
            out["transports"] = list(self.transports)
        return out


def _descriptors(items: object, name: str) -> tuple[CredentialDescriptor, ...]:
    if isinstance(items, bytes | str) or not isinstance(items, Iterable):
        raise ConfigurationError(f"{name} must be a collection of credentials")
    out = []
    for entry in items:
        item = CredentialDescriptor(id=entry) if isinstance(entry, bytes) else entry
        if not isinstance(item, CredentialDescriptor) or not item.id or len(item.id) > 1023:
            raise ConfigurationError(f"{name} entries must be credential ids or descriptors")
        # Unknown transports are ignored by clients (§5.8.4); keep only known ones.
        out.append(
            CredentialDescriptor(
                id=bytes(item.id), transports=tuple(t for t in item.transports if t in _TRANSPORTS)
            )
        )
    return tuple(out)


def _challenge(challenge: bytes | None) -> bytes:
    if challenge is None:
        return secrets.token_bytes(32)
    if not isinstance(challenge, bytes) or len(challenge) < MIN_CHALLENGE_BYTES:
        raise ConfigurationError("challenge must be at least 16 random bytes")
    if len(challenge) > MAX_CHALLENGE_BYTES:
        # The verifiers could never accept it: client data carries at most this.
        raise ConfigurationError("challenge must be at most 768 bytes")
    return challenge


def _choice(value: object, allowed: frozenset[str], name: str) -> str:
    if value not in allowed:
        raise ConfigurationError(f"{name} must be one of {sorted(allowed)}")
    return str(value)


def _hints(hints: Iterable[str]) -> tuple[str, ...]:
    if isinstance(hints, str):
        raise ConfigurationError("hints must be a collection")
    out = tuple(hints)
    for hint in out:
        _choice(hint, _HINTS, "hints")
    return out


def _extensions(extensions: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if extensions is None:
        return MappingProxyType({})
    try:
        # A JSON round trip both validates and deep-copies the caller's mapping.
        copy = json.loads(json.dumps(dict(extensions)))
    except (TypeError, ValueError) as exc:
        raise ConfigurationError("extensions must be JSON-serializable") from exc
    return MappingProxyType(copy)


def _timeout(timeout_ms: int) -> int:
    if type(timeout_ms) is not int or not 0 < timeout_ms <= 3_600_000:
        raise ConfigurationError("timeout_ms must be between 1 and 3600000")
    return timeout_ms


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistrationOptions:
    """``PublicKeyCredentialCreationOptions`` built by :func:`registration_options`.

    Keep :attr:`challenge` server-side; send :meth:`to_json` to the browser.
    """

    rp_id: str
    rp_name: str
    user_id: bytes = field(repr=False)
    user_name: str
    user_display_name: str
    challenge: bytes = field(repr=False)
    algorithms: tuple[int, ...]
    exclude_credentials: tuple[CredentialDescriptor, ...] = ()
    attestation: str = "none"
    user_verification: str = "preferred"
    resident_key: str = "preferred"
    authenticator_attachment: str | None = None
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    hints: tuple[str, ...] = ()
    extensions: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> PublicKeyCredentialCreationOptionsJSON:
        """The ``PublicKeyCredentialCreationOptionsJSON`` form (WebAuthn Level 3 §5.4.11)."""
        selection: AuthenticatorSelectionCriteriaJSON = {
            "residentKey": self.resident_key,
            "requireResidentKey": self.resident_key == "required",
            "userVerification": self.user_verification,
        }
        if self.authenticator_attachment is not None:
            selection["authenticatorAttachment"] = self.authenticator_attachment
        return {
            "rp": {"id": self.rp_id, "name": self.rp_name},
            "user": {
                "id": b64url_encode(self.user_id),
                "name": self.user_name,
                "displayName": self.user_display_name,
            },
            "challenge": b64url_encode(self.challenge),
            "pubKeyCredParams": [{"type": "public-key", "alg": int(a)} for a in self.algorithms],
            "timeout": self.timeout_ms,
            "excludeCredentials": [c.to_json() for c in self.exclude_credentials],
            "authenticatorSelection": selection,
            "hints": list(self.hints),
            "attestation": self.attestation,
            "extensions": json.loads(json.dumps(dict(self.extensions))),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticationOptions:
    """``PublicKeyCredentialRequestOptions`` built by :func:`authentication_options`.

    Keep :attr:`challenge` server-side; send :meth:`to_json` to the browser.
    """

    rp_id: str
    challenge: bytes = field(repr=False)
    allow_credentials: tuple[CredentialDescriptor, ...] = ()
    user_verification: str = "preferred"
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    hints: tuple[str, ...] = ()
    extensions: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> PublicKeyCredentialRequestOptionsJSON:
        """The ``PublicKeyCredentialRequestOptionsJSON`` form (WebAuthn Level 3 §5.5.1)."""
        return {
            "challenge": b64url_encode(self.challenge),
            "timeout": self.timeout_ms,
            "rpId": self.rp_id,
            "allowCredentials": [c.to_json() for c in self.allow_credentials],
            "userVerification": self.user_verification,
            "hints": list(self.hints),
            "extensions": json.loads(json.dumps(dict(self.extensions))),
        }


def registration_options(
    *,
    rp_id: str,
    rp_name: str,
    user_id: bytes,
    user_name: str,
    user_display_name: str,
    challenge: bytes | None = None,
    exclude_credentials: Iterable[bytes | CredentialDescriptor] = (),
    attestation: str = "none",
    user_verification: str = "preferred",
    resident_key: str = "preferred",
    algorithms: Iterable[int] = DEFAULT_ALGORITHMS,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    hints: Iterable[str] = (),
    extensions: Mapping[str, Any] | None = None,
    authenticator_attachment: str | None = None,
    cred_props: bool = True,
) -> RegistrationOptions:
    """Build the options of a registration ceremony (WebAuthn Level 3 §5.4).

    Args:
        rp_id: The relying party id (a registrable domain suffix of the origin).
        rp_name: A human-friendly RP name.
        user_id: The user handle: 1 to 64 opaque random bytes, no personal data (§5.4.3).
        user_name: The account name shown by the authenticator.
        user_display_name: The person's display name.
        challenge: At least 16 bytes; default: 32 fresh random bytes.
        exclude_credentials: The user's existing credentials (ids or
            :class:`CredentialDescriptor`), so an authenticator is not registered twice.
        attestation: ``none``, ``indirect``, ``direct`` or ``enterprise``.
        user_verification: ``required``, ``preferred`` or ``discouraged``.
        resident_key: ``required``, ``preferred`` or ``discouraged``.
        algorithms: COSE algorithms offered, most preferred first.
        timeout_ms: The ceremony timeout hint.
        hints: ``security-key``, ``client-device``, ``hybrid`` (§5.4.8).
        extensions: Client extension inputs (JSON-serializable).
        authenticator_attachment: ``platform`` or ``cross-platform``.
        cred_props: Ask for the ``credProps`` extension (whether the credential
            is discoverable).

    Returns:
        The options; send ``to_json()`` to the browser and keep ``challenge``.

    Raises:
        ConfigurationError: An argument is out of range.

    Example::

        options = registration_options(
            rp_id="example.com", rp_name="Example", user_id=user.handle,
            user_name="ada@example.com", user_display_name="Ada",
        )
        session["challenge"] = options.challenge
        return options.to_json()
    """
    if not isinstance(rp_id, str) or not rp_id or not isinstance(rp_name, str):
        raise ConfigurationError("rp_id and rp_name must be non-empty strings")
    if not isinstance(user_id, bytes) or not 1 <= len(user_id) <= 64:
        raise ConfigurationError("user_id must be 1 to 64 bytes")
    if not isinstance(user_name, str) or not isinstance(user_display_name, str):
        raise ConfigurationError("user_name and user_display_name must be strings")
    algs = tuple(dict.fromkeys(int(a) for a in algorithms))
    if not algs or any(a not in COSEAlgorithm._value2member_map_ for a in algs):
        raise ConfigurationError("algorithms must be known COSE algorithm identifiers")
    ext = dict(_extensions(extensions))
    if cred_props:
        ext.setdefault("credProps", True)
    return RegistrationOptions(
        rp_id=rp_id,
        rp_name=rp_name,
        user_id=user_id,
        user_name=user_name,
        user_display_name=user_display_name,
        challenge=_challenge(challenge),
        algorithms=algs,
        exclude_credentials=_descriptors(exclude_credentials, "exclude_credentials"),
        attestation=_choice(attestation, _ATTESTATION, "attestation"),
        user_verification=_choice(user_verification, _USER_VERIFICATION, "user_verification"),
        resident_key=_choice(resident_key, _RESIDENT_KEY, "resident_key"),
        authenticator_attachment=(
            None
            if authenticator_attachment is None
            else _choice(authenticator_attachment, _ATTACHMENT, "authenticator_attachment")
        ),
        timeout_ms=_timeout(timeout_ms),
        hints=_hints(hints),
        extensions=MappingProxyType(ext),
    )


def authentication_options(
    *,
    rp_id: str,
    challenge: bytes | None = None,
    allow_credentials: Iterable[bytes | CredentialDescriptor] = (),
    user_verification: str = "preferred",
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    hints: Iterable[str] = (),
    extensions: Mapping[str, Any] | None = None,
) -> AuthenticationOptions:
    """Build the options of an authentication ceremony (WebAuthn Level 3 §5.5).

    Args:
        rp_id: The relying party id.
        challenge: At least 16 bytes; default: 32 fresh random bytes.
        allow_credentials: The user's credentials; empty for a discoverable
            (username-less) login.
        user_verification: ``required``, ``preferred`` or ``discouraged``.
        timeout_ms: The ceremony timeout hint.
        hints: ``security-key``, ``client-device``, ``hybrid``.
        extensions: Client extension inputs (JSON-serializable).

    Raises:
        ConfigurationError: An argument is out of range.
    """
    if not isinstance(rp_id, str) or not rp_id:
        raise ConfigurationError("rp_id must be a non-empty string")
    return AuthenticationOptions(
        rp_id=rp_id,
        challenge=_challenge(challenge),
        allow_credentials=_descriptors(allow_credentials, "allow_credentials"),
        user_verification=_choice(user_verification, _USER_VERIFICATION, "user_verification"),
        timeout_ms=_timeout(timeout_ms),
        hints=_hints(hints),
        extensions=_extensions(extensions),
    )
