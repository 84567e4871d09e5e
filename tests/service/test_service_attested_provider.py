"""Attested provider names: kept at registration from verified FIDO metadata, listed later."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from datetime import timedelta

import pytest
from service_helpers import ORIGIN, RP_ID, SETTINGS, START, build_service

from mfakit.clock import FrozenClock
from mfakit.errors import ConfigurationError, UntrustedAttestationError
from mfakit.repositories import MfaStore
from mfakit.service import InMemoryOutbox, MfaService, Passkey, ServiceSettings, UserRef
from mfakit.testing._attestation_builders import AttestationBuilder
from mfakit.webauthn import AttestationPolicy
from mfakit.webauthn.metadata import parse_metadata_blob
from mfakit.webauthn.providers import Provider, ProviderName, ProviderNames

ADA = UserRef(user_id="u-ada", name="ada@example.com", display_name="Ada")
#: The model's name in the builder's metadata entry.
MODEL = "mfakit Test Key 5 NFC"


@pytest.fixture(scope="module")
def fido() -> AttestationBuilder:
    """The stand-in for the FIDO Alliance: its root signs the metadata BLOB."""
    return AttestationBuilder()


@pytest.fixture(scope="module")
def vendor() -> AttestationBuilder:
    """An authenticator vendor whose keys attest with packed x5c, for the console's RP."""
    return AttestationBuilder(rp_id=RP_ID, origin=ORIGIN)


def _listed(vendor: AttestationBuilder) -> ProviderNames:
    return ProviderNames({uuid.UUID(bytes=vendor.aaguid): Provider(name="Community name")})


def _service(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, **settings: object
) -> MfaService:
    return build_service(store, clock, outbox, dataclasses.replace(SETTINGS, **settings))


def _register(service: MfaService, vendor: AttestationBuilder, *, name: str = "Key") -> Passkey:
    started = service.begin_passkey_registration(ADA, name=name, kind="security_key")
    challenge = started.options["challenge"]
    built = vendor.packed(
        challenge=base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4))
    )
    return service.finish_passkey_registration(ADA.user_id, started.challenge_id, built.response)


def _metadata_policy(fido: AttestationBuilder, vendor: AttestationBuilder) -> AttestationPolicy:
    token = fido.metadata_blob([vendor.metadata_entry()])
    blob = parse_metadata_blob(token, trusted_roots=[fido.root], now=START + timedelta(days=1))
    return AttestationPolicy(trust_anchors=(), metadata=blob)


def test_a_verified_attestation_names_the_model_attested(
    store: MfaStore,
    clock: FrozenClock,
    outbox: InMemoryOutbox,
    fido: AttestationBuilder,
    vendor: AttestationBuilder,
) -> None:
    service = _service(
        store,
        clock,
        outbox,
        attestation=_metadata_policy(fido, vendor),
        provider_names=_listed(vendor),
    )
    started = service.begin_passkey_registration(ADA, name="Probe", kind="security_key")
    assert started.options["attestation"] == "direct"
    passkey = _register(service, vendor)
    attested = ProviderName(name=MODEL, attested=True)
    assert passkey.provider_name == attested
    # Kept with the credential: the list shows it later, attested, over the community name.
    assert [p.provider_name for p in service.list_passkeys(ADA.user_id)] == [attested]
    stored = store.get_webauthn_credential(passkey.credential_id)
    assert stored is not None
    assert stored.attested_provider == MODEL


def test_without_a_policy_the_name_is_the_lists_and_unattested(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, vendor: AttestationBuilder
) -> None:
    service = _service(store, clock, outbox, provider_names=_listed(vendor))
    started = service.begin_passkey_registration(ADA, name="Probe", kind="security_key")
    assert started.options["attestation"] == "none"
    passkey = _register(service, vendor)
    unattested = ProviderName(name="Community name", attested=False)
    assert passkey.provider_name == unattested
    assert [p.provider_name for p in service.list_passkeys(ADA.user_id)] == [unattested]
    stored = store.get_webauthn_credential(passkey.credential_id)
    assert stored is not None
    assert stored.attested_provider is None


def test_an_untrusted_chain_is_never_named_attested(
    store: MfaStore,
    clock: FrozenClock,
    outbox: InMemoryOutbox,
    fido: AttestationBuilder,
    vendor: AttestationBuilder,
) -> None:
    """The attack: metadata naming the AAGUID, but a chain from another vendor's root."""
    impostor = AttestationBuilder(rp_id=RP_ID, origin=ORIGIN, aaguid=vendor.aaguid)
    policy = _metadata_policy(fido, vendor)
    lenient = _service(store, clock, outbox, attestation=policy, provider_names=_listed(vendor))
    passkey = _register(lenient, impostor)
    assert passkey.provider_name == ProviderName(name="Community name", attested=False)
    stored = store.get_webauthn_credential(passkey.credential_id)
    assert stored is not None
    assert stored.attested_provider is None

    strict = _service(
        store, clock, outbox, attestation=dataclasses.replace(policy, require_trusted=True)
    )
    with pytest.raises(UntrustedAttestationError):
        _register(strict, impostor, name="Second")
    assert [p.name for p in strict.list_passkeys(ADA.user_id)] == ["Key"]


def test_attestation_setting_must_be_a_policy() -> None:
    with pytest.raises(ConfigurationError, match="attestation"):
        ServiceSettings(attestation="direct")  # type: ignore[arg-type]
