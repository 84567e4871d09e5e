"""The service's read side: the facts the policy decides on, loaded from the store.

Every flow loads a user's methods, an organization with its decoded policy
and state, memberships and principals through one :class:`Directory`, so
that how these facts are read (which port calls, how many) is decided in one
place.

What each read costs, whatever the organization's size:

* a user's factors (:meth:`Directory.factors`): one ``get_user_factors``
  (active TOTP devices, WebAuthn credentials, backup codes, the last
  second-factor check, the last factor change and, when asked, the sign-in
  counters);
* an organization with its policy and state (:meth:`Directory.org_context`):
  the record and one ``count_active_owners`` aggregate;
* each organization a user belongs to, with the membership
  (:meth:`Directory.member_contexts`, :meth:`Directory.member_context`): one
  ``list_user_memberships_with_orgs`` query (memberships, organizations and
  owner counts together);
* members with what the policy needs of their methods
  (:meth:`Directory.summaries`, :meth:`Directory.principals`): one
  ``list_member_summaries`` query per page of :data:`SUMMARY_PAGE` members.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from mfakit.errors import NotFoundError, PolicyDeniedError
from mfakit.policy import Method, OrgPolicy, OrgState, Principal, PrincipalKind, PrincipalStatus
from mfakit.repositories import (
    BackupCode,
    Membership,
    MemberSummary,
    Organization,
    ThrottleState,
    TotpCredential,
    WebAuthnCredential,
)
from mfakit.service._context import ServiceContext
from mfakit.service._facts import org_state_of, principal_of, principal_of_summary, user_methods
from mfakit.service._policy_codec import PolicyMemo

__all__ = ["SUMMARY_PAGE", "Directory", "OrgContext", "UserFactors"]

#: Members read per ``list_member_summaries`` query by organization-wide work:
#: the largest page the port accepts, since each query has a fixed cost
#: (a round trip, planning) that a bigger page spreads over more members.
SUMMARY_PAGE = 1000


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class UserFactors:
    """A user's second factors as stored, and as the policy sees them.

    Attributes:
        totp_devices: The active TOTP devices, oldest first.
        credentials: The WebAuthn credentials, oldest first.
        backup_codes: The backup code set, used codes included.
        methods: The confirmed factors as policy methods.
        throttles: The state of each throttle key asked for, keyed by key.
        last_mfa_at: The user's last successful second-factor check (the
            step-up anchor), ``None`` before any.
        factors_changed_at: When the user's second factors last changed (or a
            membership of theirs was locked), ``None`` before any.
    """

    totp_devices: tuple[TotpCredential, ...]
    credentials: tuple[WebAuthnCredential, ...]
    backup_codes: tuple[BackupCode, ...]
    methods: tuple[Method, ...]
    throttles: Mapping[str, ThrottleState] = dataclasses.field(default_factory=dict)
    last_mfa_at: datetime | None = None
    factors_changed_at: datetime | None = None

    @property
    def unused_backup_codes(self) -> int:
        """How many backup codes are unused."""
        return sum(1 for c in self.backup_codes if c.consumed_at is None)


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
        self._policies = PolicyMemo()

    def factors(self, user_id: str, *, throttle_keys: Sequence[str] = ()) -> UserFactors:
        """The user's second factors and the counters of ``throttle_keys``: one store call."""
        stored = self._context.store.get_user_factors(user_id, throttle_keys=throttle_keys)
        codes = stored.backup_codes
        unused = sum(1 for c in codes if c.consumed_at is None)
        return UserFactors(
            totp_devices=stored.totp_devices,
            credentials=stored.credentials,
            backup_codes=codes,
            methods=user_methods(
                stored.totp_devices,
                stored.credentials,
                unused,
                codes[0].created_at if codes else None,
            ),
            throttles=stored.throttles,
            last_mfa_at=stored.last_mfa_at,
            factors_changed_at=stored.factors_changed_at,
        )

    def org_context(self, org_id: str) -> OrgContext:
        """The organization with its policy and state: the record and one owner count.

        Raises:
            NotFoundError: no such organization.
        """
        org = self._context.store.get_organization(org_id)
        if org is None:
            raise NotFoundError("no such organization")
        return self.context_of(org)

    def context_of(self, org: Organization, *, owners: int | None = None) -> OrgContext:
        """An organization already read, with its policy and state.

        ``owners`` is its active-owner count if read already; else one
        ``count_active_owners``.
        """
        if owners is None:
            owners = self._context.store.count_active_owners(org.org_id)
        return OrgContext(org, self._policies.decode(org.policy), org_state_of(org, owners))

    def summaries(self, org_id: str) -> Iterator[MemberSummary]:
        """Every member of the organization with their factor summary, one query per page."""
        after: str | None = None
        while True:
            page = self._context.store.list_member_summaries(
                org_id, after=after, limit=SUMMARY_PAGE
            )
            yield from page.items
            if page.next_cursor is None:
                return
            after = page.next_cursor

    def all_summaries(self) -> Iterator[MemberSummary]:
        """Every membership of every organization with its summary, one query per page.

        Ordered by organization, so each organization's members come together.
        """
        after: str | None = None
        while True:
            page = self._context.store.list_all_member_summaries(after=after, limit=SUMMARY_PAGE)
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
        """One member as the policy sees them (membership, then factors)."""
        m = self.membership(org_id, user_id)
        factors = self.factors(user_id)
        return principal_of(m, factors.methods, last_mfa_at=factors.last_mfa_at)

    def principals(self, org_id: str) -> Iterator[Principal]:
        """Every member of the organization as the policy sees them, one query per page."""
        for summary in self.summaries(org_id):
            yield principal_of_summary(summary)

    def member_contexts(self, user_id: str) -> list[tuple[OrgContext, Membership]]:
        """Each organization the user belongs to (not removed), with the membership: one query."""
        return [
            (self.context_of(mc.organization, owners=mc.active_owners), mc.membership)
            for mc in self._context.store.list_user_memberships_with_orgs(user_id)
            if mc.membership.status != "removed"
        ]

    def member_context(self, org_id: str, user_id: str) -> tuple[OrgContext, Membership]:
        """One organization of the user's (removed or not), with the membership: one query.

        Raises:
            NotFoundError: the user is not a member.
        """
        for mc in self._context.store.list_user_memberships_with_orgs(user_id):
            if mc.membership.org_id == org_id:
                return self.context_of(mc.organization, owners=mc.active_owners), mc.membership
        raise NotFoundError("no such member")
