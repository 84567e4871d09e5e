"""The in-memory ports of organizations, memberships, invitations and the audit log."""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from datetime import datetime

from mfakit.errors import ConfigurationError, DuplicateError, NotFoundError
from mfakit.repositories import (
    AuditEvent,
    Invitation,
    Membership,
    Organization,
    Page,
)
from mfakit.stores._common import check_limit, normalize, parse_seq_cursor, utc
from mfakit.stores._memory import MemoryBase, keyset_chunk, page

__all__ = ["OrgPorts"]


class OrgPorts(MemoryBase):
    """The in-memory ports of organizations, memberships, invitations and the audit log."""

    # -- Organizations --------------------------------------------------------------

    def create_organization(self, organization: Organization) -> Organization:
        """See :meth:`mfakit.repositories.OrganizationRepository.create_organization`."""
        record = dataclasses.replace(normalize(organization), version=1)
        with self._lock:
            self._check_open()
            if record.org_id in self._orgs:
                raise DuplicateError("the organization id is taken")
            self._orgs[record.org_id] = record
            return record

    def get_organization(self, org_id: str) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.get_organization`."""
        with self._lock:
            self._check_open()
            return self._orgs.get(org_id)

    def update_organization(self, organization: Organization) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.update_organization`."""
        record = normalize(organization)
        with self._lock:
            self._check_open()
            stored = self._orgs.get(record.org_id)
            if stored is None:
                raise NotFoundError("no such organization")
            if stored.version != record.version:
                return None
            record = dataclasses.replace(
                record, version=record.version + 1, created_at=stored.created_at
            )
            self._orgs[record.org_id] = record
            return record

    def list_organizations(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[Organization]:
        """See :meth:`mfakit.repositories.OrganizationRepository.list_organizations`."""
        with self._lock:
            self._check_open()
            orgs = list(self._orgs.values())
        return page(orgs, lambda o: o.org_id, after, limit)

    # -- Memberships ----------------------------------------------------------------

    def _check_username_free(self, m: Membership) -> None:
        if m.username is None:
            return
        holder = self._usernames.get((m.org_id, m.username))
        if holder is not None and holder != m.user_id:
            raise DuplicateError("the username is taken in the organization")

    def _insert_membership(self, membership: Membership) -> Membership:
        record = dataclasses.replace(normalize(membership), version=1)
        if record.org_id not in self._orgs:
            raise NotFoundError("no such organization")
        if (record.org_id, record.user_id) in self._members:
            raise DuplicateError("the user is already a member")
        self._check_username_free(record)
        self._put_membership(record)
        return record

    def add_membership(self, membership: Membership) -> Membership:
        """See :meth:`mfakit.repositories.MembershipRepository.add_membership`."""
        with self._lock:
            self._check_open()
            return self._insert_membership(membership)

    def get_membership(self, org_id: str, user_id: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership`."""
        with self._lock:
            self._check_open()
            return self._members.get((org_id, user_id))

    def get_membership_by_username(self, org_id: str, username: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership_by_username`."""
        with self._lock:
            self._check_open()
            user_id = self._usernames.get((org_id, username))
            return None if user_id is None else self._members[org_id, user_id]

    def update_membership(self, membership: Membership) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.update_membership`."""
        record = normalize(membership)
        with self._lock:
            self._check_open()
            stored = self._members.get((record.org_id, record.user_id))
            if stored is None:
                raise NotFoundError("no such membership")
            if stored.version != record.version:
                return None
            self._check_username_free(record)
            record = dataclasses.replace(record, version=record.version + 1)
            self._put_membership(record)
            return record

    def delete_membership(self, org_id: str, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.MembershipRepository.delete_membership`."""
        with self._lock:
            self._check_open()
            return self._remove_membership(org_id, user_id)

    def list_memberships(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Membership]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_memberships`."""
        check_limit(limit)
        with self._lock:
            self._check_open()
            users = self._org_users.get(org_id, [])
            start = 0 if after is None else bisect_right(users, after)
            chunk = [self._members[org_id, u] for u in users[start : start + limit + 1]]
        return keyset_chunk(chunk, lambda m: m.user_id, limit)

    def list_user_memberships(self, user_id: str) -> tuple[Membership, ...]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_user_memberships`."""
        with self._lock:
            self._check_open()
            orgs = sorted(self._user_orgs.get(user_id, ()))
            return tuple(self._members[o, user_id] for o in orgs)

    def count_memberships(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_memberships`."""
        with self._lock:
            self._check_open()
            return len(self._org_users.get(org_id, ()))

    def count_active_owners(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_active_owners`."""
        with self._lock:
            self._check_open()
            return len(self._active_owners.get(org_id, ()))

    # -- Invitations ----------------------------------------------------------------

    def create_invitation(self, invitation: Invitation) -> None:
        """See :meth:`mfakit.repositories.InvitationRepository.create_invitation`."""
        record = normalize(invitation)
        with self._lock:
            self._check_open()
            if record.org_id not in self._orgs:
                raise NotFoundError("no such organization")
            if record.invitation_id in self._invitations:
                raise DuplicateError("the invitation id is taken")
            self._invitations[record.invitation_id] = record

    def get_invitation(self, invitation_id: str) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.get_invitation`."""
        with self._lock:
            self._check_open()
            return self._invitations.get(invitation_id)

    def list_invitations(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Invitation]:
        """See :meth:`mfakit.repositories.InvitationRepository.list_invitations`."""
        with self._lock:
            self._check_open()
            mine = [i for i in self._invitations.values() if i.org_id == org_id]
        return page(mine, lambda i: i.invitation_id, after, limit)

    def accept_invitation(
        self, invitation_id: str, membership: Membership, *, now: datetime
    ) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.accept_invitation`."""
        now = utc(now)
        with self._lock:
            self._check_open()
            inv = self._invitations.get(invitation_id)
            if (
                inv is None
                or inv.accepted_at is not None
                or inv.revoked_at is not None
                or inv.expires_at <= now
            ):
                return None
            if membership.org_id != inv.org_id:
                raise ConfigurationError("the membership is for another organization")
            self._insert_membership(membership)
            accepted = dataclasses.replace(inv, accepted_at=now, accepted_by=membership.user_id)
            self._invitations[invitation_id] = accepted
            return accepted

    def revoke_invitation(self, invitation_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.InvitationRepository.revoke_invitation`."""
        now = utc(now)
        with self._lock:
            self._check_open()
            inv = self._invitations.get(invitation_id)
            if inv is None or inv.accepted_at is not None or inv.revoked_at is not None:
                return False
            self._invitations[invitation_id] = dataclasses.replace(inv, revoked_at=now)
            return True

    # -- Audit ----------------------------------------------------------------------

    def append_audit_event(self, event: AuditEvent) -> None:
        """See :meth:`mfakit.repositories.AuditSink.append_audit_event`."""
        record = normalize(event)
        with self._lock:
            self._check_open()
            if record.event_id in self._audit_ids:
                raise DuplicateError("the event id exists")
            self._audit_ids.add(record.event_id)
            self._audit.append((next(self._seq), record))

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
        with self._lock:
            self._check_open()
            rows = [
                (seq, e)
                for seq, e in self._audit
                if seq > start
                and (org_id is None or e.org_id == org_id)
                and (user_id is None or e.user_id == user_id)
            ]
        chunk = rows[:limit]
        cursor = str(chunk[-1][0]) if len(rows) > limit else None
        return Page(items=tuple(e for _, e in chunk), next_cursor=cursor)
