"""Shared state of the in-memory store: one lock, plain dicts and their indexes."""

from __future__ import annotations

import copy
import itertools
import threading
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from mfakit.errors import StoreError
from mfakit.repositories import (
    AuditEvent,
    BackupCode,
    Challenge,
    Invitation,
    LoginCode,
    Membership,
    Organization,
    OutboxMessage,
    Page,
    ThrottleState,
    TotpCredential,
    WebAuthnCredential,
)
from mfakit.stores._common import check_limit

__all__ = ["MemoryBase", "keyset_chunk", "page"]

T = TypeVar("T")


def page(items: Iterable[T], key: Callable[[T], str], after: str | None, limit: int) -> Page[T]:
    """One keyset page of ``items`` ordered by ``key``, after the cursor ``after``."""
    check_limit(limit)
    ordered = sorted((i for i in items if after is None or key(i) > after), key=key)
    chunk = tuple(ordered[:limit])
    more = len(ordered) > limit
    return Page(items=chunk, next_cursor=key(chunk[-1]) if more else None)


def keyset_chunk(chunk: list[T], key: Callable[[T], str], limit: int) -> Page[T]:
    """One keyset page from ``chunk``, the next ``limit + 1`` items in the listing's order.

    The extra item only tells that there is a next page.
    """
    items = tuple(chunk[:limit])
    return Page(items=items, next_cursor=key(items[-1]) if len(chunk) > limit else None)


class MemoryBase:
    """The dicts every in-memory port works on, guarded by one re-entrant lock.

    Besides the records, it keeps indexes so that a call costs what it asks
    for, not the size of the store: each organization's user ids sorted (a
    page of members is a bisect and a slice), the organizations that have
    members sorted, each user's organizations, usernames, active owners, and
    each user's credential ids. Indexes change only through
    :meth:`_put_membership`, :meth:`_remove_membership` and
    :meth:`_index_credential`, and are rebuilt from the records when an
    ``atomic()`` block rolls back.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False
        self._pending_totp: dict[str, TotpCredential] = {}
        self._active_totp: dict[str, TotpCredential] = {}
        self._backup: dict[str, dict[str, BackupCode]] = {}
        self._webauthn: dict[bytes, WebAuthnCredential] = {}
        self._challenges: dict[str, Challenge] = {}
        self._login_codes: dict[str, LoginCode] = {}
        self._throttle: dict[str, ThrottleState] = {}
        self._orgs: dict[str, Organization] = {}
        self._members: dict[tuple[str, str], Membership] = {}
        self._invitations: dict[str, Invitation] = {}
        self._audit: list[tuple[int, AuditEvent]] = []
        self._audit_ids: set[str] = set()
        self._outbox: dict[str, OutboxMessage] = {}
        # Ids of the messages not delivered yet (claims scan only these).
        self._outbox_undelivered: set[str] = set()
        self._seq = itertools.count(1)
        self._depth = 0
        self._reindex()

    # -- indexes ----------------------------------------------------------------------

    def _reindex(self) -> None:
        """Rebuild every index from the records."""
        self._org_users: dict[str, list[str]] = {}
        self._member_orgs: list[str] = []
        self._user_orgs: dict[str, set[str]] = {}
        self._usernames: dict[tuple[str, str], str] = {}
        self._active_owners: dict[str, set[str]] = {}
        self._user_credentials: dict[str, set[bytes]] = {}
        members = self._members
        self._members = {}
        for record in members.values():
            self._put_membership(record)
        for cred in self._webauthn.values():
            self._index_credential(cred.user_id, cred.credential_id, add=True)

    def _put_membership(self, record: Membership) -> None:
        """Store a membership (new or updated) and update the indexes."""
        org_id, user_id = record.org_id, record.user_id
        old = self._members.get((org_id, user_id))
        self._members[org_id, user_id] = record
        if old is None:
            users = self._org_users.get(org_id)
            if users is None:
                users = self._org_users[org_id] = []
                insort(self._member_orgs, org_id)
            insort(users, user_id)
            self._user_orgs.setdefault(user_id, set()).add(org_id)
        elif old.username is not None:
            del self._usernames[org_id, old.username]
        if record.username is not None:
            self._usernames[org_id, record.username] = user_id
        owners = self._active_owners.setdefault(org_id, set())
        if record.kind == "owner" and record.status == "active":
            owners.add(user_id)
        else:
            owners.discard(user_id)

    def _remove_membership(self, org_id: str, user_id: str) -> bool:
        """Delete a membership and update the indexes; True if it existed."""
        old = self._members.pop((org_id, user_id), None)
        if old is None:
            return False
        users = self._org_users[org_id]
        del users[bisect_left(users, user_id)]
        if not users:
            del self._org_users[org_id]
            del self._member_orgs[bisect_left(self._member_orgs, org_id)]
        orgs = self._user_orgs[user_id]
        orgs.discard(org_id)
        if not orgs:
            del self._user_orgs[user_id]
        if old.username is not None:
            del self._usernames[org_id, old.username]
        self._active_owners[org_id].discard(user_id)
        return True

    def _index_credential(self, user_id: str, credential_id: bytes, *, add: bool) -> None:
        """Add or remove a credential id in its user's index."""
        if add:
            self._user_credentials.setdefault(user_id, set()).add(credential_id)
            return
        ids = self._user_credentials[user_id]
        ids.discard(credential_id)
        if not ids:
            del self._user_credentials[user_id]

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")

    _STATE = (
        "_pending_totp",
        "_active_totp",
        "_webauthn",
        "_challenges",
        "_login_codes",
        "_throttle",
        "_orgs",
        "_members",
        "_invitations",
        "_audit",
        "_audit_ids",
        "_outbox",
        "_outbox_undelivered",
    )

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Run the calls made in the block as one transaction.

        The store's lock is held for the whole block (other threads wait) and
        a snapshot taken at the start is restored if the block raises. See
        :meth:`mfakit.repositories.MfaStore.atomic`.
        """
        with self._lock:
            self._check_open()
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            # Records are immutable: copying the containers is a full snapshot.
            saved = {name: copy.copy(getattr(self, name)) for name in self._STATE}
            backup = {user: dict(codes) for user, codes in self._backup.items()}
            self._depth = 1
            try:
                yield
            except BaseException:
                for name, value in saved.items():
                    setattr(self, name, value)
                self._backup = backup
                self._reindex()
                raise
            finally:
                self._depth = 0

    def close(self) -> None:
        """Close the store; further calls raise :class:`StoreError`."""
        with self._lock:
            self._closed = True
