"""The SQL ports of organizations, memberships, invitations and the audit log."""

from __future__ import annotations

from datetime import datetime

from mfakit.errors import ConfigurationError, NotFoundError
from mfakit.repositories import (
    AuditEvent,
    Invitation,
    Membership,
    Organization,
    Page,
)
from mfakit.stores._common import (
    check_limit,
    check_record,
    dump_json,
    opt_micros,
    parse_seq_cursor,
    to_micros,
)
from mfakit.stores._sql import Conn, Row, SqlBase
from mfakit.stores._sql_rows import (
    AUDIT_COLS,
    INV_COLS,
    MEMBER_COLS,
    ORG_COLS,
    keyset_page,
    marks,
    member_params,
    required,
    row_audit,
    row_inv,
    row_member,
    row_org,
)

__all__ = ["OrgPorts"]


class OrgPorts(SqlBase):
    """The SQL ports of organizations, memberships, invitations and the audit log."""

    # -- Organizations --------------------------------------------------------------

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
        row = self._call(
            lambda c: c.one(
                f"INSERT INTO mfa_organizations ({ORG_COLS}) VALUES ({marks(ORG_COLS)}) "
                f"RETURNING {ORG_COLS}",
                params,
            )
        )
        return row_org(required(row))

    def get_organization(self, org_id: str) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.get_organization`."""
        row = self._call(
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

        row = self._call(update)
        return None if row is None else row_org(row)

    def list_organizations(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[Organization]:
        """See :meth:`mfakit.repositories.OrganizationRepository.list_organizations`."""
        check_limit(limit)
        where, params = ("WHERE org_id > ? ", [after]) if after is not None else ("", [])
        rows = self._call(
            lambda c: c.all(
                f"SELECT {ORG_COLS} FROM mfa_organizations {where}ORDER BY org_id LIMIT ?",
                [*params, limit + 1],
            )
        )
        return keyset_page(rows, row_org, lambda r: r[0], limit)

    # -- Memberships ----------------------------------------------------------------

    def _insert_membership(self, c: Conn, m: Membership) -> Row:
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
        return row_member(self._call(lambda c: self._insert_membership(c, membership), write=True))

    def get_membership(self, org_id: str, user_id: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership`."""
        row = self._call(
            lambda c: c.one(
                f"SELECT {MEMBER_COLS} FROM mfa_memberships WHERE org_id = ? AND user_id = ?",
                [org_id, user_id],
            )
        )
        return None if row is None else row_member(row)

    def get_membership_by_username(self, org_id: str, username: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership_by_username`."""
        row = self._call(
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

        row = self._call(update)
        return None if row is None else row_member(row)

    def delete_membership(self, org_id: str, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.MembershipRepository.delete_membership`."""
        n = self._call(
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
        rows = self._call(
            lambda c: c.all(
                f"SELECT {MEMBER_COLS} FROM mfa_memberships WHERE org_id = ? {where}"
                "ORDER BY user_id LIMIT ?",
                [org_id, *params, limit + 1],
            )
        )
        return keyset_page(rows, row_member, lambda r: r[1], limit)

    def list_user_memberships(self, user_id: str) -> tuple[Membership, ...]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_user_memberships`."""
        rows = self._call(
            lambda c: c.all(
                f"SELECT {MEMBER_COLS} FROM mfa_memberships WHERE user_id = ? ORDER BY org_id",
                [user_id],
            )
        )
        return tuple(row_member(r) for r in rows)

    def count_memberships(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_memberships`."""
        row = self._call(
            lambda c: c.one("SELECT COUNT(*) FROM mfa_memberships WHERE org_id = ?", [org_id])
        )
        return int(row[0]) if row else 0

    def count_active_owners(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_active_owners`."""
        row = self._call(
            lambda c: c.one(
                "SELECT COUNT(*) FROM mfa_memberships "
                "WHERE org_id = ? AND kind = 'owner' AND status = 'active'",
                [org_id],
            )
        )
        return int(row[0]) if row else 0

    # -- Invitations ----------------------------------------------------------------

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

        self._call(create, write=True)

    def get_invitation(self, invitation_id: str) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.get_invitation`."""
        row = self._call(
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
        rows = self._call(
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

        row = self._call(accept, write=True)
        return None if row is None else row_inv(row)

    def revoke_invitation(self, invitation_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.InvitationRepository.revoke_invitation`."""
        n = self._call(
            lambda c: c.run(
                "UPDATE mfa_invitations SET revoked_at = ? WHERE invitation_id = ? "
                "AND accepted_at IS NULL AND revoked_at IS NULL",
                [to_micros(now), invitation_id],
            )
        )
        return n == 1

    # -- Audit ----------------------------------------------------------------------

    def append_audit_event(self, event: AuditEvent) -> None:
        """See :meth:`mfakit.repositories.AuditSink.append_audit_event`."""
        e = event
        check_record(e)
        params = [
            e.event_id,
            to_micros(e.at),
            e.action,
            e.outcome,
            e.actor_id,
            e.user_id,
            e.org_id,
            dump_json(e.details),
        ]
        cols = AUDIT_COLS.removeprefix("seq, ")
        self._call(
            lambda c: c.run(f"INSERT INTO mfa_audit_events ({cols}) VALUES ({marks(cols)})", params)
        )

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
        rows = self._call(
            lambda c: c.all(
                f"SELECT {AUDIT_COLS} FROM mfa_audit_events WHERE {' AND '.join(clauses)} "
                "ORDER BY seq LIMIT ?",
                [*params, limit + 1],
            )
        )
        return keyset_page(rows, row_audit, lambda r: r[0], limit)
