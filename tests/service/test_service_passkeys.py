"""Passkeys and security keys over every store, with the SoftAuthenticator."""

from __future__ import annotations

import copy
import dataclasses

import pytest
from service_helpers import enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import (
    CeremonyMismatchError,
    DuplicateError,
    NotFoundError,
    PolicyDeniedError,
    ReplayedCodeError,
    SignCountError,
    WebAuthnError,
)
from mfakit.policy import MethodKind, PrincipalKind, ReasonCode, reference_console
from mfakit.repositories import MfaStore
from mfakit.service import (
    InMemoryOutbox,
    MethodAdded,
    MethodRemoved,
    MfaService,
    Passkey,
    SignCountAnomaly,
    UserRef,
)
from mfakit.testing import Fault, SoftAuthenticator

ADA = UserRef(user_id="u-ada", name="ada@example.com", display_name="Ada")


def _register(
    service: MfaService,
    authenticator: SoftAuthenticator,
    name: str = "Laptop",
    kind: str = "passkey",
) -> Passkey:
    started = service.begin_passkey_registration(ADA, name=name, kind=kind)
    response = authenticator.create(started.options)
    return service.finish_passkey_registration(ADA.user_id, started.challenge_id, response)


def _login(service: MfaService, authenticator: SoftAuthenticator) -> object:
    start = service.begin_second_factor(ADA.user_id)
    assert start.challenge_id is not None
    assert start.webauthn_options is not None
    response = authenticator.get(start.webauthn_options)
    return service.verify_passkey(ADA.user_id, start.challenge_id, response)


def test_register_list_and_notify(
    service: MfaService, authenticator: SoftAuthenticator, outbox: InMemoryOutbox
) -> None:
    """A registered passkey is listed with its name and the user is notified."""
    passkey = _register(service, authenticator)
    assert service.list_passkeys(ADA.user_id) == (passkey,)
    assert passkey.kind is MethodKind.PASSKEY
    assert outbox.of_type(MethodAdded, user_id=ADA.user_id)[0].label == "Laptop"


@pytest.mark.parametrize(("kind", "backup_eligible"), [("passkey", False), ("security_key", False)])
def test_kind_is_what_the_user_chose(
    service: MfaService, store: MfaStore, outbox: InMemoryOutbox, kind: str, backup_eligible: bool
) -> None:
    """A device-bound credential is stored and reported as the kind the user chose."""
    device = SoftAuthenticator(origin="https://console.example", backup_eligible=backup_eligible)
    passkey = _register(service, device, kind=kind)
    stored = store.get_webauthn_credential(passkey.credential_id)
    assert stored is not None
    assert (passkey.kind, stored.kind) == (MethodKind(kind), kind)
    assert [p.kind for p in service.list_passkeys(ADA.user_id)] == [MethodKind(kind)]
    assert outbox.of_type(MethodAdded, user_id=ADA.user_id)[0].method == kind
    assert service.begin_second_factor(ADA.user_id).methods == (MethodKind(kind),)
    assert _login(service, device).method is MethodKind(kind)  # type: ignore[attr-defined]
    removal = service.delete_passkey(ADA.user_id, passkey.credential_id, confirmation="DELETE")
    assert removal.method is MethodKind(kind)
    assert outbox.of_type(MethodRemoved, user_id=ADA.user_id)[0].method == kind


def test_synced_credential_is_a_passkey_whatever_it_is_called(
    service: MfaService, store: MfaStore
) -> None:
    """A backup-eligible credential declared as a security key is stored as a passkey."""
    device = SoftAuthenticator(origin="https://console.example", backup_eligible=True)
    passkey = _register(service, device, kind="security_key")
    stored = store.get_webauthn_credential(passkey.credential_id)
    assert stored is not None
    assert (passkey.kind, stored.kind) == (MethodKind.PASSKEY, "passkey")


def test_policy_judges_the_chosen_kind(service: MfaService, clock: FrozenClock) -> None:
    """Where members may use security keys only, device-bound keys pass and synced ones do not."""
    enroll_totp(service, clock, "owner")
    allowed = {
        PrincipalKind.OWNER: frozenset(MethodKind),
        PrincipalKind.MEMBER: frozenset({MethodKind.TOTP, MethodKind.SECURITY_KEY}),
        PrincipalKind.GUEST: frozenset({MethodKind.TOTP}),
    }
    policy = dataclasses.replace(reference_console(), eligible_methods=allowed)
    service.create_organization("acme", name="Acme", owner_id="owner", policy=policy)
    service.add_member("acme", ADA.user_id)
    hardware = SoftAuthenticator(origin="https://console.example", backup_eligible=False)
    assert _register(service, hardware, kind="security_key").kind is MethodKind.SECURITY_KEY
    with pytest.raises(PolicyDeniedError):
        service.begin_passkey_registration(ADA, name="Phone", kind="passkey")
    # The bypass this guards against: a synced passkey declared as a security key.
    synced = SoftAuthenticator(
        origin="https://console.example", backup_eligible=True, seed=b"synced"
    )
    started = service.begin_passkey_registration(ADA, name="Phone", kind="security_key")
    with pytest.raises(PolicyDeniedError):
        service.finish_passkey_registration(
            ADA.user_id, started.challenge_id, synced.create(started.options)
        )
    assert [p.name for p in service.list_passkeys(ADA.user_id)] == ["Laptop"]


@pytest.mark.parametrize(("backup_eligible", "kind"), [(True, "passkey"), (False, "security_key")])
def test_challenge_without_kind_falls_back_to_backup_eligibility(
    service: MfaService, store: MfaStore, clock: FrozenClock, backup_eligible: bool, kind: str
) -> None:
    """A registration begun before the kind was stored ends with the kind derived from BE."""
    started = service.begin_passkey_registration(ADA, name="Old tab", kind="security_key")
    challenge = store.pop_challenge(started.challenge_id, clock.now())
    assert challenge is not None
    store.put_challenge(dataclasses.replace(challenge, context={"name": "Old tab"}))
    device = SoftAuthenticator(origin="https://console.example", backup_eligible=backup_eligible)
    response = device.create(started.options)
    passkey = service.finish_passkey_registration(ADA.user_id, started.challenge_id, response)
    assert passkey.kind is MethodKind(kind)


def test_options_exclude_existing_and_require_resident_key(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    """Registration options exclude the user's credentials; passkeys are discoverable."""
    first = _register(service, authenticator)
    options = service.begin_passkey_registration(ADA, name="Phone").options
    assert options["authenticatorSelection"]["residentKey"] == "required"
    excluded = [d["id"] for d in options["excludeCredentials"]]
    assert len(excluded) == 1
    assert first.credential_id


def test_name_unique_per_user(service: MfaService, authenticator: SoftAuthenticator) -> None:
    """A second credential cannot take a used name (case-insensitive)."""
    _register(service, authenticator, "Laptop")
    with pytest.raises(DuplicateError):
        service.begin_passkey_registration(ADA, name="laptop")


def test_registration_challenge_single_use(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    """The same registration response cannot be finished twice."""
    started = service.begin_passkey_registration(ADA, name="Laptop")
    response = authenticator.create(started.options)
    service.finish_passkey_registration(ADA.user_id, started.challenge_id, response)
    with pytest.raises(ReplayedCodeError):
        service.finish_passkey_registration(ADA.user_id, started.challenge_id, response)


def test_registration_from_wrong_origin_refused(
    service: MfaService, authenticator: SoftAuthenticator, store: MfaStore
) -> None:
    """A response made for another origin is refused and nothing is stored."""
    started = service.begin_passkey_registration(ADA, name="Laptop")
    response = authenticator.create(started.options, faults=[Fault.WRONG_ORIGIN])
    with pytest.raises(CeremonyMismatchError):
        service.finish_passkey_registration(ADA.user_id, started.challenge_id, response)
    assert store.list_webauthn_credentials(ADA.user_id) == ()


def test_sign_in_with_passkey_updates_counter(
    service: MfaService, authenticator: SoftAuthenticator, store: MfaStore
) -> None:
    """An assertion signs in and stores the new counter and last use."""
    passkey = _register(service, authenticator)
    result = _login(service, authenticator)
    assert result.method is MethodKind.PASSKEY  # type: ignore[attr-defined]
    stored = store.get_webauthn_credential(passkey.credential_id)
    assert stored is not None
    assert stored.sign_count == authenticator.sign_count(passkey.credential_id)
    assert stored.last_used_at is not None


def test_authentication_challenge_reuse_refused(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    """A login challenge (and its response) works once."""
    _register(service, authenticator)
    start = service.begin_second_factor(ADA.user_id)
    assert start.challenge_id is not None
    response = authenticator.get(start.webauthn_options)  # type: ignore[arg-type]
    service.verify_passkey(ADA.user_id, start.challenge_id, response)
    with pytest.raises(ReplayedCodeError):
        service.verify_passkey(ADA.user_id, start.challenge_id, response)


def test_cloned_authenticator_reported(
    service: MfaService, authenticator: SoftAuthenticator, outbox: InMemoryOutbox
) -> None:
    """A counter that goes back is refused as a possible clone and the user is told."""
    _register(service, authenticator)
    clone = copy.deepcopy(authenticator)
    _login(service, clone)
    with pytest.raises(SignCountError):
        _login(service, authenticator)
    assert outbox.of_type(SignCountAnomaly, user_id=ADA.user_id)


def test_credential_of_another_user_refused(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    """Bob cannot complete his login with Ada's passkey."""
    _register(service, authenticator)
    bob = SoftAuthenticator(origin="https://console.example")
    started = service.begin_passkey_registration(UserRef(user_id="u-bob", name="bob"), name="Key")
    service.finish_passkey_registration("u-bob", started.challenge_id, bob.create(started.options))
    start = service.begin_second_factor("u-bob")
    assert start.challenge_id is not None
    ada_credential = authenticator.credentials[0].credential_id
    response = authenticator.get(start.webauthn_options, credential_id=ada_credential)  # type: ignore[arg-type]
    with pytest.raises(WebAuthnError):
        service.verify_passkey("u-bob", start.challenge_id, response)


def test_rename_and_delete(
    service: MfaService, authenticator: SoftAuthenticator, outbox: InMemoryOutbox
) -> None:
    """Renaming keeps names unique; deleting needs DELETE and notifies."""
    first = _register(service, authenticator, "Laptop")
    second = _register(service, authenticator, "Phone")
    assert (
        service.rename_passkey(ADA.user_id, first.credential_id, "Work laptop").name
        == "Work laptop"
    )
    with pytest.raises(DuplicateError):
        service.rename_passkey(ADA.user_id, first.credential_id, "phone")
    with pytest.raises(PolicyDeniedError):
        service.delete_passkey(ADA.user_id, second.credential_id, confirmation=None)
    removal = service.delete_passkey(ADA.user_id, second.credential_id, confirmation="DELETE")
    assert removal.remaining_methods == 1
    assert outbox.of_type(MethodRemoved, user_id=ADA.user_id)[0].label == "Phone"
    with pytest.raises(NotFoundError):
        service.delete_passkey(ADA.user_id, second.credential_id, confirmation="DELETE")


def test_members_may_not_add_passkeys_under_reference_policy(
    service: MfaService, clock: FrozenClock, authenticator: SoftAuthenticator
) -> None:
    """The reference console gives passkeys to owners only."""
    enroll_totp(service, clock, "owner")
    service.create_organization("acme", name="Acme", owner_id="owner")
    service.add_member("acme", ADA.user_id)
    with pytest.raises(PolicyDeniedError) as caught:
        service.begin_passkey_registration(ADA, name="Laptop")
    assert ReasonCode.METHOD_KIND_NOT_ALLOWED in caught.value.decision.codes
    owner = UserRef(user_id="owner", name="owner")
    started = service.begin_passkey_registration(owner, name="Key")
    assert started.options["user"]["name"] == "owner"
