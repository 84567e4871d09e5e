"""A throw-away attestation CA for the software authenticator.

Builds a root, an optional intermediate and an attestation (leaf) certificate that
meets WebAuthn Level 3 §8.2.1 (packed attestation certificate requirements).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

__all__ = ["AAGUID_EXTENSION_OID", "AttestationCA", "generate_attestation_ca"]

#: id-fido-gen-ce-aaguid (WebAuthn L3 §8.2.1): the AAGUID in an attestation certificate.
AAGUID_EXTENSION_OID = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")

#: Fixed so that building a certificate never reads the clock (DESIGN.md layering rule).
DEFAULT_NOT_BEFORE = datetime(2024, 1, 1, tzinfo=UTC)
DEFAULT_NOT_AFTER = datetime(2124, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationCA:
    """The certificates and the attestation key of a generated CA chain.

    ``root`` is the trust anchor to hand to the verifier; ``chain`` is the ``x5c``
    array (leaf first, then the intermediate when there is one).
    """

    root: x509.Certificate
    intermediate: x509.Certificate | None
    leaf: x509.Certificate
    leaf_key: ec.EllipticCurvePrivateKey = field(repr=False)

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """The ``x5c`` certificates: the attestation certificate, then any intermediate."""
        return (self.leaf,) if self.intermediate is None else (self.leaf, self.intermediate)


def _name(common_name: str, unit: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "AA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mfakit SoftAuthenticator"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_cert(
    *,
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    path_length: int | None,
    not_before: datetime,
    not_after: datetime,
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


def generate_attestation_ca(
    *,
    aaguid: bytes,
    intermediate: bool = False,
    not_before: datetime = DEFAULT_NOT_BEFORE,
    not_after: datetime = DEFAULT_NOT_AFTER,
    leaf_aaguid_extension: bool = True,
) -> AttestationCA:
    """Generate a root (and optionally an intermediate) CA and an attestation certificate.

    The leaf follows WebAuthn L3 §8.2.1: X.509 v3; subject C, O, OU "Authenticator
    Attestation", CN; basicConstraints CA false; the id-fido-gen-ce-aaguid extension,
    not critical, holding ``aaguid`` as a DER OCTET STRING.
    """
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("mfakit SoftAuthenticator Root CA", "Authenticator Attestation CA")
    root = _ca_cert(
        subject=root_name,
        key=root_key,
        issuer=root_name,
        issuer_key=root_key,
        path_length=None,
        not_before=not_before,
        not_after=not_after,
    )
    issuer_name, issuer_key, inter = root_name, root_key, None
    if intermediate:
        inter_key = ec.generate_private_key(ec.SECP256R1())
        inter_name = _name(
            "mfakit SoftAuthenticator Intermediate CA", "Authenticator Attestation CA"
        )
        inter = _ca_cert(
            subject=inter_name,
            key=inter_key,
            issuer=root_name,
            issuer_key=root_key,
            path_length=0,
            not_before=not_before,
            not_after=not_after,
        )
        issuer_name, issuer_key = inter_name, inter_key
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name("mfakit SoftAuthenticator", "Authenticator Attestation"))
        .issuer_name(issuer_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if leaf_aaguid_extension:
        # The extension value is the AAGUID wrapped in a DER OCTET STRING (04 10 ...).
        builder = builder.add_extension(
            x509.UnrecognizedExtension(AAGUID_EXTENSION_OID, b"\x04\x10" + aaguid),
            critical=False,
        )
    leaf = builder.sign(issuer_key, hashes.SHA256())
    return AttestationCA(root=root, intermediate=inter, leaf=leaf, leaf_key=leaf_key)
