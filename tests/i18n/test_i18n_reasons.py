"""Every policy reason code has a sentence in English and French, filled from its params.

The scenarios below drive the real evaluator (:mod:`mfakit.policy`'s public
functions) and check, for each reason it gives, the text :func:`reason_message`
chooses (its message id), that both languages fill every placeholder, and that
the values the user needs (a formatted deadline, a count, a method's name) are
in the sentence. The last tests prove that the scenarios reach every code the
evaluator can emit, and every text but the fallbacks listed with their reason.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeAlias

import pytest

from mfakit import i18n
from mfakit.errors import PolicyDeniedError
from mfakit.i18n import Catalog, reason_message, user_message
from mfakit.i18n._mo import PoEntry, parse_po
from mfakit.policy import (
    ConfirmationPhrase,
    Decision,
    Exemption,
    GraceAnchor,
    GraceKind,
    LastMethodRemoval,
    Lock,
    LockReason,
    Method,
    MethodKind,
    OrgPolicy,
    OrgState,
    Principal,
    PrincipalKind,
    PrincipalStatus,
    Reason,
    ReasonCode,
    RuleId,
    SensitiveAction,
    can_accept_invitation,
    can_add_method,
    can_enable_enforcement,
    can_grant_exemption,
    can_remove_member,
    can_remove_method,
    can_reset_mfa,
    can_revoke_exemption,
    can_stop_enforcement,
    can_unlock,
    evaluate_login,
    evaluate_sensitive_action,
    evaluate_support_reset,
    gradual_rollout,
    member_compliance,
    reference_console,
    remove_noncompliant,
    sweep,
)

LOCALE_DIR = Path(i18n.__file__).resolve().parent / "locale"
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "translations.md"
LANGUAGES = ("en", "fr")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
SECRET = "SECRET-LOG-TEXT-5521"


def _entries(lang: str) -> dict[str, PoEntry]:
    text = (LOCALE_DIR / lang / "LC_MESSAGES" / "mfakit.po").read_text(encoding="utf-8")
    return {e.msgid: e for e in parse_po(text) if e.msgid}


CATALOGS = {lang: _entries(lang) for lang in LANGUAGES}
POLICY_IDS = frozenset(i for i in i18n.MESSAGE_IDS if i.startswith("policy."))
GENERIC_ID = "error.policy_denied"
GENERIC = {lang: user_message(PolicyDeniedError(), locale=lang) for lang in LANGUAGES}
# Each policy text is its own id here, so reason_message names the id it chose.
ID_CATALOG = Catalog(overrides={"en": {i: i for i in (*POLICY_IDS, GENERIC_ID)}}, shipped=False)


def chosen_id(reason: Reason) -> str:
    """The message id reason_message picks for ``reason``."""
    return reason_message(reason, locale="en", catalog=ID_CATALOG)


# The facts of the scenarios: a fixed time, an organization enforcing MFA for 30 days.
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
ENFORCING = OrgState(id="org-1", enforced_since=NOW - 30 * DAY, enforced_by="o1", owner_count=2)
NOT_ENFORCING = OrgState(id="org-1", owner_count=2)
DEFAULT = OrgPolicy()
REF = reference_console()
MANAGE = frozenset({DEFAULT.manage_permission})


def _method(mid: str, kind: MethodKind = MethodKind.TOTP, label: str = "") -> Method:
    return Method(id=mid, kind=kind, created_at=NOW - 60 * DAY, label=label)


TOTP = _method("totp-1")


def _person(
    pid: str = "m1",
    *,
    kind: PrincipalKind = PrincipalKind.MEMBER,
    methods: tuple[Method, ...] = (TOTP,),
    **kw: Any,
) -> Principal:
    kw.setdefault("last_mfa_at", NOW - timedelta(minutes=1))
    return Principal(id=pid, kind=kind, methods=methods, **kw)


OWNER = _person("o1", kind=PrincipalKind.OWNER)
MEMBER = _person("m1")
BARE = _person("m2", methods=())
# Joined before enforcement: the 7-day grace ended on 2026-02-07 12:00.
OVERDUE_AT = "2026-02-07 12:00 UTC"
LOCKED_OVERDUE = _person(
    "m3", methods=(), lock=Lock(reason=LockReason.MFA_DEADLINE, locked_at=NOW - 20 * DAY)
)
EXEMPT = _person(
    "m4",
    methods=(),
    exemption=Exemption(granted_by="o1", granted_at=NOW - DAY, expires_at=NOW + 10 * DAY),
)

# A value the sentence must show: the same in both languages, or (English, French).
Shown: TypeAlias = str | tuple[str, str]
TOTP_NAME = ("authenticator app (TOTP)", "application d\u2019authentification (TOTP)")
PASSKEY_NAME = ("passkey", "clé d\u2019accès")
BACKUP_NAME = ("set of backup codes", "série de codes de secours")


@dataclasses.dataclass(frozen=True)
class Case:
    """Reasons from one call of the evaluator, and the texts they must get."""

    name: str
    reasons: tuple[Reason, ...]
    # message id -> what its sentence shows; each id must be chosen for one of the reasons.
    expect: Mapping[str, tuple[Shown, ...]]
    # The decision, when the call gave one (not a sweep or a compliance status).
    decision: Decision | None = None


def _reasons(result: Any) -> tuple[Reason, ...]:
    if isinstance(result, Decision):
        return result.reasons
    if hasattr(result, "reasons"):  # MemberCompliance
        return tuple(result.reasons)
    return tuple(r for decision in result for r in decision.reasons)


def case(name: str, result: Any, **expect: tuple[Shown, ...]) -> Case:
    """A scenario; keyword names are message ids without ``policy.`` and with ``__`` for ``.``."""
    ids = {"policy." + key.replace("__", "."): shown for key, shown in expect.items()}
    return Case(name, _reasons(result), ids, result if isinstance(result, Decision) else None)


def _login(policy: OrgPolicy, principal: Principal, org: OrgState = ENFORCING) -> Decision:
    return evaluate_login(policy, org, principal=principal, now=NOW)


def _remove(
    policy: OrgPolicy,
    principal: Principal,
    *,
    method_id: str = "totp-1",
    confirmation: str | None = ConfirmationPhrase.DELETE,
    org: OrgState = ENFORCING,
    **kw: Any,
) -> Decision:
    return can_remove_method(
        policy,
        org,
        principal=principal,
        method_id=method_id,
        confirmation=confirmation,
        now=NOW,
        **kw,
    )


def _enable(
    policy: OrgPolicy,
    principals: tuple[Principal, ...],
    *,
    org: OrgState = NOT_ENFORCING,
    confirmation: str | None = ConfirmationPhrase.ENFORCE,
) -> Decision:
    return can_enable_enforcement(
        policy, org, actor=OWNER, principals=principals, confirmation=confirmation, now=NOW
    )


def _stop(policy: OrgPolicy, org: OrgState = ENFORCING) -> Decision:
    principals = (OWNER, _person("m5", methods=(), grace=_anchor(GraceKind.ENFORCEMENT)))
    return can_stop_enforcement(
        policy,
        org,
        actor=OWNER,
        principals=(*principals, LOCKED_OVERDUE),
        confirmation=ConfirmationPhrase.STOP,
        now=NOW,
    )


def _anchor(kind: GraceKind, started: timedelta = DAY) -> GraceAnchor:
    return GraceAnchor(kind=kind, started_at=NOW - started)


def _by_owner(
    action: Callable[..., Decision],
    principal: Principal,
    *,
    policy: OrgPolicy = DEFAULT,
    org: OrgState = ENFORCING,
    actor: Principal = OWNER,
    **kw: Any,
) -> Decision:
    """An administrator's action on ``principal`` (an owner's, by default)."""
    return action(policy, org, actor=actor, principal=principal, now=NOW, **kw)


def _cases() -> list[Case]:
    lockout = dataclasses.replace(DEFAULT, failed_attempts_lockout=None)
    owners_only = OrgPolicy(
        scope=frozenset({PrincipalKind.OWNER}),
        eligible_methods={PrincipalKind.OWNER: frozenset({MethodKind.TOTP})},
    )
    warn = OrgPolicy(last_method_removal=LastMethodRemoval.WARN)
    keep = OrgPolicy(stop_clears_grace=False, stop_releases_locks=False)
    invited = dataclasses.replace(BARE, status=PrincipalStatus.INVITED)
    admin = _person("a1", permissions=MANAGE)
    return [
        # Signing in.
        case(
            "login: too many failed attempts, locked for 15 minutes",
            _login(DEFAULT, _person(failed_attempts=10)),
            failed_attempts_exceeded__until=("2026-03-02 12:15 UTC",),
        ),
        case(
            "login: too many failed attempts, an administrator unlocks",
            _login(lockout, _person(failed_attempts=10)),
            failed_attempts_exceeded=(("administrator", "administrateur"),),
        ),
        case(
            "login: locked by an administrator",
            _login(DEFAULT, _person(lock=Lock(reason=LockReason.ADMIN, locked_at=NOW - DAY))),
            principal_locked=(("administrator", "administrateur"),),
        ),
        case(
            "login: locked after failed attempts five minutes ago",
            _login(
                DEFAULT,
                _person(
                    lock=Lock(
                        reason=LockReason.FAILED_ATTEMPTS, locked_at=NOW - timedelta(minutes=5)
                    )
                ),
            ),
            principal_locked__until=("2026-03-02 12:10 UTC",),
        ),
        case(
            "login: the failed-attempts lock ran out",
            _login(
                DEFAULT,
                _person(lock=Lock(reason=LockReason.FAILED_ATTEMPTS, locked_at=NOW - DAY)),
            ),
            lock_expired=(),
            compliant=(),
        ),
        case(
            "login: removed",
            _login(DEFAULT, dataclasses.replace(MEMBER, status=PrincipalStatus.REMOVED)),
            principal_removed=(),
        ),
        case("login: invited", _login(DEFAULT, invited), principal_not_member=()),
        case("login: out of scope", _login(owners_only, BARE), out_of_scope=()),
        case("login: exempt", _login(DEFAULT, EXEMPT), exempt__until=("2026-03-12 12:00 UTC",)),
        case("login: not enforced", _login(DEFAULT, BARE, NOT_ENFORCING), not_enforced=()),
        case(
            "login: a new member in grace",
            _login(DEFAULT, dataclasses.replace(BARE, joined_at=NOW - DAY)),
            in_grace__deadline=("2026-03-08 12:00 UTC",),
        ),
        case(
            "login: overdue, the policy locks",
            _login(DEFAULT, BARE),
            deadline_passed__deadline=(OVERDUE_AT,),
            deadline_passed__lock=(OVERDUE_AT,),
        ),
        case(
            "login: overdue, the policy limits sign-in to enrollment",
            _login(gradual_rollout(), BARE),
            deadline_passed__block=("2026-02-14 12:00 UTC",),
        ),
        case(
            "login: overdue, the policy removes",
            _login(remove_noncompliant(), BARE),
            deadline_passed__remove=(OVERDUE_AT,),
        ),
        # Invitations.
        case(
            "invitation: already a member",
            can_accept_invitation(DEFAULT, ENFORCING, invitee=MEMBER, now=NOW),
            not_invited__active=(),
        ),
        case(
            "invitation: removed",
            can_accept_invitation(
                DEFAULT,
                ENFORCING,
                invitee=dataclasses.replace(MEMBER, status=PrincipalStatus.REMOVED),
                now=NOW,
            ),
            not_invited=(),
        ),
        case(
            "invitation: MFA first",
            can_accept_invitation(REF, ENFORCING, invitee=invited, now=NOW),
            invitee_without_mfa=(),
        ),
        case(
            "invitation: joins with a grace period",
            can_accept_invitation(gradual_rollout(), ENFORCING, invitee=invited, now=NOW),
            grace_started__deadline=("2026-03-09 12:00 UTC",),
        ),
        # Step-up before a sensitive action.
        case(
            "sensitive action: verified a minute ago",
            evaluate_sensitive_action(
                DEFAULT, ENFORCING, principal=MEMBER, action=SensitiveAction.REMOVE_METHOD, now=NOW
            ),
            recently_verified__until=("2026-03-02 12:14 UTC",),
        ),
        case(
            "sensitive action: the host's action needs no step-up",
            evaluate_sensitive_action(
                DEFAULT, ENFORCING, principal=MEMBER, action="change_password", now=NOW
            ),
            recently_verified=(),
        ),
        case(
            "sensitive action: verified an hour ago",
            evaluate_sensitive_action(
                DEFAULT,
                ENFORCING,
                principal=dataclasses.replace(MEMBER, last_mfa_at=NOW - timedelta(hours=1)),
                action=SensitiveAction.REMOVE_METHOD,
                now=NOW,
            ),
            step_up_required=(),
        ),
        # Adding a method.
        case(
            "add: a passkey where members may use TOTP only",
            can_add_method(
                REF, ENFORCING, principal=MEMBER, kind=MethodKind.PASSKEY, label="", now=NOW
            ),
            method_kind_not_allowed__allowed=(PASSKEY_NAME, TOTP_NAME),
        ),
        case(
            "add: a kind of method for a role the policy gives none",
            can_add_method(owners_only, ENFORCING, principal=BARE, kind=MethodKind.TOTP, now=NOW),
            method_kind_not_allowed=(),
        ),
        case(
            "add: a second TOTP named like the first",
            can_add_method(
                DEFAULT,
                ENFORCING,
                principal=_person(methods=(_method("totp-1", label="Phone"),)),
                kind=MethodKind.TOTP,
                label=" phone ",
                now=NOW,
            ),
            duplicate_label__method=(TOTP_NAME,),
        ),
        case(
            "add: the first method, ending a grace period",
            can_add_method(
                DEFAULT,
                ENFORCING,
                principal=dataclasses.replace(BARE, grace=_anchor(GraceKind.LOST_METHOD)),
                kind=MethodKind.TOTP,
                now=NOW,
            ),
            method_added__method=(TOTP_NAME,),
            compliant=(),
            grace_cleared=(),
            second_method_recommended=(),
        ),
        case(
            "add: backup codes",
            can_add_method(
                DEFAULT, ENFORCING, principal=MEMBER, kind=MethodKind.BACKUP_CODES, now=NOW
            ),
            method_added__method=(BACKUP_NAME,),
            backup_codes_do_not_count=(),
        ),
        # Removing a method.
        case(
            "remove: no such method", _remove(DEFAULT, MEMBER, method_id="x"), method_not_found=()
        ),
        case(
            "remove: nothing typed yet",
            _remove(DEFAULT, MEMBER, confirmation=None),
            confirmation_required__phrase=(('"DELETE"', "«\u00a0DELETE\u00a0»"),),
        ),
        case(
            "remove: the wrong word typed",
            _remove(DEFAULT, MEMBER, confirmation="delete"),
            confirmation_mismatch__phrase=(('"DELETE"', "«\u00a0DELETE\u00a0»"),),
        ),
        case(
            "remove: two other methods remain",
            _remove(
                DEFAULT,
                _person(
                    methods=(TOTP, _method("totp-2"), _method("key-1", MethodKind.SECURITY_KEY))
                ),
            ),
            other_methods_remain__count=(("2 other sign-in methods", "2 autres méthodes"),),
        ),
        case(
            "remove: a re-enrolled TOTP replaces the old one",
            _remove(DEFAULT, MEMBER, replacement=_method("totp-new")),
            replacement_confirmed=(),
            other_methods_remain__count=(("1 other sign-in method ", "1 autre méthode"),),
        ),
        case(
            "remove: backup codes that never counted",
            _remove(
                DEFAULT,
                _person(methods=(_method("codes-1", MethodKind.BACKUP_CODES),)),
                method_id="codes-1",
            ),
            method_not_required=(),
        ),
        case(
            "remove: the last method, not enforced",
            _remove(DEFAULT, MEMBER, org=NOT_ENFORCING),
            not_enforced=(),
        ),
        case(
            "remove: the sole owner's last method",
            _remove(DEFAULT, OWNER, org=dataclasses.replace(ENFORCING, owner_count=1)),
            sole_owner_last_method=(),
        ),
        case(
            "remove: the last method, out of scope",
            _remove(OrgPolicy(scope=frozenset({PrincipalKind.OWNER})), _person()),
            out_of_scope=(),
        ),
        case(
            "remove: the last method, exempt",
            _remove(DEFAULT, dataclasses.replace(EXEMPT, methods=(TOTP,))),
            exempt__until=("2026-03-12 12:00 UTC",),
        ),
        case(
            "remove: the last method, refused",
            _remove(remove_noncompliant(), MEMBER),
            last_method_refused=(),
        ),
        case(
            "remove: the last method, a grace period starts",
            _remove(REF, MEMBER),
            grace_started__last_method=("2026-03-09 12:00 UTC",),
        ),
        case(
            "remove: the last method, warned of the running deadline",
            _remove(warn, dataclasses.replace(MEMBER, joined_at=NOW - DAY)),
            last_method_warning__deadline=("2026-03-08 12:00 UTC",),
        ),
        case(
            "remove: the last method, warned that the deadline passed",
            _remove(warn, MEMBER),
            last_method_warning__overdue=(OVERDUE_AT,),
        ),
        case(
            "remove: by a member without the permission",
            _remove(DEFAULT, MEMBER, actor=_person("m9")),
            actor_not_authorized=(),
        ),
        case(
            "remove: by an owner without MFA",
            _remove(DEFAULT, MEMBER, actor=_person("o2", kind=PrincipalKind.OWNER, methods=())),
            actor_lacks_mfa=(),
        ),
        # Enforcement.
        case(
            "enable: already enforced",
            _enable(DEFAULT, (), org=ENFORCING),
            already_enforced__since=("2026-01-31 12:00 UTC",),
        ),
        case(
            "enable: nothing typed yet",
            _enable(DEFAULT, (OWNER,), confirmation=None),
            confirmation_required__phrase=(('"ENFORCE"', "«\u00a0ENFORCE\u00a0»"),),
        ),
        case(
            "enable: two users without MFA",
            _enable(REF, (OWNER, BARE, _person("m6", methods=()))),
            principals_without_mfa__count=(("2 users have", "2 utilisateurs n\u2019ont"),),
        ),
        case(
            "enable: one user without MFA",
            _enable(REF, (OWNER, BARE)),
            principals_without_mfa__count=(("1 user has", "1 utilisateur n\u2019a"),),
        ),
        case(
            "enable: grace periods start, one resumes",
            _enable(
                gradual_rollout(),
                (OWNER, BARE, _person("m7", methods=(), grace=_anchor(GraceKind.ENFORCEMENT))),
            ),
            enforcement_enabled=(),
            grace_resumed__count=(("1 user gets back", "1 utilisateur retrouve"),),
            grace_started__count=(
                "2026-03-16 12:00 UTC",
                ("1 user has until", "1 utilisateur a jusqu\u2019au"),
            ),
        ),
        case("stop: not enforced", _stop(DEFAULT, NOT_ENFORCING), not_enforced=()),
        case(
            "stop: grace periods cleared, locks released",
            _stop(DEFAULT),
            enforcement_stopped=(),
            owners_notified__count=(("1 owner will", "1 propriétaire sera"),),
            grace_cleared__count=(("1 running grace period", "1 délai de grâce"),),
            locks_released__count=(("1 account locked", "1 compte verrouillé"),),
        ),
        case(
            "stop: grace periods and locks kept",
            _stop(keep),
            grace_cleared__kept=(("are kept", "sont conservés"),),
            locks_released__kept=(("stay locked", "restent verrouillés"),),
        ),
        # Unlocking.
        case(
            "unlock: oneself",
            _by_owner(can_unlock, OWNER),
            cannot_unlock_self=(),
        ),
        case(
            "unlock: not locked",
            _by_owner(can_unlock, MEMBER),
            not_locked=(),
        ),
        case(
            "unlock: overdue, a new grace period",
            _by_owner(can_unlock, LOCKED_OVERDUE),
            unlocked=(),
            grace_started__deadline=("2026-03-03 12:00 UTC",),
        ),
        case(
            "unlock: overdue, no new grace period",
            _by_owner(can_unlock, LOCKED_OVERDUE, policy=OrgPolicy(unlock_restarts_grace=False)),
            still_overdue__deadline=(OVERDUE_AT,),
        ),
        # Compliance and the scheduler.
        case(
            "compliance: a reminder is due",
            member_compliance(
                DEFAULT,
                ENFORCING,
                principal=dataclasses.replace(BARE, joined_at=NOW - 5 * DAY),
                now=NOW,
            ),
            in_grace__deadline=("2026-03-04 12:00 UTC",),
            reminder_due=(),
        ),
        case(
            "sweep: a reminder, a lock that ran out, an overdue member locked",
            sweep(
                DEFAULT,
                ENFORCING,
                principals=[
                    dataclasses.replace(BARE, joined_at=NOW - 5 * DAY),
                    _person(lock=Lock(reason=LockReason.FAILED_ATTEMPTS, locked_at=NOW - DAY)),
                    _person("m8", methods=()),
                ],
                now=NOW,
            ),
            reminder_due__deadline=("2026-03-04 12:00 UTC",),
            lock_expired=(),
            deadline_passed__lock=(OVERDUE_AT,),
        ),
        # Recovery.
        case(
            "reset: oneself",
            _by_owner(can_reset_mfa, OWNER),
            cannot_act_on_self=(),
        ),
        case(
            "reset: an owner, by a permission holder",
            _by_owner(can_reset_mfa, _person("o2", kind=PrincipalKind.OWNER), actor=admin),
            owner_protected=(),
        ),
        case(
            "reset: a removed user",
            _by_owner(can_reset_mfa, dataclasses.replace(MEMBER, status=PrincipalStatus.REMOVED)),
            principal_removed=(),
        ),
        case(
            "reset: an invited user",
            _by_owner(can_reset_mfa, invited),
            principal_not_member=(),
        ),
        case(
            "reset: nothing to reset",
            _by_owner(can_reset_mfa, BARE),
            no_methods_to_reset=(),
        ),
        case(
            "reset: a user of two other organizations",
            _by_owner(can_reset_mfa, MEMBER, other_organizations=2),
            account_shared__count=(("2 other organizations", "2 autres organisations"),),
        ),
        case(
            "reset: a locked member with two methods",
            _by_owner(
                can_reset_mfa,
                dataclasses.replace(
                    LOCKED_OVERDUE, methods=(TOTP, _method("codes-1", MethodKind.BACKUP_CODES))
                ),
            ),
            mfa_reset__count=(("2 sign-in methods", "2 méthodes de connexion"),),
            unlocked=(),
            grace_started__deadline=("2026-03-09 12:00 UTC",),
        ),
        case(
            "support reset: a removed membership",
            evaluate_support_reset(
                DEFAULT,
                ENFORCING,
                principal=dataclasses.replace(MEMBER, status=PrincipalStatus.REMOVED),
                actor_id="support-1",
                now=NOW,
            ),
            mfa_reset__count=(("1 sign-in method ", "1 méthode de connexion"),),
        ),
        case(
            "remove member: the only active owner",
            _by_owner(
                can_remove_member,
                OWNER,
                org=dataclasses.replace(ENFORCING, owner_count=1),
                actor=_person("o2", kind=PrincipalKind.OWNER),
            ),
            sole_owner=(),
        ),
        case(
            "remove member: allowed",
            _by_owner(can_remove_member, MEMBER),
            member_removed=(),
        ),
        case(
            "exemption: not allowed by the policy",
            _by_owner(
                can_grant_exemption, BARE, until=NOW + DAY, policy=OrgPolicy(allow_exemptions=False)
            ),
            exemptions_disabled=(),
        ),
        case(
            "exemption: longer than 90 days",
            _by_owner(can_grant_exemption, BARE, until=NOW + 100 * DAY),
            exemption_too_long__latest=("2026-05-31 12:00 UTC",),
        ),
        case(
            "exemption: granted",
            _by_owner(can_grant_exemption, BARE, until=NOW + 10 * DAY),
            exemption_granted__until=("2026-03-12 12:00 UTC",),
        ),
        case(
            "exemption: none to revoke",
            _by_owner(can_revoke_exemption, BARE),
            not_exempt=(),
        ),
        case(
            "exemption: revoked, a grace period starts",
            _by_owner(can_revoke_exemption, EXEMPT),
            exemption_revoked=(),
            grace_started__deadline=("2026-03-09 12:00 UTC",),
        ),
    ]


CASES = _cases()
SEEN_REASONS = [reason for c in CASES for reason in c.reasons]

# Texts the evaluator never picks: the base text of a code whose reasons always
# carry the params of a variant. They remain the text of a reason whose params
# are missing or unusable (a hand-built or stored one), as tested below.
FALLBACK_ONLY: Mapping[str, str] = {
    "policy.confirmation_required": "the evaluator always gives the phrase",
    "policy.confirmation_mismatch": "the evaluator always gives the phrase",
    "policy.deadline_passed": "an overdue principal always has a deadline",
    "policy.in_grace": "a grace period always has a deadline",
    "policy.exempt": "an exemption in force always has an end",
    "policy.already_enforced": "the organization state always says since when",
    "policy.principals_without_mfa": "the refusal always counts them",
    "policy.grace_started": "a grace period always has a deadline",
    "policy.grace_resumed": "the evaluator always counts them",
    "policy.owners_notified": "the evaluator always counts them",
    "policy.locks_released": "stopping enforcement always says what the policy does",
    "policy.duplicate_label": "the evaluator always gives the kind",
    "policy.method_added": "the evaluator always gives the kind",
    "policy.other_methods_remain": "the evaluator always counts them",
    "policy.last_method_warning": "the warning always has the deadline",
    "policy.still_overdue": "an overdue principal always has a deadline",
    "policy.account_shared": "the evaluator always counts the organizations",
    "policy.mfa_reset": "the evaluator always counts the methods",
    "policy.exemption_too_long": "the evaluator always gives the latest end",
    "policy.exemption_granted": "the evaluator always gives the end",
}


def _shown(value: Shown, lang: str) -> str:
    return value if isinstance(value, str) else value[LANGUAGES.index(lang)]


def test_every_reason_code_has_a_base_text_in_both_catalogs() -> None:
    """From the enum: each code has ``policy.<code>`` in en and fr, needing no param."""
    for code in ReasonCode:
        for lang in LANGUAGES:
            entry = CATALOGS[lang].get(f"policy.{code.value}")
            assert entry is not None, (lang, code)
            assert entry.msgid_plural is None, (lang, code)
            assert not PLACEHOLDER.search(entry.msgstr[0]), (lang, code)
    assert {i.split(".")[1] for i in POLICY_IDS} == {code.value for code in ReasonCode}
    assert set(i18n.POLICY_MESSAGE_IDS) == {code.value for code in ReasonCode}


@pytest.mark.parametrize("code", list(ReasonCode), ids=str)
def test_a_reason_without_params_gets_its_base_text(code: ReasonCode) -> None:
    """Any code, params or not, gets its own translated text; the log message is never read."""
    reason = Reason(code=code, rule=RuleId.LOCK_ACTIVE, message=SECRET)
    assert chosen_id(reason) == f"policy.{code.value}"
    english, french = (reason_message(reason, locale=lang) for lang in LANGUAGES)
    assert english != french
    for lang, text in zip(LANGUAGES, (english, french), strict=True):
        assert text not in (GENERIC[lang], f"policy.{code.value}")
        assert SECRET not in text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_evaluators_reasons_are_explained_in_both_languages(case: Case) -> None:
    """Each expected text is chosen for a reason, and shows its values in en and fr."""
    assert case.reasons
    by_id: dict[str, Reason] = {}
    for reason in case.reasons:
        by_id.setdefault(chosen_id(reason), reason)
    for message_id, shown in case.expect.items():
        assert message_id in by_id, (message_id, sorted(by_id))
        reason = by_id[message_id]
        texts = {lang: reason_message(reason, locale=lang) for lang in LANGUAGES}
        assert texts["en"] != texts["fr"]
        for lang, text in texts.items():
            assert text != GENERIC[lang]
            assert not PLACEHOLDER.search(text), text
            assert not text.startswith("policy."), text
            for value in shown:
                assert _shown(value, lang) in text, (lang, text)


@pytest.mark.parametrize("reason", SEEN_REASONS, ids=lambda r: r.code.value)
def test_no_reason_of_the_evaluator_is_generic_or_half_filled(reason: Reason) -> None:
    """Every reason the scenarios produced, expected or not, reads as a finished sentence."""
    for lang in LANGUAGES:
        text = reason_message(reason, locale=lang, format_datetime=lambda d: d.strftime("%d/%m"))
        assert text != GENERIC[lang]
        assert "{" not in text, text


def test_the_scenarios_reach_every_code() -> None:
    """Every ReasonCode is emitted by at least one scenario: a new code needs a scenario."""
    missing = set(ReasonCode) - {r.code for r in SEEN_REASONS}
    assert not missing, sorted(missing)


def test_the_scenarios_reach_every_text_but_the_fallbacks() -> None:
    """Every policy text is chosen for a real reason, except the listed fallbacks."""
    seen = {chosen_id(r) for r in SEEN_REASONS}
    assert GENERIC_ID not in seen
    assert POLICY_IDS - seen == set(FALLBACK_ONLY)
    expected = {i for c in CASES for i in c.expect}
    assert seen == expected, sorted(seen ^ expected)


@pytest.mark.parametrize(
    ("code", "params"),
    [
        (ReasonCode.DEADLINE_PASSED, {"action": "lock", "deadline": "soon"}),
        (ReasonCode.DEADLINE_PASSED, {"action": "explode", "deadline": None}),
        (ReasonCode.PRINCIPAL_LOCKED, {"unlock": "time", "unlock_at": 42}),
        (ReasonCode.PRINCIPALS_WITHOUT_MFA, {"count": -1}),
        (ReasonCode.OWNERS_NOTIFIED, {"count": True}),
        (ReasonCode.MFA_RESET, {"count": "3"}),
        (ReasonCode.GRACE_CLEARED, {"policy": 1, "count": 2}),
        (ReasonCode.METHOD_ADDED, {"kind": "smoke_signal"}),
        (ReasonCode.METHOD_KIND_NOT_ALLOWED, {"kind": "totp", "allowed": ("totp", "pigeon")}),
        (ReasonCode.CONFIRMATION_REQUIRED, {"phrase": "  "}),
        (ReasonCode.CONFIRMATION_MISMATCH, {"phrase": None}),
        (ReasonCode.NOT_INVITED, {"status": ["active"]}),
    ],
)
def test_unusable_params_give_the_base_text(code: ReasonCode, params: dict[str, Any]) -> None:
    """A malformed or foreign param never leaves a placeholder: the base text applies."""
    reason = Reason(code=code, rule=RuleId.LOCK_ACTIVE, message=SECRET, params=params)
    assert chosen_id(reason) == f"policy.{code.value}"


def test_params_read_back_from_json_choose_the_same_text() -> None:
    """A decision stored as JSON (lists, ISO strings) explains itself as the original does."""
    for reason in SEEN_REASONS:
        data = reason.to_dict()
        again = Reason(
            code=ReasonCode(data["code"]),
            rule=RuleId(data["rule"]),
            message="",
            params=data["params"],
        )
        for lang in LANGUAGES:
            assert reason_message(again, locale=lang) == reason_message(reason, locale=lang)


def test_user_message_gives_the_first_reasons_text() -> None:
    """A refusal raised from a real decision reads as reason_message of its first reason."""
    refused = [c.decision for c in CASES if c.decision is not None and not c.decision.allowed]
    assert len(refused) >= 20
    for decision in refused:
        with pytest.raises(PolicyDeniedError) as caught:
            decision.require_allowed()
        for lang in LANGUAGES:
            assert user_message(caught.value, locale=lang) == reason_message(
                decision.reasons[0], locale=lang
            )


def test_plural_forms_follow_each_language() -> None:
    """0 is plural in English and singular in French; 1 singular in both; 2 plural in both."""
    texts: dict[tuple[str, int], str] = {}
    for count in (0, 1, 2):
        reason = Reason(
            code=ReasonCode.OWNERS_NOTIFIED,
            rule=RuleId.STOP_NOTIFY_OWNERS,
            message=SECRET,
            params={"count": count},
        )
        for lang in LANGUAGES:
            texts[lang, count] = reason_message(reason, locale=lang)
    assert texts["en", 0].startswith("0 owners will")
    assert texts["en", 1].startswith("1 owner will")
    assert texts["en", 2].startswith("2 owners will")
    assert texts["fr", 0].startswith("0 propriétaire sera")
    assert texts["fr", 1].startswith("1 propriétaire sera")
    assert texts["fr", 2].startswith("2 propriétaires seront")


def test_a_host_override_and_date_format_apply_to_variants() -> None:
    """A variant is overridable like any text, and dates use the host's formatter."""
    reason = Reason(
        code=ReasonCode.IN_GRACE,
        rule=RuleId.GRACE_DEADLINE,
        message=SECRET,
        params={"deadline": "2026-03-08T12:00:00+00:00"},
    )
    catalog = Catalog(overrides={"fr": {"policy.in_grace.deadline": "Avant le {deadline}."}})
    french = reason_message(
        reason, locale="fr-CA", catalog=catalog, format_datetime=lambda d: d.strftime("%d/%m/%Y")
    )
    assert french == "Avant le 08/03/2026."
    assert reason_message(reason, locale="en", catalog=catalog).endswith(
        "before 2026-03-08 12:00 UTC to keep your access."
    )


def test_the_guide_lists_every_variant() -> None:
    """The translations guide's table names exactly the variant ids the catalogs have."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("\n## Policy reasons\n") : text.index("\n## Message ids\n")]
    listed = set(re.findall(r"`(policy\.[a-z_]+\.[a-z_]+)`", section))
    assert listed == {i for i in POLICY_IDS if i.count(".") == 2}
