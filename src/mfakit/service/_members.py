"""Organization membership: creating organizations, members, invitations, locks."""

from __future__ import annotations

import dataclasses
import secrets

from mfakit.errors import ConfigurationError, ExpiredCodeError, NotFoundError, PolicyDeniedError
from mfakit.policy import (
    Decision,
    OrgPolicy,
    Principal,
    PrincipalKind,
    PrincipalStatus,
    can_accept_invitation,
    can_unlock,
    reference_console,
)
from mfakit.repositories import Invitation, Membership, Organization
from mfakit.service._core import OrgContext
from mfakit.service._facts import apply_effect, principal_of
from mfakit.service._login import LoginFlows
from mfakit.service._notify import AccountLocked
from mfakit.service._policy_codec import encode_policy
from mfakit.service._settings import check_user_id

__all__ = ["MemberFlows"]


class MemberFlows(LoginFlows):
    """Who belongs to an organization, and who may come in."""

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
