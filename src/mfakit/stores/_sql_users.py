"""The SQL part of the per-user state (``mfa_user_state``): the last second-factor check."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mfakit.stores._common import check_keys, from_micros, to_micros
from mfakit.stores._sql import Conn, SqlContext
from mfakit.stores._sql_rows import marks_for, required

__all__ = ["SqlUserState"]

# The later of the stored and the new time: the stamp never moves backwards.
_STAMP = (
    "INSERT INTO mfa_user_state AS s (user_id, last_mfa_at) VALUES (?, ?) "
    "ON CONFLICT (user_id) DO UPDATE SET last_mfa_at = CASE "
    "WHEN s.last_mfa_at IS NULL OR s.last_mfa_at < excluded.last_mfa_at "
    "THEN excluded.last_mfa_at ELSE s.last_mfa_at END RETURNING last_mfa_at"
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
