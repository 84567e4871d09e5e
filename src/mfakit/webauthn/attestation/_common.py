"""What attestation statement format verifiers share: their result and x5c parsing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

from mfakit.errors import InvalidAttestationError

__all__ = ["AttestationType", "StatementResult", "load_x5c", "only_keys"]

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
