"""Passkey results name the provider from the AAGUID list (unattested), over every store."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from service_helpers import ORIGIN, SETTINGS, build_service

from mfakit.clock import FrozenClock
from mfakit.errors import ConfigurationError
from mfakit.repositories import MfaStore
from mfakit.service import (
    InMemoryOutbox,
    MfaService,
    Passkey,
    ServiceSettings,
    UserRef,
)
from mfakit.testing import SoftAuthenticator
from mfakit.webauthn.providers import Provider, ProviderName, ProviderNames

ADA = UserRef(user_id="u-ada", name="ada@example.com", display_name="Ada")
GOOGLE = uuid.UUID("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4")


def _service(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, settings: ServiceSettings
) -> MfaService:
    return build_service(store, clock, outbox, settings)


def _register(service: MfaService, authenticator: SoftAuthenticator, name: str) -> Passkey:
    started = service.begin_passkey_registration(ADA, name=name)
    response = authenticator.create(started.options)
    return service.finish_passkey_registration(ADA.user_id, started.challenge_id, response)


def test_default_settings_use_the_bundled_list() -> None:
    """ServiceSettings names providers from the shipped list unless told otherwise."""
    assert ServiceSettings().provider_names is ProviderNames.bundled()
    with pytest.raises(ConfigurationError, match="provider_names"):
        ServiceSettings(provider_names={})  # type: ignore[arg-type]


def test_registration_and_list_carry_unattested_provider_name(
    service: MfaService,
) -> None:
    """A passkey whose AAGUID the list knows is named, unattested, on every result."""
    google = SoftAuthenticator(origin=ORIGIN, aaguid=GOOGLE.bytes)
    unknown = SoftAuthenticator(origin=ORIGIN, aaguid=uuid.UUID(int=7).bytes)
    expected = ProviderName(name="Google Password Manager", attested=False)
    first = _register(service, google, "Phone")
    second = _register(service, unknown, "Key")
    assert first.provider_name == expected
    assert second.provider_name is None
    listed = service.list_passkeys(ADA.user_id)
    by_id = {p.credential_id: p.provider_name for p in listed}
    assert by_id == {first.credential_id: expected, second.credential_id: None}
    renamed = service.rename_passkey(ADA.user_id, first.credential_id, "Pixel")
    assert renamed.provider_name == expected


@pytest.mark.parametrize("store", ["memory"], indirect=True)
def test_host_list_and_disabled_list(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """A host's own list replaces the bundled one; None names no provider."""
    own = ProviderNames({GOOGLE: Provider(name="Our name for it")})
    service = _service(store, clock, outbox, dataclasses.replace(SETTINGS, provider_names=own))
    passkey = _register(service, SoftAuthenticator(origin=ORIGIN, aaguid=GOOGLE.bytes), "A")
    assert passkey.provider_name == ProviderName(name="Our name for it", attested=False)
    off = _service(store, clock, outbox, dataclasses.replace(SETTINGS, provider_names=None))
    assert [p.provider_name for p in off.list_passkeys(ADA.user_id)] == [None]
