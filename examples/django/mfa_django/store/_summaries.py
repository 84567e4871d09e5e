"""Member summaries: a page of memberships with their factor facts, in one query.

Each member's facts are correlated ``Subquery`` annotations on ``user_id``-first
indexes (as in the SQL store's statement), so the database runs one index
lookup per member of the page. The ORM has no way to join the page to the
credentials as rows (there is no relation between the two, and the page must
be limited before the join), so each member's credentials come back as one
JSON array built in the database: ``JSON_GROUP_ARRAY`` on SQLite,
``JSONB_AGG`` on PostgreSQL, two small expressions written for the purpose.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db.models import (
    Aggregate,
    Count,
    Func,
    JSONField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Concat, JSONObject

from mfa_django.models import Credential, StoredBackupCode, Throttle, TotpDevice, UserState
from mfakit.repositories import CredentialSummary, MemberSummary

__all__ = ["annotate_summaries", "to_summary"]


class JSONArrayAgg(Aggregate):
    """The rows' values as one JSON array (``JSON_GROUP_ARRAY`` / ``JSONB_AGG``)."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSONB_AGG", **extra)


class Hex(Func):
    """Bytes as hexadecimal text (``HEX`` / ``ENCODE(..., 'hex')``), for JSON."""

    function = "HEX"
    arity = 1

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, function="ENCODE", template="%(function)s(%(expressions)s, 'hex')"
        )


def _per_user(queryset: QuerySet[Any], value: Any) -> Subquery:
    """``value`` aggregated over the member's rows of ``queryset``, as a scalar subquery."""
    grouped = queryset.filter(user_id=OuterRef("user_id")).order_by().values("user_id")
    return Subquery(grouped.annotate(value=value).values("value"))


def annotate_summaries(
    members: QuerySet[Any], using: str, prefixes: Sequence[str]
) -> QuerySet[Any]:
    """Add every fact of a :class:`~mfakit.repositories.MemberSummary` to ``members``."""
    active = TotpDevice.objects.using(using).filter(state="active")
    codes = StoredBackupCode.objects.using(using)
    credentials = _per_user(
        Credential.objects.using(using),
        JSONArrayAgg(
            JSONObject(
                id=Hex("credential_id"),
                name="name",
                kind="kind",
                created_at="created_at",
                last_used_at="last_used_at",
            )
        ),
    )
    failed: Any = Value(0)
    if prefixes:
        keys = Q()
        for prefix in prefixes:
            keys |= Q(key=Concat(Value(prefix), OuterRef("user_id")))
        # A constant to group by: the sum of every matching key's failures.
        matching = Throttle.objects.using(using).filter(keys).order_by()
        total = matching.annotate(one=Value(1)).values("one").annotate(total=Sum("failures"))
        failed = Coalesce(Subquery(total.values("total")), 0)
    return members.annotate(
        totp_created_at=_per_user(active, Min("created_at")),
        totp_confirmed_at=_per_user(active, Min("confirmed_at")),
        totp_devices=Coalesce(_per_user(active, Count("*")), 0),
        codes_unused=Coalesce(_per_user(codes.filter(consumed_at__isnull=True), Count("*")), 0),
        codes_created_at=_per_user(codes, Min("created_at")),
        failed_attempts=failed,
        last_mfa_at=Subquery(
            UserState.objects.using(using)
            .filter(user_id=OuterRef("user_id"))
            .values("last_mfa_at")[:1]
        ),
        credential_list=credentials,
    )


def _instant(value: datetime | str) -> datetime:
    """A time as an annotation or JSON returns it: aware, naive UTC (SQLite's text), or ISO text."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _when(value: datetime | str | None) -> datetime | None:
    return None if value is None else _instant(value)


def _credentials(value: Any) -> tuple[CredentialSummary, ...]:
    items = json.loads(value) if isinstance(value, str) else (value or [])
    summaries = [
        CredentialSummary(
            credential_id=bytes.fromhex(item["id"]),
            name=item["name"],
            kind=item["kind"],
            created_at=_instant(item["created_at"]),
            last_used_at=_when(item["last_used_at"]),
        )
        for item in items
    ]
    # An aggregate's input order is not guaranteed: the listing's order is set here.
    return tuple(sorted(summaries, key=lambda c: (c.created_at, c.credential_id)))


def to_summary(row: Any) -> MemberSummary:
    """The summary of one annotated membership row."""
    return MemberSummary(
        membership=row.to_record(),
        totp_created_at=_when(row.totp_created_at),
        totp_confirmed_at=_when(row.totp_confirmed_at),
        totp_devices=int(row.totp_devices),
        credentials=_credentials(row.credential_list),
        backup_codes_unused=int(row.codes_unused),
        backup_codes_created_at=_when(row.codes_created_at),
        failed_attempts=int(row.failed_attempts),
        last_mfa_at=_when(row.last_mfa_at),
    )
