"""The SQL part of memberships, member summaries included (one statement per page)."""

from __future__ import annotations

from collections.abc import Sequence

from mfakit.errors import NotFoundError
from mfakit.repositories import Membership, MembershipContext, MemberSummary, Page
from mfakit.stores._common import check_limit, check_prefixes, pair_cursor, parse_pair_cursor
from mfakit.stores._sql import Conn, Row, SqlContext
from mfakit.stores._sql_rows import (
    MEMBER_COLS,
    ORG_COLS,
    keyset_page,
    marks,
    member_params,
    required,
    row_member,
    row_org,
)
from mfakit.stores._sql_summaries import summary_page, summary_statement

__all__ = ["SqlMemberships"]


class SqlMemberships:
    """:class:`~mfakit.repositories.MembershipRepository` in SQL."""

    def __init__(self, sql: SqlContext) -> None:
        self._sql = sql

    def insert(self, c: Conn, m: Membership) -> Row:
        """Add a membership on the connection ``c`` (inside the caller's transaction).

        Raises:
            NotFoundError: no such organization.
        """
        if c.one("SELECT 1 FROM mfa_organizations WHERE org_id = ?", [m.org_id]) is None:
            raise NotFoundError("no such organization")
        row = c.one(
            f"INSERT INTO mfa_memberships ({MEMBER_COLS}) VALUES ({marks(MEMBER_COLS)}) "
            f"RETURNING {MEMBER_COLS}",
            [*member_params(m), 1],
        )
        return required(row)

    def add_membership(self, membership: Membership) -> Membership:
        """See :meth:`mfakit.repositories.MembershipRepository.add_membership`."""
        member_params(membership)  # validate before touching the database
        return row_member(self._sql.call(lambda c: self.insert(c, membership), write=True))

    def get_membership(self, org_id: str, user_id: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership`."""
        row = self._sql.call(
            lambda c: c.one(
                f"SELECT {MEMBER_COLS} FROM mfa_memberships WHERE org_id = ? AND user_id = ?",
                [org_id, user_id],
            )
        )
        return None if row is None else row_member(row)

    def get_membership_by_username(self, org_id: str, username: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership_by_username`."""
        row = self._sql.call(
            lambda c: c.one(
                f"SELECT {MEMBER_COLS} FROM mfa_memberships WHERE org_id = ? AND username = ?",
                [org_id, username],
            )
        )
        return None if row is None else row_member(row)

    def update_membership(self, membership: Membership) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.update_membership`."""
        m = membership
        values = member_params(m)[2:]
        sets = ", ".join(f"{col} = ?" for col in MEMBER_COLS.split(", ")[2:-1])

        def update(c: Conn) -> Row | None:
            row = c.one(
                f"UPDATE mfa_memberships SET {sets}, version = version + 1 "
                f"WHERE org_id = ? AND user_id = ? AND version = ? RETURNING {MEMBER_COLS}",
                [*values, m.org_id, m.user_id, m.version],
            )
            if (
                row is None
                and c.one(
                    "SELECT 1 FROM mfa_memberships WHERE org_id = ? AND user_id = ?",
                    [m.org_id, m.user_id],
                )
                is None
            ):
                raise NotFoundError("no such membership")
            return row

        row = self._sql.call(update)
        return None if row is None else row_member(row)

    def delete_membership(self, org_id: str, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.MembershipRepository.delete_membership`."""
        n = self._sql.call(
            lambda c: c.run(
                "DELETE FROM mfa_memberships WHERE org_id = ? AND user_id = ?", [org_id, user_id]
            )
        )
        return n == 1

    def list_memberships(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Membership]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_memberships`."""
        check_limit(limit)
        where, params = ("AND user_id > ? ", [after]) if after is not None else ("", [])
        rows = self._sql.call(
            lambda c: c.all(
                f"SELECT {MEMBER_COLS} FROM mfa_memberships WHERE org_id = ? {where}"
                "ORDER BY user_id LIMIT ?",
                [org_id, *params, limit + 1],
            )
        )
        return keyset_page(rows, row_member, lambda r: r[1], limit)

    def list_user_memberships(self, user_id: str) -> tuple[Membership, ...]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_user_memberships`."""
        rows = self._sql.call(
            lambda c: c.all(
                f"SELECT {MEMBER_COLS} FROM mfa_memberships WHERE user_id = ? ORDER BY org_id",
                [user_id],
            )
        )
        return tuple(row_member(r) for r in rows)

    def list_user_memberships_with_orgs(self, user_id: str) -> tuple[MembershipContext, ...]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_user_memberships_with_orgs`.

        One statement: the user's memberships joined to their organizations,
        and each organization's active owners counted by a correlated
        aggregate on the ``(org_id, ...)`` index.
        """
        member_cols = ", ".join(f"m.{col}" for col in MEMBER_COLS.split(", "))
        org_cols = ", ".join(f"o.{col}" for col in ORG_COLS.split(", "))
        rows = self._sql.call(
            lambda c: c.all(
                f"SELECT {member_cols}, {org_cols}, "
                "(SELECT COUNT(*) FROM mfa_memberships w WHERE w.org_id = m.org_id "
                "AND w.kind = 'owner' AND w.status = 'active') "
                "FROM mfa_memberships m JOIN mfa_organizations o ON o.org_id = m.org_id "
                "WHERE m.user_id = ? ORDER BY m.org_id",
                [user_id],
            )
        )
        width = len(MEMBER_COLS.split(", "))
        org_width = len(ORG_COLS.split(", "))
        return tuple(
            MembershipContext(
                membership=row_member(r[:width]),
                organization=row_org(r[width : width + org_width]),
                active_owners=int(r[width + org_width]),
            )
            for r in rows
        )

    def count_memberships(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_memberships`."""
        row = self._sql.call(
            lambda c: c.one("SELECT COUNT(*) FROM mfa_memberships WHERE org_id = ?", [org_id])
        )
        return int(row[0]) if row else 0

    def count_active_owners(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_active_owners`."""
        row = self._sql.call(
            lambda c: c.one(
                "SELECT COUNT(*) FROM mfa_memberships "
                "WHERE org_id = ? AND kind = 'owner' AND status = 'active'",
                [org_id],
            )
        )
        return int(row[0]) if row else 0

    def list_member_summaries(
        self,
        org_id: str,
        *,
        after: str | None = None,
        limit: int = 100,
        throttle_prefixes: Sequence[str] = (),
    ) -> Page[MemberSummary]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_member_summaries`."""
        check_limit(limit)
        prefixes = check_prefixes(throttle_prefixes)
        where, params = "org_id = ?", [org_id]
        if after is not None:
            where, params = "org_id = ? AND user_id > ?", [org_id, after]
        statement = summary_statement(where, ["user_id"], len(prefixes))
        rows = self._sql.call(lambda c: c.all(statement, [*params, limit + 1, *prefixes]))
        return summary_page(rows, lambda s: s.membership.user_id, limit)

    def list_all_member_summaries(
        self,
        *,
        after: str | None = None,
        limit: int = 100,
        throttle_prefixes: Sequence[str] = (),
    ) -> Page[MemberSummary]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_all_member_summaries`."""
        check_limit(limit)
        prefixes = check_prefixes(throttle_prefixes)
        cursor = parse_pair_cursor(after)
        where, params = "1 = 1", []
        if cursor is not None:
            # Row-value comparison: both databases walk the primary key from there.
            where, params = "(org_id, user_id) > (?, ?)", [*cursor]
        statement = summary_statement(where, ["org_id", "user_id"], len(prefixes))
        rows = self._sql.call(lambda c: c.all(statement, [*params, limit + 1, *prefixes]))
        return summary_page(
            rows,
            lambda s: pair_cursor(s.membership.org_id, s.membership.user_id),
            limit,
        )
