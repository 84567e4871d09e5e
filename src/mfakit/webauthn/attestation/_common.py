"""What attestation statement format verifiers share: their result, x5c, certificate checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.utils import CryptographyDeprecationWarning

from mfakit.errors import InvalidAttestationError, InvalidSignatureError, MalformedDataError
from mfakit.webauthn._cose import verifier_for_certificate_key

__all__ = [
    "OID_FIDO_AAGUID",
    "AttestationType",
    "StatementResult",
    "check_certificate_aaguid",
    "check_end_entity",
    "extension_value",
    "load_x5c",
    "only_keys",
    "verify_with_certificate",
]

#: id-fido-gen-ce-aaguid (WebAuthn Level 3 §8.2.1, §8.3.1): the model's AAGUID.
OID_FIDO_AAGUID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")

#: The attestation types of WebAuthn Level 3 §6.5.3.
AttestationType = Literal["none", "self", "basic", "attca", "anonca"]

#: Most certificates accepted in ``x5c``.
MAX_X5C_CERTS = 5
#: Largest single certificate accepted, in bytes.
MAX_CERT_BYTES = 8 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementResult:
    """What a format's ``verify`` established.

    Attributes:
        attestation_type: The attestation type the statement shows.
        trust_path: ``x5c`` as certificates, leaf first (empty for none/self).
    """

    attestation_type: AttestationType
    trust_path: tuple[x509.Certificate, ...] = ()


def only_keys(att_stmt: Mapping[str, Any], allowed: frozenset[str], fmt: str) -> None:
    """Refuse members a format does not define: they would be unauthenticated."""
    extra = set(att_stmt) - allowed
    if extra:
        raise InvalidAttestationError(f"unexpected member in {fmt} attestation statement")


def load_x5c(value: object, *, fmt: str) -> tuple[x509.Certificate, ...]:
    """Decode ``x5c``: a non-empty array of DER certificates, leaf first.

    Raises:
        InvalidAttestationError: Not an array of byte strings, too many or too
            large certificates, or a certificate that does not parse.
    """
    if type(value) is not list or not value or len(value) > MAX_X5C_CERTS:
        raise InvalidAttestationError(f"{fmt} x5c must be a short non-empty array")
    certs = []
    for der in value:
        if type(der) is not bytes or len(der) > MAX_CERT_BYTES:
            raise InvalidAttestationError(f"{fmt} x5c entry is not a certificate")
        try:
            cert = x509.load_der_x509_certificate(der)
            # cryptography parses the version and the extensions lazily: a bad
            # one (or a deprecation warning raised as an error, e.g. for a
            # non-positive serial number inside AuthorityKeyIdentifier) would
            # otherwise surface later, outside the MfaError tree.
            cert.version  # noqa: B018
            cert.extensions  # noqa: B018
            certs.append(cert)
        except (
            ValueError,
            x509.InvalidVersion,
            x509.DuplicateExtension,
            CryptographyDeprecationWarning,
        ) as exc:
            # The warning is an exception only when the host runs with warnings
            # as errors (e.g. a serial number <= 0); then it must not escape.
            raise InvalidAttestationError(f"{fmt} x5c certificate does not parse") from exc
    return tuple(certs)


def verify_with_certificate(
    cert: x509.Certificate, alg: int, signature: bytes, data: bytes, *, fmt: str
) -> None:
    """Check a statement's ``sig`` over ``data`` with ``cert``'s key under COSE ``alg``.

    The one place a format verifies with an attestation certificate: the key
    must fit ``alg`` (type, curve) and ``cryptography`` checks the signature.

    Raises:
        InvalidAttestationError: The key does not fit ``alg`` or cannot be loaded.
        UnsupportedAlgorithmError: ``alg`` is unknown.
        InvalidSignatureError: The signature does not verify.
    """
    try:
        verifier = verifier_for_certificate_key(cert.public_key(), alg)
    except MalformedDataError as exc:
        raise InvalidAttestationError(f"{fmt} certificate key does not match alg") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:  # a key type cryptography cannot load
        raise InvalidAttestationError(f"{fmt} certificate key cannot be used") from exc
    try:
        verifier(signature, data)
    except InvalidSignatureError as exc:
        raise InvalidSignatureError(f"{fmt} attestation signature is not valid") from exc


def extension_value(
    cert: x509.Certificate, oid: x509.ObjectIdentifier
) -> tuple[bytes, bool] | None:
    """The DER value and criticality of a private extension of ``cert``, or None if absent.

    Private extensions (the FIDO AAGUID, Android's key description, Apple's
    nonce) are not interpreted by ``cryptography``: their value is the DER
    inside the extension's OCTET STRING. ``cert`` comes from :func:`load_x5c`,
    which has already made ``cryptography`` parse its extensions.
    """
    try:
        ext = cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None
    value = ext.value
    der = value.value if isinstance(value, x509.UnrecognizedExtension) else b""
    return der, ext.critical


def check_certificate_aaguid(
    cert: x509.Certificate, aaguid: bytes, *, fmt: str, may_be_critical: bool
) -> None:
    """§8.2.1 / §8.3.1: an AAGUID extension, when present, equals the authenticator data's.

    §8.2.1 (packed) also forbids the extension to be critical; §8.3.1 (tpm)
    does not constrain its criticality.

    Raises:
        InvalidAttestationError: Critical where forbidden, or another AAGUID.
    """
    found = extension_value(cert, OID_FIDO_AAGUID)
    if found is None:
        return
    der, critical = found
    if critical and not may_be_critical:
        raise InvalidAttestationError(f"{fmt} certificate's AAGUID extension must not be critical")
    # The extension value is an OCTET STRING holding the 16-byte AAGUID.
    if der != b"\x04\x10" + aaguid:
        raise InvalidAttestationError(f"{fmt} certificate AAGUID does not match authenticator data")


def check_end_entity(cert: x509.Certificate, *, what: str) -> None:
    """§8.2.1 / §8.3.1: basic constraints are present and say the certificate is not a CA.

    ``what`` names the certificate in the messages ("AIK certificate", ...).

    Raises:
        InvalidAttestationError: No basic constraints, or CA true.
    """
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound as exc:
        raise InvalidAttestationError(f"{what} lacks basic constraints") from exc
    if basic.value.ca:
        raise InvalidAttestationError(f"{what} must not be a CA")
