"""Fully specified COSE algorithms (RFC 9864): ESP256, ESP384, ESP512 and Ed25519."""

from __future__ import annotations

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448

from mfakit.errors import InvalidSignatureError, MalformedDataError
from mfakit.webauthn import (
    DEFAULT_ALGORITHMS,
    COSEAlgorithm,
    parse_credential_public_key,
    verify_authentication,
    verify_registration,
)
from mfakit.webauthn._cose import verifier_for_certificate_key

from .helpers import (
    CHALLENGE,
    ORIGIN,
    RP_ID,
    Credential,
    assertion,
    cose_map,
    generate_key,
    registration,
    sign,
)

FULLY_SPECIFIED = [-9, -51, -52, -19]


def test_identifiers_are_rfc_9864s() -> None:
    """The enum members carry the identifiers RFC 9864 registers."""
    assert (COSEAlgorithm.ESP256, COSEAlgorithm.ESP384, COSEAlgorithm.ESP512) == (-9, -51, -52)
    assert (COSEAlgorithm.Ed25519, COSEAlgorithm.Ed448) == (-19, -53)


def test_defaults_keep_their_order_and_add_the_new_identifiers() -> None:
    """EdDSA, ES256, RS256 stay first; each fully specified identifier is offered."""
    assert DEFAULT_ALGORITHMS[:3] == (-8, -7, -257)
    assert set(FULLY_SPECIFIED) <= set(DEFAULT_ALGORITHMS)
    assert len(set(DEFAULT_ALGORITHMS)) == len(DEFAULT_ALGORITHMS)


@pytest.mark.parametrize("alg", FULLY_SPECIFIED)
def test_key_verifies_its_signatures(alg: int) -> None:
    """A parsed key of each algorithm verifies its own signature and no other."""
    private = generate_key(alg)
    key = parse_credential_public_key(cbor2.dumps(cose_map(private, alg)))
    assert key.alg == alg
    key.verify(sign(private, alg, b"data"), b"data")


@pytest.mark.parametrize("alg", FULLY_SPECIFIED)
def test_registration_then_assertion(alg: int) -> None:
    """A credential of each algorithm registers and then signs in."""
    cred = Credential.new(alg)
    reg = verify_registration(
        registration(cred),
        expected_challenge=CHALLENGE,
        expected_origins=ORIGIN,
        expected_rp_id=RP_ID,
    )
    assert reg.public_key_algorithm == alg
    result = verify_authentication(
        assertion(cred, count=1),
        expected_challenge=CHALLENGE,
        expected_origins=ORIGIN,
        expected_rp_id=RP_ID,
        credential_public_key=reg.credential_public_key,
        current_sign_count=0,
    )
    assert result.new_sign_count == 1


@pytest.mark.parametrize(
    ("alg", "curve", "crv", "size"),
    [
        (-9, ec.SECP384R1(), 2, 48),
        (-9, ec.SECP521R1(), 3, 66),
        (-51, ec.SECP256R1(), 1, 32),
        (-52, ec.SECP384R1(), 2, 48),
    ],
)
def test_ecdsa_key_on_another_curve_is_refused(
    alg: int, curve: ec.EllipticCurve, crv: int, size: int
) -> None:
    """A key whose curve is not the one its fully specified algorithm names is refused."""
    numbers = ec.generate_private_key(curve).public_key().public_numbers()
    cose = {1: 2, 3: alg, -1: crv, -2: numbers.x.to_bytes(size, "big")}
    cose[-3] = numbers.y.to_bytes(size, "big")
    with pytest.raises(MalformedDataError):
        parse_credential_public_key(cbor2.dumps(cose))


def test_ed25519_key_on_ed448_is_refused() -> None:
    """Ed25519 (-19) takes only the Ed25519 curve (crv 6), never Ed448 (crv 7)."""
    raw = ed448.Ed448PrivateKey.generate().public_key().public_bytes_raw()
    with pytest.raises(MalformedDataError):
        parse_credential_public_key(cbor2.dumps({1: 1, 3: -19, -1: 7, -2: raw}))


def test_esp256_curve_label_must_be_p256() -> None:
    """An ESP256 key labelled with P-384's crv but P-256 coordinates is refused."""
    cose = cose_map(generate_key(-9), -9)
    cose[-1] = 2
    with pytest.raises(MalformedDataError):
        parse_credential_public_key(cbor2.dumps(cose))


@pytest.mark.parametrize(("key_alg", "alg"), [(-7, -9), (-35, -51), (-36, -52)])
def test_certificate_key_under_a_fully_specified_algorithm(key_alg: int, alg: int) -> None:
    """An attestation certificate's EC key verifies under the matching ESP algorithm only."""
    private = generate_key(key_alg)
    verify = verifier_for_certificate_key(private.public_key(), alg)
    verify(sign(private, alg, b"m"), b"m")
    other = -51 if alg != -51 else -9
    with pytest.raises(MalformedDataError):
        verifier_for_certificate_key(private.public_key(), other)


def test_esp256_signature_is_checked_with_sha256() -> None:
    """An ESP256 signature made with SHA-384 over the same data does not verify."""
    private = generate_key(-9)
    key = parse_credential_public_key(cbor2.dumps(cose_map(private, -9)))
    wrong = private.sign(b"data", ec.ECDSA(hashes.SHA384()))
    with pytest.raises(InvalidSignatureError):
        key.verify(wrong, b"data")
