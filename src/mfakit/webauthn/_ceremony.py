"""Checks both ceremonies share: client data (§7.1/§7.2), RP ID hash, UP and UV."""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import json
from collections.abc import Collection

from mfakit.errors import (
    CeremonyMismatchError,
    ConfigurationError,
    UserPresenceError,
    UserVerificationError,
)

from ._structures import ClientDataFields

__all__ = [
    "challenge_text",
    "check_client_data",
    "check_flags",
    "check_rp_id_hash",
    "origin_set",
    "origin_suffixes",
    "single_origin",
    "template_client_data",
]


def origin_set(origins: str | Collection[str], name: str) -> frozenset[str]:
    """Normalize the caller's expected origins: one string or a non-empty collection."""
    if isinstance(origins, str):
        return frozenset((origins,))
    try:
        result = frozenset(origins)
    except TypeError as exc:
        raise ConfigurationError(f"{name} must be a string or a collection of strings") from exc
    if not result and name == "expected_origins":
        raise ConfigurationError("expected_origins must not be empty")
    if any(not isinstance(o, str) for o in result):
        raise ConfigurationError(f"{name} must contain strings")
    return result


@functools.lru_cache(maxsize=128)
def _rp_id_hash(rp_id: str) -> bytes:
    return hashlib.sha256(rp_id.encode("utf-8")).digest()


def check_client_data(
    client_data: ClientDataFields,
    *,
    ceremony: str,
    expected_challenge: bytes,
    origins: frozenset[str],
    allow_cross_origin: bool,
    top_origins: frozenset[str],
) -> None:
    """Verify C.type, C.challenge, C.origin, C.crossOrigin and C.topOrigin.

    WebAuthn Level 3 §7.1 (registration) and §7.2 (authentication) have the
    same steps: the type is the ceremony's, the challenge equals the one the
    server issued (compared in constant time), the origin is one the RP
    expects (exact string match), ``crossOrigin`` true only when the RP allows
    being embedded cross-origin, and ``topOrigin`` one of the expected top
    origins.

    Raises:
        CeremonyMismatchError: With ``field`` naming the first failing check.
    """
    kind, challenge, origin, cross_origin, top = client_data
    if kind != ceremony:
        raise CeremonyMismatchError("client data type mismatch", field="type")
    if not hmac.compare_digest(challenge, expected_challenge):
        raise CeremonyMismatchError("challenge mismatch", field="challenge")
    if origin not in origins:
        raise CeremonyMismatchError("origin not expected", field="origin")
    if cross_origin and not allow_cross_origin:
        raise CeremonyMismatchError("cross-origin ceremony not allowed", field="cross_origin")
    if top is not None and (not allow_cross_origin or top not in top_origins):
        raise CeremonyMismatchError("top origin not expected", field="top_origin")


def check_rp_id_hash(rp_id_hash: bytes, rp_id: str) -> None:
    """§7.1/§7.2: rpIdHash is SHA-256 of the expected RP ID.

    Raises:
        CeremonyMismatchError: ``field="rp_id"``.
    """
    if not isinstance(rp_id, str) or not rp_id:
        raise ConfigurationError("expected_rp_id must be a non-empty string")
    if rp_id_hash != _rp_id_hash(rp_id):
        raise CeremonyMismatchError("RP ID hash mismatch", field="rp_id")


def check_flags(flags: int, *, require_up: bool, require_uv: bool) -> None:
    """§7.1/§7.2: UP set (unless the caller turns it off), UV set when required.

    Raises:
        UserPresenceError: UP is clear and required.
        UserVerificationError: UV is clear and required.
    """
    if require_up and not flags & 0x01:
        raise UserPresenceError()
    if require_uv and not flags & 0x04:
        raise UserVerificationError()


#: Longest challenge a clientDataJSON may carry: 1024 base64url characters.
MAX_CHALLENGE_BYTES = 768


def check_challenge_arg(expected_challenge: object) -> bytes:
    """Refuse a missing, non-bytes or over-long expected challenge (a host-app bug).

    A challenge longer than :data:`MAX_CHALLENGE_BYTES` could never match:
    the client data parser refuses a challenge member that long.
    """
    if not isinstance(expected_challenge, bytes) or not expected_challenge:
        raise ConfigurationError("expected_challenge must be the bytes issued with the options")
    if len(expected_challenge) > MAX_CHALLENGE_BYTES:
        raise ConfigurationError("expected_challenge is longer than client data may carry")
    return expected_challenge if type(expected_challenge) is bytes else bytes(expected_challenge)


# --- §5.8.1.2 limited verification: clientDataJSON as browsers serialize it --
#
# §5.8.1.1 fixes how clients serialize CollectedClientData: ``type``,
# ``challenge``, ``origin`` and ``crossOrigin`` first, in that order, without
# whitespace, each value in JSON's shortest string form. A clientDataJSON that
# is exactly that serialization of the expected values (with ``crossOrigin``
# false or absent and nothing after it) is well-formed UTF-8 JSON whose parse
# gives precisely those values, so comparing bytes decides what parsing would.
# Anything else (another member order, extra members such as Chromium's
# randomly added one, ``topOrigin``, escapes) is parsed as JSON: the template
# only ever accepts, it never refuses.

_CD_HEADS = {
    "webauthn.get": b'{"type":"webauthn.get","challenge":"',
    "webauthn.create": b'{"type":"webauthn.create","challenge":"',
}
_CD_ORIGIN = b'","origin":"'
_CD_TAIL_SAME_ORIGIN = b'","crossOrigin":false}'
_CD_TAIL_BARE = b'"}'
_TO_URL = bytes.maketrans(b"+/", b"-_")
_b2a = binascii.b2a_base64


def challenge_text(challenge: bytes) -> bytes:
    """The unpadded base64url text of ``challenge``, as clientDataJSON carries it."""
    return _b2a(challenge, newline=False).rstrip(b"=").translate(_TO_URL)


@functools.lru_cache(maxsize=128)
def _suffix_table(origins: frozenset[str]) -> tuple[tuple[bytes, str, bool | None], ...]:
    texts = []
    for origin in sorted(origins):
        try:
            texts.append((json.dumps(origin, ensure_ascii=False)[1:-1].encode("utf-8"), origin))
        except UnicodeEncodeError:
            continue
    return tuple((_CD_ORIGIN + t + _CD_TAIL_SAME_ORIGIN, o, False) for t, o in texts) + tuple(
        (_CD_ORIGIN + t + _CD_TAIL_BARE, o, None) for t, o in texts
    )


@functools.lru_cache(maxsize=128)
def origin_suffixes(origins: frozenset[str]) -> tuple[bytes, ...]:
    """What follows the challenge in the §5.8.1.1 form, for each expected origin.

    ``","origin":"<origin>","crossOrigin":false}`` first (what browsers send),
    then the same without ``crossOrigin``. An origin is written as the body of
    its shortest JSON string; one that cannot be written in UTF-8 (a lone
    surrogate) has no entry, so a response naming it is parsed as JSON.
    """
    return tuple(suffix for suffix, _, _ in _suffix_table(origins))


@functools.lru_cache(maxsize=128)
def single_origin(origin: str) -> tuple[frozenset[str], tuple[bytes, ...]]:
    """``origin_set`` and ``origin_suffixes`` of one origin string, remembered."""
    origins = frozenset((origin,))
    return origins, origin_suffixes(origins)


def template_client_data(
    raw: bytes, ceremony: str, challenge: bytes, origins: frozenset[str]
) -> tuple[str, bool | None] | None:
    """Match ``raw`` against the §5.8.1.1 serialization of the expected values.

    Returns:
        ``(origin, crossOrigin)`` when ``raw`` is exactly
        ``{"type":<ceremony>,"challenge":<challenge>`` followed by one of the
        :func:`origin_suffixes` of ``origins`` (compared in constant time);
        such client data passes every check of §7.1/§7.2 step "client data"
        for a caller that does not allow cross-origin use. ``None`` means only
        "not this form": the caller then parses the JSON, which decides.
    """
    head = _CD_HEADS[ceremony] + challenge_text(challenge)
    for suffix, origin, cross_origin in _suffix_table(origins):
        if hmac.compare_digest(raw, head + suffix):
            return origin, cross_origin
    return None
