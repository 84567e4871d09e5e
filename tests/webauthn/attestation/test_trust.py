"""Trust: anchors per format and per AAGUID, roots inside x5c, CRL revocation."""

from __future__ import annotations

import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mfakit.errors import ConfigurationError, UntrustedAttestationError
from mfakit.testing._attestation_builders import AttestationBuilder

from ._support import NOW, register, restate


def _leaf(built_x5c: list[bytes]) -> x509.Certificate:
    return x509.load_der_x509_certificate(built_x5c[0])


def test_format_anchor_applies_to_its_format_only(builder: AttestationBuilder) -> None:
    """A root anchored for apple trusts apple statements, not packed ones."""
    scoped = {"format_trust_anchors": {"apple": [builder.root]}, "trust_anchors": ()}
    assert register(builder, builder.apple(), **scoped).trusted
    assert not register(builder, builder.packed(), **scoped).trusted


def test_aaguid_anchor_applies_to_its_model_only(builder: AttestationBuilder) -> None:
    """A root anchored for one AAGUID trusts that model only; keys may be UUID, bytes, str."""
    for key in (
        uuid.UUID(bytes=builder.aaguid),
        builder.aaguid,
        str(uuid.UUID(bytes=builder.aaguid)),
    ):
        policy = {"aaguid_trust_anchors": {key: [builder.root]}, "trust_anchors": ()}
        assert register(builder, builder.packed(), **policy).trusted
    other = {"aaguid_trust_anchors": {uuid.uuid4(): [builder.root]}, "trust_anchors": ()}
    assert not register(builder, builder.packed(), **other).trusted


@pytest.mark.parametrize(
    "policy",
    [
        {"aaguid_trust_anchors": {"not-a-uuid": []}},
        {"aaguid_trust_anchors": {b"short": []}},
        {"format_trust_anchors": {"apple": b"pem"}},
        {"format_trust_anchors": [("apple", [])]},
        {"crls": b"not a list"},
        {"crls": [b"garbage"]},
        {"crls": ["text"]},
        {"rejected_statuses": "REVOKED"},
        {"minimum_certification": "GOLD"},
    ],
)
def test_bad_trust_configuration(policy: dict[str, object]) -> None:
    """Malformed anchor maps, CRLs and status rules are ConfigurationError."""
    from mfakit.webauthn import AttestationPolicy

    with pytest.raises(ConfigurationError):
        AttestationPolicy(**policy)  # type: ignore[arg-type]


def test_root_inside_x5c_still_needs_a_configured_anchor(builder: AttestationBuilder) -> None:
    """x5c ending with its own root is untrusted unless that root is configured."""
    built = builder.packed()
    root_der = builder.root.public_bytes(serialization.Encoding.DER)
    with_root = restate(built, dict(built.att_stmt, x5c=[*built.att_stmt["x5c"], root_der]))
    assert not register(builder, with_root, trust_anchors=()).trusted
    assert not register(builder, with_root, trust_anchors=[AttestationBuilder().root]).trusted
    assert register(builder, with_root).trusted


def test_self_signed_leaf_is_never_its_own_anchor(builder: AttestationBuilder) -> None:
    """An x5c made of one self-signed certificate is not trusted, even with require_trusted off."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = builder._packed_subject()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(builder.root.not_valid_before_utc)
        .not_valid_after(builder.root.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    built = builder.packed()
    sig = key.sign(built.auth_data + built.client_data_hash, ec.ECDSA(hashes.SHA256()))
    stmt = {"alg": -7, "sig": sig, "x5c": [cert.public_bytes(serialization.Encoding.DER)]}
    assert not register(builder, restate(built, stmt)).trusted
    with pytest.raises(UntrustedAttestationError):
        register(builder, restate(built, stmt), require_trusted=True)


def test_revoked_leaf_is_refused(builder: AttestationBuilder) -> None:
    """A leaf listed in its issuer's current CRL is UntrustedAttestationError."""
    built = builder.packed()
    crl = builder.crl(revoked=(_leaf(built.att_stmt["x5c"]),))
    with pytest.raises(UntrustedAttestationError, match="revoked"):
        register(builder, built, crls=[crl])


def test_revoked_intermediate_is_refused(builder: AttestationBuilder) -> None:
    """An intermediate listed in the root's CRL is UntrustedAttestationError."""
    crl = builder.crl(revoked=(builder.intermediate,), issuer="root")
    with pytest.raises(UntrustedAttestationError, match="revoked"):
        register(builder, builder.tpm(), crls=[crl.public_bytes(serialization.Encoding.PEM)])


def test_crl_of_another_issuer_or_key_is_ignored(builder: AttestationBuilder) -> None:
    """A CRL with the right issuer name but another key's signature revokes nothing."""
    built = builder.packed()
    leaf = _leaf(built.att_stmt["x5c"])
    forged = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(builder.intermediate.subject)
        .last_update(builder.root.not_valid_before_utc)
        .next_update(builder.root.not_valid_after_utc)
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(leaf.serial_number)
            .revocation_date(builder.root.not_valid_before_utc)
            .build()
        )
        .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    )
    assert register(builder, built, crls=[forged.public_bytes(serialization.Encoding.DER)]).trusted


def test_stale_crl_does_not_count(builder: AttestationBuilder) -> None:
    """A CRL past its nextUpdate neither revokes nor covers."""
    built = builder.packed()
    stale = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(builder.intermediate.subject)
        .last_update(builder.root.not_valid_before_utc)
        .next_update(builder.root.not_valid_before_utc.replace(year=2025))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(_leaf(built.att_stmt["x5c"]).serial_number)
            .revocation_date(builder.root.not_valid_before_utc)
            .build()
        )
        .sign(builder.intermediate_key, hashes.SHA256())
    )
    assert register(builder, built, crls=[stale]).trusted
    assert not register(builder, built, crls=[stale], require_revocation_info=True).trusted


def test_require_revocation_info(builder: AttestationBuilder) -> None:
    """With require_revocation_info, every certificate below the anchor needs a current CRL."""
    built = builder.packed()
    only_leaf = [builder.crl()]
    both = [builder.crl(), builder.crl(issuer="root")]
    assert not register(builder, built, crls=only_leaf, require_revocation_info=True).trusted
    assert register(builder, built, crls=both, require_revocation_info=True).trusted


def test_needs_now_with_anchors(builder: AttestationBuilder) -> None:
    """Anchors without now= is a ConfigurationError (chains need a time)."""
    with pytest.raises(ConfigurationError):
        register(builder, builder.apple(), now=None)


def test_policy_time_is_used(builder: AttestationBuilder) -> None:
    """Before the certificates' validity the chain is not trusted."""
    assert not register(builder, builder.apple(), now=NOW.replace(year=2023)).trusted


def test_policy_stays_hashable_and_comparable(builder: AttestationBuilder) -> None:
    """A policy with every new option can still be hashed and compared."""
    from mfakit.webauthn import AttestationPolicy

    def make() -> AttestationPolicy:
        return AttestationPolicy(
            trust_anchors=[builder.root],
            format_trust_anchors={"apple": [builder.root]},
            aaguid_trust_anchors={builder.aaguid: [builder.root]},
            crls=[builder.crl()],
            minimum_certification="FIDO_CERTIFIED_L2",
        )

    first, second = make(), make()
    assert isinstance(hash(first), int)
    assert first.rejected_statuses == second.rejected_statuses
    assert first.format_trust_anchors == second.format_trust_anchors


class _Provider:
    """A host MetadataProvider that counts its calls."""

    def __init__(self, roots: list[x509.Certificate]) -> None:
        self.roots = roots
        self.calls = 0

    def trust_anchors_for(self, aaguid: bytes) -> list[x509.Certificate]:
        self.calls += 1
        return self.roots


def test_host_provider_is_asked_every_time(builder: AttestationBuilder) -> None:
    """A host MetadataProvider's answers may change, so they are never cached."""
    provider = _Provider([builder.root])
    from mfakit.webauthn import AttestationPolicy

    policy = AttestationPolicy(metadata=provider, format_trust_anchors={"apple": [builder.root]})
    for _ in range(2):
        assert policy.chains_to_anchor((builder.intermediate,), builder.aaguid, NOW, fmt="apple")
    assert provider.calls == 2
    provider.roots = []
    assert register(builder, builder.packed(), trust_anchors=(), metadata=provider).trusted is False


def test_anchor_stores_are_cached_and_bounded(builder: AttestationBuilder) -> None:
    """Per-format/AAGUID stores are built once per key; the cache is bounded."""
    from mfakit.webauthn import AttestationPolicy
    from mfakit.webauthn.attestation import _policy as _attestation

    policy = AttestationPolicy(format_trust_anchors={"apple": [builder.root]})
    first = policy._store_for(builder.aaguid, "apple")
    assert first is policy._store_for(builder.aaguid, "apple")
    for n in range(_attestation._STORE_CACHE_SIZE + 1):
        policy._store_for(n.to_bytes(16, "big"), "apple")
    assert len(policy._store_cache) <= _attestation._STORE_CACHE_SIZE


def test_failing_host_provider_is_contained(builder: AttestationBuilder) -> None:
    """A provider that raises becomes ConfigurationError."""

    class Broken:
        def trust_anchors_for(self, aaguid: bytes) -> list[x509.Certificate]:
            raise OSError("down")

    with pytest.raises(ConfigurationError, match="provider failed"):
        register(builder, builder.packed(), metadata=Broken())
