"""The context of the in-memory store: the records, their indexes, one lock, ``atomic()``.

Every in-memory part receives one :class:`MemoryState` and works on its
dicts under its lock. The state owns what all parts share: the records, the
indexes that keep a call's cost proportional to what it asks for, the
snapshot and rollback of :meth:`MemoryState.atomic`, and closing.
"""

from __future__ import annotations

import copy
import itertools
import threading
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
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
    TrustedBrowser,
    WebAuthnCredential,
)
from mfakit.stores._common import check_limit

__all__ = ["MemoryState", "keyset_chunk", "page"]

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


class MemoryState:
    """The dicts every in-memory part works on, guarded by one re-entrant lock.

    Parts read and write the record dicts directly, holding :attr:`lock`, and
    always through this object: :meth:`atomic` restores a snapshot by
    replacing the dicts, so a part never keeps a reference to one.

    Besides the records, it keeps indexes so that a call costs what it asks
    for, not the size of the store: each organization's user ids sorted (a
    page of members is a bisect and a slice), the organizations that have
    members sorted, each user's organizations, usernames, active owners,
    each user's credential ids, each active TOTP device's owner, and trusted
    browsers by token hash and by user, users by WebAuthn user handle.
    Indexes change only through
    :meth:`put_membership`, :meth:`remove_membership`,
    :meth:`index_credential`, :meth:`put_totp_devices`, :meth:`index_trusted`,
    :meth:`drop_trusted` and :meth:`put_user_handle`, and are rebuilt from the records when an
    ``atomic()`` block rolls back.
    """

    # The record containers an atomic() block snapshots (backup codes, a dict of
    # dicts, are copied one level deeper).
    _SNAPSHOT = (
        "pending_totp",
        "active_totp",
        "webauthn",
        "challenges",
        "login_codes",
        "throttle",
        "last_mfa",
        "factors_changed",
        "trusted",
        "user_handles",
        "orgs",
        "members",
        "invitations",
        "audit",
        "audit_ids",
        "outbox",
        "outbox_undelivered",
    )

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._closed = False
        self.pending_totp: dict[str, TotpCredential] = {}
        # Each user's active TOTP devices (immutable tuples, so a shallow copy snapshots them).
        self.active_totp: dict[str, tuple[TotpCredential, ...]] = {}
        self.backup: dict[str, dict[str, BackupCode]] = {}
        self.webauthn: dict[bytes, WebAuthnCredential] = {}
        self.challenges: dict[str, Challenge] = {}
        self.login_codes: dict[str, LoginCode] = {}
        self.throttle: dict[str, ThrottleState] = {}
        # The per-user state (UserStateRepository): each user's last second-factor
        # check, and when each user's second factors last changed.
        self.last_mfa: dict[str, datetime] = {}
        self.factors_changed: dict[str, datetime] = {}
        # Trusted browsers by token id (indexed by hash and by user below).
        self.trusted: dict[str, TrustedBrowser] = {}
        # Each user's WebAuthn user handle (indexed by handle below).
        self.user_handles: dict[str, bytes] = {}
        self.orgs: dict[str, Organization] = {}
        self.members: dict[tuple[str, str], Membership] = {}
        self.invitations: dict[str, Invitation] = {}
        self.audit: list[tuple[int, AuditEvent]] = []
        self.audit_ids: set[str] = set()
        self.outbox: dict[str, OutboxMessage] = {}
        # Ids of the messages not delivered yet (claims scan only these).
        self.outbox_undelivered: set[str] = set()
        self.seq = itertools.count(1)
        self._depth = 0
        self._reindex()

    # -- indexes ----------------------------------------------------------------------

    def _reindex(self) -> None:
        """Rebuild every index from the records."""
        self.org_users: dict[str, list[str]] = {}
        self.member_orgs: list[str] = []
        self.user_orgs: dict[str, set[str]] = {}
        self.usernames: dict[tuple[str, str], str] = {}
        self.active_owners: dict[str, set[str]] = {}
        self.user_credentials: dict[str, set[bytes]] = {}
        self.totp_owners: dict[str, str] = {
            d.totp_id: user for user, devices in self.active_totp.items() for d in devices
        }
        self.trusted_hashes: dict[bytes, str] = {}
        self.handle_users: dict[bytes, str] = {h: u for u, h in self.user_handles.items()}
        self.user_trusted: dict[str, set[str]] = {}
        for browser in self.trusted.values():
            self.index_trusted(browser, add=True)
        members = self.members
        self.members = {}
        for record in members.values():
            self.put_membership(record)
        for cred in self.webauthn.values():
            self.index_credential(cred.user_id, cred.credential_id, add=True)

    def put_membership(self, record: Membership) -> None:
        """Store a membership (new or updated) and update the indexes."""
        org_id, user_id = record.org_id, record.user_id
        old = self.members.get((org_id, user_id))
        self.members[org_id, user_id] = record
        if old is None:
            users = self.org_users.get(org_id)
            if users is None:
                users = self.org_users[org_id] = []
                insort(self.member_orgs, org_id)
            insort(users, user_id)
            self.user_orgs.setdefault(user_id, set()).add(org_id)
        elif old.username is not None:
            del self.usernames[org_id, old.username]
        if record.username is not None:
            self.usernames[org_id, record.username] = user_id
        owners = self.active_owners.setdefault(org_id, set())
        if record.kind == "owner" and record.status == "active":
            owners.add(user_id)
        else:
            owners.discard(user_id)

    def remove_membership(self, org_id: str, user_id: str) -> bool:
        """Delete a membership and update the indexes; True if it existed."""
        old = self.members.pop((org_id, user_id), None)
        if old is None:
            return False
        users = self.org_users[org_id]
        del users[bisect_left(users, user_id)]
        if not users:
            del self.org_users[org_id]
            del self.member_orgs[bisect_left(self.member_orgs, org_id)]
        orgs = self.user_orgs[user_id]
        orgs.discard(org_id)
        if not orgs:
            del self.user_orgs[user_id]
        if old.username is not None:
            del self.usernames[org_id, old.username]
        self.active_owners[org_id].discard(user_id)
        return True

    def index_credential(self, user_id: str, credential_id: bytes, *, add: bool) -> None:
        """Add or remove a credential id in its user's index."""
        if add:
            self.user_credentials.setdefault(user_id, set()).add(credential_id)
            return
        ids = self.user_credentials[user_id]
        ids.discard(credential_id)
        if not ids:
            del self.user_credentials[user_id]

    def put_totp_devices(self, user_id: str, devices: tuple[TotpCredential, ...]) -> None:
        """Replace the user's active TOTP devices and update the device index."""
        for old in self.active_totp.pop(user_id, ()):
            del self.totp_owners[old.totp_id]
        if devices:
            self.active_totp[user_id] = devices
            for d in devices:
                self.totp_owners[d.totp_id] = user_id

    def index_trusted(self, browser: TrustedBrowser, *, add: bool) -> None:
        """Add or remove a trusted browser in the hash and per-user indexes."""
        if add:
            self.trusted_hashes[browser.token_hash] = browser.token_id
            self.user_trusted.setdefault(browser.user_id, set()).add(browser.token_id)
            return
        del self.trusted_hashes[browser.token_hash]
        ids = self.user_trusted[browser.user_id]
        ids.discard(browser.token_id)
        if not ids:
            del self.user_trusted[browser.user_id]

    def drop_trusted(self, token_id: str) -> None:
        """Delete one trusted browser and its index entries."""
        self.index_trusted(self.trusted.pop(token_id), add=False)

    def put_user_handle(self, user_id: str, handle: bytes) -> None:
        """Store a user's first WebAuthn user handle and index it."""
        self.user_handles[user_id] = handle
        self.handle_users[handle] = user_id

    def user_webauthn(self, user_id: str) -> list[WebAuthnCredential]:
        """The user's WebAuthn credentials, through the index (no scan of other users)."""
        return [self.webauthn[i] for i in self.user_credentials.get(user_id, ())]

    # -- transactions -----------------------------------------------------------------

    def check_open(self) -> None:
        """Refuse a call on a closed store.

        Raises:
            StoreError: the store is closed.
        """
        if self._closed:
            raise StoreError("the store is closed")

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Run the calls made in the block as one transaction.

        The store's lock is held for the whole block (other threads wait) and
        a snapshot taken at the start is restored if the block raises. See
        :meth:`mfakit.repositories.MfaStore.atomic`.
        """
        with self.lock:
            self.check_open()
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            # Records are immutable: copying the containers is a full snapshot.
            saved = {name: copy.copy(getattr(self, name)) for name in self._SNAPSHOT}
            backup = {user: dict(codes) for user, codes in self.backup.items()}
            self._depth = 1
            try:
                yield
            except BaseException:
                for name, value in saved.items():
                    setattr(self, name, value)
                self.backup = backup
                self._reindex()
                raise
            finally:
                self._depth = 0

    def close(self) -> None:
        """Close the store; further calls raise :class:`StoreError`."""
        with self.lock:
            self._closed = True
