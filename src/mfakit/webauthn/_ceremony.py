"""Checks both ceremonies share: client data (§7.1/§7.2), RP ID hash, UP and UV."""

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

from ._structures import ClientDataFields

__all__ = ["check_client_data", "check_flags", "check_rp_id_hash", "origin_set"]


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


def check_challenge_arg(expected_challenge: object) -> bytes:
    """Refuse a missing or non-bytes expected challenge (a host-app bug)."""
    if not isinstance(expected_challenge, bytes) or not expected_challenge:
        raise ConfigurationError("expected_challenge must be the bytes issued with the options")
    return expected_challenge
