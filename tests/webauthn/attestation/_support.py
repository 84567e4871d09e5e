"""Shared helpers of the attestation tests: one builder per module, a register() call."""

from __future__ import annotations

import base64
import copy
import dataclasses
from datetime import UTC, datetime
from typing import Any

import cbor2

from mfakit import webauthn
from mfakit.testing._attestation_builders import AttestationBuilder, BuiltRegistration

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def register(
    builder: AttestationBuilder,
    built: BuiltRegistration,
    *,
    now: datetime | None = NOW,
    **policy: Any,
) -> webauthn.VerifiedRegistration:
    """Verify ``built`` with a policy trusting the builder's root (unless overridden)."""
    policy.setdefault("trust_anchors", [builder.root])
    return webauthn.verify_registration(
        built.response,
        expected_challenge=built.challenge,
        expected_origins=builder.origin,
        expected_rp_id=builder.rp_id,
        attestation=webauthn.AttestationPolicy(**policy),
        now=now,
    )


def parts(
    built: BuiltRegistration,
) -> tuple[webauthn.low_level.AuthenticatorData, webauthn.CredentialPublicKey]:
    """The parsed authenticator data and credential key of ``built``, for direct format calls."""
    auth = webauthn.low_level.parse_authenticator_data(built.auth_data)
    assert auth.attested_credential_data is not None
    key = webauthn.parse_credential_public_key(
        auth.attested_credential_data.credential_public_key, allow_rs1=True
    )
    return auth, key


def restate(built: BuiltRegistration, att_stmt: Any) -> BuiltRegistration:
    """``built`` with another attestation statement (re-encoded attestation object)."""
    obj = cbor2.dumps({"fmt": built.fmt, "attStmt": att_stmt, "authData": built.auth_data})
    response = copy.deepcopy(built.response)
    response["response"]["attestationObject"] = base64.urlsafe_b64encode(obj).rstrip(b"=").decode()
    return dataclasses.replace(built, response=response, att_stmt=att_stmt)
