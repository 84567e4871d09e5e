"""The ``apple`` (Apple Anonymous) attestation statement format (WebAuthn Level 3 §8.8)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from cryptography.x509.oid import ObjectIdentifier

from mfakit.errors import InvalidAttestationError
from mfakit.webauthn._cose import CredentialPublicKey
from mfakit.webauthn._structures import AuthenticatorData

from ._common import StatementResult, extension_value, load_x5c, only_keys
from ._options import DEFAULT_OPTIONS, FormatOptions, certificate_key_matches

__all__ = [
    "OID_APPLE_NONCE",
    "verify",
]

# 2020-era Apple devices also send "alg" (the credential's algorithm), which
# §8.8 does not define; every other verifier accepts it.
_KEYS = frozenset({"x5c", "alg"})
#: The Apple anonymous attestation nonce extension (§8.8).
OID_APPLE_NONCE = ObjectIdentifier("1.2.840.113635.100.8.2")
# The extension value is SEQUENCE { [1] EXPLICIT OCTET STRING (32 bytes) }.
_NONCE_PREFIX = bytes.fromhex("3024a1220420")


def verify(
    att_stmt: Mapping[str, Any],
    auth_data: AuthenticatorData,
    client_data_hash: bytes,
    credential_key: CredentialPublicKey,
    options: FormatOptions = DEFAULT_OPTIONS,
) -> StatementResult:
    """Verify an ``apple`` statement (§8.8 "Verification procedure").

    * ``x5c`` is the only member, except for an ``alg`` member equal to
      the credential's algorithm, which 2020-era Apple devices send and
      which is ignored (any other ``alg`` is refused);
    * the leaf (credCert) carries extension 1.2.840.113635.100.8.2 whose
      nonce is SHA-256(``authenticatorData || clientDataHash``);
    * credCert's public key is the credential public key.

    The chain to the Apple WebAuthn root is checked by the trust policy
    (:func:`public_trust_anchors` holds the root).

    Returns:
        Attestation type ``anonca`` with ``x5c`` as the trust path.

    Raises:
        InvalidAttestationError: A rule above is broken.
    """
    only_keys(att_stmt, _KEYS, "apple")
    if "alg" in att_stmt:
        alg = att_stmt["alg"]
        # bool is an int subclass: True must not pass for alg 1.
        if type(alg) is not int or alg != credential_key.alg:
            raise InvalidAttestationError("apple statement alg is not the credential's")
    if "x5c" not in att_stmt:
        raise InvalidAttestationError("apple statement lacks x5c")
    certs = load_x5c(att_stmt["x5c"], fmt="apple")
    leaf = certs[0]
    found = extension_value(leaf, OID_APPLE_NONCE)
    if found is None:
        raise InvalidAttestationError("apple credCert lacks the nonce extension")
    der = found[0]
    expected = _NONCE_PREFIX + hashlib.sha256(auth_data.raw + client_data_hash).digest()
    if not hmac.compare_digest(der, expected):
        raise InvalidAttestationError("apple nonce does not match the ceremony")
    if not certificate_key_matches(leaf, credential_key):
        raise InvalidAttestationError("apple credCert key is not the credential public key")
    return StatementResult(attestation_type="anonca", trust_path=certs)
