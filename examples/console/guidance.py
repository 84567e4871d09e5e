"""What the organizations' MFA policies mean for one user, in the console's words.

The pages use it to offer only the methods that every organization of the
user allows (and to say why the others are missing), to word a refusal with
the methods that would satisfy it, and to name who can unlock a locked member.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

from flask import current_app

from mfakit.errors import MfaError, PolicyDeniedError
from mfakit.policy import (
    ComplianceStatus,
    LastMethodRemoval,
    MethodKind,
    PostDeadlineAction,
    PrincipalKind,
    ReasonCode,
)
from mfakit.repositories import MfaStore
from mfakit.service import decode_policy

from .data import User
from .i18n import t, tn
from .web import accounts, service
from .wording import KIND_WORDS, KINDS, ROLE_WORDS, all_of, kinds_text


def _store() -> MfaStore:
    return cast(MfaStore, current_app.extensions["mfa_store"])


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodRules:
    """Which methods a user may add, and which organization refuses each of the others."""

    allowed: frozenset[MethodKind]
    #: A refused kind: the organizations (and the role there) that refuse it.
    refused_by: dict[MethodKind, list[tuple[str, PrincipalKind]]] = field(default_factory=dict)

    def allows(self, kind: MethodKind | str) -> bool:
        """Whether the user may add a method of ``kind``."""
        return MethodKind(kind) in self.allowed

    def why_not(self, kind: MethodKind | str) -> str:
        """Why ``kind`` is not offered, and what to use instead."""
        kind = MethodKind(kind)
        refusing = self.refused_by.get(kind, [])
        names = [t(ROLE_WORDS[role].in_org, org=name) for name, role in refusing]
        who = all_of(names) if names else t("console.guidance.your_organization")
        count = max(1, len(names))
        if self.allowed:
            return tn(
                "console.guidance.not_allowed.instead",
                count,
                who=who,
                kinds=t(KIND_WORDS[kind].all),
                allowed=kinds_text(self.allowed),
            )
        return tn("console.guidance.not_allowed", count, who=who, kinds=t(KIND_WORDS[kind].all))


def method_rules(user_id: str) -> MethodRules:
    """The methods every organization of the user allows them (all of them outside any)."""
    allowed = set(KINDS)
    refused_by: dict[MethodKind, list[tuple[str, PrincipalKind]]] = {}
    for membership in _store().list_user_memberships(user_id):
        if membership.status == "removed":
            continue
        org = _store().get_organization(membership.org_id)
        if org is None:  # pragma: no cover - a membership outlives no organization
            continue
        kind = PrincipalKind(membership.kind)
        eligible = decode_policy(org.policy).eligible_methods[kind]
        for method in KINDS:
            if method not in eligible:
                allowed.discard(method)
                refused_by.setdefault(method, []).append((org.name, kind))
    return MethodRules(allowed=frozenset(allowed), refused_by=refused_by)


def administrators(org_id: str) -> list[User]:
    """The people who can unlock a member of ``org_id``: its active owners."""
    found = []
    after: str | None = None
    while True:
        page = _store().list_memberships(org_id, after=after, limit=200)
        for m in page.items:
            if m.kind == "owner" and m.status == "active":
                user = accounts().user(m.user_id)
                if user is not None:
                    found.append(user)
        if page.next_cursor is None:
            return found
        after = page.next_cursor


@dataclass(frozen=True, slots=True, kw_only=True)
class Lockout:
    """An organization that keeps the user out, and who can let them back in."""

    org_id: str
    org_name: str
    administrators: list[User]


_LOCK_REASONS = frozenset(
    {ReasonCode.PRINCIPAL_LOCKED, ReasonCode.DEADLINE_PASSED, ReasonCode.PRINCIPAL_REMOVED}
)


def lockouts(user_id: str, org_id: str | None, exc: MfaError) -> list[Lockout]:
    """The organizations whose lock (or passed deadline) refused this sign-in.

    ``org_id`` is the organization signed in to (a member's sign-in); a
    password sign-in is refused by any organization of the user, so each
    membership that is locked or overdue is named.
    """
    if not isinstance(exc, PolicyDeniedError):
        return []
    reasons = getattr(exc.decision, "reasons", ())
    if not any(r.code in _LOCK_REASONS for r in reasons):
        return []
    if org_id is not None:
        candidates = [org_id]
    else:
        candidates = [
            m.org_id
            for m in _store().list_user_memberships(user_id)
            if m.status != "removed"
            and service().member_compliance(m.org_id, user_id).status
            in (ComplianceStatus.LOCKED, ComplianceStatus.OVERDUE)
        ]
    found = []
    for candidate in candidates:
        org = _store().get_organization(candidate)
        found.append(
            Lockout(
                org_id=candidate,
                org_name=org.name if org else candidate,
                administrators=administrators(candidate),
            )
        )
    return found


#: What a last-method warning says happens after the deadline, by policy.
_AFTER_DEADLINE = {
    PostDeadlineAction.LOCK: "console.guidance.last_method.grace.lock",
    PostDeadlineAction.BLOCK: "console.guidance.last_method.grace.block",
    PostDeadlineAction.REMOVE: "console.guidance.last_method.grace.remove",
}


def last_method_warnings(
    user_id: str, methods: Iterable[tuple[str, MethodKind]]
) -> dict[str, list[str]]:
    """What deleting each method would do, for the methods an enforcing organization needs.

    ``methods`` are the user's methods as (key, kind). A method is named when
    deleting it leaves the user with fewer qualifying methods than an
    enforcing organization requires; the warning gives the deadline the
    policy would set now.
    """
    listed = list(methods)
    now = datetime.now(UTC)
    warnings: dict[str, list[str]] = {}
    for membership in _store().list_user_memberships(user_id):
        org = _store().get_organization(membership.org_id)
        if membership.status == "removed" or org is None or not org.enforced:
            continue
        policy = decode_policy(org.policy)
        kind = PrincipalKind(membership.kind)
        qualifying = [key for key, k in listed if k in policy.qualifying_kinds(kind)]
        if kind not in policy.scope or len(qualifying) > policy.min_methods:
            continue
        if policy.last_method_removal is LastMethodRemoval.REFUSE:
            text = t("console.guidance.last_method.refuse", org=org.name)
        elif policy.last_method_removal is LastMethodRemoval.GRACE:
            deadline = now + policy.grace_lost_method
            text = t(
                _AFTER_DEADLINE[policy.after_deadline],
                org=org.name,
                deadline=f"{deadline:%Y-%m-%d %H:%M} UTC",
            )
        else:
            text = t("console.guidance.last_method.allow", org=org.name)
        for key in qualifying:
            warnings.setdefault(key, []).append(text)
    return warnings
