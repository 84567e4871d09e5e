"""Writing messages to the store's transactional outbox, and delivering them.

An action writes its messages with :meth:`Outbox.enqueue` inside its store
transaction, so they commit or roll back with the change. Delivery is a
separate step that any number of servers can run at once
(:meth:`Outbox.deliver`): claim due messages for a lease (the store makes sure
two deliverers never hold the same message), decode each, hand it to the
host's notifier, and mark it delivered, or failed with exponential back-off,
or, after the last attempt, given up. Delivery is at least once: a deliverer
that dies or overruns its lease mid-delivery leaves the message to be claimed
again, so the notifier may see a ``message_id`` twice and should drop the
second.

Nothing here is written to a log; errors are recorded by class name only,
because a payload holds codes and a host's exception text may hold addresses.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from mfakit.errors import ConfigurationError, MfaError, StoreError
from mfakit.repositories import MfaStore, OutboxMessage
from mfakit.secretbox import KeyRing
from mfakit.service._codec import (
    LOGIN_CODE_KIND,
    decode_message,
    encode_message,
    encode_unknown_login_code,
)
from mfakit.service._notify import Message, Notifier
from mfakit.service._settings import ServiceSettings

__all__ = ["DeliveryReport", "Outbox"]

#: The most messages one claim may take (the store's limit).
MAX_CLAIM: Final = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    """What one delivery run did (:meth:`MfaService.deliver_notifications`).

    Attributes:
        claimed: Messages claimed from the outbox.
        delivered: Handed to the notifier without an exception, and marked delivered.
        failed: Failed (the notifier raised, or the row could not be decoded)
            and scheduled for another attempt after a back-off.
        given_up: Failed on their last attempt: never retried (each audited
            as ``notification.failed`` with ``gave_up``).
        dropped: Placeholders for login codes asked for unknown usernames:
            marked delivered without calling the notifier.
    """

    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    given_up: int = 0
    dropped: int = 0


def _new_id() -> str:
    return secrets.token_hex(16)


class Outbox:
    """The service's side of the transactional outbox: enqueue, claim, deliver, mark.

    Args:
        store: The store (its :class:`~mfakit.repositories.OutboxRepository` part).
        keys: Seals login codes in payloads.
        notifier: The host's notifier.
        now: Reads the clock (aware).
        settings: Lease, back-off and attempts.
        audit: Appends an audit event (the context's ``audit``).
    """

    __slots__ = ("_audit", "_keys", "_notifier", "_now", "_settings", "_store")

    def __init__(
        self,
        *,
        store: MfaStore,
        keys: KeyRing,
        notifier: Notifier,
        now: Callable[[], datetime],
        settings: ServiceSettings,
        audit: Callable[..., None],
    ) -> None:
        self._store = store
        self._keys = keys
        self._notifier = notifier
        self._now = now
        self._settings = settings
        self._audit = audit

    # -- writing --------------------------------------------------------------------------

    def _put(self, message_id: str, kind: str, payload: str, at: datetime) -> None:
        self._store.enqueue_message(
            OutboxMessage(
                message_id=message_id,
                kind=kind,
                payload=payload,
                created_at=at,
                next_attempt_at=at,
            )
        )

    def enqueue(self, message: Message, *, at: datetime) -> str:
        """Write ``message`` under a new random id (call it inside the change's transaction).

        Returns:
            The message's kind.
        """
        message = replace(message, message_id=_new_id())
        kind, payload = encode_message(message, keys=self._keys)
        self._put(message.message_id, kind, payload, at)
        return kind

    def enqueue_unknown_login_code(
        self, *, org_id: str, code: str, expires_at: datetime, at: datetime
    ) -> str:
        """Write the placeholder of a login code asked for an unknown username.

        The same store call, and the same sealing work, as :meth:`enqueue` of a
        real :class:`~mfakit.service.LoginCode`; the deliverer drops it unsent.
        """
        message_id = _new_id()
        kind, payload = encode_unknown_login_code(
            message_id=message_id, org_id=org_id, code=code, expires_at=expires_at, keys=self._keys
        )
        self._put(message_id, kind, payload, at)
        return kind

    # -- delivering -----------------------------------------------------------------------

    def deliver(
        self,
        *,
        limit: int = 100,
        lease: timedelta | None = None,
        kinds: Collection[str] | None = None,
    ) -> DeliveryReport:
        """Claim up to ``limit`` due messages and deliver them; see ``deliver_notifications``.

        Raises:
            ConfigurationError: ``limit`` is not 1 to 1000 or ``lease`` is not positive.
            StoreError: the claim failed (nothing was claimed).
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_CLAIM:
            raise ConfigurationError(f"limit must be an int from 1 to {MAX_CLAIM}")
        lease = self._settings.delivery_lease if lease is None else lease
        if not isinstance(lease, timedelta) or lease <= timedelta(0):
            raise ConfigurationError("lease must be a positive timedelta")
        claimed = self._store.claim_messages(now=self._now(), limit=limit, lease=lease, kinds=kinds)
        return self._deliver_all(claimed)

    def deliver_committed(self, kinds: Sequence[str]) -> None:
        """Right after a commit: deliver as many due messages as it wrote, of its kinds.

        Login codes are left to :meth:`deliver` (a worker), so that asking for
        a code takes the same time whatever the notifier does. A store error
        here leaves the messages in the outbox: the action has committed.
        """
        wanted = [k for k in kinds if k != LOGIN_CODE_KIND]
        remaining = len(wanted)
        try:
            while remaining > 0:
                batch = min(remaining, MAX_CLAIM)
                claimed = self._store.claim_messages(
                    now=self._now(),
                    limit=batch,
                    lease=self._settings.delivery_lease,
                    kinds=frozenset(wanted),
                )
                self._deliver_all(claimed)
                if len(claimed) < batch:
                    return
                remaining -= batch
        except StoreError:
            return  # the messages wait in the outbox for deliver_notifications()

    def _deliver_all(self, claimed: Sequence[OutboxMessage]) -> DeliveryReport:
        counts = {"delivered": 0, "failed": 0, "given_up": 0, "dropped": 0}
        for row in claimed:
            counts[self._deliver_one(row)] += 1
        return DeliveryReport(claimed=len(claimed), **counts)

    def _deliver_one(self, row: OutboxMessage) -> str:
        message: Message | None = None
        try:
            message = decode_message(
                row.kind, row.payload, message_id=row.message_id, keys=self._keys
            )
            if message is None:
                self._store.mark_message_delivered(row.message_id, now=self._now())
                return "dropped"
            self._notifier.send(message)
        except Exception as exc:  # noqa: BLE001 - any notifier failure is one failed attempt
            return self._failed(row, message, exc)
        self._store.mark_message_delivered(row.message_id, now=self._now())
        return "delivered"

    def _failed(self, row: OutboxMessage, message: Message | None, exc: Exception) -> str:
        if isinstance(exc, StoreError):
            raise exc  # the store is unwell: stop; the claim's lease returns the message
        now = self._now()
        settings = self._settings
        gave_up = row.attempts >= settings.delivery_max_attempts
        retry_at = None if gave_up else now + settings.delivery_backoff(row.attempts)
        error = type(exc).__name__
        self._store.mark_message_failed(
            row.message_id, now=now, error=error, next_attempt_at=retry_at
        )
        details: dict[str, Any] = {
            "message_id": row.message_id,
            "kind": row.kind,
            "error": error,
            "attempt": row.attempts,
            "gave_up": gave_up,
        }
        if isinstance(exc, MfaError):
            details["code"] = exc.code
        self._audit(
            "notification.failed",
            at=now,
            outcome="failure",
            user_id=None if message is None else message.user_id,
            details=details,
        )
        return "given_up" if gave_up else "failed"
