"""Support and administrator recovery: MFA resets, removals, exemptions, on every store."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from typing import Any

import pytest
from service_helpers import ORIGIN, RP_ID, SETTINGS, App, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import (
    ConfigurationError,
    MfaError,
    NotFoundError,
    PolicyDeniedError,
    SessionRevocationError,
)
from mfakit.policy import ComplianceStatus, GraceKind, OrgPolicy, ReasonCode
from mfakit.repositories import MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import (
    InMemoryOutbox,
    MemberRemoved,
    MfaReset,
    MfaService,
    RelyingParty,
    SessionRevoker,
    UserRef,
)
from mfakit.testing import SoftAuthenticator

ORG = "acme"
KEYS = KeyRing({"k1": generate_key()}, current="k1")
REASON = "lost phone, identity checked by ticket 4521"


class RecordingRevoker:
    """A session revoker that records its calls (and can be told to fail)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []
        self.fail = False
        self._lock = threading.Lock()

    def revoke_sessions(self, user_id: str, *, reason: str, org_id: str | None) -> None:
        """Record the call; raise when told to."""
        with self._lock:
            self.calls.append((user_id, reason, org_id))
        if self.fail:
            raise RuntimeError("session store down: secret-token-xyz")


def build(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, revoker: SessionRevoker
) -> MfaService:
    """A service over ``store`` with ``revoker``."""
    return MfaService(
        store=store,
        keys=KEYS,
        notifier=outbox,
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=SETTINGS,
        session_revoker=revoker,
    )


@pytest.fixture
def revoker() -> RecordingRevoker:
    """The host's session store, recording calls."""
    return RecordingRevoker()


@pytest.fixture
def svc(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, revoker: RecordingRevoker
) -> MfaService:
    """A service with the recording revoker, over each store in turn."""
    return build(store, clock, outbox, revoker)


def _org(svc: MfaService, clock: FrozenClock, *, enforce: bool = True) -> tuple[App, App]:
    """'owner' and member 'mia', both with TOTP; enforced; the owner verified just now."""
    owner_app, _ = enroll_totp(svc, clock, "owner")
    svc.create_organization(ORG, name="Acme", owner_id="owner", policy=OrgPolicy())
    svc.add_member(ORG, "mia")
    mia_app, _ = enroll_totp(svc, clock, "mia")
    if enforce:
        svc.verify_totp("owner", owner_app.code())
        svc.enforce_mfa(ORG, actor_id="owner", confirmation="ENFORCE")
    clock.advance(30)
    svc.verify_totp("owner", owner_app.code())  # a fresh step-up anchor
    return owner_app, mia_app


def _events(store: MfaStore, action: str) -> list[Any]:
    return [e for e in store.list_audit_events(limit=1000).items if e.action == action]


def _make_admin(store: MfaStore, user_id: str) -> None:
    m = store.get_membership(ORG, user_id)
    assert m is not None
    attributes = dict(m.attributes)
    attributes["permissions"] = [OrgPolicy().manage_permission]
    assert store.update_membership(dataclasses.replace(m, attributes=attributes)) is not None


# -- reset_member_mfa --------------------------------------------------------------------


def test_reset_deletes_every_factor_and_starts_a_grace(
    *,
    svc: MfaService,
    store: MfaStore,
    clock: FrozenClock,
    outbox: InMemoryOutbox,
    revoker: RecordingRevoker,
    authenticator: SoftAuthenticator,
) -> None:
    """TOTP, passkeys and backup codes go; a lost-method grace starts; mia is told; audited."""
    _org(svc, clock)
    started = svc.begin_passkey_registration(UserRef(user_id="mia", name="mia@x"), name="Laptop")
    response = authenticator.create(started.options)
    svc.finish_passkey_registration("mia", started.challenge_id, response)
    decision = svc.reset_member_mfa(ORG, "mia", actor_id="owner", reason=REASON)
    assert decision.allowed
    assert store.list_totp_devices("mia") == ()
    assert store.list_webauthn_credentials("mia") == ()
    assert store.list_backup_codes("mia") == ()
    status = svc.member_compliance(ORG, "mia")
    assert status.status is ComplianceStatus.IN_GRACE
    assert status.grace_kind is GraceKind.LOST_METHOD
    assert status.deadline == clock.now() + OrgPolicy().grace_lost_method
    (notice,) = outbox.of_type(MfaReset, user_id="mia")
    assert (notice.org_id, notice.deadline, notice.actor_id) == (ORG, status.deadline, "owner")
    (event,) = _events(store, "member.mfa_reset")
    assert (event.actor_id, event.user_id, event.org_id) == ("owner", "mia", ORG)
    assert event.details["reason"] == REASON
    assert event.details["totp"] == 1
    assert event.details["webauthn_credentials"] == 1
    assert event.details["backup_codes"] == 10
    assert revoker.calls == [("mia", "mfa_reset", ORG)]


def test_old_code_no_longer_signs_in_after_a_reset(svc: MfaService, clock: FrozenClock) -> None:
    """The deleted TOTP cannot complete a sign-in; the grace lets mia enroll again."""
    _, mia_app = _org(svc, clock)
    svc.reset_member_mfa(ORG, "mia", actor_id="owner", reason=REASON)
    with pytest.raises(NotFoundError):
        svc.verify_totp("mia", mia_app.code())
    enroll_totp(svc, clock, "mia")
    assert svc.member_compliance(ORG, "mia").status is ComplianceStatus.COMPLIANT


def test_reset_lifts_a_failed_attempts_lock_and_resets_the_throttles(
    svc: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """A member locked out by wrong codes is unlocked and their counters reset."""
    _org(svc, clock)
    for _ in range(3):
        with pytest.raises(MfaError):
            svc.verify_totp("mia", "000000")
        clock.advance(60)
    m = store.get_membership(ORG, "mia")
    assert m is not None
    store.update_membership(
        dataclasses.replace(
            m, status="locked", locked_at=clock.now(), lock_reason="failed_attempts"
        )
    )
    svc.reset_member_mfa(ORG, "mia", actor_id="owner", reason=REASON)
    after = store.get_membership(ORG, "mia")
    assert after is not None
    assert after.status == "active"
    assert store.get_throttle("mfa:totp:mia").failures == 0


def test_reset_keeps_an_administrators_lock(
    svc: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """An administrator's lock is deliberate: the reset does not lift it."""
    _org(svc, clock)
    svc.lock_member(ORG, "mia", actor_id="owner")
    svc.reset_member_mfa(ORG, "mia", actor_id="owner", reason=REASON)
    after = store.get_membership(ORG, "mia")
    assert after is not None
    assert after.status == "locked"


def test_member_cannot_reset_an_owner(
    svc: MfaService, store: MfaStore, clock: FrozenClock, revoker: RecordingRevoker
) -> None:
    """Mia (a member with MFA) trying to reset the owner is refused; nothing changes."""
    _, mia_app = _org(svc, clock)
    svc.verify_totp("mia", mia_app.code(1))
    with pytest.raises(PolicyDeniedError) as caught:
        svc.reset_member_mfa(ORG, "owner", actor_id="mia", reason=REASON)
    assert ReasonCode.ACTOR_NOT_AUTHORIZED in caught.value.decision.codes
    assert store.list_totp_devices("owner") != ()
    assert revoker.calls == []
    assert _events(store, "member.mfa_reset") == []


def test_administrator_cannot_reset_an_owner_but_resets_a_member(
    svc: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """A holder of the management permission resets members, never owners."""
    _org(svc, clock)
    svc.add_member(ORG, "adam")
    adam_app, _ = enroll_totp(svc, clock, "adam")
    _make_admin(store, "adam")
    svc.verify_totp("adam", adam_app.code())
    with pytest.raises(PolicyDeniedError) as caught:
        svc.reset_member_mfa(ORG, "owner", actor_id="adam", reason=REASON)
    assert caught.value.decision.codes == (ReasonCode.OWNER_PROTECTED,)
    assert svc.reset_member_mfa(ORG, "mia", actor_id="adam", reason=REASON).allowed


def test_nobody_resets_themselves(svc: MfaService, store: MfaStore, clock: FrozenClock) -> None:
    """The owner resetting their own MFA is refused: another administrator or support must."""
    _org(svc, clock)
    with pytest.raises(PolicyDeniedError) as caught:
        svc.reset_member_mfa(ORG, "owner", actor_id="owner", reason=REASON)
    assert caught.value.decision.codes == (ReasonCode.CANNOT_ACT_ON_SELF,)
    assert store.list_totp_devices("owner") != ()


def test_reset_of_an_account_in_other_organizations_is_refused(
    svc: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Mia also belongs to another organization: only support resets her factors."""
    _org(svc, clock)
    svc.create_organization("other", name="Other", owner_id="mia")
    with pytest.raises(PolicyDeniedError) as caught:
        svc.reset_member_mfa(ORG, "mia", actor_id="owner", reason=REASON)
    assert caught.value.decision.codes == (ReasonCode.ACCOUNT_SHARED,)
    assert store.list_totp_devices("mia") != ()


def test_reset_needs_a_recent_step_up(
    svc: MfaService, store: MfaStore, clock: FrozenClock, revoker: RecordingRevoker
) -> None:
    """An owner who verified an hour ago must verify again first."""
    _org(svc, clock)
    clock.advance(3600)
    with pytest.raises(PolicyDeniedError) as caught:
        svc.reset_member_mfa(ORG, "mia", actor_id="owner", reason=REASON)
    assert ReasonCode.STEP_UP_REQUIRED in caught.value.decision.codes
    assert store.list_totp_devices("mia") != ()
    assert revoker.calls == []


def test_reset_of_a_member_without_factors_is_refused(svc: MfaService, clock: FrozenClock) -> None:
    """Nothing to reset: refused (unlock or remind instead)."""
    _org(svc, clock, enforce=False)
    svc.add_member(ORG, "neo")
    with pytest.raises(PolicyDeniedError) as caught:
        svc.reset_member_mfa(ORG, "neo", actor_id="owner", reason=REASON)
    assert caught.value.decision.codes == (ReasonCode.NO_METHODS_TO_RESET,)


@pytest.mark.parametrize(
    "reason",
    ["", "   ", "x" * 501, "line\nbreak", "tab\there", "bidi\u202eoverride", None, 42],
)
def test_bad_reasons_are_refused_before_anything(
    svc: MfaService, store: MfaStore, clock: FrozenClock, reason: object
) -> None:
    """A missing, blank, too long or control-character reason: ConfigurationError, no writes."""
    _org(svc, clock)
    before = len(store.list_audit_events(limit=1000).items)
    for call in (
        lambda: svc.reset_member_mfa(ORG, "mia", actor_id="owner", reason=reason),  # type: ignore[arg-type]
        lambda: svc.reset_user_mfa("mia", actor_id="support", reason=reason),  # type: ignore[arg-type]
        lambda: svc.grant_exemption(
            ORG,
            "mia",
            actor_id="owner",
            until=clock.now() + timedelta(days=1),
            reason=reason,  # type: ignore[arg-type]
        ),
    ):
        with pytest.raises(ConfigurationError) as caught:
            call()
        assert isinstance(caught.value, ValueError)
        assert "secret" not in str(caught.value)
    assert store.list_totp_devices("mia") != ()
    assert len(store.list_audit_events(limit=1000).items) == before


def test_reasons_of_500_characters_are_accepted(svc: MfaService, clock: FrozenClock) -> None:
    """The longest reason allowed is 500 characters."""
    _org(svc, clock)
    assert svc.reset_member_mfa(ORG, "mia", actor_id="owner", reason="r" * 500).allowed


def test_unknown_ids_are_not_found(svc: MfaService, store: MfaStore, clock: FrozenClock) -> None:
    """Unknown organization, actor or member: NotFoundError, nothing written."""
    _org(svc, clock)
    until = clock.now() + timedelta(days=1)
    calls = [
        lambda: svc.reset_member_mfa("nope", "mia", actor_id="owner", reason=REASON),
        lambda: svc.reset_member_mfa(ORG, "ghost", actor_id="owner", reason=REASON),
        lambda: svc.reset_member_mfa(ORG, "mia", actor_id="ghost", reason=REASON),
        lambda: svc.reset_user_mfa("ghost", actor_id="support", reason=REASON),
        lambda: svc.remove_member("nope", "mia", actor_id="owner"),
        lambda: svc.remove_member(ORG, "ghost", actor_id="owner"),
        lambda: svc.grant_exemption(ORG, "ghost", actor_id="owner", until=until, reason=REASON),
        lambda: svc.revoke_exemption("nope", "mia", actor_id="owner"),
    ]
    for call in calls:
        with pytest.raises(NotFoundError):
            call()
    assert store.list_totp_devices("mia") != ()
    assert _events(store, "member.mfa_reset") == []


def test_a_failing_revoker_is_reported_after_the_commit(
    svc: MfaService, store: MfaStore, clock: FrozenClock, revoker: RecordingRevoker
) -> None:
    """The reset stays done; the error is an MfaError without the host's message; audited."""
    _org(svc, clock)
    revoker.fail = True
    with pytest.raises(SessionRevocationError) as caught:
        svc.reset_member_mfa(ORG, "mia", actor_id="owner", reason=REASON)
    assert "secret-token" not in str(caught.value) + repr(caught.value)
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert store.list_totp_devices("mia") == ()
    (event,) = _events(store, "sessions.revoke_failed")
    assert event.details == {"reason": "mfa_reset", "error": "RuntimeError"}


def test_a_revoker_without_the_method_is_refused(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """The session_revoker must have revoke_sessions."""
    with pytest.raises(ConfigurationError):
        build(store, clock, outbox, object())  # type: ignore[arg-type]


# -- reset_user_mfa (the host's support) ---------------------------------------------------


def test_support_resets_a_user_in_no_organization(
    svc: MfaService,
    store: MfaStore,
    clock: FrozenClock,
    outbox: InMemoryOutbox,
    revoker: RecordingRevoker,
) -> None:
    """Factors go, one notice without organization, the revoker is called once."""
    enroll_totp(svc, clock, "solo")
    assert svc.reset_user_mfa("solo", actor_id="support-7", reason=REASON) == ()
    assert store.list_totp_devices("solo") == ()
    assert store.list_backup_codes("solo") == ()
    (notice,) = outbox.of_type(MfaReset, user_id="solo")
    assert (notice.org_id, notice.actor_id, notice.deadline) == (None, "support-7", None)
    (event,) = _events(store, "user.mfa_reset")
    assert event.details["reason"] == REASON
    assert revoker.calls == [("solo", "mfa_reset", None)]
    with pytest.raises(NotFoundError):
        svc.reset_user_mfa("solo", actor_id="support-7", reason=REASON)
    assert len(revoker.calls) == 1


def test_support_resets_an_owner_under_each_organizations_rules(
    svc: MfaService, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """Support may reset the sole owner; each organization's grace applies and names it."""
    _org(svc, clock)
    decisions = svc.reset_user_mfa("owner", actor_id="support-7", reason=REASON)
    assert [d.subject for d in decisions] == ["owner"]
    status = svc.member_compliance(ORG, "owner")
    assert status.status is ComplianceStatus.IN_GRACE
    (notice,) = outbox.of_type(MfaReset, user_id="owner")
    assert (notice.org_id, notice.deadline) == (ORG, status.deadline)


# -- remove_member -------------------------------------------------------------------------


def test_remove_member(
    svc: MfaService,
    store: MfaStore,
    clock: FrozenClock,
    outbox: InMemoryOutbox,
    revoker: RecordingRevoker,
) -> None:
    """Mia's membership is removed, she is told who did it, her sessions are revoked."""
    _, mia_app = _org(svc, clock)
    svc.remove_member(ORG, "mia", actor_id="owner")
    m = store.get_membership(ORG, "mia")
    assert m is not None
    assert m.status == "removed"
    (notice,) = outbox.of_type(MemberRemoved, user_id="mia")
    assert notice.actor_id == "owner"
    assert revoker.calls == [("mia", "member_removed", ORG)]
    assert store.list_totp_devices("mia") != ()  # her account keeps its factors
    with pytest.raises(PolicyDeniedError) as caught:
        svc.remove_member(ORG, "mia", actor_id="owner")
    assert caught.value.decision.codes == (ReasonCode.PRINCIPAL_REMOVED,)
    assert len(revoker.calls) == 1
    with pytest.raises(PolicyDeniedError):
        svc.verify_totp("mia", mia_app.code(), org_id=ORG)


def test_the_sole_owner_cannot_be_removed(
    svc: MfaService, store: MfaStore, clock: FrozenClock, revoker: RecordingRevoker
) -> None:
    """Not by themselves, not by a member, not by an administrator."""
    _, mia_app = _org(svc, clock)
    with pytest.raises(PolicyDeniedError) as caught:
        svc.remove_member(ORG, "owner", actor_id="owner")
    assert caught.value.decision.codes == (ReasonCode.CANNOT_ACT_ON_SELF,)
    svc.verify_totp("mia", mia_app.code(1))
    with pytest.raises(PolicyDeniedError):
        svc.remove_member(ORG, "owner", actor_id="mia")
    _make_admin(store, "mia")
    with pytest.raises(PolicyDeniedError) as caught:
        svc.remove_member(ORG, "owner", actor_id="mia")
    assert caught.value.decision.codes == (ReasonCode.OWNER_PROTECTED,)
    owner = store.get_membership(ORG, "owner")
    assert owner is not None
    assert owner.status == "active"
    assert revoker.calls == []


# -- exemptions ----------------------------------------------------------------------------


def test_exemption_is_granted_reported_and_expires(
    svc: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """A granted exemption shows in the report, counts as exempt, and ends by itself."""
    _org(svc, clock)
    svc.add_member(ORG, "bot")
    until = clock.now() + timedelta(days=2)
    svc.grant_exemption(ORG, "bot", actor_id="owner", until=until, reason="break-glass")
    report = svc.compliance_report(ORG)
    assert dict(report.exemptions) == {"bot": until}
    assert report.counts[ComplianceStatus.EXEMPT] == 1
    assert svc.member_compliance(ORG, "bot").status is ComplianceStatus.EXEMPT
    (event,) = _events(store, "member.exemption_granted")
    assert event.details == {"reason": "break-glass", "until": until.isoformat()}
    clock.advance(timedelta(days=2))
    assert svc.compliance_report(ORG).exemptions == {}
    status = svc.member_compliance(ORG, "bot")
    assert status.status is ComplianceStatus.IN_GRACE
    assert status.grace_kind is GraceKind.EXEMPTION_ENDED


def test_exemption_is_revoked(svc: MfaService, store: MfaStore, clock: FrozenClock) -> None:
    """Revoking ends it now and starts a grace; revoking again is refused."""
    _org(svc, clock)
    svc.add_member(ORG, "bot")
    until = clock.now() + timedelta(days=2)
    svc.grant_exemption(ORG, "bot", actor_id="owner", until=until, reason="break-glass")
    svc.revoke_exemption(ORG, "bot", actor_id="owner", reason="account retired")
    assert svc.compliance_report(ORG).exemptions == {}
    assert svc.member_compliance(ORG, "bot").status is ComplianceStatus.IN_GRACE
    m = store.get_membership(ORG, "bot")
    assert m is not None
    assert m.exempt_until is None
    with pytest.raises(PolicyDeniedError) as caught:
        svc.revoke_exemption(ORG, "bot", actor_id="owner")
    assert caught.value.decision.codes == (ReasonCode.NOT_EXEMPT,)


def test_member_cannot_exempt_themselves_or_others(
    svc: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """A member, or a guest without MFA, granting an exemption is refused; nothing stored."""
    _, mia_app = _org(svc, clock)
    svc.add_member(ORG, "gus", kind="guest")
    until = clock.now() + timedelta(days=1)
    svc.verify_totp("mia", mia_app.code(1))
    for actor, target in (("mia", "mia"), ("mia", "gus"), ("gus", "gus")):
        with pytest.raises(PolicyDeniedError):
            svc.grant_exemption(ORG, target, actor_id=actor, until=until, reason="please")
    assert svc.compliance_report(ORG).exemptions == {}
    for user_id in ("mia", "gus"):
        m = store.get_membership(ORG, user_id)
        assert m is not None
        assert m.exempt_until is None


def test_exemption_bounds(svc: MfaService, clock: FrozenClock) -> None:
    """Past or naive until: ConfigurationError; longer than max_exemption: refused."""
    _org(svc, clock)
    now = clock.now()
    with pytest.raises(ConfigurationError):
        svc.grant_exemption(ORG, "mia", actor_id="owner", until=now, reason="x")
    with pytest.raises(ConfigurationError):
        svc.grant_exemption(
            ORG, "mia", actor_id="owner", until=now.replace(tzinfo=None), reason="x"
        )
    with pytest.raises(PolicyDeniedError) as caught:
        svc.grant_exemption(
            ORG, "mia", actor_id="owner", until=now + timedelta(days=91), reason="x"
        )
    assert caught.value.decision.codes == (ReasonCode.EXEMPTION_TOO_LONG,)
