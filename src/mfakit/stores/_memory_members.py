"""The in-memory part of memberships, member summaries included, read through the indexes."""

from __future__ import annotations

import dataclasses
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from mfakit.errors import DuplicateError, NotFoundError
from mfakit.repositories import (
    CredentialSummary,
    Membership,
    MembershipContext,
    MemberSummary,
    Page,
)
from mfakit.stores._common import (
    check_limit,
    check_prefixes,
    normalize,
    pair_cursor,
    parse_pair_cursor,
)
from mfakit.stores._memory import MemoryState, keyset_chunk

__all__ = ["MemoryMemberships"]


class MemoryMemberships:
    """:class:`~mfakit.repositories.MembershipRepository` in memory.

    Pages of members, and of member summaries, are a bisect and a slice of
    the per-organization indexes of the :class:`MemoryState`.
    """

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def _check_username_free(self, m: Membership) -> None:
        if m.username is None:
            return
        holder = self._state.usernames.get((m.org_id, m.username))
        if holder is not None and holder != m.user_id:
            raise DuplicateError("the username is taken in the organization")

    def insert(self, membership: Membership) -> Membership:
        """Add a membership; the caller holds the state's lock (and checked it is open).

        Raises:
            NotFoundError: no such organization.
            DuplicateError: the user is already a member, or the username is taken.
        """
        record = dataclasses.replace(normalize(membership), version=1)
        if record.org_id not in self._state.orgs:
            raise NotFoundError("no such organization")
        if (record.org_id, record.user_id) in self._state.members:
            raise DuplicateError("the user is already a member")
        self._check_username_free(record)
        self._state.put_membership(record)
        return record

    def add_membership(self, membership: Membership) -> Membership:
        """See :meth:`mfakit.repositories.MembershipRepository.add_membership`."""
        with self._state.lock:
            self._state.check_open()
            return self.insert(membership)

    def get_membership(self, org_id: str, user_id: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership`."""
        with self._state.lock:
            self._state.check_open()
            return self._state.members.get((org_id, user_id))

    def get_membership_by_username(self, org_id: str, username: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership_by_username`."""
        with self._state.lock:
            self._state.check_open()
            user_id = self._state.usernames.get((org_id, username))
            return None if user_id is None else self._state.members[org_id, user_id]

    def update_membership(self, membership: Membership) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.update_membership`."""
        record = normalize(membership)
        with self._state.lock:
            self._state.check_open()
            stored = self._state.members.get((record.org_id, record.user_id))
            if stored is None:
                raise NotFoundError("no such membership")
            if stored.version != record.version:
                return None
            self._check_username_free(record)
            record = dataclasses.replace(record, version=record.version + 1)
            self._state.put_membership(record)
            return record

    def delete_membership(self, org_id: str, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.MembershipRepository.delete_membership`."""
        with self._state.lock:
            self._state.check_open()
            return self._state.remove_membership(org_id, user_id)

    def list_memberships(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Membership]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_memberships`."""
        check_limit(limit)
        with self._state.lock:
            self._state.check_open()
            users = self._state.org_users.get(org_id, [])
            start = 0 if after is None else bisect_right(users, after)
            chunk = [self._state.members[org_id, u] for u in users[start : start + limit + 1]]
        return keyset_chunk(chunk, lambda m: m.user_id, limit)

    def list_user_memberships(self, user_id: str) -> tuple[Membership, ...]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_user_memberships`."""
        with self._state.lock:
            self._state.check_open()
            orgs = sorted(self._state.user_orgs.get(user_id, ()))
            return tuple(self._state.members[o, user_id] for o in orgs)

    def list_user_memberships_with_orgs(self, user_id: str) -> tuple[MembershipContext, ...]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_user_memberships_with_orgs`."""
        state = self._state
        with state.lock:
            state.check_open()
            return tuple(
                MembershipContext(
                    membership=state.members[o, user_id],
                    organization=state.orgs[o],
                    active_owners=len(state.active_owners.get(o, ())),
                )
                for o in sorted(state.user_orgs.get(user_id, ()))
            )

    def count_memberships(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_memberships`."""
        with self._state.lock:
            self._state.check_open()
            return len(self._state.org_users.get(org_id, ()))

    def count_active_owners(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_active_owners`."""
        with self._state.lock:
            self._state.check_open()
            return len(self._state.active_owners.get(org_id, ()))

    def _summary(self, m: Membership, prefixes: list[str]) -> MemberSummary:
        """Summarize one member from the per-user records (no scan of other users)."""
        user = m.user_id
        devices = self._state.active_totp.get(user, ())
        codes = self._state.backup.get(user, {}).values()
        creds = sorted(
            self._state.user_webauthn(user),
            key=lambda c: (c.created_at, c.credential_id),
        )
        throttles = (self._state.throttle.get(p + user) for p in prefixes)
        return MemberSummary(
            membership=m,
            totp_created_at=min((d.created_at for d in devices), default=None),
            totp_confirmed_at=min(
                (d.confirmed_at for d in devices if d.confirmed_at is not None), default=None
            ),
            totp_devices=len(devices),
            credentials=tuple(
                CredentialSummary(
                    credential_id=c.credential_id,
                    name=c.name,
                    kind=c.kind,
                    created_at=c.created_at,
                    last_used_at=c.last_used_at,
                )
                for c in creds
            ),
            backup_codes_unused=sum(c.consumed_at is None for c in codes),
            backup_codes_created_at=min((c.created_at for c in codes), default=None),
            failed_attempts=sum(t.failures for t in throttles if t is not None),
            last_mfa_at=self._state.last_mfa.get(user),
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
        with self._state.lock:
            self._state.check_open()
            users = self._state.org_users.get(org_id, [])
            start = 0 if after is None else bisect_right(users, after)
            chunk = [
                self._summary(self._state.members[org_id, u], prefixes)
                for u in users[start : start + limit + 1]
            ]
        return keyset_chunk(chunk, lambda s: s.membership.user_id, limit)

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
        with self._state.lock:
            self._state.check_open()
            orgs = self._state.member_orgs
            # Every indexed organization has members, so at most limit + 1 are visited.
            i = 0 if cursor is None else bisect_left(orgs, cursor[0])
            chunk: list[MemberSummary] = []
            while i < len(orgs) and len(chunk) <= limit:
                org_id = orgs[i]
                users = self._state.org_users[org_id]
                start = 0
                if cursor is not None and org_id == cursor[0]:
                    start = bisect_right(users, cursor[1])
                wanted = limit + 1 - len(chunk)
                chunk.extend(
                    self._summary(self._state.members[org_id, u], prefixes)
                    for u in users[start : start + wanted]
                )
                i += 1
        return keyset_chunk(
            chunk, lambda s: pair_cursor(s.membership.org_id, s.membership.user_id), limit
        )
