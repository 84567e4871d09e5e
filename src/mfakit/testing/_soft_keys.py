"""Credential key pairs for the software authenticator: generation, COSE encoding, signing.

Independent of :mod:`mfakit.webauthn` on purpose: the software authenticator is a
second implementation that cross-checks the verifier, so it shares no code with it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Final, TypeAlias

import cbor2
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from mfakit.errors import ConfigurationError

try:  # ML-DSA arrived in cryptography 47 and needs an OpenSSL that has it.
    from cryptography.hazmat.primitives.asymmetric import mldsa

    mldsa.MLDSA44PrivateKey.generate()
    MLDSA_AVAILABLE = True
except (ImportError, UnsupportedAlgorithm):  # pragma: no cover - depends on the installed wheel
    MLDSA_AVAILABLE = False

__all__ = [
    "MLDSA_AVAILABLE",
    "SUPPORTED_ALGORITHMS",
    "KeyPair",
    "derive_bytes",
    "generate_key_pair",
]

#: COSE algorithm identifiers (IANA "COSE Algorithms" registry).
ES256: Final = -7
ES384: Final = -35
ES512: Final = -36
RS256: Final = -257
PS256: Final = -37
EDDSA: Final = -8
ML_DSA_44: Final = -48

_EC_CURVES: Final[dict[int, tuple[ec.EllipticCurve, int, int, hashes.HashAlgorithm]]] = {
    # alg: (curve, COSE crv, coordinate length in bytes, hash)  -- RFC 9053 §2.1, §7.1
    ES256: (ec.SECP256R1(), 1, 32, hashes.SHA256()),
    ES384: (ec.SECP384R1(), 2, 48, hashes.SHA384()),
    ES512: (ec.SECP521R1(), 3, 66, hashes.SHA512()),
}

#: The COSE algorithms the software authenticator can create credentials for.
SUPPORTED_ALGORITHMS: Final[tuple[int, ...]] = (
    ES256,
    ES384,
    ES512,
    RS256,
    PS256,
    EDDSA,
    *((ML_DSA_44,) if MLDSA_AVAILABLE else ()),
)

_PrivateKey: TypeAlias = (
    "ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey"
    " | mldsa.MLDSA44PrivateKey"
)


def derive_bytes(seed: bytes, label: str, length: int) -> bytes:
    """Expand ``seed`` into ``length`` pseudo-random bytes bound to ``label``.

    HMAC-SHA-256 in counter mode (the expand step of RFC 5869), so every label
    gives an independent stream and the same seed always gives the same bytes.
    """
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.new(seed, block + label.encode() + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyPair:
    """A credential key pair: the COSE public key and a signer for the private key.

    The private key is kept out of ``repr`` so a logged credential leaks nothing.
    """

    algorithm: int
    cose_key: bytes
    private_key: _PrivateKey = field(repr=False)

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` the way WebAuthn verifies this algorithm (§6.5.6).

        ECDSA signatures are ASN.1 DER (WebAuthn §6.5.6); RSA uses PKCS#1 v1.5 or PSS
        with a salt as long as the hash (RFC 8230 §2); EdDSA and ML-DSA are raw.
        """
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(message, ec.ECDSA(_EC_CURVES[self.algorithm][3]))
        if isinstance(key, rsa.RSAPrivateKey):
            if self.algorithm == PS256:
                pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
                return key.sign(message, pss, hashes.SHA256())
            return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return key.sign(message)

    def public_key_der(self) -> bytes:
        """The SubjectPublicKeyInfo DER form (``response.getPublicKey()`` in L3 JSON)."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _cose_ec2(alg: int, key: ec.EllipticCurvePrivateKey) -> bytes:
    _, crv, size, _ = _EC_CURVES[alg]
    numbers = key.public_key().public_numbers()
    return cbor2.dumps(
        {
            1: 2,  # kty: EC2
            3: alg,
            -1: crv,
            -2: numbers.x.to_bytes(size, "big"),
            -3: numbers.y.to_bytes(size, "big"),
        },
        canonical=True,
    )


def generate_key_pair(algorithm: int, seed: bytes | None) -> KeyPair:
    """Create a credential key pair for a COSE ``algorithm``.

    With a ``seed``, EC, Ed25519 and ML-DSA keys are derived from it (the same seed
    gives the same key). RSA keys always come from OpenSSL's generator: deriving
    RSA primes from a seed would need a prime search written here, for no benefit.

    Raises:
        ConfigurationError: The algorithm is not one the authenticator supports.
    """
    if algorithm in _EC_CURVES:
        curve = _EC_CURVES[algorithm][0]
        if seed is None:
            ec_key = ec.generate_private_key(curve)
        else:
            # A scalar below 2**(bits - 1) is always below the group order: no rejection
            # loop needed, and halving the key space does not matter for test keys.
            bits = curve.key_size - 1
            raw = derive_bytes(seed, f"credential key {algorithm}", (bits + 7) // 8)
            scalar = int.from_bytes(raw, "big") % (1 << bits)
            ec_key = ec.derive_private_key(scalar or 1, curve)
        return KeyPair(
            algorithm=algorithm, cose_key=_cose_ec2(algorithm, ec_key), private_key=ec_key
        )
    if algorithm in (RS256, PS256):
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = rsa_key.public_key().public_numbers()
        cose = cbor2.dumps(
            {
                1: 3,  # kty: RSA (RFC 8230 §4)
                3: algorithm,
                -1: numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big"),
                -2: numbers.e.to_bytes(3, "big"),
            },
            canonical=True,
        )
        return KeyPair(algorithm=algorithm, cose_key=cose, private_key=rsa_key)
    if algorithm == EDDSA:
        ed_key = (
            ed25519.Ed25519PrivateKey.generate()
            if seed is None
            else ed25519.Ed25519PrivateKey.from_private_bytes(
                derive_bytes(seed, "credential key -8", 32)
            )
        )
        raw_public = ed_key.public_key().public_bytes_raw()
        cose = cbor2.dumps({1: 1, 3: EDDSA, -1: 6, -2: raw_public}, canonical=True)  # OKP Ed25519
        return KeyPair(algorithm=algorithm, cose_key=cose, private_key=ed_key)
    if algorithm == ML_DSA_44 and MLDSA_AVAILABLE:
        ml_key = (
            mldsa.MLDSA44PrivateKey.generate()
            if seed is None
            else mldsa.MLDSA44PrivateKey.from_seed_bytes(
                derive_bytes(seed, "credential key -48", 32)
            )
        )
        # kty AKP (7) with the raw public key under label -1 (draft-ietf-cose-dilithium).
        cose = cbor2.dumps(
            {1: 7, 3: ML_DSA_44, -1: ml_key.public_key().public_bytes_raw()}, canonical=True
        )
        return KeyPair(algorithm=algorithm, cose_key=cose, private_key=ml_key)
    raise ConfigurationError(
        f"the software authenticator does not support COSE algorithm {algorithm}"
    )
