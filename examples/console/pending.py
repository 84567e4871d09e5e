"""Pending TOTP enrollments kept in the server's memory until confirmed.

The QR code and key of an enrollment are shown once. When the user mistypes the
confirming code, the page is shown again, so the console keeps them in memory
(never in the cookie, which is signed but readable) until the enrollment is
confirmed, replaced or expires. A restart forgets them: the user starts again.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from mfakit.service import TotpEnrollment


class PendingEnrollments:
    """Thread-safe map of user id to their TOTP enrollment being set up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, TotpEnrollment] = {}

    def put(self, user_id: str, enrollment: TotpEnrollment) -> None:
        """Remember the user's new enrollment (replacing an older one)."""
        with self._lock:
            self._purge()
            self._items[user_id] = enrollment

    def get(self, user_id: str) -> TotpEnrollment | None:
        """The user's enrollment, unless it expired."""
        with self._lock:
            self._purge()
            return self._items.get(user_id)

    def drop(self, user_id: str) -> None:
        """Forget the user's enrollment."""
        with self._lock:
            self._items.pop(user_id, None)

    def _purge(self) -> None:
        now = datetime.now(UTC)
        for user_id in [u for u, e in self._items.items() if e.expires_at <= now]:
            del self._items[user_id]
