"""What the deeper attestation formats need beyond the statement: policy switches and helpers.

The ``none``, ``packed`` and ``fido-u2f`` verifiers take the statement alone.
``tpm``, ``android-key``, ``android-safetynet`` and ``compound`` also depend on
the relying party's choices (the time, whether SHA-1 or software-enforced keys
are acceptable, ...): :class:`FormatOptions` carries them, built by
:class:`~mfakit.webauthn.AttestationPolicy` for each registration.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization

from mfakit.errors import ConfigurationError, InvalidAttestationError
from mfakit.webauthn._cose import COSEAlgorithm, CredentialPublicKey
from mfakit.webauthn._structures import AuthenticatorData

from ._common import StatementResult

__all__ = [
    "FormatOptions",
    "NestedVerifier",
    "certificate_key_matches",
    "hash_for_alg",
    "require_now",
]

#: Verifies one statement of a ``compound`` attestation: ``(fmt, attStmt) -> result``.
NestedVerifier = Callable[[str, Mapping[str, Any]], StatementResult]

_HASHES: dict[int, Callable[[], hashes.HashAlgorithm]] = {
    COSEAlgorithm.ES256: hashes.SHA256,
    COSEAlgorithm.RS256: hashes.SHA256,
    COSEAlgorithm.PS256: hashes.SHA256,
    COSEAlgorithm.ES384: hashes.SHA384,
    COSEAlgorithm.RS384: hashes.SHA384,
    COSEAlgorithm.PS384: hashes.SHA384,
    COSEAlgorithm.ES512: hashes.SHA512,
    COSEAlgorithm.RS512: hashes.SHA512,
    COSEAlgorithm.PS512: hashes.SHA512,
    COSEAlgorithm.RS1: hashes.SHA1,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class FormatOptions:
    """The relying party's choices that a format's verification depends on.

    Attributes:
        now: The time of the ceremony (android-safetynet's ``timestampMs``).
        allow_sha1: Accept RS1 (``-65535``) as a statement ``alg`` (old TPMs).
        tpm_check_manufacturer: Require the AIK certificate's TPM manufacturer
            to be in the TCG vendor registry.
        android_key_allow_software: Accept ``origin`` and ``purpose`` from the
            software-enforced authorization list, not only the TEE list.
        safetynet_require_cts_profile: Require ``ctsProfileMatch: true``.
        safetynet_max_age: Largest distance between ``timestampMs`` and ``now``.
        nested: Verifies one statement of a ``compound`` attestation.
    """

    now: datetime | None = None
    allow_sha1: bool = False
    tpm_check_manufacturer: bool = True
    android_key_allow_software: bool = False
    safetynet_require_cts_profile: bool = True
    safetynet_max_age: timedelta = timedelta(minutes=1)
    nested: NestedVerifier | None = None


#: The options a format uses when called without any (strictest defaults, no clock).
DEFAULT_OPTIONS = FormatOptions()

# A verify function of the deeper formats: the §8 inputs and the options.
ContextualVerifier = Callable[
    [Mapping[str, Any], AuthenticatorData, bytes, CredentialPublicKey, FormatOptions],
    StatementResult,
]


def hash_for_alg(alg: int, *, allow_sha1: bool, fmt: str) -> hashes.HashAlgorithm:
    """The hash a COSE signature algorithm uses (the one TPM ``extraData`` is made with).

    Raises:
        InvalidAttestationError: An algorithm without a hash of its own
            (EdDSA, ML-DSA), or RS1 without ``allow_sha1``.
    """
    factory = _HASHES.get(alg)
    if factory is None or (alg == COSEAlgorithm.RS1 and not allow_sha1):
        raise InvalidAttestationError(f"{fmt} statement alg is not allowed")
    return factory()


def _spki(key: Any) -> bytes:
    der: bytes = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der


def certificate_key_matches(cert: x509.Certificate, credential_key: CredentialPublicKey) -> bool:
    """Whether ``cert``'s subject public key is the credential public key.

    Both are compared as DER SubjectPublicKeyInfo, so the key type, curve and
    every parameter must agree.
    """
    try:
        return hmac.compare_digest(_spki(cert.public_key()), _spki(credential_key.key))
    except (ValueError, TypeError, AttributeError, UnsupportedAlgorithm):
        return False


def require_now(options: FormatOptions, fmt: str) -> datetime:
    """The ceremony time, which ``fmt`` cannot be verified without.

    Raises:
        ConfigurationError: ``verify_registration`` was called without ``now``.
    """
    if options.now is None:
        raise ConfigurationError(f"verify_registration needs now= to verify {fmt} attestation")
    return options.now
