"""RSASSA-PKCS1-v1_5 verification (RS1/RS256/RS384/RS512), attacked.

mfakit verifies these signatures as RFC 8017 §8.2.2 describes: RSAVP1 through
``recover_data_from_signature`` (no hash), then a whole, constant-time
comparison of the recovered DigestInfo with its own encoding of the message.
These tests forge encoded messages with the private key (raw RSA, no padding
checks) and require every malformed one to be refused exactly where
``cryptography``'s own ``verify`` refuses it.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

import cbor2
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.errors import InvalidSignatureError
from mfakit.webauthn import parse_credential_public_key
from mfakit.webauthn._cose import _DIGEST_INFO

MESSAGE = b"authenticator data || SHA-256(clientDataJSON)"

# RFC 8017 §9.2, note 1: the DER DigestInfo prefixes.
PREFIX = {
    -65535: bytes.fromhex("3021300906052b0e03021a05000414"),
    -257: bytes.fromhex("3031300d060960864801650304020105000420"),
    -258: bytes.fromhex("3041300d060960864801650304020205000430"),
    -259: bytes.fromhex("3051300d060960864801650304020305000440"),
}
HASHES: dict[int, Callable[[], hashes.HashAlgorithm]] = {
    -65535: hashes.SHA1,
    -257: hashes.SHA256,
    -258: hashes.SHA384,
    -259: hashes.SHA512,
}
HASHLIB = {-65535: hashlib.sha1, -257: hashlib.sha256, -258: hashlib.sha384, -259: hashlib.sha512}


@functools.cache
def _key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, bits)


def _raw_sign(key: rsa.RSAPrivateKey, em: bytes) -> bytes:
    """s = EM^d mod n, with no padding of any kind: a forger with the key's help."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    size = (n.bit_length() + 7) // 8
    assert len(em) == size
    return pow(int.from_bytes(em, "big"), numbers.d, n).to_bytes(size, "big")


def _em(size: int, t: bytes, *, block: bytes = b"\x00\x01", fill: int = 0xFF) -> bytes:
    return block + bytes([fill]) * (size - len(block) - 1 - len(t)) + b"\x00" + t


def _ours(key: rsa.RSAPrivateKey, alg: int) -> Callable[[bytes, bytes], None]:
    numbers = key.public_key().public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    cose = cbor2.dumps(
        {1: 3, 3: alg, -1: numbers.n.to_bytes(size, "big"), -2: numbers.e.to_bytes(3, "big")}
    )
    return parse_credential_public_key(cose, allow_rs1=True).verify


def _accepted(verify: Callable[[bytes, bytes], None], sig: bytes, msg: bytes) -> bool:
    try:
        verify(sig, msg)
    except InvalidSignatureError:
        return False
    return True


def _cryptography_accepts(key: rsa.RSAPrivateKey, alg: int, sig: bytes, msg: bytes) -> bool:
    try:
        key.public_key().verify(sig, msg, padding.PKCS1v15(), HASHES[alg]())
    except InvalidSignature:
        return False
    return True


def test_prefixes_are_rfc_8017s() -> None:
    """The module's DigestInfo prefixes are the RFC's, byte for byte."""
    assert {alg: prefix for alg, (prefix, _) in _DIGEST_INFO.items()} == PREFIX


@pytest.mark.parametrize("alg", sorted(PREFIX))
@pytest.mark.parametrize("bits", [2048, 3072])
def test_genuine_signatures_verify(alg: int, bits: int) -> None:
    """Signatures made by cryptography verify; the same over another message do not."""
    key = _key(bits)
    sig = key.sign(MESSAGE, padding.PKCS1v15(), HASHES[alg]())
    verify = _ours(key, alg)
    assert _accepted(verify, sig, MESSAGE)
    assert not _accepted(verify, sig, MESSAGE + b"x")


def _forgeries(alg: int, size: int) -> dict[str, bytes]:
    digest = HASHLIB[alg](MESSAGE).digest()
    t = PREFIX[alg] + digest
    no_null = bytes([0x30, len(t) - 4, 0x30, PREFIX[alg][3] - 2]) + PREFIX[alg][4:-4]
    no_null += PREFIX[alg][-2:] + digest
    other_alg = -258 if alg != -258 else -257
    return {
        "genuine (control)": _em(size, t),
        "DigestInfo without the NULL parameters": _em(size, no_null),
        "another hash's OID": _em(size, PREFIX[other_alg][:-1] + bytes([len(digest)]) + digest),
        "garbage after the hash": _em(size, t + b"\x00garbage"),
        "garbage before the DigestInfo": _em(size, b"\x00\x00" + t),
        "a PS byte that is not 0xFF": _em(size, t, fill=0xFE),
        "block type 2": _em(size, t, block=b"\x00\x02"),
        "no leading zero": _em(size, t, block=b"\x01\x01"),
        "PS shorter than eight bytes": b"\x00\x01"
        + b"\xff" * 7
        + b"\x00"
        + b"\x00" * (size - 10 - len(t))
        + t,
        "truncated hash": _em(size, PREFIX[alg] + digest[:-1] + b"\x00"),
        "wrong hash": _em(size, PREFIX[alg] + bytes(len(digest))),
    }


@pytest.mark.parametrize("alg", sorted(PREFIX))
def test_forged_encodings_are_refused_as_cryptography_refuses_them(alg: int) -> None:
    """Every malformed encoded message is refused; only the genuine one passes, as in OpenSSL."""
    key = _key()
    verify = _ours(key, alg)
    size = key.key_size // 8
    outcomes = {}
    for name, em in _forgeries(alg, size).items():
        assert len(em) == size, name
        sig = _raw_sign(key, em)
        ours = _accepted(verify, sig, MESSAGE)
        assert ours == _cryptography_accepts(key, alg, sig, MESSAGE), name
        outcomes[name] = ours
    assert outcomes == {name: name == "genuine (control)" for name in outcomes}


def test_signature_must_be_exactly_k_octets() -> None:
    """RFC 8017 §8.2.2 step 1: a signature one octet short (or long) is refused."""
    key = _key()
    verify = _ours(key, -257)
    for attempt in range(5000):
        msg = MESSAGE + attempt.to_bytes(4, "big")
        sig = key.sign(msg, padding.PKCS1v15(), hashes.SHA256())
        if sig[0] == 0:
            break
    else:  # pragma: no cover - probability about 3e-9
        pytest.fail("no signature with a leading zero octet found")
    assert _accepted(verify, sig, msg)
    assert not _accepted(verify, sig[1:], msg)
    assert not _cryptography_accepts(key, -257, sig[1:], msg)
    assert not _accepted(verify, b"\x00" + sig, msg)


def test_signature_not_below_the_modulus_is_refused() -> None:
    """s >= n is out of range for RSAVP1; all-ones and n itself are refused."""
    key = _key()
    verify = _ours(key, -257)
    n = key.public_key().public_numbers().n
    size = key.key_size // 8
    for sig in (n.to_bytes(size, "big"), b"\xff" * size, bytes(size)):
        assert not _accepted(verify, sig, MESSAGE)
        assert not _cryptography_accepts(key, -257, sig, MESSAGE)


@settings(max_examples=200, deadline=None)
@given(position=st.integers(0, 255), flip=st.integers(1, 255), message_flip=st.booleans())
def test_mutated_signatures_agree_with_cryptography(
    position: int, flip: int, message_flip: bool
) -> None:
    """Any one-byte change to a signature (or the message) is refused by both."""
    key = _key()
    sig = bytearray(key.sign(MESSAGE, padding.PKCS1v15(), hashes.SHA256()))
    sig[position] ^= flip
    msg = MESSAGE + b"!" if message_flip else MESSAGE
    assert not _accepted(_ours(key, -257), bytes(sig), msg)
    assert not _cryptography_accepts(key, -257, bytes(sig), msg)


@pytest.mark.parametrize("bits", [2048, 3072, 4096])
@pytest.mark.parametrize("e", [3, 65537, 2**31 + 1, 2**63 + 1])
def test_rsa_subject_public_key_info_is_cryptographys(bits: int, e: int) -> None:
    """The SubjectPublicKeyInfo built for loading is the DER cryptography writes."""
    from cryptography.hazmat.primitives import serialization

    from mfakit.webauthn._cose import _rsa_spki

    n = _key(bits).public_key().public_numbers().n
    expected = (
        rsa.RSAPublicNumbers(e, n)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert _rsa_spki(n, e) == expected
