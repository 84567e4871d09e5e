"""fido-u2f: the AAGUID is not signed by the statement, so it takes no part in trust.

§8.6 signs ``0x00 || rpIdHash || clientDataHash || credentialId || publicKeyU2F``:
the AAGUID bytes of the authenticator data can be rewritten without breaking
the signature. These tests rewrite them, as an attacker holding a genuine
device of a vendor shared by several models would, and check that neither
per-AAGUID anchors nor metadata nor the reported AAGUID follow the claim.
"""

from __future__ import annotations

import base64
import copy
import uuid
from typing import Any

import cbor2
import pytest

from mfakit import webauthn
from mfakit.errors import UntrustedAttestationError
from mfakit.testing import SoftAuthenticator
from mfakit.testing._attestation_builders import AttestationBuilder

from ._support import NOW

_CLAIMED = uuid.UUID("cb69481e-8ff7-4039-93ec-0a2729a154a8")  # a certified model's AAGUID
_RP = "example.org"
_ORIGIN = "https://example.org"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _u2f_registration() -> tuple[SoftAuthenticator, webauthn.RegistrationOptions, dict[str, Any]]:
    soft = SoftAuthenticator(attestation="fido-u2f", origin=_ORIGIN, algorithm=-7)
    options = webauthn.registration_options(
        rp_id=_RP,
        rp_name="x",
        user_id=b"u",
        user_name="u",
        user_display_name="u",
        attestation="direct",
    )
    return soft, options, soft.create(options)


def _with_aaguid(response: dict[str, Any], aaguid: bytes) -> dict[str, Any]:
    """``response`` with the AAGUID of its authenticator data overwritten (signature kept)."""
    obj = cbor2.loads(_unb64(response["response"]["attestationObject"]))
    auth_data = bytearray(obj["authData"])
    auth_data[37:53] = aaguid  # rpIdHash (32) | flags (1) | signCount (4) | AAGUID (16)
    obj["authData"] = bytes(auth_data)
    forged = copy.deepcopy(response)
    forged["response"]["attestationObject"] = _b64(cbor2.dumps(obj))
    if "authenticatorData" in forged["response"]:
        forged["response"]["authenticatorData"] = _b64(bytes(auth_data))
    return forged


def _verify(
    response: dict[str, Any], options: webauthn.RegistrationOptions, policy: Any
) -> webauthn.VerifiedRegistration:
    return webauthn.verify_registration(
        response,
        expected_challenge=options.challenge,
        expected_origins=_ORIGIN,
        expected_rp_id=_RP,
        attestation=policy,
        now=NOW,
    )


def test_rewritten_aaguid_does_not_select_aaguid_anchors() -> None:
    """A fido-u2f AAGUID rewritten to a model with its own anchors stays untrusted."""
    soft, options, response = _u2f_registration()
    policy = webauthn.AttestationPolicy(aaguid_trust_anchors={_CLAIMED: [soft.root_certificate]})
    assert not _verify(response, options, policy).trusted
    forged = _with_aaguid(response, _CLAIMED.bytes)
    result = _verify(forged, options, policy)
    assert result.trusted is False
    with pytest.raises(UntrustedAttestationError):
        _verify(
            forged,
            options,
            webauthn.AttestationPolicy(
                aaguid_trust_anchors={_CLAIMED: [soft.root_certificate]}, require_trusted=True
            ),
        )


def test_rewritten_aaguid_does_not_select_metadata() -> None:
    """Metadata for the claimed AAGUID neither trusts nor certifies a fido-u2f device."""
    soft, options, response = _u2f_registration()
    fido = AttestationBuilder()
    entry = fido.metadata_entry(
        description="Certified model", aaguid=_CLAIMED.bytes, roots=(soft.root_certificate,)
    )
    blob = webauthn.metadata.parse_metadata_blob(
        fido.metadata_blob([entry]), trusted_roots=[fido.root], now=NOW
    )
    forged = _with_aaguid(response, _CLAIMED.bytes)
    result = _verify(forged, options, webauthn.AttestationPolicy(metadata=blob))
    assert (result.trusted, result.authenticator_description) == (False, None)
    for rule in ({"minimum_certification": "FIDO_CERTIFIED_L1"}, {"require_metadata": True}):
        with pytest.raises(UntrustedAttestationError):
            _verify(forged, options, webauthn.AttestationPolicy(metadata=blob, **rule))


def test_reported_aaguid_is_the_unproven_claim() -> None:
    """The result reports the AAGUID bytes as sent, untrusted and naming no model."""
    soft, options, response = _u2f_registration()
    forged = _with_aaguid(response, _CLAIMED.bytes)
    result = _verify(
        forged,
        options,
        webauthn.AttestationPolicy(aaguid_trust_anchors={_CLAIMED: [soft.root_certificate]}),
    )
    assert (result.fmt, result.aaguid) == ("fido-u2f", _CLAIMED)
    assert (result.trusted, result.metadata_entry) == (False, None)


def test_key_identifier_lookup_still_trusts_a_real_u2f_device() -> None:
    """The certificate's key identifier, which the signature covers, still finds the model."""
    soft, options, response = _u2f_registration()
    fido = AttestationBuilder()
    leaf = cbor2.loads(_unb64(response["response"]["attestationObject"]))["attStmt"]["x5c"][0]
    from cryptography import x509

    from mfakit.webauthn.metadata import key_identifier

    kid = key_identifier(x509.load_der_x509_certificate(leaf))
    entry = fido.metadata_entry(
        description="U2F model", key_identifiers=(kid,), roots=(soft.root_certificate,)
    )
    blob = webauthn.metadata.parse_metadata_blob(
        fido.metadata_blob([entry]), trusted_roots=[fido.root], now=NOW
    )
    forged = _with_aaguid(response, _CLAIMED.bytes)
    result = _verify(
        forged,
        options,
        webauthn.AttestationPolicy(metadata=blob, minimum_certification="FIDO_CERTIFIED_L1"),
    )
    assert (result.trusted, result.authenticator_description) == (True, "U2F model")
