"""Mutated tpm, android-key, safetynet, apple and compound registrations: only
MalformedDataError or a VerificationError comes out of verify_registration."""

from __future__ import annotations

import base64
import copy

import cbor2
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit import webauthn
from mfakit.errors import MalformedDataError, VerificationError
from mfakit.testing._attestation_builders import AttestationBuilder

from ._support import NOW

_BUILDER = AttestationBuilder()
_BUILT = {
    "tpm": _BUILDER.tpm(),
    "android-key": _BUILDER.android_key(),
    "android-safetynet": _BUILDER.android_safetynet(now=NOW),
    "apple": _BUILDER.apple(),
    "compound": _BUILDER.compound(),
}
_POLICY = webauthn.AttestationPolicy(trust_anchors=[_BUILDER.root])


def _verify(response: dict[str, object], challenge: bytes) -> None:
    try:
        webauthn.verify_registration(
            response,
            expected_challenge=challenge,
            expected_origins=_BUILDER.origin,
            expected_rp_id=_BUILDER.rp_id,
            attestation=_POLICY,
            now=NOW,
        )
    except (MalformedDataError, VerificationError):
        return


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(sorted(_BUILT)), st.integers(0, 1 << 20), st.integers(0, 255))
def test_mutated_attestation_objects(fmt: str, index: int, value: int) -> None:
    """One byte of the attestation object changed: a documented error or a pass."""
    built = _BUILT[fmt]
    raw = bytearray(
        base64.urlsafe_b64decode(built.response["response"]["attestationObject"] + "==")
    )
    raw[index % len(raw)] = value
    response = copy.deepcopy(built.response)
    response["response"]["attestationObject"] = (
        base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    )
    _verify(response, built.challenge)


_VALUES = st.one_of(
    st.none(),
    st.integers(-(2**64), 2**64),
    st.binary(max_size=40),
    st.text(max_size=10),
    st.lists(st.binary(max_size=10), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(sorted(_BUILT)), st.data())
def test_statement_members_replaced(fmt: str, data: st.DataObject) -> None:
    """A statement member replaced by any CBOR value: a documented error."""
    built = _BUILT[fmt]
    stmt = built.att_stmt
    if isinstance(stmt, list):
        stmt = data.draw(st.sampled_from([[], [stmt[0]], [*stmt, {"fmt": "none", "attStmt": {}}]]))
    else:
        key = data.draw(st.sampled_from([*sorted(stmt), "extra"]))
        stmt = dict(stmt, **{key: data.draw(_VALUES)})
    obj = cbor2.dumps({"fmt": built.fmt, "attStmt": stmt, "authData": built.auth_data})
    response = copy.deepcopy(built.response)
    response["response"]["attestationObject"] = base64.urlsafe_b64encode(obj).rstrip(b"=").decode()
    _verify(response, built.challenge)
