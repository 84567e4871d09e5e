"""The SQL parts of the factors: TOTP, backup codes, WebAuthn credentials."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from mfakit.errors import ConfigurationError, DuplicateError, LimitReachedError, NotFoundError
from mfakit.repositories import (
    BackupCode,
    Page,
    ThrottleState,
    TotpCredential,
    UserFactors,
    WebAuthnCredential,
)
from mfakit.stores._common import (
    check_bool,
    check_int,
    check_keys,
    check_limit,
    check_max_devices,
    check_opt_bool,
    check_record,
    check_user_handle,
    opt_from_micros,
    opt_micros,
    to_micros,
)
from mfakit.stores._sql import Conn, SqlContext
from mfakit.stores._sql_rows import (
    CODE_COLS,
    CRED_COLS,
    THROTTLE_COLS,
    TOTP_COLS,
    keyset_page,
    marks,
    marks_for,
    required,
    row_code,
    row_cred,
    row_throttle,
    row_totp,
)

__all__ = ["SqlBackupCodes", "SqlTotp", "SqlWebAuthn"]


_ACTIVE_DEVICES = (
    f"SELECT {TOTP_COLS} FROM mfa_totp WHERE user_id = ? AND state = 'active' "
    "ORDER BY created_at, totp_id"
)


class SqlTotp:
    """:class:`~mfakit.repositories.TotpRepository` in SQL."""

    def __init__(self, sql: SqlContext) -> None:
        self._sql = sql

    def put_pending_totp(self, credential: TotpCredential) -> None:
        """See :meth:`mfakit.repositories.TotpRepository.put_pending_totp`."""
        t = credential
        check_record(t)
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
            t.name,
            opt_micros(t.last_used_at),
        ]

        # One upsert on the one-pending-per-user index: concurrent re-enrollments
        # replace each other, last one wins; an id taken by any other row is a
        # primary-key violation (DuplicateError).
        updates = ", ".join(f"{col} = excluded.{col}" for col in TOTP_COLS.split(", "))
        self._sql.call(
            lambda c: c.run(
                f"INSERT INTO mfa_totp ({TOTP_COLS}) VALUES ({marks(TOTP_COLS)}) "
                f"ON CONFLICT (user_id) WHERE state = 'pending' DO UPDATE SET {updates}",
                params,
            )
        )

    def get_pending_totp(self, user_id: str, *, now: datetime) -> TotpCredential | None:
        """See :meth:`mfakit.repositories.TotpRepository.get_pending_totp`."""
        row = self._sql.call(
            lambda c: c.one(
                f"SELECT {TOTP_COLS} FROM mfa_totp WHERE user_id = ? AND state = 'pending' "
                "AND (expires_at IS NULL OR expires_at > ?)",
                [user_id, to_micros(now)],
            )
        )
        return None if row is None else row_totp(row)

    def list_totp_devices(self, user_id: str) -> tuple[TotpCredential, ...]:
        """See :meth:`mfakit.repositories.TotpRepository.list_totp_devices`."""
        rows = self._sql.call(lambda c: c.all(_ACTIVE_DEVICES, [user_id]))
        return tuple(row_totp(r) for r in rows)

    def get_user_factors(self, user_id: str, *, throttle_keys: Sequence[str] = ()) -> UserFactors:
        """See :meth:`mfakit.repositories.TotpRepository.get_user_factors`.

        One read transaction: a SELECT per table, each on its ``user_id`` (or
        key) index.
        """
        keys = check_keys(throttle_keys)

        def read(c: Conn) -> UserFactors:
            devices = c.all(_ACTIVE_DEVICES, [user_id])
            creds = c.all(
                f"SELECT {CRED_COLS} FROM mfa_webauthn_credentials WHERE user_id = ? "
                "ORDER BY created_at, credential_id",
                [user_id],
            )
            codes = c.all(
                f"SELECT {CODE_COLS} FROM mfa_backup_codes WHERE user_id = ? ORDER BY code_id",
                [user_id],
            )
            found: dict[str, ThrottleState] = {}
            if keys:
                rows = c.all(
                    f"SELECT {THROTTLE_COLS} FROM mfa_throttle WHERE key IN ({marks_for(keys)})",
                    keys,
                )
                found = {r[0]: row_throttle(r) for r in rows}
            stamp = c.one(
                "SELECT last_mfa_at, factors_changed_at FROM mfa_user_state WHERE user_id = ?",
                [user_id],
            )
            return UserFactors(
                user_id=user_id,
                totp_devices=tuple(row_totp(r) for r in devices),
                credentials=tuple(row_cred(r) for r in creds),
                backup_codes=tuple(row_code(r) for r in codes),
                throttles={k: found.get(k) or ThrottleState(key=k) for k in keys},
                last_mfa_at=None if stamp is None else opt_from_micros(stamp[0]),
                factors_changed_at=None if stamp is None else opt_from_micros(stamp[1]),
            )

        return self._sql.call(read, snapshot=True)

    def activate_totp(
        self, user_id: str, totp_id: str, *, step: int, now: datetime, max_devices: int
    ) -> TotpCredential:
        """See :meth:`mfakit.repositories.TotpRepository.activate_totp`."""
        at = to_micros(now)
        check_int(step, "step")
        check_max_devices(max_devices)

        def activate(c: Conn) -> TotpCredential:
            # Lock the user's one pending row (the partial unique index allows
            # one; SQLite: the write transaction already runs alone). Every
            # activation of the user needs that row, so activations queue up on
            # one lock, and no second pending row can be stored (nor become
            # active) until this commits: the count below holds. (Locking all
            # the user's rows instead could deadlock: an upsert of the pending
            # row moves it, so two activations could lock in different orders.)
            pending = c.one(
                "SELECT totp_id FROM mfa_totp WHERE user_id = ? AND state = 'pending' "
                "AND totp_id = ? AND (expires_at IS NULL OR expires_at > ?)"
                f"{self._sql.dialect.for_update}",
                [user_id, totp_id, at],
            )
            if pending is None:
                raise NotFoundError("no such pending TOTP enrollment")
            count = c.one(
                "SELECT COUNT(*) FROM mfa_totp WHERE user_id = ? AND state = 'active'", [user_id]
            )
            if int(required(count)[0]) >= max_devices:
                raise LimitReachedError(
                    "the user has as many authenticator apps as allowed", limit=max_devices
                )
            # A name taken by an active device violates mfa_totp_active_name: DuplicateError.
            row = c.one(
                "UPDATE mfa_totp SET state = 'active', expires_at = NULL, confirmed_at = ?, "
                f"last_step = ? WHERE totp_id = ? AND state = 'pending' RETURNING {TOTP_COLS}",
                [at, step, totp_id],
            )
            return row_totp(required(row))

        return self._sql.call(activate, write=True)

    def advance_totp_step(self, totp_id: str, step: int, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.advance_totp_step`."""
        check_int(step, "step")
        at = to_micros(now)
        changed = self._sql.call(
            lambda c: c.run(
                "UPDATE mfa_totp SET last_step = ?, last_used_at = ? "
                "WHERE totp_id = ? AND state = 'active' AND (last_step IS NULL OR last_step < ?)",
                [step, at, totp_id, step],
            )
        )
        return changed == 1

    def rename_totp_device(self, user_id: str, totp_id: str, name: str) -> TotpCredential:
        """See :meth:`mfakit.repositories.TotpRepository.rename_totp_device`."""
        if not isinstance(name, str) or "\x00" in name:
            raise ConfigurationError("name must be a string without NUL characters")
        row = self._sql.call(
            lambda c: c.one(
                "UPDATE mfa_totp SET name = ? WHERE user_id = ? AND totp_id = ? "
                f"AND state = 'active' RETURNING {TOTP_COLS}",
                [name, user_id, totp_id],
            )
        )
        if row is None:
            raise NotFoundError("the user has no such authenticator app")
        return row_totp(row)

    def delete_totp_device(self, user_id: str, totp_id: str) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.delete_totp_device`."""
        n = self._sql.call(
            lambda c: c.run(
                "DELETE FROM mfa_totp WHERE user_id = ? AND totp_id = ? AND state = 'active'",
                [user_id, totp_id],
            )
        )
        return n > 0

    def delete_totp(self, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.delete_totp`."""
        n = self._sql.call(lambda c: c.run("DELETE FROM mfa_totp WHERE user_id = ?", [user_id]))
        return n > 0

    def list_totp_credentials(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[TotpCredential]:
        """See :meth:`mfakit.repositories.TotpRepository.list_totp_credentials`."""
        check_limit(limit)
        where, params = ("WHERE totp_id > ? ", [after]) if after is not None else ("", [])
        rows = self._sql.call(
            lambda c: c.all(
                f"SELECT {TOTP_COLS} FROM mfa_totp {where}ORDER BY totp_id LIMIT ?",
                [*params, limit + 1],
            )
        )
        return keyset_page(rows, row_totp, lambda r: r[0], limit)

    def rewrap_totp_secret(self, totp_id: str, *, expected: bytes, new: bytes) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.rewrap_totp_secret`."""
        n = self._sql.call(
            lambda c: c.run(
                "UPDATE mfa_totp SET secret = ? WHERE totp_id = ? AND secret = ?",
                [bytes(new), totp_id, bytes(expected)],
            )
        )
        return n == 1


class SqlBackupCodes:
    """:class:`~mfakit.repositories.BackupCodeRepository` in SQL."""

    def __init__(self, sql: SqlContext) -> None:
        self._sql = sql

    def replace_backup_codes(self, user_id: str, codes: Sequence[BackupCode]) -> None:
        """See :meth:`mfakit.repositories.BackupCodeRepository.replace_backup_codes`."""
        rows = []
        seen: set[str] = set()
        for code in codes:
            check_record(code)
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

        def replace(c: Conn) -> None:
            # Upserting the set row locks it: concurrent replacements of one
            # user's set run one after the other, never merging two sets.
            c.run(
                "INSERT INTO mfa_backup_code_sets (user_id, replaced) VALUES (?, 0) "
                "ON CONFLICT (user_id) DO UPDATE SET replaced = mfa_backup_code_sets.replaced + 1",
                [user_id],
            )
            c.run("DELETE FROM mfa_backup_codes WHERE user_id = ?", [user_id])
            for params in rows:
                c.run(f"INSERT INTO mfa_backup_codes ({CODE_COLS}) VALUES (?, ?, ?, ?, ?)", params)

        self._sql.call(replace, write=True)

    def list_backup_codes(self, user_id: str) -> tuple[BackupCode, ...]:
        """See :meth:`mfakit.repositories.BackupCodeRepository.list_backup_codes`."""
        rows = self._sql.call(
            lambda c: c.all(
                f"SELECT {CODE_COLS} FROM mfa_backup_codes WHERE user_id = ? ORDER BY code_id",
                [user_id],
            )
        )
        return tuple(row_code(r) for r in rows)

    def count_unused_backup_codes(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.BackupCodeRepository.count_unused_backup_codes`."""
        row = self._sql.call(
            lambda c: c.one(
                "SELECT COUNT(*) FROM mfa_backup_codes WHERE user_id = ? AND consumed_at IS NULL",
                [user_id],
            )
        )
        return int(row[0]) if row else 0

    def consume_backup_code(self, user_id: str, code_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.BackupCodeRepository.consume_backup_code`."""
        n = self._sql.call(
            lambda c: c.run(
                "UPDATE mfa_backup_codes SET consumed_at = ? "
                "WHERE user_id = ? AND code_id = ? AND consumed_at IS NULL",
                [to_micros(now), user_id, code_id],
            )
        )
        return n == 1

    def delete_backup_codes(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.BackupCodeRepository.delete_backup_codes`."""

        def delete(c: Conn) -> int:
            n = c.run("DELETE FROM mfa_backup_codes WHERE user_id = ?", [user_id])
            c.run("DELETE FROM mfa_backup_code_sets WHERE user_id = ?", [user_id])
            return n

        return self._sql.call(delete, write=True)


class SqlWebAuthn:
    """:class:`~mfakit.repositories.WebAuthnCredentialRepository` in SQL."""

    def __init__(self, sql: SqlContext) -> None:
        self._sql = sql

    def add_webauthn_credential(self, credential: WebAuthnCredential) -> None:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.add_webauthn_credential`."""
        w = credential
        check_record(w)
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
            w.kind,
            None if w.user_handle is None else bytes(w.user_handle),
            int(w.passwordless),
            w.attested_provider,
        ]
        self._sql.call(
            lambda c: c.run(
                f"INSERT INTO mfa_webauthn_credentials ({CRED_COLS}) VALUES ({marks(CRED_COLS)})",
                params,
            )
        )

    def get_webauthn_credential(self, credential_id: bytes) -> WebAuthnCredential | None:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.get_webauthn_credential`."""
        row = self._sql.call(
            lambda c: c.one(
                f"SELECT {CRED_COLS} FROM mfa_webauthn_credentials WHERE credential_id = ?",
                [bytes(credential_id)],
            )
        )
        return None if row is None else row_cred(row)

    def list_webauthn_credentials(self, user_id: str) -> tuple[WebAuthnCredential, ...]:
        """See :class:`~mfakit.repositories.WebAuthnCredentialRepository`."""
        rows = self._sql.call(
            lambda c: c.all(
                f"SELECT {CRED_COLS} FROM mfa_webauthn_credentials WHERE user_id = ? "
                "ORDER BY created_at, credential_id",
                [user_id],
            )
        )
        return tuple(row_cred(r) for r in rows)

    def rename_webauthn_credential(self, user_id: str, credential_id: bytes, name: str) -> None:
        """See :class:`~mfakit.repositories.WebAuthnCredentialRepository`."""
        n = self._sql.call(
            lambda c: c.run(
                "UPDATE mfa_webauthn_credentials SET name = ? WHERE credential_id = ? "
                "AND user_id = ?",
                [name, bytes(credential_id), user_id],
            )
        )
        if n == 0:
            raise NotFoundError("the user has no such credential")

    def delete_webauthn_credential(self, user_id: str, credential_id: bytes) -> bool:
        """See :class:`~mfakit.repositories.WebAuthnCredentialRepository`."""
        n = self._sql.call(
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
        backup_eligible: bool | None = None,
        user_handle: bytes | None = None,
    ) -> bool:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.update_sign_count`."""
        check_int(expected_old, "expected_old")
        check_int(new, "new")
        check_opt_bool(backup_state, "backup_state")
        check_opt_bool(backup_eligible, "backup_eligible")
        handle = None if user_handle is None else check_user_handle(user_handle, "user_handle")
        bs = None if backup_state is None else int(backup_state)
        be = None if backup_eligible is None else int(backup_eligible)
        # One guarded statement: the flags, the kind and a first user handle
        # change only with the counter.
        kind = "passkey" if backup_eligible else None
        params = [new, to_micros(now), bs, be, kind, handle, bytes(credential_id), expected_old]
        n = self._sql.call(
            lambda c: c.run(
                "UPDATE mfa_webauthn_credentials SET sign_count = ?, last_used_at = ?, "
                "backup_state = COALESCE(?, backup_state), "
                "backup_eligible = COALESCE(?, backup_eligible), kind = COALESCE(?, kind), "
                "user_handle = COALESCE(user_handle, ?) "
                "WHERE credential_id = ? AND sign_count = ?",
                params,
            )
        )
        return n == 1

    def set_webauthn_passwordless(
        self, user_id: str, credential_id: bytes, passwordless: bool
    ) -> WebAuthnCredential:
        """See
        :meth:`mfakit.repositories.WebAuthnCredentialRepository.set_webauthn_passwordless`.
        """
        flag = int(check_bool(passwordless, "passwordless"))
        row = self._sql.call(
            lambda c: c.one(
                "UPDATE mfa_webauthn_credentials SET passwordless = ? WHERE credential_id = ? "
                f"AND user_id = ? RETURNING {CRED_COLS}",
                [flag, bytes(credential_id), user_id],
            )
        )
        if row is None:
            raise NotFoundError("the user has no such credential")
        return row_cred(row)

    def webauthn_user_handle(self, user_id: str, *, create_with: bytes) -> bytes:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.webauthn_user_handle`.

        One write transaction: an insert that does nothing when the user has a
        handle (it waits for a concurrent insert of the same user to commit),
        then a read of the stored handle. A ``create_with`` taken by another
        user violates the unique index: :class:`DuplicateError`.
        """
        handle = check_user_handle(create_with, "create_with")

        def get_or_create(c: Conn) -> bytes:
            c.run(
                "INSERT INTO mfa_webauthn_user_handles (user_id, handle) VALUES (?, ?) "
                "ON CONFLICT (user_id) DO NOTHING",
                [user_id, handle],
            )
            row = c.one("SELECT handle FROM mfa_webauthn_user_handles WHERE user_id = ?", [user_id])
            return bytes(required(row)[0])

        return self._sql.call(get_or_create, write=True)

    def find_user_by_webauthn_handle(self, handle: bytes) -> str | None:
        """See
        :meth:`mfakit.repositories.WebAuthnCredentialRepository.find_user_by_webauthn_handle`.
        """
        if not isinstance(handle, bytes):
            raise ConfigurationError("handle must be bytes")
        row = self._sql.call(
            lambda c: c.one(
                "SELECT user_id FROM mfa_webauthn_user_handles WHERE handle = ?", [handle]
            )
        )
        return None if row is None else str(row[0])
