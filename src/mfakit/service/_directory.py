"""The service's read side: the facts the policy decides on, loaded from the store.

Every flow loads a user's methods, an organization with its decoded policy
and state, memberships and principals through one :class:`Directory`, so
that how these facts are read (which port calls, how many) is decided in one
place.
"""

from __future__ import annotations

from collections.abc import Iterator

from mfakit.errors import NotFoundError, PolicyDeniedError
from mfakit.policy import Method, OrgPolicy, OrgState, Principal, PrincipalKind, PrincipalStatus
from mfakit.repositories import Membership, Organization
from mfakit.service._context import ServiceContext
from mfakit.service._facts import org_state_of, principal_of, user_methods
from mfakit.service._policy_codec import decode_policy

__all__ = ["Directory", "OrgContext"]

_PAGE = 200


class OrgContext:
    """An organization loaded with its decoded policy and policy state."""

    __slots__ = ("org", "policy", "state")

    def __init__(self, org: Organization, policy: OrgPolicy, state: OrgState) -> None:
        self.org = org
        self.policy = policy
        self.state = state

    def require_manager(self, actor: Principal) -> None:
        """Raise unless ``actor`` may manage this organization.

        Raises:
            PolicyDeniedError: the actor is not an active owner or administrator.
        """
        manager = actor.kind is PrincipalKind.OWNER or (
            self.policy.manage_permission in actor.permissions
        )
        if actor.lock is not None or actor.status is not PrincipalStatus.ACTIVE or not manager:
            raise PolicyDeniedError("only an active owner or administrator may do this")


class Directory:
    """Loads users' methods, organizations, memberships and principals; depends on the context."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    def methods(self, user_id: str) -> tuple[Method, ...]:
        """The user's second factors, as the policy sees them."""
        store = self._context.store
        codes = store.list_backup_codes(user_id)
        unused = sum(1 for c in codes if c.consumed_at is None)
        return user_methods(
            store.get_active_totp(user_id),
            store.list_webauthn_credentials(user_id),
            unused,
            codes[0].created_at if codes else None,
        )

    def org_context(self, org_id: str) -> OrgContext:
        """The organization with its policy and state.

        Raises:
            NotFoundError: no such organization.
        """
        org = self._context.store.get_organization(org_id)
        if org is None:
            raise NotFoundError("no such organization")
        owners = sum(
            1 for m in self.iter_memberships(org_id) if m.kind == "owner" and m.status == "active"
        )
        return OrgContext(org, decode_policy(org.policy), org_state_of(org, owners))

    def iter_memberships(self, org_id: str) -> Iterator[Membership]:
        """Every membership of the organization, one page per store call."""
        after: str | None = None
        while True:
            page = self._context.store.list_memberships(org_id, after=after, limit=_PAGE)
            yield from page.items
            if page.next_cursor is None:
                return
            after = page.next_cursor

    def membership(self, org_id: str, user_id: str) -> Membership:
        """One membership.

        Raises:
            NotFoundError: the user is not a member.
        """
        m = self._context.store.get_membership(org_id, user_id)
        if m is None:
            raise NotFoundError("no such member")
        return m

    def principal(self, org_id: str, user_id: str) -> Principal:
        """One member as the policy sees them (membership, then methods)."""
        return principal_of(self.membership(org_id, user_id), self.methods(user_id))

    def principals(self, org_id: str) -> Iterator[Principal]:
        """Every member of the organization as the policy sees them."""
        for m in self.iter_memberships(org_id):
            yield principal_of(m, self.methods(m.user_id))

    def member_contexts(self, user_id: str) -> list[tuple[OrgContext, Membership]]:
        """Each organization the user belongs to (not removed), with the membership."""
        return [
            (self.org_context(m.org_id), m)
            for m in self._context.store.list_user_memberships(user_id)
            if m.status != "removed"
        ]
