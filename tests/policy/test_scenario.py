"""The reference console's organization MFA journeys, replayed in order.

A tiny in-test "service" persists each decision's effects the way the real
service must: in order, onto the stored facts. Deadlines are never stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from mfakit.policy import (
    ComplianceStatus,
    Decision,
    EffectKind,
    GraceAnchor,
    GraceKind,
    Lock,
    LockReason,
    MethodKind,
    NotificationKind,
    ObligationKind,
    OrgState,
    Outcome,
    Principal,
    PrincipalKind,
    PrincipalStatus,
    ReasonCode,
    can_accept_invitation,
    can_add_method,
    can_enable_enforcement,
    can_remove_method,
    can_stop_enforcement,
    can_unlock,
    due_reminders,
    evaluate_login,
    member_compliance,
    org_compliance_report,
    reference_console,
    sweep,
)

from .helpers import DAY, NOW, method, person

POLICY = reference_console()


class Org:
    """Stored facts of one organization, updated only through decision effects."""

    def __init__(self, people: Iterable[Principal]) -> None:
        self.state = OrgState(id="acme", owner_count=2)
        self.people = {p.id: p for p in people}
        self.outbox: list[tuple[NotificationKind, str]] = []

    def __getitem__(self, pid: str) -> Principal:
        return self.people[pid]

    def put(self, principal: Principal) -> None:
        self.people[principal.id] = principal

    def apply(self, decision: Decision) -> Decision:
        """Persist the effects, in order, and queue the notifications."""
        for e in decision.effects:
            if e.kind is EffectKind.SET_ENFORCEMENT:
                self.state = dataclasses.replace(
                    self.state,
                    enforced_since=e.at if e.enabled else None,
                    enforced_by=e.actor if e.enabled else None,
                )
                continue
            p = self.people[e.subject]
            if e.kind is EffectKind.START_GRACE:
                assert e.grace_kind is not None
                assert e.at is not None
                p = dataclasses.replace(p, grace=GraceAnchor(kind=e.grace_kind, started_at=e.at))
            elif e.kind is EffectKind.CLEAR_GRACE:
                p = dataclasses.replace(p, grace=None)
            elif e.kind is EffectKind.LOCK:
                assert e.lock_reason is not None
                assert e.at is not None
                lock = Lock(reason=e.lock_reason, locked_at=e.at, locked_by=e.actor)
                p = dataclasses.replace(p, lock=lock)
            elif e.kind is EffectKind.UNLOCK:
                p = dataclasses.replace(p, lock=None)
            elif e.kind is EffectKind.RESET_FAILED_ATTEMPTS:
                p = dataclasses.replace(p, failed_attempts=0)
            elif e.kind is EffectKind.RECORD_REMINDER:
                p = dataclasses.replace(p, last_reminder_at=e.at)
            else:
                raise AssertionError(f"unexpected effect {e.kind}")
            self.people[p.id] = p
        self.outbox.extend((n.kind, n.recipient) for n in decision.notifications)
        return decision

    def apply_all(self, job: Callable[..., Iterator[Decision]], at: datetime) -> list[Decision]:
        """Run a streaming job (sweep, due_reminders) and persist every decision."""
        decisions = list(job(POLICY, self.state, principals=list(self.people.values()), now=at))
        for decision in decisions:
            self.apply(decision)
        return decisions


def _enroll_totp(org: Org, pid: str, at: datetime) -> None:
    who = org[pid]
    decision = org.apply(
        can_add_method(POLICY, org.state, principal=who, kind=MethodKind.TOTP, now=at)
    )
    assert decision.allowed
    new = method(f"totp-{at.timestamp():.0f}", MethodKind.TOTP, created_at=at)
    org.put(dataclasses.replace(org[pid], methods=(*org[pid].methods, new), last_mfa_at=at))


def test_reference_console_journeys_in_order() -> None:
    """Enforce at 99 %, remind, enroll, enforce, invite, delete TOTP, lock, unlock, stop."""
    alice = person(
        "alice", kind=PrincipalKind.OWNER, with_methods=(MethodKind.TOTP, MethodKind.PASSKEY)
    )
    dave = person("dave", kind=PrincipalKind.OWNER)
    members = [person(f"m{i:02d}") for i in range(97)]
    bob = person("bob", with_methods=())
    org = Org([alice, dave, *members, bob])
    t = NOW

    # 1. The owner tries to enforce at 99 % compliance: refused, bob is listed.
    report = org_compliance_report(POLICY, org.state, principals=org.people.values(), now=t)
    assert (report.required, report.satisfied, report.percent_compliant) == (100, 99, 99.0)
    assert not report.can_enable_enforcement
    refused = can_enable_enforcement(
        POLICY,
        org.state,
        actor=org["alice"],
        principals=org.people.values(),
        confirmation="ENFORCE",
        now=t,
    )
    assert refused.outcome is Outcome.DENY
    assert refused.codes == (ReasonCode.PRINCIPALS_WITHOUT_MFA,)
    assert refused.reminder_targets == ("bob",)

    # 2. She sends bob a reminder (the report names exactly him); 3. bob enrolls TOTP.
    assert report.reminder_targets == ("bob",)
    t += DAY
    _enroll_totp(org, "bob", t)

    # 4. Enforcement now succeeds.
    enabled = org.apply(
        can_enable_enforcement(
            POLICY,
            org.state,
            actor=org["alice"],
            principals=org.people.values(),
            confirmation="ENFORCE",
            now=t,
        )
    )
    assert enabled.allowed
    assert org.state.enforced_since == t

    # 5. An invitee without MFA is refused, sets up TOTP, then is accepted.
    carol = person("carol", with_methods=(), status=PrincipalStatus.INVITED)
    org.put(carol)
    no = can_accept_invitation(POLICY, org.state, invitee=org["carol"], now=t)
    assert no.outcome is Outcome.DENY
    assert no.obligations[0].kind is ObligationKind.ENROLL_NOW
    _enroll_totp(org, "carol", t)
    yes = org.apply(can_accept_invitation(POLICY, org.state, invitee=org["carol"], now=t))
    assert yes.allowed
    org.put(dataclasses.replace(org["carol"], status=PrincipalStatus.ACTIVE, joined_at=t))

    # 6. Bob deletes his only TOTP (typing DELETE): a grace period starts.
    t += DAY
    (totp,) = org["bob"].methods
    org.put(dataclasses.replace(org["bob"], last_mfa_at=t - timedelta(minutes=2)))
    removed = org.apply(
        can_remove_method(
            POLICY,
            org.state,
            principal=org["bob"],
            method_id=totp.id,
            confirmation="DELETE",
            now=t,
        )
    )
    assert removed.allowed
    deadline = t + POLICY.grace_lost_method
    assert removed.deadline == deadline
    org.put(dataclasses.replace(org["bob"], methods=()))
    login = evaluate_login(POLICY, org.state, principal=org["bob"], now=t + DAY)
    assert login.allowed
    assert login.obligations[0].deadline == deadline

    # Reminders come at the policy's offsets before the deadline, once each.
    for offset in POLICY.reminder_offsets:
        at = deadline - offset
        (reminder,) = org.apply_all(due_reminders, at)
        assert reminder.notifications[0].kind is NotificationKind.REMINDER
        assert list(due_reminders(POLICY, org.state, principals=org.people.values(), now=at)) == []

    # 7. The grace period runs out: at the deadline exactly, the sweep locks bob.
    before = list(sweep(POLICY, org.state, principals=org.people.values(), now=deadline - 1 * DAY))
    assert before == []
    (lock,) = org.apply_all(sweep, deadline)
    assert lock.subject == "bob"
    assert org["bob"].lock is not None
    assert org["bob"].lock.reason is LockReason.MFA_DEADLINE
    # 8. Bob is locked out; an administrator must unlock him.
    denied = evaluate_login(POLICY, org.state, principal=org["bob"], now=deadline + DAY)
    assert denied.outcome is Outcome.DENY
    assert denied.reasons[0].params["unlock"] == "admin"

    # 9. Alice unlocks bob; the reference policy restarts his grace period.
    t = deadline + DAY
    unlocked = org.apply(
        can_unlock(POLICY, org.state, actor=org["alice"], principal=org["bob"], now=t)
    )
    assert unlocked.allowed
    assert org["bob"].lock is None
    assert org["bob"].grace == GraceAnchor(kind=GraceKind.UNLOCK, started_at=t)
    status = member_compliance(POLICY, org.state, principal=org["bob"], now=t)
    assert status.status is ComplianceStatus.IN_GRACE
    assert evaluate_login(POLICY, org.state, principal=org["bob"], now=t).allowed

    # 10. Alice stops enforcement (typing STOP): a step-up first, then both owners are told.
    org.outbox.clear()
    stale = can_stop_enforcement(
        POLICY,
        org.state,
        actor=org["alice"],
        principals=org.people.values(),
        confirmation="STOP",
        now=t,
    )
    assert stale.outcome is Outcome.REQUIRE_STEP_UP
    assert org.apply(stale).effects == ()
    org.put(dataclasses.replace(org["alice"], last_mfa_at=t))
    stopped = org.apply(
        can_stop_enforcement(
            POLICY,
            org.state,
            actor=org["alice"],
            principals=org.people.values(),
            confirmation="STOP",
            now=t,
        )
    )
    assert stopped.allowed
    assert org.state.enforced_since is None
    assert (NotificationKind.ENFORCEMENT_STOPPED, "alice") in org.outbox
    assert (NotificationKind.ENFORCEMENT_STOPPED, "dave") in org.outbox
    assert org["bob"].grace is None
    assert evaluate_login(POLICY, org.state, principal=org["bob"], now=t + 30 * DAY).allowed
