"""Organization membership: creating organizations, members, invitations, locks."""

from __future__ import annotations

import dataclasses
import secrets

from mfakit.errors import (
    ConfigurationError,
    ExpiredCodeError,
    InvitationAddressError,
    NotFoundError,
    PolicyDeniedError,
)
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
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory
from mfakit.service._effects import EffectWriter
from mfakit.service._facts import apply_effect, principal_of
from mfakit.service._notify import AccountLocked
from mfakit.service._policy_codec import encode_policy
from mfakit.service._settings import check_name, check_user_id

__all__ = ["MemberFlow", "same_address"]


def _check_email(email: object) -> str:
    if not isinstance(email, str) or "@" not in email:
        raise ConfigurationError("email must be an email address")
    return email


def same_address(invited: str, verified: str) -> bool:
    """Whether two e-mail addresses name the same mailbox for an invitation.

    The rule: surrounding white space is ignored and the comparison is
    caseless (Unicode case folding, :meth:`str.casefold`). Nothing else is
    normalized: dots, ``+tags`` and look-alike characters make a different
    address, as they may well be one.
    """
    return invited.strip().casefold() == verified.strip().casefold()


class MemberFlow:
    """Who belongs to an organization, and who may come in.

    Depends on the context, the directory and the effect writer.
    """

    def __init__(
        self, *, context: ServiceContext, directory: Directory, effects: EffectWriter
    ) -> None:
        self._context = context
        self._directory = directory
        self._effects = effects

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
        """See :meth:`MfaService.create_organization`."""
        context = self._context
        check_user_id(owner_id, "owner_id")
        check_name(name, field="name")
        if owner_username is not None:
            check_name(owner_username, field="owner_username")
        now = context.now()
        org = context.store.create_organization(
            Organization(
                org_id=org_id,
                name=name,
                policy=encode_policy(reference_console() if policy is None else policy),
                created_at=now,
            )
        )
        context.store.add_membership(
            Membership(
                org_id=org_id,
                user_id=owner_id,
                kind="owner",
                username=owner_username,
                joined_at=now,
            )
        )
        context.audit("organization.created", at=now, actor_id=owner_id, org_id=org_id)
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
        """See :meth:`MfaService.add_member`."""
        context = self._context
        check_user_id(user_id)
        if username is not None:
            check_name(username, field="username")
        now = context.now()
        member = context.store.add_membership(
            Membership(
                org_id=org_id,
                user_id=user_id,
                kind=PrincipalKind(kind).value,
                username=username,
                joined_at=now,
            )
        )
        context.audit("member.added", at=now, actor_id=actor_id, user_id=user_id, org_id=org_id)
        return member

    # -- invitations ----------------------------------------------------------------------

    def invite(
        self,
        org_id: str,
        *,
        actor_id: str,
        email: str,
        kind: PrincipalKind | str = PrincipalKind.MEMBER,
    ) -> Invitation:
        """See :meth:`MfaService.invite`."""
        context = self._context
        _check_email(email)
        now = context.now()
        ctx = self._directory.org_context(org_id)
        ctx.require_manager(self._directory.principal(org_id, actor_id))
        invitation = Invitation(
            invitation_id=secrets.token_urlsafe(16),
            org_id=org_id,
            email=email,
            kind=PrincipalKind(kind).value,
            invited_by=actor_id,
            created_at=now,
            expires_at=now + context.settings.invitation_ttl,
        )
        context.store.create_invitation(invitation)
        context.audit("invitation.created", at=now, actor_id=actor_id, org_id=org_id)
        return invitation

    def accept_invitation(
        self, invitation_id: str, user_id: str, *, email: str, username: str | None = None
    ) -> Membership:
        """See :meth:`MfaService.accept_invitation`."""
        context = self._context
        check_user_id(user_id)
        _check_email(email)
        if username is not None:
            check_name(username, field="username")
        now = context.now()
        invitation = context.store.get_invitation(invitation_id)
        if invitation is None:
            raise NotFoundError("no such invitation")
        if not same_address(invitation.email, email):
            # A forwarded link: refused before anything is read further or written.
            raise InvitationAddressError
        dead = invitation.accepted_at is not None or invitation.revoked_at is not None
        if dead or invitation.expires_at <= now:
            # Checked again atomically by the store; this only answers early and plainly.
            raise ExpiredCodeError("the invitation expired, was revoked or was already used")
        ctx = self._directory.org_context(invitation.org_id)
        factors = self._directory.factors(user_id)
        invitee = Principal(
            id=user_id,
            kind=PrincipalKind(invitation.kind),
            status=PrincipalStatus.INVITED,
            methods=factors.methods,
            last_mfa_at=factors.last_mfa_at,
        )
        decision = can_accept_invitation(ctx.policy, ctx.state, invitee=invitee, now=now)
        if not decision.allowed:
            context.audit_decision(decision, ctx.org.org_id)
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
        with context.transaction():
            if context.store.accept_invitation(invitation_id, membership, now=now) is None:
                raise ExpiredCodeError("the invitation expired, was revoked or was already used")
            context.audit_decision(decision, ctx.org.org_id)
            context.deliver(decision, ctx.org.org_id, at=now)
        return self._directory.membership(invitation.org_id, user_id)

    def revoke_invitation(self, invitation_id: str, *, actor_id: str) -> bool:
        """See :meth:`MfaService.revoke_invitation`."""
        context = self._context
        now = context.now()
        invitation = context.store.get_invitation(invitation_id)
        if invitation is None:
            return False
        ctx = self._directory.org_context(invitation.org_id)
        ctx.require_manager(self._directory.principal(invitation.org_id, actor_id))
        revoked = context.store.revoke_invitation(invitation_id, now=now)
        context.audit("invitation.revoked", at=now, actor_id=actor_id, org_id=invitation.org_id)
        return revoked

    # -- locks ------------------------------------------------------------------------------

    def lock_member(self, org_id: str, user_id: str, *, actor_id: str) -> Membership:
        """See :meth:`MfaService.lock_member`."""
        context = self._context
        now = context.now()
        ctx = self._directory.org_context(org_id)
        ctx.require_manager(self._directory.principal(org_id, actor_id))
        if actor_id == user_id:
            raise PolicyDeniedError("administrators cannot lock themselves")

        def lock(m: Membership) -> Membership:
            attributes = dict(m.attributes)
            attributes["locked_by"] = actor_id
            return dataclasses.replace(
                m, status="locked", locked_at=now, lock_reason="admin", attributes=attributes
            )

        with context.transaction():
            locked = self._effects.change_membership(org_id, user_id, lock)
            context.audit(
                "member.locked", at=now, actor_id=actor_id, user_id=user_id, org_id=org_id
            )
            context.send(AccountLocked(user_id=user_id, org_id=org_id, reason="admin"), at=now)
        return locked

    def unlock_member(self, org_id: str, user_id: str, *, actor_id: str) -> Decision:
        """See :meth:`MfaService.unlock_member`."""
        now = self._context.now()
        ctx = self._directory.org_context(org_id)
        actor = self._directory.principal(org_id, actor_id)
        factors = self._directory.factors(user_id)

        def decide(m: Membership) -> Decision:
            principal = principal_of(m, factors.methods, last_mfa_at=factors.last_mfa_at)
            return can_unlock(ctx.policy, ctx.state, actor=actor, principal=principal, now=now)

        decision = self._effects.decide_member(ctx, user_id, decide, at=now)
        return decision.require_allowed()
