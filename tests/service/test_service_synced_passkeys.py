"""A credential registered without BE that a provider starts syncing, over every store."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from service_helpers import ORIGIN, SETTINGS, build_service, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import SignCountError, WebAuthnError
from mfakit.policy import MethodKind, PrincipalKind, reference_console
from mfakit.repositories import MfaStore, WebAuthnCredential
from mfakit.service import (
    InMemoryOutbox,
    MfaService,
    PasskeyNowSynced,
    SecondFactorResult,
    ServiceSettings,
    SignCountAnomaly,
    UserRef,
)
from mfakit.service._facts import credential_method_id
from mfakit.testing import Fault, SoftAuthenticator

ADA = UserRef(user_id="u-ada", name="ada@example.com", display_name="Ada")
UPGRADE_EVENT = "passkey.backup_eligibility_upgraded"


def _register(service: MfaService, device: SoftAuthenticator, *, kind: str) -> bytes:
    started = service.begin_passkey_registration(ADA, name="YubiKey", kind=kind)
    response = device.create(started.options)
    return service.finish_passkey_registration(
        ADA.user_id, started.challenge_id, response
    ).credential_id


def _login(
    service: MfaService, device: SoftAuthenticator, *, faults: tuple[Fault, ...] = ()
) -> SecondFactorResult:
    start = service.begin_second_factor(ADA.user_id)
    assert start.challenge_id is not None
    assert start.webauthn_options is not None
    response = device.get(start.webauthn_options, faults=faults)
    return service.verify_passkey(ADA.user_id, start.challenge_id, response)


def _synced_key(service: MfaService) -> tuple[SoftAuthenticator, bytes]:
    """Ada's device-bound security key, registered, that its provider then starts syncing."""
    device = SoftAuthenticator(origin=ORIGIN, backup_eligible=False)
    credential_id = _register(service, device, kind="security_key")
    device.start_syncing(credential_id)
    return device, credential_id


def _stored(store: MfaStore, credential_id: bytes) -> WebAuthnCredential:
    found = store.get_webauthn_credential(credential_id)
    assert found is not None
    return found


def _upgrade_events(store: MfaStore) -> list[Any]:
    events = store.list_audit_events(user_id=ADA.user_id).items
    return [e for e in events if e.action == UPGRADE_EVENT]


def _service(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, settings: ServiceSettings
) -> MfaService:
    return build_service(store, clock, outbox, settings)


def test_upgrade_accepted_by_default() -> None:
    """The service's default accepts a BE upgrade (the WebAuthn core's default refuses it)."""
    assert ServiceSettings().accept_backup_eligibility_upgrade is True


def test_upgrade_signs_in_and_is_stored(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """The sign-in succeeds and the credential is stored backup-eligible, backed up, a passkey."""
    device, credential_id = _synced_key(service)
    before = _stored(store, credential_id)
    result = _login(service, device)
    assert result.method is MethodKind.PASSKEY
    assert _stored(store, credential_id) == dataclasses.replace(
        before,
        sign_count=device.sign_count(credential_id),
        last_used_at=clock.now(),
        backup_eligible=True,
        backup_state=True,
        kind="passkey",
    )


def test_upgrade_notifies_the_user_once(
    service: MfaService, outbox: InMemoryOutbox, clock: FrozenClock
) -> None:
    """The user gets one PasskeyNowSynced notice; later sign-ins send none."""
    device, _ = _synced_key(service)
    _login(service, device)
    clock.advance(60)
    assert _login(service, device).method is MethodKind.PASSKEY
    notices = outbox.of_type(PasskeyNowSynced, user_id=ADA.user_id)
    assert notices == (PasskeyNowSynced(user_id=ADA.user_id, label="YubiKey"),)


def test_upgrade_is_audited(service: MfaService, store: MfaStore) -> None:
    """One audit event records the upgrade and the kind the credential had."""
    device, _ = _synced_key(service)
    _login(service, device)
    (event,) = _upgrade_events(store)
    assert (event.outcome, event.details) == (
        "success",
        {"previous_kind": "security_key", "kind": "passkey"},
    )


def test_upgrade_refused_when_the_setting_is_off(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """With accept_backup_eligibility_upgrade=False the sign-in is refused; nothing changes."""
    strict = dataclasses.replace(SETTINGS, accept_backup_eligibility_upgrade=False)
    service = _service(store, clock, outbox, strict)
    device, credential_id = _synced_key(service)
    before = _stored(store, credential_id)
    with pytest.raises(WebAuthnError):
        _login(service, device)
    assert _stored(store, credential_id) == before
    assert not outbox.of_type(PasskeyNowSynced)
    assert not _upgrade_events(store)


def test_downgrade_refused(service: MfaService, store: MfaStore, outbox: InMemoryOutbox) -> None:
    """A credential registered backup-eligible that asserts BE=0 is refused; nothing changes."""
    device = SoftAuthenticator(origin=ORIGIN, backup_eligible=True)
    credential_id = _register(service, device, kind="passkey")
    before = _stored(store, credential_id)
    with pytest.raises(WebAuthnError):
        _login(service, device, faults=(Fault.BE_CHANGED,))
    assert _stored(store, credential_id) == before
    assert not outbox.of_type(PasskeyNowSynced)


def test_lost_race_records_no_upgrade(
    service: MfaService,
    store: MfaStore,
    outbox: InMemoryOutbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When a concurrent sign-in stores its counter first, BE is not stored and nobody is told."""
    device, credential_id = _synced_key(service)
    update = store.update_sign_count

    def concurrent_first(cred_id: bytes, old: int, new: int, **kw: Any) -> bool:
        assert update(cred_id, old, new + 1, now=kw["now"])  # the other request wins
        return update(cred_id, old, new, **kw)

    monkeypatch.setattr(store, "update_sign_count", concurrent_first)
    with pytest.raises(SignCountError):
        _login(service, device)
    stored = _stored(store, credential_id)
    assert (stored.backup_eligible, stored.kind) == (False, "security_key")
    assert not outbox.of_type(PasskeyNowSynced)
    assert outbox.of_type(SignCountAnomaly, user_id=ADA.user_id)
    assert not _upgrade_events(store)


def _acme(service: MfaService, clock: FrozenClock, member_kinds: frozenset[MethodKind]) -> None:
    """Acme, whose owner may use every kind and whose members ``member_kinds``; Ada a member."""
    enroll_totp(service, clock, "owner")
    allowed = {
        PrincipalKind.OWNER: frozenset(MethodKind),
        PrincipalKind.MEMBER: member_kinds,
        PrincipalKind.GUEST: frozenset({MethodKind.TOTP}),
    }
    policy = dataclasses.replace(reference_console(), eligible_methods=allowed)
    service.create_organization("acme", name="Acme", owner_id="owner", policy=policy)
    service.add_member("acme", ADA.user_id)


def test_upgraded_key_stops_counting_where_passkeys_are_not_allowed(
    service: MfaService, clock: FrozenClock
) -> None:
    """A member allowed security keys but not passkeys signs in, then the key no longer counts."""
    _acme(service, clock, frozenset({MethodKind.TOTP, MethodKind.SECURITY_KEY}))
    device, credential_id = _synced_key(service)
    method_id = credential_method_id(credential_id)
    assert service.member_compliance("acme", ADA.user_id).qualifying_methods == (method_id,)
    assert _login(service, device).method is MethodKind.PASSKEY
    compliance = service.member_compliance("acme", ADA.user_id)
    assert (compliance.has_mfa, compliance.qualifying_methods) == (False, ())


def test_upgraded_key_still_counts_where_passkeys_are_allowed(
    service: MfaService, clock: FrozenClock
) -> None:
    """Where the member may use passkeys too, the upgraded key keeps counting."""
    _acme(service, clock, frozenset(MethodKind))
    device, credential_id = _synced_key(service)
    _login(service, device)
    compliance = service.member_compliance("acme", ADA.user_id)
    assert compliance.qualifying_methods == (credential_method_id(credential_id),)
