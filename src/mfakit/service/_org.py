"""Organization flows: enforcement, reminders, compliance, invitations, locks, the sweep."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Collection
from datetime import datetime

from mfakit.errors import (
    ConfigurationError,
    ExpiredCodeError,
    NotFoundError,
    PolicyDeniedError,
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
    Principal,
    PrincipalKind,
    PrincipalStatus,
    can_accept_invitation,
    can_enable_enforcement,
    can_stop_enforcement,
    can_unlock,
    member_compliance,
    org_compliance_report,
    reference_console,
    sweep,
)
from mfakit.repositories import Invitation, Membership, Organization
from mfakit.service._core import OrgContext
from mfakit.service._facts import apply_effect, principal_of
from mfakit.service._login import LoginFlows
from mfakit.service._notify import AccountLocked, MfaReminder
from mfakit.service._policy_codec import encode_policy
from mfakit.service._results import SweepReport
from mfakit.service._settings import check_user_id

__all__ = ["OrgFlows"]

_CAS_ATTEMPTS = 8


class OrgFlows(LoginFlows):
    """What owners and administrators do, and what the scheduler runs."""

    # -- organizations and members ------------------------------------------------------

    def create_organization(
        self,
        org_id: str,
        *,
        name: str,
        owner_id: str,
        policy: OrgPolicy | None = None,
        owner_username: str | None = None,
    ) -> Organization:
        """Create an organization (enforcement off) with its first owner.

        Args:
            org_id: The organization's identifier.
            name: Its display name.
            owner_id: The user who owns it.
            policy: Its MFA policy; the reference console's rules by default.
            owner_username: The owner's login name inside the organization, if any.

        Raises:
            DuplicateError: the id is taken.
        """
        check_user_id(owner_id, "owner_id")
        now = self._now()
        org = self._store.create_organization(
            Organization(
                org_id=org_id,
                name=name,
                policy=encode_policy(reference_console() if policy is None else policy),
                created_at=now,
            )
        )
        self._store.add_membership(
            Membership(
                org_id=org_id,
                user_id=owner_id,
                kind="owner",
                username=owner_username,
                joined_at=now,
            )
        )
        self._audit("organization.created", at=now, actor_id=owner_id, org_id=org_id)
        return org

    def add_member(
        self,
        org_id: str,
        user_id: str,
        *,
        kind: PrincipalKind | str = PrincipalKind.MEMBER,
        username: str | None = None,
        actor_id: str | None = None,
    ) -> Membership:
        """Add a member directly (an IAM member created by an administrator).

        Under enforcement the new member gets the policy's new-member grace period,
        counted from their first sign-in for members who sign in with a login code.

        Raises:
            NotFoundError: no such organization.
            DuplicateError: the user or the username is already in the organization.
        """
        check_user_id(user_id)
        now = self._now()
        member = self._store.add_membership(
            Membership(
                org_id=org_id,
                user_id=user_id,
                kind=PrincipalKind(kind).value,
                username=username,
                joined_at=now,
            )
        )
        self._audit("member.added", at=now, actor_id=actor_id, user_id=user_id, org_id=org_id)
        return member

    def _actor(self, org_id: str, actor_id: str) -> Principal:
        return principal_of(self._membership(org_id, actor_id), self._methods(actor_id))

    def _require_manager(self, ctx: OrgContext, actor: Principal) -> None:
        manager = actor.kind is PrincipalKind.OWNER or (
            ctx.policy.manage_permission in actor.permissions
        )
        if actor.lock is not None or actor.status is not PrincipalStatus.ACTIVE or not manager:
            raise PolicyDeniedError("only an active owner or administrator may do this")

    # -- enforcement ------------------------------------------------------------------

    def enforce_mfa(self, org_id: str, *, actor_id: str, confirmation: str | None) -> Decision:
        """Turn MFA enforcement on after the typed confirmation ``ENFORCE``.

        Under the reference console's rules this is refused while anyone lacks
        MFA; the decision's ``reminder_targets`` lists them (send reminders). With
        ``start_grace`` activation, they get a grace period (and a notice).

        Raises:
            PolicyDeniedError: refused; ``decision`` has the reasons and reminder targets.
        """
        now = self._now()
        for _ in range(_CAS_ATTEMPTS):
            ctx = self._org_context(org_id)
            decision = can_enable_enforcement(
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
            policy = dict(ctx.org.policy)
            policy["_enforced_by"] = actor_id
            updated = dataclasses.replace(ctx.org, enforced=True, enforced_at=now, policy=policy)
            if self._store.update_organization(updated) is None:
                continue
            self._apply_member_effects(ctx, decision, at=now)
            return decision
        raise StoreError("the organization kept changing; try again")

    def stop_enforcement(self, org_id: str, *, actor_id: str, confirmation: str | None) -> Decision:
        """Turn MFA enforcement off after the typed confirmation ``STOP``; owners are told.

        Raises:
            PolicyDeniedError: refused (not enforced, not an owner, no confirmation,
                step-up required).
        """
        now = self._now()
        for _ in range(_CAS_ATTEMPTS):
            ctx = self._org_context(org_id)
            decision = can_stop_enforcement(
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
            policy = dict(ctx.org.policy)
            policy.pop("_enforced_by", None)
            updated = dataclasses.replace(
                ctx.org, enforced=False, enforcement_stopped_at=now, policy=policy
            )
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
            if "_enforced_by" in ctx.org.policy:
                encoded["_enforced_by"] = ctx.org.policy["_enforced_by"]
            stored = self._store.update_organization(dataclasses.replace(ctx.org, policy=encoded))
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

    # -- invitations ----------------------------------------------------------------------

    def invite(
        self,
        org_id: str,
        *,
        actor_id: str,
        email: str,
        kind: PrincipalKind | str = PrincipalKind.MEMBER,
    ) -> Invitation:
        """Invite someone to join the organization (an owner or administrator only).

        Raises:
            PolicyDeniedError: the actor may not manage the organization.
        """
        if not isinstance(email, str) or "@" not in email:
            raise ConfigurationError("email must be an email address")
        now = self._now()
        ctx = self._org_context(org_id)
        self._require_manager(ctx, self._actor(org_id, actor_id))
        invitation = Invitation(
            invitation_id=secrets.token_urlsafe(16),
            org_id=org_id,
            email=email,
            kind=PrincipalKind(kind).value,
            invited_by=actor_id,
            created_at=now,
            expires_at=now + self._settings.invitation_ttl,
        )
        self._store.create_invitation(invitation)
        self._audit("invitation.created", at=now, actor_id=actor_id, org_id=org_id)
        return invitation

    def accept_invitation(
        self, invitation_id: str, user_id: str, *, username: str | None = None
    ) -> Membership:
        """Join the organization; under enforcement the invitee must have MFA first.

        Raises:
            NotFoundError: no such invitation.
            ExpiredCodeError: the invitation expired, was revoked or was already used.
            PolicyDeniedError: the organization requires MFA before joining (the
                decision carries an ``enroll_now`` obligation).
        """
        check_user_id(user_id)
        now = self._now()
        invitation = self._store.get_invitation(invitation_id)
        if invitation is None:
            raise NotFoundError("no such invitation")
        dead = invitation.accepted_at is not None or invitation.revoked_at is not None
        if dead or invitation.expires_at <= now:
            # Checked again atomically by the store; this only answers early and plainly.
            raise ExpiredCodeError("the invitation expired, was revoked or was already used")
        ctx = self._org_context(invitation.org_id)
        invitee = Principal(
            id=user_id,
            kind=PrincipalKind(invitation.kind),
            status=PrincipalStatus.INVITED,
            methods=self._methods(user_id),
        )
        decision = can_accept_invitation(ctx.policy, ctx.state, invitee=invitee, now=now)
        if not decision.allowed:
            self._audit_decision(decision, ctx.org.org_id)
            decision.require_allowed()
        membership = Membership(
            org_id=invitation.org_id,
            user_id=user_id,
            kind=invitation.kind,
            username=username,
            joined_at=now,
        )
        for effect in decision.effects:
            membership = apply_effect(membership, effect)
        if self._store.accept_invitation(invitation_id, membership, now=now) is None:
            raise ExpiredCodeError("the invitation expired, was revoked or was already used")
        self._audit_decision(decision, ctx.org.org_id)
        self._deliver(decision, ctx.org.org_id, at=now)
        return self._membership(invitation.org_id, user_id)

    def revoke_invitation(self, invitation_id: str, *, actor_id: str) -> bool:
        """Revoke a pending invitation; True if it was pending."""
        now = self._now()
        invitation = self._store.get_invitation(invitation_id)
        if invitation is None:
            return False
        ctx = self._org_context(invitation.org_id)
        self._require_manager(ctx, self._actor(invitation.org_id, actor_id))
        revoked = self._store.revoke_invitation(invitation_id, now=now)
        self._audit("invitation.revoked", at=now, actor_id=actor_id, org_id=invitation.org_id)
        return revoked

    # -- locks ------------------------------------------------------------------------------

    def lock_member(self, org_id: str, user_id: str, *, actor_id: str) -> Membership:
        """Lock a member (an administrator's lock, lifted only by an administrator).

        Raises:
            PolicyDeniedError: the actor may not manage the organization, or is the member.
        """
        now = self._now()
        ctx = self._org_context(org_id)
        self._require_manager(ctx, self._actor(org_id, actor_id))
        if actor_id == user_id:
            raise PolicyDeniedError("administrators cannot lock themselves")

        def lock(m: Membership) -> Membership:
            attributes = dict(m.attributes)
            attributes["locked_by"] = actor_id
            return dataclasses.replace(
                m, status="locked", locked_at=now, lock_reason="admin", attributes=attributes
            )

        locked = self._change_membership(org_id, user_id, lock)
        self._audit("member.locked", at=now, actor_id=actor_id, user_id=user_id, org_id=org_id)
        self._send(AccountLocked(user_id=user_id, org_id=org_id, reason="admin"), at=now)
        return locked

    def unlock_member(self, org_id: str, user_id: str, *, actor_id: str) -> Decision:
        """Unlock a member; an overdue member may get a new grace period (policy).

        Raises:
            PolicyDeniedError: refused (not locked, self-unlock, not an administrator).
        """
        now = self._now()
        ctx = self._org_context(org_id)
        actor = self._actor(org_id, actor_id)
        methods = self._methods(user_id)

        def decide(m: Membership) -> Decision:
            return can_unlock(
                ctx.policy, ctx.state, actor=actor, principal=principal_of(m, methods), now=now
            )

        decision = self._decide_member(ctx, user_id, decide, at=now)
        return decision.require_allowed()

    # -- the scheduler ------------------------------------------------------------------------

    def sweep(self) -> SweepReport:
        """Apply what is due now in every organization: deadline locks, expired locks, reminders.

        Run it from a scheduler (every few minutes). It also purges expired challenges.
        """
        now = self._now()
        self._store.purge_expired_challenges(now=now)
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
        self._audit("sweep", at=now, details={"organizations": count, "locked": len(locked)})
        return SweepReport(
            organizations=count,
            locked=tuple(locked),
            removed=tuple(removed),
            unlocked=tuple(unlocked),
            reminded=tuple(reminded),
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
