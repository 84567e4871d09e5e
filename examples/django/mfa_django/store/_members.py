"""The part of memberships, member summaries included (one query per page)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, F, OuterRef, Q, Subquery

from mfa_django.models import StoredMembership, StoredOrganization
from mfa_django.store._context import DjangoContext
from mfa_django.store._factors import keyset_page
from mfa_django.store._summaries import annotate_summaries, to_summary
from mfakit.errors import NotFoundError
from mfakit.repositories import Membership, MembershipContext, MemberSummary, Page
from mfakit.stores._common import (
    check_limit,
    check_prefixes,
    normalize,
    pair_cursor,
    parse_pair_cursor,
)

__all__ = ["DjangoMemberships"]


class DjangoMemberships:
    """:class:`~mfakit.repositories.MembershipRepository` on the ORM."""

    def __init__(self, ctx: DjangoContext) -> None:
        self._ctx = ctx

    def _rows(self) -> Any:
        return StoredMembership.objects.using(self._ctx.using)

    def insert(self, membership: Membership) -> Membership:
        """Add a normalized membership inside the caller's transaction.

        Raises:
            NotFoundError: no such organization (checked first: Django's
                foreign keys are only checked at commit on PostgreSQL).
        """
        if (
            not StoredOrganization.objects.using(self._ctx.using)
            .filter(org_id=membership.org_id)
            .exists()
        ):
            raise NotFoundError("no such organization")
        row = StoredMembership.from_record(membership)
        row.save(using=self._ctx.using, force_insert=True)
        return row.to_record()

    def add_membership(self, membership: Membership) -> Membership:
        """See :meth:`mfakit.repositories.MembershipRepository.add_membership`."""
        record = normalize(membership)
        return self._ctx.run(lambda: self.insert(record), write=True)

    def get_membership(self, org_id: str, user_id: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership`."""
        row = self._ctx.run(lambda: self._rows().filter(org_id=org_id, user_id=user_id).first())
        return None if row is None else row.to_record()

    def get_membership_by_username(self, org_id: str, username: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership_by_username`."""
        row = self._ctx.run(lambda: self._rows().filter(org_id=org_id, username=username).first())
        return None if row is None else row.to_record()

    def update_membership(self, membership: Membership) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.update_membership`.

        Compare-and-set on ``version`` with a row count, as for organizations.
        """
        m = normalize(membership)

        def update() -> Membership | None:
            rows = self._rows().filter(org_id=m.org_id, user_id=m.user_id)
            changed = rows.filter(version=m.version).update(
                version=F("version") + 1, **StoredMembership.values_of(m)
            )
            if changed:
                return rows.get().to_record()  # type: ignore[no-any-return]
            if not rows.exists():
                raise NotFoundError("no such membership")
            return None

        return self._ctx.run(update, write=True)

    def delete_membership(self, org_id: str, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.MembershipRepository.delete_membership`."""
        deleted, _ = self._ctx.run(
            lambda: self._rows().filter(org_id=org_id, user_id=user_id).delete(), write=True
        )
        return bool(deleted == 1)

    def list_memberships(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Membership]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_memberships`."""
        check_limit(limit)
        rows = self._rows().filter(org_id=org_id).order_by("user_id")
        if after is not None:
            rows = rows.filter(user_id__gt=after)
        found = self._ctx.run(lambda: list(rows[: limit + 1]))
        return keyset_page([r.to_record() for r in found], lambda m: m.user_id, limit)

    def list_user_memberships(self, user_id: str) -> tuple[Membership, ...]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_user_memberships`."""
        rows = self._ctx.run(lambda: list(self._rows().filter(user_id=user_id).order_by("org_id")))
        return tuple(r.to_record() for r in rows)

    def list_user_memberships_with_orgs(self, user_id: str) -> tuple[MembershipContext, ...]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_user_memberships_with_orgs`.

        One query: ``select_related("org")`` joins the organizations, and a
        correlated ``Subquery`` counts each one's active owners.
        """
        owners = (
            self._rows()
            .filter(org_id=OuterRef("org_id"), kind="owner", status="active")
            .order_by()
            .values("org_id")
            .annotate(n=Count("*"))
            .values("n")
        )
        rows = self._ctx.run(
            lambda: list(
                self._rows()
                .filter(user_id=user_id)
                .select_related("org")
                .annotate(active_owners=Subquery(owners))
                .order_by("org_id")
            )
        )
        return tuple(
            MembershipContext(
                membership=r.to_record(),
                organization=r.org.to_record(),
                active_owners=int(r.active_owners or 0),
            )
            for r in rows
        )

    def count_memberships(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_memberships`."""
        return int(self._ctx.run(lambda: self._rows().filter(org_id=org_id).count()))

    def count_active_owners(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_active_owners`."""
        return int(
            self._ctx.run(
                lambda: self._rows().filter(org_id=org_id, kind="owner", status="active").count()
            )
        )

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
        rows = self._rows().filter(org_id=org_id).order_by("user_id")
        if after is not None:
            rows = rows.filter(user_id__gt=after)
        page = annotate_summaries(rows, self._ctx.using, prefixes)[: limit + 1]
        found = self._ctx.run(lambda: [to_summary(r) for r in page])
        return keyset_page(found, lambda s: s.membership.user_id, limit)

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
        rows = self._rows().order_by("org_id", "user_id")
        if cursor is not None:
            org_id, user_id = cursor
            rows = rows.filter(Q(org_id__gt=org_id) | Q(org_id=org_id, user_id__gt=user_id))
        page = annotate_summaries(rows, self._ctx.using, prefixes)[: limit + 1]
        found = self._ctx.run(lambda: [to_summary(r) for r in page])
        return keyset_page(
            found, lambda s: pair_cursor(s.membership.org_id, s.membership.user_id), limit
        )
