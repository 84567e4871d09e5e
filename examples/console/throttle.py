"""The password step's throttle: the same back-off as mfakit's second factors and codes.

mfakit throttles what it checks (second factors, e-mailed codes); the password
is the console's, so the console counts its attempts itself, in mfakit's
throttle table through the store's atomic ``record_failure`` and with the
service's settings (``throttle_free_failures``, ``throttle_backoff_*``,
``throttle_max_failures``, ``throttle_window``).

The counter is keyed by what the visitor typed (the e-mail address, or the
organization and username of a member), not by the account: an unknown
address is counted, delayed and refused exactly like a known one, so the
answers tell nothing about which accounts exist. Each attempt is charged
before the password is checked, so that guesses sent in parallel cannot slip
through before the first failure is stored; a right password forgets them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from mfakit.errors import ThrottledError
from mfakit.repositories import MfaStore
from mfakit.service import ServiceSettings


def email_key(email: str) -> str:
    """The counter of a password sign-in with this e-mail address (any case)."""
    return _key("email", email.strip().casefold())


def member_key(org_id: str, username: str) -> str:
    """The counter of a member's password sign-in."""
    return _key("member", f"{len(org_id)}:{org_id}:{username}")


def _key(kind: str, name: str) -> str:
    # Hashed: the throttle table holds no e-mail address or username.
    return f"console:password:{kind}:{hashlib.sha256(name.encode()).hexdigest()[:32]}"


class PasswordThrottle:
    """Charges, locks and resets the password step's counters."""

    def __init__(self, store: MfaStore, settings: ServiceSettings) -> None:
        self._store = store
        self._settings = settings

    def charge(self, key: str) -> None:
        """Count an attempt before its password is checked; refuse it while backing off.

        Raises:
            ThrottledError: too many recent failures; ``retry_after`` says for how long.
        """
        s = self._settings
        now = datetime.now(UTC)
        state = self._store.get_throttle(key)
        if state.locked_until is not None and now < state.locked_until:
            raise ThrottledError(retry_after=(state.locked_until - now).total_seconds())
        state = self._store.record_failure(key, now=now, window=s.throttle_window)
        first = state.first_failure_at or now
        if state.failures > s.throttle_max_failures:
            until = max(first + s.throttle_window, now + timedelta(seconds=1))
            self._store.lock_throttle(key, until=until)
            raise ThrottledError(retry_after=(until - now).total_seconds())
        if state.failures == s.throttle_max_failures:
            self._store.lock_throttle(key, until=first + s.throttle_window)
        elif (delay := s.backoff(state.failures)) > timedelta(0):
            self._store.lock_throttle(key, until=now + delay)

    def reset(self, key: str) -> None:
        """A right password: forget the failures."""
        self._store.reset_throttle(key)
