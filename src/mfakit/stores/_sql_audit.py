"""The SQL audit log."""

from __future__ import annotations

from collections.abc import Sequence

from mfakit.repositories import AuditEvent, Page
from mfakit.stores._common import (
    check_events,
    check_limit,
    check_record,
    checked,
    dump_json,
    parse_seq_cursor,
    to_micros,
)
from mfakit.stores._sql import Conn, SqlContext
from mfakit.stores._sql_rows import AUDIT_COLS, keyset_page, marks, row_audit

__all__ = ["SqlAudit"]


class SqlAudit:
    """:class:`~mfakit.repositories.AuditSink` in SQL: events in append (``seq``) order."""

    def __init__(self, sql: SqlContext) -> None:
        self._sql = sql

    def append_audit_event(self, event: AuditEvent) -> None:
        """See :meth:`mfakit.repositories.AuditSink.append_audit_event`."""
        check_record(event)
        params = _params(event)
        self._sql.call(lambda c: c.run(_INSERT, params))

    def append_audit_events(self, events: Sequence[AuditEvent]) -> None:
        """See :meth:`mfakit.repositories.AuditSink.append_audit_events`.

        One multi-row ``INSERT`` (in order, so ``seq`` follows the sequence):
        a single statement, all or nothing without a transaction of its own,
        as :meth:`append_audit_event`'s one-row ``INSERT``.
        """
        records = check_events(events, checked)
        if not records:
            return
        rows = [_params(e) for e in records]
        row_marks = f"({marks(_COLS)})"
        statement = f"INSERT INTO mfa_audit_events ({_COLS}) VALUES " + ", ".join(
            row_marks for _ in rows
        )

        def insert(c: Conn) -> None:
            c.run(statement, [p for row in rows for p in row])

        self._sql.call(insert)

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
        clauses: list[str] = ["seq > ?"]
        params: list[object] = [parse_seq_cursor(after)]
        if org_id is not None:
            clauses.append("org_id = ?")
            params.append(org_id)
        if user_id is not None:
            clauses.append("user_id = ?")
            params.append(user_id)
        rows = self._sql.call(
            lambda c: c.all(
                f"SELECT {AUDIT_COLS} FROM mfa_audit_events WHERE {' AND '.join(clauses)} "
                "ORDER BY seq LIMIT ?",
                [*params, limit + 1],
            )
        )
        return keyset_page(rows, row_audit, lambda r: r[0], limit)


_COLS = AUDIT_COLS.removeprefix("seq, ")
_INSERT = f"INSERT INTO mfa_audit_events ({_COLS}) VALUES ({marks(_COLS)})"


def _params(e: AuditEvent) -> list[object]:
    return [
        e.event_id,
        to_micros(e.at),
        e.action,
        e.outcome,
        e.actor_id,
        e.user_id,
        e.org_id,
        dump_json(e.details),
    ]
