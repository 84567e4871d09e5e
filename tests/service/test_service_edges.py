"""Races and rare paths, forced with a memory store whose atomic operations can lose."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from service_helpers import ORIGIN, RP_ID, SETTINGS, START, app_for, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import (
    AttemptsExhaustedError,
    ConfigurationError,
    ExpiredCodeError,
    InvalidCodeError,
    MalformedDataError,
    NotFoundError,
    PolicyDeniedError,
    ReplayedCodeError,
    SignCountError,
    StoreError,
)
from mfakit.policy import (
    Effect,
    EffectKind,
    ObligationKind,
    OrgPolicy,
    gradual_rollout,
    remove_noncompliant,
)
from mfakit.repositories import Invitation, LoginCode, Membership, Organization, Page
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import (
    InMemoryOutbox,
    MethodRemoved,
    MfaService,
    RelyingParty,
    UserRef,
)
from mfakit.service import (
    LoginCode as LoginCodeMessage,
)
from mfakit.service._facts import apply_effect, org_state_of, principal_of, upgrade_organization
from mfakit.stores.memory import MemoryStore
from mfakit.testing import SoftAuthenticator


class EdgeStore(MemoryStore):
    """A memory store whose atomic operations can be told to lose, and that pages by one."""

    def __init__(self) -> None:
        super().__init__()
        self.lose: dict[str, int] = {}
        self.hidden: set[str] = set()

    def _loses(self, name: str) -> bool:
        left = self.lose.get(name, 0)
        if left:
            self.lose[name] = left - 1
            return True
        return False

    def update_membership(self, membership: Membership) -> Membership | None:
        return None if self._loses("membership") else super().update_membership(membership)

    def update_organization(self, organization: Organization) -> Organization | None:
        return None if self._loses("organization") else super().update_organization(organization)

    def advance_totp_step(self, totp_id: str, step: int, *, now: Any) -> bool:
        return False if self._loses("step") else super().advance_totp_step(totp_id, step, now=now)

    def activate_totp(self, user_id: str, totp_id: str, **kw: Any) -> Any:
        if self._loses("activate"):
            raise NotFoundError
        return super().activate_totp(user_id, totp_id, **kw)

    def record_login_code_attempt(
        self, subject: str, code_id: str, *, now: Any
    ) -> LoginCode | None:
        return (
            None
            if self._loses("attempt")
            else super().record_login_code_attempt(subject, code_id, now=now)
        )

    def consume_login_code(self, subject: str, code_id: str, *, now: Any) -> bool:
        return (
            False
            if self._loses("consume")
            else super().consume_login_code(subject, code_id, now=now)
        )

    def accept_invitation(
        self, invitation_id: str, membership: Membership, *, now: Any
    ) -> Invitation | None:
        return (
            None
            if self._loses("accept")
            else super().accept_invitation(invitation_id, membership, now=now)
        )

    def update_sign_count(
        self, credential_id: bytes, expected_old: int, new: int, **kw: Any
    ) -> bool:
        return (
            False
            if self._loses("sign_count")
            else super().update_sign_count(credential_id, expected_old, new, **kw)
        )

    def get_membership(self, org_id: str, user_id: str) -> Membership | None:
        return None if user_id in self.hidden else super().get_membership(org_id, user_id)

    def list_memberships(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Membership]:
        return super().list_memberships(org_id, after=after, limit=1)

    def list_organizations(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[Organization]:
        return super().list_organizations(after=after, limit=1)


@pytest.fixture
def edge() -> Iterator[EdgeStore]:
    """The losing store."""
    store = EdgeStore()
    yield store
    store.close()


@pytest.fixture
def svc(edge: EdgeStore, clock: FrozenClock, outbox: InMemoryOutbox) -> MfaService:
    """A service over the losing store."""
    return MfaService(
        store=edge,
        keys=KeyRing({"k": generate_key()}, current="k"),
        notifier=outbox,
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=bytes(32),
        settings=SETTINGS,
    )


def _org(svc: MfaService, clock: FrozenClock, policy: OrgPolicy | None = None) -> None:
    enroll_totp(svc, clock, "owner")
    svc.create_organization("acme", name="Acme", owner_id="owner", policy=policy)
    svc.create_organization("beta", name="Beta", owner_id="owner", policy=policy)
    svc.add_member("acme", "mia")
    svc.add_member("acme", "max")


def test_lost_membership_race_is_retried(
    svc: MfaService, edge: EdgeStore, clock: FrozenClock
) -> None:
    """A lost compare-and-set is retried on the fresh record."""
    _org(svc, clock)
    edge.lose["membership"] = 1
    assert svc.send_reminders("acme", actor_id="owner", user_ids=["mia"]) == ("mia",)
    edge.lose["membership"] = 1
    svc.lock_member("acme", "mia", actor_id="owner")
    member = edge.get_membership("acme", "mia")
    assert member is not None
    assert member.status == "locked"


def test_endless_membership_races_give_up(
    svc: MfaService, edge: EdgeStore, clock: FrozenClock
) -> None:
    """A membership that keeps changing ends in StoreError, not a loop."""
    _org(svc, clock)
    svc.lock_member("acme", "mia", actor_id="owner")
    edge.lose["membership"] = 100
    with pytest.raises(StoreError):
        svc.lock_member("acme", "max", actor_id="owner")
    with pytest.raises(StoreError):
        svc.unlock_member("acme", "mia", actor_id="owner")


def test_organization_races(svc: MfaService, edge: EdgeStore, clock: FrozenClock) -> None:
    """Enforce and stop retry a lost organization update, and give up eventually."""
    _org(svc, clock, gradual_rollout())
    edge.lose["organization"] = 1
    svc.enforce_mfa("acme", actor_id="owner", confirmation="ENFORCE")
    edge.lose["organization"] = 100
    with pytest.raises(StoreError):
        svc.enforce_mfa("beta", actor_id="owner", confirmation="ENFORCE")
    with pytest.raises(StoreError):
        svc.set_policy("beta", OrgPolicy(), actor_id="owner")


def test_stop_enforcement_races(svc: MfaService, edge: EdgeStore, clock: FrozenClock) -> None:
    """Stopping retries a lost update and gives up after many."""
    app = _enforced(svc, clock)
    svc.verify_totp("owner", app.code())
    edge.lose["organization"] = 100
    with pytest.raises(StoreError):
        svc.stop_enforcement("acme", actor_id="owner", confirmation="STOP")
    edge.lose["organization"] = 1
    svc.stop_enforcement("acme", actor_id="owner", confirmation="STOP")


def _enforced(svc: MfaService, clock: FrozenClock) -> Any:
    app, _ = enroll_totp(svc, clock, "owner")
    svc.create_organization("acme", name="Acme", owner_id="owner", policy=gradual_rollout())
    svc.add_member("acme", "mia")
    svc.enforce_mfa("acme", actor_id="owner", confirmation="ENFORCE")
    return app


def test_member_gone_during_org_wide_effects(
    svc: MfaService, edge: EdgeStore, clock: FrozenClock
) -> None:
    """A member who vanishes while enforcement starts is skipped."""
    enroll_totp(svc, clock, "owner")
    svc.create_organization("acme", name="Acme", owner_id="owner", policy=gradual_rollout())
    svc.add_member("acme", "mia")
    edge.hidden.add("mia")
    decision = svc.enforce_mfa("acme", actor_id="owner", confirmation="ENFORCE")
    assert any(e.subject == "mia" for e in decision.effects)


def test_set_policy(svc: MfaService, edge: EdgeStore, clock: FrozenClock) -> None:
    """Owners change the policy; who enabled enforcement is kept; members cannot."""
    _enforced(svc, clock)
    svc.set_policy("acme", remove_noncompliant(), actor_id="owner")
    org = edge.get_organization("acme")
    assert org is not None
    assert org.policy["after_deadline"] == "remove"
    assert (org.enforced_by, "_enforced_by" in org.policy) == ("owner", False)
    with pytest.raises(PolicyDeniedError):
        svc.set_policy("acme", OrgPolicy(), actor_id="mia")


def test_unknown_organization_and_member(svc: MfaService, clock: FrozenClock) -> None:
    """Unknown organizations and members are NotFoundError."""
    _org(svc, clock)
    with pytest.raises(NotFoundError):
        svc.compliance_report("nope")
    with pytest.raises(NotFoundError):
        svc.member_compliance("acme", "nobody")
    with pytest.raises(NotFoundError):
        svc.begin_second_factor("nobody", org_id="acme")
    assert svc.begin_second_factor("mia", org_id="acme").methods == ()


def test_sweep_pages_through_everything(svc: MfaService, clock: FrozenClock) -> None:
    """The sweep visits every organization and member across pages."""
    _org(svc, clock)
    assert svc.sweep().organizations == 2


def test_totp_step_race_is_replay(svc: MfaService, edge: EdgeStore, clock: FrozenClock) -> None:
    """Losing the atomic step advance means another request used the code."""
    app, _ = enroll_totp(svc, clock, "u")
    edge.lose["step"] = 1
    with pytest.raises(ReplayedCodeError):
        svc.verify_totp("u", app.code())


def test_activation_race(svc: MfaService, edge: EdgeStore, clock: FrozenClock) -> None:
    """A concurrent confirmation wins; the loser is told the enrollment is gone."""
    enrollment = svc.begin_totp_enrollment(UserRef(user_id="u", name="u"))
    edge.lose["activate"] = 1
    with pytest.raises(ExpiredCodeError):
        svc.confirm_totp("u", enrollment.totp_id, app_for(enrollment, clock).code())


def test_login_code_races(
    svc: MfaService, edge: EdgeStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """A lost attempt count or consumption refuses the code."""
    _org(svc, clock)
    svc.add_member("acme", "iam", username="jane")
    svc.send_login_code("acme", "jane")
    svc.deliver_notifications()
    code = outbox.of_type(LoginCodeMessage, user_id="iam")[-1].code
    edge.lose["attempt"] = 1
    with pytest.raises(AttemptsExhaustedError):
        svc.verify_login_code("acme", "jane", code)
    edge.lose["consume"] = 1
    with pytest.raises(ReplayedCodeError):
        svc.verify_login_code("acme", "jane", code)


def test_login_code_of_removed_member(
    svc: MfaService, edge: EdgeStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """A member removed after the code was sent cannot sign in with it."""
    _org(svc, clock)
    svc.add_member("acme", "iam", username="jane")
    svc.send_login_code("acme", "jane")
    svc.deliver_notifications()
    code = outbox.of_type(LoginCodeMessage, user_id="iam")[-1].code
    member = edge.get_membership("acme", "iam")
    assert member is not None
    edge.update_membership(dataclasses.replace(member, status="removed"))
    with pytest.raises(InvalidCodeError):
        svc.verify_login_code("acme", "jane", code)


def test_invitation_edges(svc: MfaService, edge: EdgeStore, clock: FrozenClock) -> None:
    """Bad emails, grace on joining, a lost acceptance race, unknown revocations."""
    _enforced(svc, clock)
    with pytest.raises(ConfigurationError):
        svc.invite("acme", actor_id="owner", email="not-an-email")
    first = svc.invite("acme", actor_id="owner", email="a@example.com")
    member = svc.accept_invitation(first.invitation_id, "neo", email="a@example.com")
    assert member.grace_reason == "new_member"
    second = svc.invite("acme", actor_id="owner", email="b@example.com")
    edge.lose["accept"] = 1
    with pytest.raises(ExpiredCodeError):
        svc.accept_invitation(second.invitation_id, "trinity", email="b@example.com")
    assert svc.revoke_invitation("nope", actor_id="owner") is False
    with pytest.raises(PolicyDeniedError):
        svc.lock_member("acme", "owner", actor_id="owner")


def test_regenerate_needs_step_up_in_org(svc: MfaService, clock: FrozenClock) -> None:
    """Generating new backup codes in an organization needs a recent second factor."""
    app = _enforced(svc, clock)
    clock.advance(timedelta(hours=1))
    with pytest.raises(PolicyDeniedError) as caught:
        svc.regenerate_backup_codes("owner")
    assert caught.value.decision.obligations[0].kind is ObligationKind.STEP_UP
    svc.verify_totp("owner", app.code())
    assert len(svc.regenerate_backup_codes("owner").codes) == 10


def test_passkey_edges(svc: MfaService, edge: EdgeStore) -> None:
    """Bad names, kinds and users; unknown credentials; a lost counter update."""
    ada = UserRef(user_id="ada", name="ada")
    for bad in ("", " ", "x" * 65, 3):
        with pytest.raises(ConfigurationError):
            svc.begin_passkey_registration(ada, name=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        svc.begin_passkey_registration(ada, name="Key", kind="totp")
    with pytest.raises(ConfigurationError):
        svc.begin_passkey_registration("ada", name="Key")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        svc.begin_totp_enrollment("ada")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        svc.rename_passkey("ada", b"nope", "Key")
    authenticator = SoftAuthenticator(origin=ORIGIN)
    started = svc.begin_passkey_registration(ada, name="Key")
    svc.finish_passkey_registration(
        "ada", started.challenge_id, authenticator.create(started.options)
    )
    start = svc.begin_second_factor("ada")
    assert start.challenge_id is not None
    edge.lose["sign_count"] = 1
    with pytest.raises(SignCountError):
        svc.verify_passkey("ada", start.challenge_id, authenticator.get(start.webauthn_options))  # type: ignore[arg-type]


def test_principal_facts(clock: FrozenClock) -> None:
    """Stored exemptions and lock actors become policy facts; bad ones are refused."""
    now = clock.now()
    base = Membership(org_id="o", user_id="u", joined_at=START)
    exempt = dataclasses.replace(
        base,
        exempt_until=now + timedelta(days=1),
        attributes={"exemption": {"granted_by": "boss", "granted_at": now.isoformat()}},
    )
    principal = principal_of(exempt, (), last_mfa_at=now)
    assert principal.last_mfa_at == now
    assert principal.exemption is not None
    assert principal.exemption.granted_by == "boss"
    with pytest.raises(MalformedDataError):
        principal_of(dataclasses.replace(exempt, attributes={}), (), last_mfa_at=None)
    locked = apply_effect(base, Effect(kind=EffectKind.LOCK, subject="u", at=now, actor="boss"))
    assert locked.attributes["locked_by"] == "boss"
    assert principal_of(locked, (), last_mfa_at=None).lock is not None
    same = apply_effect(base, Effect(kind=EffectKind.SET_ENFORCEMENT, subject="o", enabled=True))
    assert same == base


def test_removal_and_its_effects_are_all_or_nothing(
    svc: MfaService, edge: EdgeStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """If the grace period cannot be stored, the TOTP is not deleted and nobody is told."""
    enroll_totp(svc, clock, "owner")
    enroll_totp(svc, clock, "owner2")
    svc.create_organization("acme", name="Acme", owner_id="owner")
    svc.add_member("acme", "owner2", kind="owner")
    app, _ = enroll_totp(svc, clock, "mia")
    svc.add_member("acme", "mia")
    svc.enforce_mfa("acme", actor_id="owner", confirmation="ENFORCE")
    svc.verify_totp("mia", app.code())
    edge.lose["membership"] = 100
    with pytest.raises(StoreError):
        svc.delete_totp("mia", confirmation="DELETE")
    assert edge.list_totp_devices("mia")
    assert edge.count_unused_backup_codes("mia") == 10
    assert not outbox.of_type(MethodRemoved, user_id="mia")


@pytest.mark.parametrize(
    ("enforced_by", "marker", "expected"),
    [
        ("o-new", "o-old", "o-new"),  # the field wins over a stale marker
        (None, "o-old", "o-old"),
        (None, 7, None),  # a marker that is not a user id is dropped
        (None, "", None),
    ],
)
def test_upgrade_organization_moves_the_old_marker(
    enforced_by: str | None, marker: object, expected: str | None
) -> None:
    """The old policy marker moves to enforced_by; the rest of the policy is untouched."""
    org = Organization(
        org_id="o",
        name="O",
        policy={"_enforced_by": marker, "activation": "start_grace"},
        enforced=True,
        enforced_by=enforced_by,
        created_at=START,
    )
    upgraded = upgrade_organization(org)
    assert (upgraded.enforced_by, upgraded.policy) == (expected, {"activation": "start_grace"})


def test_upgrade_organization_leaves_current_records_alone() -> None:
    """A record without the old marker is returned as it is."""
    org = Organization(org_id="o", name="O", created_at=START, enforced_by="o-1")
    assert upgrade_organization(org) is org


def test_org_state_uses_enforced_by_only_while_enforced() -> None:
    """OrgState.enforced_by comes from the field while enforced, and is None when off."""
    on = Organization(
        org_id="o", name="O", created_at=START, enforced=True, enforced_at=START, enforced_by="a"
    )
    assert org_state_of(on, 1).enforced_by == "a"
    off = dataclasses.replace(on, enforced=False)
    assert org_state_of(off, 1).enforced_by is None
