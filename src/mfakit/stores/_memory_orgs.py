"""The in-memory parts of organizations and invitations."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from mfakit.errors import ConfigurationError, DuplicateError, NotFoundError
from mfakit.repositories import Invitation, Membership, Organization, Page
from mfakit.stores._common import normalize, utc
from mfakit.stores._memory import MemoryState, page

__all__ = ["MemoryInvitations", "MemoryOrganizations"]


class MemoryOrganizations:
    """:class:`~mfakit.repositories.OrganizationRepository` in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def create_organization(self, organization: Organization) -> Organization:
        """See :meth:`mfakit.repositories.OrganizationRepository.create_organization`."""
        record = dataclasses.replace(normalize(organization), version=1)
        with self._state.lock:
            self._state.check_open()
            if record.org_id in self._state.orgs:
                raise DuplicateError("the organization id is taken")
            self._state.orgs[record.org_id] = record
            return record

    def get_organization(self, org_id: str) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.get_organization`."""
        with self._state.lock:
            self._state.check_open()
            return self._state.orgs.get(org_id)

    def update_organization(self, organization: Organization) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.update_organization`."""
        record = normalize(organization)
        with self._state.lock:
            self._state.check_open()
            stored = self._state.orgs.get(record.org_id)
            if stored is None:
                raise NotFoundError("no such organization")
            if stored.version != record.version:
                return None
            record = dataclasses.replace(
                record, version=record.version + 1, created_at=stored.created_at
            )
            self._state.orgs[record.org_id] = record
            return record

    def list_organizations(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[Organization]:
        """See :meth:`mfakit.repositories.OrganizationRepository.list_organizations`."""
        with self._state.lock:
            self._state.check_open()
            orgs = list(self._state.orgs.values())
        return page(orgs, lambda o: o.org_id, after, limit)


class MemoryInvitations:
    """:class:`~mfakit.repositories.InvitationRepository` in memory.

    Args:
        state: The store's state.
        insert_membership: Adds a membership while the caller holds the lock
            (the memberships part's ``insert``), so accepting an invitation
            and joining are one step.
    """

    def __init__(
        self, state: MemoryState, *, insert_membership: Callable[[Membership], Membership]
    ) -> None:
        self._state = state
        self._insert_membership = insert_membership

    def create_invitation(self, invitation: Invitation) -> None:
        """See :meth:`mfakit.repositories.InvitationRepository.create_invitation`."""
        record = normalize(invitation)
        with self._state.lock:
            self._state.check_open()
            if record.org_id not in self._state.orgs:
                raise NotFoundError("no such organization")
            if record.invitation_id in self._state.invitations:
                raise DuplicateError("the invitation id is taken")
            self._state.invitations[record.invitation_id] = record

    def get_invitation(self, invitation_id: str) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.get_invitation`."""
        with self._state.lock:
            self._state.check_open()
            return self._state.invitations.get(invitation_id)

    def list_invitations(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Invitation]:
        """See :meth:`mfakit.repositories.InvitationRepository.list_invitations`."""
        with self._state.lock:
            self._state.check_open()
            mine = [i for i in self._state.invitations.values() if i.org_id == org_id]
        return page(mine, lambda i: i.invitation_id, after, limit)

    def accept_invitation(
        self, invitation_id: str, membership: Membership, *, now: datetime
    ) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.accept_invitation`."""
        now = utc(now)
        with self._state.lock:
            self._state.check_open()
            inv = self._state.invitations.get(invitation_id)
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
            self._state.invitations[invitation_id] = accepted
            return accepted

    def revoke_invitation(self, invitation_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.InvitationRepository.revoke_invitation`."""
        now = utc(now)
        with self._state.lock:
            self._state.check_open()
            inv = self._state.invitations.get(invitation_id)
            if inv is None or inv.accepted_at is not None or inv.revoked_at is not None:
                return False
            self._state.invitations[invitation_id] = dataclasses.replace(inv, revoked_at=now)
            return True
