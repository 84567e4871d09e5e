"""FIDO path validation (issue 13): real authenticators' chains are trusted, broken ones are not.

The first group reproduces, with generated certificates, the properties of
real attestation chains that web-PKI (TLS) rules refused: Yubico's U2F root
with a non-critical basicConstraints, Windows AIK certificates with a critical
certificatePolicies, Microsoft TPM intermediates whose EKUs lack clientAuth.
The second group attacks the rules that replace web PKI.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ObjectIdentifier

from mfakit.testing._attestation_builders import AttestationBuilder
from mfakit.webauthn import AttestationPolicy

from ._support import NOW, register

# The critical certificatePolicies of Windows AIK certificates: Microsoft's
# 1.3.6.1.4.1.311.21.31 policy (as in the Surface Pro 4 AIK of the TPM vector).
_AIK_POLICIES = x509.CertificatePolicies(
    [x509.PolicyInformation(ObjectIdentifier("1.3.6.1.4.1.311.21.31"), None)]
)
# The EKUs of Microsoft's TPM intermediates (EUS-*-KEYID-*): 1.3.6.1.4.1.311.21.36
# and tcg-kp-AIKCertificate, without clientAuth.
_TPM_CA_EKUS = x509.ExtendedKeyUsage(
    [ObjectIdentifier("1.3.6.1.4.1.311.21.36"), ObjectIdentifier("2.23.133.8.3")]
)

Issuer = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def _yubico_like_root(builder: AttestationBuilder) -> Issuer:
    # Yubico U2F Root CA Serial 457200631: CA, pathLen 0, basicConstraints NOT critical.
    return builder.ca_certificate("U2F root", path_length=0, basic_constraints_critical=False)


def _microsoft_like_chain(builder: AttestationBuilder) -> tuple[Issuer, Issuer]:
    root = builder.ca_certificate("TPM root")
    intermediate = builder.ca_certificate(
        "EUS-TEST-KEYID-0", issuer=root, path_length=0, extensions=((_TPM_CA_EKUS, False),)
    )
    return root, intermediate


# -- real-world properties: trusted ---------------------------------------------------


def test_root_with_non_critical_basic_constraints_anchors_packed(
    builder: AttestationBuilder,
) -> None:
    """A packed leaf issued by a root whose basicConstraints is not critical is trusted."""
    root = _yubico_like_root(builder)
    built = builder.packed(issuer=root, x5c_tail=())
    assert register(builder, built, trust_anchors=[root[0]]).trusted


def test_root_with_non_critical_basic_constraints_anchors_fido_u2f(
    builder: AttestationBuilder,
) -> None:
    """A fido-u2f certificate issued by a root whose basicConstraints is not critical is trusted."""
    root = _yubico_like_root(builder)
    result = register(builder, builder.fido_u2f(issuer=root), trust_anchors=[root[0]])
    assert (result.fmt, result.trusted) == ("fido-u2f", True)


def test_aik_with_critical_certificate_policies_is_trusted(builder: AttestationBuilder) -> None:
    """A TPM AIK certificate with a critical certificatePolicies extension is trusted."""
    built = builder.tpm(aik_extensions=((_AIK_POLICIES, True),))
    assert register(builder, built).trusted


def test_intermediate_with_tpm_only_ekus_is_trusted(builder: AttestationBuilder) -> None:
    """An intermediate whose EKUs are TPM-only (no clientAuth) issues a trusted AIK."""
    root, intermediate = _microsoft_like_chain(builder)
    built = builder.tpm(issuer=intermediate, x5c_tail=(intermediate[0],))
    assert register(builder, built, trust_anchors=[root[0]]).trusted


def test_windows_like_chain_trusted_with_or_without_its_root(builder: AttestationBuilder) -> None:
    """A Windows-like TPM chain is trusted whether x5c carries its anchor root or not."""
    root, intermediate = _microsoft_like_chain(builder)
    extensions = ((_AIK_POLICIES, True),)
    for tail in ((intermediate[0],), (intermediate[0], root[0])):
        built = builder.tpm(issuer=intermediate, x5c_tail=tail, aik_extensions=extensions)
        assert register(builder, built, trust_anchors=[root[0]]).trusted


def test_root_sent_in_x5c_is_not_an_anchor(builder: AttestationBuilder) -> None:
    """The same chain with its root in x5c is untrusted when that root is not configured."""
    root, intermediate = _microsoft_like_chain(builder)
    built = builder.tpm(issuer=intermediate, x5c_tail=(intermediate[0], root[0]))
    assert not register(builder, built).trusted  # only the builder's own root is configured
    assert not register(builder, built, trust_anchors=()).trusted


# -- the rules that replace web PKI: untrusted -------------------------------------------


@pytest.mark.parametrize("basic_constraints", [False, None], ids=["ca_false", "absent"])
def test_intermediate_that_is_not_a_ca_is_untrusted(
    builder: AttestationBuilder, basic_constraints: bool | None
) -> None:
    """An intermediate without basicConstraints cA=true issues nothing trusted."""
    inter = builder.ca_certificate(
        "not a CA", issuer=(builder.root, builder.root_key), basic_constraints=basic_constraints
    )
    built = builder.packed(issuer=inter, x5c_tail=(inter[0],))
    assert not register(builder, built).trusted


@pytest.mark.parametrize("basic_constraints", [False, None], ids=["ca_false", "absent"])
def test_anchor_that_is_not_a_ca_is_untrusted(
    builder: AttestationBuilder, basic_constraints: bool | None
) -> None:
    """A configured anchor without basicConstraints cA=true anchors nothing."""
    root = builder.ca_certificate("not a CA root", basic_constraints=basic_constraints)
    built = builder.packed(issuer=root, x5c_tail=())
    assert not register(builder, built, trust_anchors=[root[0]]).trusted


def test_control_same_shape_with_a_ca_anchor_is_trusted(builder: AttestationBuilder) -> None:
    """The shape of the not-a-CA tests, with a proper CA, is trusted (the tests can pass)."""
    root = builder.ca_certificate("CA root")
    inter = builder.ca_certificate("CA", issuer=root)
    direct = builder.packed(issuer=root, x5c_tail=())
    assert register(builder, direct, trust_anchors=[root[0]]).trusted
    built = builder.packed(issuer=inter, x5c_tail=(inter[0],))
    assert register(builder, built, trust_anchors=[root[0]]).trusted


def test_path_length_exceeded_is_untrusted(builder: AttestationBuilder) -> None:
    """A root with pathLen 0 cannot anchor a chain through an intermediate."""
    root = builder.ca_certificate("pathLen 0 root", path_length=0)
    inter = builder.ca_certificate("intermediate", issuer=root, path_length=0)
    built = builder.packed(issuer=inter, x5c_tail=(inter[0],))
    assert not register(builder, built, trust_anchors=[root[0]]).trusted


@pytest.mark.parametrize("where", ["intermediate", "anchor"])
def test_issuer_key_usage_without_key_cert_sign_is_untrusted(
    builder: AttestationBuilder, where: str
) -> None:
    """An issuer whose keyUsage lacks keyCertSign issues nothing trusted."""
    root = builder.ca_certificate("root", key_cert_sign=where != "anchor")
    inter = builder.ca_certificate("inter", issuer=root, key_cert_sign=where != "intermediate")
    built = builder.packed(issuer=inter, x5c_tail=(inter[0],))
    assert not register(builder, built, trust_anchors=[root[0]]).trusted


def test_issuer_without_key_usage_is_trusted(builder: AttestationBuilder) -> None:
    """keyUsage is optional on issuers: its absence does not refuse a chain."""
    root = builder.ca_certificate("root", key_cert_sign=None)
    inter = builder.ca_certificate("inter", issuer=root, key_cert_sign=None)
    built = builder.packed(issuer=inter, x5c_tail=(inter[0],))
    assert register(builder, built, trust_anchors=[root[0]]).trusted


@pytest.mark.parametrize("where", ["leaf", "intermediate", "anchor"])
@pytest.mark.parametrize("when", ["expired", "not_yet_valid"])
def test_certificate_outside_validity_is_untrusted(
    builder: AttestationBuilder, where: str, when: str
) -> None:
    """A leaf, intermediate or anchor outside its validity period at now is untrusted."""
    day = timedelta(days=1)
    outside = (NOW - 10 * day, NOW - day) if when == "expired" else (NOW + day, NOW + 10 * day)
    wide = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2124, 1, 1, tzinfo=UTC))
    root = builder.ca_certificate("root", validity=outside if where == "anchor" else wide)
    inter = builder.ca_certificate(
        "inter", issuer=root, validity=outside if where == "intermediate" else wide
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = builder.leaf(
        key.public_key(), issuer=inter, validity=outside if where == "leaf" else wide
    )
    policy = AttestationPolicy(trust_anchors=[root[0]])
    assert not policy.chains_to_anchor((leaf, inter[0]), builder.aaguid, NOW)
    assert policy.chains_to_anchor((leaf, inter[0]), builder.aaguid, outside[0] + day)


def test_wrong_signature_under_the_same_issuer_name_is_untrusted(
    builder: AttestationBuilder,
) -> None:
    """A leaf naming the intermediate as issuer but signed by another key is untrusted."""
    forger = (builder.intermediate, ec.generate_private_key(ec.SECP256R1()))
    built = builder.packed(issuer=forger)
    assert not register(builder, built).trusted


def test_wrong_signature_on_the_intermediate_is_untrusted(builder: AttestationBuilder) -> None:
    """An intermediate naming the anchor as issuer but signed by another key is untrusted."""
    forger = (builder.root, ec.generate_private_key(ec.SECP256R1()))
    inter = builder.ca_certificate("forged intermediate", issuer=forger)
    built = builder.packed(issuer=inter, x5c_tail=(inter[0],))
    assert not register(builder, built).trusted


def test_max_chain_depth_is_honoured(builder: AttestationBuilder) -> None:
    """Two intermediates need max_chain_depth >= 2."""
    root = builder.ca_certificate("root")
    upper = builder.ca_certificate("upper", issuer=root)
    lower = builder.ca_certificate("lower", issuer=upper)
    built = builder.packed(issuer=lower, x5c_tail=(lower[0], upper[0]))
    anchors = [root[0]]
    assert not register(builder, built, trust_anchors=anchors, max_chain_depth=1).trusted
    assert register(builder, built, trust_anchors=anchors, max_chain_depth=2).trusted


def test_unknown_critical_extension_on_an_issuer_is_untrusted(
    builder: AttestationBuilder,
) -> None:
    """An intermediate with a critical extension nobody understands is untrusted (RFC 5280)."""
    unknown = x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00")
    inter = builder.ca_certificate(
        "inter", issuer=(builder.root, builder.root_key), extensions=((unknown, True),)
    )
    built = builder.packed(issuer=inter, x5c_tail=(inter[0],))
    assert not register(builder, built).trusted
