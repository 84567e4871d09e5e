"""Organization-wide functions (report, sweep) and the less common branches of each decision."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
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
    OrgPolicy,
    Outcome,
    Principal,
    PrincipalKind,
    PrincipalStatus,
    ReasonCode,
    can_accept_invitation,
    can_remove_method,
    can_stop_enforcement,
    can_unlock,
    due_reminders,
    org_compliance_report,
    reference_console,
    sweep,
)

from .helpers import DAY, ENFORCED_AT, NOW, anchor, bare, org, owner, person

REF = reference_console()
EXEMPT = Exemption(granted_by="o1", granted_at=NOW - DAY, expires_at=NOW + 2 * DAY)


def _mixed() -> list[Principal]:
    return [
        owner("o1"),
        person("ok"),
        bare("late"),  # overdue: enforcement began 30 days ago, 7-day grace
        bare("grace", grace=anchor(GraceKind.LOST_METHOD, NOW - DAY)),
        bare("exempt", exemption=EXEMPT),
        person("locked", lock=Lock(reason=LockReason.FAILED_ATTEMPTS, locked_at=NOW)),
        bare("gone", status=PrincipalStatus.REMOVED),
        bare("invited", status=PrincipalStatus.INVITED),
    ]


def test_report_counts_every_status() -> None:
    """The report counts each status and lists the required principals without MFA."""
    report = org_compliance_report(REF, org(), principals=iter(_mixed()), now=NOW)
    assert report.total == 8
    assert report.required == 5
    assert report.satisfied == 3
    assert report.percent_compliant == 60.0
    assert report.reminder_targets == ("late", "grace")
    counts = {k: v for k, v in report.counts.items() if v}
    assert counts == {
        ComplianceStatus.COMPLIANT: 2,
        ComplianceStatus.OVERDUE: 1,
        ComplianceStatus.IN_GRACE: 1,
        ComplianceStatus.EXEMPT: 1,
        ComplianceStatus.LOCKED: 1,
        ComplianceStatus.INACTIVE: 2,
    }
    assert not report.can_enable_enforcement
    # The soonest thing to come: the failed-attempts lock ends in 15 minutes.
    assert report.next_evaluation == NOW + REF.failed_attempts_lockout  # type: ignore[operator]


def test_report_next_evaluation_tracks_deadlines_and_reminders() -> None:
    """Without locks, the next evaluation is the next reminder, deadline or exemption end."""
    people = [
        bare("grace", grace=anchor(GraceKind.LOST_METHOD, NOW - DAY)),
        bare("x", exemption=EXEMPT),
    ]
    report = org_compliance_report(REF, org(), principals=people, now=NOW)
    # Deadline NOW + 6 days; reminders at +3 and +5 days; exemption ends at +2 days.
    assert report.next_evaluation == NOW + 2 * DAY
    report = org_compliance_report(REF, org(), principals=people[:1], now=NOW)
    assert report.next_evaluation == NOW + 3 * DAY


@pytest.mark.parametrize(
    ("policy", "enforced", "people", "can"),
    [
        (REF, False, [owner()], True),
        (REF, False, [owner(), bare()], False),
        (REF, True, [owner()], False),
        (OrgPolicy(activation=ActivationMode.START_GRACE), False, [owner(), bare()], True),
        (REF, False, [], True),
    ],
)
def test_report_can_enable_enforcement(
    policy: OrgPolicy, enforced: bool, people: list[Any], can: bool
) -> None:
    """can_enable_enforcement follows the activation mode and the current state."""
    report = org_compliance_report(policy, org(enforced=enforced), principals=people, now=NOW)
    assert report.can_enable_enforcement is can
    if not people:
        assert report.percent_compliant == 100.0


def test_report_skips_out_of_scope_principals() -> None:
    """Out-of-scope principals are counted but not required."""
    policy = OrgPolicy(scope=frozenset({PrincipalKind.OWNER}))
    report = org_compliance_report(policy, org(), principals=[owner(), bare()], now=NOW)
    assert (report.required, report.counts[ComplianceStatus.OUT_OF_SCOPE]) == (1, 1)


@pytest.mark.parametrize("job", [org_compliance_report, sweep, due_reminders])
def test_streaming_functions_refuse_non_principals(job: Any) -> None:
    """A non-principal in the input raises ConfigurationError when it is reached."""

    def run() -> None:
        result = job(REF, org(), principals=[person(), "m2"], now=NOW)
        if isinstance(result, Iterator):
            list(result)

    with pytest.raises(ConfigurationError):
        run()


def test_sweep_refuses_a_naive_now_at_once() -> None:
    """sweep checks its arguments before returning the lazy iterator."""
    with pytest.raises(ConfigurationError):
        sweep(REF, org(), principals=[], now=NOW.replace(tzinfo=None))


def test_sweep_reads_its_input_lazily() -> None:
    """Decisions come out as the input is read, one principal at a time."""
    seen: list[str] = []

    def feed() -> Iterator[Principal]:
        for p in [bare("a"), person("b"), bare("c")]:
            seen.append(p.id)
            yield p

    stream = sweep(REF, org(), principals=feed(), now=NOW)
    assert seen == []
    first = next(stream)
    assert (first.subject, seen) == ("a", ["a"])
    assert [d.subject for d in stream] == ["c"]


def test_sweep_ignores_inactive_and_blocked_principals() -> None:
    """Removed and invited principals, and BLOCK-mode overdue ones, need nothing from a sweep."""
    block = dataclasses.replace(REF, after_deadline="block")
    people = [bare("x", status=PrincipalStatus.REMOVED), bare("y", status=PrincipalStatus.INVITED)]
    assert list(sweep(REF, org(), principals=people, now=NOW)) == []
    assert list(sweep(block, org(), principals=[bare()], now=NOW)) == []


def test_sweep_releases_an_expired_lock_then_locks_for_the_deadline() -> None:
    """An overdue principal whose failed-attempts lock ran out is unlocked, then locked again."""
    who = bare(lock=Lock(reason=LockReason.FAILED_ATTEMPTS, locked_at=NOW - DAY))
    (decision,) = sweep(REF, org(), principals=[who], now=NOW)
    assert [e.kind for e in decision.effects] == [
        EffectKind.UNLOCK,
        EffectKind.RESET_FAILED_ATTEMPTS,
        EffectKind.LOCK,
    ]
    assert decision.effects[-1].lock_reason is LockReason.MFA_DEADLINE


def test_sweep_does_not_relock_a_locked_overdue_principal() -> None:
    """A principal already locked for the deadline yields nothing more."""
    who = bare(lock=Lock(reason=LockReason.MFA_DEADLINE, locked_at=NOW - DAY))
    assert list(sweep(REF, org(), principals=[who], now=NOW)) == []


def test_sweep_blocks_owners_under_remove() -> None:
    """Under REMOVE, overdue owners are never removed by the sweep."""
    policy = dataclasses.replace(REF, after_deadline="remove")
    (decision,) = sweep(policy, org(), principals=[bare(), bare("o9", kind="owner")], now=NOW)
    assert decision.subject == "m2"
    assert decision.effects[0].kind is EffectKind.REMOVE_MEMBER


@pytest.mark.parametrize(
    ("invitee", "code"),
    [
        (
            bare("g", kind=PrincipalKind.GUEST, status=PrincipalStatus.INVITED),
            ReasonCode.OUT_OF_SCOPE,
        ),
        (bare("e", status=PrincipalStatus.INVITED, exemption=EXEMPT), ReasonCode.EXEMPT),
    ],
)
def test_invitation_out_of_scope_or_exempt(invitee: Principal, code: ReasonCode) -> None:
    """Out-of-scope and exempt invitees join without MFA."""
    policy = OrgPolicy(scope=frozenset({PrincipalKind.OWNER, PrincipalKind.MEMBER}))
    decision = can_accept_invitation(policy, org(), invitee=invitee, now=NOW)
    assert decision.allowed
    assert decision.codes == (code,)


@pytest.mark.parametrize(
    ("who", "policy", "code"),
    [
        (
            person("g", kind="guest"),
            OrgPolicy(scope=frozenset({PrincipalKind.MEMBER})),
            ReasonCode.OUT_OF_SCOPE,
        ),
        (person(exemption=EXEMPT), REF, ReasonCode.EXEMPT),
    ],
)
def test_remove_last_method_out_of_scope_or_exempt(
    who: Principal, policy: OrgPolicy, code: ReasonCode
) -> None:
    """Out-of-scope and exempt principals may remove their last method freely."""
    policy = dataclasses.replace(policy, last_method_removal=LastMethodRemoval.REFUSE)
    decision = can_remove_method(
        policy, org(), principal=who, method_id="totp-0", confirmation="DELETE", now=NOW
    )
    assert decision.allowed
    assert code in decision.codes
    assert decision.effects == ()


def test_remove_by_an_unauthorized_actor_is_refused() -> None:
    """Only an owner or permission holder may delete someone else's method."""
    decision = can_remove_method(
        REF,
        org(),
        principal=person(),
        method_id="totp-0",
        confirmation="DELETE",
        now=NOW,
        actor=person("m9"),
    )
    assert decision.codes == (ReasonCode.ACTOR_NOT_AUTHORIZED,)


def test_remove_from_a_removed_principal_is_refused() -> None:
    """A removed principal's methods are not managed through the policy."""
    decision = can_remove_method(
        REF,
        org(),
        principal=person(status="removed"),
        method_id="totp-0",
        confirmation="DELETE",
        now=NOW,
    )
    assert decision.codes == (ReasonCode.PRINCIPAL_REMOVED,)


def test_remove_replacement_must_be_a_method() -> None:
    """A replacement of the wrong type is a programming error."""
    with pytest.raises(ConfigurationError):
        can_remove_method(
            REF,
            org(),
            principal=person(),
            method_id="totp-0",
            confirmation="DELETE",
            now=NOW,
            replacement="totp",  # type: ignore[arg-type]
        )


def test_remove_needs_confirmation_and_step_up_together() -> None:
    """Missing confirmation and a stale verification are both reported; nothing is persisted."""
    decision = can_remove_method(
        REF,
        org(),
        principal=person(last_mfa_at=None),
        method_id="totp-0",
        confirmation=None,
        now=NOW,
    )
    assert decision.outcome is Outcome.REQUIRE_CONFIRMATION
    assert decision.codes[:2] == (ReasonCode.CONFIRMATION_REQUIRED, ReasonCode.STEP_UP_REQUIRED)
    assert decision.effects == ()
    assert decision.notifications == ()


def test_stop_by_an_unauthorized_actor_is_refused() -> None:
    """A member cannot stop enforcement, and the principals are not read."""
    decision = can_stop_enforcement(
        REF, org(), actor=person(), principals=[], confirmation="STOP", now=NOW
    )
    assert decision.codes == (ReasonCode.ACTOR_NOT_AUTHORIZED,)


def test_unlock_by_an_unauthorized_actor_is_refused() -> None:
    """A member cannot unlock anyone."""
    locked = person("m2", lock=Lock(reason=LockReason.ADMIN, locked_at=NOW))
    decision = can_unlock(REF, org(), actor=person(), principal=locked, now=NOW)
    assert decision.codes == (ReasonCode.ACTOR_NOT_AUTHORIZED,)


def test_unlock_of_a_removed_principal_is_refused() -> None:
    """A removed principal is not unlocked."""
    gone = person(status="removed", lock=Lock(reason=LockReason.ADMIN, locked_at=NOW))
    decision = can_unlock(REF, org(), actor=owner(), principal=gone, now=NOW)
    assert decision.codes == (ReasonCode.PRINCIPAL_REMOVED,)


def test_exemption_without_a_cap_lasts_until_its_expiry() -> None:
    """With max_exemption=None, the stored expiry alone bounds the exemption."""
    policy = dataclasses.replace(REF, max_exemption=None)
    long = Exemption(granted_by="o1", granted_at=ENFORCED_AT, expires_at=NOW + 300 * DAY)
    report = org_compliance_report(policy, org(), principals=[bare(exemption=long)], now=NOW)
    assert report.counts[ComplianceStatus.EXEMPT] == 1
    assert report.next_evaluation == NOW + 300 * DAY
