"""The in-memory parts of the per-user state and of trusted browsers."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from mfakit.errors import DuplicateError
from mfakit.repositories import TrustedBrowser
from mfakit.stores._common import check_keys, check_trusted_browser, utc
from mfakit.stores._memory import MemoryState

__all__ = ["MemoryTrustedBrowsers", "MemoryUserState"]


class MemoryUserState:
    """:class:`~mfakit.repositories.UserStateRepository` in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def record_second_factor(
        self, user_id: str, *, at: datetime, reset_keys: Sequence[str] = ()
    ) -> datetime:
        """See :meth:`mfakit.repositories.UserStateRepository.record_second_factor`."""
        at = utc(at)
        unique = check_keys(reset_keys)
        state = self._state
        with state.lock:
            state.check_open()
            for k in unique:
                state.throttle.pop(k, None)
            stored = state.last_mfa.get(user_id)
            if stored is None or stored < at:
                stored = state.last_mfa[user_id] = at
            return stored

    def record_factor_change(self, user_id: str, *, at: datetime) -> int:
        """See :meth:`mfakit.repositories.UserStateRepository.record_factor_change`."""
        at = utc(at)
        state = self._state
        with state.lock:
            state.check_open()
            stored = state.factors_changed.get(user_id)
            if stored is None or stored < at:
                state.factors_changed[user_id] = at
            ids = list(state.user_trusted.get(user_id, ()))
            for token_id in ids:
                state.drop_trusted(token_id)
            return len(ids)


class MemoryTrustedBrowsers:
    """:class:`~mfakit.repositories.TrustedBrowserRepository` in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def add_trusted_browser(self, browser: TrustedBrowser) -> None:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.add_trusted_browser`."""
        record = check_trusted_browser(browser)
        state = self._state
        with state.lock:
            state.check_open()
            if record.token_id in state.trusted or record.token_hash in state.trusted_hashes:
                raise DuplicateError("the trusted browser already exists; nothing was written")
            state.trusted[record.token_id] = record
            state.index_trusted(record, add=True)

    def get_trusted_browser(self, token_hash: bytes) -> TrustedBrowser | None:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.get_trusted_browser`."""
        state = self._state
        with state.lock:
            state.check_open()
            token_id = state.trusted_hashes.get(bytes(token_hash))
            return None if token_id is None else state.trusted[token_id]

    def touch_trusted_browser(self, token_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.touch_trusted_browser`."""
        now = utc(now)
        state = self._state
        with state.lock:
            state.check_open()
            record = state.trusted.get(token_id)
            if record is None:
                return False
            if record.last_used_at is None or record.last_used_at < now:
                state.trusted[token_id] = dataclasses.replace(record, last_used_at=now)
            return True

    def list_trusted_browsers(self, user_id: str) -> tuple[TrustedBrowser, ...]:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.list_trusted_browsers`."""
        state = self._state
        with state.lock:
            state.check_open()
            found = [state.trusted[i] for i in state.user_trusted.get(user_id, ())]
        return tuple(sorted(found, key=lambda b: (b.created_at, b.token_id)))

    def revoke_trusted_browser(self, user_id: str, token_id: str) -> bool:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.revoke_trusted_browser`."""
        state = self._state
        with state.lock:
            state.check_open()
            record = state.trusted.get(token_id)
            if record is None or record.user_id != user_id:
                return False
            state.drop_trusted(token_id)
            return True

    def revoke_trusted_browsers(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.revoke_trusted_browsers`."""
        state = self._state
        with state.lock:
            state.check_open()
            ids = list(state.user_trusted.get(user_id, ()))
            for token_id in ids:
                state.drop_trusted(token_id)
            return len(ids)

    def purge_expired_trusted_browsers(self, *, now: datetime) -> int:
        """See
        :meth:`mfakit.repositories.TrustedBrowserRepository.purge_expired_trusted_browsers`.
        """
        now = utc(now)
        state = self._state
        with state.lock:
            state.check_open()
            dead = [i for i, b in state.trusted.items() if b.expires_at <= now]
            for token_id in dead:
                state.drop_trusted(token_id)
            return len(dead)
