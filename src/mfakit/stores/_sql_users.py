"""The SQL parts of the per-user state (``mfa_user_state``) and of trusted browsers.

``mfa_user_state`` holds each user's last second-factor check and the time
their second factors last changed; ``mfa_trusted_browsers`` the browsers they
chose to trust, by the SHA-256 of each browser's token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mfakit.repositories import TrustedBrowser
from mfakit.stores._common import (
    check_keys,
    check_trusted_browser,
    from_micros,
    opt_from_micros,
    opt_micros,
    to_micros,
)
from mfakit.stores._sql import Conn, Row, SqlContext
from mfakit.stores._sql_rows import marks_for, required

__all__ = ["SqlTrustedBrowsers", "SqlUserState"]

# The later of the stored and the new time: the stamp never moves backwards.
_STAMP = (
    "INSERT INTO mfa_user_state AS s (user_id, last_mfa_at) VALUES (?, ?) "
    "ON CONFLICT (user_id) DO UPDATE SET last_mfa_at = CASE "
    "WHEN s.last_mfa_at IS NULL OR s.last_mfa_at < excluded.last_mfa_at "
    "THEN excluded.last_mfa_at ELSE s.last_mfa_at END RETURNING last_mfa_at"
)
# The same for the time of the last factor change.
_CHANGED = (
    "INSERT INTO mfa_user_state AS s (user_id, factors_changed_at) VALUES (?, ?) "
    "ON CONFLICT (user_id) DO UPDATE SET factors_changed_at = CASE "
    "WHEN s.factors_changed_at IS NULL OR s.factors_changed_at < excluded.factors_changed_at "
    "THEN excluded.factors_changed_at ELSE s.factors_changed_at END"
)
_TRUSTED_COLS = "token_id, user_id, token_hash, label, created_at, expires_at, last_used_at"


def _row_trusted(r: Row) -> TrustedBrowser:
    return TrustedBrowser(
        token_id=r[0],
        user_id=r[1],
        token_hash=bytes(r[2]),
        label=r[3],
        created_at=from_micros(r[4]),
        expires_at=from_micros(r[5]),
        last_used_at=opt_from_micros(r[6]),
    )


class SqlUserState:
    """:class:`~mfakit.repositories.UserStateRepository` in SQL."""

    def __init__(self, sql: SqlContext) -> None:
        self._sql = sql

    def record_second_factor(
        self, user_id: str, *, at: datetime, reset_keys: Sequence[str] = ()
    ) -> datetime:
        """See :meth:`mfakit.repositories.UserStateRepository.record_second_factor`.

        One write transaction: the counters' ``DELETE`` and the stamp's upsert.
        """
        micros = to_micros(at)
        unique = check_keys(reset_keys)

        def record(c: Conn) -> int:
            if unique:
                c.run(f"DELETE FROM mfa_throttle WHERE key IN ({marks_for(unique)})", unique)
            return int(required(c.one(_STAMP, [user_id, micros]))[0])

        return from_micros(self._sql.call(record, write=True))

    def record_factor_change(self, user_id: str, *, at: datetime) -> int:
        """See :meth:`mfakit.repositories.UserStateRepository.record_factor_change`.

        One write transaction: the time's upsert and the trusted browsers' ``DELETE``.
        """
        micros = to_micros(at)

        def record(c: Conn) -> int:
            c.run(_CHANGED, [user_id, micros])
            return c.run("DELETE FROM mfa_trusted_browsers WHERE user_id = ?", [user_id])

        return self._sql.call(record, write=True)


class SqlTrustedBrowsers:
    """:class:`~mfakit.repositories.TrustedBrowserRepository` in SQL."""

    def __init__(self, sql: SqlContext) -> None:
        self._sql = sql

    def add_trusted_browser(self, browser: TrustedBrowser) -> None:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.add_trusted_browser`."""
        b = check_trusted_browser(browser)
        params = [
            b.token_id,
            b.user_id,
            b.token_hash,
            b.label,
            to_micros(b.created_at),
            to_micros(b.expires_at),
            opt_micros(b.last_used_at),
        ]
        self._sql.call(
            lambda c: c.run(
                f"INSERT INTO mfa_trusted_browsers ({_TRUSTED_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                params,
            )
        )

    def get_trusted_browser(self, token_hash: bytes) -> TrustedBrowser | None:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.get_trusted_browser`."""
        row = self._sql.call(
            lambda c: c.one(
                f"SELECT {_TRUSTED_COLS} FROM mfa_trusted_browsers WHERE token_hash = ?",
                [bytes(token_hash)],
            )
        )
        return None if row is None else _row_trusted(row)

    def touch_trusted_browser(self, token_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.touch_trusted_browser`."""
        at = to_micros(now)
        changed = self._sql.call(
            lambda c: c.run(
                "UPDATE mfa_trusted_browsers SET last_used_at = CASE "
                "WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_at END "
                "WHERE token_id = ?",
                [at, at, token_id],
            )
        )
        return changed > 0

    def list_trusted_browsers(self, user_id: str) -> tuple[TrustedBrowser, ...]:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.list_trusted_browsers`."""
        rows = self._sql.call(
            lambda c: c.all(
                f"SELECT {_TRUSTED_COLS} FROM mfa_trusted_browsers WHERE user_id = ? "
                "ORDER BY created_at, token_id",
                [user_id],
            )
        )
        return tuple(_row_trusted(r) for r in rows)

    def revoke_trusted_browser(self, user_id: str, token_id: str) -> bool:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.revoke_trusted_browser`."""
        deleted = self._sql.call(
            lambda c: c.run(
                "DELETE FROM mfa_trusted_browsers WHERE user_id = ? AND token_id = ?",
                [user_id, token_id],
            )
        )
        return deleted > 0

    def revoke_trusted_browsers(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.revoke_trusted_browsers`."""
        return self._sql.call(
            lambda c: c.run("DELETE FROM mfa_trusted_browsers WHERE user_id = ?", [user_id])
        )

    def purge_expired_trusted_browsers(self, *, now: datetime) -> int:
        """See
        :meth:`mfakit.repositories.TrustedBrowserRepository.purge_expired_trusted_browsers`.
        """
        at = to_micros(now)
        return self._sql.call(
            lambda c: c.run("DELETE FROM mfa_trusted_browsers WHERE expires_at <= ?", [at])
        )
