"""Signal API payloads from the service: accepted credentials, user details, deleted passkeys."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from service_helpers import RP_ID, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import ConfigurationError
from mfakit.repositories import MfaStore
from mfakit.service import MfaService, Passkey, UserRef
from mfakit.testing import SoftAuthenticator

ADA = UserRef(user_id="u-ada", name="ada@example.com", display_name="Ada")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _register(service: MfaService, device: SoftAuthenticator, name: str) -> Passkey:
    started = service.begin_passkey_registration(ADA, name=name)
    response = device.create(started.options)
    return service.finish_passkey_registration(ADA.user_id, started.challenge_id, response)


def test_signals_name_every_credential_under_the_users_random_handle(
    service: MfaService, store: MfaStore, authenticator: SoftAuthenticator, clock: FrozenClock
) -> None:
    laptop = _register(service, authenticator, "Laptop")
    clock.advance(60)
    phone = _register(service, SoftAuthenticator(origin=authenticator.origin), "Phone")
    handle = store.webauthn_user_handle(ADA.user_id, create_with=b"\x00" * 32)
    assert handle != ADA.user_id.encode()

    signals = service.passkey_signals(ADA)

    assert signals.all_accepted_credentials == (
        {
            "rpId": RP_ID,
            "userId": _b64(handle),
            "allAcceptedCredentialIds": [_b64(laptop.credential_id), _b64(phone.credential_id)],
        },
    )
    renamed = UserRef(user_id=ADA.user_id, name="ada@new.example", display_name="Ada L.")
    assert service.passkey_signals(renamed).current_user_details == (
        {
            "rpId": RP_ID,
            "userId": _b64(handle),
            "name": "ada@new.example",
            "displayName": "Ada L.",
        },
    )


def test_a_passkey_registered_with_the_old_handle_gets_its_own_payloads(
    service: MfaService, store: MfaStore, authenticator: SoftAuthenticator
) -> None:
    laptop = _register(service, authenticator, "Laptop")
    stored = store.get_webauthn_credential(laptop.credential_id)
    assert stored is not None
    # A credential registered before handles were random: no recorded handle.
    old = dataclasses.replace(
        stored, credential_id=b"old-credential-id", name="Old key", user_handle=None
    )
    store.add_webauthn_credential(old)

    signals = service.passkey_signals(ADA)

    handles = [s["userId"] for s in signals.all_accepted_credentials]
    assert handles[1] == _b64(ADA.user_id.encode())
    assert handles[0] != handles[1]
    assert [s["userId"] for s in signals.current_user_details] == handles
    for payload in signals.all_accepted_credentials:
        assert sorted(payload["allAcceptedCredentialIds"]) == sorted(
            [_b64(laptop.credential_id), _b64(b"old-credential-id")]
        )


def test_a_user_without_passkeys_gets_an_empty_list(
    service: MfaService, store: MfaStore, authenticator: SoftAuthenticator
) -> None:
    """After the last passkey is deleted the provider may hide all of them."""
    passkey = _register(service, authenticator, "Laptop")
    removal = service.delete_passkey(ADA.user_id, passkey.credential_id, confirmation="DELETE")
    assert removal.unknown_credential_signal == {
        "rpId": RP_ID,
        "credentialId": _b64(passkey.credential_id),
    }
    signals = service.passkey_signals(ADA)
    assert [s["allAcceptedCredentialIds"] for s in signals.all_accepted_credentials] == [[]]
    # The handle is the one the deleted passkey carried.
    handle = store.webauthn_user_handle(ADA.user_id, create_with=b"\x00" * 32)
    assert signals.all_accepted_credentials[0]["userId"] == _b64(handle)


def test_only_a_passkey_deletion_carries_an_unknown_credential_signal(
    service: MfaService, clock: FrozenClock
) -> None:
    enroll_totp(service, clock, ADA.user_id)
    device = service.list_totp_devices(ADA.user_id)[0]
    removal = service.delete_totp_device(ADA.user_id, device.device_id, confirmation="DELETE")
    assert removal.unknown_credential_signal is None


def test_signals_refuse_what_is_not_a_user_ref(service: MfaService) -> None:
    with pytest.raises(ConfigurationError):
        service.passkey_signals("u-ada")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        service.passkey_signals(UserRef(user_id="u-ada", name="x" * 1025, display_name="Ada"))
