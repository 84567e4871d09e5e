"""The SQL store behind :class:`SQLiteStore` and :class:`PostgresStore`.

Both databases run the same statements; a small :class:`Dialect` says how they
differ (placeholders, column types, how a write transaction starts, which driver
exceptions mean what). Every atomic port method is either one conditional
statement (``UPDATE ... WHERE <expected state>``, ``DELETE ... RETURNING``,
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``), which both databases run
atomically, or a short write transaction that takes its row locks first.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

from mfakit.errors import ConfigurationError, DuplicateError, MfaError, NotFoundError, StoreError
from mfakit.repositories import (
    AuditEvent,
    BackupCode,
    Challenge,
    Invitation,
    LoginCode,
    Membership,
    Organization,
    Page,
    ThrottleState,
    TotpCredential,
    WebAuthnCredential,
)
from mfakit.stores._common import (
    check_limit,
    dump_json,
    from_micros,
    load_json,
    opt_from_micros,
    opt_micros,
    parse_seq_cursor,
    to_micros,
    utc,
)
from mfakit.stores._schema import MIGRATIONS

__all__ = ["Dialect", "SqlStore"]

T = TypeVar("T")
Row = tuple[Any, ...]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    """What differs between the SQL databases."""

    name: str
    begin_write: str
    for_update: str
    paramstyle_format: bool
    types: dict[str, str]
    integrity_error: type[BaseException]
    driver_error: type[BaseException]
    migration_lock: str | None = None

    def sql(self, statement: str) -> str:
        """Translate ``?`` placeholders to the driver's style."""
        return _format_style(statement) if self.paramstyle_format else statement


@functools.lru_cache(maxsize=1024)
def _format_style(statement: str) -> str:
    # The statements are this module's constants and contain no literal "?" or "%".
    return statement.replace("?", "%s")


class _Conn:
    """A connection with the dialect's placeholder translation."""

    __slots__ = ("_dialect", "raw")

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw = raw
        self._dialect = dialect

    def run(self, statement: str, params: Sequence[Any] = ()) -> int:
        cursor = self.raw.execute(self._dialect.sql(statement), tuple(params))
        return int(cursor.rowcount)

    def one(self, statement: str, params: Sequence[Any] = ()) -> Row | None:
        # fetchall, not fetchone: sqlite3 only finishes (and, in autocommit
        # mode, commits) a statement with RETURNING once every row is read.
        rows = self.all(statement, params)
        return rows[0] if rows else None

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        rows: list[Row] = self.raw.execute(self._dialect.sql(statement), tuple(params)).fetchall()
        return rows


class Pool:
    """Idle connections kept for reuse; each call borrows one for its duration.

    A connection is used by one thread at a time, and the number of open
    connections follows the real concurrency instead of the number of threads
    that ever called the store.
    """

    def __init__(self, connect: Callable[[], Any], *, max_idle: int = 8) -> None:
        self._connect = connect
        self._max_idle = max_idle
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self.closed = False

    def acquire(self) -> Any:
        """Return an idle connection, or a new one."""
        with self._lock:
            if self.closed:
                raise StoreError("the store is closed")
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def release(self, conn: Any, *, discard: bool) -> None:
        """Give a connection back (closing it if broken, surplus or the pool is closed)."""
        with self._lock:
            if not discard and not self.closed and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        _close_quietly(conn)

    def close(self) -> None:
        """Close every idle connection; borrowed ones close when given back."""
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            _close_quietly(conn)


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception:  # noqa: BLE001, S110 - a connection that fails to close is gone anyway
        pass


_TOTP_COLS = (
    "totp_id, user_id, state, secret, algorithm, digits, period, created_at, expires_at, "
    "confirmed_at, last_step"
)
_CODE_COLS = "user_id, code_id, hash, created_at, consumed_at"
_CRED_COLS = (
    "credential_id, user_id, name, public_key, sign_count, transports, aaguid, backup_eligible, "
    "backup_state, created_at, last_used_at"
)
_CHAL_COLS = "challenge_id, purpose, user_id, challenge, created_at, expires_at, context"
_LOGIN_COLS = (
    "subject, code_id, code_hash, created_at, expires_at, max_attempts, attempts, consumed_at"
)
_THROTTLE_COLS = "key, failures, first_failure_at, last_failure_at, locked_until"
_ORG_COLS = (
    "org_id, name, policy, enforced, enforced_at, enforcement_stopped_at, created_at, version"
)
_MEMBER_COLS = (
    "org_id, user_id, kind, status, username, joined_at, grace_started_at, grace_reason, "
    "locked_at, lock_reason, last_mfa_at, last_reminder_at, exempt_until, attributes, version"
)
_INV_COLS = (
    "invitation_id, org_id, email, kind, invited_by, created_at, expires_at, accepted_at, "
    "accepted_by, revoked_at"
)
_AUDIT_COLS = "seq, event_id, at, action, outcome, actor_id, user_id, org_id, details"


def _marks(columns: str) -> str:
    return ", ".join("?" for _ in columns.split(","))


def _totp(r: Row) -> TotpCredential:
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
    )


def _code(r: Row) -> BackupCode:
    return BackupCode(
        user_id=r[0],
        code_id=r[1],
        hash=r[2],
        created_at=from_micros(r[3]),
        consumed_at=opt_from_micros(r[4]),
    )


def _cred(r: Row) -> WebAuthnCredential:
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
    )


def _chal(r: Row) -> Challenge:
    return Challenge(
        challenge_id=r[0],
        purpose=r[1],
        user_id=r[2],
        challenge=bytes(r[3]),
        created_at=from_micros(r[4]),
        expires_at=from_micros(r[5]),
        context=load_json(r[6]),
    )


def _login(r: Row) -> LoginCode:
    return LoginCode(
        subject=r[0],
        code_id=r[1],
        code_hash=bytes(r[2]),
        created_at=from_micros(r[3]),
        expires_at=from_micros(r[4]),
        max_attempts=r[5],
        attempts=r[6],
        consumed_at=opt_from_micros(r[7]),
    )


def _throttle(r: Row) -> ThrottleState:
    return ThrottleState(
        key=r[0],
        failures=r[1],
        first_failure_at=opt_from_micros(r[2]),
        last_failure_at=opt_from_micros(r[3]),
        locked_until=opt_from_micros(r[4]),
    )


def _org(r: Row) -> Organization:
    return Organization(
        org_id=r[0],
        name=r[1],
        policy=load_json(r[2]),
        enforced=bool(r[3]),
        enforced_at=opt_from_micros(r[4]),
        enforcement_stopped_at=opt_from_micros(r[5]),
        created_at=from_micros(r[6]),
        version=r[7],
    )


def _member(r: Row) -> Membership:
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
        last_mfa_at=opt_from_micros(r[10]),
        last_reminder_at=opt_from_micros(r[11]),
        exempt_until=opt_from_micros(r[12]),
        attributes=load_json(r[13]),
        version=r[14],
    )


def _inv(r: Row) -> Invitation:
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


def _audit(r: Row) -> AuditEvent:
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


def _member_params(m: Membership) -> list[Any]:
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
        opt_micros(m.last_mfa_at),
        opt_micros(m.last_reminder_at),
        opt_micros(m.exempt_until),
        dump_json(m.attributes),
    ]


def _keyset(
    rows: list[Row], convert: Callable[[Row], T], key: Callable[[Row], Any], limit: int
) -> Page[T]:
    chunk = rows[:limit]
    cursor = str(key(chunk[-1])) if len(rows) > limit else None
    return Page(items=tuple(convert(r) for r in chunk), next_cursor=cursor)


class SqlStore:
    """Every port of :class:`mfakit.repositories.MfaStore` over a SQL connection pool."""

    _dialect: Dialect

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    # -- plumbing -------------------------------------------------------------------

    @contextmanager
    def _borrow(self) -> Iterator[_Conn]:
        raw = self._pool.acquire()
        discard = True
        try:
            yield _Conn(raw, self._dialect)
            discard = False
        except MfaError:
            discard = False
            raise
        finally:
            self._pool.release(raw, discard=discard)

    def _call(self, fn: Callable[[_Conn], T], *, write: bool = False) -> T:
        """Run ``fn`` on a borrowed connection, in a write transaction if asked.

        Driver errors become :class:`StoreError` (unique violations
        :class:`DuplicateError`); mfakit errors roll the transaction back and pass.
        """
        try:
            with self._borrow() as conn:
                if not write:
                    return fn(conn)
                conn.run(self._dialect.begin_write)
                try:
                    result = fn(conn)
                except BaseException:
                    try:
                        conn.run("ROLLBACK")
                    except self._dialect.driver_error:  # pragma: no cover - connection died
                        pass
                    raise
                conn.run("COMMIT")
                return result
        except MfaError:
            raise
        except self._dialect.integrity_error as exc:
            raise DuplicateError("the record already exists; nothing was written") from exc
        except self._dialect.driver_error as exc:
            raise StoreError(f"the {self._dialect.name} database failed") from exc

    def _migrate(self) -> None:
        def migrate(c: _Conn) -> None:
            if self._dialect.migration_lock:
                c.one(self._dialect.migration_lock)
            c.run("CREATE TABLE IF NOT EXISTS mfa_schema_version (version INTEGER NOT NULL)")
            row = c.one("SELECT version FROM mfa_schema_version")
            current = 0 if row is None else int(row[0])
            if current > len(MIGRATIONS):
                raise StoreError(
                    f"the database schema (version {current}) is newer than this mfakit "
                    f"(version {len(MIGRATIONS)})"
                )
            for statements in MIGRATIONS[current:]:
                for statement in statements:
                    c.run(statement.format(**self._dialect.types))
            if row is None:
                c.run("INSERT INTO mfa_schema_version (version) VALUES (?)", [len(MIGRATIONS)])
            else:
                c.run("UPDATE mfa_schema_version SET version = ?", [len(MIGRATIONS)])

        self._call(migrate, write=True)

    def schema_version(self) -> int:
        """Return the schema version of the database."""
        row = self._call(lambda c: c.one("SELECT version FROM mfa_schema_version"))
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the store's connections; further calls raise :class:`StoreError`."""
        self._pool.close()

    # -- TOTP -----------------------------------------------------------------------

    def put_pending_totp(self, credential: TotpCredential) -> None:
        """See :meth:`mfakit.repositories.TotpRepository.put_pending_totp`."""
        t = credential
        if t.state != "pending":
            raise ConfigurationError("put_pending_totp takes a pending credential")
        params = [
            t.totp_id,
            t.user_id,
            "pending",
            bytes(t.secret),
            t.algorithm,
            t.digits,
            t.period,
            to_micros(t.created_at),
            opt_micros(t.expires_at),
            opt_micros(t.confirmed_at),
            t.last_step,
        ]

        def put(c: _Conn) -> None:
            c.run("DELETE FROM mfa_totp WHERE user_id = ? AND state = 'pending'", [t.user_id])
            c.run(f"INSERT INTO mfa_totp ({_TOTP_COLS}) VALUES ({_marks(_TOTP_COLS)})", params)

        self._call(put, write=True)

    def get_pending_totp(self, user_id: str, *, now: datetime) -> TotpCredential | None:
        """See :meth:`mfakit.repositories.TotpRepository.get_pending_totp`."""
        row = self._call(
            lambda c: c.one(
                f"SELECT {_TOTP_COLS} FROM mfa_totp WHERE user_id = ? AND state = 'pending' "
                "AND (expires_at IS NULL OR expires_at > ?)",
                [user_id, to_micros(now)],
            )
        )
        return None if row is None else _totp(row)

    def get_active_totp(self, user_id: str) -> TotpCredential | None:
        """See :meth:`mfakit.repositories.TotpRepository.get_active_totp`."""
        row = self._call(
            lambda c: c.one(
                f"SELECT {_TOTP_COLS} FROM mfa_totp WHERE user_id = ? AND state = 'active'",
                [user_id],
            )
        )
        return None if row is None else _totp(row)

    def activate_totp(
        self, user_id: str, totp_id: str, *, step: int, now: datetime
    ) -> TotpCredential:
        """See :meth:`mfakit.repositories.TotpRepository.activate_totp`."""
        at = to_micros(now)

        def activate(c: _Conn) -> TotpCredential:
            # Lock the user's rows first so concurrent activations queue up here.
            c.all(f"SELECT state FROM mfa_totp WHERE user_id = ?{self._dialect.for_update}", [user_id])
            pending = c.one(
                "SELECT totp_id FROM mfa_totp WHERE user_id = ? AND state = 'pending' "
                "AND totp_id = ? AND (expires_at IS NULL OR expires_at > ?)",
                [user_id, totp_id, at],
            )
            if pending is None:
                raise NotFoundError("no such pending TOTP enrollment")
            c.run("DELETE FROM mfa_totp WHERE user_id = ? AND state = 'active'", [user_id])
            row = c.one(
                "UPDATE mfa_totp SET state = 'active', expires_at = NULL, confirmed_at = ?, "
                f"last_step = ? WHERE user_id = ? AND state = 'pending' RETURNING {_TOTP_COLS}",
                [at, step, user_id],
            )
            assert row is not None  # noqa: S101 - the row is locked by this transaction
            return _totp(row)

        return self._call(activate, write=True)

    def advance_totp_step(self, user_id: str, step: int) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.advance_totp_step`."""
        changed = self._call(
            lambda c: c.run(
                "UPDATE mfa_totp SET last_step = ? WHERE user_id = ? AND state = 'active' "
                "AND (last_step IS NULL OR last_step < ?)",
                [step, user_id, step],
            )
        )
        return changed == 1

    def delete_totp(self, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.delete_totp`."""
        n = self._call(lambda c: c.run("DELETE FROM mfa_totp WHERE user_id = ?", [user_id]))
        return n > 0

    # -- Backup codes ---------------------------------------------------------------

    def replace_backup_codes(self, user_id: str, codes: Sequence[BackupCode]) -> None:
        """See :meth:`mfakit.repositories.BackupCodeRepository.replace_backup_codes`."""
        rows = []
        seen: set[str] = set()
        for code in codes:
            if code.user_id != user_id:
                raise ConfigurationError("a backup code belongs to another user")
            if code.code_id in seen:
                raise DuplicateError("two backup codes share an id")
            seen.add(code.code_id)
            rows.append(
                [
                    user_id,
                    code.code_id,
                    code.hash,
                    to_micros(code.created_at),
                    opt_micros(code.consumed_at),
                ]
            )

        def replace(c: _Conn) -> None:
            # Upserting the set row locks it: concurrent replacements of one
            # user's set run one after the other, never merging two sets.
            c.run(
                "INSERT INTO mfa_backup_code_sets (user_id, replaced) VALUES (?, 0) "
                "ON CONFLICT (user_id) DO UPDATE SET replaced = mfa_backup_code_sets.replaced + 1",
                [user_id],
            )
            c.run("DELETE FROM mfa_backup_codes WHERE user_id = ?", [user_id])
            for params in rows:
                c.run(f"INSERT INTO mfa_backup_codes ({_CODE_COLS}) VALUES (?, ?, ?, ?, ?)", params)

        self._call(replace, write=True)

    def list_backup_codes(self, user_id: str) -> tuple[BackupCode, ...]:
        """See :meth:`mfakit.repositories.BackupCodeRepository.list_backup_codes`."""
        rows = self._call(
            lambda c: c.all(
                f"SELECT {_CODE_COLS} FROM mfa_backup_codes WHERE user_id = ? ORDER BY code_id",
                [user_id],
            )
        )
        return tuple(_code(r) for r in rows)

    def count_unused_backup_codes(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.BackupCodeRepository.count_unused_backup_codes`."""
        row = self._call(
            lambda c: c.one(
                "SELECT COUNT(*) FROM mfa_backup_codes WHERE user_id = ? AND consumed_at IS NULL",
                [user_id],
            )
        )
        return int(row[0]) if row else 0

    def consume_backup_code(self, user_id: str, code_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.BackupCodeRepository.consume_backup_code`."""
        n = self._call(
            lambda c: c.run(
                "UPDATE mfa_backup_codes SET consumed_at = ? "
                "WHERE user_id = ? AND code_id = ? AND consumed_at IS NULL",
                [to_micros(now), user_id, code_id],
            )
        )
        return n == 1

    def delete_backup_codes(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.BackupCodeRepository.delete_backup_codes`."""

        def delete(c: _Conn) -> int:
            n = c.run("DELETE FROM mfa_backup_codes WHERE user_id = ?", [user_id])
            c.run("DELETE FROM mfa_backup_code_sets WHERE user_id = ?", [user_id])
            return n

        return self._call(delete, write=True)

    # -- WebAuthn -------------------------------------------------------------------

    def add_webauthn_credential(self, credential: WebAuthnCredential) -> None:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.add_webauthn_credential`."""
        w = credential
        params = [
            bytes(w.credential_id),
            w.user_id,
            w.name,
            bytes(w.public_key),
            w.sign_count,
            json.dumps(list(w.transports)),
            bytes(w.aaguid),
            int(w.backup_eligible),
            int(w.backup_state),
            to_micros(w.created_at),
            opt_micros(w.last_used_at),
        ]
        self._call(
            lambda c: c.run(
                f"INSERT INTO mfa_webauthn_credentials ({_CRED_COLS}) VALUES ({_marks(_CRED_COLS)})",
                params,
            )
        )

    def get_webauthn_credential(self, credential_id: bytes) -> WebAuthnCredential | None:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.get_webauthn_credential`."""
        row = self._call(
            lambda c: c.one(
                f"SELECT {_CRED_COLS} FROM mfa_webauthn_credentials WHERE credential_id = ?",
                [bytes(credential_id)],
            )
        )
        return None if row is None else _cred(row)

    def list_webauthn_credentials(self, user_id: str) -> tuple[WebAuthnCredential, ...]:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.list_webauthn_credentials`."""
        rows = self._call(
            lambda c: c.all(
                f"SELECT {_CRED_COLS} FROM mfa_webauthn_credentials WHERE user_id = ? "
                "ORDER BY created_at, credential_id",
                [user_id],
            )
        )
        return tuple(_cred(r) for r in rows)

    def rename_webauthn_credential(self, user_id: str, credential_id: bytes, name: str) -> None:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.rename_webauthn_credential`."""
        n = self._call(
            lambda c: c.run(
                "UPDATE mfa_webauthn_credentials SET name = ? WHERE credential_id = ? "
                "AND user_id = ?",
                [name, bytes(credential_id), user_id],
            )
        )
        if n == 0:
            raise NotFoundError("the user has no such credential")

    def delete_webauthn_credential(self, user_id: str, credential_id: bytes) -> bool:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.delete_webauthn_credential`."""
        n = self._call(
            lambda c: c.run(
                "DELETE FROM mfa_webauthn_credentials WHERE credential_id = ? AND user_id = ?",
                [bytes(credential_id), user_id],
            )
        )
        return n == 1

    def update_sign_count(
        self,
        credential_id: bytes,
        expected_old: int,
        new: int,
        *,
        now: datetime,
        backup_state: bool | None = None,
    ) -> bool:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.update_sign_count`."""
        bs = None if backup_state is None else int(backup_state)
        n = self._call(
            lambda c: c.run(
                "UPDATE mfa_webauthn_credentials SET sign_count = ?, last_used_at = ?, "
                "backup_state = COALESCE(?, backup_state) "
                "WHERE credential_id = ? AND sign_count = ?",
                [new, to_micros(now), bs, bytes(credential_id), expected_old],
            )
        )
        return n == 1

    # -- Challenges -----------------------------------------------------------------

    def put_challenge(self, challenge: Challenge) -> None:
        """See :meth:`mfakit.repositories.ChallengeRepository.put_challenge`."""
        ch = challenge
        params = [
            ch.challenge_id,
            ch.purpose,
            ch.user_id,
            bytes(ch.challenge),
            to_micros(ch.created_at),
            to_micros(ch.expires_at),
            dump_json(ch.context),
        ]
        self._call(
            lambda c: c.run(
                f"INSERT INTO mfa_challenges ({_CHAL_COLS}) VALUES ({_marks(_CHAL_COLS)})", params
            )
        )

    def pop_challenge(self, challenge_id: str, *, now: datetime) -> Challenge | None:
        """See :meth:`mfakit.repositories.ChallengeRepository.pop_challenge`."""
        at = to_micros(now)
        row = self._call(
            lambda c: c.one(
                f"DELETE FROM mfa_challenges WHERE challenge_id = ? RETURNING {_CHAL_COLS}",
                [challenge_id],
            )
        )
        if row is None or row[5] <= at:
            return None
        return _chal(row)

    def purge_expired_challenges(self, *, now: datetime) -> int:
        """See :meth:`mfakit.repositories.ChallengeRepository.purge_expired_challenges`."""
        return self._call(
            lambda c: c.run("DELETE FROM mfa_challenges WHERE expires_at <= ?", [to_micros(now)])
        )

    # -- Login codes ----------------------------------------------------------------

    def put_login_code(self, code: LoginCode) -> None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.put_login_code`."""
        lc = code
        params = [
            lc.subject,
            lc.code_id,
            bytes(lc.code_hash),
            to_micros(lc.created_at),
            to_micros(lc.expires_at),
            lc.max_attempts,
            lc.attempts,
            opt_micros(lc.consumed_at),
        ]
        updates = ", ".join(f"{col} = excluded.{col}" for col in _LOGIN_COLS.split(", ")[1:])
        self._call(
            lambda c: c.run(
                f"INSERT INTO mfa_login_codes ({_LOGIN_COLS}) VALUES ({_marks(_LOGIN_COLS)}) "
                f"ON CONFLICT (subject) DO UPDATE SET {updates}",
                params,
            )
        )

    def get_login_code(self, subject: str) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.get_login_code`."""
        row = self._call(
            lambda c: c.one(
                f"SELECT {_LOGIN_COLS} FROM mfa_login_codes WHERE subject = ?", [subject]
            )
        )
        return None if row is None else _login(row)

    def record_login_code_attempt(
        self, subject: str, code_id: str, *, now: datetime
    ) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.record_login_code_attempt`."""
        row = self._call(
            lambda c: c.one(
                "UPDATE mfa_login_codes SET attempts = attempts + 1 WHERE subject = ? "
                "AND code_id = ? AND consumed_at IS NULL AND expires_at > ? "
                f"AND attempts < max_attempts RETURNING {_LOGIN_COLS}",
                [subject, code_id, to_micros(now)],
            )
        )
        return None if row is None else _login(row)

    def consume_login_code(self, subject: str, code_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.consume_login_code`."""
        at = to_micros(now)
        n = self._call(
            lambda c: c.run(
                "UPDATE mfa_login_codes SET consumed_at = ? WHERE subject = ? AND code_id = ? "
                "AND consumed_at IS NULL AND expires_at > ?",
                [at, subject, code_id, at],
            )
        )
        return n == 1

    def delete_login_code(self, subject: str) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.delete_login_code`."""
        n = self._call(lambda c: c.run("DELETE FROM mfa_login_codes WHERE subject = ?", [subject]))
        return n == 1

    # -- Throttle -------------------------------------------------------------------

    def get_throttle(self, key: str) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.get_throttle`."""
        row = self._call(
            lambda c: c.one(f"SELECT {_THROTTLE_COLS} FROM mfa_throttle WHERE key = ?", [key])
        )
        return ThrottleState(key=key) if row is None else _throttle(row)

    def record_failure(
        self, key: str, *, now: datetime, window: timedelta | None = None
    ) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.record_failure`."""
        at = to_micros(now)
        # A window restarts the count when the first failure is older than it;
        # without one, a NULL bound makes the comparison false.
        bound = None if window is None else to_micros(utc(now) - window)
        restart = "(t.first_failure_at IS NULL OR t.first_failure_at < ?)"
        row = self._call(
            lambda c: c.one(
                f"INSERT INTO mfa_throttle AS t ({_THROTTLE_COLS}) VALUES (?, 1, ?, ?, NULL) "
                "ON CONFLICT (key) DO UPDATE SET "
                f"failures = CASE WHEN {restart} THEN 1 ELSE t.failures + 1 END, "
                f"first_failure_at = CASE WHEN {restart} THEN excluded.first_failure_at "
                "ELSE t.first_failure_at END, "
                f"last_failure_at = excluded.last_failure_at RETURNING {_THROTTLE_COLS}",
                [key, at, at, bound, bound],
            )
        )
        assert row is not None  # noqa: S101 - an upsert always returns its row
        return _throttle(row)

    def lock_throttle(self, key: str, *, until: datetime) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.lock_throttle`."""
        row = self._call(
            lambda c: c.one(
                f"INSERT INTO mfa_throttle AS t ({_THROTTLE_COLS}) VALUES (?, 0, NULL, NULL, ?) "
                "ON CONFLICT (key) DO UPDATE SET locked_until = CASE "
                "WHEN t.locked_until IS NULL OR t.locked_until < excluded.locked_until "
                f"THEN excluded.locked_until ELSE t.locked_until END RETURNING {_THROTTLE_COLS}",
                [key, to_micros(until)],
            )
        )
        assert row is not None  # noqa: S101 - an upsert always returns its row
        return _throttle(row)

    def reset_throttle(self, key: str) -> None:
        """See :meth:`mfakit.repositories.ThrottleRepository.reset_throttle`."""
        self._call(lambda c: c.run("DELETE FROM mfa_throttle WHERE key = ?", [key]))

    # -- Organizations --------------------------------------------------------------

    def create_organization(self, organization: Organization) -> Organization:
        """See :meth:`mfakit.repositories.OrganizationRepository.create_organization`."""
        o = organization
        params = [
            o.org_id,
            o.name,
            dump_json(o.policy),
            int(o.enforced),
            opt_micros(o.enforced_at),
            opt_micros(o.enforcement_stopped_at),
            to_micros(o.created_at),
            1,
        ]
        row = self._call(
            lambda c: c.one(
                f"INSERT INTO mfa_organizations ({_ORG_COLS}) VALUES ({_marks(_ORG_COLS)}) "
                f"RETURNING {_ORG_COLS}",
                params,
            )
        )
        assert row is not None  # noqa: S101 - an insert returns its row
        return _org(row)

    def get_organization(self, org_id: str) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.get_organization`."""
        row = self._call(
            lambda c: c.one(f"SELECT {_ORG_COLS} FROM mfa_organizations WHERE org_id = ?", [org_id])
        )
        return None if row is None else _org(row)

    def update_organization(self, organization: Organization) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.update_organization`."""
        o = organization
        params = [
            o.name,
            dump_json(o.policy),
            int(o.enforced),
            opt_micros(o.enforced_at),
            opt_micros(o.enforcement_stopped_at),
            o.org_id,
            o.version,
        ]

        def update(c: _Conn) -> Row | None:
            row = c.one(
                "UPDATE mfa_organizations SET name = ?, policy = ?, enforced = ?, "
                "enforced_at = ?, enforcement_stopped_at = ?, version = version + 1 "
                f"WHERE org_id = ? AND version = ? RETURNING {_ORG_COLS}",
                params,
            )
            if row is None and c.one(
                "SELECT 1 FROM mfa_organizations WHERE org_id = ?", [o.org_id]
            ) is None:
                raise NotFoundError("no such organization")
            return row

        row = self._call(update)
        return None if row is None else _org(row)

    def list_organizations(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[Organization]:
        """See :meth:`mfakit.repositories.OrganizationRepository.list_organizations`."""
        check_limit(limit)
        where, params = ("WHERE org_id > ? ", [after]) if after is not None else ("", [])
        rows = self._call(
            lambda c: c.all(
                f"SELECT {_ORG_COLS} FROM mfa_organizations {where}ORDER BY org_id LIMIT ?",
                [*params, limit + 1],
            )
        )
        return _keyset(rows, _org, lambda r: r[0], limit)

    # -- Memberships ----------------------------------------------------------------

    def _insert_membership(self, c: _Conn, m: Membership) -> Row:
        if c.one("SELECT 1 FROM mfa_organizations WHERE org_id = ?", [m.org_id]) is None:
            raise NotFoundError("no such organization")
        row = c.one(
            f"INSERT INTO mfa_memberships ({_MEMBER_COLS}) VALUES ({_marks(_MEMBER_COLS)}) "
            f"RETURNING {_MEMBER_COLS}",
            [*_member_params(m), 1],
        )
        assert row is not None  # noqa: S101 - an insert returns its row
        return row

    def add_membership(self, membership: Membership) -> Membership:
        """See :meth:`mfakit.repositories.MembershipRepository.add_membership`."""
        _member_params(membership)  # validate before touching the database
        return _member(self._call(lambda c: self._insert_membership(c, membership), write=True))

    def get_membership(self, org_id: str, user_id: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership`."""
        row = self._call(
            lambda c: c.one(
                f"SELECT {_MEMBER_COLS} FROM mfa_memberships WHERE org_id = ? AND user_id = ?",
                [org_id, user_id],
            )
        )
        return None if row is None else _member(row)

    def get_membership_by_username(self, org_id: str, username: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership_by_username`."""
        row = self._call(
            lambda c: c.one(
                f"SELECT {_MEMBER_COLS} FROM mfa_memberships WHERE org_id = ? AND username = ?",
                [org_id, username],
            )
        )
        return None if row is None else _member(row)

    def update_membership(self, membership: Membership) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.update_membership`."""
        m = membership
        values = _member_params(m)[2:]
        sets = ", ".join(f"{col} = ?" for col in _MEMBER_COLS.split(", ")[2:-1])

        def update(c: _Conn) -> Row | None:
            row = c.one(
                f"UPDATE mfa_memberships SET {sets}, version = version + 1 "
                f"WHERE org_id = ? AND user_id = ? AND version = ? RETURNING {_MEMBER_COLS}",
                [*values, m.org_id, m.user_id, m.version],
            )
            if row is None and c.one(
                "SELECT 1 FROM mfa_memberships WHERE org_id = ? AND user_id = ?",
                [m.org_id, m.user_id],
            ) is None:
                raise NotFoundError("no such membership")
            return row

        row = self._call(update)
        return None if row is None else _member(row)

    def delete_membership(self, org_id: str, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.MembershipRepository.delete_membership`."""
        n = self._call(
            lambda c: c.run(
                "DELETE FROM mfa_memberships WHERE org_id = ? AND user_id = ?", [org_id, user_id]
            )
        )
        return n == 1

    def list_memberships(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Membership]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_memberships`."""
        check_limit(limit)
        where, params = ("AND user_id > ? ", [after]) if after is not None else ("", [])
        rows = self._call(
            lambda c: c.all(
                f"SELECT {_MEMBER_COLS} FROM mfa_memberships WHERE org_id = ? {where}"
                "ORDER BY user_id LIMIT ?",
                [org_id, *params, limit + 1],
            )
        )
        return _keyset(rows, _member, lambda r: r[1], limit)

    def list_user_memberships(self, user_id: str) -> tuple[Membership, ...]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_user_memberships`."""
        rows = self._call(
            lambda c: c.all(
                f"SELECT {_MEMBER_COLS} FROM mfa_memberships WHERE user_id = ? ORDER BY org_id",
                [user_id],
            )
        )
        return tuple(_member(r) for r in rows)

    def count_memberships(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_memberships`."""
        row = self._call(
            lambda c: c.one("SELECT COUNT(*) FROM mfa_memberships WHERE org_id = ?", [org_id])
        )
        return int(row[0]) if row else 0

    # -- Invitations ----------------------------------------------------------------

    def create_invitation(self, invitation: Invitation) -> None:
        """See :meth:`mfakit.repositories.InvitationRepository.create_invitation`."""
        i = invitation
        params = [
            i.invitation_id,
            i.org_id,
            i.email,
            i.kind,
            i.invited_by,
            to_micros(i.created_at),
            to_micros(i.expires_at),
            opt_micros(i.accepted_at),
            i.accepted_by,
            opt_micros(i.revoked_at),
        ]

        def create(c: _Conn) -> None:
            if c.one("SELECT 1 FROM mfa_organizations WHERE org_id = ?", [i.org_id]) is None:
                raise NotFoundError("no such organization")
            c.run(f"INSERT INTO mfa_invitations ({_INV_COLS}) VALUES ({_marks(_INV_COLS)})", params)

        self._call(create, write=True)

    def get_invitation(self, invitation_id: str) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.get_invitation`."""
        row = self._call(
            lambda c: c.one(
                f"SELECT {_INV_COLS} FROM mfa_invitations WHERE invitation_id = ?",
                [invitation_id],
            )
        )
        return None if row is None else _inv(row)

    def list_invitations(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Invitation]:
        """See :meth:`mfakit.repositories.InvitationRepository.list_invitations`."""
        check_limit(limit)
        where, params = ("AND invitation_id > ? ", [after]) if after is not None else ("", [])
        rows = self._call(
            lambda c: c.all(
                f"SELECT {_INV_COLS} FROM mfa_invitations WHERE org_id = ? {where}"
                "ORDER BY invitation_id LIMIT ?",
                [org_id, *params, limit + 1],
            )
        )
        return _keyset(rows, _inv, lambda r: r[0], limit)

    def accept_invitation(
        self, invitation_id: str, membership: Membership, *, now: datetime
    ) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.accept_invitation`."""
        at = to_micros(now)
        _member_params(membership)  # validate before touching the database

        def accept(c: _Conn) -> Row | None:
            row = c.one(
                "UPDATE mfa_invitations SET accepted_at = ?, accepted_by = ? "
                "WHERE invitation_id = ? AND accepted_at IS NULL AND revoked_at IS NULL "
                f"AND expires_at > ? RETURNING {_INV_COLS}",
                [at, membership.user_id, invitation_id, at],
            )
            if row is None:
                return None
            if row[1] != membership.org_id:
                raise ConfigurationError("the membership is for another organization")
            self._insert_membership(c, membership)
            return row

        row = self._call(accept, write=True)
        return None if row is None else _inv(row)

    def revoke_invitation(self, invitation_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.InvitationRepository.revoke_invitation`."""
        n = self._call(
            lambda c: c.run(
                "UPDATE mfa_invitations SET revoked_at = ? WHERE invitation_id = ? "
                "AND accepted_at IS NULL AND revoked_at IS NULL",
                [to_micros(now), invitation_id],
            )
        )
        return n == 1

    # -- Audit ----------------------------------------------------------------------

    def append_audit_event(self, event: AuditEvent) -> None:
        """See :meth:`mfakit.repositories.AuditSink.append_audit_event`."""
        e = event
        params = [
            e.event_id,
            to_micros(e.at),
            e.action,
            e.outcome,
            e.actor_id,
            e.user_id,
            e.org_id,
            dump_json(e.details),
        ]
        cols = _AUDIT_COLS.removeprefix("seq, ")
        self._call(
            lambda c: c.run(f"INSERT INTO mfa_audit_events ({cols}) VALUES ({_marks(cols)})", params)
        )

    def list_audit_events(
        self,
        *,
        org_id: str | None = None,
        user_id: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Page[AuditEvent]:
        """See :meth:`mfakit.repositories.AuditSink.list_audit_events`."""
        check_limit(limit)
        clauses, params = ["seq > ?"], [parse_seq_cursor(after)]
        if org_id is not None:
            clauses.append("org_id = ?")
            params.append(org_id)
        if user_id is not None:
            clauses.append("user_id = ?")
            params.append(user_id)
        rows = self._call(
            lambda c: c.all(
                f"SELECT {_AUDIT_COLS} FROM mfa_audit_events WHERE {' AND '.join(clauses)} "
                "ORDER BY seq LIMIT ?",
                [*params, limit + 1],
            )
        )
        return _keyset(rows, _audit, lambda r: r[0], limit)
