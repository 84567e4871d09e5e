"""Forged signatures and invalid keys, attacked through the public verifiers.

RSASSA-PKCS1-v1_5 and ECDSA are checked only by ``cryptography``; these tests
keep the attacks that once exercised mfakit's own RSA and EC code, now aimed at
:func:`verify_authentication`, :func:`verify_registration` and
:func:`parse_credential_public_key`.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mfakit.errors import InvalidSignatureError, MalformedDataError
from mfakit.webauthn import parse_credential_public_key, verify_authentication, verify_registration

from .helpers import (
    CHALLENGE,
    ORIGIN,
    RP_ID,
    Credential,
    assertion,
    auth_data,
    client_data,
    registration,
)

# RFC 8017 §9.2, note 1: the DER DigestInfo prefixes, by COSE algorithm.
PREFIX = {
    -257: bytes.fromhex("3031300d060960864801650304020105000420"),
    -258: bytes.fromhex("3041300d060960864801650304020205000430"),
    -259: bytes.fromhex("3051300d060960864801650304020305000440"),
}
HASHLIB = {-257: hashlib.sha256, -258: hashlib.sha384, -259: hashlib.sha512}


@functools.cache
def _rsa_credential(alg: int) -> Credential:
    return Credential(alg=alg, private=_rsa_key())


@functools.cache
def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def _raw_sign(key: rsa.RSAPrivateKey, em: bytes) -> bytes:
    """s = EM^d mod n with no padding at all: a forger with the key's help."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    return pow(int.from_bytes(em, "big"), numbers.d, n).to_bytes(256, "big")


def _em(t: bytes, *, block: bytes = b"\x00\x01", fill: int = 0xFF) -> bytes:
    return block + bytes([fill]) * (256 - len(block) - 1 - len(t)) + b"\x00" + t


def _forgeries(alg: int, message: bytes) -> dict[str, bytes]:
    digest = HASHLIB[alg](message).digest()
    prefix = PREFIX[alg]
    t = prefix + digest
    no_null = bytes([0x30, len(t) - 4, 0x30, prefix[3] - 2]) + prefix[4:-4] + prefix[-2:] + digest
    other = PREFIX[-258 if alg != -258 else -257]
    return {
        "DigestInfo without the NULL parameters": _em(no_null),
        "another hash's OID": _em(other[:-1] + bytes([len(digest)]) + digest),
        "garbage after the hash": _em(t + b"\x00garbage"),
        "garbage before the DigestInfo": _em(b"\x00\x00" + t),
        "a PS byte that is not 0xFF": _em(t, fill=0xFE),
        "block type 2": _em(t, block=b"\x00\x02"),
        "no leading zero": _em(t, block=b"\x01\x01"),
        "PS shorter than eight bytes": b"\x00\x01" + b"\xff" * 7 + b"\x00" * (247 - len(t)) + t,
        "truncated hash": _em(prefix + digest[:-1] + b"\x00"),
        "wrong hash": _em(prefix + bytes(len(digest))),
    }


def _verify(response: dict[str, Any], cred: Credential) -> Any:
    return verify_authentication(
        response,
        expected_challenge=CHALLENGE,
        expected_origins=ORIGIN,
        expected_rp_id=RP_ID,
        credential_public_key=cred.cose,
        current_sign_count=0,
    )


def _signed_message() -> tuple[bytes, bytes, bytes]:
    cd = client_data("webauthn.get")
    ad = auth_data(count=1)
    return cd, ad, ad + hashlib.sha256(cd).digest()


@pytest.mark.parametrize("alg", sorted(PREFIX))
def test_genuine_raw_encoding_verifies(alg: int) -> None:
    """The correct EMSA-PKCS1-v1_5 encoding, raw-signed, verifies (the control)."""
    cred = _rsa_credential(alg)
    cd, ad, message = _signed_message()
    sig = _raw_sign(cred.private, _em(PREFIX[alg] + HASHLIB[alg](message).digest()))
    assert _verify(assertion(cred, cd=cd, ad=ad, signature=sig), cred).new_sign_count == 1


@pytest.mark.parametrize("alg", sorted(PREFIX))
@pytest.mark.parametrize("name", sorted(_forgeries(-257, b"")))
def test_forged_encodings_are_refused(alg: int, name: str) -> None:
    """Every malformed encoded message, validly RSA-signed, is an invalid signature."""
    cred = _rsa_credential(alg)
    cd, ad, message = _signed_message()
    sig = _raw_sign(cred.private, _forgeries(alg, message)[name])
    with pytest.raises(InvalidSignatureError):
        _verify(assertion(cred, cd=cd, ad=ad, signature=sig), cred)


def test_signature_of_the_wrong_length_is_refused() -> None:
    """A signature one octet short or long (RFC 8017 §8.2.2 step 1) is refused."""
    cred = _rsa_credential(-257)
    genuine = assertion(cred)
    sig = _signature(genuine)
    for bad in (sig[1:], b"\x00" + sig):
        with pytest.raises(InvalidSignatureError):
            _verify(assertion(cred, signature=bad), cred)


def test_signature_not_below_the_modulus_is_refused() -> None:
    """s = n, all-ones and all-zeros are out of range for RSAVP1 and refused."""
    cred = _rsa_credential(-257)
    n = cred.private.public_key().public_numbers().n
    for sig in (n.to_bytes(256, "big"), b"\xff" * 256, bytes(256)):
        with pytest.raises(InvalidSignatureError):
            _verify(assertion(cred, signature=sig), cred)


def _signature(response: dict[str, Any]) -> bytes:
    import base64

    text = response["response"]["signature"]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- EC public keys: a point off the curve is refused by cryptography on load ---

_CURVES = {-7: (ec.SECP256R1(), 32, 1), -35: (ec.SECP384R1(), 48, 2), -36: (ec.SECP521R1(), 66, 3)}
_PRIMES = {
    -7: 2**256 - 2**224 + 2**192 + 2**96 - 1,
    -35: 2**384 - 2**128 - 2**96 + 2**32 - 1,
    -36: 2**521 - 1,
}


def _ec_cose(alg: int, x: int, y: int) -> bytes:
    _, size, crv = _CURVES[alg]
    return cbor2.dumps(
        {1: 2, 3: alg, -1: crv, -2: x.to_bytes(size, "big"), -3: y.to_bytes(size, "big")}
    )


def _point(alg: int) -> tuple[int, int]:
    numbers = ec.generate_private_key(_CURVES[alg][0]).public_key().public_numbers()
    return numbers.x, numbers.y


@pytest.mark.parametrize("alg", sorted(_CURVES))
def test_negated_point_is_a_valid_key(alg: int) -> None:
    """(x, p - y) is on the curve: loaded, like the point itself."""
    x, y = _point(alg)
    assert parse_credential_public_key(_ec_cose(alg, x, _PRIMES[alg] - y)).alg == alg


@pytest.mark.parametrize("alg", sorted(_CURVES))
@pytest.mark.parametrize("change", ["y+1", "x+1", "zero", "x+p", "y=p"])
def test_points_off_the_curve_are_malformed(alg: int, change: str) -> None:
    """A nudged, degenerate or out-of-range point is a MalformedDataError."""
    x, y = _point(alg)
    p = _PRIMES[alg]
    size = _CURVES[alg][1]
    # x + p is congruent to a real x; where it does not fit the coordinate, x = p.
    p_fits = (x + p).bit_length() <= size * 8
    point = {
        "y+1": (x, y + 1 if y + 1 < p else y - 1),
        "x+1": (x + 1 if x + 1 < p else x - 1, y),
        "zero": (0, 0),
        "x+p": (x + p, y) if p_fits else (p, y),
        "y=p": (x, p),
    }[change]
    with pytest.raises(MalformedDataError) as info:
        parse_credential_public_key(_ec_cose(alg, *point))
    assert info.value.field == "credentialPublicKey"


def test_off_curve_point_in_a_registration_is_malformed() -> None:
    """verify_registration refuses a credential key whose point is off its curve."""
    cred = Credential.new(-7)
    x, y = _point(-7)
    bad_cose = _ec_cose(-7, x, y + 1)
    response = registration(cred, ad=auth_data(flags=0x41, cred_id=cred.cred_id, cose=bad_cose))
    with pytest.raises(MalformedDataError) as info:
        verify_registration(
            response, expected_challenge=CHALLENGE, expected_origins=ORIGIN, expected_rp_id=RP_ID
        )
    assert info.value.field == "credentialPublicKey"
