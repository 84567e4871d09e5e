"""The SQL member summaries: the one statement that reads a page, and its rows grouped.

Used by the memberships part (:mod:`mfakit.stores._sql_members`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mfakit.repositories import CredentialSummary, MemberSummary, Page
from mfakit.stores._common import from_micros, opt_from_micros
from mfakit.stores._sql import Row
from mfakit.stores._sql_rows import MEMBER_COLS, row_member

__all__ = ["summary_page", "summary_statement"]

_MEMBER_WIDTH = len(MEMBER_COLS.split(", "))


def summary_statement(where: str, order: Sequence[str], prefixes: int) -> str:
    """The one statement that reads a page of members with their factor summaries.

    ``mp`` is the page of memberships (``limit + 1`` of them, in keyset order).
    Each member's TOTP devices (counted), backup code and throttle facts and
    step-up stamp are correlated scalar subqueries on ``user_id``-first keys:
    every database runs them as one index lookup per member, so the cost
    follows the page, not the tables. (As joins and grouped subqueries,
    PostgreSQL's planner hashed whole tables for each page once they held some
    100,000 rows: it cannot see that the page is a few hundred users.)
    Credentials are joined as rows (a member with ``n`` credentials gives
    ``n`` rows, with none one row of NULLs), grouped back in Python.

    Parameters, in order: those of ``where``, the page size, then one per
    throttle prefix.
    """
    fails_col = "0"
    if prefixes:
        keys = ", ".join("? || p.user_id" for _ in range(prefixes))
        fails_col = (
            f"(SELECT COALESCE(SUM(f.failures), 0) FROM mfa_throttle f WHERE f.key IN ({keys}))"
        )
    member_cols = ", ".join(f"p.{col}" for col in MEMBER_COLS.split(", "))
    totp = "FROM mfa_totp t WHERE t.user_id = p.user_id AND t.state = 'active'"
    codes = "FROM mfa_backup_codes b WHERE b.user_id = p.user_id"
    stamp = "(SELECT us.last_mfa_at FROM mfa_user_state us WHERE us.user_id = p.user_id)"
    return (
        f"WITH mp AS (SELECT {MEMBER_COLS} FROM mfa_memberships WHERE {where} "
        f"ORDER BY {', '.join(order)} LIMIT ?) "
        f"SELECT {member_cols}, (SELECT MIN(t.created_at) {totp}), "
        f"(SELECT MIN(t.confirmed_at) {totp}), "
        f"(SELECT COUNT(*) {codes} AND b.consumed_at IS NULL), (SELECT MIN(b.created_at) {codes}), "
        f"{fails_col}, {stamp}, (SELECT COUNT(*) {totp}), "
        "w.credential_id, w.name, w.kind, w.created_at, w.last_used_at "
        "FROM mp p LEFT JOIN mfa_webauthn_credentials w ON w.user_id = p.user_id "
        f"ORDER BY {', '.join(f'p.{col}' for col in order)}, w.created_at, w.credential_id"
    )


def _summaries(rows: list[Row]) -> list[MemberSummary]:
    """Group the statement's rows (consecutive per member) into summaries."""
    out: list[MemberSummary] = []
    current: Row | None = None
    creds: list[CredentialSummary] = []
    w = _MEMBER_WIDTH
    cred = w + 7  # the first credential column

    def flush() -> None:
        if current is None:
            return
        out.append(
            MemberSummary(
                # row_member reads the membership columns, which come first.
                membership=row_member(current),
                totp_created_at=opt_from_micros(current[w]),
                totp_confirmed_at=opt_from_micros(current[w + 1]),
                credentials=tuple(creds),
                backup_codes_unused=int(current[w + 2]),
                backup_codes_created_at=opt_from_micros(current[w + 3]),
                failed_attempts=int(current[w + 4]),
                last_mfa_at=opt_from_micros(current[w + 5]),
                totp_devices=int(current[w + 6]),
            )
        )

    for r in rows:
        if current is None or r[1] != current[1] or r[0] != current[0]:
            flush()
            current, creds = r, []
        if r[cred] is not None:
            creds.append(
                CredentialSummary(
                    credential_id=bytes(r[cred]),
                    name=r[cred + 1],
                    kind=r[cred + 2],
                    created_at=from_micros(r[cred + 3]),
                    last_used_at=opt_from_micros(r[cred + 4]),
                )
            )
    flush()
    return out


def summary_page(
    rows: list[Row], cursor: Callable[[MemberSummary], str], limit: int
) -> Page[MemberSummary]:
    """One page of summaries from the rows of :func:`summary_statement` (``limit + 1`` members).

    ``cursor`` gives the listing's cursor of the page's last member.
    """
    summaries = _summaries(rows)
    items = tuple(summaries[:limit])
    return Page(items=items, next_cursor=cursor(items[-1]) if len(summaries) > limit else None)
