"""Column lists and row converters shared by the SQL ports."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from mfakit.errors import StoreError
from mfakit.repositories import (
    AuditEvent,
    BackupCode,
    Challenge,
    Invitation,
    LoginCode,
    Membership,
    Organization,
    OutboxMessage,
    Page,
    ThrottleState,
    TotpCredential,
    WebAuthnCredential,
)
from mfakit.stores._common import (
    check_record,
    dump_json,
    from_micros,
    load_json,
    opt_from_micros,
    opt_micros,
    to_micros,
)
from mfakit.stores._sql import Row

T = TypeVar("T")

__all__ = [
    "AUDIT_COLS",
    "CHAL_COLS",
    "CODE_COLS",
    "CRED_COLS",
    "INV_COLS",
    "LOGIN_COLS",
    "MEMBER_COLS",
    "ORG_COLS",
    "OUTBOX_COLS",
    "THROTTLE_COLS",
    "TOTP_COLS",
    "keyset_page",
    "marks",
    "marks_for",
    "member_params",
    "required",
    "row_audit",
    "row_chal",
    "row_code",
    "row_cred",
    "row_inv",
    "row_login",
    "row_member",
    "row_org",
    "row_outbox",
    "row_throttle",
    "row_totp",
]

TOTP_COLS = (
    "totp_id, user_id, state, secret, algorithm, digits, period, created_at, expires_at, "
    "confirmed_at, last_step, name, last_used_at"
)
CODE_COLS = "user_id, code_id, hash, created_at, consumed_at"
CRED_COLS = (
    "credential_id, user_id, name, public_key, sign_count, transports, aaguid, backup_eligible, "
    "backup_state, created_at, last_used_at, kind, user_handle, passwordless, attested_provider"
)
CHAL_COLS = "challenge_id, purpose, user_id, challenge, created_at, expires_at, context"
LOGIN_COLS = (
    "subject, code_id, code_hash, created_at, expires_at, max_attempts, attempts, consumed_at, "
    "key_id"
)
THROTTLE_COLS = "key, failures, first_failure_at, last_failure_at, locked_until"
ORG_COLS = (
    "org_id, name, policy, enforced, enforced_at, enforcement_stopped_at, created_at, version, "
    "enforced_by"
)
MEMBER_COLS = (
    "org_id, user_id, kind, status, username, joined_at, grace_started_at, grace_reason, "
    "locked_at, lock_reason, last_reminder_at, exempt_until, attributes, version"
)
INV_COLS = (
    "invitation_id, org_id, email, kind, invited_by, created_at, expires_at, accepted_at, "
    "accepted_by, revoked_at"
)
AUDIT_COLS = "seq, event_id, at, action, outcome, actor_id, user_id, org_id, details"
OUTBOX_COLS = (
    "message_id, kind, payload, created_at, next_attempt_at, attempts, claimed_until, "
    "delivered_at, failed_at, last_error"
)


def marks(columns: str) -> str:
    return ", ".join("?" for _ in columns.split(","))


def marks_for(values: Sequence[object]) -> str:
    """One ``?`` per value, for an ``IN (...)`` list."""
    return ", ".join("?" for _ in values)


def row_totp(r: Row) -> TotpCredential:
    return TotpCredential(
        totp_id=r[0],
        user_id=r[1],
        state=r[2],
        secret=bytes(r[3]),
        algorithm=r[4],
        digits=r[5],
        period=r[6],
        created_at=from_micros(r[7]),
        expires_at=opt_from_micros(r[8]),
        confirmed_at=opt_from_micros(r[9]),
        last_step=r[10],
        name=r[11],
        last_used_at=opt_from_micros(r[12]),
    )


def row_code(r: Row) -> BackupCode:
    return BackupCode(
        user_id=r[0],
        code_id=r[1],
        hash=r[2],
        created_at=from_micros(r[3]),
        consumed_at=opt_from_micros(r[4]),
    )


def row_cred(r: Row) -> WebAuthnCredential:
    return WebAuthnCredential(
        credential_id=bytes(r[0]),
        user_id=r[1],
        name=r[2],
        public_key=bytes(r[3]),
        sign_count=r[4],
        transports=tuple(json.loads(r[5])),
        aaguid=bytes(r[6]),
        backup_eligible=bool(r[7]),
        backup_state=bool(r[8]),
        created_at=from_micros(r[9]),
        last_used_at=opt_from_micros(r[10]),
        kind=r[11],
        user_handle=None if r[12] is None else bytes(r[12]),
        passwordless=bool(r[13]),
        attested_provider=r[14],
    )


def row_chal(r: Row) -> Challenge:
    return Challenge(
        challenge_id=r[0],
        purpose=r[1],
        user_id=r[2],
        challenge=bytes(r[3]),
        created_at=from_micros(r[4]),
        expires_at=from_micros(r[5]),
        context=load_json(r[6]),
    )


def row_login(r: Row) -> LoginCode:
    return LoginCode(
        subject=r[0],
        code_id=r[1],
        code_hash=bytes(r[2]),
        created_at=from_micros(r[3]),
        expires_at=from_micros(r[4]),
        max_attempts=r[5],
        attempts=r[6],
        consumed_at=opt_from_micros(r[7]),
        key_id=r[8],
    )


def row_throttle(r: Row) -> ThrottleState:
    return ThrottleState(
        key=r[0],
        failures=r[1],
        first_failure_at=opt_from_micros(r[2]),
        last_failure_at=opt_from_micros(r[3]),
        locked_until=opt_from_micros(r[4]),
    )


def row_org(r: Row) -> Organization:
    return Organization(
        org_id=r[0],
        name=r[1],
        policy=load_json(r[2]),
        enforced=bool(r[3]),
        enforced_at=opt_from_micros(r[4]),
        enforcement_stopped_at=opt_from_micros(r[5]),
        created_at=from_micros(r[6]),
        version=r[7],
        enforced_by=r[8],
    )


def row_member(r: Row) -> Membership:
    return Membership(
        org_id=r[0],
        user_id=r[1],
        kind=r[2],
        status=r[3],
        username=r[4],
        joined_at=from_micros(r[5]),
        grace_started_at=opt_from_micros(r[6]),
        grace_reason=r[7],
        locked_at=opt_from_micros(r[8]),
        lock_reason=r[9],
        last_reminder_at=opt_from_micros(r[10]),
        exempt_until=opt_from_micros(r[11]),
        attributes=load_json(r[12]),
        version=r[13],
    )


def row_inv(r: Row) -> Invitation:
    return Invitation(
        invitation_id=r[0],
        org_id=r[1],
        email=r[2],
        kind=r[3],
        invited_by=r[4],
        created_at=from_micros(r[5]),
        expires_at=from_micros(r[6]),
        accepted_at=opt_from_micros(r[7]),
        accepted_by=r[8],
        revoked_at=opt_from_micros(r[9]),
    )


def row_audit(r: Row) -> AuditEvent:
    return AuditEvent(
        event_id=r[1],
        at=from_micros(r[2]),
        action=r[3],
        outcome=r[4],
        actor_id=r[5],
        user_id=r[6],
        org_id=r[7],
        details=load_json(r[8]),
    )


def row_outbox(r: Row) -> OutboxMessage:
    return OutboxMessage(
        message_id=r[0],
        kind=r[1],
        payload=r[2],
        created_at=from_micros(r[3]),
        next_attempt_at=opt_from_micros(r[4]),
        attempts=r[5],
        claimed_until=opt_from_micros(r[6]),
        delivered_at=opt_from_micros(r[7]),
        failed_at=opt_from_micros(r[8]),
        last_error=r[9],
    )


def member_params(m: Membership) -> list[Any]:
    """Validate a membership and return its column values (without ``version``)."""
    check_record(m)
    return [
        m.org_id,
        m.user_id,
        m.kind,
        m.status,
        m.username,
        to_micros(m.joined_at),
        opt_micros(m.grace_started_at),
        m.grace_reason,
        opt_micros(m.locked_at),
        m.lock_reason,
        opt_micros(m.last_reminder_at),
        opt_micros(m.exempt_until),
        dump_json(m.attributes),
    ]


def keyset_page(
    rows: list[Row], convert: Callable[[Row], T], key: Callable[[Row], Any], limit: int
) -> Page[T]:
    chunk = rows[:limit]
    cursor = str(key(chunk[-1])) if len(rows) > limit else None
    return Page(items=tuple(convert(r) for r in chunk), next_cursor=cursor)


def required(row: Row | None) -> Row:
    """Return the row a statement with ``RETURNING`` must produce."""
    if row is None:  # pragma: no cover - INSERT/upsert ... RETURNING always returns its row
        raise StoreError("the database returned no row")
    return row
