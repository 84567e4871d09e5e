"""Checks both ceremonies share: arguments, client data (§7.1/§7.2), RP ID hash, UP and UV.

Each check is written once, here, and called by :func:`verify_registration`
and :func:`verify_authentication` at their step of the spec.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Collection

from mfakit.errors import (
    CeremonyMismatchError,
    ConfigurationError,
    UserPresenceError,
    UserVerificationError,
)

from ._structures import BIT_UP, BIT_UV, CollectedClientData

__all__ = [
    "MAX_CHALLENGE_BYTES",
    "check_challenge_arg",
    "check_client_data",
    "check_flags",
    "check_rp_id_hash",
    "origin_set",
]

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
    return bytes(expected_challenge)


@functools.lru_cache(maxsize=128)
def _one_origin(origin: str) -> frozenset[str]:
    return frozenset((origin,))


def origin_set(origins: str | Collection[str], name: str) -> frozenset[str]:
    """Normalize the caller's expected origins: one string or a non-empty collection.

    The set of one origin string (the usual call) is remembered.
    """
    if type(origins) is str:
        return _one_origin(origins)
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
    client_data: CollectedClientData,
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
    if client_data.type != ceremony:
        raise CeremonyMismatchError("client data type mismatch", field="type")
    if not hmac.compare_digest(client_data.challenge, expected_challenge):
        raise CeremonyMismatchError("challenge mismatch", field="challenge")
    if client_data.origin not in origins:
        raise CeremonyMismatchError("origin not expected", field="origin")
    if client_data.cross_origin and not allow_cross_origin:
        raise CeremonyMismatchError("cross-origin ceremony not allowed", field="cross_origin")
    top = client_data.top_origin
    if top is not None and (not allow_cross_origin or top not in top_origins):
        raise CeremonyMismatchError("top origin not expected", field="top_origin")


def check_rp_id_hash(rp_id_hash: bytes, rp_id: str) -> None:
    """§7.1/§7.2: rpIdHash is SHA-256 of the expected RP ID (the hash is remembered).

    Raises:
        CeremonyMismatchError: ``field="rp_id"``.
    """
    if not isinstance(rp_id, str) or not rp_id:
        raise ConfigurationError("expected_rp_id must be a non-empty string")
    if rp_id_hash != _rp_id_hash(rp_id):
        raise CeremonyMismatchError("RP ID hash mismatch", field="rp_id")


def check_flags(bits: int, *, require_up: bool, require_uv: bool) -> None:
    """§7.1/§7.2: UP set (unless the caller turns it off), UV set when required.

    ``bits`` is the flags byte of the authenticator data.

    Raises:
        UserPresenceError: UP is clear and required.
        UserVerificationError: UV is clear and required.
    """
    if require_up and not bits & BIT_UP:
        raise UserPresenceError()
    if require_uv and not bits & BIT_UV:
        raise UserVerificationError()
