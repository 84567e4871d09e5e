"""Trusted browsers over every store: trusting, skipping the second factor, and every refusal."""

from __future__ import annotations

import base64
import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from counting import CountingStore
from service_helpers import ORIGIN, RP_ID, SETTINGS, App, app_for, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import (
    ConfigurationError,
    NotFoundError,
    PolicyDeniedError,
    StepUpRequiredError,
    StoreError,
)
from mfakit.policy import OrgPolicy, Outcome, reference_console
from mfakit.repositories import Membership, MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import (
    InMemoryOutbox,
    MfaService,
    RelyingParty,
    TrustedBrowserToken,
    TrustRefusal,
    UserRef,
    _directory,
)
from mfakit.testing import SoftAuthenticator

ADA = UserRef(user_id="u-ada", name="ada@example.com", display_name="Ada")
BOB = "u-bob"
DAYS = 30
#: A personal policy that lets users in no organization trust a browser for 30 days.
PERSONAL = OrgPolicy(step_up_actions=frozenset(), trusted_browser_days=DAYS)
TRUSTING = dataclasses.replace(reference_console(), trusted_browser_days=DAYS)


def _service(store: Any, clock: FrozenClock, outbox: InMemoryOutbox) -> MfaService:
    return MfaService(
        store=store,
        keys=KeyRing({"k1": generate_key()}, current="k1"),
        notifier=outbox,
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=dataclasses.replace(SETTINGS, personal_policy=PERSONAL),
    )


@pytest.fixture
def trusting(store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox) -> MfaService:
    """A service whose users in no organization may trust a browser for 30 days."""
    return _service(store, clock, outbox)


def _signed_in(service: MfaService, clock: FrozenClock, user_id: str = ADA.user_id) -> App:
    """Enroll TOTP, then sign in with it a minute later; the clock stays there."""
    app, _ = enroll_totp(service, clock, user_id)
    clock.advance(timedelta(minutes=1))
    service.verify_totp(user_id, app.code())
    return app


def _trusted(service: MfaService, clock: FrozenClock) -> TrustedBrowserToken:
    _signed_in(service, clock)
    return service.trust_browser(ADA.user_id, label="Firefox on Linux")


def _org(service: MfaService, clock: FrozenClock, org_id: str, policy: OrgPolicy) -> None:
    enroll_totp(service, clock, f"{org_id}-owner")
    service.create_organization(org_id, name=org_id, owner_id=f"{org_id}-owner", policy=policy)


# -- trusting -------------------------------------------------------------------------------


def test_trusted_browser_skips_the_second_factor(trusting: MfaService, clock: FrozenClock) -> None:
    """Right after a second factor, the browser is trusted; a later sign-in may skip the factor."""
    token = _trusted(trusting, clock)
    assert token.expires_at == clock.now() + timedelta(days=DAYS)
    clock.advance(timedelta(days=3))
    check = trusting.check_trusted_browser(ADA.user_id, token.token)
    assert check
    assert (check.trusted, check.reason, check.token_id) == (True, None, token.token_id)
    assert not check.enrollment_only


def test_trusting_is_off_by_default(service: MfaService, clock: FrozenClock) -> None:
    """With the default settings nobody can trust a browser."""
    _signed_in(service, clock)
    assert service.trusted_browser_days(ADA.user_id) == 0
    with pytest.raises(PolicyDeniedError):
        service.trust_browser(ADA.user_id)


def test_trusting_needs_a_fresh_second_factor(trusting: MfaService, clock: FrozenClock) -> None:
    """Five minutes after the last check it is too late: verify again first."""
    _signed_in(trusting, clock)
    clock.advance(timedelta(minutes=5))
    with pytest.raises(StepUpRequiredError) as caught:
        trusting.trust_browser(ADA.user_id)
    assert caught.value.action == "trust_browser"
    assert caught.value.max_age == timedelta(minutes=5)


def test_trusting_needs_a_second_factor(trusting: MfaService) -> None:
    """A user without a second factor has nothing to skip."""
    with pytest.raises(NotFoundError):
        trusting.trust_browser(ADA.user_id)


def test_token_is_random_and_only_its_hash_is_stored(
    trusting: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Two tokens differ; the store holds their SHA-256 and neither token."""
    first = _trusted(trusting, clock)
    second = trusting.trust_browser(ADA.user_id)
    assert first.token != second.token
    assert len(first.token) >= 43
    stored = store.list_trusted_browsers(ADA.user_id)
    assert {len(b.token_hash) for b in stored} == {32}
    assert all(first.token.encode() not in b.token_hash for b in stored)
    assert first.token not in repr(first)


def test_trust_and_use_are_audited_without_the_token(
    trusting: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """trusted_browser.trusted and .used events name the token id, never the token."""
    token = _trusted(trusting, clock)
    trusting.check_trusted_browser(ADA.user_id, token.token)
    trusting.check_trusted_browser(ADA.user_id, _tampered(token.token))
    events = store.list_audit_events(user_id=ADA.user_id, limit=1000).items
    mine = [(e.action, e.outcome, dict(e.details)) for e in events if "trusted" in e.action]
    assert mine == [
        ("trusted_browser.trusted", "success", {"token_id": token.token_id, "days": DAYS}),
        ("trusted_browser.used", "success", {"token_id": token.token_id}),
        ("trusted_browser.used", "failure", {"reason": "unknown"}),
    ]
    assert all(token.token not in repr(e) for e in events)


def test_use_is_listed_with_its_time(trusting: MfaService, clock: FrozenClock) -> None:
    """The listing shows the label, the dates and when it last skipped the factor."""
    token = _trusted(trusting, clock)
    trusted_at = clock.now()
    clock.advance(timedelta(days=2))
    trusting.check_trusted_browser(ADA.user_id, token.token)
    (entry,) = trusting.list_trusted_browsers(ADA.user_id)
    assert (entry.token_id, entry.label, entry.created_at, entry.last_used_at) == (
        token.token_id,
        "Firefox on Linux",
        trusted_at,
        clock.now(),
    )


def test_trusted_sign_in_is_not_a_step_up(
    trusting: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Skipping the factor leaves the stamp alone: sensitive actions still ask for one."""
    token = _trusted(trusting, clock)
    stamp = store.get_user_factors(ADA.user_id).last_mfa_at
    clock.advance(timedelta(days=1))
    assert trusting.check_trusted_browser(ADA.user_id, token.token)
    assert store.get_user_factors(ADA.user_id).last_mfa_at == stamp
    with pytest.raises(StepUpRequiredError):
        trusting.require_recent_second_factor(ADA.user_id, "password.change")
    with pytest.raises(StepUpRequiredError):
        trusting.trust_browser(ADA.user_id)


# -- attacks: every refusal -----------------------------------------------------------------


def test_another_users_token_fails(trusting: MfaService, clock: FrozenClock) -> None:
    """A token issued to Ada does not let Bob skip his second factor."""
    token = _trusted(trusting, clock)
    enroll_totp(trusting, clock, BOB)
    check = trusting.check_trusted_browser(BOB, token.token)
    assert not check
    assert (check.reason, check.token_id) == (TrustRefusal.UNKNOWN, None)


def test_expired_token_fails(trusting: MfaService, clock: FrozenClock) -> None:
    """From the expiry on (inclusive) the token is refused."""
    token = _trusted(trusting, clock)
    clock.set(token.expires_at)
    assert trusting.check_trusted_browser(ADA.user_id, token.token).reason is TrustRefusal.EXPIRED


def _tampered(token: str) -> str:
    """The token with its last character changed."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


@pytest.mark.parametrize(
    "tamper",
    [
        _tampered,
        lambda t: t + "x",
        lambda t: t[1:],
        lambda t: t.upper(),
        lambda t: "",
        lambda t: t + "\x00",
        lambda t: " " + t,
        lambda t: "é" * 43,
    ],
)
def test_tampered_token_fails(trusting: MfaService, clock: FrozenClock, tamper: Any) -> None:
    """Any change to the token makes it unknown."""
    token = _trusted(trusting, clock)
    check = trusting.check_trusted_browser(ADA.user_id, tamper(token.token))
    assert check.reason is TrustRefusal.UNKNOWN


def test_a_stored_row_is_useless_as_a_token(
    trusting: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Whoever reads the table gets a hash and an id; neither passes as the token."""
    _trusted(trusting, clock)
    (row,) = store.list_trusted_browsers(ADA.user_id)
    stolen = [
        row.token_hash.hex(),
        base64.urlsafe_b64encode(row.token_hash).rstrip(b"=").decode(),
        row.token_id,
    ]
    for candidate in stolen:
        assert trusting.check_trusted_browser(ADA.user_id, candidate).reason is (
            TrustRefusal.UNKNOWN
        )


def test_non_string_token_is_a_programming_error(trusting: MfaService) -> None:
    """Only a string can be a token."""
    with pytest.raises(ConfigurationError):
        trusting.check_trusted_browser(ADA.user_id, b"token")  # type: ignore[arg-type]


def test_factor_change_revokes_every_token(
    trusting: MfaService, store: MfaStore, clock: FrozenClock, authenticator: SoftAuthenticator
) -> None:
    """Adding a passkey deletes the trusted browsers (belt) and dates the change (braces)."""
    token = _trusted(trusting, clock)
    clock.advance(timedelta(minutes=1))
    started = trusting.begin_passkey_registration(ADA, name="Laptop")
    trusting.finish_passkey_registration(
        ADA.user_id, started.challenge_id, authenticator.create(started.options)
    )
    assert trusting.list_trusted_browsers(ADA.user_id) == ()
    assert store.get_user_factors(ADA.user_id).factors_changed_at == clock.now()
    assert trusting.check_trusted_browser(ADA.user_id, token.token).reason is (TrustRefusal.UNKNOWN)


def test_token_issued_before_a_factor_change_fails_even_if_it_survived(
    trusting: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """A row that outlived the deletion (a racing request) is refused by its date."""
    token = _trusted(trusting, clock)
    (row,) = store.list_trusted_browsers(ADA.user_id)
    clock.advance(timedelta(minutes=1))
    trusting.regenerate_backup_codes(ADA.user_id)
    store.add_trusted_browser(row)  # as if written after the deletion, dated before it
    check = trusting.check_trusted_browser(ADA.user_id, token.token)
    assert check.reason is TrustRefusal.FACTORS_CHANGED


@pytest.mark.parametrize(
    "change", ["confirm_totp", "delete_totp_device", "delete_totp", "delete_passkey"]
)
def test_every_factor_change_revokes(
    trusting: MfaService,
    store: MfaStore,
    clock: FrozenClock,
    authenticator: SoftAuthenticator,
    change: str,
) -> None:
    """Adding an app, deleting one or all, deleting a passkey: each revokes the browsers."""
    app, _ = enroll_totp(trusting, clock, ADA.user_id)
    started = trusting.begin_passkey_registration(ADA, name="Laptop")
    passkey = trusting.finish_passkey_registration(
        ADA.user_id, started.challenge_id, authenticator.create(started.options)
    )
    clock.advance(timedelta(minutes=1))
    trusting.verify_totp(ADA.user_id, app.code())
    token = trusting.trust_browser(ADA.user_id)
    clock.advance(timedelta(minutes=1))
    if change == "confirm_totp":
        enrollment = trusting.begin_totp_enrollment(ADA, name="Tablet")
        trusting.confirm_totp(ADA.user_id, enrollment.totp_id, app_for(enrollment, clock).code())
    elif change == "delete_totp_device":
        (device,) = trusting.list_totp_devices(ADA.user_id)
        trusting.delete_totp_device(ADA.user_id, device.device_id, confirmation="DELETE")
        assert trusting.list_passkeys(ADA.user_id)  # the other method stays
    elif change == "delete_totp":
        trusting.delete_totp(ADA.user_id, confirmation="DELETE")
    else:
        trusting.delete_passkey(ADA.user_id, passkey.credential_id, confirmation="DELETE")
    assert store.list_trusted_browsers(ADA.user_id) == ()
    assert not trusting.check_trusted_browser(ADA.user_id, token.token)


def test_renaming_an_app_keeps_the_trusted_browsers(
    trusting: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """A new name is not a factor change: the browser stays trusted."""
    token = _trusted(trusting, clock)
    (device,) = trusting.list_totp_devices(ADA.user_id)
    trusting.rename_totp_device(ADA.user_id, device.device_id, "Old phone")
    assert len(store.list_trusted_browsers(ADA.user_id)) == 1
    assert trusting.check_trusted_browser(ADA.user_id, token.token)


def _revoked_by_reset(store: MfaStore, actor_id: str) -> list[Any]:
    return [
        e
        for e in store.list_audit_events(user_id=ADA.user_id, limit=1000).items
        if e.action == "trusted_browser.revoked" and e.actor_id == actor_id
    ]


def test_member_mfa_reset_revokes_the_trusted_browsers(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """An owner's reset revokes the member's browsers; a token from before it never counts.

    With a stale stamp the owner is refused first (the reset's own step-up),
    and the browsers stay.
    """
    service = _service(store, clock, outbox)
    owner_app, _ = enroll_totp(service, clock, "acme-owner")
    service.create_organization("acme", name="acme", owner_id="acme-owner", policy=TRUSTING)
    service.add_member("acme", ADA.user_id)
    token = _trusted(service, clock)
    (row,) = store.list_trusted_browsers(ADA.user_id)
    clock.advance(timedelta(minutes=20))
    with pytest.raises(PolicyDeniedError) as caught:
        service.reset_member_mfa("acme", ADA.user_id, actor_id="acme-owner", reason="lost phone")
    assert caught.value.decision is not None
    assert caught.value.decision.outcome is Outcome.REQUIRE_STEP_UP
    assert store.list_trusted_browsers(ADA.user_id) == (row,)
    service.verify_totp("acme-owner", owner_app.code())
    clock.advance(timedelta(minutes=1))
    service.reset_member_mfa("acme", ADA.user_id, actor_id="acme-owner", reason="lost phone")
    assert store.list_trusted_browsers(ADA.user_id) == ()
    assert store.get_user_factors(ADA.user_id).factors_changed_at == clock.now()
    (event,) = _revoked_by_reset(store, "acme-owner")
    assert (event.org_id, dict(event.details)) == ("acme", {"count": 1, "reason": "mfa.reset"})
    assert not service.check_trusted_browser(ADA.user_id, token.token)
    store.add_trusted_browser(row)  # as if it had survived: its date refuses it
    check = service.check_trusted_browser(ADA.user_id, token.token)
    assert check.reason is TrustRefusal.FACTORS_CHANGED


def test_support_reset_revokes_the_trusted_browsers(
    trusting: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """reset_user_mfa (support staff, a user in no organization) revokes them too."""
    token = _trusted(trusting, clock)
    (row,) = store.list_trusted_browsers(ADA.user_id)
    clock.advance(timedelta(minutes=1))
    trusting.reset_user_mfa(ADA.user_id, actor_id="support-7", reason="identity checked")
    assert store.list_trusted_browsers(ADA.user_id) == ()
    (event,) = _revoked_by_reset(store, "support-7")
    assert (event.org_id, dict(event.details)) == (None, {"count": 1, "reason": "mfa.reset"})
    assert not trusting.check_trusted_browser(ADA.user_id, token.token)
    store.add_trusted_browser(row)
    check = trusting.check_trusted_browser(ADA.user_id, token.token)
    assert check.reason is TrustRefusal.FACTORS_CHANGED


def test_removed_member_is_not_judged_by_the_organization_any_more(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """Removal changes no factor and revokes nothing; the organization no longer counts.

    A check naming the organization is refused; without it, the personal policy
    (which here allows trusted browsers too) judges the user, now in no
    organization.
    """
    service = _service(store, clock, outbox)
    owner_app, _ = enroll_totp(service, clock, "acme-owner")
    service.create_organization("acme", name="acme", owner_id="acme-owner", policy=TRUSTING)
    service.add_member("acme", ADA.user_id)
    token = _trusted(service, clock)
    changed = store.get_user_factors(ADA.user_id).factors_changed_at
    service.verify_totp("acme-owner", owner_app.code())
    clock.advance(timedelta(minutes=1))
    service.remove_member("acme", ADA.user_id, actor_id="acme-owner")
    assert len(store.list_trusted_browsers(ADA.user_id)) == 1
    assert store.get_user_factors(ADA.user_id).factors_changed_at == changed
    with pytest.raises(PolicyDeniedError):
        service.check_trusted_browser(ADA.user_id, token.token, org_id="acme")
    assert service.check_trusted_browser(ADA.user_id, token.token)


def test_lock_revokes_and_dates_the_lock(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """An administrator's lock revokes the member's browsers; after the unlock they stay void."""
    service = _service(store, clock, outbox)
    _org(service, clock, "acme", TRUSTING)
    service.add_member("acme", ADA.user_id)
    token = _trusted(service, clock)
    (row,) = store.list_trusted_browsers(ADA.user_id)
    clock.advance(timedelta(minutes=1))
    service.lock_member("acme", ADA.user_id, actor_id="acme-owner")
    assert store.list_trusted_browsers(ADA.user_id) == ()
    assert service.check_trusted_browser(ADA.user_id, token.token).reason is (TrustRefusal.UNKNOWN)
    store.add_trusted_browser(row)  # as if it had survived: the lock itself refuses
    with pytest.raises(PolicyDeniedError):
        service.check_trusted_browser(ADA.user_id, token.token)
    service.unlock_member("acme", ADA.user_id, actor_id="acme-owner")
    assert service.check_trusted_browser(ADA.user_id, token.token).reason is (
        TrustRefusal.FACTORS_CHANGED
    )


def test_token_issued_before_a_lock_written_by_hand_fails(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """A lock stored without the service (no change recorded) still voids older tokens."""
    service = _service(store, clock, outbox)
    _org(service, clock, "acme", TRUSTING)
    service.add_member("acme", ADA.user_id)
    token = _trusted(service, clock)
    clock.advance(timedelta(minutes=1))
    member = store.get_membership("acme", ADA.user_id)
    assert member is not None
    locked = dataclasses.replace(
        member, status="locked", locked_at=clock.now(), lock_reason="failed_attempts"
    )
    assert store.update_membership(locked) is not None
    clock.advance(timedelta(hours=1))  # the failed-attempts lock has run out
    check = service.check_trusted_browser(ADA.user_id, token.token)
    assert check.reason is TrustRefusal.LOCKED


def test_policy_turned_off_later_voids_the_token(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """The organization's policy is read at each check: turning trust off takes effect at once."""
    service = _service(store, clock, outbox)
    _org(service, clock, "acme", TRUSTING)
    service.add_member("acme", ADA.user_id)
    token = _trusted(service, clock)
    assert service.check_trusted_browser(ADA.user_id, token.token)
    service.set_policy("acme", reference_console(), actor_id="acme-owner")
    assert service.check_trusted_browser(ADA.user_id, token.token).reason is (
        TrustRefusal.NOT_ALLOWED
    )


def test_shorter_policy_shortens_running_trust(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """Days are read from the current policy: 30 days issued, 7 now, day 8 is too late."""
    service = _service(store, clock, outbox)
    _org(service, clock, "acme", TRUSTING)
    service.add_member("acme", ADA.user_id)
    token = _trusted(service, clock)
    week = dataclasses.replace(TRUSTING, trusted_browser_days=7)
    service.set_policy("acme", week, actor_id="acme-owner")
    clock.advance(timedelta(days=6))
    assert service.check_trusted_browser(ADA.user_id, token.token)
    clock.advance(timedelta(days=2))
    assert service.check_trusted_browser(ADA.user_id, token.token).reason is (TrustRefusal.EXPIRED)


def test_strictest_organization_decides(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """One organization without trusted browsers refuses; the fewest days apply otherwise."""
    service = _service(store, clock, outbox)
    _org(service, clock, "acme", TRUSTING)
    _org(service, clock, "beta", dataclasses.replace(TRUSTING, trusted_browser_days=3))
    _org(service, clock, "gamma", reference_console())
    for org_id in ("acme", "beta"):
        service.add_member(org_id, ADA.user_id)
    _signed_in(service, clock)
    assert service.trusted_browser_days(ADA.user_id) == 3
    token = service.trust_browser(ADA.user_id)
    assert token.expires_at == clock.now() + timedelta(days=3)
    service.add_member("gamma", ADA.user_id)
    assert service.trusted_browser_days(ADA.user_id) == 0
    with pytest.raises(PolicyDeniedError):
        service.trust_browser(ADA.user_id)
    assert service.check_trusted_browser(ADA.user_id, token.token).reason is (
        TrustRefusal.NOT_ALLOWED
    )
    # Judged by one organization alone, its own policy decides.
    assert service.check_trusted_browser(ADA.user_id, token.token, org_id="acme")
    assert service.trusted_browser_days(ADA.user_id, org_id="acme") == DAYS


def test_locked_member_cannot_trust(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """A member locked right after a sign-in cannot trust the browser."""
    service = _service(store, clock, outbox)
    _org(service, clock, "acme", TRUSTING)
    service.add_member("acme", ADA.user_id)
    _signed_in(service, clock)
    service.lock_member("acme", ADA.user_id, actor_id="acme-owner")
    with pytest.raises(PolicyDeniedError):
        service.trust_browser(ADA.user_id)


def test_change_at_the_same_instant_refuses_a_dead_token(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """A token that the last change would void at once is not issued."""
    service = _service(store, clock, outbox)
    _org(service, clock, "acme", TRUSTING)
    service.add_member("acme", ADA.user_id)
    _signed_in(service, clock)
    clock.advance(timedelta(minutes=1))
    service.lock_member("acme", ADA.user_id, actor_id="acme-owner")
    service.unlock_member("acme", ADA.user_id, actor_id="acme-owner")
    with pytest.raises(PolicyDeniedError):
        service.trust_browser(ADA.user_id)
    clock.advance(timedelta(seconds=1))
    assert service.trust_browser(ADA.user_id).token


def test_org_id_needs_a_membership(trusting: MfaService, clock: FrozenClock) -> None:
    """Naming an organization the user is not in is NotFoundError."""
    _org(trusting, clock, "acme", TRUSTING)
    _signed_in(trusting, clock)
    with pytest.raises(NotFoundError):
        trusting.trust_browser(ADA.user_id, org_id="acme")


#: Two methods required, a day of grace for everyone when enforcement starts.
TWO_METHODS = dataclasses.replace(
    TRUSTING, min_methods=2, activation="start_grace", grace_existing=timedelta(days=1)
)


def _two_method_org(service: MfaService, clock: FrozenClock, device: SoftAuthenticator) -> None:
    """Acme requires two methods; its owner has TOTP and a passkey."""
    _org(service, clock, "acme", TWO_METHODS)
    owner = UserRef(user_id="acme-owner", name="owner@x")
    started = service.begin_passkey_registration(owner, name="Key")
    service.finish_passkey_registration(
        owner.user_id, started.challenge_id, device.create(started.options)
    )


def test_overdue_member_is_refused_even_with_a_trusted_browser(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, authenticator: SoftAuthenticator
) -> None:
    """The organization's login decision applies first: a deadline lock is not skipped."""
    service = _service(store, clock, outbox)
    _two_method_org(service, clock, authenticator)
    service.add_member("acme", ADA.user_id)
    token = _trusted(service, clock)
    service.enforce_mfa("acme", actor_id="acme-owner", confirmation="ENFORCE")
    clock.advance(timedelta(days=2))
    with pytest.raises(PolicyDeniedError):
        service.check_trusted_browser(ADA.user_id, token.token)
    member = store.get_membership("acme", ADA.user_id)
    assert member is not None
    assert member.status == "locked"


def test_member_in_grace_gets_their_obligations(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, authenticator: SoftAuthenticator
) -> None:
    """A trusted sign-in carries the organization's obligations, like a verified one."""
    service = _service(store, clock, outbox)
    _two_method_org(service, clock, authenticator)
    service.add_member("acme", ADA.user_id)
    token = _trusted(service, clock)
    service.enforce_mfa("acme", actor_id="acme-owner", confirmation="ENFORCE")
    clock.advance(timedelta(hours=1))
    check = service.check_trusted_browser(ADA.user_id, token.token)
    assert check.trusted
    assert [o.kind.value for o in check.obligations] == ["enroll_by"]
    assert check.deadline == clock.now() + timedelta(hours=23)


# -- listing, revoking, purging -------------------------------------------------------------


def test_revoke_one(trusting: MfaService, clock: FrozenClock) -> None:
    """Revoking one browser leaves the others trusted."""
    first = _trusted(trusting, clock)
    second = trusting.trust_browser(ADA.user_id, label="Phone")
    assert trusting.revoke_trusted_browser(ADA.user_id, first.token_id)
    assert not trusting.revoke_trusted_browser(ADA.user_id, first.token_id)
    assert [e.label for e in trusting.list_trusted_browsers(ADA.user_id)] == ["Phone"]
    assert not trusting.check_trusted_browser(ADA.user_id, first.token)
    assert trusting.check_trusted_browser(ADA.user_id, second.token)


def test_revoke_someone_elses_browser_fails(trusting: MfaService, clock: FrozenClock) -> None:
    """Bob cannot revoke Ada's browser by its id."""
    token = _trusted(trusting, clock)
    assert not trusting.revoke_trusted_browser(BOB, token.token_id)
    assert not trusting.revoke_trusted_browser(ADA.user_id, "no such id\x00")
    assert trusting.check_trusted_browser(ADA.user_id, token.token)


def test_revoke_needs_a_string_id(trusting: MfaService) -> None:
    """A token id is a string."""
    with pytest.raises(ConfigurationError):
        trusting.revoke_trusted_browser(ADA.user_id, 3)  # type: ignore[arg-type]


def test_revoke_all(trusting: MfaService, clock: FrozenClock) -> None:
    """Revoking all returns how many were trusted."""
    _trusted(trusting, clock)
    trusting.trust_browser(ADA.user_id)
    assert trusting.revoke_trusted_browsers(ADA.user_id) == 2
    assert trusting.revoke_trusted_browsers(ADA.user_id) == 0
    assert trusting.list_trusted_browsers(ADA.user_id) == ()


def test_expired_browsers_are_hidden_then_purged(
    trusting: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """The listing skips expired browsers; the sweep deletes them."""
    _trusted(trusting, clock)
    clock.advance(timedelta(days=DAYS))
    assert trusting.list_trusted_browsers(ADA.user_id) == ()
    assert len(store.list_trusted_browsers(ADA.user_id)) == 1
    assert trusting.sweep().purged_trusted_browsers == 1
    assert store.list_trusted_browsers(ADA.user_id) == ()


def test_label_is_checked(trusting: MfaService, clock: FrozenClock) -> None:
    """A label is a name: no control characters, at most 64 characters."""
    _signed_in(trusting, clock)
    for bad in ("a\nb", "x" * 65, " "):
        with pytest.raises(ConfigurationError):
            trusting.trust_browser(ADA.user_id, label=bad)


# -- atomicity and cost ---------------------------------------------------------------------


class _FailingOutbox(CountingStore):
    """The test's store, except that writing to the outbox fails once armed."""

    armed = False

    def enqueue_message(self, message: Any) -> None:
        """Fail like a database would, once armed."""
        if self.armed:
            raise StoreError("the outbox write failed")
        self.inner.enqueue_message(message)


@pytest.mark.parametrize("change", ["regenerate", "delete_totp", "lock"])
def test_failed_change_keeps_the_trusted_browsers(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, change: str
) -> None:
    """A factor change (or lock) that rolls back revokes nothing and dates nothing."""
    failing = _FailingOutbox(store)
    service = _service(failing, clock, outbox)
    _org(service, clock, "acme", TRUSTING)
    service.add_member("acme", ADA.user_id)
    token = _trusted(service, clock)
    before = store.get_user_factors(ADA.user_id).factors_changed_at
    calls = {
        "regenerate": lambda: service.regenerate_backup_codes(ADA.user_id),
        "delete_totp": lambda: service.delete_totp(ADA.user_id, confirmation="DELETE"),
        "lock": lambda: service.lock_member("acme", ADA.user_id, actor_id="acme-owner"),
    }
    failing.armed = True
    with pytest.raises(StoreError):
        calls[change]()
    failing.armed = False
    assert len(store.list_trusted_browsers(ADA.user_id)) == 1
    assert store.get_user_factors(ADA.user_id).factors_changed_at == before
    assert service.check_trusted_browser(ADA.user_id, token.token)


@pytest.mark.parametrize("members", [2, 120])
def test_check_costs_the_same_whatever_the_organization_size(
    store: MfaStore,
    clock: FrozenClock,
    outbox: InMemoryOutbox,
    monkeypatch: pytest.MonkeyPatch,
    members: int,
) -> None:
    """A trusted check: the lookup, memberships, factors, the touch and one audit append."""
    monkeypatch.setattr(_directory, "SUMMARY_PAGE", 10)
    counted = CountingStore(store)
    service = _service(counted, clock, outbox)
    _org(service, clock, "acme", TRUSTING)
    service.add_member("acme", ADA.user_id)
    for i in range(members):
        counted.inner.add_membership(
            Membership(org_id="acme", user_id=f"m{i:04d}", joined_at=clock.now())
        )
    token = _trusted(service, clock)
    counted.reset()
    assert service.check_trusted_browser(ADA.user_id, token.token)
    assert dict(counted.calls) == {
        "get_trusted_browser": 1,
        "list_user_memberships_with_orgs": 1,
        "get_user_factors": 1,
        "touch_trusted_browser": 1,
        "append_audit_events": 1,
    }


def test_unknown_token_costs_one_lookup(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """A token nobody holds is refused after one lookup (and its audit event)."""
    counted = CountingStore(store)
    service = _service(counted, clock, outbox)
    counted.reset()
    assert not service.check_trusted_browser(ADA.user_id, "A" * 43)
    assert dict(counted.calls) == {"get_trusted_browser": 1, "append_audit_event": 1}
