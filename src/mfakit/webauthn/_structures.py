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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mfakit.errors import MalformedDataError

from ._b64 import b64url_decode
from ._cbor import decode_prefix, decode_single
from ._cose import known_cose_key

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


_FLAGS = [AuthenticatorFlags(i) for i in range(256)]


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise MalformedDataError("duplicate JSON member")
    return result


def _reject_constant(name: str) -> Any:
    raise MalformedDataError("non-standard JSON constant")


# One decoder for every call: json.loads with hooks builds a new one each time.
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_reject_constant)


# The decoder's scanner (set by JSONDecoder.__init__; typeshed does not declare it).
_SCAN_ONCE: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def loads_json(raw: bytes | str, *, field: str) -> Any:
    """Parse strict JSON: UTF-8 only, no duplicate members, no NaN/Infinity."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        # Fast path: JSONDecoder.decode skips whitespace with two regex matches
        # around this same scanner call. Without whitespace at either end (what
        # browsers send) the scanner alone gives the same value; anything else,
        # including every error, goes through decode() for its exact behaviour.
        try:
            value, end = _SCAN_ONCE(text, 0)
        except StopIteration:
            end = -1
        if end == len(text):
            return value
        return _DECODER.decode(text)
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


#: (type, challenge, origin, crossOrigin, topOrigin)
ClientDataFields = tuple[str, bytes, str, bool | None, str | None]


def client_data_fields(raw: bytes) -> ClientDataFields:
    """Parse ``clientDataJSON`` into (type, challenge, origin, crossOrigin, topOrigin).

    The tuple form spares the assertion hot path an object it never returns.
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
    return kind, challenge, origin, cross, top


def parse_client_data(raw: bytes) -> CollectedClientData:
    """Parse ``clientDataJSON`` (WebAuthn Level 3 §5.8.1).

    Members other than ``type``, ``challenge``, ``origin``, ``crossOrigin``
    and ``topOrigin`` are ignored, as §5.8.1 asks (clients may add more).

    Raises:
        MalformedDataError: Not bytes, larger than :data:`MAX_CLIENT_DATA_BYTES`,
            not UTF-8 JSON, duplicate members, not an object, or a member
            missing or of the wrong type.
    """
    kind, challenge, origin, cross, top = client_data_fields(raw)
    return _new_client_data(kind, challenge, origin, cross, top, raw)


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
        raise MalformedDataError("authenticator data must be bytes", field="authenticatorData")
    n = len(raw)
    if n < 37:
        raise MalformedDataError("authenticator data too short", field="authenticatorData")
    if n > MAX_AUTH_DATA_BYTES:
        raise MalformedDataError("authenticator data too large", field="authenticatorData")
    flag_byte = raw[32]
    if flag_byte & 0x18 == 0x10:
        raise MalformedDataError("BS flag set without BE", field="authenticatorData")
    pos = 37
    attested = None
    extensions = None
    if flag_byte & 0x40:
        if n < 55:
            raise MalformedDataError(
                "attested credential data truncated", field="authenticatorData"
            )
        id_len = int.from_bytes(raw[53:55], "big")
        if id_len > MAX_CREDENTIAL_ID_BYTES:
            raise MalformedDataError("credential id too long", field="authenticatorData")
        start = 55 + id_len
        if start > n:
            raise MalformedDataError("credential id truncated", field="authenticatorData")
        known = known_cose_key(raw, start)
        if known is not None:
            cose, end = known
        else:
            cose, end = decode_prefix(raw, start, field="credentialPublicKey")
        if type(cose) is not dict:
            raise MalformedDataError("COSE key is not a map", field="credentialPublicKey")
        attested = _new_attested(raw[37:53], raw[55:start], raw[start:end], MappingProxyType(cose))
        pos = end
    if flag_byte & 0x80:
        ext, pos = decode_prefix(raw, pos, field="extensions")
        if type(ext) is not dict:
            raise MalformedDataError("extensions are not a map", field="extensions")
        extensions = _freeze(ext)
    if pos != n:
        raise MalformedDataError("trailing bytes in authenticator data", field="authenticatorData")
    return _new_auth_data(
        raw, raw[:32], _FLAGS[flag_byte], int.from_bytes(raw[33:37], "big"), attested, extensions
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
    common = _common_attestation_object(raw)
    if common is not None:
        return common
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
    return _new_attestation_object(
        raw, fmt, MappingProxyType(stmt), parse_authenticator_data(auth_data)
    )


# The attestation object as clients encode it: a map of three entries in
# CTAP2 canonical order, "fmt" (short text), "attStmt" (a map), "authData" (a
# byte string with a one- or two-byte length).
_AO_FMT = b"\xa3cfmt"
_AO_STMT = b"gattStmt"
_AO_AUTH = b"hauthData"


def _common_attestation_object(raw: bytes) -> AttestationObject | None:
    """What parse_attestation_object gives for the usual encoding, or ``None``.

    Reads the fixed keys directly and decodes only the statement with the
    strict decoder. ``None`` (anything else, or any error) sends the caller to
    the general parser, which raises the precise error; a test compares both.
    """
    n = len(raw)
    if n < 60 or not raw.startswith(_AO_FMT) or not 0x60 < raw[5] < 0x78:
        return None
    pos = 6 + raw[5] - 0x60
    fmt_bytes = raw[6:pos]
    if not fmt_bytes.isascii() or not raw.startswith(_AO_STMT, pos):
        return None
    pos += 8
    if raw[pos] == 0xA0:
        stmt: Any = {}
        pos += 1
    else:
        try:
            # One level down, as inside the object the general parser decodes.
            stmt, pos = decode_prefix(raw, pos, field="attStmt", depth=1)
        except MalformedDataError:
            return None
        if type(stmt) is not dict or any(type(k) is not str for k in stmt):
            return None
    if not raw.startswith(_AO_AUTH, pos) or pos + 11 > n:
        return None
    head = raw[pos + 9]
    if head == 0x58:
        start = pos + 11
        size = raw[pos + 10]
    elif head == 0x59:
        start = pos + 12
        size = int.from_bytes(raw[pos + 10 : pos + 12], "big")
    else:
        return None
    if start + size != n:
        return None
    try:
        auth_data = parse_authenticator_data(raw[start:])
    except MalformedDataError:
        return None
    return _new_attestation_object(
        raw, fmt_bytes.decode("ascii"), MappingProxyType(stmt), auth_data
    )


# Fast construction of the frozen result dataclasses. A frozen dataclass's
# ``__init__`` stores every field through ``object.__setattr__``, which costs
# microseconds per ceremony. Each ``_Build*`` class below has exactly the slots
# of its dataclass (``__slots__`` is copied from it), so plain slot stores fill
# it, and its instance then becomes the dataclass (``__class__`` assignment
# between layout-compatible classes). The result is indistinguishable from one
# made by ``__init__``: a test compares them field by field. Arguments are
# positional, in the dataclass's field order.


class _BuildCollectedClientData:
    """Builds a :class:`CollectedClientData` without its frozen ``__init__``."""

    __slots__ = CollectedClientData.__slots__

    def __init__(  # noqa: PLR0917 - positional on purpose
        self,
        type_: str,
        challenge: bytes,
        origin: str,
        cross_origin: bool | None,
        top_origin: str | None,
        raw: bytes,
    ) -> None:
        self.type = type_
        self.challenge = challenge
        self.origin = origin
        self.cross_origin = cross_origin
        self.top_origin = top_origin
        self.raw = raw
        self.__class__ = CollectedClientData  # type: ignore[assignment]


_new_client_data: Callable[..., CollectedClientData] = _BuildCollectedClientData  # type: ignore[assignment]


class _BuildAttestedCredentialData:
    """Builds a :class:`AttestedCredentialData` without its frozen ``__init__``."""

    __slots__ = AttestedCredentialData.__slots__

    def __init__(
        self,
        aaguid: bytes,
        credential_id: bytes,
        credential_public_key: bytes,
        cose_map: Mapping[Any, Any],
    ) -> None:
        self.aaguid = aaguid
        self.credential_id = credential_id
        self.credential_public_key = credential_public_key
        self.cose_map = cose_map
        self.__class__ = AttestedCredentialData  # type: ignore[assignment]


_new_attested: Callable[..., AttestedCredentialData] = _BuildAttestedCredentialData  # type: ignore[assignment]


class _BuildAuthenticatorData:
    """Builds a :class:`AuthenticatorData` without its frozen ``__init__``."""

    __slots__ = AuthenticatorData.__slots__

    def __init__(  # noqa: PLR0917 - positional on purpose
        self,
        raw: bytes,
        rp_id_hash: bytes,
        flags: AuthenticatorFlags,
        sign_count: int,
        attested_credential_data: AttestedCredentialData | None,
        extensions: Mapping[str, Any] | None,
    ) -> None:
        self.raw = raw
        self.rp_id_hash = rp_id_hash
        self.flags = flags
        self.sign_count = sign_count
        self.attested_credential_data = attested_credential_data
        self.extensions = extensions
        self.__class__ = AuthenticatorData  # type: ignore[assignment]


_new_auth_data: Callable[..., AuthenticatorData] = _BuildAuthenticatorData  # type: ignore[assignment]


class _BuildAttestationObject:
    """Builds a :class:`AttestationObject` without its frozen ``__init__``."""

    __slots__ = AttestationObject.__slots__

    def __init__(
        self,
        raw: bytes,
        fmt: str,
        att_stmt: Mapping[str, Any],
        auth_data: AuthenticatorData,
    ) -> None:
        self.raw = raw
        self.fmt = fmt
        self.att_stmt = att_stmt
        self.auth_data = auth_data
        self.__class__ = AttestationObject  # type: ignore[assignment]


_new_attestation_object: Callable[..., AttestationObject] = _BuildAttestationObject  # type: ignore[assignment]
