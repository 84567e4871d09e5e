"""SoftAuthenticator produces tpm, android-key, android-safetynet, apple and compound
statements through AttestationBuilder's hook, and mfakit verifies them."""

from __future__ import annotations

from typing import Any

import pytest

from mfakit import webauthn
from mfakit.errors import InvalidAttestationError
from mfakit.testing import SoftAuthenticator
from mfakit.testing._attestation_builders import AttestationBuilder

from ._support import NOW

ORIGIN = "https://example.org"


def _ceremony(
    builder: AttestationBuilder, fmt: str, **options: Any
) -> webauthn.VerifiedRegistration:
    soft = SoftAuthenticator(
        origin=ORIGIN,
        algorithm=-7,
        aaguid=builder.aaguid,
        attestation_statement=builder.soft_authenticator_hook(fmt, **options),
    )
    request = webauthn.registration_options(
        rp_id="example.org",
        rp_name="Example",
        user_id=b"user-1",
        user_name="ada",
        user_display_name="Ada",
        attestation="direct",
    )
    return webauthn.verify_registration(
        soft.create(request),
        expected_challenge=request.challenge,
        expected_origins=ORIGIN,
        expected_rp_id="example.org",
        attestation=webauthn.AttestationPolicy(trust_anchors=[builder.root], require_trusted=True),
        now=NOW,
    )


@pytest.mark.parametrize(
    ("fmt", "options", "attestation_type"),
    [
        ("tpm", {}, "attca"),
        ("android-key", {}, "basic"),
        ("android-safetynet", {"now": NOW}, "basic"),
        ("apple", {}, "anonca"),
        ("compound", {}, "anonca"),
        ("packed", {}, "basic"),
    ],
)
def test_soft_authenticator_statements_verify(
    builder: AttestationBuilder, fmt: str, options: dict[str, Any], attestation_type: str
) -> None:
    """Each format made by the SoftAuthenticator hook verifies and is trusted."""
    result = _ceremony(builder, fmt, **options)
    assert (result.fmt, result.attestation_type, result.trusted) == (fmt, attestation_type, True)


def test_soft_authenticator_fault_is_refused(builder: AttestationBuilder) -> None:
    """A fault passed through the hook is refused with its specific error."""
    with pytest.raises(InvalidAttestationError, match="extraData"):
        _ceremony(builder, "tpm", fault="extra_data")
