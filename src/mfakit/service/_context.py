"""The one context every flow shares: wiring, time, audit, transactions, notifications.

A :class:`ServiceContext` is built once by :class:`~mfakit.service.MfaService`
and handed to each flow object. It holds what the host application passed in
(store, key ring, notifier, clock, relying party, issuer, login-code keys,
settings, metrics) and the few helpers that every flow uses the same way:
reading the clock, writing an audit event, opening a store transaction, and
sending a message.

Writing audit events is one path (:meth:`ServiceContext.audit_all`): the
events are appended to the store, then logged and counted by the
:class:`~mfakit.service._observe.SecurityLog` -- at once outside a
transaction, after the outermost commit inside one (a rolled-back event is
neither in the trail nor in the log). The store the flows see is wrapped once
here, by :func:`~mfakit.service._observe.timed_store`, to time its calls.

Sending writes the message to the store's transactional outbox inside the
current transaction (opening one if there is none), so the message commits
or rolls back with the change that causes it. When the outermost transaction
has committed and ``ServiceSettings.deliver_after_commit`` is on, the context
delivers that many due messages of the kinds it wrote through the same outbox
path (claim, send, mark); login codes are always left to
:meth:`~mfakit.service.MfaService.deliver_notifications`. A crash after the
commit loses nothing: the message waits in the outbox.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from mfakit.clock import Clock, SystemClock, ensure_aware
from mfakit.errors import ConfigurationError
from mfakit.observability import NO_METRICS, Metrics
from mfakit.policy import Decision, EffectKind, NotificationKind
from mfakit.repositories import AuditEvent, Challenge, MfaStore
from mfakit.secretbox import KeyRing
from mfakit.service._login_code_keys import LoginCodeKeys
from mfakit.service._notify import (
    AccountLocked,
    AccountUnlocked,
    EnforcementStopped,
    GracePeriodStarted,
    MemberRemoved,
    Message,
    MfaReminder,
    MfaReset,
    Notifier,
)
from mfakit.service._observe import SecurityLog, active_metrics, timed_store
from mfakit.service._outbox import Outbox
from mfakit.service._settings import RelyingParty, ServiceSettings

__all__ = ["ServiceContext"]


class ServiceContext:
    """What the host application wired in, and the helpers every flow shares.

    The attributes are read-only by convention: flows read them, nothing
    replaces them after construction. ``store`` is the host's store behind
    the timing wrapper (the host's own is ``backend``); ``metrics`` is
    ``None`` when the host gave none.

    Raises:
        ConfigurationError: an argument is invalid (checked here, once).
    """

    __slots__ = (
        "backend",
        "clock",
        "issuer",
        "keys",
        "local",
        "login_code_keys",
        "metrics",
        "notifier",
        "outbox",
        "rp",
        "security_log",
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
        login_code_key: bytes | None,
        login_code_keys: Mapping[str, bytes] | None = None,
        login_code_key_id: str | None = None,
        settings: ServiceSettings | None,
        metrics: Metrics = NO_METRICS,
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
        code_keys = LoginCodeKeys(
            key=login_code_key, keys=login_code_keys, current=login_code_key_id
        )
        settings = ServiceSettings() if settings is None else settings
        if not isinstance(settings, ServiceSettings):
            raise ConfigurationError("settings must be a ServiceSettings")
        if not isinstance(metrics, Metrics):
            raise ConfigurationError("metrics must have increment() and timing() methods")
        clock = SystemClock() if clock is None else clock
        if not callable(getattr(clock, "now", None)):
            raise ConfigurationError("clock must have a now() method")
        self.metrics = active_metrics(metrics)
        self.security_log = SecurityLog(self.metrics)
        self.backend = store
        slow = settings.slow_store_call
        self.store = timed_store(
            store, metrics=self.metrics, slow=None if slow is None else slow.total_seconds()
        )
        self.keys = keys
        self.notifier = notifier
        self.clock = clock
        self.rp = relying_party
        self.issuer = issuer
        self.login_code_keys = code_keys
        self.settings = settings
        # The kinds written to the outbox by the open transaction (per thread).
        self.local = threading.local()
        self.outbox = Outbox(
            store=self.store,
            keys=keys,
            notifier=notifier,
            now=self.now,
            settings=settings,
            audit=self.audit,
        )

    def now(self) -> datetime:
        """The current time, always timezone-aware."""
        return ensure_aware(self.clock.now())

    def issue_challenge(
        self,
        purpose: str,
        challenge: bytes,
        *,
        user_id: str | None,
        now: datetime,
        data: Mapping[str, Any] | None = None,
    ) -> Challenge:
        """Store a new single-use WebAuthn challenge valid for ``settings.challenge_ttl``.

        Args:
            purpose: What it is for (a finishing flow checks it).
            challenge: The options' random challenge.
            user_id: The user it is issued to, ``None`` for a sign-in without a username.
            now: The issue time.
            data: What the ceremony needs later (the challenge's ``context``).
        """
        issued = Challenge(
            challenge_id=secrets.token_urlsafe(16),
            purpose=purpose,
            user_id=user_id,
            challenge=challenge,
            created_at=now,
            expires_at=now + self.settings.challenge_ttl,
            context={} if data is None else data,
        )
        self.store.put_challenge(issued)
        return issued

    # -- audit ------------------------------------------------------------------------

    @staticmethod
    def event(
        action: str,
        *,
        at: datetime,
        outcome: str = "success",
        actor_id: str | None = None,
        user_id: str | None = None,
        org_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEvent:
        """One audit event, not written yet (see :meth:`audit_all`)."""
        return AuditEvent(
            event_id=secrets.token_hex(16),
            at=at,
            action=action,
            outcome=outcome,
            actor_id=actor_id,
            user_id=user_id,
            org_id=org_id,
            details=dict(details or {}),
        )

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
        """Append one audit event to the store, and log it (see :meth:`audit_all`)."""
        self.audit_all(
            (
                self.event(
                    action,
                    at=at,
                    outcome=outcome,
                    actor_id=actor_id,
                    user_id=user_id,
                    org_id=org_id,
                    details=details,
                ),
            )
        )

    def audit_all(self, events: Sequence[AuditEvent]) -> None:
        """Append ``events`` in order, in one store call (none when there are none); log them.

        The one path of audit events: each one written is logged on
        ``mfakit.service.security`` and counted, once, right after the write,
        or, inside a transaction, after the outermost one commits.
        """
        if len(events) == 1:
            self.store.append_audit_event(events[0])
        elif events:
            self.store.append_audit_events(events)
        else:
            return
        held: list[AuditEvent] | None = getattr(self.local, "logged", None)
        if held is None:
            self.security_log.record(events)
        else:
            held.extend(events)

    @staticmethod
    def decision_events(decision: Decision, org_id: str) -> list[AuditEvent]:
        """A policy decision's audit events as ``policy.<action>``, not written yet."""
        events = []
        for event in decision.audit:
            subject = None if event.subject == org_id else event.subject
            events.append(
                ServiceContext.event(
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
            )
        return events

    def audit_decision(self, decision: Decision, org_id: str) -> None:
        """Append a policy decision's audit events as ``policy.<action>``, in one store call."""
        self.audit_all(self.decision_events(decision, org_id))

    # -- transactions and notifications ------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One store transaction; its messages are written to the outbox inside it.

        After the outermost one commits, its audit events are logged, and its
        messages are delivered at once if ``deliver_after_commit`` is set
        (login codes never are). A rollback logs and delivers nothing.
        """
        if getattr(self.local, "pending", None) is not None:
            with self.store.atomic():
                yield
            return
        pending: list[str] = []
        logged: list[AuditEvent] = []
        self.local.pending = pending
        self.local.logged = logged
        try:
            with self.store.atomic():
                yield
        finally:
            self.local.pending = None
            self.local.logged = None
        self.security_log.record(logged)
        if pending and self.settings.deliver_after_commit:
            self.outbox.deliver_committed(pending)

    def _pending(self) -> list[str] | None:
        pending: list[str] | None = getattr(self.local, "pending", None)
        return pending

    def send(self, message: Message, *, at: datetime) -> None:
        """Write ``message`` to the outbox in the current transaction (or in its own)."""
        pending = self._pending()
        if pending is None:
            with self.transaction():
                self.send(message, at=at)
            return
        pending.append(self.outbox.enqueue(message, at=at))

    def send_nothing(self, *, org_id: str, code: str, expires_at: datetime, at: datetime) -> None:
        """Write the placeholder of a login code asked for an unknown username.

        The same store work as :meth:`send` of a :class:`LoginCode`; the
        deliverer drops it without calling the notifier.
        """
        pending = self._pending()
        if pending is None:
            with self.transaction():
                self.send_nothing(org_id=org_id, code=code, expires_at=expires_at, at=at)
            return
        pending.append(
            self.outbox.enqueue_unknown_login_code(
                org_id=org_id, code=code, expires_at=expires_at, at=at
            )
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
                message = MemberRemoved(user_id=to, org_id=org_id, actor_id=note.actor)
            elif kind is NotificationKind.MFA_RESET:
                message = MfaReset(
                    user_id=to, org_id=org_id, deadline=note.deadline, actor_id=note.actor
                )
            # METHOD_ADDED / METHOD_REMOVED: the flow sends one notice, not one per org.
            if message is not None:
                self.send(message, at=at)
