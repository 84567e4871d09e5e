"""Throttling of second-factor attempts: the one place that counts, locks and resets.

Each factor of each user has its own counter in the store, keyed by
:func:`throttle_key`. An attempt is charged before it is checked, with the
store's atomic ``record_failure``; a success resets the sign-in counters.

Cost: a sign-in reads every sign-in counter of the user with the user's
factors (one ``get_user_factors``, keys from :meth:`Throttle.keys`), charges
one, and a success resets them all with the user's step-up stamp in one
``record_second_factor``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from mfakit.errors import ThrottledError
from mfakit.repositories import AuditEvent, ThrottleState
from mfakit.service._context import ServiceContext

__all__ = ["FACTORS", "Throttle", "throttle_key"]

#: The throttled sign-in factors; each has its own counter per user.
FACTORS = ("totp", "backup_code", "passkey")


def throttle_key(factor: str, user_id: str) -> str:
    """The throttle key of one user's factor."""
    return f"mfa:{factor}:{user_id}"


class Throttle:
    """Charges, counts and resets attempts; depends on the context only."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    def read(self, user_id: str) -> dict[str, ThrottleState]:
        """The state of each sign-in factor's counter (keyed by factor), in one store read."""
        return self.by_factor(user_id, self._context.store.get_throttles(self.keys(user_id)))

    @staticmethod
    def keys(user_id: str) -> list[str]:
        """The keys of the user's sign-in counters (to read them with other facts)."""
        return [throttle_key(factor, user_id) for factor in FACTORS]

    @staticmethod
    def by_factor(user_id: str, states: Mapping[str, ThrottleState]) -> dict[str, ThrottleState]:
        """The sign-in counters read by key (:meth:`keys`), keyed by factor instead."""
        return {factor: states[throttle_key(factor, user_id)] for factor in FACTORS}

    def charge(
        self,
        factor: str,
        user_id: str,
        now: datetime,
        *,
        state: ThrottleState | None = None,
        pending: list[AuditEvent] | None = None,
    ) -> ThrottleState:
        """Count an attempt BEFORE checking it; refuse it when the budget is spent.

        The count is one atomic ``record_failure``: concurrent callers each get a
        distinct number, so however many guesses race, at most
        ``throttle_max_failures`` per window are ever checked. A success resets it.
        This is the one write a sign-in makes before its check, and it must be:
        counting only failures, after the check, would let every guess that
        races before the first failure is stored be checked for free.

        Args:
            factor: The counter's factor.
            user_id: The user.
            now: The attempt's time.
            state: The counter's state as just read (:meth:`read`), which saves
                reading it again; read here when ``None``.
            pending: Audit events the caller has not written yet; a refusal
                writes them (and empties the list) with its ``throttled`` event.

        Returns:
            The counter's state with this attempt counted.

        Raises:
            ThrottledError: the factor is locked or backing off; ``retry_after`` says
                for how long.
        """
        context = self._context
        s = context.settings
        store = context.store
        key = throttle_key(factor, user_id)
        if state is None:
            state = store.get_throttle(key)
        if state.locked_until is not None and now < state.locked_until:
            self._throttled(factor, user_id, now, pending)
            raise ThrottledError(retry_after=(state.locked_until - now).total_seconds())
        state = store.record_failure(key, now=now, window=s.throttle_window)
        first = state.first_failure_at or now
        if state.failures > s.throttle_max_failures:
            until = max(first + s.throttle_window, now + timedelta(seconds=1))
            store.lock_throttle(key, until=until)
            self._throttled(factor, user_id, now, pending)
            raise ThrottledError(retry_after=(until - now).total_seconds())
        if state.failures == s.throttle_max_failures:
            store.lock_throttle(key, until=first + s.throttle_window)
        elif (delay := s.backoff(state.failures)) > timedelta(0):
            store.lock_throttle(key, until=now + delay)
        return state

    def _throttled(
        self, factor: str, user_id: str, now: datetime, pending: list[AuditEvent] | None
    ) -> None:
        context = self._context
        event = context.event(f"{factor}.throttled", at=now, outcome="throttled", user_id=user_id)
        context.audit_all([*(pending or ()), event])
        if pending is not None:
            pending.clear()

    def reset(self, factor: str, user_id: str) -> None:
        """Forget one factor's failures (e.g. a confirmed TOTP enrollment)."""
        self._context.store.reset_throttle(throttle_key(factor, user_id))

    def record_success(self, user_id: str, now: datetime) -> None:
        """A passed second factor: forget every sign-in counter, stamp the user's last check.

        One atomic ``record_second_factor``; the stamp (the step-up anchor) never
        moves backwards.
        """
        self._context.store.record_second_factor(user_id, at=now, reset_keys=self.keys(user_id))

    def reset_sign_in(self, user_id: str) -> None:
        """Forget the failures of every sign-in factor (an unlock), in one write."""
        self._context.store.reset_throttles([throttle_key(f, user_id) for f in FACTORS])

    def failed_attempts(
        self, user_id: str, states: Mapping[str, ThrottleState] | None = None
    ) -> int:
        """The user's current failures over every sign-in factor.

        ``states`` is what :meth:`read` returned, if the caller has it; otherwise
        the counters are read (one store call).
        """
        if states is None:
            states = self.read(user_id)
        return sum(state.failures for state in states.values())
