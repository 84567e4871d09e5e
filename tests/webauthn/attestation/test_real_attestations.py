"""Real authenticators' registrations (tests/vectors/real_attestations.json) are trusted.

A YubiKey's fido-u2f and packed attestations chain to Yubico's U2F root (its
basicConstraints is not critical); a Surface Pro 4's TPM attestation chains
through a Microsoft TPM intermediate (TPM-only EKUs) with an AIK carrying a
critical certificatePolicies, to the Microsoft TPM root. Web-PKI rules refused
all three (issue 13).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mfakit import webauthn

_VECTORS = {
    v["name"]: v
    for v in json.loads(
        (Path(__file__).parents[2] / "vectors" / "real_attestations.json").read_text("utf-8")
    )
}
# Inside every certificate's validity: the YubiKey chain runs 2014-2050; the
# Surface Pro 4 AIK from 2021-04-01, its intermediate until 2025-05-22.
_NOW = datetime(2022, 1, 1, tzinfo=UTC)


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
        r for r in webauthn.public_roots() if r.name == "Yubico U2F Root CA Serial 457200631"
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


def test_windows_tpm_attestation_is_trusted_under_the_microsoft_root() -> None:
    """A real Surface Pro 4 TPM attestation (RS1 statement) is trusted with the shipped roots."""
    policy = webauthn.AttestationPolicy(
        format_trust_anchors=webauthn.public_trust_anchors(), allow_sha1=True
    )
    result = _verify("windows-tpm-surface-pro-4", policy)
    assert (result.fmt, result.attestation_type, result.trusted) == ("tpm", "attca", True)


@pytest.mark.parametrize("name", sorted(_VECTORS))
def test_real_attestation_is_untrusted_without_its_anchor(name: str) -> None:
    """Without the vendor's root configured, none of the real chains is trusted."""
    apple_root = webauthn.public_trust_anchors()["apple"]
    # allow_sha1: the Windows TPM signs certInfo with RS1.
    policy = webauthn.AttestationPolicy(trust_anchors=apple_root, allow_sha1=True)
    assert not _verify(name, policy).trusted
