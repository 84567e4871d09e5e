"""COSE keys (RFC 9052/9053, RFC 8230, draft ML-DSA for COSE) as WebAuthn uses them.

:func:`parse_credential_public_key` turns the ``credentialPublicKey`` bytes of
authenticator data (WebAuthn Level 3 §6.5.1.1) into a
:class:`CredentialPublicKey` holding the loaded ``cryptography`` key. The object
is immutable and cheap to keep: a server that caches it per credential skips
the CBOR decode and the key load on every login.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

from mfakit.errors import InvalidSignatureError, MalformedDataError, UnsupportedAlgorithmError

from ._cbor import decode_single

try:  # ML-DSA arrived in cryptography 47 and needs a backend that has it.
    from cryptography.hazmat.primitives.asymmetric import mldsa as _mldsa
except ImportError:  # pragma: no cover - depends on the installed cryptography
    _mldsa = None  # type: ignore[assignment]

__all__ = [
    "DEFAULT_ALGORITHMS",
    "MAX_COSE_KEY_BYTES",
    "COSEAlgorithm",
    "CredentialPublicKey",
    "parse_credential_public_key",
]

#: Largest COSE key accepted, in bytes (an ML-DSA-87 key is about 2.6 kB).
MAX_COSE_KEY_BYTES = 4096
#: Smallest RSA modulus accepted, in bits.
MIN_RSA_BITS = 2048
#: Largest RSA modulus accepted, in bits.
MAX_RSA_BITS = 8192
#: Parsed keys remembered by :func:`cached_credential_public_key` (least recently used go).
KEY_CACHE_SIZE = 256


class COSEAlgorithm(enum.IntEnum):
    """COSE algorithm identifiers (IANA "COSE Algorithms" registry) WebAuthn uses."""

    ES256 = -7
    ES384 = -35
    ES512 = -36
    EdDSA = -8
    Ed25519 = -19
    Ed448 = -53
    PS256 = -37
    PS384 = -38
    PS512 = -39
    RS256 = -257
    RS384 = -258
    RS512 = -259
    #: RSASSA-PKCS1-v1_5 with SHA-1: weak, accepted only when the caller opts in.
    RS1 = -65535
    ML_DSA_44 = -48
    ML_DSA_65 = -49
    ML_DSA_87 = -50


#: Algorithms accepted by default, in order of preference (for ``pubKeyCredParams``).
DEFAULT_ALGORITHMS: tuple[int, ...] = (
    COSEAlgorithm.EdDSA,
    COSEAlgorithm.ES256,
    COSEAlgorithm.RS256,
    COSEAlgorithm.Ed25519,
    COSEAlgorithm.ES384,
    COSEAlgorithm.ES512,
    COSEAlgorithm.Ed448,
    COSEAlgorithm.PS256,
    COSEAlgorithm.PS384,
    COSEAlgorithm.PS512,
    COSEAlgorithm.RS384,
    COSEAlgorithm.RS512,
    COSEAlgorithm.ML_DSA_44,
    COSEAlgorithm.ML_DSA_65,
    COSEAlgorithm.ML_DSA_87,
)

# COSE key types and parameter labels (RFC 9053 §7, RFC 8230 §4, AKP draft).
_KTY_OKP, _KTY_EC2, _KTY_RSA, _KTY_AKP = 1, 2, 3, 7
_EC_CURVES: dict[int, tuple[int, ec.EllipticCurve, int]] = {
    # alg: (crv, curve, coordinate length)
    COSEAlgorithm.ES256: (1, ec.SECP256R1(), 32),
    COSEAlgorithm.ES384: (2, ec.SECP384R1(), 48),
    COSEAlgorithm.ES512: (3, ec.SECP521R1(), 66),
}
# DER SubjectPublicKeyInfo up to the uncompressed point's 0x04 (RFC 5480): the
# algorithm id-ecPublicKey with the named curve, then the BIT STRING header.
# Loading SPKI DER costs half of from_encoded_point and checks the point is on
# the curve just the same (OpenSSL refuses an off-curve point when decoding).
_EC_SPKI_PREFIX: dict[int, bytes] = {
    COSEAlgorithm.ES256: bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d03010703420004"),
    COSEAlgorithm.ES384: bytes.fromhex("3076301006072a8648ce3d020106052b8104002203620004"),
    COSEAlgorithm.ES512: bytes.fromhex("30819b301006072a8648ce3d020106052b810400230381860004"),
}
_ES256 = int(COSEAlgorithm.ES256)
_EDDSA = int(COSEAlgorithm.EdDSA)
_RS1 = int(COSEAlgorithm.RS1)
_ES256_SPKI_PREFIX = _EC_SPKI_PREFIX[COSEAlgorithm.ES256]
_CRV_ED25519, _CRV_ED448 = 6, 7
# The OKP curves each EdDSA algorithm allows.
_OKP_CURVES: dict[int, tuple[int, ...]] = {
    COSEAlgorithm.EdDSA: (_CRV_ED25519, _CRV_ED448),
    COSEAlgorithm.Ed25519: (_CRV_ED25519,),
    COSEAlgorithm.Ed448: (_CRV_ED448,),
}
_RSA_PSS: dict[int, Callable[[], hashes.HashAlgorithm]] = {
    COSEAlgorithm.PS256: hashes.SHA256,
    COSEAlgorithm.PS384: hashes.SHA384,
    COSEAlgorithm.PS512: hashes.SHA512,
}
_RSA_PKCS1: dict[int, Callable[[], hashes.HashAlgorithm]] = {
    COSEAlgorithm.RS256: hashes.SHA256,
    COSEAlgorithm.RS384: hashes.SHA384,
    COSEAlgorithm.RS512: hashes.SHA512,
    COSEAlgorithm.RS1: hashes.SHA1,
}
_ECDSA_HASH: dict[int, Callable[[], hashes.HashAlgorithm]] = {
    COSEAlgorithm.ES256: hashes.SHA256,
    COSEAlgorithm.ES384: hashes.SHA384,
    COSEAlgorithm.ES512: hashes.SHA512,
}
# Private-key labels: a credential public key that carries them is refused.
_PRIVATE_LABELS = {
    _KTY_OKP: (-4,),
    _KTY_EC2: (-4,),
    _KTY_RSA: tuple(range(-12, -2)),
    _KTY_AKP: (-2,),
}

_MLDSA_CLASSES: dict[int, Any] = {}
if _mldsa is not None:  # pragma: no branch
    _MLDSA_CLASSES = {
        COSEAlgorithm.ML_DSA_44: _mldsa.MLDSA44PublicKey,
        COSEAlgorithm.ML_DSA_65: _mldsa.MLDSA65PublicKey,
        COSEAlgorithm.ML_DSA_87: _mldsa.MLDSA87PublicKey,
    }

Verifier = Callable[[bytes, bytes], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialPublicKey:
    """A parsed credential public key, ready to verify signatures.

    Build it with :func:`parse_credential_public_key`; keep it per credential to
    skip the decode and key load on every login.

    Attributes:
        alg: The COSE algorithm the key is bound to (its ``alg`` parameter).
        cose: The COSE_Key bytes it was parsed from.
    """

    alg: int
    cose: bytes = field(repr=False)
    _key: Any = field(repr=False, compare=False)
    _verify: Verifier = field(repr=False, compare=False)

    @property
    def key(self) -> Any:
        """The loaded ``cryptography`` public key.

        A key that came with a verified registration may be loaded here, on
        first use: it was fully validated then (an EC point on its curve), so
        loading it cannot fail.
        """
        key = self._key
        if type(key) is _Deferred:
            key = key.load()
        return key

    def verify(self, signature: bytes, data: bytes) -> None:
        """Verify ``signature`` over ``data`` with this key and its algorithm.

        Raises:
            InvalidSignatureError: The signature does not verify.
        """
        self._verify(signature, data)


class _Deferred:
    """The ``cryptography`` key of a validated EC point, loaded on first use.

    Loading an EC key costs OpenSSL's SubjectPublicKeyInfo decoder, which
    re-checks the point; a registration has already checked it (see
    :func:`ec_point_on_curve`) and often never verifies with the key, so the
    load waits for the first signature or ``.key``. Loading replaces both the
    placeholder key and the first-use verifier on the owner; two threads doing
    it at once each load the same key, which is harmless.
    """

    __slots__ = ("_alg", "_der", "_loaded", "_owner")

    def __init__(self, alg: int, der: bytes) -> None:
        self._alg = alg
        self._der = der
        self._owner: CredentialPublicKey | None = None
        self._loaded: Any = None

    def load(self) -> Any:
        # A copy of the owner made before first use shares this placeholder:
        # it gets the key loaded once, not a load per call.
        key = self._loaded
        if key is not None:
            return key
        key = self._loaded = serialization.load_der_public_key(self._der)
        owner = self._owner
        if owner is not None:  # pragma: no branch - always bound by _from_decoded
            object.__setattr__(owner, "_key", key)
            object.__setattr__(owner, "_verify", _make_verifier(key, self._alg))
        return key

    def first_verify(self, signature: bytes, data: bytes) -> None:
        self.load()
        verify: Verifier = self._owner._verify  # type: ignore[union-attr]
        verify(signature, data)


# CTAP2 canonical encodings of the commonest credential keys (RFC 9053 §7,
# RFC 8230 §4): ES256 on P-256, EdDSA on Ed25519 and RS256 with a 2048-bit
# modulus and e = 65537. The bytes before the first parameter, the lengths.
_COSE_ES256 = bytes.fromhex("a5010203262001215820")  # then x, 22 58 20, y
_COSE_ES256_Y = bytes.fromhex("225820")
_COSE_EDDSA = bytes.fromhex("a4010103272006215820")  # then x
_COSE_RS256 = bytes.fromhex("a401030339010020590100")  # then n, 21 43 010001
_COSE_RS256_E = bytes.fromhex("2143010001")


def known_cose_key(raw: bytes, start: int) -> tuple[dict[int, Any], int] | None:
    """Read a COSE_Key in one of the canonical forms above at ``start``.

    Returns:
        The map and the offset after it, exactly as the strict decoder would
        give them, or ``None`` for any other encoding (then decode it).
    """
    if raw.startswith(_COSE_ES256, start):
        end = start + 77
        if end <= len(raw) and raw.startswith(_COSE_ES256_Y, start + 42):
            return {
                1: 2,
                3: -7,
                -1: 1,
                -2: raw[start + 10 : start + 42],
                -3: raw[start + 45 : end],
            }, end
    elif raw.startswith(_COSE_EDDSA, start):
        end = start + 42
        if end <= len(raw):
            return {1: 1, 3: -8, -1: 6, -2: raw[start + 10 : end]}, end
    elif raw.startswith(_COSE_RS256, start):
        end = start + 272
        if end <= len(raw) and raw.startswith(_COSE_RS256_E, start + 267):
            return {1: 3, 3: -257, -1: raw[start + 11 : start + 267], -2: b"\x01\x00\x01"}, end
    return None


def _bad(message: str) -> MalformedDataError:
    return MalformedDataError(message, field="credentialPublicKey")


def _bytes_param(cose: dict[Any, Any], label: int, name: str) -> bytes:
    value = cose.get(label)
    if type(value) is not bytes:
        raise _bad(f"COSE key parameter {name} missing or not bytes")
    return value


# The signature scheme objects, built once: they are immutable parameter
# holders, so every key can share them (building them costs more than a
# verification's Python overhead).
_ECDSA_SCHEME = {alg: ec.ECDSA(make()) for alg, make in _ECDSA_HASH.items()}
_PKCS1V15 = padding.PKCS1v15()

# RSASSA-PKCS1-v1_5 (RFC 8017 §8.2.2) is verified as the RFC describes it:
# RSAVP1 (cryptography's recover_data_from_signature with no hash, which also
# checks the 0x00 0x01 FF..FF 0x00 block), then the recovered T compared, in
# constant time and whole, with EMSA-PKCS1-v1_5's own encoding of the message:
# the DER DigestInfo prefix below followed by the hash (RFC 8017 §9.2, note 1).
# Comparing the whole encoding, never parsing it, leaves no room for the
# garbage-after-the-hash forgeries of lax ASN.1 parsers. This skips the hash
# setup inside cryptography's verify(), which costs more than hashlib's.
_DIGEST_INFO: dict[int, tuple[bytes, Callable[[bytes], Any]]] = {
    COSEAlgorithm.RS1: (bytes.fromhex("3021300906052b0e03021a05000414"), hashlib.sha1),
    COSEAlgorithm.RS256: (
        bytes.fromhex("3031300d060960864801650304020105000420"),
        hashlib.sha256,
    ),
    COSEAlgorithm.RS384: (
        bytes.fromhex("3041300d060960864801650304020205000430"),
        hashlib.sha384,
    ),
    COSEAlgorithm.RS512: (
        bytes.fromhex("3051300d060960864801650304020305000440"),
        hashlib.sha512,
    ),
}


def _make_verifier(key: Any, alg: int) -> Verifier:
    """A closure verifying with ``key`` under ``alg``; every failure is InvalidSignatureError."""
    scheme = _ECDSA_SCHEME.get(alg)
    if scheme is not None:
        verify_ec = key.verify

        def verify(signature: bytes, data: bytes) -> None:
            try:
                verify_ec(signature, data, scheme)
            except (InvalidSignature, ValueError, TypeError) as exc:
                raise InvalidSignatureError() from exc

    elif alg in _RSA_PKCS1:
        prefix, digest = _DIGEST_INFO[alg]
        recover = key.recover_data_from_signature
        size = (key.key_size + 7) // 8
        compare = hmac.compare_digest

        def verify(signature: bytes, data: bytes) -> None:
            # RFC 8017 §8.2.2 step 1: the signature is exactly k octets.
            if len(signature) != size:
                raise InvalidSignatureError()
            try:
                recovered = recover(signature, _PKCS1V15, None)
            except (InvalidSignature, ValueError, TypeError) as exc:
                raise InvalidSignatureError() from exc
            if not compare(recovered, prefix + digest(data).digest()):
                raise InvalidSignatureError()

    elif alg in _RSA_PSS:
        pss_digest = _RSA_PSS[alg]()
        # RFC 8230 §2: MGF1 with the same hash, salt length = hash length.
        pss = padding.PSS(mgf=padding.MGF1(pss_digest), salt_length=pss_digest.digest_size)
        verify_pss = key.verify

        def verify(signature: bytes, data: bytes) -> None:
            try:
                verify_pss(signature, data, pss, pss_digest)
            except (InvalidSignature, ValueError, TypeError) as exc:
                raise InvalidSignatureError() from exc

    else:  # EdDSA and ML-DSA: the key alone decides, no parameters
        verify_plain = key.verify

        def verify(signature: bytes, data: bytes) -> None:
            try:
                verify_plain(signature, data)
            except (InvalidSignature, ValueError, TypeError) as exc:
                raise InvalidSignatureError() from exc

    return verify


def _der(tag: int, body: bytes) -> bytes:
    """One DER TLV (X.690 §8.1: short or long definite length)."""
    n = len(body)
    if n < 0x80:
        return bytes((tag, n)) + body
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + body


def _der_uint(value: int) -> bytes:
    """A DER INTEGER of a positive value (minimal, with a zero octet before a set top bit)."""
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


# AlgorithmIdentifier rsaEncryption with NULL parameters (RFC 3279 §2.3.1).
_RSA_ALGORITHM_ID = bytes.fromhex("300d06092a864886f70d0101010500")


def _rsa_spki(n: int, e: int) -> bytes:
    """The SubjectPublicKeyInfo of an RSA public key (RFC 3279 §2.3.1).

    Loading it costs a few microseconds less than RSAPublicNumbers.public_key(),
    and the key it gives verifies its first signature about 18 microseconds
    sooner (measured with cryptography 50 and OpenSSL 4).
    """
    rsa_key = _der(0x30, _der_uint(n) + _der_uint(e))
    return _der(0x30, _RSA_ALGORITHM_ID + _der(0x03, b"\x00" + rsa_key))


# The NIST prime curves as y^2 = x^3 - 3x + b over GF(p) (SEC 2 v2 §2.4.2,
# §2.5.1, §2.6.1; FIPS 186-5 / SP 800-186 §3.2.1): (p, b) by algorithm. Each
# has cofactor 1, so a point on the curve is in the group of prime order.
_EC_EQUATION: dict[int, tuple[int, int]] = {
    COSEAlgorithm.ES256: (
        2**256 - 2**224 + 2**192 + 2**96 - 1,
        0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
    ),
    COSEAlgorithm.ES384: (
        2**384 - 2**128 - 2**96 + 2**32 - 1,
        int(
            "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f"
            "5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
            16,
        ),
    ),
    COSEAlgorithm.ES512: (
        2**521 - 1,
        int(
            "0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b4"
            "89918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c"
            "34f1ef451fd46b503f00",
            16,
        ),
    ),
}


def ec_point_on_curve(alg: int, x: bytes, y: bytes) -> bool:
    """Whether (x, y) is a point of the curve of EC ``alg``.

    The SP 800-56A full public key validation for a curve of cofactor 1: both
    coordinates below p (the point at infinity has no affine form) and the
    curve equation holds.
    """
    p, b = _EC_EQUATION[alg]
    xi = int.from_bytes(x, "big")
    yi = int.from_bytes(y, "big")
    return xi < p and yi < p and (yi * yi - xi * (xi * xi - 3) - b) % p == 0


def load_public_key(cose: dict[Any, Any], alg: int, *, defer_ec: bool = False) -> Any:
    """Load the ``cryptography`` key of a decoded COSE_Key whose ``alg`` is ``alg``.

    The key type and curve must agree with ``alg``; EC points must lie on the
    curve (OpenSSL checks it when the SubjectPublicKeyInfo is decoded). With
    ``defer_ec``, an EC point is checked here, in Python, and a
    :class:`_Deferred` loader is returned instead of the key.
    """
    kty = cose.get(1)
    if type(kty) is not int:
        raise _bad("COSE key type missing")
    for label in _PRIVATE_LABELS.get(kty, ()):
        if label in cose:
            raise _bad("COSE key carries private key material")
    try:
        ec_params = _EC_CURVES.get(alg)
        if ec_params is not None:
            ec_crv, _, size = ec_params
            crv = cose.get(-1)
            if kty != _KTY_EC2 or crv != ec_crv or type(crv) is not int:
                raise _bad("COSE key type or curve does not match its algorithm")
            x = _bytes_param(cose, -2, "x")
            y = _bytes_param(cose, -3, "y")
            if len(x) != size or len(y) != size:
                raise _bad("EC coordinate of the wrong length")
            if defer_ec:
                if not ec_point_on_curve(alg, x, y):
                    raise _bad("invalid public key")
                return _Deferred(alg, _EC_SPKI_PREFIX[alg] + x + y)
            return serialization.load_der_public_key(_EC_SPKI_PREFIX[alg] + x + y)
        wanted = _OKP_CURVES.get(alg)
        if wanted is not None:
            crv = cose.get(-1)
            if kty != _KTY_OKP or type(crv) is not int:
                raise _bad("COSE key type does not match its algorithm")
            if crv not in wanted:
                raise _bad("OKP curve does not match its algorithm")
            x = _bytes_param(cose, -2, "x")
            if crv == _CRV_ED25519:
                return ed25519.Ed25519PublicKey.from_public_bytes(x)
            return ed448.Ed448PublicKey.from_public_bytes(x)
        if alg in _RSA_PKCS1 or alg in _RSA_PSS:
            if kty != _KTY_RSA:
                raise _bad("COSE key type does not match its algorithm")
            n_bytes = _bytes_param(cose, -1, "n")
            e_bytes = _bytes_param(cose, -2, "e")
            n = int.from_bytes(n_bytes, "big")
            e = int.from_bytes(e_bytes, "big")
            if not MIN_RSA_BITS <= n.bit_length() <= MAX_RSA_BITS:
                raise _bad("RSA modulus size out of range")
            if e < 3 or e % 2 == 0 or len(e_bytes) > 8:
                raise _bad("invalid RSA public exponent")
            if n % 2 == 0:
                raise _bad("invalid RSA modulus")
            return serialization.load_der_public_key(_rsa_spki(n, e))
        if alg in (COSEAlgorithm.ML_DSA_44, COSEAlgorithm.ML_DSA_65, COSEAlgorithm.ML_DSA_87):
            if alg not in _MLDSA_CLASSES:  # pragma: no cover - depends on cryptography
                raise UnsupportedAlgorithmError("ML-DSA is not available", alg=alg)
            if kty != _KTY_AKP:
                raise _bad("COSE key type does not match its algorithm")
            return _MLDSA_CLASSES[alg].from_public_bytes(_bytes_param(cose, -1, "pub"))
    except UnsupportedAlgorithm as exc:  # pragma: no cover - depends on the backend
        raise UnsupportedAlgorithmError("algorithm not available", alg=alg) from exc
    except ValueError as exc:
        if isinstance(exc, MalformedDataError):
            raise
        raise _bad("invalid public key") from exc
    raise UnsupportedAlgorithmError(alg=alg)


def parse_credential_public_key(cose_key: bytes, *, allow_rs1: bool = False) -> CredentialPublicKey:
    """Parse and load a COSE_Key (WebAuthn Level 3 §6.5.1.1 ``credentialPublicKey``).

    Args:
        cose_key: The CBOR-encoded COSE_Key, for example a stored
            :attr:`VerifiedRegistration.public_key`.
        allow_rs1: Accept RSASSA-PKCS1-v1_5 with SHA-1 (``-65535``), which
            WebAuthn allows for old TPMs. Off by default: SHA-1 is broken.

    Returns:
        The key, bound to its algorithm.

    Raises:
        MalformedDataError: Not exactly one CBOR map, larger than
            :data:`MAX_COSE_KEY_BYTES`, parameters that disagree with the
            algorithm, or a point not on its curve.
        UnsupportedAlgorithmError: An unknown algorithm, or RS1 without opt-in.

    Example::

        key = parse_credential_public_key(stored.public_key)
        cache[stored.credential_id] = key
    """
    if type(cose_key) is not bytes:
        if not isinstance(cose_key, bytes | bytearray | memoryview):
            raise _bad("COSE key must be bytes")
        cose_key = bytes(cose_key)
    if len(cose_key) > MAX_COSE_KEY_BYTES:
        raise _bad("COSE key too large")
    known = known_cose_key(cose_key, 0)
    if known is not None and known[1] == len(cose_key):
        cose, _ = known
        alg = cose[3]
        if alg not in (_ES256, _EDDSA):
            return _from_decoded(cose, cose_key, allow_rs1=allow_rs1)
        # The template fixed the key type, curve and sizes; only the point
        # itself is left for OpenSSL to check (EC) or nothing (Ed25519).
        try:
            key = (
                serialization.load_der_public_key(_ES256_SPKI_PREFIX + cose[-2] + cose[-3])
                if alg == _ES256
                else ed25519.Ed25519PublicKey.from_public_bytes(cose[-2])
            )
        except ValueError as exc:
            raise _bad("invalid public key") from exc
        return _new_credential_public_key(alg, cose_key, key, _make_verifier(key, alg))
    decoded = decode_single(cose_key, field="credentialPublicKey")
    return _from_decoded(decoded, cose_key, allow_rs1=allow_rs1)


def _from_decoded(
    decoded: Any, cose_key: bytes, *, allow_rs1: bool, defer_ec: bool = False
) -> CredentialPublicKey:
    """The key of a decoded COSE_Key; ``defer_ec`` validates an EC point now, loads it later."""
    if type(decoded) is not dict:
        raise _bad("COSE key must be a CBOR map")
    alg = decoded.get(3)
    if type(alg) is not int:
        raise _bad("COSE key algorithm missing")
    if alg == _RS1 and not allow_rs1:
        raise UnsupportedAlgorithmError("RS1 (SHA-1) is not allowed", alg=alg)
    key = load_public_key(decoded, alg, defer_ec=defer_ec)
    if type(key) is _Deferred:
        owner = _new_credential_public_key(alg, cose_key, key, key.first_verify)
        key._owner = owner
        return owner
    return _new_credential_public_key(alg, cose_key, key, _make_verifier(key, alg))


def verifier_for_certificate_key(key: Any, alg: int) -> Verifier:
    """A verifier for an attestation certificate's key used under COSE ``alg``.

    Raises:
        MalformedDataError: The key's type or curve does not fit ``alg``.
        UnsupportedAlgorithmError: ``alg`` is unknown.
    """
    if alg in _EC_CURVES:
        ok = isinstance(key, ec.EllipticCurvePublicKey) and (
            key.curve.name == _EC_CURVES[alg][1].name
        )
    elif alg in _RSA_PKCS1 or alg in _RSA_PSS:
        ok = isinstance(key, rsa.RSAPublicKey)
    elif alg in (COSEAlgorithm.EdDSA, COSEAlgorithm.Ed25519):
        ok = isinstance(key, ed25519.Ed25519PublicKey) or (
            alg == COSEAlgorithm.EdDSA and isinstance(key, ed448.Ed448PublicKey)
        )
    elif alg == COSEAlgorithm.Ed448:
        ok = isinstance(key, ed448.Ed448PublicKey)
    elif alg in _MLDSA_CLASSES:
        ok = isinstance(key, _MLDSA_CLASSES[alg])
    else:
        raise UnsupportedAlgorithmError(alg=alg)
    if not ok:
        raise _bad("certificate key does not match the statement's algorithm")
    return _make_verifier(key, alg)


@functools.lru_cache(maxsize=KEY_CACHE_SIZE)
def cached_credential_public_key(cose_key: bytes) -> CredentialPublicKey:
    """:func:`parse_credential_public_key` (RS1 refused), remembering recent results.

    ``verify_authentication`` uses it when it is given COSE bytes, so a
    returning user's key is not decoded and loaded again on every login. The
    cache is keyed by the exact key bytes and holds at most
    :data:`KEY_CACHE_SIZE` keys of at most :data:`MAX_COSE_KEY_BYTES` each
    (about 1 MiB at worst). What it stores is public: the key bytes and the
    loaded public key. A key that fails to parse is never stored (the error is
    raised again on the next call), and the stored object is immutable.

    Raises:
        MalformedDataError: As :func:`parse_credential_public_key`.
        UnsupportedAlgorithmError: As :func:`parse_credential_public_key`.
    """
    return parse_credential_public_key(cose_key)


# Fast construction of the frozen dataclass: see the note in _structures.py.


class _BuildCredentialPublicKey:
    """Builds a :class:`CredentialPublicKey` without its frozen ``__init__``."""

    __slots__ = CredentialPublicKey.__slots__

    def __init__(
        self,
        alg: int,
        cose: bytes,
        _key: Any,
        _verify: Verifier,
    ) -> None:
        self.alg = alg
        self.cose = cose
        self._key = _key
        self._verify = _verify
        self.__class__ = CredentialPublicKey  # type: ignore[assignment]


_new_credential_public_key: Callable[..., CredentialPublicKey] = _BuildCredentialPublicKey  # type: ignore[assignment]
