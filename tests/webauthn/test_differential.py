"""mfakit vs py_webauthn vs fido2 on generated and mutated responses.

The three verifiers see the same responses (from the independent SoftAuthenticator,
the W3C vectors, and random bit flips). They must agree; where a peer disagrees,
the spec decides and the table below records the verdict each implementation must
give and why. Nothing but an ``MfaError`` may escape mfakit, whatever the input.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfakit import webauthn
from mfakit.errors import MalformedDataError, MfaError
from mfakit.testing import Fault, SoftAuthenticator
from mfakit.testing._webauthn_vectors import (
    WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE,
    WEBAUTHN_TEST_VECTORS,
)

from ._differential import (
    NOW,
    ORIGIN,
    RP_ID,
    Authentication,
    Registration,
    authentication_verdicts,
    b64,
    registration_verdicts,
    unb64,
)

ALL_ACCEPT = {"mfakit": True, "py_webauthn": True, "fido2": True}
ALL_REFUSE = {"mfakit": False, "py_webauthn": False, "fido2": False}
#: Algorithms all three verify (py_webauthn has no ES384: see the recorded case).
COMMON_ALGS = (-7, -36, -257, -37, -8, -48)


def _register(
    fmt: Any = "none", alg: int = -7, faults: Any = (), **auth_args: Any
) -> tuple[SoftAuthenticator, Registration]:
    auth = SoftAuthenticator(attestation=fmt, counter_start=5, **auth_args)
    options = webauthn.registration_options(
        rp_id=RP_ID, rp_name="Example", user_id=b"user-1", user_name="ada", user_display_name="Ada"
    )
    response = auth.create(options, algorithm=alg, faults=faults)
    root = auth.root_certificate if fmt in ("packed", "fido-u2f") else None
    return auth, Registration(
        response=response, challenge=options.challenge, algorithm=alg, root=root
    )


def _authenticate(auth: SoftAuthenticator, reg: Registration, faults: Any = ()) -> Authentication:
    credential = auth.credentials[-1]
    options = webauthn.authentication_options(
        rp_id=RP_ID, allow_credentials=[credential.credential_id]
    )
    stored = auth.sign_count(credential.credential_id)
    response = auth.get(options, faults=faults)
    return Authentication(
        response=response,
        challenge=options.challenge,
        public_key=credential.public_key,
        attestation_object=unb64(reg.response["response"]["attestationObject"]),
        stored_count=stored,
    )


# -- agreement on valid responses -------------------------------------------------------


@pytest.mark.parametrize("alg", COMMON_ALGS)
@pytest.mark.parametrize("fmt", ["none", "packed-self", "packed"])
def test_all_accept_valid_registration_and_assertion(fmt: str, alg: int) -> None:
    """Every implementation accepts a valid response for the algorithms they share."""
    auth, reg = _register(fmt, alg)
    assert registration_verdicts(reg) == ALL_ACCEPT
    assert authentication_verdicts(_authenticate(auth, reg)) == ALL_ACCEPT


def test_all_accept_valid_fido_u2f() -> None:
    """All three accept a U2F registration with a zero AAGUID and its assertion."""
    auth, reg = _register("fido-u2f")
    assert registration_verdicts(reg) == ALL_ACCEPT
    assert authentication_verdicts(_authenticate(auth, reg)) == ALL_ACCEPT


# -- faults: agreement, and recorded disagreements ---------------------------------------


@dataclass(frozen=True)
class Case:
    """The verdicts the spec requires of each implementation for one fault."""

    fmt: str
    fault: Fault
    expected: dict[str, bool]
    why: str = "all refuse"


REGISTRATION_CASES = [
    Case("none", Fault.WRONG_ORIGIN, ALL_REFUSE),
    Case("none", Fault.WRONG_TYPE, ALL_REFUSE),
    Case("none", Fault.WRONG_CHALLENGE, ALL_REFUSE),
    Case("none", Fault.WRONG_RP_ID_HASH, ALL_REFUSE),
    Case("none", Fault.UP_CLEAR, ALL_REFUSE),
    Case("none", Fault.RAW_ID_MISMATCH, ALL_REFUSE),
    Case("none", Fault.UNKNOWN_FORMAT, ALL_REFUSE),
    Case("none", Fault.NONE_WITH_STATEMENT, ALL_REFUSE),
    Case("packed-self", Fault.BAD_SIGNATURE, ALL_REFUSE),
    Case("packed", Fault.BAD_SIGNATURE, ALL_REFUSE),
    Case("fido-u2f", Fault.BAD_SIGNATURE, ALL_REFUSE),
    Case("packed-self", Fault.PACKED_ALG_MISMATCH, ALL_REFUSE),
    Case("packed", Fault.PACKED_ALG_MISMATCH, ALL_REFUSE),
    Case(
        "none",
        Fault.CROSS_ORIGIN,
        {"mfakit": False, "py_webauthn": True, "fido2": True},
        "§7.1 step 10: crossOrigin true needs an RP that expects iframes; mfakit refuses unless "
        "allow_cross_origin=True, the peers never check it",
    ),
    Case(
        "none",
        Fault.TOP_ORIGIN,
        {"mfakit": False, "py_webauthn": True, "fido2": True},
        "§7.1 step 11: topOrigin must be one the RP expects; the peers ignore it",
    ),
    Case(
        "none",
        Fault.BS_WITHOUT_BE,
        {"mfakit": False, "py_webauthn": False, "fido2": True},
        "§7.1: if BE is not set, BS must not be set (§6.1.3); fido2 does not check",
    ),
    Case(
        "none",
        Fault.TRAILING_BYTES,
        {"mfakit": False, "py_webauthn": True, "fido2": False},
        "§5.2.1/§6.5: attestationObject is one CBOR map; py_webauthn decodes the first item "
        "and ignores the rest",
    ),
    Case(
        "packed",
        Fault.AAGUID_MISMATCH,
        {"mfakit": False, "py_webauthn": True, "fido2": False},
        "§8.2.1: the certificate's id-fido-gen-ce-aaguid must equal authData's AAGUID; "
        "py_webauthn does not compare them",
    ),
]


@pytest.mark.parametrize("case", REGISTRATION_CASES, ids=lambda c: f"{c.fmt}-{c.fault.name}")
def test_registration_fault_verdicts(case: Case) -> None:
    """Each implementation gives the verdict the spec requires (disagreements recorded in `why`)."""
    _, reg = _register(case.fmt, faults=[case.fault])
    assert registration_verdicts(reg) == case.expected, case.why


AUTHENTICATION_CASES = [
    Case("none", Fault.WRONG_ORIGIN, ALL_REFUSE),
    Case("none", Fault.WRONG_TYPE, ALL_REFUSE),
    Case("none", Fault.WRONG_CHALLENGE, ALL_REFUSE),
    Case("none", Fault.WRONG_RP_ID_HASH, ALL_REFUSE),
    Case("none", Fault.UP_CLEAR, ALL_REFUSE),
    Case("none", Fault.BAD_SIGNATURE, ALL_REFUSE),
    Case("none", Fault.RAW_ID_MISMATCH, ALL_REFUSE),
    Case("none", Fault.TRAILING_BYTES, ALL_REFUSE),
    Case(
        "none",
        Fault.CROSS_ORIGIN,
        {"mfakit": False, "py_webauthn": True, "fido2": True},
        "§7.2 step 14: as for registration, the peers never check crossOrigin",
    ),
    Case(
        "none",
        Fault.TOP_ORIGIN,
        {"mfakit": False, "py_webauthn": True, "fido2": True},
        "§7.2 step 14: the peers ignore topOrigin",
    ),
    Case(
        "none",
        Fault.BS_WITHOUT_BE,
        {"mfakit": False, "py_webauthn": False, "fido2": True},
        "§7.2: BS without BE is invalid (§6.1.3); fido2 does not check",
    ),
    Case(
        "none",
        Fault.COUNTER_BACKWARDS,
        {"mfakit": False, "py_webauthn": False, "fido2": True},
        "§7.2 step 22: a counter that does not increase signals a clone; fido2 leaves "
        "counters to the application",
    ),
    Case(
        "none",
        Fault.BE_CHANGED,
        {"mfakit": False, "py_webauthn": True, "fido2": True},
        "§6.1.3: BE never changes for a credential; mfakit checks it when the caller passes "
        "the registered value, the peers have no such input",
    ),
]


@pytest.mark.parametrize("case", AUTHENTICATION_CASES, ids=lambda c: c.fault.name)
def test_authentication_fault_verdicts(case: Case) -> None:
    """Each implementation gives the verdict the spec requires for an assertion fault."""
    auth, reg = _register(case.fmt)
    authn = _authenticate(auth, reg, faults=[case.fault])
    verdicts = authentication_verdicts(authn, expected_backup_eligible=False)
    assert verdicts == case.expected, case.why


def test_es384_is_refused_only_by_py_webauthn() -> None:
    """ES384 (COSE -35) is a registered WebAuthn algorithm; py_webauthn has no support for it."""
    auth, reg = _register("packed", -35)
    expected = {"mfakit": True, "py_webauthn": False, "fido2": True}
    assert registration_verdicts(reg) == expected
    assert authentication_verdicts(_authenticate(auth, reg)) == expected


def test_w3c_fido_u2f_vector_with_nonzero_aaguid() -> None:
    """§8.6's verification procedure does not check the AAGUID; py_webauthn requires it zero."""
    vector = next(v for v in WEBAUTHN_TEST_VECTORS if v.fmt == "fido-u2f")
    from cryptography import x509

    reg = Registration(
        response=vector.registration_response(),
        challenge=vector.registration_challenge,
        algorithm=-7,
        root=x509.load_der_x509_certificate(WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE),
    )
    assert vector.aaguid != bytes(16)
    assert registration_verdicts(reg) == {"mfakit": True, "py_webauthn": False, "fido2": True}


def _with_cose_key(reg: Registration, mutate: Any) -> Registration:
    att = cbor2.loads(unb64(reg.response["response"]["attestationObject"]))
    auth_data = att["authData"]
    length = int.from_bytes(auth_data[53:55], "big")
    cose = cbor2.loads(auth_data[55 + length :])
    mutate(cose)
    att["authData"] = auth_data[: 55 + length] + cbor2.dumps(cose, canonical=True)
    response = copy.deepcopy(reg.response)
    response["response"]["attestationObject"] = b64(cbor2.dumps(att, canonical=True))
    return Registration(response=response, challenge=reg.challenge, algorithm=reg.algorithm)


def _off_curve(cose: dict[int, Any]) -> None:
    y = bytearray(cose[-3])
    y[-1] ^= 0x01
    cose[-3] = bytes(y)
    with pytest.raises(ValueError, match=r"(?i)curve|invalid"):
        ec.EllipticCurvePublicNumbers(
            int.from_bytes(cose[-2], "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        ).public_key()


def test_point_off_the_curve_is_refused_at_registration() -> None:
    """An EC credential key must be a point on its curve; the peers only notice at login.

    With ``none`` attestation nothing signs the key at registration, so the peers
    store an unusable key. mfakit validates the point (RFC 9053 §2.1, SEC 1 §3.2.2).
    """
    _, reg = _register("none")
    bad = _with_cose_key(reg, _off_curve)
    assert registration_verdicts(bad) == {"mfakit": False, "py_webauthn": True, "fido2": True}
    with pytest.raises(MalformedDataError):
        webauthn.verify_registration(
            bad.response,
            expected_challenge=bad.challenge,
            expected_origins=ORIGIN,
            expected_rp_id=RP_ID,
        )


def test_credential_id_must_match_raw_id() -> None:
    """authData's credential ID must be the response's id/rawId; the peers do not compare them.

    With ``none`` attestation nothing signs authData at registration, so a changed
    credential ID there would make the RP store one ID while the authenticator uses
    another. mfakit refuses the inconsistent response.
    """
    _, reg = _register("none")
    att = cbor2.loads(unb64(reg.response["response"]["attestationObject"]))
    att["authData"] = _flip(att["authData"], 55, 0)  # first byte of the credential ID
    response = copy.deepcopy(reg.response)
    response["response"]["attestationObject"] = b64(cbor2.dumps(att, canonical=True))
    bad = Registration(response=response, challenge=reg.challenge, algorithm=-7)
    assert registration_verdicts(bad) == {"mfakit": False, "py_webauthn": True, "fido2": True}


# -- mutated responses (Hypothesis) ------------------------------------------------------


def _flip(data: bytes, position: int, bit: int) -> bytes:
    index = position % len(data)
    return data[:index] + bytes([data[index] ^ (1 << bit)]) + data[index + 1 :]


def _stricter_reason(reg: Registration) -> str | None:
    """Why mfakit may refuse what both peers accept, checked without mfakit's code.

    * the registered COSE key is not a usable P-256 key (point off the curve,
      wrong parameters): an unusable credential (RFC 9053 §2.1);
    * the credential ID in authData differs from ``id``/``rawId``: the response
      names two credentials (L3 §5.1 and §6.5.1 both call it *the* credential ID).
    """
    try:
        att = cbor2.loads(unb64(reg.response["response"]["attestationObject"]))
        auth_data = att["authData"]
        length = int.from_bytes(auth_data[53:55], "big")
        if auth_data[55 : 55 + length] != unb64(reg.response["rawId"]):
            return "credential id differs from rawId"
        cose = cbor2.loads(auth_data[55 + length :])
        if cose.get(1) != 2 or cose.get(-1) != 1:  # EC2 on P-256 is what was registered
            return "credential key parameters changed"
        ec.EllipticCurvePublicNumbers(
            int.from_bytes(cose[-2], "big"), int.from_bytes(cose[-3], "big"), ec.SECP256R1()
        ).public_key()
    except Exception:  # noqa: BLE001  (anything unparsable is an unusable key)
        return "credential key unusable"
    return None


BASES: dict[str, tuple[SoftAuthenticator, Registration]] = {}


def _base(fmt: str) -> tuple[SoftAuthenticator, Registration]:
    if fmt not in BASES:
        BASES[fmt] = _register(fmt)
    return BASES[fmt]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(["none", "packed-self", "packed", "fido-u2f"]),
    field=st.sampled_from(["attestationObject", "clientDataJSON"]),
    position=st.integers(min_value=0, max_value=10_000),
    bit=st.integers(min_value=0, max_value=7),
)
def test_mutated_registration_never_more_lenient_than_both_peers(
    fmt: str, field: str, position: int, bit: int
) -> None:
    """A bit flip: mfakit raises only MfaError, and accepts only what a peer also accepts.

    When mfakit refuses what both peers accept, the flip made the credential key
    unusable or the credential IDs inconsistent (see ``_stricter_reason``).
    """
    _, base = _base(fmt)
    response = copy.deepcopy(base.response)
    response["response"][field] = b64(_flip(unb64(response["response"][field]), position, bit))
    reg = Registration(response=response, challenge=base.challenge, algorithm=-7, root=base.root)
    verdicts = registration_verdicts(reg)
    if verdicts["mfakit"]:
        assert verdicts["py_webauthn"] or verdicts["fido2"], verdicts
    elif verdicts["py_webauthn"] and verdicts["fido2"]:
        assert _stricter_reason(reg) is not None, verdicts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(["authenticatorData", "clientDataJSON", "signature"]),
    position=st.integers(min_value=0, max_value=10_000),
    bit=st.integers(min_value=0, max_value=7),
)
def test_mutated_assertion_agrees_with_peers(field: str, position: int, bit: int) -> None:
    """A bit flip in an assertion: mfakit raises only MfaError and agrees with py_webauthn."""
    auth, reg = _base("none")
    authn = _authenticate(auth, reg)
    response = copy.deepcopy(authn.response)
    response["response"][field] = b64(_flip(unb64(response["response"][field]), position, bit))
    mutated = Authentication(
        response=response,
        challenge=authn.challenge,
        public_key=authn.public_key,
        attestation_object=authn.attestation_object,
        stored_count=0,
    )
    verdicts = authentication_verdicts(mutated)
    assert verdicts["mfakit"] == verdicts["py_webauthn"], verdicts
    if verdicts["mfakit"]:
        assert verdicts["fido2"], verdicts


# -- low-level exceptions the differential runs found (fixed in wip/webauthn a558607) ----


def _with_leaf(fmt: str, mutate: Any) -> tuple[Registration, SoftAuthenticator]:
    auth, reg = _register(fmt)
    att = cbor2.loads(unb64(reg.response["response"]["attestationObject"]))
    att["attStmt"]["x5c"][0] = mutate(att["attStmt"]["x5c"][0], auth)
    response = copy.deepcopy(reg.response)
    response["response"]["attestationObject"] = b64(cbor2.dumps(att, canonical=True))
    return Registration(response=response, challenge=reg.challenge, algorithm=-7), auth


def _bad_version(der: bytes, _: SoftAuthenticator) -> bytes:
    # 30 82 LL LL 30 82 LL LL a0 03 02 01 <02>: version v3 becomes the undefined "3".
    assert der[8:12] == b"\xa0\x03\x02\x01"
    return _flip(der, 12, 0)


def _bad_subject_tag(der: bytes, _: SoftAuthenticator) -> bytes:
    # The subject's countryName PrintableString tag (0x13) becomes 0x11: not a string type.
    index = der.rindex(b"\x06\x03\x55\x04\x06\x13") + 5
    return _flip(der, index, 1)


def _bad_leaf_point(der: bytes, auth: SoftAuthenticator) -> bytes:
    point = auth.ca.leaf.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _flip(der, der.index(point) + 64, 0)


@pytest.mark.parametrize(
    ("fmt", "mutate"),
    [("packed", _bad_version), ("packed", _bad_subject_tag), ("fido-u2f", _bad_leaf_point)],
    ids=["packed-version", "packed-subject-tag", "fido-u2f-leaf-point"],
)
def test_malformed_attestation_certificate_raises_only_mfa_error(fmt: str, mutate: Any) -> None:
    """A malformed x5c certificate is refused with an MfaError, never a low-level exception."""
    reg, auth = _with_leaf(fmt, mutate)
    with pytest.raises(MfaError):
        webauthn.verify_registration(
            reg.response,
            expected_challenge=reg.challenge,
            expected_origins=ORIGIN,
            expected_rp_id=RP_ID,
            attestation=webauthn.AttestationPolicy(trust_anchors=[auth.root_certificate]),
            now=NOW,
        )
