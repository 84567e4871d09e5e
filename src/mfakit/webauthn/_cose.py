"""COSE keys (RFC 9052/9053, RFC 8230, RFC 9864, draft ML-DSA for COSE) as WebAuthn uses them.

:func:`parse_credential_public_key` turns the ``credentialPublicKey`` bytes of
authenticator data (WebAuthn Level 3 §6.5.1.1) into a
:class:`CredentialPublicKey` holding the loaded ``cryptography`` key. The object
is immutable and cheap to keep: a server that caches it per credential skips
the CBOR decode and the key load on every login.

Every key is loaded by ``cryptography`` (which refuses an EC point that is not
on its curve) and every signature is checked by the key's own ``verify``.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
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
    "cached_credential_public_key",
    "parse_credential_public_key",
    "verifier_for_certificate_key",
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
    #: ECDSA with P-256 and SHA-256, fully specified (RFC 9864).
    ESP256 = -9
    #: ECDSA with P-384 and SHA-384, fully specified (RFC 9864).
    ESP384 = -51
    #: ECDSA with P-521 and SHA-512, fully specified (RFC 9864).
    ESP512 = -52
    EdDSA = -8
    #: EdDSA with Ed25519 only, fully specified (RFC 9864).
    Ed25519 = -19
    #: EdDSA with Ed448 only, fully specified (RFC 9864).
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


#: Algorithms accepted by default, in order of preference (for ``pubKeyCredParams``):
#: the three every authenticator knows first, then each fully specified
#: identifier next to the polymorphic one it pins down.
DEFAULT_ALGORITHMS: tuple[int, ...] = (
    COSEAlgorithm.EdDSA,
    COSEAlgorithm.ES256,
    COSEAlgorithm.RS256,
    COSEAlgorithm.Ed25519,
    COSEAlgorithm.ESP256,
    COSEAlgorithm.ES384,
    COSEAlgorithm.ESP384,
    COSEAlgorithm.ES512,
    COSEAlgorithm.ESP512,
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
_CRV_ED25519, _CRV_ED448 = 6, 7

# ECDSA: alg -> (COSE crv, curve, coordinate length, hash). WebAuthn binds the
# polymorphic ES* identifiers to one curve each (§5.8.5 and the COSE
# registrations it cites); RFC 9864 ("Fully Specified Algorithms for JOSE and
# COSE", 2025) gives ESP256/ESP384/ESP512 that same binding by definition:
# P-256 (crv 1) with SHA-256, P-384 (crv 2) with SHA-384, P-521 (crv 3) with SHA-512.
_P256 = (1, ec.SECP256R1(), 32, hashes.SHA256)
_P384 = (2, ec.SECP384R1(), 48, hashes.SHA384)
_P521 = (3, ec.SECP521R1(), 66, hashes.SHA512)
_EC_PARAMS: dict[int, tuple[int, ec.EllipticCurve, int, Callable[[], hashes.HashAlgorithm]]] = {
    COSEAlgorithm.ES256: _P256,
    COSEAlgorithm.ESP256: _P256,
    COSEAlgorithm.ES384: _P384,
    COSEAlgorithm.ESP384: _P384,
    COSEAlgorithm.ES512: _P521,
    COSEAlgorithm.ESP512: _P521,
}
# EdDSA: the OKP curves each identifier allows (RFC 9864: Ed25519 -> crv 6
# only, Ed448 -> crv 7 only; the polymorphic EdDSA takes either).
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


def _scheme(alg: int) -> tuple[Any, ...]:
    """The arguments ``verify`` takes after (signature, data) for ``alg``."""
    if alg in _EC_PARAMS:
        return (ec.ECDSA(_EC_PARAMS[alg][3]()),)
    if alg in _RSA_PKCS1:
        return (padding.PKCS1v15(), _RSA_PKCS1[alg]())
    if alg in _RSA_PSS:
        digest = _RSA_PSS[alg]()
        # RFC 8230 §2: MGF1 with the same hash, salt length = hash length.
        return (padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size), digest)
    return ()  # EdDSA and ML-DSA: the key alone decides


# The scheme objects of every algorithm, built once: they are immutable
# parameter holders, so every key can share them.
_SCHEMES: dict[int, tuple[Any, ...]] = {alg: _scheme(alg) for alg in COSEAlgorithm}

Verifier = Callable[[bytes, bytes], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialPublicKey:
    """A parsed credential public key, ready to verify signatures.

    Build it with :func:`parse_credential_public_key`; keep it per credential to
    skip the decode and key load on every login.

    Attributes:
        alg: The COSE algorithm the key is bound to (its ``alg`` parameter).
        cose: The COSE_Key bytes it was parsed from.
        key: The loaded ``cryptography`` public key.
    """

    alg: int
    cose: bytes = field(repr=False)
    key: Any = field(repr=False, compare=False)
    _scheme: tuple[Any, ...] = field(repr=False, compare=False)

    def verify(self, signature: bytes, data: bytes) -> None:
        """Verify ``signature`` over ``data`` with this key and its algorithm.

        Raises:
            InvalidSignatureError: The signature does not verify.
        """
        try:
            self.key.verify(signature, data, *self._scheme)
        except (InvalidSignature, ValueError, TypeError) as exc:
            raise InvalidSignatureError() from exc


def _bad(message: str) -> MalformedDataError:
    return MalformedDataError(message, field="credentialPublicKey")


def _bytes_param(cose: Mapping[Any, Any], label: int, name: str) -> bytes:
    value = cose.get(label)
    if type(value) is not bytes:
        raise _bad(f"COSE key parameter {name} missing or not bytes")
    return value


def _load_ec(cose: Mapping[Any, Any], kty: int, alg: int) -> Any:
    crv, curve, size, _ = _EC_PARAMS[alg]
    if kty != _KTY_EC2 or type(cose.get(-1)) is not int or cose[-1] != crv:
        raise _bad("COSE key type or curve does not match its algorithm")
    x = _bytes_param(cose, -2, "x")
    y = _bytes_param(cose, -3, "y")
    if len(x) != size or len(y) != size:
        raise _bad("EC coordinate of the wrong length")
    # OpenSSL refuses a point that is not on the curve (ValueError).
    return ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + x + y)


def _load_okp(cose: Mapping[Any, Any], kty: int, alg: int) -> Any:
    crv = cose.get(-1)
    if kty != _KTY_OKP or type(crv) is not int:
        raise _bad("COSE key type does not match its algorithm")
    if crv not in _OKP_CURVES[alg]:
        raise _bad("OKP curve does not match its algorithm")
    x = _bytes_param(cose, -2, "x")
    if crv == _CRV_ED25519:
        return ed25519.Ed25519PublicKey.from_public_bytes(x)
    return ed448.Ed448PublicKey.from_public_bytes(x)


def _load_rsa(cose: Mapping[Any, Any], kty: int) -> Any:
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
    if n % 2 == 0:  # cryptography loads an even modulus; no RSA key has one
        raise _bad("invalid RSA modulus")
    return rsa.RSAPublicNumbers(e, n).public_key()


def _load_mldsa(cose: Mapping[Any, Any], kty: int, alg: int) -> Any:
    if alg not in _MLDSA_CLASSES:  # pragma: no cover - depends on cryptography
        raise UnsupportedAlgorithmError("ML-DSA is not available", alg=alg)
    if kty != _KTY_AKP:
        raise _bad("COSE key type does not match its algorithm")
    return _MLDSA_CLASSES[alg].from_public_bytes(_bytes_param(cose, -1, "pub"))


def load_public_key(cose: Mapping[Any, Any], alg: int) -> Any:
    """Load the ``cryptography`` key of a decoded COSE_Key whose ``alg`` is ``alg``.

    The key type and curve must agree with ``alg``; ``cryptography`` refuses
    an EC point that is not on its curve, which becomes a
    :class:`MalformedDataError` here.

    Raises:
        MalformedDataError: Parameters missing, of the wrong type, disagreeing
            with ``alg``, private, or refused by ``cryptography``.
        UnsupportedAlgorithmError: ``alg`` is unknown or unavailable.
    """
    kty = cose.get(1)
    if type(kty) is not int:
        raise _bad("COSE key type missing")
    for label in _PRIVATE_LABELS.get(kty, ()):
        if label in cose:
            raise _bad("COSE key carries private key material")
    try:
        if alg in _EC_PARAMS:
            return _load_ec(cose, kty, alg)
        if alg in _OKP_CURVES:
            return _load_okp(cose, kty, alg)
        if alg in _RSA_PKCS1 or alg in _RSA_PSS:
            return _load_rsa(cose, kty)
        if alg in (COSEAlgorithm.ML_DSA_44, COSEAlgorithm.ML_DSA_65, COSEAlgorithm.ML_DSA_87):
            return _load_mldsa(cose, kty, alg)
    except UnsupportedAlgorithm as exc:  # pragma: no cover - depends on the backend
        raise UnsupportedAlgorithmError("algorithm not available", alg=alg) from exc
    except ValueError as exc:
        if isinstance(exc, MalformedDataError):
            raise
        raise _bad("invalid public key") from exc
    raise UnsupportedAlgorithmError(alg=alg)


def credential_public_key_from_map(
    cose: Mapping[Any, Any], cose_bytes: bytes, *, allow_rs1: bool
) -> CredentialPublicKey:
    """The key of an already decoded COSE_Key (authenticator data decodes it once).

    Raises:
        MalformedDataError: As :func:`load_public_key`; also a missing ``alg``.
        UnsupportedAlgorithmError: An unknown algorithm, or RS1 without opt-in.
    """
    alg = cose.get(3)
    if type(alg) is not int:
        raise _bad("COSE key algorithm missing")
    if alg == COSEAlgorithm.RS1 and not allow_rs1:
        raise UnsupportedAlgorithmError("RS1 (SHA-1) is not allowed", alg=alg)
    key = load_public_key(cose, alg)
    return CredentialPublicKey(alg=alg, cose=cose_bytes, key=key, _scheme=_SCHEMES[alg])


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
    if not isinstance(cose_key, bytes | bytearray | memoryview):
        raise _bad("COSE key must be bytes")
    cose_key = bytes(cose_key)
    if len(cose_key) > MAX_COSE_KEY_BYTES:
        raise _bad("COSE key too large")
    decoded = decode_single(cose_key, field="credentialPublicKey")
    if type(decoded) is not dict:
        raise _bad("COSE key must be a CBOR map")
    return credential_public_key_from_map(decoded, cose_key, allow_rs1=allow_rs1)


def verifier_for_certificate_key(key: Any, alg: int) -> Verifier:
    """A verifier for an attestation certificate's key used under COSE ``alg``.

    Raises:
        MalformedDataError: The key's type or curve does not fit ``alg``.
        UnsupportedAlgorithmError: ``alg`` is unknown.
    """
    if alg in _EC_PARAMS:
        ok = isinstance(key, ec.EllipticCurvePublicKey) and (
            key.curve.name == _EC_PARAMS[alg][1].name
        )
    elif alg in _RSA_PKCS1 or alg in _RSA_PSS:
        ok = isinstance(key, rsa.RSAPublicKey)
    elif alg in _OKP_CURVES:
        ok = (_CRV_ED25519 in _OKP_CURVES[alg] and isinstance(key, ed25519.Ed25519PublicKey)) or (
            _CRV_ED448 in _OKP_CURVES[alg] and isinstance(key, ed448.Ed448PublicKey)
        )
    elif alg in _MLDSA_CLASSES:
        ok = isinstance(key, _MLDSA_CLASSES[alg])
    else:
        raise UnsupportedAlgorithmError(alg=alg)
    if not ok:
        raise _bad("certificate key does not match the statement's algorithm")
    # The same verify as a credential key's: the certificate's key under alg.
    return CredentialPublicKey(alg=alg, cose=b"", key=key, _scheme=_SCHEMES[alg]).verify


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
