"""The SQL schema shared by the SQLite and PostgreSQL stores, as forward migrations.

Times are ``BIGINT`` microseconds since the Unix epoch (UTC): exact, sortable,
and the same in both databases. Text keys that listings page through use a
byte-order collation so that keyset cursors agree with Python's ``str`` order.
Booleans are 0/1 integers. Mappings are canonical JSON text.

Placeholders in the templates: ``{blob}`` (BLOB / BYTEA), ``{key}`` (text with
byte-order collation), ``{serial}`` (an auto-increment primary key).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from mfakit.stores._common import dump_json

if TYPE_CHECKING:
    from mfakit.stores._sql import Conn

__all__ = ["MIGRATIONS", "Step"]

#: One step of a migration: an SQL template, or a function for data that SQL
#: cannot move the same way in both databases (it runs in the migration's
#: transaction).
Step = str | Callable[["Conn"], None]

# The service used to keep who enabled enforcement in the policy mapping.
_LEGACY_ENFORCED_BY = "_enforced_by"


def _move_enforced_by(c: Conn) -> None:
    """Move the service's old ``_enforced_by`` policy key into the ``enforced_by`` column."""
    # LIKE only narrows the scan ("_" matches any character); JSON decides.
    rows = c.all(
        "SELECT org_id, policy FROM mfa_organizations WHERE policy LIKE ?",
        [f'%"{_LEGACY_ENFORCED_BY}"%'],
    )
    for org_id, text in rows:
        policy = json.loads(text)
        if not isinstance(policy, dict) or _LEGACY_ENFORCED_BY not in policy:
            continue
        by = policy.pop(_LEGACY_ENFORCED_BY)
        c.run(
            "UPDATE mfa_organizations SET enforced_by = ?, policy = ?, version = version + 1 "
            "WHERE org_id = ?",
            [by if isinstance(by, str) and by else None, dump_json(policy), org_id],
        )


#: MIGRATIONS[n] upgrades a database from version n to n + 1. Never edit a
#: released migration: append a new one.
MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    (
        """CREATE TABLE mfa_totp (
            user_id {key} NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'active')),
            totp_id TEXT NOT NULL,
            secret {blob} NOT NULL,
            algorithm TEXT NOT NULL,
            digits INTEGER NOT NULL,
            period INTEGER NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT,
            confirmed_at BIGINT,
            last_step BIGINT,
            PRIMARY KEY (user_id, state)
        )""",
        "CREATE UNIQUE INDEX mfa_totp_id ON mfa_totp (totp_id)",
        """CREATE TABLE mfa_backup_code_sets (
            user_id {key} PRIMARY KEY,
            replaced INTEGER NOT NULL
        )""",
        """CREATE TABLE mfa_backup_codes (
            user_id {key} NOT NULL REFERENCES mfa_backup_code_sets (user_id) ON DELETE CASCADE,
            code_id {key} NOT NULL,
            hash TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            consumed_at BIGINT,
            PRIMARY KEY (user_id, code_id)
        )""",
        """CREATE TABLE mfa_webauthn_credentials (
            credential_id {blob} PRIMARY KEY,
            user_id {key} NOT NULL,
            name TEXT NOT NULL,
            public_key {blob} NOT NULL,
            sign_count BIGINT NOT NULL,
            transports TEXT NOT NULL,
            aaguid {blob} NOT NULL,
            backup_eligible INTEGER NOT NULL,
            backup_state INTEGER NOT NULL,
            created_at BIGINT NOT NULL,
            last_used_at BIGINT,
            UNIQUE (user_id, name)
        )""",
        """CREATE TABLE mfa_challenges (
            challenge_id {key} PRIMARY KEY,
            purpose TEXT NOT NULL,
            user_id TEXT,
            challenge {blob} NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            context TEXT NOT NULL
        )""",
        "CREATE INDEX mfa_challenges_expiry ON mfa_challenges (expires_at)",
        """CREATE TABLE mfa_login_codes (
            subject {key} PRIMARY KEY,
            code_id TEXT NOT NULL,
            code_hash {blob} NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            max_attempts INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            consumed_at BIGINT
        )""",
        """CREATE TABLE mfa_throttle (
            key {key} PRIMARY KEY,
            failures INTEGER NOT NULL,
            first_failure_at BIGINT,
            last_failure_at BIGINT,
            locked_until BIGINT
        )""",
        """CREATE TABLE mfa_organizations (
            org_id {key} PRIMARY KEY,
            name TEXT NOT NULL,
            policy TEXT NOT NULL,
            enforced INTEGER NOT NULL,
            enforced_at BIGINT,
            enforcement_stopped_at BIGINT,
            created_at BIGINT NOT NULL,
            version BIGINT NOT NULL
        )""",
        """CREATE TABLE mfa_memberships (
            org_id {key} NOT NULL REFERENCES mfa_organizations (org_id) ON DELETE CASCADE,
            user_id {key} NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('owner', 'member', 'guest')),
            status TEXT NOT NULL CHECK (status IN ('active', 'locked', 'removed')),
            username TEXT,
            joined_at BIGINT NOT NULL,
            grace_started_at BIGINT,
            grace_reason TEXT,
            locked_at BIGINT,
            lock_reason TEXT,
            last_mfa_at BIGINT,
            last_reminder_at BIGINT,
            exempt_until BIGINT,
            attributes TEXT NOT NULL,
            version BIGINT NOT NULL,
            PRIMARY KEY (org_id, user_id),
            UNIQUE (org_id, username)
        )""",
        "CREATE INDEX mfa_memberships_user ON mfa_memberships (user_id, org_id)",
        """CREATE TABLE mfa_invitations (
            invitation_id {key} PRIMARY KEY,
            org_id {key} NOT NULL REFERENCES mfa_organizations (org_id) ON DELETE CASCADE,
            email TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('owner', 'member', 'guest')),
            invited_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            accepted_at BIGINT,
            accepted_by TEXT,
            revoked_at BIGINT
        )""",
        "CREATE INDEX mfa_invitations_org ON mfa_invitations (org_id, invitation_id)",
        """CREATE TABLE mfa_audit_events (
            seq {serial},
            event_id TEXT NOT NULL UNIQUE,
            at BIGINT NOT NULL,
            action TEXT NOT NULL,
            outcome TEXT NOT NULL,
            actor_id TEXT,
            user_id TEXT,
            org_id TEXT,
            details TEXT NOT NULL
        )""",
        "CREATE INDEX mfa_audit_org ON mfa_audit_events (org_id, seq)",
        "CREATE INDEX mfa_audit_user ON mfa_audit_events (user_id, seq)",
    ),
    # Version 2: purge_expired_login_codes deletes by expiry or consumption
    # without scanning a table that requests for unknown usernames can grow.
    (
        "CREATE INDEX mfa_login_codes_expiry ON mfa_login_codes (expires_at)",
        "CREATE INDEX mfa_login_codes_consumed ON mfa_login_codes (consumed_at)",
    ),
    # Version 3: the kind the user registered a WebAuthn credential as (rows
    # stored before get what the service used to guess from the BE flag), and
    # who enabled an organization's enforcement (moved out of the policy).
    (
        """ALTER TABLE mfa_webauthn_credentials ADD COLUMN kind TEXT NOT NULL
            DEFAULT 'security_key' CHECK (kind IN ('passkey', 'security_key'))""",
        """UPDATE mfa_webauthn_credentials
            SET kind = CASE WHEN backup_eligible = 1 THEN 'passkey' ELSE 'security_key' END""",
        "ALTER TABLE mfa_organizations ADD COLUMN enforced_by TEXT",
        _move_enforced_by,
    ),
    # Version 4 (issue 14, organizations at scale): the transactional outbox,
    # with a partial index in claim order over undelivered messages and one
    # for purging delivered ones; owners counted from an index; each user's
    # credentials in listing order for the member summaries. (Members in
    # (org_id, user_id) order and by user id already have their indexes: the
    # primary key and mfa_memberships_user.)
    (
        """CREATE TABLE mfa_outbox (
            message_id {key} PRIMARY KEY,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            next_attempt_at BIGINT,
            attempts INTEGER NOT NULL CHECK (attempts >= 0),
            claimed_until BIGINT,
            delivered_at BIGINT,
            failed_at BIGINT,
            last_error TEXT
        )""",
        """CREATE INDEX mfa_outbox_due ON mfa_outbox (next_attempt_at, created_at, message_id)
            WHERE delivered_at IS NULL""",
        """CREATE INDEX mfa_outbox_delivered ON mfa_outbox (delivered_at)
            WHERE delivered_at IS NOT NULL""",
        "CREATE INDEX mfa_memberships_kind ON mfa_memberships (org_id, kind, status)",
        """CREATE INDEX mfa_webauthn_user ON mfa_webauthn_credentials
            (user_id, created_at, credential_id)""",
    ),
    # Version 5 (issue 14, step-up per user): what the service keeps per user,
    # one row each, created by the first write; columns for later per-user
    # facts are added here. The last second-factor check moves out of the
    # memberships (a sign-in wrote one row per organization): each user gets
    # the latest of their memberships' stamps, then the column is dropped.
    (
        """CREATE TABLE mfa_user_state (
            user_id {key} PRIMARY KEY,
            last_mfa_at BIGINT
        )""",
        """INSERT INTO mfa_user_state (user_id, last_mfa_at)
            SELECT user_id, MAX(last_mfa_at) FROM mfa_memberships
            WHERE last_mfa_at IS NOT NULL GROUP BY user_id""",
        "ALTER TABLE mfa_memberships DROP COLUMN last_mfa_at",
    ),
    # Version 6 (issue 15, key rotation): the id of the HMAC key that made each
    # login code, so a new key can become current while codes made under the
    # previous one still verify. Codes stored before were made under the single
    # login_code_key, whose id is "default" (DEFAULT_LOGIN_CODE_KEY_ID).
    ("ALTER TABLE mfa_login_codes ADD COLUMN key_id TEXT NOT NULL DEFAULT 'default'",),
    # Version 7 (issue 15, TOTP devices): a user may have several named
    # authenticator apps. The table is keyed by totp_id (SQLite cannot change
    # a primary key: the table is recreated and its rows copied); at most one
    # pending enrollment per user, and names unique among a user's active
    # devices, are partial unique indexes. Each device keeps its own
    # last_step and now its last use. Rows stored before are named
    # "Authenticator app" (a user had at most one active TOTP, so names
    # cannot collide).
    (
        """CREATE TABLE mfa_totp_v7 (
            totp_id {key} PRIMARY KEY,
            user_id {key} NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'active')),
            name TEXT NOT NULL,
            secret {blob} NOT NULL,
            algorithm TEXT NOT NULL,
            digits INTEGER NOT NULL,
            period INTEGER NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT,
            confirmed_at BIGINT,
            last_step BIGINT,
            last_used_at BIGINT
        )""",
        """INSERT INTO mfa_totp_v7 (totp_id, user_id, state, name, secret, algorithm, digits,
            period, created_at, expires_at, confirmed_at, last_step, last_used_at)
            SELECT totp_id, user_id, state, 'Authenticator app', secret, algorithm, digits,
            period, created_at, expires_at, confirmed_at, last_step, NULL FROM mfa_totp""",
        "DROP TABLE mfa_totp",
        "ALTER TABLE mfa_totp_v7 RENAME TO mfa_totp",
        "CREATE UNIQUE INDEX mfa_totp_pending ON mfa_totp (user_id) WHERE state = 'pending'",
        """CREATE UNIQUE INDEX mfa_totp_active_name ON mfa_totp (user_id, name)
            WHERE state = 'active'""",
    ),
    # Version 8 (issue 15, trusted browsers): browsers a user chose to trust for
    # a while, found by the SHA-256 of their token (the token itself is never
    # stored), listed per user in order, purged by expiry; and when each user's
    # second factors last changed, before which no trusted browser counts.
    (
        """CREATE TABLE mfa_trusted_browsers (
            token_id {key} PRIMARY KEY,
            user_id {key} NOT NULL,
            token_hash {blob} NOT NULL UNIQUE,
            label TEXT,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            last_used_at BIGINT
        )""",
        """CREATE INDEX mfa_trusted_browsers_user ON mfa_trusted_browsers
            (user_id, created_at, token_id)""",
        "CREATE INDEX mfa_trusted_browsers_expiry ON mfa_trusted_browsers (expires_at)",
        "ALTER TABLE mfa_user_state ADD COLUMN factors_changed_at BIGINT",
    ),
    # Version 9 (issue 16, passkey sign-in): each user's random WebAuthn user
    # handle (never derived from the user id, WebAuthn L3 §14.6.1), unique so
    # that a handle names one user; the handle each credential was registered
    # with (NULL for rows stored before: they were registered with the user
    # id's UTF-8 bytes, recorded at their next assertion); and whether each
    # credential may sign in on its own, on for the passkeys stored before.
    (
        """CREATE TABLE mfa_webauthn_user_handles (
            user_id {key} PRIMARY KEY,
            handle {blob} NOT NULL UNIQUE
        )""",
        "ALTER TABLE mfa_webauthn_credentials ADD COLUMN user_handle {blob}",
        """ALTER TABLE mfa_webauthn_credentials ADD COLUMN passwordless INTEGER NOT NULL
            DEFAULT 0 CHECK (passwordless IN (0, 1))""",
        "UPDATE mfa_webauthn_credentials SET passwordless = 1 WHERE kind = 'passkey'",
    ),
    # Version 10 (issue 16, provider names): the authenticator model's name from
    # FIDO metadata, kept only when the credential's attestation was verified
    # to a trust anchor (NULL for every credential stored before).
    ("ALTER TABLE mfa_webauthn_credentials ADD COLUMN attested_provider TEXT",),
)
