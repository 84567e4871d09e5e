"""Organization flows: enforcement, reminders, compliance, invitations, locks and the sweep."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from service_helpers import App, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import ExpiredCodeError, InvalidCodeError, NotFoundError, PolicyDeniedError
from mfakit.policy import (
    ActivationMode,
    ComplianceStatus,
    ObligationKind,
    OrgPolicy,
    ReasonCode,
    gradual_rollout,
    remove_noncompliant,
)
from mfakit.repositories import MfaStore
from mfakit.service import (
    AccountLocked,
    AccountUnlocked,
    EnforcementStopped,
    GracePeriodStarted,
    InMemoryOutbox,
    MemberRemoved,
    MfaReminder,
    MfaService,
)

ORG = "acme"


def _org(service: MfaService, clock: FrozenClock, **policy: object) -> App:
    """An organization owned by 'owner' (with TOTP) and a member 'mia' without MFA."""
    app, _ = enroll_totp(service, clock, "owner")
    service.create_organization(ORG, name="Acme", owner_id="owner", **policy)  # type: ignore[arg-type]
    service.add_member(ORG, "mia")
    return app


def test_enforce_refused_until_everyone_has_mfa(service: MfaService, clock: FrozenClock) -> None:
    """Under the reference rules, enforcement lists who lacks MFA and is refused."""
    _org(service, clock)
    with pytest.raises(PolicyDeniedError) as caught:
        service.enforce_mfa(ORG, actor_id="owner", confirmation="ENFORCE")
    decision = caught.value.decision
    assert decision.reminder_targets == ("mia",)
    assert ReasonCode.PRINCIPALS_WITHOUT_MFA in decision.codes


def test_enforce_needs_typed_enforce(service: MfaService, clock: FrozenClock) -> None:
    """Without ENFORCE typed, nothing changes."""
    _org(service, clock)
    enroll_totp(service, clock, "mia")
    with pytest.raises(PolicyDeniedError):
        service.enforce_mfa(ORG, actor_id="owner", confirmation="enforce")
    assert service.compliance_report(ORG).can_enable_enforcement


def test_member_cannot_enforce(service: MfaService, clock: FrozenClock) -> None:
    """Only an owner (or a holder of the permission) may enforce."""
    _org(service, clock)
    enroll_totp(service, clock, "mia")
    with pytest.raises(PolicyDeniedError) as caught:
        service.enforce_mfa(ORG, actor_id="mia", confirmation="ENFORCE")
    assert ReasonCode.ACTOR_NOT_AUTHORIZED in caught.value.decision.codes


def test_enforcer_is_stored_in_its_own_field(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Who enabled enforcement is the record's enforced_by, never a key in the policy."""
    app = _org(service, clock)
    enroll_totp(service, clock, "mia")
    service.enforce_mfa(ORG, actor_id="owner", confirmation="ENFORCE")
    enforced = store.get_organization(ORG)
    assert enforced is not None
    assert enforced.enforced_by == "owner"
    assert "_enforced_by" not in enforced.policy
    service.verify_totp("owner", app.code())
    service.stop_enforcement(ORG, actor_id="owner", confirmation="STOP")
    stopped = store.get_organization(ORG)
    assert stopped is not None
    assert (stopped.enforced, stopped.enforced_by) == (False, "owner")
    assert "_enforced_by" not in stopped.policy


def test_record_of_an_older_service_is_read_and_upgraded(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """An enforced record with the old policy marker is still read, then moved on write."""
    _org(service, clock)
    org = store.get_organization(ORG)
    assert org is not None
    legacy = dataclasses.replace(
        org,
        enforced=True,
        enforced_at=clock.now(),
        policy={**org.policy, "_enforced_by": "owner"},
    )
    assert store.update_organization(legacy) is not None
    assert service._directory.org_context(ORG).state.enforced_by == "owner"
    service.set_policy(ORG, gradual_rollout(), actor_id="owner")
    upgraded = store.get_organization(ORG)
    assert upgraded is not None
    assert (upgraded.enforced_by, "_enforced_by" in upgraded.policy) == ("owner", False)
    assert service._directory.org_context(ORG).state.enforced_by == "owner"


def test_reminders_reach_only_members_without_mfa(
    service: MfaService, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """'Send reminders' goes to the non-compliant members, one or all."""
    _org(service, clock)
    service.add_member(ORG, "max")
    assert service.send_reminders(ORG, actor_id="owner", user_ids=["max", "owner"]) == ("max",)
    assert service.send_reminders(ORG, actor_id="owner") == ("max", "mia")
    assert [m.user_id for m in outbox.of_type(MfaReminder)] == ["max", "max", "mia"]
    with pytest.raises(PolicyDeniedError):
        service.send_reminders(ORG, actor_id="mia")


def test_enforce_then_stop_notifies_owners(
    service: MfaService, store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """Enforcement turns on with everyone compliant; STOP turns it off and tells the owners."""
    app = _org(service, clock)
    enroll_totp(service, clock, "mia")
    service.enforce_mfa(ORG, actor_id="owner", confirmation="ENFORCE")
    org = store.get_organization(ORG)
    assert org is not None
    assert org.enforced
    service.verify_totp("owner", app.code())
    service.stop_enforcement(ORG, actor_id="owner", confirmation="STOP")
    org = store.get_organization(ORG)
    assert org is not None
    assert not org.enforced
    assert [m.user_id for m in outbox.of_type(EnforcementStopped)] == ["owner"]


def test_stop_requires_step_up(service: MfaService, clock: FrozenClock) -> None:
    """Stopping enforcement needs a recent second factor."""
    _org(service, clock)
    enroll_totp(service, clock, "mia")
    service.enforce_mfa(ORG, actor_id="owner", confirmation="ENFORCE")
    clock.advance(timedelta(hours=1))
    with pytest.raises(PolicyDeniedError) as caught:
        service.stop_enforcement(ORG, actor_id="owner", confirmation="STOP")
    assert caught.value.decision.obligations[-1].kind is ObligationKind.STEP_UP


def test_start_grace_policy_gives_deadlines(
    service: MfaService, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """With start_grace activation, members without MFA get a grace period and a notice."""
    _org(service, clock, policy=gradual_rollout())
    decision = service.enforce_mfa(ORG, actor_id="owner", confirmation="ENFORCE")
    status = service.member_compliance(ORG, "mia")
    assert status.status is ComplianceStatus.IN_GRACE
    assert status.deadline == decision.deadline == clock.now() + timedelta(days=14)
    assert outbox.of_type(GracePeriodStarted, user_id="mia")[0].deadline == status.deadline


def test_compliance_report(service: MfaService, clock: FrozenClock) -> None:
    """The report counts who has MFA."""
    _org(service, clock)
    report = service.compliance_report(ORG)
    assert (report.required, report.satisfied, report.reminder_targets) == (2, 1, ("mia",))


def test_invitee_without_mfa_refused_under_enforcement(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Invitees must set up MFA before joining an enforcing organization."""
    _org(service, clock)
    enroll_totp(service, clock, "mia")
    service.enforce_mfa(ORG, actor_id="owner", confirmation="ENFORCE")
    invitation = service.invite(ORG, actor_id="owner", email="neo@example.com")
    with pytest.raises(PolicyDeniedError) as caught:
        service.accept_invitation(invitation.invitation_id, "neo", email="neo@example.com")
    assert caught.value.decision.obligations[0].kind is ObligationKind.ENROLL_NOW
    enroll_totp(service, clock, "neo")
    member = service.accept_invitation(invitation.invitation_id, "neo", email="neo@example.com")
    assert (member.kind, member.status) == ("member", "active")
    with pytest.raises(ExpiredCodeError):
        service.accept_invitation(invitation.invitation_id, "trinity", email="neo@example.com")
    assert store.get_membership(ORG, "trinity") is None


def test_invitation_expires_and_can_be_revoked(service: MfaService, clock: FrozenClock) -> None:
    """An expired or revoked invitation cannot be accepted."""
    _org(service, clock)
    first = service.invite(ORG, actor_id="owner", email="a@example.com")
    second = service.invite(ORG, actor_id="owner", email="b@example.com")
    assert service.revoke_invitation(second.invitation_id, actor_id="owner")
    with pytest.raises(ExpiredCodeError):
        service.accept_invitation(second.invitation_id, "b", email="b@example.com")
    clock.advance(service.settings.invitation_ttl)
    with pytest.raises(ExpiredCodeError):
        service.accept_invitation(first.invitation_id, "a", email="a@example.com")
    with pytest.raises(NotFoundError):
        service.accept_invitation("nope", "a", email="a@example.com")


def test_member_cannot_invite(service: MfaService, clock: FrozenClock) -> None:
    """Inviting is for owners and administrators."""
    _org(service, clock)
    with pytest.raises(PolicyDeniedError):
        service.invite(ORG, actor_id="mia", email="x@example.com")


def test_lost_method_grace_then_sweep_locks(
    service: MfaService, store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """A member who deletes their only method has a grace period, then the sweep locks them."""
    _org(service, clock)
    enroll_totp(service, clock, "owner2")
    service.add_member(ORG, "owner2", kind="owner")
    mia_app, _ = enroll_totp(service, clock, "mia")
    service.enforce_mfa(ORG, actor_id="owner", confirmation="ENFORCE")
    service.verify_totp("mia", mia_app.code())
    removal = service.delete_totp("mia", confirmation="DELETE")
    assert removal.deadline is not None
    clock.set(removal.deadline - timedelta(days=1))
    report = service.sweep()
    assert report.reminded == ((ORG, "mia"),)
    assert outbox.of_type(MfaReminder, user_id="mia")[-1].deadline == removal.deadline
    clock.set(removal.deadline)
    report = service.sweep()
    assert report.locked == ((ORG, "mia"),)
    member = store.get_membership(ORG, "mia")
    assert member is not None
    assert (member.status, member.lock_reason) == ("locked", "mfa_deadline")
    assert outbox.of_type(AccountLocked, user_id="mia")[0].reason == "mfa_deadline"


def test_locked_member_cannot_sign_in_with_any_factor(
    service: MfaService, clock: FrozenClock
) -> None:
    """A locked member is refused before any factor is checked or consumed."""
    _org(service, clock)
    app, activation = enroll_totp(service, clock, "mia")
    service.lock_member(ORG, "mia", actor_id="owner")
    for attempt in (
        lambda: service.begin_second_factor("mia"),
        lambda: service.verify_totp("mia", app.code()),
        lambda: service.verify_backup_code("mia", activation.backup_codes.codes[0]),
    ):
        with pytest.raises(PolicyDeniedError) as caught:
            attempt()
        assert ReasonCode.PRINCIPAL_LOCKED in caught.value.decision.codes
    assert service.backup_code_status("mia").remaining == 10


def test_admin_unlock(service: MfaService, clock: FrozenClock, outbox: InMemoryOutbox) -> None:
    """An owner unlocks a locked member; nobody unlocks themselves."""
    _org(service, clock)
    app, _ = enroll_totp(service, clock, "mia")
    service.lock_member(ORG, "mia", actor_id="owner")
    with pytest.raises(PolicyDeniedError):
        service.unlock_member(ORG, "mia", actor_id="mia")
    service.unlock_member(ORG, "mia", actor_id="owner")
    assert outbox.of_type(AccountUnlocked, user_id="mia")
    assert service.verify_totp("mia", app.code()).user_id == "mia"


def test_failed_attempts_lock_the_membership(
    service: MfaService, store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """Reaching the policy's failed-attempt limit locks the member; the lock runs out."""
    _org(service, clock)
    app, _ = enroll_totp(service, clock, "mia")
    wrong = "000000" if app.code() != "000000" else "111111"
    for n in range(1, 11):
        with pytest.raises(InvalidCodeError):
            service.verify_totp("mia", wrong)
        clock.advance(service.settings.backoff(n))
    member = store.get_membership(ORG, "mia")
    assert member is not None
    assert (member.status, member.lock_reason) == ("locked", "failed_attempts")
    assert outbox.of_type(AccountLocked, user_id="mia")
    clock.advance(timedelta(minutes=16))
    assert service.verify_totp("mia", app.code()).user_id == "mia"


def test_overdue_member_locked_at_sign_in(service: MfaService, clock: FrozenClock) -> None:
    """Past the deadline, the sign-in itself applies the lock (no sweep needed)."""
    _org(service, clock, policy=remove_noncompliant())
    service.add_member(ORG, "bob")
    bob_app, _ = enroll_totp(service, clock, "bob")
    service.enforce_mfa(ORG, actor_id="owner", confirmation="ENFORCE")
    clock.advance(timedelta(days=8))
    with pytest.raises(PolicyDeniedError):
        service.begin_second_factor("mia")
    assert service.verify_totp("bob", bob_app.code()).user_id == "bob"


def test_sweep_removes_under_remove_policy(
    service: MfaService, store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """Under the remove policy, the sweep removes overdue members and tells them."""
    _org(service, clock, policy=remove_noncompliant())
    service.enforce_mfa(ORG, actor_id="owner", confirmation="ENFORCE")
    clock.advance(timedelta(days=7))
    assert service.sweep().removed == ((ORG, "mia"),)
    member = store.get_membership(ORG, "mia")
    assert member is not None
    assert member.status == "removed"
    assert outbox.of_type(MemberRemoved, user_id="mia")


def test_in_grace_login_carries_obligation(service: MfaService, clock: FrozenClock) -> None:
    """A member in grace signs in with an obligation to enroll by the deadline."""
    app, _ = enroll_totp(service, clock, "mia")  # before joining: TOTP will not count
    policy = OrgPolicy(
        activation=ActivationMode.START_GRACE,
        eligible_methods={"owner": {"totp"}, "member": {"passkey"}, "guest": {"passkey"}},
    )
    enroll_totp(service, clock, "owner")
    service.create_organization(ORG, name="Acme", owner_id="owner", policy=policy)
    service.add_member(ORG, "mia")
    decision = service.enforce_mfa(ORG, actor_id="owner", confirmation="ENFORCE")
    result = service.verify_totp("mia", app.code())
    assert result.deadline == decision.deadline
    assert result.obligations[0].kind is ObligationKind.ENROLL_BY
    assert not result.enrollment_only
