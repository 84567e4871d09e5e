"""The parts of the audit log and the transactional outbox."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Q

from mfa_django.models import StoredAuditEvent, StoredOutboxMessage
from mfa_django.store._context import DjangoContext
from mfakit.errors import ConfigurationError
from mfakit.repositories import AuditEvent, OutboxMessage, Page
from mfakit.stores._common import (
    check_events,
    check_keys,
    check_lease,
    check_limit,
    list_of,
    normalize,
    parse_seq_cursor,
    utc,
)

__all__ = ["DjangoAudit", "DjangoOutbox"]


class DjangoAudit:
    """:class:`~mfakit.repositories.AuditSink` on the ORM: events in append (``seq``) order."""

    def __init__(self, ctx: DjangoContext) -> None:
        self._ctx = ctx

    def _rows(self) -> Any:
        return StoredAuditEvent.objects.using(self._ctx.using)

    def append_audit_event(self, event: AuditEvent) -> None:
        """See :meth:`mfakit.repositories.AuditSink.append_audit_event`."""
        row = StoredAuditEvent.from_record(normalize(event))
        self._ctx.run(lambda: row.save(using=self._ctx.using, force_insert=True), write=True)

    def append_audit_events(self, events: Sequence[AuditEvent]) -> None:
        """See :meth:`mfakit.repositories.AuditSink.append_audit_events`.

        One ``bulk_create()`` (a multi-row ``INSERT``, in order) in one transaction.
        """
        records = check_events(events, normalize)
        if records:
            rows = [StoredAuditEvent.from_record(e) for e in records]
            self._ctx.run(lambda: self._rows().bulk_create(rows), write=True)

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
        rows = self._rows().filter(seq__gt=parse_seq_cursor(after)).order_by("seq")
        if org_id is not None:
            rows = rows.filter(org_id=org_id)
        if user_id is not None:
            rows = rows.filter(user_id=user_id)
        found = self._ctx.run(lambda: list(rows[: limit + 1]))
        page = found[:limit]
        return Page(
            items=tuple(r.to_record() for r in page),
            next_cursor=str(page[-1].seq) if len(found) > limit else None,
        )


def _claim_key(m: OutboxMessage) -> tuple[datetime | None, datetime, str]:
    return (m.next_attempt_at, m.created_at, m.message_id)


class DjangoOutbox:
    """:class:`~mfakit.repositories.OutboxRepository` on the ORM.

    Inside ``atomic()`` its writes are part of the block's transaction.
    """

    def __init__(self, ctx: DjangoContext) -> None:
        self._ctx = ctx

    def _rows(self) -> Any:
        return StoredOutboxMessage.objects.using(self._ctx.using)

    def enqueue_message(self, message: OutboxMessage) -> None:
        """See :meth:`mfakit.repositories.OutboxRepository.enqueue_message`."""
        m = normalize(message)
        if m.next_attempt_at is None:
            raise ConfigurationError("a new message needs a next_attempt_at")
        if not isinstance(m.payload, str):
            raise ConfigurationError("the payload must be JSON text")
        row = StoredOutboxMessage.from_record(m)
        self._ctx.run(lambda: row.save(using=self._ctx.using, force_insert=True), write=True)

    def get_message(self, message_id: str) -> OutboxMessage | None:
        """See :meth:`mfakit.repositories.OutboxRepository.get_message`."""
        row = self._ctx.run(lambda: self._rows().filter(message_id=message_id).first())
        return None if row is None else row.to_record()

    def claim_messages(
        self,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        kinds: Collection[str] | None = None,
    ) -> tuple[OutboxMessage, ...]:
        """See :meth:`mfakit.repositories.OutboxRepository.claim_messages`.

        One transaction: ``select_for_update(skip_locked=True)`` picks the due
        messages no other claimer holds (PostgreSQL; SQLite's ``BEGIN
        IMMEDIATE`` runs claimers one after the other), an ``update()`` claims
        them, and they are read back.
        """
        at = utc(now)
        check_limit(limit)
        until = at + check_lease(lease)
        wanted = None if kinds is None else check_keys(list_of(kinds))
        if wanted == []:
            return ()
        due = self._rows().filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lte=at),
            delivered_at__isnull=True,
            next_attempt_at__lte=at,
        )
        if wanted is not None:
            due = due.filter(kind__in=wanted)

        def claim() -> list[OutboxMessage]:
            picked = list(
                due.select_for_update(skip_locked=True)
                .order_by("next_attempt_at", "created_at", "message_id")
                .values_list("message_id", flat=True)[:limit]
            )
            if not picked:
                return []
            self._rows().filter(message_id__in=picked).update(
                claimed_until=until, attempts=F("attempts") + 1
            )
            return [r.to_record() for r in self._rows().filter(message_id__in=picked)]

        return tuple(sorted(self._ctx.run(claim, write=True), key=_claim_key))

    def mark_message_delivered(self, message_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.OutboxRepository.mark_message_delivered`."""
        at = utc(now)
        changed = self._ctx.run(
            lambda: (
                self._rows()
                .filter(message_id=message_id, delivered_at__isnull=True)
                .update(delivered_at=at, claimed_until=None)
            ),
            write=True,
        )
        return bool(changed == 1)

    def mark_message_failed(
        self,
        message_id: str,
        *,
        now: datetime,
        error: str,
        next_attempt_at: datetime | None,
    ) -> bool:
        """See :meth:`mfakit.repositories.OutboxRepository.mark_message_failed`."""
        at = utc(now)
        retry = None if next_attempt_at is None else utc(next_attempt_at)
        if not isinstance(error, str) or "\x00" in error:
            raise ConfigurationError("error must be a string without NUL characters")
        changed = self._ctx.run(
            lambda: (
                self._rows()
                .filter(message_id=message_id, delivered_at__isnull=True)
                .update(failed_at=at, last_error=error, next_attempt_at=retry, claimed_until=None)
            ),
            write=True,
        )
        return bool(changed == 1)

    def purge_delivered_messages(self, *, before: datetime) -> int:
        """See :meth:`mfakit.repositories.OutboxRepository.purge_delivered_messages`."""
        at = utc(before)
        deleted, _ = self._ctx.run(
            lambda: self._rows().filter(delivered_at__isnull=False, delivered_at__lt=at).delete(),
            write=True,
        )
        return int(deleted)

    def count_pending_messages(self) -> int:
        """See :meth:`mfakit.repositories.OutboxRepository.count_pending_messages`."""
        return int(
            self._ctx.run(
                lambda: (
                    self._rows()
                    .filter(delivered_at__isnull=True, next_attempt_at__isnull=False)
                    .count()
                )
            )
        )
