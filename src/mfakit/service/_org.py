"""Organization flows: enforcement, reminders, compliance, invitations, locks, the sweep."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from datetime import datetime

from mfakit.errors import (
    StoreError,
)
from mfakit.policy import (
    AuditAction,
    ComplianceReport,
    Decision,
    EffectKind,
    MemberCompliance,
    OrgPolicy,
    Outcome,
    can_enable_enforcement,
    can_stop_enforcement,
    member_compliance,
    org_compliance_report,
    sweep,
)
from mfakit.repositories import Membership, Organization
from mfakit.service._core import OrgContext
from mfakit.service._facts import principal_of, upgrade_organization
from mfakit.service._members import MemberFlows
from mfakit.service._notify import MfaReminder
from mfakit.service._policy_codec import encode_policy
from mfakit.service._results import SweepReport

__all__ = ["OrgFlows"]

_CAS_ATTEMPTS = 8


class OrgFlows(MemberFlows):
    """What owners and administrators do, and what the scheduler runs."""

    # -- enforcement ------------------------------------------------------------------

    def enforce_mfa(self, org_id: str, *, actor_id: str, confirmation: str | None) -> Decision:
        """Turn MFA enforcement on after the typed confirmation ``ENFORCE``.

        Under the reference console's rules this is refused while anyone lacks
        MFA; the decision's ``reminder_targets`` lists them (send reminders). With
        ``start_grace`` activation, they get a grace period (and a notice).

        Raises:
            PolicyDeniedError: refused; ``decision`` has the reasons and reminder targets.
        """
        return self._switch_enforcement(
            org_id,
            actor_id,
            confirmation,
            can_enable_enforcement,
            lambda org, now: dataclasses.replace(
                org, enforced=True, enforced_at=now, enforced_by=actor_id
            ),
        )

    def stop_enforcement(self, org_id: str, *, actor_id: str, confirmation: str | None) -> Decision:
        """Turn MFA enforcement off after the typed confirmation ``STOP``; owners are told.

        Raises:
            PolicyDeniedError: refused (not enforced, not an owner, no confirmation,
                step-up required).
        """
        return self._switch_enforcement(
            org_id,
            actor_id,
            confirmation,
            can_stop_enforcement,
            lambda org, now: dataclasses.replace(org, enforced=False, enforcement_stopped_at=now),
        )

    def _switch_enforcement(
        self,
        org_id: str,
        actor_id: str,
        confirmation: str | None,
        decide: Callable[..., Decision],
        change: Callable[[Organization, datetime], Organization],
    ) -> Decision:
        """Decide, then write the switch and every member's effects in one transaction.

        The organization is updated with a compare-and-set; a lost race re-reads
        the facts and decides again.
        """
        now = self._now()
        for _ in range(_CAS_ATTEMPTS):
            ctx = self._org_context(org_id)
            decision = decide(
                ctx.policy,
                ctx.state,
                actor=self._actor(org_id, actor_id),
                principals=self._principals(org_id),
                confirmation=confirmation,
                now=now,
            )
            if not decision.allowed:
                self._audit_decision(decision, org_id)
                decision.require_allowed()
            updated = change(upgrade_organization(ctx.org), now)
            # The enforcement switch and every member's effects: all or nothing.
            with self._transaction():
                if self._store.update_organization(updated) is None:
                    continue
                self._apply_member_effects(ctx, decision, at=now)
            return decision
        raise StoreError("the organization kept changing; try again")

    def set_policy(self, org_id: str, policy: OrgPolicy, *, actor_id: str) -> Organization:
        """Replace the organization's policy (an owner or administrator only).

        Raises:
            PolicyDeniedError: the actor may not manage the organization.
        """
        now = self._now()
        encoded = encode_policy(policy)
        for _ in range(_CAS_ATTEMPTS):
            ctx = self._org_context(org_id)
            self._require_manager(ctx, self._actor(org_id, actor_id))
            stored = self._store.update_organization(
                dataclasses.replace(upgrade_organization(ctx.org), policy=encoded)
            )
            if stored is not None:
                self._audit("organization.policy_changed", at=now, actor_id=actor_id, org_id=org_id)
                return stored
        raise StoreError("the organization kept changing; try again")

    # -- compliance and reminders ---------------------------------------------------------

    def compliance_report(self, org_id: str) -> ComplianceReport:
        """The organization's MFA compliance now (who lacks MFA, percentages)."""
        ctx = self._org_context(org_id)
        return org_compliance_report(
            ctx.policy, ctx.state, principals=self._principals(org_id), now=self._now()
        )

    def member_compliance(self, org_id: str, user_id: str) -> MemberCompliance:
        """One member's MFA status, deadline and whether a reminder is due."""
        ctx = self._org_context(org_id)
        principal = principal_of(self._membership(org_id, user_id), self._methods(user_id))
        return member_compliance(ctx.policy, ctx.state, principal=principal, now=self._now())

    def send_reminders(
        self, org_id: str, *, actor_id: str, user_ids: Collection[str] | None = None
    ) -> tuple[str, ...]:
        """Remind members without MFA to set it up: one member, some, or all of them.

        Members who already comply are skipped. Returns who was reminded.

        Raises:
            PolicyDeniedError: the actor is not an active owner or administrator.
        """
        now = self._now()
        ctx = self._org_context(org_id)
        self._require_manager(ctx, self._actor(org_id, actor_id))
        report = org_compliance_report(
            ctx.policy, ctx.state, principals=self._principals(org_id), now=now
        )
        wanted = None if user_ids is None else frozenset(user_ids)
        reminded = []
        for user_id in report.reminder_targets:
            if wanted is not None and user_id not in wanted:
                continue
            status = self.member_compliance(org_id, user_id)

            def stamp(m: Membership) -> Membership:
                return dataclasses.replace(m, last_reminder_at=now)

            self._change_membership(org_id, user_id, stamp)
            self._send(
                MfaReminder(
                    user_id=user_id, org_id=org_id, deadline=status.deadline, actor_id=actor_id
                ),
                at=now,
            )
            reminded.append(user_id)
        self._audit(
            "reminders.sent",
            at=now,
            actor_id=actor_id,
            org_id=org_id,
            details={"count": len(reminded)},
        )
        return tuple(reminded)

    # -- the scheduler ------------------------------------------------------------------------

    def sweep(self) -> SweepReport:
        """Apply what is due now in every organization: deadline locks, expired locks, reminders.

        Run it from a scheduler (every few minutes). It also purges expired
        challenges and dead login codes (expired or used), including the codes
        stored for unknown usernames, which nothing else would ever delete.
        """
        now = self._now()
        purged_challenges = self._store.purge_expired_challenges(now=now)
        purged_login_codes = self._store.purge_expired_login_codes(now=now)
        locked: list[tuple[str, str]] = []
        removed: list[tuple[str, str]] = []
        unlocked: list[tuple[str, str]] = []
        reminded: list[tuple[str, str]] = []
        lists = {
            EffectKind.LOCK: locked,
            EffectKind.REMOVE_MEMBER: removed,
            EffectKind.UNLOCK: unlocked,
            EffectKind.RECORD_REMINDER: reminded,
        }
        count = 0
        after: str | None = None
        while True:
            page = self._store.list_organizations(after=after, limit=100)
            for org in page.items:
                count += 1
                ctx = self._org_context(org.org_id)
                for m in list(self._iter_memberships(org.org_id)):
                    decision = self._sweep_member(ctx, m, now)
                    for effect in decision.effects if decision else ():
                        if effect.kind in lists:
                            lists[effect.kind].append((org.org_id, effect.subject))
            if page.next_cursor is None:
                break
            after = page.next_cursor
        self._audit(
            "sweep",
            at=now,
            details={
                "organizations": count,
                "locked": len(locked),
                "purged_challenges": purged_challenges,
                "purged_login_codes": purged_login_codes,
            },
        )
        return SweepReport(
            organizations=count,
            locked=tuple(locked),
            removed=tuple(removed),
            unlocked=tuple(unlocked),
            reminded=tuple(reminded),
            purged_challenges=purged_challenges,
            purged_login_codes=purged_login_codes,
        )

    def _sweep_member(self, ctx: OrgContext, m: Membership, now: datetime) -> Decision | None:
        methods = self._methods(m.user_id)

        def decide(current: Membership) -> Decision:
            principal = principal_of(current, methods)
            found = next(iter(sweep(ctx.policy, ctx.state, principals=[principal], now=now)), None)
            return found or Decision(
                action=AuditAction.SWEEP, outcome=Outcome.ALLOW, subject=current.user_id
            )

        first = decide(m)
        if first.effects or first.notifications:
            return self._decide_member(ctx, m.user_id, decide, at=now)
        return None
