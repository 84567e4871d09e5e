"""Persisting policy decisions: membership effects, their audit events and notices.

Policy effects on a membership are written with the store's versioned
compare-and-set; when a concurrent writer wins, the decision is evaluated
again on the fresh record, so effects are never applied to facts they were
not decided on.

Every membership write goes through here, so this is also where a lock is
recorded as a factor change of the user (:class:`FactorChanges`), in the
lock's transaction: a browser trusted before a lock never skips the second
factor again, even after an unlock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from mfakit.errors import NotFoundError, StoreError
from mfakit.policy import Decision, Effect, EffectKind
from mfakit.repositories import AuditEvent, Membership
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory, OrgContext
from mfakit.service._factor_changes import FactorChanges
from mfakit.service._facts import apply_effect
from mfakit.service._throttle import Throttle

__all__ = ["CAS_ATTEMPTS", "EffectWriter"]

#: How many times a compare-and-set write is retried after losing a race.
CAS_ATTEMPTS = 8
_MEMBERSHIP_EFFECTS = frozenset(
    {
        EffectKind.START_GRACE,
        EffectKind.CLEAR_GRACE,
        EffectKind.LOCK,
        EffectKind.UNLOCK,
        EffectKind.REMOVE_MEMBER,
        EffectKind.RECORD_REMINDER,
        EffectKind.SET_EXEMPTION,
        EffectKind.CLEAR_EXEMPTION,
    }
)


def _newly_locked(before: Membership, after: Membership) -> bool:
    """Whether writing ``after`` over ``before`` locks the member (or locks them anew)."""
    return after.status == "locked" and (
        before.status != "locked" or before.locked_at != after.locked_at
    )


class EffectWriter:
    """Writes memberships with compare-and-set.

    Depends on the context, the directory, the throttle and the factor changes
    (a lock is one).
    """

    def __init__(
        self,
        *,
        context: ServiceContext,
        directory: Directory,
        throttle: Throttle,
        factor_changes: FactorChanges,
    ) -> None:
        self._context = context
        self._directory = directory
        self._throttle = throttle
        self._factor_changes = factor_changes

    def _write(self, current: Membership, wanted: Membership) -> Membership | None:
        """Compare-and-set ``wanted``; a lock also records a factor change, atomically."""
        store = self._context.store
        if not _newly_locked(current, wanted):
            return store.update_membership(wanted)
        with self._context.transaction():
            stored = store.update_membership(wanted)
            if stored is not None:
                self._factor_changes.record(
                    stored.user_id,
                    at=stored.locked_at or self._context.now(),
                    reason="member.locked",
                    org_id=stored.org_id,
                )
        return stored

    def change_membership(
        self,
        org_id: str,
        user_id: str,
        change: Callable[[Membership], Membership],
        *,
        current: Membership | None = None,
    ) -> Membership:
        """Compare-and-set ``change(membership)``, re-reading on a lost race.

        ``current`` is the membership as the caller just read it: the first
        attempt writes from it without reading it again (the version check
        catches a stale one).

        Raises:
            NotFoundError: the user is not a member.
            StoreError: the record kept changing under every attempt.
        """
        for _ in range(CAS_ATTEMPTS):
            if current is None:
                current = self._directory.membership(org_id, user_id)
            wanted = change(current)
            if wanted == current:
                return current
            stored = self._write(current, wanted)
            if stored is not None:
                return stored
            current = None
        raise StoreError("the membership kept changing; try again")

    def decide_member(
        self,
        ctx: OrgContext,
        user_id: str,
        decide: Callable[[Membership], Decision],
        *,
        at: datetime,
        current: Membership | None = None,
    ) -> Decision:
        """Evaluate a per-member decision and persist its effects in one versioned write.

        On a lost race the decision is evaluated again on the fresh record, so
        effects are never applied to facts they were not decided on.
        ``current``, when given, is the membership as just read (see
        :meth:`change_membership`).

        Raises:
            NotFoundError: the user is not a member.
            StoreError: the record kept changing under every attempt.
        """
        return self.decide_and_store(ctx, user_id, decide, at=at, current=current)[0]

    def decide_and_store(
        self,
        ctx: OrgContext,
        user_id: str,
        decide: Callable[[Membership], Decision],
        *,
        at: datetime,
        current: Membership | None = None,
        defer: list[AuditEvent] | None = None,
        inside: Callable[[Decision], None] | None = None,
    ) -> tuple[Decision, Membership]:
        """:meth:`decide_member`, also returning the membership as now stored.

        A decision that changes nothing but its own audit event is written
        without opening a transaction (the event is one write); with
        ``defer`` its event is appended there instead, for the caller to
        write with its own (a sign-in writes it with the attempt's outcome).
        ``inside``, when given, is called with an allowed decision inside the
        transaction, after the membership write: the caller's own writes
        (e.g. deleting the factors of a reset) commit with it, or, if it
        raises, nothing does.

        Raises:
            NotFoundError: the user is not a member.
            StoreError: the record kept changing under every attempt.
        """
        context = self._context
        org_id = ctx.org.org_id
        for _ in range(CAS_ATTEMPTS):
            if current is None:
                current = self._directory.membership(org_id, user_id)
            decision = decide(current)
            wanted = current
            for effect in decision.effects:
                if effect.subject == user_id and effect.kind in _MEMBERSHIP_EFFECTS:
                    wanted = apply_effect(wanted, effect)
            reset = any(e.kind is EffectKind.RESET_FAILED_ATTEMPTS for e in decision.effects)
            alone = len(decision.audit) <= 1 and not decision.notifications
            extra = inside is not None and decision.allowed
            if wanted == current and not reset and alone and not extra:
                if defer is None:
                    context.audit_decision(decision, org_id)
                else:
                    defer.extend(context.decision_events(decision, org_id))
                return decision, current
            with context.transaction():
                stored = current
                if wanted != current:
                    written = self._write(current, wanted)
                    if written is None:
                        current = None
                        continue
                    stored = written
                if reset:
                    self._throttle.reset_sign_in(user_id)
                if extra and inside is not None:
                    inside(decision)
                context.audit_decision(decision, org_id)
                context.deliver(decision, org_id, at=at)
            return decision, stored
        raise StoreError("the membership kept changing; try again")

    def apply_member_effects(self, ctx: OrgContext, decision: Decision, *, at: datetime) -> None:
        """Persist an organization-wide decision's per-member effects, one CAS write each."""
        org_id = ctx.org.org_id
        by_subject: dict[str, list[Effect]] = {}
        for effect in decision.effects:
            # Organization-wide decisions (enforce, stop) carry no throttle resets.
            if effect.kind in _MEMBERSHIP_EFFECTS:
                by_subject.setdefault(effect.subject, []).append(effect)
        for subject, effects in by_subject.items():

            def change(m: Membership, effects: list[Effect] = effects) -> Membership:
                for effect in effects:
                    m = apply_effect(m, effect)
                return m

            try:
                self.change_membership(org_id, subject, change)
            except NotFoundError:
                continue  # the member left meanwhile: nothing to apply
        self._context.audit_decision(decision, org_id)
        self._context.deliver(decision, org_id, at=at)
