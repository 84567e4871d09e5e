"""provider_name(): attested from verified MDS3 metadata, else unattested from the list."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from mfakit.testing._attestation_builders import AttestationBuilder
from mfakit.webauthn.metadata import parse_metadata_blob
from mfakit.webauthn.providers import Provider, ProviderName, ProviderNames, provider_name

from ._support import NOW, register


@pytest.fixture(scope="module")
def fido() -> AttestationBuilder:
    """The stand-in for the FIDO Alliance: its root signs the BLOB."""
    return AttestationBuilder()


def _listed(builder: AttestationBuilder) -> ProviderNames:
    return ProviderNames({uuid.UUID(bytes=builder.aaguid): Provider(name="Listed name")})


def test_attested_name_from_verified_metadata(
    fido: AttestationBuilder, builder: AttestationBuilder
) -> None:
    """A trusted attestation with a metadata entry gives the metadata's name, attested."""
    token = fido.metadata_blob([builder.metadata_entry()])
    blob = parse_metadata_blob(token, trusted_roots=[fido.root], now=NOW)
    result = register(builder, builder.packed(), trust_anchors=(), metadata=blob)
    assert result.trusted
    assert provider_name(result, _listed(builder)) == ProviderName(
        name="mfakit Test Key 5 NFC", attested=True
    )
    assert provider_name(result, None) == ProviderName(name="mfakit Test Key 5 NFC", attested=True)


def test_unattested_name_from_the_list(builder: AttestationBuilder) -> None:
    """Without a trusted attestation the list's name is used, marked unattested."""
    result = register(builder, builder.packed(), trust_anchors=())
    assert not result.trusted
    assert provider_name(result, _listed(builder)) == ProviderName(
        name="Listed name", attested=False
    )
    assert provider_name(result, ProviderNames()) is None
    assert provider_name(result, None) is None


def test_unfit_metadata_description_falls_back(builder: AttestationBuilder) -> None:
    """A trusted description unfit for display (control characters) falls back to the list."""
    result = register(builder, builder.packed())
    assert result.trusted
    odd = dataclasses.replace(result, authenticator_description="bad\x00name")
    assert provider_name(odd, _listed(builder)) == ProviderName(name="Listed name", attested=False)
