"""Shared state of the in-memory store: one lock, plain dicts."""

from __future__ import annotations

import copy
import itertools
import threading
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
    Page,
    ThrottleState,
    TotpCredential,
    WebAuthnCredential,
)
from mfakit.stores._common import check_limit

__all__ = ["MemoryBase", "page"]

T = TypeVar("T")


def page(items: Iterable[T], key: Callable[[T], str], after: str | None, limit: int) -> Page[T]:
    """One keyset page of ``items`` ordered by ``key``, after the cursor ``after``."""
    check_limit(limit)
    ordered = sorted((i for i in items if after is None or key(i) > after), key=key)
    chunk = tuple(ordered[:limit])
    more = len(ordered) > limit
    return Page(items=chunk, next_cursor=key(chunk[-1]) if more else None)


class MemoryBase:
    """The dicts every in-memory port works on, guarded by one re-entrant lock."""

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
        self._seq = itertools.count(1)
        self._depth = 0

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
                raise
            finally:
                self._depth = 0

    def close(self) -> None:
        """Close the store; further calls raise :class:`StoreError`."""
        with self._lock:
            self._closed = True
