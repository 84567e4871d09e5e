"""Shared state of the in-memory store: one lock, plain dicts."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
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

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")

    def close(self) -> None:
        """Close the store; further calls raise :class:`StoreError`."""
        with self._lock:
            self._closed = True
