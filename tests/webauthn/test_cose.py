"""COSE credential public keys: every algorithm, parameter agreement, refusals."""

from __future__ import annotations

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.errors import InvalidSignatureError, MalformedDataError, UnsupportedAlgorithmError
from mfakit.webauthn import COSEAlgorithm, CredentialPublicKey, parse_credential_public_key
from mfakit.webauthn._cose import verifier_for_certificate_key
from mfakit.webauthn.low_level import MAX_COSE_KEY_BYTES

from .helpers import cose_map, generate_key, sign

ALL_ALGS = [-7, -35, -36, -8, -19, -53, -257, -258, -259, -37, -38, -39, -48, -49, -50]


@pytest.mark.parametrize("alg", ALL_ALGS)
def test_each_algorithm_verifies_and_rejects(alg: int) -> None:
    """A parsed key verifies its own signature and refuses a signature over other data."""
    private = generate_key(alg)
    key = parse_credential_public_key(cbor2.dumps(cose_map(private, alg)))
    assert isinstance(key, CredentialPublicKey)
    assert key.alg == alg
    sig = sign(private, alg, b"data")
    key.verify(sig, b"data")
    with pytest.raises(InvalidSignatureError):
        key.verify(sig, b"datA")


def test_garbage_signature_is_invalid_signature() -> None:
    """A signature that is not even DER is an InvalidSignatureError, not a ValueError."""
    key = parse_credential_public_key(cbor2.dumps(cose_map(generate_key(-7), -7)))
    with pytest.raises(InvalidSignatureError):
        key.verify(b"\x00", b"data")


def test_rs1_needs_opt_in() -> None:
    """RS1 (SHA-1) is refused unless the caller allows it."""
    private = generate_key(-65535)
    cose = cbor2.dumps(cose_map(private, -65535))
    with pytest.raises(UnsupportedAlgorithmError) as info:
        parse_credential_public_key(cose)
    assert info.value.alg == -65535
    key = parse_credential_public_key(cose, allow_rs1=True)
    key.verify(sign(private, -65535, b"m"), b"m")


def test_repr_hides_key_material() -> None:
    """The repr shows the algorithm, not the key bytes."""
    key = parse_credential_public_key(cbor2.dumps(cose_map(generate_key(-8), -8)))
    assert "cose" not in repr(key)
    assert "-8" in repr(key)


def _ec_map(alg: int = -7) -> dict[int, object]:
    return cose_map(generate_key(alg), alg)


def _mutated(change: dict[int, object], drop: tuple[int, ...] = (), alg: int = -7) -> bytes:
    m = _ec_map(alg) if alg in (-7, -35, -36) else cose_map(generate_key(alg), alg)
    m.update(change)
    for k in drop:
        m.pop(k, None)
    return cbor2.dumps(m)


@pytest.mark.parametrize(
    ("cose", "why"),
    # Named by why: the keys are random, and every xdist worker must collect the same ids.
    [
        pytest.param(cose, why, id=why)
        for cose, why in [
            (_mutated({-1: 2}), "P-384 curve under ES256"),
            (_mutated({1: 1}), "OKP kty under ES256"),
            (_mutated({-1: True}), "boolean curve"),
            (_mutated({-2: b"\x01" * 31}), "short x"),
            (_mutated({-3: True}), "compressed point flag instead of y"),
            (_mutated({-3: b"\x01" * 32}), "point not on the curve"),
            (_mutated({-4: b"\x01" * 32}), "private scalar present"),
            (_mutated({}, drop=(1,)), "no kty"),
            (_mutated({}, drop=(-2,)), "no x"),
            (_mutated({3: "ES256"}), "text alg"),
            (_mutated({}, drop=(3,)), "no alg"),
            (_mutated({-1: 7}, alg=-19), "Ed448 curve under Ed25519"),
            (_mutated({-1: 6}, alg=-53), "Ed25519 curve under Ed448"),
            (_mutated({1: 2}, alg=-8), "EC2 kty under EdDSA"),
            (_mutated({-1: "Ed25519"}, alg=-8), "text curve"),
            (_mutated({-2: b"\x00" * 31}, alg=-8), "short Ed25519 key"),
            (_mutated({1: 2}, alg=-257), "EC2 kty under RS256"),
            (_mutated({-2: b"\x01\x00\x00"}, alg=-257), "even RSA exponent"),
            (_mutated({-2: b"\x01"}, alg=-257), "RSA exponent 1"),
            (_mutated({-2: b"\x01" * 9}, alg=-257), "RSA exponent too long"),
            (_mutated({-1: b"\xff" * 128}, alg=-257), "RSA modulus too small"),
            (_mutated({-1: b"\xff" * 255 + b"\xfe"}, alg=-257), "even RSA modulus"),
            (_mutated({-5: b"\x01"}, alg=-257), "RSA private parameter"),
            (_mutated({1: 2}, alg=-48), "EC2 kty under ML-DSA-44"),
            (_mutated({-1: b"\x00" * 10}, alg=-48), "short ML-DSA key"),
            (cbor2.dumps([1, 2]), "not a map"),
            (cbor2.dumps({1: 2, 3: -7}) + b"\x00", "trailing bytes"),
        ]
    ],
)
def test_malformed_keys_are_refused(cose: bytes, why: str) -> None:
    """Parameters that disagree with the algorithm or with the curve are MalformedDataError."""
    with pytest.raises(MalformedDataError):
        parse_credential_public_key(cose)


def test_unknown_algorithm() -> None:
    """An algorithm outside the registry is UnsupportedAlgorithmError with its id."""
    with pytest.raises(UnsupportedAlgorithmError) as info:
        parse_credential_public_key(cbor2.dumps({1: 2, 3: -999}))
    assert info.value.alg == -999


def test_size_limit() -> None:
    """A COSE key over MAX_COSE_KEY_BYTES is refused before decoding."""
    with pytest.raises(MalformedDataError):
        parse_credential_public_key(cbor2.dumps({1: 2, 3: -7, -2: b"x" * MAX_COSE_KEY_BYTES}))


def test_non_bytes_input() -> None:
    """Only bytes-like input is parsed."""
    with pytest.raises(MalformedDataError):
        parse_credential_public_key("pQECAyYgASFYIA")  # type: ignore[arg-type]


def test_bytearray_input_is_copied() -> None:
    """bytearray input works and the key keeps immutable bytes."""
    cose = bytearray(cbor2.dumps(_ec_map()))
    key = parse_credential_public_key(cose)
    assert isinstance(key.cose, bytes)


def test_enum_keeps_spec_values() -> None:
    """COSEAlgorithm members equal their IANA identifiers."""
    assert COSEAlgorithm.ES256 == -7
    assert COSEAlgorithm.ML_DSA_44 == -48
    assert COSEAlgorithm.RS1 == -65535


@pytest.mark.parametrize(
    ("key_alg", "alg", "ok"),
    [
        (-7, -7, True),
        (-7, -35, False),
        (-257, -37, True),
        (-257, -7, False),
        (-8, -8, True),
        (-8, -19, True),
        (-53, -8, True),
        (-53, -53, True),
        (-8, -53, False),
        (-48, -48, True),
        (-48, -49, False),
    ],
)
def test_certificate_key_must_match_alg(key_alg: int, alg: int, ok: bool) -> None:
    """An attestation certificate key is usable only under an algorithm of its type."""
    public = generate_key(key_alg).public_key()
    if ok:
        assert callable(verifier_for_certificate_key(public, alg))
    else:
        with pytest.raises(MalformedDataError):
            verifier_for_certificate_key(public, alg)


def test_certificate_key_unknown_alg() -> None:
    """An unknown statement algorithm is UnsupportedAlgorithmError."""
    with pytest.raises(UnsupportedAlgorithmError):
        verifier_for_certificate_key(ec.generate_private_key(ec.SECP256R1()).public_key(), -1)


def test_large_rsa_modulus_refused() -> None:
    """An RSA modulus over 8192 bits is refused (cost control)."""
    n = (1 << 8200) | 1
    with pytest.raises(MalformedDataError):
        parse_credential_public_key(
            cbor2.dumps({1: 3, 3: -257, -1: n.to_bytes(1026, "big"), -2: b"\x01\x00\x01"})
        )


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_random_bytes_only_documented_errors(data: bytes) -> None:
    """Random input ends in MalformedDataError or UnsupportedAlgorithmError."""
    try:
        key = parse_credential_public_key(data)
    except (MalformedDataError, UnsupportedAlgorithmError):
        return
    assert key.cose == data


_BASE = cbor2.dumps(cose_map(generate_key(-7), -7))


@settings(max_examples=300)
@given(st.integers(0, len(_BASE) - 1), st.integers(1, 255))
def test_mutated_key_only_documented_errors(pos: int, xor: int) -> None:
    """One flipped byte in a valid key ends in a documented error or a valid key."""
    data = bytearray(_BASE)
    data[pos] ^= xor
    try:
        key = parse_credential_public_key(bytes(data))
    except (MalformedDataError, UnsupportedAlgorithmError):
        return
    assert key.cose == bytes(data)
