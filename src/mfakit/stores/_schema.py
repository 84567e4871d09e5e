"""The SQL schema shared by the SQLite and PostgreSQL stores, as forward migrations.

Times are ``BIGINT`` microseconds since the Unix epoch (UTC): exact, sortable,
and the same in both databases. Text keys that listings page through use a
byte-order collation so that keyset cursors agree with Python's ``str`` order.
Booleans are 0/1 integers. Mappings are canonical JSON text.

Placeholders in the templates: ``{blob}`` (BLOB / BYTEA), ``{key}`` (text with
byte-order collation), ``{serial}`` (an auto-increment primary key).
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

#: MIGRATIONS[n] upgrades a database from version n to n + 1. Never edit a
#: released migration: append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
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
)
