"""The service's shared machinery: construction, time, audit, notifications, facts, persistence.

Every security-critical write goes through one atomic port call. Policy effects
on a membership are written with the store's versioned compare-and-set; when a
concurrent writer wins, the decision is evaluated again on the fresh record.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from mfakit.clock import Clock, SystemClock, ensure_aware
from mfakit.errors import ConfigurationError, NotFoundError, StoreError, ThrottledError
from mfakit.login_codes import MIN_KEY_LENGTH
from mfakit.policy import (
    Decision,
    EffectKind,
    Method,
    NotificationKind,
    OrgPolicy,
    OrgState,
    Principal,
)
from mfakit.repositories import AuditEvent, Membership, MfaStore, Organization
from mfakit.secretbox import KeyRing
from mfakit.service._facts import apply_effect, org_state_of, principal_of, user_methods
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
from mfakit.service._policy_codec import decode_policy
from mfakit.service._settings import RelyingParty, ServiceSettings

__all__ = ["FACTORS", "OrgContext", "ServiceCore", "throttle_key"]

#: The throttled second factors; each has its own counter per user.
FACTORS = ("totp", "backup_code", "passkey")

# How many times a compare-and-set write is retried after losing a race.
_CAS_ATTEMPTS = 8
_MEMBERSHIP_EFFECTS = frozenset(
    {
        EffectKind.START_GRACE,
        EffectKind.CLEAR_GRACE,
        EffectKind.LOCK,
        EffectKind.UNLOCK,
        EffectKind.REMOVE_MEMBER,
        EffectKind.RECORD_REMINDER,
    }
)


class OrgContext:
    """An organization loaded with its decoded policy and policy state."""

    __slots__ = ("org", "policy", "state")

    def __init__(self, org: Organization, policy: OrgPolicy, state: OrgState) -> None:
        self.org = org
        self.policy = policy
        self.state = state


class ServiceCore:
    """Construction and the helpers every flow shares (see :class:`MfaService`)."""

    def __init__(
        self,
        *,
        store: MfaStore,
        keys: KeyRing,
        notifier: Notifier,
        clock: Clock | None = None,
        relying_party: RelyingParty,
        issuer: str,
        login_code_key: bytes,
        settings: ServiceSettings | None = None,
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
        self._store = store
        self._keys = keys
        self._notifier = notifier
        self._clock = clock
        self._rp = relying_party
        self._issuer = issuer
        self._login_code_key = login_code_key
        self._settings = settings
        # Messages raised inside a transaction wait for its commit (per thread).
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(store={self._store!r}, rp_id={self._rp.rp_id!r})"

    @property
    def settings(self) -> ServiceSettings:
        """The service's settings."""
        return self._settings

    # -- time, audit, notifications -----------------------------------------------

    def _now(self) -> datetime:
        return ensure_aware(self._clock.now())

    def _audit(
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
        self._store.append_audit_event(
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

    def _audit_decision(self, decision: Decision, org_id: str) -> None:
        for event in decision.audit:
            subject = None if event.subject == org_id else event.subject
            self._audit(
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

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One store transaction; messages sent inside go out only after it commits."""
        if getattr(self._local, "pending", None) is not None:
            with self._store.atomic():
                yield
            return
        pending: list[tuple[Message, datetime]] = []
        self._local.pending = pending
        try:
            with self._store.atomic():
                yield
        finally:
            self._local.pending = None
        for message, at in pending:
            self._send_now(message, at=at)

    def _send(self, message: Message, *, at: datetime) -> None:
        pending: list[tuple[Message, datetime]] | None = getattr(self._local, "pending", None)
        if pending is not None:
            pending.append((message, at))
        else:
            self._send_now(message, at=at)

    def _send_now(self, message: Message, *, at: datetime) -> None:
        try:
            self._notifier.send(message)
        except Exception as exc:  # noqa: BLE001 - the host's notifier must not undo a stored action
            self._audit(
                "notification.failed",
                at=at,
                outcome="failure",
                user_id=message.user_id,
                details={"message": type(message).__name__, "error": type(exc).__name__},
            )

    def _deliver(self, decision: Decision, org_id: str, *, at: datetime) -> None:
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
                self._send(message, at=at)

    # -- facts ---------------------------------------------------------------------

    def _methods(self, user_id: str) -> tuple[Method, ...]:
        store = self._store
        codes = store.list_backup_codes(user_id)
        unused = sum(1 for c in codes if c.consumed_at is None)
        return user_methods(
            store.get_active_totp(user_id),
            store.list_webauthn_credentials(user_id),
            unused,
            codes[0].created_at if codes else None,
        )

    def _org_context(self, org_id: str) -> OrgContext:
        org = self._store.get_organization(org_id)
        if org is None:
            raise NotFoundError("no such organization")
        owners = sum(
            1 for m in self._iter_memberships(org_id) if m.kind == "owner" and m.status == "active"
        )
        return OrgContext(org, decode_policy(org.policy), org_state_of(org, owners))

    def _iter_memberships(self, org_id: str) -> Iterator[Membership]:
        after: str | None = None
        while True:
            page = self._store.list_memberships(org_id, after=after, limit=200)
            yield from page.items
            if page.next_cursor is None:
                return
            after = page.next_cursor

    def _membership(self, org_id: str, user_id: str) -> Membership:
        m = self._store.get_membership(org_id, user_id)
        if m is None:
            raise NotFoundError("no such member")
        return m

    def _principals(self, org_id: str) -> Iterator[Principal]:
        for m in self._iter_memberships(org_id):
            yield principal_of(m, self._methods(m.user_id))

    def _failed_attempts(self, user_id: str) -> int:
        return sum(self._store.get_throttle(throttle_key(f, user_id)).failures for f in FACTORS)

    # -- persistence -----------------------------------------------------------------

    def _change_membership(
        self, org_id: str, user_id: str, change: Callable[[Membership], Membership]
    ) -> Membership:
        """Compare-and-set ``change(membership)``, re-reading on a lost race."""
        for _ in range(_CAS_ATTEMPTS):
            current = self._membership(org_id, user_id)
            wanted = change(current)
            if wanted == current:
                return current
            stored = self._store.update_membership(wanted)
            if stored is not None:
                return stored
        raise StoreError("the membership kept changing; try again")

    def _decide_member(
        self,
        ctx: OrgContext,
        user_id: str,
        decide: Callable[[Membership], Decision],
        *,
        at: datetime,
    ) -> Decision:
        """Evaluate a per-member decision and persist its effects in one versioned write.

        On a lost race the decision is evaluated again on the fresh record, so
        effects are never applied to facts they were not decided on.
        """
        for _ in range(_CAS_ATTEMPTS):
            current = self._membership(ctx.org.org_id, user_id)
            decision = decide(current)
            wanted = current
            for effect in decision.effects:
                if effect.subject == user_id and effect.kind in _MEMBERSHIP_EFFECTS:
                    wanted = apply_effect(wanted, effect)
            with self._transaction():
                if wanted != current and self._store.update_membership(wanted) is None:
                    continue
                if any(e.kind is EffectKind.RESET_FAILED_ATTEMPTS for e in decision.effects):
                    self._reset_throttles(user_id)
                self._audit_decision(decision, ctx.org.org_id)
                self._deliver(decision, ctx.org.org_id, at=at)
            return decision
        raise StoreError("the membership kept changing; try again")

    def _apply_member_effects(self, ctx: OrgContext, decision: Decision, *, at: datetime) -> None:
        """Persist an organization-wide decision's per-member effects, one CAS write each."""
        by_subject: dict[str, list[Any]] = {}
        for effect in decision.effects:
            # Organization-wide decisions (enforce, stop) carry no throttle resets.
            if effect.kind in _MEMBERSHIP_EFFECTS:
                by_subject.setdefault(effect.subject, []).append(effect)
        for subject, effects in by_subject.items():

            def change(m: Membership, effects: list[Any] = effects) -> Membership:
                for effect in effects:
                    m = apply_effect(m, effect)
                return m

            try:
                self._change_membership(ctx.org.org_id, subject, change)
            except NotFoundError:
                continue  # the member left meanwhile: nothing to apply
        self._audit_decision(decision, ctx.org.org_id)
        self._deliver(decision, ctx.org.org_id, at=at)

    # -- throttling --------------------------------------------------------------------

    def _reset_throttles(self, user_id: str) -> None:
        for factor in FACTORS:
            self._store.reset_throttle(throttle_key(factor, user_id))

    def _charge_attempt(self, factor: str, user_id: str, now: datetime) -> None:
        """Count an attempt BEFORE checking it; refuse it when the budget is spent.

        The count is one atomic ``record_failure``: concurrent callers each get a
        distinct number, so however many guesses race, at most
        ``throttle_max_failures`` per window are ever checked. A success resets it.

        Raises:
            ThrottledError: the factor is locked or backing off; ``retry_after`` says
                for how long.
        """
        s = self._settings
        key = throttle_key(factor, user_id)
        state = self._store.get_throttle(key)
        if state.locked_until is not None and now < state.locked_until:
            self._audit(f"{factor}.throttled", at=now, outcome="throttled", user_id=user_id)
            raise ThrottledError(retry_after=(state.locked_until - now).total_seconds())
        state = self._store.record_failure(key, now=now, window=s.throttle_window)
        first = state.first_failure_at or now
        if state.failures > s.throttle_max_failures:
            until = max(first + s.throttle_window, now + timedelta(seconds=1))
            self._store.lock_throttle(key, until=until)
            self._audit(f"{factor}.throttled", at=now, outcome="throttled", user_id=user_id)
            raise ThrottledError(retry_after=(until - now).total_seconds())
        if state.failures == s.throttle_max_failures:
            self._store.lock_throttle(key, until=first + s.throttle_window)
        elif (delay := s.backoff(state.failures)) > timedelta(0):
            self._store.lock_throttle(key, until=now + delay)


def throttle_key(factor: str, user_id: str) -> str:
    """The throttle key of one user's factor."""
    return f"mfa:{factor}:{user_id}"
