"""Record factories for the contract suite: valid records with unique ids."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime, timedelta

from mfakit.repositories import (
    AuditEvent,
    BackupCode,
    Challenge,
    Invitation,
    LoginCode,
    Membership,
    Organization,
    OutboxMessage,
    TotpCredential,
    TrustedBrowser,
    WebAuthnCredential,
)

__all__ = [
    "NOW",
    "audit_event",
    "backup_codes",
    "challenge",
    "invitation",
    "login_code",
    "membership",
    "new_id",
    "organization",
    "outbox_message",
    "MAX_DEVICES",
    "pending_totp",
    "trusted_browser",
    "webauthn_credential",
]

#: The instant the contract suite calls "now" (microsecond precision, as stored).
NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def new_id(prefix: str = "id") -> str:
    """Return a fresh identifier, so tests sharing one database never collide."""
    return f"{prefix}-{secrets.token_hex(8)}"


#: The device limit the contract suite activates TOTP enrollments under.
MAX_DEVICES = 5


def pending_totp(
    user_id: str, *, ttl: timedelta = timedelta(minutes=10), name: str | None = None
) -> TotpCredential:
    """A pending TOTP enrollment for ``user_id`` (a fresh name unless ``name`` is given)."""
    return TotpCredential(
        totp_id=new_id("totp"),
        user_id=user_id,
        state="pending",
        name=new_id("app") if name is None else name,
        secret=secrets.token_bytes(48),
        algorithm="sha1",
        digits=6,
        period=30,
        created_at=NOW,
        expires_at=NOW + ttl,
    )


def backup_codes(user_id: str, count: int = 10) -> list[BackupCode]:
    """A fresh set of ``count`` hashed backup codes for ``user_id``."""
    return [
        BackupCode(
            user_id=user_id,
            code_id=new_id("code"),
            hash=f"$argon2id$v=19$m=8,t=1,p=1${secrets.token_hex(8)}${secrets.token_hex(16)}",
            created_at=NOW,
        )
        for _ in range(count)
    ]


def webauthn_credential(
    user_id: str, *, name: str | None = None, sign_count: int = 0, created_offset: int = 0
) -> WebAuthnCredential:
    """A registered credential of ``user_id``."""
    return WebAuthnCredential(
        credential_id=secrets.token_bytes(32),
        user_id=user_id,
        name=name or new_id("key"),
        public_key=secrets.token_bytes(77),
        sign_count=sign_count,
        transports=("usb", "nfc"),
        aaguid=secrets.token_bytes(16),
        backup_eligible=True,
        backup_state=False,
        created_at=NOW + timedelta(seconds=created_offset),
    )


def challenge(*, user_id: str | None = None, ttl: timedelta = timedelta(minutes=5)) -> Challenge:
    """A WebAuthn authentication challenge."""
    return Challenge(
        challenge_id=new_id("chal"),
        purpose="webauthn.authentication",
        user_id=user_id,
        challenge=secrets.token_bytes(32),
        created_at=NOW,
        expires_at=NOW + ttl,
        context={"user_verification": "preferred", "rp_id": "example.com"},
    )


def login_code(
    subject: str, *, max_attempts: int = 5, ttl: timedelta = timedelta(minutes=10)
) -> LoginCode:
    """A live emailed login code for ``subject``."""
    return LoginCode(
        subject=subject,
        code_id=new_id("lc"),
        code_hash=secrets.token_bytes(32),
        created_at=NOW,
        expires_at=NOW + ttl,
        max_attempts=max_attempts,
    )


def organization(org_id: str | None = None) -> Organization:
    """An organization without enforcement."""
    return Organization(
        org_id=org_id or new_id("org"),
        name="Example Org",
        policy={"activation": "require_full_compliance", "grace_days": 7},
        created_at=NOW,
    )


def membership(org_id: str, user_id: str | None = None, **changes: object) -> Membership:
    """An active member of ``org_id``."""
    record = Membership(org_id=org_id, user_id=user_id or new_id("user"), joined_at=NOW)
    if changes:
        record = dataclasses.replace(record, **changes)  # type: ignore[arg-type]
    return record


def invitation(org_id: str, *, ttl: timedelta = timedelta(days=7)) -> Invitation:
    """A pending invitation to ``org_id``."""
    return Invitation(
        invitation_id=new_id("inv"),
        org_id=org_id,
        email="invitee@example.com",
        kind="member",
        invited_by="owner-1",
        created_at=NOW,
        expires_at=NOW + ttl,
    )


def audit_event(
    *, org_id: str | None = None, user_id: str | None = None, offset: int = 0
) -> AuditEvent:
    """An audit event."""
    return AuditEvent(
        event_id=new_id("evt"),
        at=NOW + timedelta(seconds=offset),
        action="totp.confirmed",
        outcome="success",
        actor_id=user_id,
        user_id=user_id,
        org_id=org_id,
        details={"method": "totp"},
    )


def outbox_message(*, kind: str | None = None, at: datetime = NOW) -> OutboxMessage:
    """A message enqueued at ``at`` and due then, of a fresh kind unless given."""
    return OutboxMessage(
        message_id=new_id("msg"),
        kind=kind or new_id("kind"),
        payload='{"template":"mfa.reminder","to":"user-1"}',
        created_at=at,
        next_attempt_at=at,
    )


def trusted_browser(
    user_id: str, *, created_at: datetime = NOW, days: int = 30, label: str | None = "Firefox"
) -> TrustedBrowser:
    """A trusted browser of ``user_id`` with a random token hash, trusted for ``days``."""
    return TrustedBrowser(
        token_id=new_id("tb"),
        user_id=user_id,
        token_hash=secrets.token_bytes(32),
        label=label,
        created_at=created_at,
        expires_at=created_at + timedelta(days=days),
    )
