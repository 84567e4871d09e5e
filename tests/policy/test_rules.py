"""One table-driven test per policy rule, named after the rule it proves (``RuleId``)."""

from __future__ import annotations

import dataclasses
import sys
from datetime import timedelta
from typing import Any

import pytest

from mfakit.errors import ConfigurationError
from mfakit.policy import (
    ActivationMode,
    ComplianceStatus,
    EffectKind,
    Exemption,
    GraceKind,
    LastMethodRemoval,
    Lock,
    LockReason,
    MethodKind,
    NotificationKind,
    ObligationKind,
    OrgPolicy,
    Outcome,
    PostDeadlineAction,
    PrincipalKind,
    PrincipalStatus,
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
    due_reminders,
    evaluate_login,
    evaluate_sensitive_action,
    evaluate_support_reset,
    member_compliance,
    reference_console,
    sweep,
)

from .helpers import DAY, ENFORCED_AT, NOW, SECOND, anchor, bare, method, org, owner, person

REF = reference_console()
FULLWIDTH = "\uff25\uff2e\uff26\uff2f\uff32\uff23\uff25"  # "ENFORCE" in fullwidth letters
MISMATCH = (Outcome.REQUIRE_CONFIRMATION, ReasonCode.CONFIRMATION_MISMATCH)
T = MethodKind.TOTP
P = MethodKind.PASSKEY
B = MethodKind.BACKUP_CODES


def _effects(decision: Any) -> list[tuple[EffectKind, str]]:
    return [(e.kind, e.subject) for e in decision.effects]


def _enable(policy: OrgPolicy = REF, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "actor": owner(),
        "principals": [owner()],
        "confirmation": "ENFORCE",
        "now": NOW,
    }
    args.update(kw)
    return can_enable_enforcement(policy, org(enforced=False), **args)


def _remove(policy: OrgPolicy = REF, *, state: Any = None, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "principal": person(),
        "method_id": "totp-0",
        "confirmation": "DELETE",
        "now": NOW,
    }
    args.update(kw)
    return can_remove_method(policy, state or org(), **args)


@pytest.mark.parametrize(
    ("typed", "outcome", "code"),
    [
        ("ENFORCE", Outcome.ALLOW, None),
        ("  ENFORCE\n", Outcome.ALLOW, None),
        (None, Outcome.REQUIRE_CONFIRMATION, ReasonCode.CONFIRMATION_REQUIRED),
        ("enforce", Outcome.REQUIRE_CONFIRMATION, ReasonCode.CONFIRMATION_MISMATCH),
        ("ENFORCE!", Outcome.REQUIRE_CONFIRMATION, ReasonCode.CONFIRMATION_MISMATCH),
        ("EN FORCE", Outcome.REQUIRE_CONFIRMATION, ReasonCode.CONFIRMATION_MISMATCH),
        (
            FULLWIDTH,
            Outcome.REQUIRE_CONFIRMATION,
            ReasonCode.CONFIRMATION_MISMATCH,
        ),
        ("", Outcome.REQUIRE_CONFIRMATION, ReasonCode.CONFIRMATION_MISMATCH),
        ("STOP", Outcome.REQUIRE_CONFIRMATION, ReasonCode.CONFIRMATION_MISMATCH),
    ],
)
def test_rule_confirmation_phrase(typed: str | None, outcome: Outcome, code: Any) -> None:
    """The phrase matches exactly and case-sensitively, outer whitespace ignored."""
    decision = _enable(confirmation=typed)
    assert decision.outcome is outcome
    if code is None:
        assert RuleId.CONFIRMATION_PHRASE not in decision.rules
    else:
        assert decision.codes == (code,)
        assert decision.obligations[0].kind is ObligationKind.CONFIRM_PHRASE
        assert decision.obligations[0].phrase == "ENFORCE"
        assert decision.effects == ()


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (owner(), True),
        (person("admin", permissions=frozenset({"organization:mfa:manage"})), True),
        (person("m1"), False),
        (person("g1", kind=PrincipalKind.GUEST), False),
        (person("m1", permissions=frozenset({"something:else"})), False),
        (owner(status=PrincipalStatus.REMOVED), False),
        (owner(status=PrincipalStatus.INVITED), False),
        (owner(lock=Lock(reason=LockReason.ADMIN, locked_at=NOW - DAY)), False),
    ],
)
def test_rule_actor_authorized(actor: Any, allowed: bool) -> None:
    """Only an active, unlocked owner or a holder of the permission manages enforcement."""
    decision = _enable(actor=actor)
    assert decision.allowed is allowed
    assert (ReasonCode.ACTOR_NOT_AUTHORIZED in decision.codes) is not allowed


@pytest.mark.parametrize(
    ("kinds", "allowed"),
    [
        ((), False),
        ((B,), False),
        ((P,), True),
        ((T,), True),
    ],
)
def test_rule_actor_has_mfa(kinds: tuple[MethodKind, ...], allowed: bool) -> None:
    """The actor must hold a qualifying method (backup codes alone do not count)."""
    decision = _enable(actor=owner(with_methods=kinds), principals=[])
    assert decision.allowed is allowed
    assert (ReasonCode.ACTOR_LACKS_MFA in decision.codes) is not allowed


@pytest.mark.parametrize(
    ("last_mfa", "action", "outcome"),
    [
        (None, SensitiveAction.REMOVE_METHOD, Outcome.REQUIRE_STEP_UP),
        (NOW - timedelta(minutes=15), SensitiveAction.REMOVE_METHOD, Outcome.REQUIRE_STEP_UP),
        (NOW - timedelta(minutes=15) + SECOND, SensitiveAction.REMOVE_METHOD, Outcome.ALLOW),
        (NOW, SensitiveAction.STOP_ENFORCEMENT, Outcome.ALLOW),
        (NOW + SECOND, SensitiveAction.REGENERATE_BACKUP_CODES, Outcome.REQUIRE_STEP_UP),
        (None, SensitiveAction.ENABLE_ENFORCEMENT, Outcome.ALLOW),
    ],
)
def test_rule_step_up_max_age(last_mfa: Any, action: SensitiveAction, outcome: Outcome) -> None:
    """A step-up is due when the last check is missing, future, or max age old or older."""
    decision = evaluate_sensitive_action(
        REF, org(), principal=person(last_mfa_at=last_mfa), action=action, now=NOW
    )
    assert decision.outcome is outcome
    assert RuleId.STEP_UP_MAX_AGE in decision.rules
    if outcome is Outcome.REQUIRE_STEP_UP:
        assert decision.obligations[0].kind is ObligationKind.STEP_UP
        assert decision.obligations[0].max_age_seconds == 900
    elif action in REF.step_up_actions:
        assert decision.next_evaluation == last_mfa + REF.step_up_max_age


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (PrincipalStatus.REMOVED, ReasonCode.PRINCIPAL_REMOVED),
        (PrincipalStatus.INVITED, ReasonCode.PRINCIPAL_NOT_MEMBER),
    ],
)
def test_rule_principal_active(status: PrincipalStatus, code: ReasonCode) -> None:
    """Removed and invited principals are refused at sign-in and in sensitive actions."""
    who = person(status=status)
    login = evaluate_login(REF, org(), principal=who, now=NOW)
    step = evaluate_sensitive_action(
        REF, org(), principal=who, action=SensitiveAction.REMOVE_METHOD, now=NOW
    )
    assert login.outcome is Outcome.DENY
    assert login.codes == (code,)
    assert step.outcome is Outcome.DENY


@pytest.mark.parametrize(
    ("reason", "lockout", "unlock", "unlock_at"),
    [
        (LockReason.ADMIN, timedelta(minutes=15), "admin", None),
        (LockReason.MFA_DEADLINE, timedelta(minutes=15), "admin", None),
        (LockReason.FAILED_ATTEMPTS, timedelta(minutes=15), "time", NOW + timedelta(minutes=10)),
        (LockReason.FAILED_ATTEMPTS, None, "admin", None),
    ],
)
def test_rule_lock_active(reason: LockReason, lockout: Any, unlock: str, unlock_at: Any) -> None:
    """A locked principal is refused, told why and how the lock ends."""
    policy = dataclasses.replace(REF, failed_attempts_lockout=lockout)
    who = person(lock=Lock(reason=reason, locked_at=NOW - timedelta(minutes=5)))
    decision = evaluate_login(policy, org(), principal=who, now=NOW)
    assert decision.outcome is Outcome.DENY
    (why,) = decision.reasons
    assert why.code is ReasonCode.PRINCIPAL_LOCKED
    assert why.params["lock_reason"] == reason.value
    assert why.params["unlock"] == unlock
    assert why.params["unlock_at"] == (unlock_at.isoformat() if unlock_at else None)
    assert decision.next_evaluation == unlock_at
    assert member_compliance(policy, org(), principal=who, now=NOW).status is (
        ComplianceStatus.LOCKED
    )


@pytest.mark.parametrize(
    ("age", "released"),
    [
        (timedelta(minutes=15) - SECOND, False),
        (timedelta(minutes=15), True),
        (timedelta(hours=2), True),
    ],
)
def test_rule_lock_expiry(age: timedelta, released: bool) -> None:
    """A failed-attempts lock ends by itself at locked_at + lockout (exclusive)."""
    who = person(
        lock=Lock(reason=LockReason.FAILED_ATTEMPTS, locked_at=NOW - age), failed_attempts=10
    )
    login = evaluate_login(REF, org(), principal=who, now=NOW)
    swept = list(sweep(REF, org(), principals=[who], now=NOW))
    assert login.allowed is released
    if released:
        assert _effects(login)[:2] == [
            (EffectKind.UNLOCK, "m1"),
            (EffectKind.RESET_FAILED_ATTEMPTS, "m1"),
        ]
        assert [e.kind for e in swept[0].effects] == [
            EffectKind.UNLOCK,
            EffectKind.RESET_FAILED_ATTEMPTS,
        ]
        assert RuleId.LOCK_EXPIRY in login.rules
    else:
        assert swept == []


@pytest.mark.parametrize(
    ("attempts", "lockout", "locked"),
    [
        (0, timedelta(minutes=15), False),
        (9, timedelta(minutes=15), False),
        (10, timedelta(minutes=15), True),
        (11, None, True),
    ],
)
def test_rule_lockout_failed_attempts(attempts: int, lockout: Any, locked: bool) -> None:
    """Reaching max_failed_attempts locks the principal (for a time, or until an admin)."""
    policy = dataclasses.replace(REF, failed_attempts_lockout=lockout)
    decision = evaluate_login(policy, org(), principal=person(failed_attempts=attempts), now=NOW)
    assert decision.allowed is not locked
    if locked:
        assert decision.effects[0].kind is EffectKind.LOCK
        assert decision.effects[0].lock_reason is LockReason.FAILED_ATTEMPTS
        assert decision.notifications[0].kind is NotificationKind.LOCKED
        assert decision.reasons[0].params["unlock"] == ("time" if lockout else "admin")


@pytest.mark.parametrize(
    ("kind", "outcome", "code"),
    [
        (PrincipalKind.GUEST, Outcome.ALLOW, ReasonCode.OUT_OF_SCOPE),
        (PrincipalKind.MEMBER, Outcome.DENY, ReasonCode.DEADLINE_PASSED),
    ],
)
def test_rule_scope_kinds(kind: PrincipalKind, outcome: Outcome, code: ReasonCode) -> None:
    """Principal kinds outside the policy's scope need no MFA."""
    policy = dataclasses.replace(REF, scope=frozenset({PrincipalKind.OWNER, PrincipalKind.MEMBER}))
    decision = evaluate_login(policy, org(), principal=bare(kind=kind), now=NOW)
    assert decision.outcome is outcome
    assert decision.reasons[0].code is code


@pytest.mark.parametrize(
    ("granted", "expires", "policy_kw", "status", "deadline"),
    [
        (NOW - DAY, NOW + DAY, {}, ComplianceStatus.EXEMPT, None),
        (NOW - DAY, NOW, {}, ComplianceStatus.IN_GRACE, NOW + timedelta(days=7)),
        (NOW - 8 * DAY, NOW - 7 * DAY, {}, ComplianceStatus.OVERDUE, NOW),
        (NOW + DAY, NOW + 2 * DAY, {}, ComplianceStatus.OVERDUE, ENFORCED_AT + 7 * DAY),
        (NOW - DAY, NOW + DAY, {"allow_exemptions": False}, ComplianceStatus.OVERDUE, None),
        (
            NOW - 3 * DAY,
            NOW + 300 * DAY,
            {"max_exemption": 2 * DAY},
            ComplianceStatus.IN_GRACE,
            NOW - DAY + 7 * DAY,
        ),
    ],
)
def test_rule_exemption_active(
    granted: Any, expires: Any, policy_kw: dict[str, Any], status: ComplianceStatus, deadline: Any
) -> None:
    """An exemption holds for granted_at <= now < end (capped); then the grace runs from its end."""
    policy = dataclasses.replace(REF, **policy_kw)
    ex = Exemption(granted_by="o1", granted_at=granted, expires_at=expires, reason="break glass")
    result = member_compliance(policy, org(), principal=bare(exemption=ex), now=NOW)
    assert result.status is status
    if deadline is not None:
        assert result.deadline == deadline
    if status is ComplianceStatus.EXEMPT:
        assert result.next_evaluation == expires
        assert evaluate_login(policy, org(), principal=bare(exemption=ex), now=NOW).allowed


@pytest.mark.parametrize(
    ("policy_kw", "kind", "held", "compliant"),
    [
        ({}, PrincipalKind.MEMBER, (T,), True),
        ({}, PrincipalKind.MEMBER, (P,), False),
        ({}, PrincipalKind.OWNER, (P,), True),
        ({}, PrincipalKind.MEMBER, (B,), False),
        ({"backup_codes_count": True}, PrincipalKind.MEMBER, (B,), True),
        ({"min_methods": 2}, PrincipalKind.OWNER, (T,), False),
        ({"min_methods": 2}, PrincipalKind.OWNER, (T, P), True),
        ({"min_methods": 2}, PrincipalKind.OWNER, (T, B), False),
    ],
)
def test_rule_methods_qualifying(
    policy_kw: dict[str, Any], kind: PrincipalKind, held: tuple[MethodKind, ...], compliant: bool
) -> None:
    """Only confirmed methods of an eligible kind count, at least min_methods of them."""
    policy = dataclasses.replace(REF, **policy_kw)
    result = member_compliance(
        policy, org(), principal=person(kind=kind, with_methods=held), now=NOW
    )
    assert result.has_mfa is compliant
    assert (result.status is ComplianceStatus.COMPLIANT) is compliant


def test_rule_methods_qualifying_unconfirmed() -> None:
    """A method whose set-up is still pending does not count."""
    pending = person(methods=(method("totp-0", T, confirmed=False),))
    assert not member_compliance(REF, org(), principal=pending, now=NOW).has_mfa


@pytest.mark.parametrize(
    ("enforced", "status", "outcome"),
    [
        (False, ComplianceStatus.NOT_ENROLLED, Outcome.ALLOW),
        (True, ComplianceStatus.OVERDUE, Outcome.DENY),
    ],
)
def test_rule_enforcement_state(enforced: bool, status: ComplianceStatus, outcome: Outcome) -> None:
    """Without enforcement, nobody is required to have MFA and nothing is due."""
    state = org(enforced=enforced)
    assert member_compliance(REF, state, principal=bare(), now=NOW).status is status
    assert evaluate_login(REF, state, principal=bare(), now=NOW).outcome is outcome


@pytest.mark.parametrize(
    ("facts", "policy_kw", "now", "status", "deadline"),
    [
        # Existing member: derived anchor is the enforcement start.
        ({}, {"grace_existing": 40 * DAY}, NOW, ComplianceStatus.IN_GRACE, ENFORCED_AT + 40 * DAY),
        # Exactly at the deadline: overdue (deadlines are exclusive).
        ({}, {"grace_existing": 30 * DAY}, NOW, ComplianceStatus.OVERDUE, NOW),
        ({}, {"grace_existing": 30 * DAY}, NOW - SECOND, ComplianceStatus.IN_GRACE, NOW),
        # A member who joined after enforcement started: new-member grace from joining.
        ({"joined_at": NOW - DAY}, {}, NOW, ComplianceStatus.IN_GRACE, NOW + 6 * DAY),
        # A stored anchor (lost method) wins over older derived anchors.
        (
            {"grace": anchor(GraceKind.LOST_METHOD, NOW - 2 * DAY)},
            {"grace_lost_method": 3 * DAY},
            NOW,
            ComplianceStatus.IN_GRACE,
            NOW + DAY,
        ),
        # Shortening the grace period applies to principals already in grace.
        (
            {"grace": anchor(GraceKind.LOST_METHOD, NOW - 2 * DAY)},
            {"grace_lost_method": 2 * DAY},
            NOW,
            ComplianceStatus.OVERDUE,
            NOW,
        ),
        # A stored anchor kept from an earlier enforcement still applies (explicit wins).
        (
            {"grace": anchor(GraceKind.LOST_METHOD, ENFORCED_AT - DAY)},
            {"grace_existing": 31 * DAY},
            NOW,
            ComplianceStatus.OVERDUE,
            ENFORCED_AT + 6 * DAY,
        ),
        # An exemption that ended after the stored anchor restarts the grace period.
        (
            {
                "grace": anchor(GraceKind.LOST_METHOD, NOW - 20 * DAY),
                "exemption": Exemption(
                    granted_by="o1", granted_at=NOW - 10 * DAY, expires_at=NOW - DAY
                ),
            },
            {},
            NOW,
            ComplianceStatus.IN_GRACE,
            NOW + 6 * DAY,
        ),
    ],
)
def test_rule_grace_deadline(
    facts: dict[str, Any], policy_kw: dict[str, Any], now: Any, status: Any, deadline: Any
) -> None:
    """Deadlines derive from the current policy and the stored or derived anchor; exclusive."""
    policy = dataclasses.replace(REF, **policy_kw)
    result = member_compliance(policy, org(), principal=bare(**facts), now=now)
    assert result.status is status
    assert result.deadline == deadline
    login = evaluate_login(policy, org(), principal=bare(**facts), now=now)
    assert login.deadline == deadline
    if status is ComplianceStatus.IN_GRACE:
        assert login.allowed
        assert login.obligations[0].kind is ObligationKind.ENROLL_BY
        assert login.obligations[0].deadline == deadline
        assert login.obligations[0].method_kinds == (T,)


@pytest.mark.parametrize(
    ("action", "kind", "outcome", "effect"),
    [
        (PostDeadlineAction.LOCK, PrincipalKind.MEMBER, Outcome.DENY, EffectKind.LOCK),
        (PostDeadlineAction.LOCK, PrincipalKind.OWNER, Outcome.DENY, EffectKind.LOCK),
        (PostDeadlineAction.BLOCK, PrincipalKind.MEMBER, Outcome.REQUIRE_ENROLLMENT, None),
        (PostDeadlineAction.REMOVE, PrincipalKind.MEMBER, Outcome.DENY, EffectKind.REMOVE_MEMBER),
        (PostDeadlineAction.REMOVE, PrincipalKind.OWNER, Outcome.REQUIRE_ENROLLMENT, None),
    ],
)
def test_rule_deadline_action(
    action: PostDeadlineAction, kind: PrincipalKind, outcome: Outcome, effect: Any
) -> None:
    """After the deadline: lock, block (enroll-only sign-in) or remove (owners are kept)."""
    policy = dataclasses.replace(REF, after_deadline=action)
    who = bare(kind=kind)
    login = evaluate_login(policy, org(), principal=who, now=NOW)
    swept = list(sweep(policy, org(), principals=[who], now=NOW))
    assert login.outcome is outcome
    assert RuleId.DEADLINE_ACTION in login.rules
    if effect is None:
        assert login.effects == ()
        assert swept == []
        assert login.obligations[0].kind is ObligationKind.ENROLL_NOW
    else:
        assert [e.kind for e in login.effects] == [effect]
        assert [e.kind for e in swept[0].effects] == [effect]
        if effect is EffectKind.LOCK:
            assert login.effects[0].lock_reason is LockReason.MFA_DEADLINE


@pytest.mark.parametrize("enforced", [True, False])
def test_rule_enable_state(enforced: bool) -> None:
    """Enforcement cannot be enabled twice."""
    decision = can_enable_enforcement(
        REF,
        org(enforced=enforced),
        actor=owner(),
        principals=[owner()],
        confirmation="ENFORCE",
        now=NOW,
    )
    assert decision.allowed is not enforced
    assert (ReasonCode.ALREADY_ENFORCED in decision.codes) is enforced


@pytest.mark.parametrize(
    ("others", "targets"),
    [
        ([person("m1")], ()),
        ([person("m1"), bare("m2")], ("m2",)),
        ([bare("m3"), person("m1"), bare("m2")], ("m3", "m2")),
        ([person("m1", with_methods=(P,))], ("m1",)),
        (
            [bare("x", status=PrincipalStatus.REMOVED), bare("y", status=PrincipalStatus.INVITED)],
            (),
        ),
        (
            [
                bare(
                    "z",
                    exemption=Exemption(
                        granted_by="o1", granted_at=NOW - DAY, expires_at=NOW + DAY
                    ),
                )
            ],
            (),
        ),
    ],
)
def test_rule_enable_full_compliance(others: list[Any], targets: tuple[str, ...]) -> None:
    """Under require_full_compliance, anyone required without MFA blocks it and is listed."""
    decision = _enable(principals=[owner(), *others])
    assert decision.reminder_targets == targets
    assert decision.allowed is (not targets)
    assert RuleId.ENABLE_FULL_COMPLIANCE in decision.rules
    if targets:
        assert decision.effects == ()
        assert decision.reasons[-1].params["principal_ids"] == targets
    else:
        (effect,) = decision.effects
        assert effect.kind is EffectKind.SET_ENFORCEMENT
        assert (effect.enabled, effect.at, effect.actor) == (True, NOW, "o1")


def test_rule_enable_full_compliance_hidden_from_unauthorized() -> None:
    """Someone who may not enforce never sees who lacks MFA (the input is not even read)."""

    def boom() -> Any:
        raise AssertionError("principals were read")
        yield  # pragma: no cover

    decision = _enable(actor=person("m1"), principals=boom())
    assert decision.reminder_targets == ()
    assert decision.outcome is Outcome.DENY


@pytest.mark.parametrize("missing", [(), ("m2",), ("m2", "m3")])
def test_rule_enable_start_grace(missing: tuple[str, ...]) -> None:
    """Under start_grace, enabling is allowed and each principal without MFA gets a grace period."""
    policy = dataclasses.replace(REF, activation=ActivationMode.START_GRACE)
    decision = _enable(policy, principals=[owner(), person("m1"), *(bare(m) for m in missing)])
    assert decision.allowed
    assert decision.reminder_targets == missing
    grace = [e for e in decision.effects if e.kind is EffectKind.START_GRACE]
    assert [e.subject for e in grace] == list(missing)
    assert all(e.at == NOW and e.grace_kind is GraceKind.ENFORCEMENT for e in grace)
    assert [n.recipient for n in decision.notifications] == list(missing)
    assert decision.deadline == (NOW + policy.grace_existing if missing else None)


def test_rule_enable_start_grace_resumes_kept_grace() -> None:
    """A grace period kept when enforcement stopped resumes instead of starting afresh."""
    policy = dataclasses.replace(REF, activation=ActivationMode.START_GRACE)
    kept = bare("k", grace=anchor(GraceKind.LOST_METHOD, NOW - 3 * DAY))
    decision = _enable(policy, principals=[owner(), kept, bare("new")])
    assert decision.allowed
    assert decision.reminder_targets == ("k", "new")
    assert [e.subject for e in decision.effects if e.kind is EffectKind.START_GRACE] == ["new"]
    assert ReasonCode.GRACE_RESUMED in decision.codes
    enforcing = org(since=NOW)
    assert member_compliance(policy, enforcing, principal=kept, now=NOW).deadline == NOW + 4 * DAY


@pytest.mark.parametrize("enforced", [True, False])
def test_rule_stop_state(enforced: bool) -> None:
    """Stopping is allowed only while enforcing, and turns enforcement off."""
    decision = can_stop_enforcement(
        REF, org(enforced=enforced), actor=owner(), principals=[], confirmation="STOP", now=NOW
    )
    assert decision.allowed is enforced
    if enforced:
        assert decision.effects[0].kind is EffectKind.SET_ENFORCEMENT
        assert decision.effects[0].enabled is False
    else:
        assert decision.codes == (ReasonCode.NOT_ENFORCED,)


@pytest.mark.parametrize(
    ("people", "told"),
    [
        ([owner("o1")], ["o1"]),
        ([owner("o1"), owner("o2"), person("m1")], ["o1", "o2"]),
        ([owner("o1"), owner("o9", status=PrincipalStatus.REMOVED)], ["o1"]),
    ],
)
def test_rule_stop_notify_owners(people: list[Any], told: list[str]) -> None:
    """Every active owner is told that enforcement stopped."""
    decision = can_stop_enforcement(
        REF, org(), actor=owner("o1"), principals=people, confirmation="STOP", now=NOW
    )
    notes = [n for n in decision.notifications if n.kind is NotificationKind.ENFORCEMENT_STOPPED]
    assert [n.recipient for n in notes] == told
    assert all(n.subject == "org-1" and n.actor == "o1" for n in notes)


@pytest.mark.parametrize(
    ("clears", "releases", "expected"),
    [
        (
            True,
            True,
            [(EffectKind.CLEAR_GRACE, "g"), (EffectKind.UNLOCK, "d")],
        ),
        (False, True, [(EffectKind.UNLOCK, "d")]),
        (True, False, [(EffectKind.CLEAR_GRACE, "g")]),
        (False, False, []),
    ],
)
def test_rule_stop_grace_and_locks(clears: bool, releases: bool, expected: list[Any]) -> None:
    """Stopping clears grace periods and releases deadline locks only as the policy says."""
    policy = dataclasses.replace(REF, stop_clears_grace=clears, stop_releases_locks=releases)
    people = [
        bare("g", grace=anchor(GraceKind.LOST_METHOD, NOW - DAY)),
        bare("d", lock=Lock(reason=LockReason.MFA_DEADLINE, locked_at=NOW - DAY)),
        person("f", lock=Lock(reason=LockReason.FAILED_ATTEMPTS, locked_at=NOW)),
        person("a", lock=Lock(reason=LockReason.ADMIN, locked_at=NOW, locked_by="o1")),
    ]
    decision = can_stop_enforcement(
        policy, org(), actor=owner(), principals=people, confirmation="STOP", now=NOW
    )
    assert _effects(decision)[1:] == expected


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (PrincipalStatus.INVITED, True),
        (PrincipalStatus.ACTIVE, False),
        (PrincipalStatus.REMOVED, False),
    ],
)
def test_rule_invitation_state(status: PrincipalStatus, allowed: bool) -> None:
    """Only a principal with a pending invitation can accept it."""
    decision = can_accept_invitation(REF, org(), invitee=person(status=status), now=NOW)
    assert decision.allowed is allowed
    assert (ReasonCode.NOT_INVITED in decision.codes) is not allowed


@pytest.mark.parametrize(
    ("enforced", "kind", "held", "outcome"),
    [
        (True, PrincipalKind.MEMBER, (), Outcome.DENY),
        (True, PrincipalKind.MEMBER, (P,), Outcome.DENY),
        (True, PrincipalKind.MEMBER, (B,), Outcome.DENY),
        (True, PrincipalKind.MEMBER, (T,), Outcome.ALLOW),
        (True, PrincipalKind.OWNER, (P,), Outcome.ALLOW),
        (False, PrincipalKind.MEMBER, (), Outcome.ALLOW),
    ],
)
def test_rule_invitation_requires_mfa(
    enforced: bool, kind: PrincipalKind, held: tuple[MethodKind, ...], outcome: Outcome
) -> None:
    """An invitee without a qualifying method cannot join an enforcing organization."""
    invitee = person("i1", kind=kind, with_methods=held, status=PrincipalStatus.INVITED)
    decision = can_accept_invitation(REF, org(enforced=enforced), invitee=invitee, now=NOW)
    assert decision.outcome is outcome
    if outcome is Outcome.DENY:
        assert decision.codes == (ReasonCode.INVITEE_WITHOUT_MFA,)
        assert decision.obligations[0].kind is ObligationKind.ENROLL_NOW
        assert decision.obligations[0].method_kinds == (T,)


@pytest.mark.parametrize(
    ("held", "grace"),
    [((), True), ((T,), False)],
)
def test_rule_invitation_grace(held: tuple[MethodKind, ...], grace: bool) -> None:
    """Without the invitation requirement, a new member joins with a new-member grace period."""
    policy = dataclasses.replace(REF, invitations_require_mfa=False)
    invitee = person("i1", with_methods=held, status=PrincipalStatus.INVITED)
    decision = can_accept_invitation(policy, org(), invitee=invitee, now=NOW)
    assert decision.allowed
    if grace:
        assert decision.effects[0].kind is EffectKind.START_GRACE
        assert decision.effects[0].grace_kind is GraceKind.NEW_MEMBER
        assert decision.deadline == NOW + policy.grace_new_member
        assert decision.obligations[0].kind is ObligationKind.ENROLL_BY
    else:
        assert decision.effects == ()


@pytest.mark.parametrize(
    ("kind", "method_kind", "allowed"),
    [
        (PrincipalKind.MEMBER, MethodKind.TOTP, True),
        (PrincipalKind.MEMBER, MethodKind.PASSKEY, False),
        (PrincipalKind.MEMBER, MethodKind.SECURITY_KEY, False),
        (PrincipalKind.GUEST, MethodKind.PASSKEY, False),
        (PrincipalKind.OWNER, MethodKind.PASSKEY, True),
        (PrincipalKind.OWNER, MethodKind.SECURITY_KEY, True),
        (PrincipalKind.MEMBER, MethodKind.BACKUP_CODES, True),
    ],
)
def test_rule_add_eligible_kind(
    kind: PrincipalKind, method_kind: MethodKind, allowed: bool
) -> None:
    """Passkeys for owners only, TOTP for everyone (reference console); backup codes always."""
    decision = can_add_method(
        REF, org(), principal=bare(kind=kind), kind=method_kind, label="new", now=NOW
    )
    assert decision.allowed is allowed
    assert RuleId.ADD_ELIGIBLE_KIND in decision.rules
    if not allowed:
        # What a host needs to word the refusal in any language, without parsing the message.
        assert dict(decision.reasons[0].params) == {
            "kind": method_kind.value,
            "allowed": tuple(sorted(k.value for k in REF.eligible_methods[kind])),
            "principal_kind": kind.value,
        }


@pytest.mark.parametrize(
    ("label", "kind", "allowed"),
    [
        ("Laptop", MethodKind.PASSKEY, False),
        ("  laptop ", MethodKind.PASSKEY, False),
        ("Laptop", MethodKind.SECURITY_KEY, True),
        ("Phone", MethodKind.PASSKEY, True),
        ("", MethodKind.PASSKEY, True),
    ],
)
def test_rule_add_unique_label(label: str, kind: MethodKind, allowed: bool) -> None:
    """Two methods of one kind cannot share a name (case and outer spaces ignored)."""
    who = owner(methods=(method("pk-1", P, label="LAPTOP"), method("pk-2", P)))
    decision = can_add_method(REF, org(), principal=who, kind=kind, label=label, now=NOW)
    assert decision.allowed is allowed
    assert (ReasonCode.DUPLICATE_LABEL in decision.codes) is not allowed


@pytest.mark.parametrize(
    ("held", "stored", "kind", "cleared"),
    [
        ((), True, MethodKind.TOTP, True),
        ((), False, MethodKind.TOTP, False),
        ((), True, MethodKind.BACKUP_CODES, False),
        ((T,), True, MethodKind.BACKUP_CODES, False),
    ],
)
def test_rule_add_clears_grace(
    held: tuple[MethodKind, ...], stored: bool, kind: MethodKind, cleared: bool
) -> None:
    """A method that makes the principal compliant ends the running grace period."""
    grace = anchor(GraceKind.LOST_METHOD, NOW - DAY) if stored else None
    decision = can_add_method(
        REF, org(), principal=person(with_methods=held, grace=grace), kind=kind, now=NOW
    )
    assert decision.allowed
    assert ((EffectKind.CLEAR_GRACE, "m1") in _effects(decision)) is cleared


@pytest.mark.parametrize(("method_id", "found"), [("totp-0", True), ("nope", False)])
def test_rule_remove_known_method(method_id: str, found: bool) -> None:
    """Removing a method the principal does not have is refused."""
    decision = _remove(method_id=method_id, principal=person(with_methods=(T, T)))
    assert decision.allowed is found
    assert (ReasonCode.METHOD_NOT_FOUND in decision.codes) is not found


@pytest.mark.parametrize(
    ("kind", "held", "method_id", "code"),
    [
        (PrincipalKind.MEMBER, (T, T), "totp-0", ReasonCode.OTHER_METHODS_REMAIN),
        (PrincipalKind.OWNER, (T, P), "totp-0", ReasonCode.OTHER_METHODS_REMAIN),
        (PrincipalKind.MEMBER, (T, P), "passkey-1", ReasonCode.OTHER_METHODS_REMAIN),
        (PrincipalKind.MEMBER, (P,), "passkey-0", ReasonCode.METHOD_NOT_REQUIRED),
        (PrincipalKind.MEMBER, (T, B), "backup_codes-1", ReasonCode.OTHER_METHODS_REMAIN),
    ],
)
def test_rule_remove_other_methods(
    kind: PrincipalKind, held: tuple[MethodKind, ...], method_id: str, code: ReasonCode
) -> None:
    """Removing one of several methods (or one that never counted) keeps compliance: no grace."""
    who = person(kind=kind, with_methods=held)
    decision = _remove(principal=who, method_id=method_id, state=org(owners=1))
    assert decision.allowed
    assert code in decision.codes
    assert [e.kind for e in decision.effects] == []
    assert decision.notifications[0].kind is NotificationKind.METHOD_REMOVED


@pytest.mark.parametrize(
    ("replacement", "grace"),
    [
        (method("totp-new", T, created_at=NOW), False),
        (method("totp-new", T, created_at=NOW, confirmed=False), True),
        (method("pk-new", P, created_at=NOW), True),
        (method("totp-0", T, created_at=NOW), True),
        (None, True),
    ],
)
def test_rule_remove_replacement(replacement: Any, grace: bool) -> None:
    """A confirmed, eligible replacement means the last method is not lost: no grace."""
    decision = _remove(replacement=replacement)
    assert decision.allowed
    started = [e for e in decision.effects if e.kind is EffectKind.START_GRACE]
    assert bool(started) is grace
    assert (ReasonCode.REPLACEMENT_CONFIRMED in decision.codes) is not grace


@pytest.mark.parametrize(
    ("owners", "removal", "actor_is_admin", "allowed"),
    [
        (1, LastMethodRemoval.GRACE, False, False),
        (1, LastMethodRemoval.WARN, False, False),
        (0, LastMethodRemoval.GRACE, False, False),
        (1, LastMethodRemoval.GRACE, True, False),
        (2, LastMethodRemoval.GRACE, False, True),
    ],
)
def test_rule_remove_sole_owner(
    owners: int, removal: LastMethodRemoval, actor_is_admin: bool, allowed: bool
) -> None:
    """The sole owner can never remove their last method under enforcement, whatever the policy."""
    policy = dataclasses.replace(REF, last_method_removal=removal)
    admin = person("admin", permissions=frozenset({policy.manage_permission}))
    decision = _remove(
        policy,
        principal=owner(),
        state=org(owners=owners),
        actor=admin if actor_is_admin else None,
    )
    assert decision.allowed is allowed
    assert (ReasonCode.SOLE_OWNER_LAST_METHOD in decision.codes) is not allowed
    solo = _remove(policy, principal=owner(), state=org(enforced=False, owners=1))
    assert solo.allowed


@pytest.mark.parametrize(
    ("removal", "enforced", "outcome", "code", "effect"),
    [
        (LastMethodRemoval.REFUSE, True, Outcome.DENY, ReasonCode.LAST_METHOD_REFUSED, None),
        (LastMethodRemoval.GRACE, True, Outcome.ALLOW, ReasonCode.GRACE_STARTED, "grace"),
        (LastMethodRemoval.WARN, True, Outcome.ALLOW, ReasonCode.LAST_METHOD_WARNING, None),
        (LastMethodRemoval.REFUSE, False, Outcome.ALLOW, ReasonCode.NOT_ENFORCED, None),
    ],
)
def test_rule_remove_last_method(
    removal: LastMethodRemoval, enforced: bool, outcome: Outcome, code: ReasonCode, effect: Any
) -> None:
    """Under enforcement, removing the last method is refused, starts a grace, or warns."""
    policy = dataclasses.replace(REF, last_method_removal=removal)
    decision = _remove(policy, state=org(enforced=enforced))
    assert decision.outcome is outcome
    assert code in decision.codes
    if effect == "grace":
        (start,) = decision.effects
        assert (start.kind, start.grace_kind, start.at) == (
            EffectKind.START_GRACE,
            GraceKind.LOST_METHOD,
            NOW,
        )
        assert decision.deadline == NOW + policy.grace_lost_method
        assert decision.obligations[0].deadline == decision.deadline
    else:
        assert decision.effects == ()
    if removal is LastMethodRemoval.WARN:
        assert decision.reasons[-1].params["overdue"] is True


def test_rule_remove_last_method_warn_keeps_existing_deadline() -> None:
    """With WARN, a principal still inside their existing grace keeps that deadline."""
    policy = dataclasses.replace(
        REF, last_method_removal=LastMethodRemoval.WARN, grace_existing=40 * DAY
    )
    decision = _remove(policy)
    assert decision.deadline == ENFORCED_AT + 40 * DAY
    assert decision.obligations[0].kind is ObligationKind.ENROLL_BY


def _in_grace(**kw: Any) -> Any:
    # Deadline NOW + 5 days (lost-method grace of 7 days started 2 days ago).
    return bare(grace=anchor(GraceKind.LOST_METHOD, NOW - 2 * DAY), **kw)


@pytest.mark.parametrize(
    ("now", "last", "due"),
    [
        (NOW, None, False),  # thresholds at NOW+2d and NOW+4d
        (NOW + 2 * DAY - SECOND, None, False),
        (NOW + 2 * DAY, None, True),
        (NOW + 3 * DAY, NOW + 2 * DAY, False),
        (NOW + 4 * DAY, NOW + 2 * DAY, True),
        (NOW + 4 * DAY + SECOND, None, True),  # two thresholds passed: one reminder
        (NOW + 5 * DAY, None, False),  # overdue: no more reminders
    ],
)
def test_rule_reminder_offsets(now: Any, last: Any, due: bool) -> None:
    """A reminder is due once per offset threshold (deadline - offset) reached."""
    who = _in_grace(last_reminder_at=last)
    out = list(due_reminders(REF, org(), principals=[who], now=now))
    assert bool(out) is due
    assert member_compliance(REF, org(), principal=who, now=now).reminder_due is due
    if due:
        (decision,) = out
        assert [n.kind for n in decision.notifications] == [NotificationKind.REMINDER]
        assert decision.notifications[0].deadline == NOW + 5 * DAY
        assert decision.effects[0].kind is EffectKind.RECORD_REMINDER
        assert decision.effects[0].at == now


@pytest.mark.parametrize("grace_days", [2, 3])
def test_rule_reminder_offsets_skip_thresholds_before_grace(grace_days: int) -> None:
    """Thresholds at or before the grace start are covered by the grace-started notice."""
    policy = dataclasses.replace(REF, grace_lost_method=grace_days * DAY)
    who = bare(grace=anchor(GraceKind.LOST_METHOD, NOW))
    assert list(due_reminders(policy, org(), principals=[who], now=NOW)) == []
    later = NOW + (grace_days - 1) * DAY
    assert list(due_reminders(policy, org(), principals=[who], now=later))


@pytest.mark.parametrize(
    ("actor_id", "lock", "code"),
    [
        ("m1", Lock(reason=LockReason.ADMIN, locked_at=NOW), ReasonCode.CANNOT_UNLOCK_SELF),
        ("o1", None, ReasonCode.NOT_LOCKED),
        ("o1", Lock(reason=LockReason.ADMIN, locked_at=NOW), ReasonCode.UNLOCKED),
        ("o1", Lock(reason=LockReason.FAILED_ATTEMPTS, locked_at=NOW), ReasonCode.UNLOCKED),
    ],
)
def test_rule_unlock_state(actor_id: str, lock: Any, code: ReasonCode) -> None:
    """An administrator (never oneself) unlocks a locked principal."""
    actor = owner(actor_id) if actor_id != "m1" else person("m1", kind=PrincipalKind.OWNER)
    decision = can_unlock(
        REF, org(), actor=actor, principal=person(lock=lock, failed_attempts=3), now=NOW
    )
    assert decision.codes[0] is code
    if code is ReasonCode.UNLOCKED:
        assert _effects(decision) == [
            (EffectKind.UNLOCK, "m1"),
            (EffectKind.RESET_FAILED_ATTEMPTS, "m1"),
        ]
    else:
        assert decision.outcome is Outcome.DENY


@pytest.mark.parametrize(
    ("restarts", "who", "grace", "code"),
    [
        (True, "overdue", True, ReasonCode.GRACE_STARTED),
        (False, "overdue", False, ReasonCode.STILL_OVERDUE),
        (True, "compliant", False, None),
        (True, "in_grace", False, None),
    ],
)
def test_rule_unlock_restart_grace(restarts: bool, who: str, grace: bool, code: Any) -> None:
    """An admin unlock restarts the grace period of an overdue principal when the policy says so."""
    policy = dataclasses.replace(REF, unlock_restarts_grace=restarts)
    lock = Lock(reason=LockReason.MFA_DEADLINE, locked_at=NOW - DAY)
    subject = {
        "overdue": bare("m1", lock=lock),
        "compliant": person("m1", lock=lock),
        "in_grace": _in_grace(lock=lock),
    }[who]
    decision = can_unlock(policy, org(), actor=owner(), principal=subject, now=NOW)
    assert decision.allowed
    started = [e for e in decision.effects if e.kind is EffectKind.START_GRACE]
    assert bool(started) is grace
    if grace:
        assert started[0].grace_kind is GraceKind.UNLOCK
        assert decision.deadline == NOW + policy.grace_after_unlock
    if code is not None:
        assert decision.codes[-1] is code
    if who == "in_grace":
        assert decision.deadline == NOW + 5 * DAY


def test_every_rule_has_a_test() -> None:
    """Each RuleId has a test here named test_rule_<id> (dots become underscores)."""
    names = set(vars(sys.modules[__name__]))
    missing = [r for r in RuleId if f"test_rule_{r.value.replace('.', '_')}" not in names]
    assert missing == []


def test_rule_remove_sole_owner_ignores_scope_and_exemption() -> None:
    """Even out of scope or exempt, the sole owner keeps a method: managing MFA needs one."""
    policy = dataclasses.replace(REF, scope=frozenset({PrincipalKind.MEMBER}))
    ex = Exemption(granted_by="o2", granted_at=NOW - DAY, expires_at=NOW + DAY)
    for who, pol in ((owner(), policy), (owner(exemption=ex), REF)):
        decision = _remove(pol, principal=who, state=org(owners=1))
        assert decision.codes[-1] is ReasonCode.SOLE_OWNER_LAST_METHOD


def test_rule_lock_active_blocks_removing_own_method() -> None:
    """A locked principal cannot remove their own methods."""
    who = person(with_methods=(T, T), lock=Lock(reason=LockReason.ADMIN, locked_at=NOW))
    decision = _remove(principal=who)
    assert decision.codes == (ReasonCode.PRINCIPAL_LOCKED,)


# -- recovery: resets, removals, exemptions ------------------------------------------------

ADMIN_PERMISSION = REF.manage_permission


def _admin(pid: str = "a1", **kw: Any) -> Any:
    """A member holding the management permission (an administrator, not an owner)."""
    return person(pid, permissions=frozenset({ADMIN_PERMISSION}), **kw)


def _reset(policy: OrgPolicy = REF, *, state: Any = None, **kw: Any) -> Any:
    args: dict[str, Any] = {"actor": owner(), "principal": person(), "now": NOW}
    args.update(kw)
    return can_reset_mfa(policy, state or org(), **args)


def _grant(policy: OrgPolicy = REF, *, state: Any = None, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "actor": owner(),
        "principal": bare(),
        "until": NOW + 7 * DAY,
        "now": NOW,
        "reason": "break-glass account",
    }
    args.update(kw)
    return can_grant_exemption(policy, state or org(), **args)


ACTIONS = {
    "reset": lambda actor, principal, state: _reset(actor=actor, principal=principal, state=state),
    "remove": lambda actor, principal, state: can_remove_member(
        REF, state, actor=actor, principal=principal, now=NOW
    ),
    "grant": lambda actor, principal, state: _grant(actor=actor, principal=principal, state=state),
    "revoke": lambda actor, principal, state: can_revoke_exemption(
        REF, state, actor=actor, principal=principal, now=NOW
    ),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_rule_recovery_target(action: str) -> None:
    """Nobody acts on themselves, only an owner acts on an owner, members and guests never act."""
    ex = Exemption(granted_by="o2", granted_at=NOW - DAY, expires_at=NOW + DAY)
    decide = ACTIONS[action]
    me = owner(exemption=ex)
    assert decide(me, me, org()).codes == (ReasonCode.CANNOT_ACT_ON_SELF,)
    target_owner = owner("o2", exemption=ex)
    assert decide(_admin(), target_owner, org()).codes == (ReasonCode.OWNER_PROTECTED,)
    for kind in (PrincipalKind.MEMBER, PrincipalKind.GUEST):
        attacker = person("x1", kind=kind)
        assert (
            ReasonCode.ACTOR_NOT_AUTHORIZED in decide(attacker, person(exemption=ex), org()).codes
        )
    gone = person(status=PrincipalStatus.REMOVED, exemption=ex)
    assert decide(owner(), gone, org()).codes == (ReasonCode.PRINCIPAL_REMOVED,)
    invited = person(status=PrincipalStatus.INVITED, exemption=ex)
    assert decide(owner(), invited, org()).codes == (ReasonCode.PRINCIPAL_NOT_MEMBER,)


def test_guest_cannot_exempt_themselves() -> None:
    """A guest granting themselves an exemption is refused before anything else."""
    guest = bare("g1", kind=PrincipalKind.GUEST)
    decision = _grant(actor=guest, principal=guest)
    assert decision.outcome is Outcome.DENY
    assert decision.effects == ()


def test_administrator_may_reset_a_member_and_owner_may_reset_an_administrator() -> None:
    """A permission holder resets a member; an owner resets a permission holder."""
    assert _reset(actor=_admin()).allowed
    assert _reset(principal=_admin()).allowed
    assert _reset(principal=owner("o2")).allowed


def test_locked_or_mfa_less_actor_cannot_reset() -> None:
    """The actor must be unlocked and have MFA, as for every administrative action."""
    locked = owner(lock=Lock(reason=LockReason.ADMIN, locked_at=NOW - DAY))
    assert ReasonCode.ACTOR_NOT_AUTHORIZED in _reset(actor=locked).codes
    assert ReasonCode.ACTOR_LACKS_MFA in _reset(actor=owner(with_methods=())).codes


def test_reset_requires_a_step_up_by_default() -> None:
    """Resetting someone's MFA is a sensitive action: a stale actor must verify again."""
    stale = owner(last_mfa_at=NOW - timedelta(hours=1))
    decision = _reset(actor=stale)
    assert decision.outcome is Outcome.REQUIRE_STEP_UP
    assert decision.effects == ()
    assert SensitiveAction.RESET_MFA in REF.step_up_actions


def test_rule_reset_methods() -> None:
    """A reset deletes every method, resets the counter and tells the user; nothing: refused."""
    decision = _reset(principal=person(with_methods=(T, B)))
    assert decision.allowed
    kinds = [e.kind for e in decision.effects]
    assert kinds[0] is EffectKind.DELETE_METHODS
    assert EffectKind.RESET_FAILED_ATTEMPTS in kinds
    assert [n.kind for n in decision.notifications] == [NotificationKind.MFA_RESET]
    assert _reset(principal=bare()).codes == (ReasonCode.NO_METHODS_TO_RESET,)


def test_rule_reset_shared_account() -> None:
    """An account in other organizations is not reset by one of them."""
    decision = _reset(other_organizations=1)
    assert decision.codes == (ReasonCode.ACCOUNT_SHARED,)
    assert decision.effects == ()


def test_rule_reset_grace() -> None:
    """Under enforcement a lost-method grace starts; deadline and failed-attempt locks lift;
    an administrator's lock stays; without enforcement no grace starts."""
    deadline_lock = Lock(reason=LockReason.MFA_DEADLINE, locked_at=NOW - DAY)
    decision = _reset(principal=person(lock=deadline_lock))
    grace = [e for e in decision.effects if e.kind is EffectKind.START_GRACE]
    assert [(e.grace_kind, e.at) for e in grace] == [(GraceKind.LOST_METHOD, NOW)]
    assert decision.deadline == NOW + REF.grace_lost_method
    assert decision.notifications[0].deadline == decision.deadline
    assert EffectKind.UNLOCK in [e.kind for e in decision.effects]
    attempts = Lock(reason=LockReason.FAILED_ATTEMPTS, locked_at=NOW)
    assert EffectKind.UNLOCK in [e.kind for e in _reset(principal=person(lock=attempts)).effects]
    admin_lock = Lock(reason=LockReason.ADMIN, locked_at=NOW - DAY, locked_by="o2")
    kept = _reset(principal=person(lock=admin_lock))
    assert kept.allowed
    assert EffectKind.UNLOCK not in [e.kind for e in kept.effects]
    off = _reset(state=org(enforced=False))
    assert EffectKind.START_GRACE not in [e.kind for e in off.effects]
    assert off.deadline is None


def test_support_reset_applies_the_consequences_without_actor_rules() -> None:
    """The host's support resets anyone, owners included; the org's grace rules apply."""
    decision = evaluate_support_reset(
        REF, org(owners=1), principal=owner(), actor_id="support-7", now=NOW
    )
    assert decision.allowed
    assert decision.actor == "support-7"
    assert EffectKind.START_GRACE in [e.kind for e in decision.effects]
    gone = evaluate_support_reset(
        REF, org(), principal=person(status=PrincipalStatus.REMOVED), actor_id="s", now=NOW
    )
    assert gone.effects == ()
    assert gone.notifications == ()


def test_rule_remove_member_sole_owner() -> None:
    """The only active owner is never removed; a second owner may be."""
    alone = can_remove_member(REF, org(owners=1), actor=_admin(), principal=person(), now=NOW)
    assert alone.allowed
    sole = can_remove_member(
        dataclasses.replace(REF, manage_permission="x"),
        org(owners=1),
        actor=owner("o2", status=PrincipalStatus.ACTIVE),
        principal=owner(),
        now=NOW,
    )
    assert sole.codes == (ReasonCode.SOLE_OWNER,)
    two = can_remove_member(REF, org(owners=2), actor=owner("o2"), principal=owner(), now=NOW)
    assert two.allowed
    assert [(e.kind, e.actor) for e in two.effects] == [(EffectKind.REMOVE_MEMBER, "o2")]
    assert [n.kind for n in two.notifications] == [NotificationKind.REMOVED]


def test_remove_member_refuses_an_already_removed_member() -> None:
    """Removing twice is refused the second time (the loser of a race is told)."""
    gone = person(status=PrincipalStatus.REMOVED)
    decision = can_remove_member(REF, org(), actor=owner(), principal=gone, now=NOW)
    assert decision.codes == (ReasonCode.PRINCIPAL_REMOVED,)


def test_rule_exemption_allowed() -> None:
    """A grant stores the exemption with its reason; a policy without exemptions refuses."""
    decision = _grant()
    assert decision.allowed
    (effect,) = decision.effects
    assert (effect.kind, effect.at, effect.until, effect.actor, effect.reason) == (
        EffectKind.SET_EXEMPTION,
        NOW,
        NOW + 7 * DAY,
        "o1",
        "break-glass account",
    )
    off = dataclasses.replace(REF, allow_exemptions=False)
    assert _grant(off).codes == (ReasonCode.EXEMPTIONS_DISABLED,)


def test_grant_refuses_a_past_or_naive_until() -> None:
    """until must be aware and in the future (bad input, not a policy refusal)."""
    with pytest.raises(ConfigurationError):
        _grant(until=NOW)
    with pytest.raises(ConfigurationError):
        _grant(until=NOW.replace(tzinfo=None) + DAY)


def test_rule_exemption_max() -> None:
    """An exemption longer than max_exemption is refused; exactly the maximum is fine."""
    longest = REF.max_exemption
    assert longest is not None
    assert _grant(until=NOW + longest).allowed
    assert _grant(until=NOW + longest + SECOND).codes == (ReasonCode.EXEMPTION_TOO_LONG,)
    unbounded = dataclasses.replace(REF, max_exemption=None)
    assert _grant(unbounded, until=NOW + 365 * DAY).allowed


def test_exemption_expires_by_itself() -> None:
    """Once until has passed the principal is no longer exempt; a grace from its end applies."""
    ex = Exemption(granted_by="o1", granted_at=NOW - 3 * DAY, expires_at=NOW - DAY)
    status = member_compliance(REF, org(), principal=bare(exemption=ex), now=NOW)
    assert status.status is ComplianceStatus.IN_GRACE
    assert status.deadline == NOW - DAY + REF.grace_existing


def test_revoke_exemption_starts_a_grace_and_refuses_without_one() -> None:
    """Revoking ends the exemption now (with a grace under enforcement); none: not_exempt."""
    ex = Exemption(granted_by="o1", granted_at=NOW - DAY, expires_at=NOW + DAY)
    decision = can_revoke_exemption(
        REF, org(), actor=owner(), principal=bare(exemption=ex), now=NOW
    )
    assert [e.kind for e in decision.effects] == [
        EffectKind.CLEAR_EXEMPTION,
        EffectKind.START_GRACE,
    ]
    assert decision.deadline == NOW + REF.grace_existing
    refused = can_revoke_exemption(REF, org(), actor=owner(), principal=bare(), now=NOW)
    assert refused.codes == (ReasonCode.NOT_EXEMPT,)
