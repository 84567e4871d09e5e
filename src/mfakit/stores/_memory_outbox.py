"""The in-memory transactional outbox."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import datetime, timedelta

from mfakit.errors import ConfigurationError, DuplicateError
from mfakit.repositories import OutboxMessage
from mfakit.stores._common import check_keys, check_lease, check_limit, list_of, normalize, utc
from mfakit.stores._memory import MemoryState

__all__ = ["MemoryOutbox"]


def _claim_order(m: OutboxMessage) -> tuple[datetime, datetime, str]:
    assert m.next_attempt_at is not None  # noqa: S101 - only due messages are sorted
    return (m.next_attempt_at, m.created_at, m.message_id)


class MemoryOutbox:
    """:class:`~mfakit.repositories.OutboxRepository` in memory.

    Its writes join an open ``atomic()`` block like every other part's.
    """

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def enqueue_message(self, message: OutboxMessage) -> None:
        """See :meth:`mfakit.repositories.OutboxRepository.enqueue_message`."""
        if message.next_attempt_at is None:
            raise ConfigurationError("a new message needs a next_attempt_at")
        if not isinstance(message.payload, str):
            raise ConfigurationError("the payload must be JSON text")
        record = normalize(message)
        with self._state.lock:
            self._state.check_open()
            if record.message_id in self._state.outbox:
                raise DuplicateError("the message id is taken")
            self._state.outbox[record.message_id] = record
            if record.delivered_at is None:
                self._state.outbox_undelivered.add(record.message_id)

    def get_message(self, message_id: str) -> OutboxMessage | None:
        """See :meth:`mfakit.repositories.OutboxRepository.get_message`."""
        with self._state.lock:
            self._state.check_open()
            return self._state.outbox.get(message_id)

    def claim_messages(
        self,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        kinds: Collection[str] | None = None,
    ) -> tuple[OutboxMessage, ...]:
        """See :meth:`mfakit.repositories.OutboxRepository.claim_messages`."""
        now = utc(now)
        check_limit(limit)
        until = now + check_lease(lease)
        wanted = None if kinds is None else frozenset(check_keys(list_of(kinds)))
        with self._state.lock:
            self._state.check_open()
            due = sorted(
                (
                    m
                    for m in (self._state.outbox[i] for i in self._state.outbox_undelivered)
                    if m.next_attempt_at is not None
                    and m.next_attempt_at <= now
                    and (wanted is None or m.kind in wanted)
                    and (m.claimed_until is None or m.claimed_until <= now)
                ),
                key=_claim_order,
            )[:limit]
            claimed = tuple(
                dataclasses.replace(m, claimed_until=until, attempts=m.attempts + 1) for m in due
            )
            for m in claimed:
                self._state.outbox[m.message_id] = m
            return claimed

    def _undelivered(self, message_id: str) -> OutboxMessage | None:
        m = self._state.outbox.get(message_id)
        return None if m is None or m.delivered_at is not None else m

    def mark_message_delivered(self, message_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.OutboxRepository.mark_message_delivered`."""
        now = utc(now)
        with self._state.lock:
            self._state.check_open()
            m = self._undelivered(message_id)
            if m is None:
                return False
            self._state.outbox[message_id] = dataclasses.replace(
                m, delivered_at=now, claimed_until=None
            )
            self._state.outbox_undelivered.discard(message_id)
            return True

    def mark_message_failed(
        self,
        message_id: str,
        *,
        now: datetime,
        error: str,
        next_attempt_at: datetime | None,
    ) -> bool:
        """See :meth:`mfakit.repositories.OutboxRepository.mark_message_failed`."""
        if not isinstance(error, str):
            raise ConfigurationError("error must be a string without NUL characters")
        with self._state.lock:
            self._state.check_open()
            m = self._undelivered(message_id)
            if m is None:
                return False
            failed = normalize(
                dataclasses.replace(
                    m,
                    failed_at=now,
                    last_error=error,
                    next_attempt_at=next_attempt_at,
                    claimed_until=None,
                )
            )
            self._state.outbox[message_id] = failed
            return True

    def purge_delivered_messages(self, *, before: datetime) -> int:
        """See :meth:`mfakit.repositories.OutboxRepository.purge_delivered_messages`."""
        before = utc(before)
        with self._state.lock:
            self._state.check_open()
            dead = [
                i
                for i, m in self._state.outbox.items()
                if m.delivered_at is not None and m.delivered_at < before
            ]
            for i in dead:
                del self._state.outbox[i]
            return len(dead)

    def count_pending_messages(self) -> int:
        """See :meth:`mfakit.repositories.OutboxRepository.count_pending_messages`."""
        with self._state.lock:
            self._state.check_open()
            return sum(
                self._state.outbox[i].next_attempt_at is not None
                for i in self._state.outbox_undelivered
            )
