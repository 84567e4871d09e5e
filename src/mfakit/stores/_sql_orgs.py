"""The SQL parts of organizations and invitations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from mfakit.errors import ConfigurationError, NotFoundError
from mfakit.repositories import Invitation, Membership, Organization, Page
from mfakit.stores._common import check_limit, check_record, dump_json, opt_micros, to_micros
from mfakit.stores._sql import Conn, Row, SqlContext
from mfakit.stores._sql_rows import (
    INV_COLS,
    ORG_COLS,
    keyset_page,
    marks,
    member_params,
    required,
    row_inv,
    row_org,
)

__all__ = ["SqlInvitations", "SqlOrganizations"]


class SqlOrganizations:
    """:class:`~mfakit.repositories.OrganizationRepository` in SQL."""

    def __init__(self, sql: SqlContext) -> None:
        self._sql = sql

    def create_organization(self, organization: Organization) -> Organization:
        """See :meth:`mfakit.repositories.OrganizationRepository.create_organization`."""
        o = organization
        check_record(o)
        params = [
            o.org_id,
            o.name,
            dump_json(o.policy),
            int(o.enforced),
            opt_micros(o.enforced_at),
            opt_micros(o.enforcement_stopped_at),
            to_micros(o.created_at),
            1,
            o.enforced_by,
        ]
        row = self._sql.call(
            lambda c: c.one(
                f"INSERT INTO mfa_organizations ({ORG_COLS}) VALUES ({marks(ORG_COLS)}) "
                f"RETURNING {ORG_COLS}",
                params,
            )
        )
        return row_org(required(row))

    def get_organization(self, org_id: str) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.get_organization`."""
        row = self._sql.call(
            lambda c: c.one(f"SELECT {ORG_COLS} FROM mfa_organizations WHERE org_id = ?", [org_id])
        )
        return None if row is None else row_org(row)

    def update_organization(self, organization: Organization) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.update_organization`."""
        o = organization
        check_record(o)
        params = [
            o.name,
            dump_json(o.policy),
            int(o.enforced),
            opt_micros(o.enforced_at),
            opt_micros(o.enforcement_stopped_at),
            o.enforced_by,
            o.org_id,
            o.version,
        ]

        def update(c: Conn) -> Row | None:
            row = c.one(
                "UPDATE mfa_organizations SET name = ?, policy = ?, enforced = ?, "
                "enforced_at = ?, enforcement_stopped_at = ?, enforced_by = ?, "
                "version = version + 1 "
                f"WHERE org_id = ? AND version = ? RETURNING {ORG_COLS}",
                params,
            )
            if (
                row is None
                and c.one("SELECT 1 FROM mfa_organizations WHERE org_id = ?", [o.org_id]) is None
            ):
                raise NotFoundError("no such organization")
            return row

        row = self._sql.call(update)
        return None if row is None else row_org(row)

    def list_organizations(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[Organization]:
        """See :meth:`mfakit.repositories.OrganizationRepository.list_organizations`."""
        check_limit(limit)
        where, params = ("WHERE org_id > ? ", [after]) if after is not None else ("", [])
        rows = self._sql.call(
            lambda c: c.all(
                f"SELECT {ORG_COLS} FROM mfa_organizations {where}ORDER BY org_id LIMIT ?",
                [*params, limit + 1],
            )
        )
        return keyset_page(rows, row_org, lambda r: r[0], limit)


class SqlInvitations:
    """:class:`~mfakit.repositories.InvitationRepository` in SQL.

    Args:
        sql: The store's context.
        insert_membership: Adds a membership on the given connection (the
            memberships part's ``insert``), so accepting an invitation and
            joining are one transaction.
    """

    def __init__(
        self, sql: SqlContext, *, insert_membership: Callable[[Conn, Membership], Row]
    ) -> None:
        self._sql = sql
        self._insert_membership = insert_membership

    def create_invitation(self, invitation: Invitation) -> None:
        """See :meth:`mfakit.repositories.InvitationRepository.create_invitation`."""
        i = invitation
        check_record(i)
        params = [
            i.invitation_id,
            i.org_id,
            i.email,
            i.kind,
            i.invited_by,
            to_micros(i.created_at),
            to_micros(i.expires_at),
            opt_micros(i.accepted_at),
            i.accepted_by,
            opt_micros(i.revoked_at),
        ]

        def create(c: Conn) -> None:
            if c.one("SELECT 1 FROM mfa_organizations WHERE org_id = ?", [i.org_id]) is None:
                raise NotFoundError("no such organization")
            c.run(f"INSERT INTO mfa_invitations ({INV_COLS}) VALUES ({marks(INV_COLS)})", params)

        self._sql.call(create, write=True)

    def get_invitation(self, invitation_id: str) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.get_invitation`."""
        row = self._sql.call(
            lambda c: c.one(
                f"SELECT {INV_COLS} FROM mfa_invitations WHERE invitation_id = ?",
                [invitation_id],
            )
        )
        return None if row is None else row_inv(row)

    def list_invitations(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Invitation]:
        """See :meth:`mfakit.repositories.InvitationRepository.list_invitations`."""
        check_limit(limit)
        where, params = ("AND invitation_id > ? ", [after]) if after is not None else ("", [])
        rows = self._sql.call(
            lambda c: c.all(
                f"SELECT {INV_COLS} FROM mfa_invitations WHERE org_id = ? {where}"
                "ORDER BY invitation_id LIMIT ?",
                [org_id, *params, limit + 1],
            )
        )
        return keyset_page(rows, row_inv, lambda r: r[0], limit)

    def accept_invitation(
        self, invitation_id: str, membership: Membership, *, now: datetime
    ) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.accept_invitation`."""
        at = to_micros(now)
        member_params(membership)  # validate before touching the database

        def accept(c: Conn) -> Row | None:
            row = c.one(
                "UPDATE mfa_invitations SET accepted_at = ?, accepted_by = ? "
                "WHERE invitation_id = ? AND accepted_at IS NULL AND revoked_at IS NULL "
                f"AND expires_at > ? RETURNING {INV_COLS}",
                [at, membership.user_id, invitation_id, at],
            )
            if row is None:
                return None
            if row[1] != membership.org_id:
                raise ConfigurationError("the membership is for another organization")
            self._insert_membership(c, membership)
            return row

        row = self._sql.call(accept, write=True)
        return None if row is None else row_inv(row)

    def revoke_invitation(self, invitation_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.InvitationRepository.revoke_invitation`."""
        n = self._sql.call(
            lambda c: c.run(
                "UPDATE mfa_invitations SET revoked_at = ? WHERE invitation_id = ? "
                "AND accepted_at IS NULL AND revoked_at IS NULL",
                [to_micros(now), invitation_id],
            )
        )
        return n == 1
