"""A strict reader of compact JWS (RFC 7515 §7.1) signed with an ``x5c`` certificate chain.

Used by ``android-safetynet`` attestation and the FIDO metadata BLOB (a JWT,
RFC 7519). Only the algorithms both need are accepted; ``none``, HMAC and any
header member that changes processing (``crit``, ``jku``, ``x5u``, ``jwk``) are
refused, so a token cannot choose a weaker way of being checked.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.utils import CryptographyDeprecationWarning

from mfakit.errors import InvalidSignatureError, MalformedDataError

from ._b64 import b64url_decode
from ._cose import COSEAlgorithm, verifier_for_certificate_key

__all__ = [
    "CompactJWS",
    "JWS_ALGORITHMS",
    "parse_compact_jws",
]

# The JWS ``alg`` values accepted (RFC 7518 §3.1) and the COSE algorithm that
# names the same signature scheme (RFC 9053, RFC 8812): a JWS is verified by the
# one scheme table of _cose, which fixes the key type, curve, hash and padding.
_COSE_FOR_JWS = {
    "RS256": COSEAlgorithm.RS256,
    "RS384": COSEAlgorithm.RS384,
    "RS512": COSEAlgorithm.RS512,
    "PS256": COSEAlgorithm.PS256,
    "PS384": COSEAlgorithm.PS384,
    "PS512": COSEAlgorithm.PS512,
    "ES256": COSEAlgorithm.ES256,
    "ES384": COSEAlgorithm.ES384,
    "ES512": COSEAlgorithm.ES512,
}
# Bytes of r and of s in a JWS ECDSA signature: the curve's size (P-256, P-384, P-521).
_ECDSA_COORDINATE_BYTES = {"ES256": 32, "ES384": 48, "ES512": 66}
#: The JWS ``alg`` values accepted (RFC 7518 §3.1): RSA PKCS#1 v1.5, RSA-PSS, ECDSA.
JWS_ALGORITHMS = frozenset(_COSE_FOR_JWS)
_FORBIDDEN_HEADERS = frozenset({"crit", "jku", "x5u", "jwk", "zip", "b64"})
_MAX_X5C = 5


def _b64url(segment: str, what: str) -> bytes:
    # The same strict decoder as every other WebAuthn field (a lenient
    # urlsafe_b64decode would silently drop characters outside the alphabet).
    try:
        if not segment:
            raise MalformedDataError("empty segment", field="jws")
        return b64url_decode(segment, field="jws", max_len=len(segment))
    except MalformedDataError as exc:
        raise MalformedDataError(f"JWS {what} is not base64url", field="jws") from exc


def _object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedDataError(f"JWS {what} is not JSON", field="jws") from exc
    if type(value) is not dict:
        raise MalformedDataError(f"JWS {what} is not a JSON object", field="jws")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("duplicate member")
        result[key] = value
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class CompactJWS:
    """A parsed compact JWS whose header carries an ``x5c`` chain.

    Attributes:
        header: The protected header.
        payload: The payload JSON object.
        alg: The header's ``alg``.
        x5c: The header's certificates, leaf first.
        signing_input: ``BASE64URL(header) || '.' || BASE64URL(payload)``.
        signature: The signature bytes.
    """

    header: dict[str, Any] = field(repr=False)
    payload: dict[str, Any] = field(repr=False)
    alg: str
    x5c: tuple[x509.Certificate, ...] = field(repr=False)
    signing_input: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    def verify_signature(self) -> None:
        """Check the signature with the leaf certificate's key under ``alg``.

        Raises:
            InvalidSignatureError: It does not verify, or the leaf's key does
                not fit ``alg``.
        """
        signature = self.signature
        try:
            key = self.x5c[0].public_key()
            verify = verifier_for_certificate_key(key, _COSE_FOR_JWS[self.alg])
            size = _ECDSA_COORDINATE_BYTES.get(self.alg)
            if size is not None:
                # JWS carries ECDSA as r || s (RFC 7518 §3.4); COSE and
                # cryptography take the DER encoding.
                if len(signature) != 2 * size:
                    raise InvalidSignatureError("JWS ECDSA signature has the wrong length")
                signature = encode_dss_signature(
                    int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
                )
        except (MalformedDataError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise InvalidSignatureError("JWS key does not fit its alg") from exc
        verify(signature, self.signing_input)


def parse_compact_jws(token: object, *, max_bytes: int) -> CompactJWS:
    """Parse a compact JWS ``header.payload.signature`` with an ``x5c`` header.

    Raises:
        MalformedDataError: Not three base64url segments of at most
            ``max_bytes`` in all, a header or payload that is not a JSON
            object, an ``alg`` outside :data:`JWS_ALGORITHMS`, a forbidden
            header member, or an ``x5c`` that is not 1-5 base64 DER certificates.
    """
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedDataError("JWS is not ASCII", field="jws") from exc
    if type(token) is not str:
        raise MalformedDataError("JWS must be a string", field="jws")
    if len(token) > max_bytes:
        raise MalformedDataError("JWS too large", field="jws")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise MalformedDataError("JWS must have three segments", field="jws")
    header = _object(_b64url(parts[0], "header"), "header")
    payload = _object(_b64url(parts[1], "payload"), "payload")
    signature = _b64url(parts[2], "signature")
    alg = header.get("alg")
    if type(alg) is not str or alg not in JWS_ALGORITHMS:
        raise MalformedDataError("JWS alg is not accepted", field="jws")
    if _FORBIDDEN_HEADERS & set(header):
        raise MalformedDataError("JWS header member not supported", field="jws")
    chain = header.get("x5c")
    if type(chain) is not list or not 1 <= len(chain) <= _MAX_X5C:
        raise MalformedDataError("JWS x5c must be a short non-empty array", field="jws")
    certs = []
    for item in chain:
        if type(item) is not str:
            raise MalformedDataError("JWS x5c entry is not a string", field="jws")
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(item, validate=True))
            cert.version  # noqa: B018 - parsed lazily; a bad one must fail here
        except (
            binascii.Error,
            ValueError,
            x509.InvalidVersion,
            CryptographyDeprecationWarning,
        ) as exc:
            raise MalformedDataError("JWS x5c certificate does not parse", field="jws") from exc
        certs.append(cert)
    return CompactJWS(
        header=header,
        payload=payload,
        alg=alg,
        x5c=tuple(certs),
        signing_input=f"{parts[0]}.{parts[1]}".encode("ascii"),
        signature=signature,
    )
