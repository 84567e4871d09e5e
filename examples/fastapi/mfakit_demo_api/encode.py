"""JSON shapes of mfakit's results and errors, one small function each.

Written out rather than derived from the dataclasses, so that the API stays
stable when mfakit adds fields, and shows secrets (backup codes, the TOTP
key) only in the one answer that must show them.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from mfakit.errors import (
    DuplicateError,
    LimitReachedError,
    MfaError,
    NotFoundError,
    PolicyDeniedError,
    StoreError,
    ThrottledError,
    UnknownCredentialError,
)
from mfakit.service import (
    BackupCodeSet,
    BackupCodeStatus,
    Passkey,
    SecondFactorChallenge,
    TotpDevice,
)


def b64url(data: bytes) -> str:
    """Unpadded base64url, as WebAuthn's JSON uses."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def from_b64url(text: str) -> bytes:
    """The bytes of unpadded base64url (raises ValueError)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def when(value: datetime | None) -> str | None:
    """An ISO 8601 time, or None."""
    return value.isoformat() if value is not None else None


def totp_device(device: TotpDevice) -> dict[str, Any]:
    """An authenticator app."""
    return {
        "device_id": device.device_id,
        "name": device.name,
        "created_at": when(device.created_at),
        "last_used_at": when(device.last_used_at),
    }


def passkey(key: Passkey) -> dict[str, Any]:
    """A passkey or security key."""
    return {
        "credential_id": b64url(key.credential_id),
        "name": key.name,
        "kind": str(key.kind),
        "created_at": when(key.created_at),
        "last_used_at": when(key.last_used_at),
        "backed_up": key.backed_up,
        "passwordless": key.passwordless,
    }


def backup_codes(codes: BackupCodeSet) -> dict[str, Any]:
    """A new set of backup codes: shown once."""
    return {"codes": list(codes.codes), "created_at": when(codes.created_at)}


def backup_status(status: BackupCodeStatus) -> dict[str, Any]:
    """How many backup codes are left."""
    return {"total": status.total, "remaining": status.remaining, "low": status.low}


def second_factor(challenge: SecondFactorChallenge) -> dict[str, Any]:
    """The second step of sign-in: the methods, and passkey options when there are passkeys."""
    return {
        "status": "second_factor_required",
        "methods": [str(m) for m in challenge.methods],
        "challenge_id": challenge.challenge_id,
        "webauthn_options": challenge.webauthn_options,
    }


def error_status(exc: MfaError) -> int:
    """The HTTP status of an mfakit error."""
    if isinstance(exc, ThrottledError):
        return 429
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, (DuplicateError, LimitReachedError)):
        return 409
    if isinstance(exc, PolicyDeniedError):  # StepUpRequiredError included
        return 403
    if isinstance(exc, StoreError):
        return 503
    return 400  # bad input, wrong or used codes, refused WebAuthn responses


def error(exc: MfaError) -> dict[str, Any]:
    """An mfakit error as JSON: its stable code, its log-safe message, its safe details."""
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    for name in ("retry_after", "attempts_remaining", "field", "action"):
        value = getattr(exc, name, None)
        if value is not None:
            body[name] = value
    if isinstance(exc, UnknownCredentialError):
        body["signal"] = exc.signal_options
    return {"error": body}
