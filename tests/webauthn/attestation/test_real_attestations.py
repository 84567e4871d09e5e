"""Real authenticators' registrations (tests/vectors/real_attestations.json) are trusted.

A YubiKey's fido-u2f and packed attestations chain to Yubico's U2F root (its
basicConstraints is not critical); Windows Hello TPM attestations (Surface Pro 4,
Dell XPS 13, Lenovo X1 Carbon, and an ECC-key credential on a Nuvoton TPM) chain
through a Microsoft TPM intermediate (TPM-only EKUs) with an AIK carrying a
critical certificatePolicies, to the Microsoft TPM root. Web-PKI rules refused
them (issue 13).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mfakit import webauthn
from mfakit.errors import UntrustedAttestationError

_VECTORS = {
    v["name"]: v
    for v in json.loads(
        (Path(__file__).parents[2] / "vectors" / "real_attestations.json").read_text("utf-8")
    )
}
# Inside every certificate's validity: the YubiKey chain runs 2014-2050, the
# Microsoft TPM root 2014-2039; the TPM AIKs and their intermediates run
# Surface Pro 4 2021-04-01 to 2025-05-22, Dell XPS 13 2021-06-21 to 2025-03-21,
# Lenovo X1 2020-03-31 to 2025-03-21, ECC (Nuvoton) 2022-01-12 to 2027-06-10.
_NOW = datetime(2023, 1, 1, tzinfo=UTC)
# Every TPM vector signs certInfo with RS1 (-65535), so each needs allow_sha1.
# Their AIK manufacturers (INTC, NTC, STM) are in the TCG registry: the
# manufacturer check stays on.
_TPM_VECTORS = [
    "windows-tpm-surface-pro-4",
    "windows-tpm-dell-xps-13",
    "windows-tpm-lenovo-carbon-x1",
    "windows-tpm-ecc-nuvoton",
]


def _b64url(text: str) -> str:
    # The TPM vector was recorded in standard base64; Level 3 JSON is base64url.
    return text.replace("+", "-").replace("/", "_").rstrip("=")


def _verify(name: str, policy: webauthn.AttestationPolicy) -> webauthn.VerifiedRegistration:
    vector: dict[str, Any] = _VECTORS[name]
    response = {
        "id": vector["id"],
        "rawId": vector["id"],
        "type": "public-key",
        "response": {
            "attestationObject": _b64url(vector["attestationObject"]),
            "clientDataJSON": _b64url(vector["clientDataJSON"]),
        },
        "clientExtensionResults": {},
    }
    challenge = vector["challenge"]
    return webauthn.verify_registration(
        response,
        expected_challenge=base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4)),
        expected_origins=vector["origin"],
        expected_rp_id=vector["rp_id"],
        attestation=policy,
        now=_NOW,
    )


def _yubico_root() -> Any:
    (root,) = [
        r
        for r in webauthn.attestation.public_roots()
        if r.name == "Yubico U2F Root CA Serial 457200631"
    ]
    return root.certificate


@pytest.mark.parametrize("name", ["yubikey-fido-u2f-firefox", "yubikey-packed-firefox"])
def test_yubikey_attestation_is_trusted_under_the_yubico_root(name: str) -> None:
    """A real YubiKey attestation is trusted with the Yubico U2F root as its only anchor."""
    result = _verify(name, webauthn.AttestationPolicy(trust_anchors=[_yubico_root()]))
    assert (result.fmt, result.trusted) == (_VECTORS[name]["fmt"], True)


@pytest.mark.parametrize("name", ["yubikey-fido-u2f-firefox", "yubikey-packed-firefox"])
def test_yubikey_attestation_is_trusted_with_the_shipped_roots(name: str) -> None:
    """public_trust_anchors() anchors the YubiKey's fido-u2f and packed attestations."""
    policy = webauthn.AttestationPolicy(format_trust_anchors=webauthn.public_trust_anchors())
    assert _verify(name, policy).trusted


@pytest.mark.parametrize("name", _TPM_VECTORS)
def test_windows_tpm_attestation_is_trusted_under_the_microsoft_root(name: str) -> None:
    """A real Windows TPM attestation (RS1 statement) is trusted with the shipped roots."""
    policy = webauthn.AttestationPolicy(
        format_trust_anchors=webauthn.public_trust_anchors(),
        require_trusted=True,
        allow_sha1=True,
    )
    result = _verify(name, policy)
    assert (result.fmt, result.attestation_type, result.trusted) == ("tpm", "attca", True)


@pytest.mark.parametrize(
    ("name", "alg"),
    [
        ("windows-tpm-surface-pro-4", webauthn.COSEAlgorithm.RS256),
        ("windows-tpm-dell-xps-13", webauthn.COSEAlgorithm.RS256),
        ("windows-tpm-lenovo-carbon-x1", webauthn.COSEAlgorithm.RS256),
        ("windows-tpm-ecc-nuvoton", webauthn.COSEAlgorithm.ES256),
    ],
)
def test_windows_tpm_credential_key_matches_its_pub_area(
    name: str, alg: webauthn.COSEAlgorithm
) -> None:
    """The ECC vector yields an ES256 credential (TPM_ALG_ECC pubArea), the others RS256."""
    policy = webauthn.AttestationPolicy(
        format_trust_anchors=webauthn.public_trust_anchors(), allow_sha1=True
    )
    assert _verify(name, policy).public_key_algorithm == alg


@pytest.mark.parametrize("name", _TPM_VECTORS)
def test_windows_tpm_attestation_is_refused_without_the_microsoft_root(name: str) -> None:
    """Every shipped root but the Microsoft TPM one: require_trusted refuses the registration."""
    anchors = {fmt: roots for fmt, roots in webauthn.public_trust_anchors().items() if fmt != "tpm"}
    policy = webauthn.AttestationPolicy(
        format_trust_anchors=anchors, require_trusted=True, allow_sha1=True
    )
    with pytest.raises(UntrustedAttestationError):
        _verify(name, policy)


@pytest.mark.parametrize("name", sorted(_VECTORS))
def test_real_attestation_is_untrusted_without_its_anchor(name: str) -> None:
    """Without the vendor's root configured, none of the real chains is trusted."""
    apple_root = webauthn.public_trust_anchors()["apple"]
    # allow_sha1: the Windows TPMs sign certInfo with RS1.
    policy = webauthn.AttestationPolicy(trust_anchors=apple_root, allow_sha1=True)
    assert not _verify(name, policy).trusted
