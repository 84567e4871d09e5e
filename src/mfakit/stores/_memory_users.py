"""The in-memory part of the per-user state: the last second-factor check."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mfakit.stores._common import check_keys, utc
from mfakit.stores._memory import MemoryState

__all__ = ["MemoryUserState"]


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
