"""The in-memory member summaries: a page of members with their factors, O(page)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from mfakit.repositories import CredentialSummary, Membership, MemberSummary, Page
from mfakit.stores._common import (
    check_limit,
    check_prefixes,
    pair_cursor,
    parse_pair_cursor,
)
from mfakit.stores._memory import MemoryBase, keyset_chunk

__all__ = ["SummaryPorts"]


class SummaryPorts(MemoryBase):
    """The in-memory member summaries, read through the per-organization indexes."""

    def _summary(self, m: Membership, prefixes: list[str]) -> MemberSummary:
        """Summarize one member from the per-user records (no scan of other users)."""
        user = m.user_id
        totp = self._active_totp.get(user)
        codes = self._backup.get(user, {}).values()
        creds = sorted(
            (self._webauthn[i] for i in self._user_credentials.get(user, ())),
            key=lambda c: (c.created_at, c.credential_id),
        )
        throttles = (self._throttle.get(p + user) for p in prefixes)
        return MemberSummary(
            membership=m,
            totp_created_at=None if totp is None else totp.created_at,
            totp_confirmed_at=None if totp is None else totp.confirmed_at,
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
        with self._lock:
            self._check_open()
            users = self._org_users.get(org_id, [])
            start = 0 if after is None else bisect_right(users, after)
            chunk = [
                self._summary(self._members[org_id, u], prefixes)
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
        with self._lock:
            self._check_open()
            orgs = self._member_orgs
            # Every indexed organization has members, so at most limit + 1 are visited.
            i = 0 if cursor is None else bisect_left(orgs, cursor[0])
            chunk: list[MemberSummary] = []
            while i < len(orgs) and len(chunk) <= limit:
                org_id = orgs[i]
                users = self._org_users[org_id]
                start = 0
                if cursor is not None and org_id == cursor[0]:
                    start = bisect_right(users, cursor[1])
                wanted = limit + 1 - len(chunk)
                chunk.extend(
                    self._summary(self._members[org_id, u], prefixes)
                    for u in users[start : start + wanted]
                )
                i += 1
        return keyset_chunk(
            chunk, lambda s: pair_cursor(s.membership.org_id, s.membership.user_id), limit
        )
