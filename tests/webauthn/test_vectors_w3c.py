"""mfakit verifies the W3C WebAuthn Level 3 §16 test vectors.

Registrations in the formats mfakit implements (none, packed, fido-u2f) verify,
with the x5c chains trusted at the §16.1 root; every assertion verifies with the
registered key. The tpm, android-key and apple registrations (issue 8) are
checked in tests/webauthn/attestation/test_w3c_attestation_vectors.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from mfakit import webauthn
from mfakit.errors import CeremonyMismatchError
from mfakit.testing._webauthn_vectors import (
    WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE,
    WEBAUTHN_TEST_VECTORS,
    WebAuthnTestVector,
)

NOW = datetime(2026, 11, 23, tzinfo=UTC)
CORE_FORMATS = frozenset({"none", "packed", "fido-u2f"})
IMPLEMENTED = [v for v in WEBAUTHN_TEST_VECTORS if v.fmt in CORE_FORMATS]


def _ids(vector: WebAuthnTestVector) -> str:
    return vector.name


def _cross_origin_options(vector: WebAuthnTestVector) -> dict[str, object]:
    if not vector.cross_origin:
        return {}
    tops = (vector.top_origin,) if vector.top_origin else ()
    return {"allow_cross_origin": True, "allowed_top_origins": tops}


def _register(vector: WebAuthnTestVector, **extra: object) -> webauthn.VerifiedRegistration:
    policy = webauthn.AttestationPolicy(
        trust_anchors=[WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE],
        require_trusted=vector.fmt != "none" and vector.name != "packed-self-es256",
    )
    options = {**_cross_origin_options(vector), **extra}
    return webauthn.verify_registration(
        vector.registration_response(),
        expected_challenge=vector.registration_challenge,
        expected_origins=vector.origin,
        expected_rp_id=vector.rp_id,
        attestation=policy,
        now=NOW,
        **options,  # type: ignore[arg-type]
    )


def test_formats_mfakit_implements_are_covered() -> None:
    """The vectors exercise every core format (issue 4); issue 8's are tested apart."""
    assert {v.fmt for v in IMPLEMENTED} == CORE_FORMATS


@pytest.mark.parametrize("vector", IMPLEMENTED, ids=_ids)
def test_registration_verifies(vector: WebAuthnTestVector) -> None:
    """The registration verifies and reports the vector's credential, key and AAGUID."""
    registered = _register(vector)
    assert registered.fmt == vector.fmt
    assert registered.credential_id == vector.credential_id
    assert registered.public_key == vector.credential_public_key
    assert registered.public_key_algorithm == vector.algorithm
    assert registered.aaguid == UUID(bytes=vector.aaguid)
    assert registered.sign_count == 0
    attested = vector.fmt != "none" and vector.name != "packed-self-es256"
    assert registered.trusted is attested


@pytest.mark.parametrize("vector", WEBAUTHN_TEST_VECTORS, ids=_ids)
def test_authentication_verifies(vector: WebAuthnTestVector) -> None:
    """The assertion verifies with the registered key, cached or as COSE bytes."""
    for key in (
        vector.credential_public_key,
        webauthn.parse_credential_public_key(vector.credential_public_key),
    ):
        verified = webauthn.verify_authentication(
            vector.authentication_response(),
            expected_challenge=vector.authentication_challenge,
            expected_origins=vector.origin,
            expected_rp_id=vector.rp_id,
            credential_public_key=key,
            current_sign_count=0,
            **_cross_origin_options(vector),  # type: ignore[arg-type]
        )
        assert verified.credential_id == vector.credential_id
        assert verified.new_sign_count == 0
        assert verified.backup_eligible is bool(vector.authenticator_data[32] & 0x08)


@pytest.mark.parametrize("vector", [v for v in WEBAUTHN_TEST_VECTORS if v.cross_origin], ids=_ids)
def test_cross_origin_vectors_need_the_caller_to_allow_them(vector: WebAuthnTestVector) -> None:
    """crossOrigin true is refused by default (§7.1 step 10, §7.2 step 14)."""
    with pytest.raises(CeremonyMismatchError) as caught:
        webauthn.verify_authentication(
            vector.authentication_response(),
            expected_challenge=vector.authentication_challenge,
            expected_origins=vector.origin,
            expected_rp_id=vector.rp_id,
            credential_public_key=vector.credential_public_key,
            current_sign_count=0,
        )
    assert caught.value.field == "cross_origin"


def test_top_origin_outside_the_allowed_set_is_refused() -> None:
    """The topOrigin vector is refused when https://example.com is not an allowed top origin."""
    vector = next(v for v in WEBAUTHN_TEST_VECTORS if v.top_origin)
    with pytest.raises(CeremonyMismatchError) as caught:
        _register(vector, allowed_top_origins=("https://other.example",))
    assert caught.value.field == "top_origin"


@pytest.mark.parametrize("vector", IMPLEMENTED[:1], ids=_ids)
def test_wrong_challenge_is_refused(vector: WebAuthnTestVector) -> None:
    """A vector checked against another challenge is refused."""
    with pytest.raises(CeremonyMismatchError):
        webauthn.verify_registration(
            vector.registration_response(),
            expected_challenge=vector.authentication_challenge,
            expected_origins=vector.origin,
            expected_rp_id=vector.rp_id,
        )
