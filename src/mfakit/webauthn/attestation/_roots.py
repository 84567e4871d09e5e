"""The public attestation roots mfakit ships, with their fingerprints and sources.

The certificates live in ``attestation_roots.pem`` next to this module (package
data). Each block there is preceded by its name, format, SHA-256 fingerprint
and publication address; :func:`public_roots` re-checks every fingerprint on
load, so a corrupted bundle fails loudly instead of trusting the wrong key.

Shipped: the Apple WebAuthn Root CA (``apple``), the Google hardware
attestation roots (``android-key``: the RSA root in its 2016, 2019, 2021
and 2022 certificates, and the 2025 EC "Key Attestation CA1"), the Microsoft TPM
Root Certificate Authority 2014 (``tpm``, Windows Hello) and the Yubico U2F
Root CA Serial 457200631 (``fido-u2f`` and ``packed``: the root of YubiKey
attestation certificates since 2014). A block may name several formats,
separated by commas. Other vendors' roots come from the FIDO metadata
(``attestationRootCertificates``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

__all__ = [
    "PublicRoot",
    "public_roots",
    "public_trust_anchors",
]

_BLOCK = re.compile(
    r"# name: (?P<name>[^\n]+)\n# format: (?P<fmt>[^\n]+)\n# sha256: (?P<sha>[0-9a-f]{64})\n"
    r"# source: (?P<src>[^\n]+)\n(?P<pem>-----BEGIN CERTIFICATE-----\n.*?"
    r"-----END CERTIFICATE-----\n)",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicRoot:
    """A shipped public root certificate.

    Attributes:
        name: What the root is.
        fmt: The (first) attestation format it anchors.
        sha256: The SHA-256 fingerprint of its DER encoding (hex).
        source: Where its owner publishes it.
        certificate: The certificate.
        formats: Every attestation format it anchors (``fmt`` first).
    """

    name: str
    fmt: str
    sha256: str
    source: str
    certificate: x509.Certificate = field(repr=False, compare=False)
    formats: tuple[str, ...] = ()


@cache
def public_roots() -> tuple[PublicRoot, ...]:
    """The shipped public roots, each checked against its recorded fingerprint.

    Raises:
        RuntimeError: The bundle was altered (a fingerprint does not match):
            an installation problem, not a runtime condition to handle.
    """
    text = (
        resources.files("mfakit.webauthn.attestation")
        .joinpath("attestation_roots.pem")
        .read_text("ascii")
    )
    roots = []
    for match in _BLOCK.finditer(text):
        cert = x509.load_pem_x509_certificate(match["pem"].encode("ascii"))
        der = cert.public_bytes(encoding=Encoding.DER)
        if hashlib.sha256(der).hexdigest() != match["sha"]:  # pragma: no cover - corruption
            raise RuntimeError("mfakit's attestation root bundle is corrupted")
        formats = tuple(f.strip() for f in match["fmt"].split(","))
        roots.append(
            PublicRoot(
                name=match["name"],
                fmt=formats[0],
                formats=formats,
                sha256=match["sha"],
                source=match["src"],
                certificate=cert,
            )
        )
    return tuple(roots)


def public_trust_anchors() -> dict[str, tuple[x509.Certificate, ...]]:
    """The shipped roots by format, ready for ``AttestationPolicy(format_trust_anchors=...)``.

    Example::

        policy = AttestationPolicy(format_trust_anchors=public_trust_anchors())
    """
    anchors: dict[str, tuple[x509.Certificate, ...]] = {}
    for root in public_roots():
        for fmt in root.formats:
            anchors[fmt] = (*anchors.get(fmt, ()), root.certificate)
    return anchors
