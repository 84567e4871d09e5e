"""Delivering mfakit's outbox: a small background worker, as a real application runs one.

mfakit writes every notification to its store's outbox in the same transaction
as the change that causes it. Most messages go out right after the commit
(``ServiceSettings.deliver_after_commit``); sign-in codes never do, so that a
"Send code" request takes the same time whether or not the username exists,
and a message whose delivery failed is retried later. Something must
therefore call :meth:`~mfakit.service.MfaService.deliver_notifications`
regularly: in production a worker process or a cron job (on as many servers
as you like); here, a daemon thread of the console, and the outbox page
itself before it lists the mails.
"""

from __future__ import annotations

import threading

from mfakit.errors import MfaError
from mfakit.service import MfaService

#: Delivery runs per wake-up at most (each takes up to ``limit`` messages).
MAX_ROUNDS = 10


def deliver_pending(service: MfaService, *, limit: int = 100) -> int:
    """Deliver what is due now, a bounded number of batches; return how many were claimed."""
    claimed = 0
    for _ in range(MAX_ROUNDS):
        report = service.deliver_notifications(limit=limit)
        claimed += report.claimed
        if report.claimed < limit:
            break
    return claimed


class BackgroundDelivery:
    """A daemon thread that delivers the outbox every ``interval`` seconds until stopped."""

    def __init__(self, service: MfaService, *, interval: float = 1.0) -> None:
        self._service = service
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mfa-delivery", daemon=True)

    def start(self) -> None:
        """Start delivering in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current run."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                deliver_pending(self._service)
            except MfaError:
                continue  # the store is unavailable: the messages wait in the outbox
