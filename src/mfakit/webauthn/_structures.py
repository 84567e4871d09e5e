"""Parsed WebAuthn structures: client data, authenticator data, attestation objects.

Every structure is immutable and keeps the raw bytes it came from, because
signatures are computed over raw bytes, never over a re-encoding. Parsers are
strict and size-limited; every failure is a :class:`MalformedDataError`.

Size limits (bytes, after base64url decoding):

=============================  =========================================
:data:`MAX_CLIENT_DATA_BYTES`  ``clientDataJSON``
:data:`MAX_AUTH_DATA_BYTES`    ``authenticatorData``
:data:`MAX_ATTESTATION_BYTES`  ``attestationObject``
:data:`MAX_SIGNATURE_BYTES`    ``signature`` (an ML-DSA-87 one is 4627)
:data:`MAX_CREDENTIAL_ID_BYTES`  a credential id (WebAuthn §5.1: 1023)
:data:`MAX_USER_HANDLE_BYTES`  ``userHandle`` (WebAuthn §5.4.3: 64)
=============================  =========================================
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mfakit.errors import MalformedDataError

from ._b64 import b64url_decode
from ._cbor import decode_prefix, decode_single

__all__ = [
    "MAX_ATTESTATION_BYTES",
    "MAX_AUTH_DATA_BYTES",
    "MAX_CLIENT_DATA_BYTES",
    "MAX_CREDENTIAL_ID_BYTES",
    "MAX_SIGNATURE_BYTES",
    "MAX_USER_HANDLE_BYTES",
    "AttestationObject",
    "AttestedCredentialData",
    "AuthenticatorData",
    "AuthenticatorFlags",
    "CollectedClientData",
    "parse_attestation_object",
    "parse_authenticator_data",
    "parse_client_data",
]

MAX_CLIENT_DATA_BYTES = 8 * 1024
MAX_AUTH_DATA_BYTES = 16 * 1024
MAX_ATTESTATION_BYTES = 64 * 1024
MAX_SIGNATURE_BYTES = 8 * 1024
MAX_CREDENTIAL_ID_BYTES = 1023
MAX_USER_HANDLE_BYTES = 64

EMPTY_MAP: Mapping[str, Any] = MappingProxyType({})


class AuthenticatorFlags(enum.IntFlag):
    """The flags byte of authenticator data (WebAuthn Level 3 §6.1)."""

    UP = 0x01  #: user present
    RFU1 = 0x02  #: reserved
    UV = 0x04  #: user verified
    BE = 0x08  #: backup eligible
    BS = 0x10  #: backup state
    RFU2 = 0x20  #: reserved
    AT = 0x40  #: attested credential data included
    ED = 0x80  #: extension data included


# One member per flags byte, built once: parsing picks one instead of making
# an IntFlag object per call.
_FLAGS = tuple(AuthenticatorFlags(i) for i in range(256))
# The bits the parser and the ceremonies test, as plain ints named by the
# enum: on Python 3.11 ``member in flags`` runs enum code (about 0.5 µs),
# ``byte & bit`` on two ints does not.
BIT_UP = AuthenticatorFlags.UP.value
BIT_UV = AuthenticatorFlags.UV.value
BIT_BE = AuthenticatorFlags.BE.value
BIT_BS = AuthenticatorFlags.BS.value
BIT_AT = AuthenticatorFlags.AT.value
BIT_ED = AuthenticatorFlags.ED.value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise MalformedDataError("duplicate JSON member")
    return result


def _reject_constant(name: str) -> Any:
    raise MalformedDataError("non-standard JSON constant")


# One decoder for every call: json.loads with hooks builds a new one each time.
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_reject_constant)


def loads_json(raw: bytes | str, *, field: str) -> Any:
    """Parse strict JSON: UTF-8 only, no duplicate members, no NaN/Infinity."""
    try:
        return _DECODER.decode(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except MalformedDataError as exc:
        exc.field = field
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedDataError("invalid JSON", field=field) from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectedClientData:
    """``CollectedClientData`` (WebAuthn Level 3 §5.8.1), with its raw JSON.

    Attributes:
        type: ``"webauthn.create"`` or ``"webauthn.get"``.
        challenge: The decoded challenge bytes.
        origin: The origin the client saw.
        cross_origin: ``crossOrigin`` when present.
        top_origin: ``topOrigin`` when present.
        raw: The exact ``clientDataJSON`` bytes (signed via their hash).
    """

    type: str
    challenge: bytes = field(repr=False)
    origin: str
    cross_origin: bool | None = None
    top_origin: str | None = None
    raw: bytes = field(repr=False)


def parse_client_data(raw: bytes) -> CollectedClientData:
    """Parse ``clientDataJSON`` (WebAuthn Level 3 §5.8.1).

    Members other than ``type``, ``challenge``, ``origin``, ``crossOrigin``
    and ``topOrigin`` are ignored, as §5.8.1 asks (clients may add more).
    ``tokenBinding`` is one of them: Level 3 keeps the member reserved and
    drops its verification step, so whatever it holds (an unknown
    ``status`` included) is treated as absent.

    Raises:
        MalformedDataError: Not bytes, larger than :data:`MAX_CLIENT_DATA_BYTES`,
            not UTF-8 JSON, duplicate members, not an object, or a member
            missing or of the wrong type.
    """
    if type(raw) is not bytes:
        raise MalformedDataError("clientDataJSON must be bytes", field="clientDataJSON")
    if len(raw) > MAX_CLIENT_DATA_BYTES:
        raise MalformedDataError("clientDataJSON too large", field="clientDataJSON")
    obj = loads_json(raw, field="clientDataJSON")
    if type(obj) is not dict:
        raise MalformedDataError("clientDataJSON is not an object", field="clientDataJSON")
    kind = obj.get("type")
    origin = obj.get("origin")
    cross = obj.get("crossOrigin")
    top = obj.get("topOrigin")
    if type(kind) is not str or type(origin) is not str:
        raise MalformedDataError("clientDataJSON type or origin missing", field="clientDataJSON")
    if cross is not None and type(cross) is not bool:
        raise MalformedDataError("crossOrigin must be a boolean", field="clientDataJSON")
    if top is not None and type(top) is not str:
        raise MalformedDataError("topOrigin must be a string", field="clientDataJSON")
    challenge = b64url_decode(obj.get("challenge"), field="challenge", max_len=1024)
    return CollectedClientData(
        type=kind, challenge=challenge, origin=origin, cross_origin=cross, top_origin=top, raw=raw
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestedCredentialData:
    """Attested credential data (WebAuthn Level 3 §6.5.1).

    Attributes:
        aaguid: The authenticator model's AAGUID (16 bytes).
        credential_id: The credential id.
        credential_public_key: The COSE_Key bytes, exactly as sent.
        cose_map: The decoded COSE_Key (read-only).
    """

    aaguid: bytes
    credential_id: bytes
    credential_public_key: bytes = field(repr=False)
    cose_map: Mapping[Any, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticatorData:
    """Authenticator data (WebAuthn Level 3 §6.1), with its raw bytes.

    Attributes:
        raw: The exact bytes (signed).
        rp_id_hash: SHA-256 of the RP ID the authenticator used.
        flags: The flags byte.
        sign_count: The signature counter.
        attested_credential_data: Present when the AT flag is set.
        extensions: Authenticator extension outputs when the ED flag is set.
    """

    raw: bytes = field(repr=False)
    rp_id_hash: bytes = field(repr=False)
    flags: AuthenticatorFlags
    sign_count: int
    attested_credential_data: AttestedCredentialData | None = None
    extensions: Mapping[str, Any] | None = None


def _freeze(value: Any) -> Any:
    if type(value) is dict:
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if type(value) is list:
        return tuple(_freeze(v) for v in value)
    return value


def _malformed(message: str) -> MalformedDataError:
    return MalformedDataError(message, field="authenticatorData")


def parse_authenticator_data(raw: bytes) -> AuthenticatorData:
    """Parse authenticator data (WebAuthn Level 3 §6.1, §6.5.1).

    Refuses: fewer than 37 bytes, more than :data:`MAX_AUTH_DATA_BYTES`, an AT
    flag without attested credential data (or the reverse), a credential id
    over 1023 bytes, a COSE key or extensions that are not a CBOR map, BS set
    without BE (§6.1: BS "MUST NOT" be set then), and trailing bytes.

    Raises:
        MalformedDataError: Any of the above.
    """
    if type(raw) is not bytes:
        raise _malformed("authenticator data must be bytes")
    n = len(raw)
    if n < 37:
        raise _malformed("authenticator data too short")
    if n > MAX_AUTH_DATA_BYTES:
        raise _malformed("authenticator data too large")
    bits = raw[32]
    if bits & BIT_BS and not bits & BIT_BE:
        raise _malformed("BS flag set without BE")
    pos = 37
    attested = None
    extensions = None
    if bits & BIT_AT:
        if n < 55:
            raise _malformed("attested credential data truncated")
        id_len = int.from_bytes(raw[53:55], "big")
        if id_len > MAX_CREDENTIAL_ID_BYTES:
            raise _malformed("credential id too long")
        start = 55 + id_len
        if start > n:
            raise _malformed("credential id truncated")
        cose, pos = decode_prefix(raw, start, field="credentialPublicKey")
        if type(cose) is not dict:
            raise MalformedDataError("COSE key is not a map", field="credentialPublicKey")
        attested = AttestedCredentialData(
            aaguid=raw[37:53],
            credential_id=raw[55:start],
            credential_public_key=raw[start:pos],
            cose_map=MappingProxyType(cose),
        )
    if bits & BIT_ED:
        ext, pos = decode_prefix(raw, pos, field="extensions")
        if type(ext) is not dict:
            raise MalformedDataError("extensions are not a map", field="extensions")
        extensions = _freeze(ext)
    if pos != n:
        raise _malformed("trailing bytes in authenticator data")
    return AuthenticatorData(
        raw=raw,
        rp_id_hash=raw[:32],
        flags=_FLAGS[bits],
        sign_count=int.from_bytes(raw[33:37], "big"),
        attested_credential_data=attested,
        extensions=extensions,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationObject:
    """An attestation object (WebAuthn Level 3 §6.5.4), with its raw bytes.

    Attributes:
        raw: The exact CBOR bytes.
        fmt: The attestation statement format identifier.
        att_stmt: The attestation statement (read-only).
        auth_data: The parsed authenticator data.
    """

    raw: bytes = field(repr=False)
    fmt: str
    att_stmt: Mapping[str, Any] = field(repr=False)
    auth_data: AuthenticatorData


def parse_attestation_object(raw: bytes) -> AttestationObject:
    """Parse an attestation object: exactly one CBOR map ``{fmt, attStmt, authData}``.

    Raises:
        MalformedDataError: Too large, trailing bytes, duplicate or unknown
            keys, wrong member types, or malformed authenticator data.
    """
    if type(raw) is not bytes:
        raise MalformedDataError("attestation object must be bytes", field="attestationObject")
    if len(raw) > MAX_ATTESTATION_BYTES:
        raise MalformedDataError("attestation object too large", field="attestationObject")
    obj = decode_single(raw, field="attestationObject")
    if type(obj) is not dict or set(obj) != {"fmt", "attStmt", "authData"}:
        raise MalformedDataError(
            "attestation object must be a map of fmt, attStmt, authData",
            field="attestationObject",
        )
    fmt, stmt, auth_data = obj["fmt"], obj["attStmt"], obj["authData"]
    if fmt == "compound" and type(stmt) is list:
        # §8.9: a compound attStmt is an array; formats see it as a mapping.
        stmt = {"statements": tuple(stmt)}
    if type(fmt) is not str or type(stmt) is not dict or type(auth_data) is not bytes:
        raise MalformedDataError(
            "attestation object member of the wrong type", field="attestationObject"
        )
    if any(type(k) is not str for k in stmt):
        raise MalformedDataError("attStmt keys must be text", field="attStmt")
    return AttestationObject(
        raw=raw,
        fmt=fmt,
        att_stmt=MappingProxyType(stmt),
        auth_data=parse_authenticator_data(auth_data),
    )
