"""The console's own data: its users (the host application's side), sessions and outbox.

mfakit stores no personal data: it knows users by an opaque id. The host
application keeps the e-mail address, the display name, the password hash and
the language its e-mails are written in, here in small tables next to
mfakit's own, in the same SQLite file, with the server-side sessions (see
``sessions.py``) and the e-mails it "sent".
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mfakit.secretbox import KeyRing, generate_key_entry

_SCHEMA = """
CREATE TABLE IF NOT EXISTS console_users (
    user_id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    password_hash TEXT,
    created_at TEXT NOT NULL,
    locale TEXT
);
CREATE TABLE IF NOT EXISTS console_member_passwords (
    user_id TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    set_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS console_sessions (
    session_key TEXT PRIMARY KEY,
    user_id TEXT,
    data TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS console_sessions_user ON console_sessions (user_id);
CREATE INDEX IF NOT EXISTS console_sessions_expiry ON console_sessions (expires_at);
CREATE TABLE IF NOT EXISTS console_outbox (
    message_id INTEGER PRIMARY KEY AUTOINCREMENT,
    sent_at TEXT NOT NULL,
    user_id TEXT,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """A console account. ``password_hash`` is ``None`` for organization members
    created by an owner: they sign in with an e-mailed code. ``locale`` is the
    language of the user's e-mails: their browser's at their last sign-in (or
    at sign-up; a member created by an owner starts with the owner's)."""

    user_id: str
    email: str
    name: str
    password_hash: str | None
    created_at: str
    locale: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Mail:
    """One message the console "sent" (shown on the outbox page)."""

    message_id: int
    sent_at: str
    recipient: str
    kind: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Secrets:
    """The instance's secrets, created on first start and kept in the instance dir."""

    secret_key: str
    keys: KeyRing
    login_code_key: bytes


def load_secrets(instance_dir: Path) -> Secrets:
    """Read the instance's secrets, creating them (readable by the owner only) if missing."""
    path = instance_dir / "secrets.json"
    if not path.exists():
        fresh = {
            "secret_key": secrets.token_hex(32),
            "totp_keys": generate_key_entry("k1"),
            "login_code_key": secrets.token_hex(32),
        }
        # O_EXCL: two processes starting at once never overwrite each other's keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(fresh, out)
    stored = json.loads(path.read_text(encoding="utf-8"))
    return Secrets(
        secret_key=stored["secret_key"],
        keys=KeyRing.from_config(stored["totp_keys"]),
        login_code_key=bytes.fromhex(stored["login_code_key"]),
    )


def now_text() -> str:
    """The current UTC time as ISO 8601 text."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Accounts:
    """The console's users, sessions and outbox, in the same SQLite file as mfakit's tables."""

    def __init__(self, path: Path) -> None:
        self._path = path
        with self._connect() as db:
            db.executescript(_SCHEMA)
            # A data file from before e-mails were translated: add the language column.
            columns = {row[1] for row in db.execute("PRAGMA table_info(console_users)")}
            if "locale" not in columns:
                db.execute("ALTER TABLE console_users ADD COLUMN locale TEXT")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self._path, timeout=10.0)
        db.row_factory = sqlite3.Row
        try:
            with db:  # commits, or rolls back on an exception
                yield db
        finally:
            db.close()

    # -- users -------------------------------------------------------------------------

    def create_user(
        self, *, email: str, name: str, password_hash: str | None, locale: str | None = None
    ) -> User | None:
        """Create a user; ``None`` if the e-mail address is taken."""
        user = User(
            user_id="u-" + secrets.token_hex(8),
            email=email,
            name=name,
            password_hash=password_hash,
            created_at=now_text(),
            locale=locale,
        )
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO console_users (user_id, email, name, password_hash, created_at,"
                    " locale) VALUES (?, ?, ?, ?, ?, ?)",
                    (user.user_id, email, name, password_hash, user.created_at, locale),
                )
        except sqlite3.IntegrityError:
            return None
        return user

    def user(self, user_id: str) -> User | None:
        """The user with this id, or ``None``."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM console_users WHERE user_id = ?", (user_id,)).fetchone()
        return None if row is None else User(**dict(row))

    def user_by_email(self, email: str) -> User | None:
        """The user with this e-mail address (case-insensitive), or ``None``."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM console_users WHERE email = ?", (email,)).fetchone()
        return None if row is None else User(**dict(row))

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Store a rehashed password (argon2 parameters upgraded)."""
        with self._connect() as db:
            db.execute(
                "UPDATE console_users SET password_hash = ? WHERE user_id = ?",
                (password_hash, user_id),
            )

    def set_locale(self, user_id: str, locale: str) -> None:
        """Write the user's e-mails in ``locale`` from now on."""
        with self._connect() as db:
            db.execute("UPDATE console_users SET locale = ? WHERE user_id = ?", (locale, user_id))

    # -- organization members' passwords ------------------------------------------------
    # Kept apart from console_users.password_hash: a member's password signs in through
    # the member sign-in only (organization ID + username), never with the e-mail address.

    def member_password_hash(self, user_id: str) -> str | None:
        """The Argon2id hash of the member's password, if they set one."""
        with self._connect() as db:
            row = db.execute(
                "SELECT password_hash FROM console_member_passwords WHERE user_id = ?", (user_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def set_member_password_hash(self, user_id: str, password_hash: str) -> None:
        """Set (or replace, or rehash) the member's password."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO console_member_passwords VALUES (?, ?, ?) ON CONFLICT(user_id) "
                "DO UPDATE SET password_hash = excluded.password_hash, set_at = excluded.set_at",
                (user_id, password_hash, now_text()),
            )

    # -- sessions ----------------------------------------------------------------------
    # The rows of console.sessions.SessionStore: keyed by the SHA-256 of the cookie's id.

    def load_session(self, session_key: str, *, now: float) -> str | None:
        """The data of an unexpired session, or ``None``."""
        with self._connect() as db:
            row = db.execute(
                "SELECT data FROM console_sessions WHERE session_key = ? AND expires_at > ?",
                (session_key, now),
            ).fetchone()
        return None if row is None else str(row[0])

    def create_session(
        self, session_key: str, *, user_id: str | None, data: str, expires_at: float
    ) -> None:
        """Store a new session (and forget the expired ones)."""
        now = time.time()
        with self._connect() as db:
            db.execute("DELETE FROM console_sessions WHERE expires_at <= ?", (now,))
            db.execute(
                "INSERT INTO console_sessions VALUES (?, ?, ?, ?, ?)",
                (session_key, user_id, data, now, expires_at),
            )

    def update_session(self, session_key: str, *, user_id: str | None, data: str) -> bool:
        """Replace a session's data; ``False`` (nothing written) if it was revoked meanwhile."""
        with self._connect() as db:
            cursor = db.execute(
                "UPDATE console_sessions SET user_id = ?, data = ? WHERE session_key = ?",
                (user_id, data, session_key),
            )
        return cursor.rowcount == 1

    def delete_session(self, session_key: str) -> None:
        """End one session (signing out, or its id replaced by a new one)."""
        with self._connect() as db:
            db.execute("DELETE FROM console_sessions WHERE session_key = ?", (session_key,))

    def revoke_sessions(
        self, user_id: str, *, reason: str, org_id: str | None, keep: str | None = None
    ) -> None:
        """mfakit's session revoker: end every session of ``user_id`` (but ``keep``'s).

        The service calls it after an MFA reset or a removal from an
        organization; the console calls it with ``keep`` (the current
        session's key) after the user changed a factor, so that the user
        stays signed in only where the change was made.
        """
        with self._connect() as db:
            db.execute(
                "DELETE FROM console_sessions WHERE user_id = ? AND session_key IS NOT ?",
                (user_id, keep),
            )

    def session_count(self, user_id: str) -> int:
        """How many unexpired sessions ``user_id`` has (for tests and the docs)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT count(*) FROM console_sessions WHERE user_id = ? AND expires_at > ?",
                (user_id, time.time()),
            ).fetchone()
        return int(row[0])

    # -- outbox ------------------------------------------------------------------------

    def record_mail(
        self, *, user_id: str | None, recipient: str, kind: str, subject: str, body: str
    ) -> None:
        """Keep a message the console "sent"."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO console_outbox (sent_at, user_id, recipient, kind, subject, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (now_text(), user_id, recipient, kind, subject, body),
            )

    def mails(self, *, recipient: str | None = None, limit: int = 100) -> list[Mail]:
        """The latest messages, newest first, optionally to one address."""
        query = "SELECT message_id, sent_at, recipient, kind, subject, body FROM console_outbox"
        params: tuple[object, ...] = ()
        if recipient:
            query += " WHERE recipient = ? COLLATE NOCASE"
            params = (recipient,)
        query += " ORDER BY message_id DESC LIMIT ?"
        with self._connect() as db:
            rows = db.execute(query, (*params, limit)).fetchall()
        return [Mail(**dict(row)) for row in rows]
