"""Organization flows: enforcement, reminders, compliance, invitations, locks, the sweep.

Cost: organization-wide work reads the members with their factor summaries,
one ``list_member_summaries`` query per page (``list_all_member_summaries``
for the sweep), and feeds the policy a stream of principals built from them:
no store call per member. Writes are per changed membership (one versioned
compare-and-set each, with its audit events and notices): work proportional
to what changes, not to the organization's size.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Collection, Iterator
from datetime import datetime

from mfakit.errors import StoreError
from mfakit.policy import (
    AuditAction,
    ComplianceReport,
    Decision,
    EffectKind,
    MemberCompliance,
    OrgPolicy,
    Outcome,
    Principal,
    can_enable_enforcement,
    can_stop_enforcement,
    member_compliance,
    org_compliance_report,
    sweep,
)
from mfakit.repositories import Membership, MemberSummary, Organization
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory, OrgContext
from mfakit.service._effects import CAS_ATTEMPTS, EffectWriter
from mfakit.service._facts import principal_of, principal_of_summary, upgrade_organization
from mfakit.service._notify import MfaReminder
from mfakit.service._policy_codec import encode_policy
from mfakit.service._results import SweepReport

__all__ = ["OrgFlow"]


class OrgFlow:
    """What owners and administrators do, and what the scheduler runs.

    Depends on the context, the directory and the effect writer.
    """

    def __init__(
        self, *, context: ServiceContext, directory: Directory, effects: EffectWriter
    ) -> None:
        self._context = context
        self._directory = directory
        self._effects = effects

    # -- enforcement ------------------------------------------------------------------

    def enforce_mfa(self, org_id: str, *, actor_id: str, confirmation: str | None) -> Decision:
        """See :meth:`MfaService.enforce_mfa`."""
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
        """See :meth:`MfaService.stop_enforcement`."""
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
        context = self._context
        now = context.now()
        for _ in range(CAS_ATTEMPTS):
            ctx = self._directory.org_context(org_id)
            decision = decide(
                ctx.policy,
                ctx.state,
                actor=self._directory.principal(org_id, actor_id),
                principals=self._directory.principals(org_id),
                confirmation=confirmation,
                now=now,
            )
            if not decision.allowed:
                context.audit_decision(decision, org_id)
                decision.require_allowed()
            updated = change(upgrade_organization(ctx.org), now)
            # The enforcement switch and every member's effects: all or nothing.
            with context.transaction():
                if context.store.update_organization(updated) is None:
                    continue
                self._effects.apply_member_effects(ctx, decision, at=now)
            return decision
        raise StoreError("the organization kept changing; try again")

    def set_policy(self, org_id: str, policy: OrgPolicy, *, actor_id: str) -> Organization:
        """See :meth:`MfaService.set_policy`."""
        context = self._context
        now = context.now()
        encoded = encode_policy(policy)
        for _ in range(CAS_ATTEMPTS):
            ctx = self._directory.org_context(org_id)
            ctx.require_manager(self._directory.principal(org_id, actor_id))
            stored = context.store.update_organization(
                dataclasses.replace(upgrade_organization(ctx.org), policy=encoded)
            )
            if stored is not None:
                context.audit(
                    "organization.policy_changed", at=now, actor_id=actor_id, org_id=org_id
                )
                return stored
        raise StoreError("the organization kept changing; try again")

    # -- compliance and reminders ---------------------------------------------------------

    def compliance_report(self, org_id: str) -> ComplianceReport:
        """See :meth:`MfaService.compliance_report`."""
        ctx = self._directory.org_context(org_id)
        return org_compliance_report(
            ctx.policy,
            ctx.state,
            principals=self._directory.principals(org_id),
            now=self._context.now(),
        )

    def member_compliance(self, org_id: str, user_id: str) -> MemberCompliance:
        """See :meth:`MfaService.member_compliance`."""
        ctx = self._directory.org_context(org_id)
        principal = self._directory.principal(org_id, user_id)
        return member_compliance(
            ctx.policy, ctx.state, principal=principal, now=self._context.now()
        )

    def send_reminders(
        self, org_id: str, *, actor_id: str, user_ids: Collection[str] | None = None
    ) -> tuple[str, ...]:
        """See :meth:`MfaService.send_reminders`.

        Two passes over the member summaries, one query per page each: the
        report finds the targets, then each target (read in the second pass)
        gets its deadline, a versioned stamp and the message.
        """
        context = self._context
        now = context.now()
        ctx = self._directory.org_context(org_id)
        ctx.require_manager(self._directory.principal(org_id, actor_id))
        report = org_compliance_report(
            ctx.policy, ctx.state, principals=self._directory.principals(org_id), now=now
        )
        wanted = None if user_ids is None else frozenset(user_ids)
        targets = [u for u in report.reminder_targets if wanted is None or u in wanted]
        found: dict[str, tuple[Membership, datetime | None]] = {}
        if targets:
            pending = frozenset(targets)
            for summary in self._directory.summaries(org_id):
                m = summary.membership
                if m.user_id in pending:
                    status = member_compliance(
                        ctx.policy, ctx.state, principal=principal_of_summary(summary), now=now
                    )
                    found[m.user_id] = (m, status.deadline)
        reminded = []

        def stamp(m: Membership) -> Membership:
            return dataclasses.replace(m, last_reminder_at=now)

        for user_id in targets:
            if user_id not in found:
                continue  # left the organization between the two passes
            membership, deadline = found[user_id]
            # The reminder stamp and the reminder commit together (outbox).
            with context.transaction():
                self._effects.change_membership(org_id, user_id, stamp, current=membership)
                context.send(
                    MfaReminder(
                        user_id=user_id, org_id=org_id, deadline=deadline, actor_id=actor_id
                    ),
                    at=now,
                )
            reminded.append(user_id)
        context.audit(
            "reminders.sent",
            at=now,
            actor_id=actor_id,
            org_id=org_id,
            details={"count": len(reminded)},
        )
        return tuple(reminded)

    # -- the scheduler ------------------------------------------------------------------------

    def sweep(self) -> SweepReport:
        """See :meth:`MfaService.sweep`."""
        context = self._context
        now = context.now()
        purged_challenges = context.store.purge_expired_challenges(now=now)
        purged_login_codes = context.store.purge_expired_login_codes(now=now)
        purged_trusted = context.store.purge_expired_trusted_browsers(now=now)
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
            page = context.store.list_organizations(after=after, limit=100)
            count += len(page.items)
            if page.next_cursor is None:
                break
            after = page.next_cursor
        for ctx, summaries in self._by_organization(self._directory.all_summaries()):
            for decision in self._sweep_organization(ctx, summaries, now):
                for effect in decision.effects:
                    if effect.kind in lists:
                        lists[effect.kind].append((ctx.org.org_id, effect.subject))
        context.audit(
            "sweep",
            at=now,
            details={
                "organizations": count,
                "locked": len(locked),
                "purged_challenges": purged_challenges,
                "purged_login_codes": purged_login_codes,
                "purged_trusted_browsers": purged_trusted,
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
            purged_trusted_browsers=purged_trusted,
        )

    def _by_organization(
        self, summaries: Iterator[MemberSummary]
    ) -> Iterator[tuple[OrgContext, Iterator[MemberSummary]]]:
        """Split an all-organizations listing into each organization's run of members.

        The listing is ordered by organization, so each organization is loaded
        once (its record and owner count), when its first member comes by.
        """
        for org_id, members in itertools.groupby(summaries, key=lambda s: s.membership.org_id):
            org = self._context.store.get_organization(org_id)
            if org is not None:  # else deleted meanwhile: nothing to sweep
                yield self._directory.context_of(org), members

    def _sweep_organization(
        self, ctx: OrgContext, summaries: Iterator[MemberSummary], now: datetime
    ) -> Iterator[Decision]:
        """Stream the organization's members through the policy; persist what it decides.

        Each decision is persisted with a versioned write from the membership
        as listed; on a lost race the member is decided again on the fresh record.
        """
        listed: dict[str, Membership] = {}

        def principals() -> Iterator[Principal]:
            for summary in summaries:
                # Only the member the policy is deciding on now is kept.
                listed.clear()
                listed[summary.membership.user_id] = summary.membership
                yield principal_of_summary(summary)

        for found in sweep(ctx.policy, ctx.state, principals=principals(), now=now):
            if not (found.effects or found.notifications):
                continue
            user_id = found.subject
            yield self._persist_sweep(ctx, user_id, found, listed.get(user_id), now)

    def _persist_sweep(
        self,
        ctx: OrgContext,
        user_id: str,
        found: Decision,
        current: Membership | None,
        now: datetime,
    ) -> Decision:
        # The stream's decision stands for the record it was decided on; any
        # other record (a fresh read after a lost race) is decided again.
        first = [found] if current is not None else []

        def decide(m: Membership) -> Decision:
            if first:
                return first.pop()
            factors = self._directory.factors(user_id)
            principal = principal_of(m, factors.methods, last_mfa_at=factors.last_mfa_at)
            again = next(iter(sweep(ctx.policy, ctx.state, principals=[principal], now=now)), None)
            return again or Decision(
                action=AuditAction.SWEEP, outcome=Outcome.ALLOW, subject=m.user_id
            )

        return self._effects.decide_member(ctx, user_id, decide, at=now, current=current)
