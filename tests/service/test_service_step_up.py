"""Step-up for any action, and before every method change, over every store."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from service_helpers import app_for, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import (
    ConfigurationError,
    NotFoundError,
    PolicyDeniedError,
    StepUpRequiredError,
)
from mfakit.policy import MethodKind, OrgPolicy, SensitiveAction, reference_console
from mfakit.repositories import MfaStore
from mfakit.service import MfaService, ServiceSettings, UserRef
from mfakit.testing import SoftAuthenticator

ADA = UserRef(user_id="u-ada", name="ada@example.com", display_name="Ada")
FAR = timedelta(days=365)


def _stale(clock: FrozenClock) -> None:
    """Let the user's last check (15 minutes by default) go stale."""
    clock.advance(timedelta(minutes=15))


def _org(service: MfaService, clock: FrozenClock, org_id: str, policy: OrgPolicy) -> None:
    enroll_totp(service, clock, f"{org_id}-owner")
    service.create_organization(org_id, name=org_id, owner_id=f"{org_id}-owner", policy=policy)


# -- require_recent_second_factor -----------------------------------------------------------


def test_fresh_check_allows_a_host_action(service: MfaService, clock: FrozenClock) -> None:
    """A user who passed a second factor minutes ago may do the host's sensitive action."""
    app, _ = enroll_totp(service, clock, ADA.user_id)
    service.verify_totp(ADA.user_id, app.code())
    clock.advance(timedelta(minutes=14))
    service.require_recent_second_factor(ADA.user_id, "delete_project")


def test_stale_check_refuses_a_host_action_with_what_can_answer(
    service: MfaService, clock: FrozenClock
) -> None:
    """A check as old as the maximum age is refused; the error names the action and factors."""
    enroll_totp(service, clock, ADA.user_id)
    clock.advance(timedelta(minutes=14, seconds=30))  # 15 minutes after the confirmation
    with pytest.raises(StepUpRequiredError) as caught:
        service.require_recent_second_factor(ADA.user_id, "api_key.create")
    assert caught.value.action == "api_key.create"
    assert caught.value.max_age == timedelta(minutes=15)
    assert caught.value.factors == (MethodKind.TOTP, MethodKind.BACKUP_CODES)
    assert isinstance(caught.value, PolicyDeniedError)


def test_future_stamp_is_not_trusted(service: MfaService, clock: FrozenClock) -> None:
    """A stamp ahead of this server's clock (a clock running ahead elsewhere) is refused."""
    app, _ = enroll_totp(service, clock, ADA.user_id)
    service.verify_totp(ADA.user_id, app.code())
    clock.set(clock.now() - timedelta(minutes=1))
    with pytest.raises(StepUpRequiredError):
        service.require_recent_second_factor(ADA.user_id, "delete_project")


def test_user_without_a_factor_is_refused_with_no_factor(service: MfaService) -> None:
    """Without a second factor nothing can answer: the error says so with no factors."""
    with pytest.raises(StepUpRequiredError) as caught:
        service.require_recent_second_factor("u-nobody", "delete_project")
    assert caught.value.factors == ()


@pytest.mark.parametrize("action", ["", "Delete", "a b", "x" * 65, "_x", "drop;table", 3])
def test_invalid_action_names_refused(service: MfaService, action: object) -> None:
    """An action must be 1 to 64 of a-z 0-9 _ . : - starting with a letter or digit."""
    with pytest.raises(ConfigurationError):
        service.require_recent_second_factor(ADA.user_id, action)  # type: ignore[arg-type]


def test_own_max_age_applies_when_stricter(service: MfaService, clock: FrozenClock) -> None:
    """The host's max_age tightens the policy's; a looser one does not loosen it."""
    app, _ = enroll_totp(service, clock, ADA.user_id)
    service.verify_totp(ADA.user_id, app.code())
    clock.advance(timedelta(minutes=2))
    service.require_recent_second_factor(ADA.user_id, "pay", max_age=timedelta(minutes=3))
    with pytest.raises(StepUpRequiredError) as caught:
        service.require_recent_second_factor(ADA.user_id, "pay", max_age=timedelta(minutes=1))
    assert caught.value.max_age == timedelta(minutes=1)
    clock.advance(timedelta(minutes=14))
    with pytest.raises(StepUpRequiredError) as caught:
        service.require_recent_second_factor(ADA.user_id, "pay", max_age=timedelta(hours=1))
    assert caught.value.max_age == timedelta(minutes=15)


def test_bad_max_age_refused(service: MfaService) -> None:
    """max_age must be a positive timedelta."""
    for bad in (timedelta(0), 60):
        with pytest.raises(ConfigurationError):
            service.require_recent_second_factor(ADA.user_id, "pay", max_age=bad)  # type: ignore[arg-type]


def test_org_policy_sets_an_age_per_action(service: MfaService, clock: FrozenClock) -> None:
    """With org_id, the organization's age for the action applies (and only there)."""
    policy = dataclasses.replace(
        reference_console(), step_up_max_ages={"project.delete": timedelta(minutes=5)}
    )
    _org(service, clock, "acme", policy)
    app, _ = enroll_totp(service, clock, ADA.user_id)
    service.add_member("acme", ADA.user_id)
    service.verify_totp(ADA.user_id, app.code())
    clock.advance(timedelta(minutes=6))
    with pytest.raises(StepUpRequiredError) as caught:
        service.require_recent_second_factor(ADA.user_id, "project.delete", org_id="acme")
    assert caught.value.max_age == timedelta(minutes=5)
    service.require_recent_second_factor(ADA.user_id, "project.delete")  # personal: 15 min
    service.require_recent_second_factor(ADA.user_id, "project.rename", org_id="acme")


def test_personal_policy_sets_an_age_per_action(
    store: MfaStore, clock: FrozenClock, service: MfaService
) -> None:
    """Without org_id, the personal policy's ages apply."""
    personal = OrgPolicy(
        step_up_actions=frozenset(), step_up_max_ages={"password.change": timedelta(minutes=2)}
    )
    settings = dataclasses.replace(service.settings, personal_policy=personal)
    strict = _service_like(service, store, clock, settings)
    app, _ = enroll_totp(strict, clock, ADA.user_id)
    strict.verify_totp(ADA.user_id, app.code())
    clock.advance(timedelta(minutes=3))
    with pytest.raises(StepUpRequiredError) as caught:
        strict.require_recent_second_factor(ADA.user_id, "password.change")
    assert caught.value.max_age == timedelta(minutes=2)
    strict.require_recent_second_factor(ADA.user_id, "password.reset_link")


def test_org_id_needs_a_membership(service: MfaService, clock: FrozenClock) -> None:
    """Naming an organization the user is not in is NotFoundError."""
    _org(service, clock, "acme", reference_console())
    enroll_totp(service, clock, ADA.user_id)
    with pytest.raises(NotFoundError):
        service.require_recent_second_factor(ADA.user_id, "project.delete", org_id="acme")


def test_locked_member_is_refused_not_asked_to_step_up(
    service: MfaService, clock: FrozenClock
) -> None:
    """A locked member gets a plain refusal: a step-up would not help."""
    _org(service, clock, "acme", reference_console())
    app, _ = enroll_totp(service, clock, ADA.user_id)
    service.add_member("acme", ADA.user_id)
    service.verify_totp(ADA.user_id, app.code())
    service.lock_member("acme", ADA.user_id, actor_id="acme-owner")
    with pytest.raises(PolicyDeniedError) as caught:
        service.require_recent_second_factor(ADA.user_id, "project.delete", org_id="acme")
    assert not isinstance(caught.value, StepUpRequiredError)


def test_sign_in_for_another_org_counts(service: MfaService, clock: FrozenClock) -> None:
    """The stamp is the user's: a sign-in judged by one organization serves another."""
    for org_id in ("acme", "beta"):
        _org(service, clock, org_id, reference_console())
    app, _ = enroll_totp(service, clock, ADA.user_id)
    service.add_member("acme", ADA.user_id)
    service.add_member("beta", ADA.user_id)
    _stale(clock)
    service.verify_totp(ADA.user_id, app.code(), org_id="acme")
    service.require_recent_second_factor(ADA.user_id, "project.delete", org_id="beta")
    service.begin_totp_enrollment(ADA, name="Tablet")  # an addition, judged by both


def test_refusal_is_audited(service: MfaService, store: MfaStore, clock: FrozenClock) -> None:
    """A refused step-up leaves a step_up.required event with the action, no secret."""
    enroll_totp(service, clock, ADA.user_id)
    _stale(clock)
    with pytest.raises(StepUpRequiredError):
        service.require_recent_second_factor(ADA.user_id, "api_key.create")
    events = [
        e
        for e in store.list_audit_events(user_id=ADA.user_id, limit=1000).items
        if e.action == "step_up.required"
    ]
    assert [dict(e.details) for e in events] == [{"action": "api_key.create", "max_age": 900}]


# -- method changes -------------------------------------------------------------------------


def test_first_enrollment_needs_no_step_up(service: MfaService, store: MfaStore) -> None:
    """A user with no factor (never verified) sets up the first one without a step-up."""
    assert store.get_user_factors(ADA.user_id).last_mfa_at is None
    service.begin_totp_enrollment(ADA)
    service.begin_passkey_registration(ADA, name="Laptop")


def test_confirming_a_totp_counts_as_a_second_factor(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """The confirming code stamps the user: a second method can be added at once."""
    enroll_totp(service, clock, ADA.user_id)
    assert store.get_user_factors(ADA.user_id).last_mfa_at == clock.now() - timedelta(seconds=30)
    service.begin_passkey_registration(ADA, name="Laptop")


def test_registering_a_passkey_counts_as_a_second_factor(
    service: MfaService, store: MfaStore, clock: FrozenClock, authenticator: SoftAuthenticator
) -> None:
    """A new credential's signature stamps the user: a TOTP can be added at once."""
    started = service.begin_passkey_registration(ADA, name="Laptop")
    service.finish_passkey_registration(
        ADA.user_id, started.challenge_id, authenticator.create(started.options)
    )
    assert store.get_user_factors(ADA.user_id).last_mfa_at == clock.now()
    clock.advance(timedelta(minutes=14))
    service.begin_totp_enrollment(ADA)


def test_adding_a_passkey_with_a_stale_check_starts_nothing(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """With a factor and a stale check, no challenge is stored and no options returned."""
    enroll_totp(service, clock, ADA.user_id)
    _stale(clock)
    with pytest.raises(StepUpRequiredError) as caught:
        service.begin_passkey_registration(ADA, name="Laptop")
    assert caught.value.action == SensitiveAction.ADD_METHOD
    assert store.purge_expired_challenges(now=clock.now() + FAR) == 0


def test_adding_a_second_app_with_a_stale_check_stores_nothing(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Another authenticator app is an addition: refused before a pending enrollment exists.

    The step-up comes first: even a name already taken gets the step-up refusal,
    so a stale session learns nothing about the user's devices.
    """
    enroll_totp(service, clock, ADA.user_id)
    _stale(clock)
    for name in ("Work phone", "Authenticator app"):
        with pytest.raises(StepUpRequiredError) as caught:
            service.begin_totp_enrollment(ADA, name=name)
        assert caught.value.action == SensitiveAction.ADD_METHOD
        assert caught.value.factors == (MethodKind.TOTP, MethodKind.BACKUP_CODES)
        assert store.get_pending_totp(ADA.user_id, now=clock.now()) is None
    assert [d.name for d in service.list_totp_devices(ADA.user_id)] == ["Authenticator app"]


def test_deleting_an_app_with_a_stale_check_keeps_it(
    service: MfaService, clock: FrozenClock
) -> None:
    """Deleting one device, or all, is a removal: refused with a stale check, nothing deleted."""
    enroll_totp(service, clock, ADA.user_id)
    (device,) = service.list_totp_devices(ADA.user_id)
    _stale(clock)
    with pytest.raises(StepUpRequiredError) as caught:
        service.delete_totp_device(ADA.user_id, device.device_id, confirmation="DELETE")
    assert caught.value.action == SensitiveAction.REMOVE_METHOD
    with pytest.raises(StepUpRequiredError):
        service.delete_totp(ADA.user_id, confirmation="DELETE")
    assert service.list_totp_devices(ADA.user_id) == (device,)


def test_renaming_an_app_needs_no_step_up(service: MfaService, clock: FrozenClock) -> None:
    """A new name is not a factor change: allowed however old the last check is."""
    enroll_totp(service, clock, ADA.user_id)
    (device,) = service.list_totp_devices(ADA.user_id)
    _stale(clock)
    assert service.rename_totp_device(ADA.user_id, device.device_id, "Old phone").name == (
        "Old phone"
    )


def test_adding_totp_beside_a_passkey_with_a_stale_check_is_refused(
    service: MfaService, clock: FrozenClock, authenticator: SoftAuthenticator
) -> None:
    """A TOTP next to an existing passkey is an addition: add_method."""
    started = service.begin_passkey_registration(ADA, name="Laptop")
    service.finish_passkey_registration(
        ADA.user_id, started.challenge_id, authenticator.create(started.options)
    )
    _stale(clock)
    with pytest.raises(StepUpRequiredError) as caught:
        service.begin_totp_enrollment(ADA)
    assert caught.value.action == SensitiveAction.ADD_METHOD
    assert caught.value.factors == (MethodKind.PASSKEY,)


def test_new_backup_codes_with_a_stale_check_keep_the_old(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Regenerating backup codes replaces a method: refused, the old set kept."""
    enroll_totp(service, clock, ADA.user_id)
    before = store.list_backup_codes(ADA.user_id)
    _stale(clock)
    with pytest.raises(StepUpRequiredError) as caught:
        service.regenerate_backup_codes(ADA.user_id)
    assert caught.value.action == SensitiveAction.REGENERATE_BACKUP_CODES
    assert store.list_backup_codes(ADA.user_id) == before


def test_deleting_a_passkey_with_a_stale_check_keeps_it(
    service: MfaService, clock: FrozenClock, authenticator: SoftAuthenticator
) -> None:
    """Removing a credential is refused with a stale check; it stays listed."""
    started = service.begin_passkey_registration(ADA, name="Laptop")
    passkey = service.finish_passkey_registration(
        ADA.user_id, started.challenge_id, authenticator.create(started.options)
    )
    _stale(clock)
    with pytest.raises(StepUpRequiredError) as caught:
        service.delete_passkey(ADA.user_id, passkey.credential_id, confirmation="DELETE")
    assert caught.value.action == SensitiveAction.REMOVE_METHOD
    assert [p.name for p in service.list_passkeys(ADA.user_id)] == ["Laptop"]


def test_future_stamp_does_not_allow_a_method_change(
    service: MfaService, clock: FrozenClock
) -> None:
    """A stamp written by a server whose clock runs ahead does not count here."""
    app, _ = enroll_totp(service, clock, ADA.user_id)
    clock.advance(timedelta(minutes=10))
    service.verify_totp(ADA.user_id, app.code())
    clock.set(clock.now() - timedelta(minutes=5))
    with pytest.raises(StepUpRequiredError):
        service.begin_passkey_registration(ADA, name="Laptop")


def test_a_verification_makes_the_change_possible(service: MfaService, clock: FrozenClock) -> None:
    """After the refusal, a second factor (as at sign-in) lets the same call through."""
    app, _ = enroll_totp(service, clock, ADA.user_id)
    _stale(clock)
    with pytest.raises(StepUpRequiredError):
        service.begin_totp_enrollment(ADA)
    service.verify_totp(ADA.user_id, app.code())
    enrollment = service.begin_totp_enrollment(ADA, name="Tablet")
    activation = service.confirm_totp(
        ADA.user_id, enrollment.totp_id, app_for(enrollment, clock).code()
    )
    assert not activation.replaced
    assert len(service.list_totp_devices(ADA.user_id)) == 2


def test_a_policy_cannot_switch_off_method_change_step_up(
    service: MfaService, clock: FrozenClock
) -> None:
    """An organization listing no step-up action still requires one to change a method."""
    _org(service, clock, "lax", dataclasses.replace(reference_console(), step_up_actions=()))
    enroll_totp(service, clock, ADA.user_id)
    service.add_member("lax", ADA.user_id)
    _stale(clock)
    with pytest.raises(StepUpRequiredError):
        service.begin_totp_enrollment(ADA)


def test_strictest_organization_sets_the_age_for_a_method_change(
    service: MfaService, clock: FrozenClock
) -> None:
    """Of two organizations, the one with the shorter age for the change decides."""
    _org(service, clock, "acme", reference_console())
    strict = dataclasses.replace(
        reference_console(),
        step_up_max_ages={SensitiveAction.ADD_METHOD: timedelta(minutes=2)},
    )
    _org(service, clock, "beta", strict)
    app, _ = enroll_totp(service, clock, ADA.user_id)
    for org_id in ("acme", "beta"):
        service.add_member(org_id, ADA.user_id)
    service.verify_totp(ADA.user_id, app.code())
    clock.advance(timedelta(minutes=3))
    with pytest.raises(StepUpRequiredError) as caught:
        service.begin_totp_enrollment(ADA)
    assert caught.value.max_age == timedelta(minutes=2)


def _service_like(
    service: MfaService, store: MfaStore, clock: FrozenClock, settings: ServiceSettings
) -> MfaService:
    """A service like the fixture's, with other settings."""
    context = service._context
    return MfaService(
        store=store,
        keys=context.keys,
        notifier=context.notifier,
        clock=clock,
        relying_party=context.rp,
        issuer=context.issuer,
        login_code_key=b"k" * 32,
        settings=settings,
    )
