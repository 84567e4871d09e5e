"""The SQL transactional outbox."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from mfakit.errors import ConfigurationError
from mfakit.repositories import OutboxMessage
from mfakit.stores._common import (
    check_keys,
    check_lease,
    check_limit,
    check_record,
    list_of,
    opt_micros,
    to_micros,
    utc,
)
from mfakit.stores._sql import SqlContext
from mfakit.stores._sql_rows import OUTBOX_COLS, marks, marks_for, row_outbox

__all__ = ["SqlOutbox"]

_DUE = (
    "delivered_at IS NULL AND next_attempt_at <= ? "
    "AND (claimed_until IS NULL OR claimed_until <= ?)"
)
_CLAIM_ORDER = "next_attempt_at, created_at, message_id"


def _claim_key(m: OutboxMessage) -> tuple[datetime | None, datetime, str]:
    return (m.next_attempt_at, m.created_at, m.message_id)


class SqlOutbox:
    """:class:`~mfakit.repositories.OutboxRepository` in SQL.

    Inside ``atomic()`` its writes are part of the block's transaction.
    """

    def __init__(self, sql: SqlContext) -> None:
        self._sql = sql

    def enqueue_message(self, message: OutboxMessage) -> None:
        """See :meth:`mfakit.repositories.OutboxRepository.enqueue_message`."""
        m = message
        check_record(m)
        if m.next_attempt_at is None:
            raise ConfigurationError("a new message needs a next_attempt_at")
        if not isinstance(m.payload, str):
            raise ConfigurationError("the payload must be JSON text")
        params = [
            m.message_id,
            m.kind,
            m.payload,
            to_micros(m.created_at),
            to_micros(m.next_attempt_at),
            m.attempts,
            opt_micros(m.claimed_until),
            opt_micros(m.delivered_at),
            opt_micros(m.failed_at),
            m.last_error,
        ]
        self._sql.call(
            lambda c: c.run(
                f"INSERT INTO mfa_outbox ({OUTBOX_COLS}) VALUES ({marks(OUTBOX_COLS)})", params
            )
        )

    def get_message(self, message_id: str) -> OutboxMessage | None:
        """See :meth:`mfakit.repositories.OutboxRepository.get_message`."""
        row = self._sql.call(
            lambda c: c.one(
                f"SELECT {OUTBOX_COLS} FROM mfa_outbox WHERE message_id = ?", [message_id]
            )
        )
        return None if row is None else row_outbox(row)

    def claim_messages(
        self,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        kinds: Collection[str] | None = None,
    ) -> tuple[OutboxMessage, ...]:
        """See :meth:`mfakit.repositories.OutboxRepository.claim_messages`."""
        at = to_micros(now)
        check_limit(limit)
        until = to_micros(utc(now) + check_lease(lease))
        wanted = None if kinds is None else check_keys(list_of(kinds))
        if wanted == []:
            return ()
        by_kind = "" if wanted is None else f"AND kind IN ({marks_for(wanted)}) "
        # One statement. PostgreSQL: the subquery locks the due rows it picks
        # and skips those another claimer holds; a row claimed and committed
        # meanwhile is re-checked against the WHERE on its new version (READ
        # COMMITTED), so it is no longer due. SQLite: the UPDATE takes the
        # write lock before reading, so claimers run one after the other.
        skip_locked = (
            f"{self._sql.dialect.for_update} SKIP LOCKED" if self._sql.dialect.for_update else ""
        )
        rows = self._sql.call(
            lambda c: c.all(
                "UPDATE mfa_outbox SET claimed_until = ?, attempts = attempts + 1 "
                "WHERE message_id IN (SELECT message_id FROM mfa_outbox "
                f"WHERE {_DUE} {by_kind}ORDER BY {_CLAIM_ORDER} LIMIT ?{skip_locked}) "
                f"RETURNING {OUTBOX_COLS}",
                [until, at, at, *(wanted or ()), limit],
            )
        )
        # RETURNING follows no particular order.
        return tuple(sorted((row_outbox(r) for r in rows), key=_claim_key))

    def mark_message_delivered(self, message_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.OutboxRepository.mark_message_delivered`."""
        at = to_micros(now)
        n = self._sql.call(
            lambda c: c.run(
                "UPDATE mfa_outbox SET delivered_at = ?, claimed_until = NULL "
                "WHERE message_id = ? AND delivered_at IS NULL",
                [at, message_id],
            )
        )
        return n == 1

    def mark_message_failed(
        self,
        message_id: str,
        *,
        now: datetime,
        error: str,
        next_attempt_at: datetime | None,
    ) -> bool:
        """See :meth:`mfakit.repositories.OutboxRepository.mark_message_failed`."""
        at = to_micros(now)
        retry = opt_micros(next_attempt_at)
        if not isinstance(error, str) or "\x00" in error:
            raise ConfigurationError("error must be a string without NUL characters")
        n = self._sql.call(
            lambda c: c.run(
                "UPDATE mfa_outbox SET failed_at = ?, last_error = ?, next_attempt_at = ?, "
                "claimed_until = NULL WHERE message_id = ? AND delivered_at IS NULL",
                [at, error, retry, message_id],
            )
        )
        return n == 1

    def purge_delivered_messages(self, *, before: datetime) -> int:
        """See :meth:`mfakit.repositories.OutboxRepository.purge_delivered_messages`."""
        at = to_micros(before)
        return self._sql.call(
            lambda c: c.run(
                "DELETE FROM mfa_outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?", [at]
            )
        )

    def count_pending_messages(self) -> int:
        """See :meth:`mfakit.repositories.OutboxRepository.count_pending_messages`."""
        row = self._sql.call(
            lambda c: c.one(
                "SELECT COUNT(*) FROM mfa_outbox "
                "WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL"
            )
        )
        return int(row[0]) if row else 0
