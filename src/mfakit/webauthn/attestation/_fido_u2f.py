"""The ``fido-u2f`` attestation statement format (WebAuthn Level 3 §8.6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec

from mfakit.errors import InvalidAttestationError, InvalidSignatureError
from mfakit.webauthn._cose import COSEAlgorithm, CredentialPublicKey, verifier_for_certificate_key
from mfakit.webauthn._structures import AuthenticatorData

from ._common import StatementResult, load_x5c, only_keys
from ._options import DEFAULT_OPTIONS, FormatOptions

__all__ = ["verify"]

_KEYS = frozenset({"x5c", "sig"})


def verify(
    att_stmt: Mapping[str, Any],
    auth_data: AuthenticatorData,
    client_data_hash: bytes,
    credential_key: CredentialPublicKey,
    options: FormatOptions = DEFAULT_OPTIONS,
) -> StatementResult:
    """Verify a ``fido-u2f`` statement (§8.6 "Verification procedure").

    * ``attStmt`` is ``{x5c: [attCert], sig}``: exactly one certificate whose
      public key is EC on P-256.
    * The credential public key is an EC2 P-256 key (ES256).
    * ``sig`` verifies over ``0x00 || rpIdHash || clientDataHash ||
      credentialId || publicKeyU2F`` with the certificate's key.

    The AAGUID is not checked: §8.6 authenticators report all zeros, but the
    procedure does not make it a condition, and a U2F-era device never sets it.

    Returns:
        ``basic`` attestation (the spec allows basic, AttCA or uncertain; only
        metadata can tell them apart) with ``x5c`` as the trust path.

    Raises:
        InvalidAttestationError: The statement breaks the format's rules.
        InvalidSignatureError: ``sig`` does not verify.
    """
    only_keys(att_stmt, _KEYS, "fido-u2f")
    certs = load_x5c(att_stmt.get("x5c"), fmt="fido-u2f")
    sig = att_stmt.get("sig")
    if len(certs) != 1 or type(sig) is not bytes:
        raise InvalidAttestationError("fido-u2f needs exactly one certificate and a signature")
    try:
        cert_key = certs[0].public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InvalidAttestationError("fido-u2f certificate key cannot be loaded") from exc
    if not isinstance(cert_key, ec.EllipticCurvePublicKey) or cert_key.curve.name != "secp256r1":
        raise InvalidAttestationError("fido-u2f certificate key must be EC P-256")
    if credential_key.alg != COSEAlgorithm.ES256:
        raise InvalidAttestationError("fido-u2f credential key must be EC2 P-256")
    acd = auth_data.attested_credential_data
    if acd is None:
        raise InvalidAttestationError("fido-u2f needs attested credential data")
    cose = acd.cose_map
    public_key_u2f = b"\x04" + cose[-2] + cose[-3]
    data = b"\x00" + auth_data.rp_id_hash + client_data_hash + acd.credential_id + public_key_u2f
    try:
        verifier_for_certificate_key(cert_key, COSEAlgorithm.ES256)(sig, data)
    except InvalidSignatureError as exc:
        raise InvalidSignatureError("fido-u2f attestation signature is not valid") from exc
    return StatementResult(attestation_type="basic", trust_path=certs)
