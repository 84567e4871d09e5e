"""How the console words method kinds, roles, lists and refusals in its messages.

Every word comes from the catalog (:mod:`console.i18n`); this module only
chooses the message ids and puts the pieces together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mfakit.errors import MfaError
from mfakit.i18n import reason_message, user_message
from mfakit.policy import ComplianceStatus, MethodKind, ObligationKind, PrincipalKind, ReasonCode

from .i18n import CATALOG, current_locale, t

#: The methods the console offers, in the order it lists them.
KINDS = (MethodKind.TOTP, MethodKind.PASSKEY, MethodKind.SECURITY_KEY)


@dataclass(frozen=True, slots=True)
class KindWords:
    """The message ids that name a kind of method in a sentence."""

    #: One of them: "a passkey".
    one: str
    #: All of them: "passkeys".
    all: str


KIND_WORDS = {
    MethodKind.TOTP: KindWords("console.kind.one.totp", "console.kind.all.totp"),
    MethodKind.PASSKEY: KindWords("console.kind.one.passkey", "console.kind.all.passkey"),
    MethodKind.SECURITY_KEY: KindWords(
        "console.kind.one.security_key", "console.kind.all.security_key"
    ),
}


@dataclass(frozen=True, slots=True)
class RoleWords:
    """The message ids that name a role in an organization (a principal's kind)."""

    #: A table cell: "Member".
    title: str
    #: "You are invited as ...": "a member".
    one: str
    #: Everyone of the role: "members".
    all: str
    #: An organization and the user's role there: "Acme (as a member)".
    in_org: str
    #: "Members of this organization may not use passkeys", alone and with what to use.
    refused: str
    refused_instead: str


ROLE_WORDS = {
    PrincipalKind.OWNER: RoleWords(
        "console.role.owner",
        "console.role.one.owner",
        "console.role.all.owner",
        "console.guidance.as.owner",
        "console.refusal.kind.owner",
        "console.refusal.kind.owner.instead",
    ),
    PrincipalKind.MEMBER: RoleWords(
        "console.role.member",
        "console.role.one.member",
        "console.role.all.member",
        "console.guidance.as.member",
        "console.refusal.kind.member",
        "console.refusal.kind.member.instead",
    ),
    PrincipalKind.GUEST: RoleWords(
        "console.role.guest",
        "console.role.one.guest",
        "console.role.all.guest",
        "console.guidance.as.guest",
        "console.refusal.kind.guest",
        "console.refusal.kind.guest.instead",
    ),
}
#: A member's MFA status, as the organization page says it.
STATUSES = {
    ComplianceStatus.COMPLIANT: "console.status.compliant",
    ComplianceStatus.NOT_ENROLLED: "console.status.not_enrolled",
    ComplianceStatus.IN_GRACE: "console.status.in_grace",
    ComplianceStatus.OVERDUE: "console.status.overdue",
    ComplianceStatus.EXEMPT: "console.status.exempt",
    ComplianceStatus.LOCKED: "console.status.locked",
}


def one_of(items: list[str]) -> str:
    """The items as a sentence offers one of them: "a, b or c", in the user's language."""
    if len(items) < 2:
        return "".join(items)
    return t("console.list.or", first=", ".join(items[:-1]), last=items[-1])


def all_of(items: list[str]) -> str:
    """The items as a sentence names them all: "a, b and c", in the user's language."""
    if len(items) < 2:
        return "".join(items)
    return t("console.list.and", first=", ".join(items[:-1]), last=items[-1])


def kinds_text(kinds: Iterable[MethodKind | str]) -> str:
    """The kinds as a sentence names them: "an authenticator app (TOTP) or a passkey"."""
    wanted = {MethodKind(k) for k in kinds if k in set(KINDS)}
    names = [t(KIND_WORDS[k].one) for k in KINDS if k in wanted]
    return one_of(names) if names else t("console.kind.none")


def _kind_refused(params: Any) -> str | None:
    """The console's sentence for a kind of method the policy refuses, with what to use."""
    try:
        kind = KIND_WORDS[MethodKind(params["kind"])]
        role = ROLE_WORDS[PrincipalKind(params["principal_kind"])]
    except (KeyError, TypeError, ValueError):
        return None
    allowed = [k for k in params.get("allowed", ()) if k in set(KINDS)]
    if allowed:
        return t(role.refused_instead, kinds=t(kind.all), allowed=kinds_text(allowed))
    return t(role.refused, kinds=t(kind.all))


def refusal_text(error: MfaError, decision: Any) -> str:
    """A policy refusal as a sentence, naming the methods that would satisfy the policy.

    The first reason is the one that refused (mfakit's
    :func:`~mfakit.i18n.reason_message` words it; the console's catalog
    rewords a few); later ones only add context.
    """
    locale = current_locale()
    reasons = getattr(decision, "reasons", ())
    first = reasons[0] if reasons else None
    text = None
    if first is not None and first.code is ReasonCode.METHOD_KIND_NOT_ALLOWED:
        # The console names the role and what to use instead, as its security page does.
        text = _kind_refused(first.params)
    if text is None and first is not None:
        text = reason_message(first, locale=locale, catalog=CATALOG)
    if text is None:
        text = user_message(error, locale=locale, catalog=CATALOG)
    for obligation in getattr(decision, "obligations", ()):
        enrol = obligation.kind in (ObligationKind.ENROLL_NOW, ObligationKind.ENROLL_BY)
        if enrol and obligation.method_kinds:
            return t("console.refusal.counts", text=text, kinds=kinds_text(obligation.method_kinds))
    return text
