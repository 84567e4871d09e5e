"""The parts of organizations and invitations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import F

from mfa_django.models import StoredInvitation, StoredOrganization
from mfa_django.store._context import DjangoContext
from mfa_django.store._factors import keyset_page
from mfakit.errors import ConfigurationError, NotFoundError
from mfakit.repositories import Invitation, Membership, Organization, Page
from mfakit.stores._common import check_limit, normalize, utc

__all__ = ["DjangoInvitations", "DjangoOrganizations"]


class DjangoOrganizations:
    """:class:`~mfakit.repositories.OrganizationRepository` on the ORM."""

    def __init__(self, ctx: DjangoContext) -> None:
        self._ctx = ctx

    def _rows(self) -> Any:
        return StoredOrganization.objects.using(self._ctx.using)

    def create_organization(self, organization: Organization) -> Organization:
        """See :meth:`mfakit.repositories.OrganizationRepository.create_organization`."""
        row = StoredOrganization.from_record(normalize(organization))
        self._ctx.run(lambda: row.save(using=self._ctx.using, force_insert=True), write=True)
        return row.to_record()

    def get_organization(self, org_id: str) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.get_organization`."""
        row = self._ctx.run(lambda: self._rows().filter(org_id=org_id).first())
        return None if row is None else row.to_record()

    def update_organization(self, organization: Organization) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.update_organization`.

        Compare-and-set: ``filter(version=...).update(version=F("version") + 1)``
        counts one row or none; the winner reads its row back.
        """
        o = normalize(organization)

        def update() -> Organization | None:
            rows = self._rows().filter(org_id=o.org_id)
            changed = rows.filter(version=o.version).update(
                name=o.name,
                policy=dict(o.policy),
                enforced=o.enforced,
                enforced_at=o.enforced_at,
                enforced_by=o.enforced_by,
                enforcement_stopped_at=o.enforcement_stopped_at,
                version=F("version") + 1,
            )
            if changed:
                return rows.get().to_record()  # type: ignore[no-any-return]
            if not rows.exists():
                raise NotFoundError("no such organization")
            return None

        return self._ctx.run(update, write=True)

    def list_organizations(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[Organization]:
        """See :meth:`mfakit.repositories.OrganizationRepository.list_organizations`."""
        check_limit(limit)
        rows = self._rows().order_by("org_id")
        if after is not None:
            rows = rows.filter(org_id__gt=after)
        found = self._ctx.run(lambda: list(rows[: limit + 1]))
        return keyset_page([r.to_record() for r in found], lambda o: o.org_id, limit)


class DjangoInvitations:
    """:class:`~mfakit.repositories.InvitationRepository` on the ORM.

    Args:
        ctx: The store's context.
        insert_membership: Adds a membership inside the caller's transaction
            (the memberships part's ``insert``), so accepting an invitation and
            joining are one transaction.
    """

    def __init__(
        self, ctx: DjangoContext, *, insert_membership: Callable[[Membership], Membership]
    ) -> None:
        self._ctx = ctx
        self._insert_membership = insert_membership

    def _rows(self) -> Any:
        return StoredInvitation.objects.using(self._ctx.using)

    def create_invitation(self, invitation: Invitation) -> None:
        """See :meth:`mfakit.repositories.InvitationRepository.create_invitation`."""
        row = StoredInvitation.from_record(normalize(invitation))

        def create() -> None:
            if (
                not StoredOrganization.objects.using(self._ctx.using)
                .filter(org_id=row.org_id)
                .exists()
            ):
                raise NotFoundError("no such organization")
            row.save(using=self._ctx.using, force_insert=True)

        self._ctx.run(create, write=True)

    def get_invitation(self, invitation_id: str) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.get_invitation`."""
        row = self._ctx.run(lambda: self._rows().filter(invitation_id=invitation_id).first())
        return None if row is None else row.to_record()

    def list_invitations(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Invitation]:
        """See :meth:`mfakit.repositories.InvitationRepository.list_invitations`."""
        check_limit(limit)
        rows = self._rows().filter(org_id=org_id).order_by("invitation_id")
        if after is not None:
            rows = rows.filter(invitation_id__gt=after)
        found = self._ctx.run(lambda: list(rows[: limit + 1]))
        return keyset_page([r.to_record() for r in found], lambda i: i.invitation_id, limit)

    def accept_invitation(
        self, invitation_id: str, membership: Membership, *, now: datetime
    ) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.accept_invitation`.

        A guarded ``update()`` accepts it (one winner); the membership is
        added in the same transaction, which a duplicate member rolls back.
        """
        at = utc(now)
        member = normalize(membership)

        def accept() -> Invitation | None:
            rows = self._rows().filter(invitation_id=invitation_id)
            accepted = rows.filter(
                accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=at
            ).update(accepted_at=at, accepted_by=member.user_id)
            if not accepted:
                return None
            invitation: Invitation = rows.get().to_record()
            if invitation.org_id != member.org_id:
                raise ConfigurationError("the membership is for another organization")
            self._insert_membership(member)
            return invitation

        return self._ctx.run(accept, write=True)

    def revoke_invitation(self, invitation_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.InvitationRepository.revoke_invitation`."""
        at = utc(now)
        changed = self._ctx.run(
            lambda: (
                self._rows()
                .filter(
                    invitation_id=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True
                )
                .update(revoked_at=at)
            ),
            write=True,
        )
        return bool(changed == 1)
