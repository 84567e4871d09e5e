"""Mutated responses into both verifiers: only documented mfakit errors come out."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.errors import MalformedDataError, MfaError, VerificationError
from mfakit.webauthn import AttestationPolicy, verify_authentication, verify_registration

from .helpers import CHALLENGE, NOW, ORIGIN, RP_ID, Credential, assertion, make_chain, registration

CRED = Credential.new(-7)
CHAIN = make_chain()
REG = registration(CRED, fmt="packed", signer=(CHAIN.leaf_key, -7), x5c=CHAIN.x5c)
ASSERT = assertion(CRED, count=5)
POLICY = AttestationPolicy(trust_anchors=[CHAIN.root])


def _run_reg(resp: Any) -> None:
    try:
        verify_registration(
            resp,
            expected_challenge=CHALLENGE,
            expected_origins=ORIGIN,
            expected_rp_id=RP_ID,
            attestation=POLICY,
            now=NOW,
        )
    except (MalformedDataError, VerificationError):
        return


def _run_auth(resp: Any) -> None:
    try:
        verify_authentication(
            resp,
            expected_challenge=CHALLENGE,
            expected_origins=ORIGIN,
            expected_rp_id=RP_ID,
            credential_public_key=CRED.cose,
            current_sign_count=0,
        )
    except (MalformedDataError, VerificationError):
        return


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _flip(resp: dict[str, Any], member: str, pos: int, xor: int) -> dict[str, Any]:
    raw = bytearray(_b64d(resp["response"][member]))
    raw[pos % len(raw)] ^= xor
    out = json.loads(json.dumps(resp))
    out["response"][member] = _b64e(bytes(raw))
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["clientDataJSON", "attestationObject"]),
    st.integers(0, 5000),
    st.integers(1, 255),
)
def test_mutated_registration(member: str, pos: int, xor: int) -> None:
    """A flipped byte anywhere in a packed x5c registration gives only documented errors."""
    _run_reg(_flip(REG, member, pos, xor))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["clientDataJSON", "authenticatorData", "signature"]),
    st.integers(0, 500),
    st.integers(1, 255),
)
def test_mutated_assertion(member: str, pos: int, xor: int) -> None:
    """A flipped byte anywhere in an assertion is refused with a documented error."""
    with pytest.raises(MfaError):
        verify_authentication(
            _flip(ASSERT, member, pos, xor),
            expected_challenge=CHALLENGE,
            expected_origins=ORIGIN,
            expected_rp_id=RP_ID,
            credential_public_key=CRED.cose,
            current_sign_count=0,
        )


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(
        ["id", "rawId", "type", "response", "clientExtensionResults", "authenticatorAttachment"]
    ),
    _JSON_VALUES,
)
def test_replaced_members(member: str, value: Any) -> None:
    """Any JSON value in place of a top-level member gives only documented errors."""
    for base, run in ((REG, _run_reg), (ASSERT, _run_auth)):
        out = json.loads(json.dumps(base))
        out[member] = value
        run(out)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(
        [
            "clientDataJSON",
            "attestationObject",
            "authenticatorData",
            "signature",
            "userHandle",
            "transports",
        ]
    ),
    _JSON_VALUES,
)
def test_replaced_inner_members(member: str, value: Any) -> None:
    """Any JSON value in place of a response member gives only documented errors."""
    for base, run in ((REG, _run_reg), (ASSERT, _run_auth)):
        out = json.loads(json.dumps(base))
        out["response"][member] = value
        run(out)
