"""The in-memory audit log."""

from __future__ import annotations

from collections.abc import Sequence

from mfakit.errors import DuplicateError
from mfakit.repositories import AuditEvent, Page
from mfakit.stores._common import check_events, check_limit, normalize, parse_seq_cursor
from mfakit.stores._memory import MemoryState

__all__ = ["MemoryAudit"]


class MemoryAudit:
    """:class:`~mfakit.repositories.AuditSink` in memory: events in append order."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def append_audit_event(self, event: AuditEvent) -> None:
        """See :meth:`mfakit.repositories.AuditSink.append_audit_event`."""
        record = normalize(event)
        with self._state.lock:
            self._state.check_open()
            if record.event_id in self._state.audit_ids:
                raise DuplicateError("the event id exists")
            self._state.audit_ids.add(record.event_id)
            self._state.audit.append((next(self._state.seq), record))

    def append_audit_events(self, events: Sequence[AuditEvent]) -> None:
        """See :meth:`mfakit.repositories.AuditSink.append_audit_events`."""
        records = check_events(events, normalize)
        with self._state.lock:
            self._state.check_open()
            ids = self._state.audit_ids
            if any(r.event_id in ids for r in records):
                raise DuplicateError("an event id exists")
            for record in records:
                ids.add(record.event_id)
                self._state.audit.append((next(self._state.seq), record))

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
        start = parse_seq_cursor(after)
        with self._state.lock:
            self._state.check_open()
            rows = [
                (seq, e)
                for seq, e in self._state.audit
                if seq > start
                and (org_id is None or e.org_id == org_id)
                and (user_id is None or e.user_id == user_id)
            ]
        chunk = rows[:limit]
        cursor = str(chunk[-1][0]) if len(rows) > limit else None
        return Page(items=tuple(e for _, e in chunk), next_cursor=cursor)
