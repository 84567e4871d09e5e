"""The one context every flow shares: wiring, time, audit, transactions, notifications.

A :class:`ServiceContext` is built once by :class:`~mfakit.service.MfaService`
and handed to each flow object. It holds what the host application passed in
(store, key ring, notifier, clock, relying party, issuer, login-code key,
settings) and the few helpers that every flow uses the same way: reading the
clock, writing an audit event, opening a store transaction, and sending a
message once that transaction has committed.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from mfakit.clock import Clock, SystemClock, ensure_aware
from mfakit.errors import ConfigurationError
from mfakit.login_codes import MIN_KEY_LENGTH
from mfakit.policy import Decision, EffectKind, NotificationKind
from mfakit.repositories import AuditEvent, MfaStore
from mfakit.secretbox import KeyRing
from mfakit.service._notify import (
    AccountLocked,
    AccountUnlocked,
    EnforcementStopped,
    GracePeriodStarted,
    MemberRemoved,
    Message,
    MfaReminder,
    Notifier,
)
from mfakit.service._settings import RelyingParty, ServiceSettings

__all__ = ["ServiceContext"]


class ServiceContext:
    """What the host application wired in, and the helpers every flow shares.

    The attributes are read-only by convention: flows read them, nothing
    replaces them after construction.

    Raises:
        ConfigurationError: an argument is invalid (checked here, once).
    """

    __slots__ = (
        "clock",
        "issuer",
        "keys",
        "local",
        "login_code_key",
        "notifier",
        "rp",
        "settings",
        "store",
    )

    def __init__(
        self,
        *,
        store: MfaStore,
        keys: KeyRing,
        notifier: Notifier,
        clock: Clock | None,
        relying_party: RelyingParty,
        issuer: str,
        login_code_key: bytes,
        settings: ServiceSettings | None,
    ) -> None:
        if not isinstance(store, MfaStore):
            raise ConfigurationError("store must implement mfakit.repositories.MfaStore")
        if not isinstance(keys, KeyRing):
            raise ConfigurationError("keys must be a mfakit.secretbox.KeyRing")
        if not isinstance(notifier, Notifier):
            raise ConfigurationError("notifier must have a send(message) method")
        if not isinstance(relying_party, RelyingParty):
            raise ConfigurationError("relying_party must be a RelyingParty")
        if not isinstance(issuer, str) or not issuer.strip() or ":" in issuer:
            raise ConfigurationError("issuer must be a non-empty name without ':'")
        if not isinstance(login_code_key, bytes) or len(login_code_key) < MIN_KEY_LENGTH:
            raise ConfigurationError(f"login_code_key must be at least {MIN_KEY_LENGTH} bytes")
        settings = ServiceSettings() if settings is None else settings
        if not isinstance(settings, ServiceSettings):
            raise ConfigurationError("settings must be a ServiceSettings")
        clock = SystemClock() if clock is None else clock
        if not callable(getattr(clock, "now", None)):
            raise ConfigurationError("clock must have a now() method")
        self.store = store
        self.keys = keys
        self.notifier = notifier
        self.clock = clock
        self.rp = relying_party
        self.issuer = issuer
        self.login_code_key = login_code_key
        self.settings = settings
        # Messages raised inside a transaction wait for its commit (per thread).
        self.local = threading.local()

    def now(self) -> datetime:
        """The current time, always timezone-aware."""
        return ensure_aware(self.clock.now())

    # -- audit ------------------------------------------------------------------------

    def audit(
        self,
        action: str,
        *,
        at: datetime,
        outcome: str = "success",
        actor_id: str | None = None,
        user_id: str | None = None,
        org_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one audit event to the store."""
        self.store.append_audit_event(
            AuditEvent(
                event_id=secrets.token_hex(16),
                at=at,
                action=action,
                outcome=outcome,
                actor_id=actor_id,
                user_id=user_id,
                org_id=org_id,
                details=dict(details or {}),
            )
        )

    def audit_decision(self, decision: Decision, org_id: str) -> None:
        """Append a policy decision's audit events as ``policy.<action>``."""
        for event in decision.audit:
            subject = None if event.subject == org_id else event.subject
            self.audit(
                "policy." + event.action.value,
                at=event.at,
                outcome=event.outcome.value,
                actor_id=event.actor,
                user_id=subject,
                org_id=org_id,
                details={
                    "reasons": [r.value for r in event.reasons],
                    "effects": [e.value for e in event.effects],
                },
            )

    # -- transactions and notifications ------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One store transaction; messages sent inside go out only after it commits."""
        if getattr(self.local, "pending", None) is not None:
            with self.store.atomic():
                yield
            return
        pending: list[tuple[Message, datetime]] = []
        self.local.pending = pending
        try:
            with self.store.atomic():
                yield
        finally:
            self.local.pending = None
        for message, at in pending:
            self._send_now(message, at=at)

    def send(self, message: Message, *, at: datetime) -> None:
        """Send a message now, or when the enclosing transaction commits."""
        pending: list[tuple[Message, datetime]] | None = getattr(self.local, "pending", None)
        if pending is not None:
            pending.append((message, at))
        else:
            self._send_now(message, at=at)

    def _send_now(self, message: Message, *, at: datetime) -> None:
        try:
            self.notifier.send(message)
        except Exception as exc:  # noqa: BLE001 - the host's notifier must not undo a stored action
            self.audit(
                "notification.failed",
                at=at,
                outcome="failure",
                user_id=message.user_id,
                details={"message": type(message).__name__, "error": type(exc).__name__},
            )

    def deliver(self, decision: Decision, org_id: str, *, at: datetime) -> None:
        """Send the decision's notifications as typed messages."""
        lock_reasons = {
            e.subject: e.lock_reason.value
            for e in decision.effects
            if e.kind is EffectKind.LOCK and e.lock_reason is not None
        }
        for note in decision.notifications:
            kind, to = note.kind, note.recipient
            message: Message | None = None
            if kind is NotificationKind.REMINDER:
                message = MfaReminder(
                    user_id=to, org_id=org_id, deadline=note.deadline, actor_id=note.actor
                )
            elif kind is NotificationKind.GRACE_STARTED:
                message = GracePeriodStarted(user_id=to, org_id=org_id, deadline=note.deadline)
            elif kind is NotificationKind.ENFORCEMENT_STOPPED:
                message = EnforcementStopped(user_id=to, org_id=org_id, actor_id=note.actor)
            elif kind is NotificationKind.LOCKED:
                reason = lock_reasons.get(note.subject, "admin")
                message = AccountLocked(user_id=to, org_id=org_id, reason=reason)
            elif kind is NotificationKind.UNLOCKED:
                message = AccountUnlocked(user_id=to, org_id=org_id, deadline=decision.deadline)
            elif kind is NotificationKind.REMOVED:
                message = MemberRemoved(user_id=to, org_id=org_id)
            # METHOD_ADDED / METHOD_REMOVED: the flow sends one notice, not one per org.
            if message is not None:
                self.send(message, at=at)
