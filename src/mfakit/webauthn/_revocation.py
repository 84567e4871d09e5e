"""Certificate revocation with CRLs the caller supplies (mfakit never fetches them).

RFC 5280 §6.3, reduced to what attestation needs: a certificate is checked
against the CRLs its issuer signed that are current at ``now``; a serial
number listed there revokes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

from mfakit.errors import ConfigurationError, UntrustedAttestationError

__all__ = [
    "check_revocation",
    "load_crl",
]


def load_crl(value: object) -> x509.CertificateRevocationList:
    """A CRL from an object or PEM/DER bytes.

    Raises:
        ConfigurationError: Not a CRL.
    """
    if isinstance(value, x509.CertificateRevocationList):
        return value
    if isinstance(value, bytes | bytearray):
        data = bytes(value)
        try:
            if data.lstrip().startswith(b"-----BEGIN"):
                return x509.load_pem_x509_crl(data)
            return x509.load_der_x509_crl(data)
        except (ValueError, CryptographyDeprecationWarning) as exc:
            raise ConfigurationError("a CRL does not parse") from exc
    raise ConfigurationError("crls must be x509.CertificateRevocationList, PEM or DER bytes")


def _current(crl: x509.CertificateRevocationList, now: datetime) -> bool:
    next_update = crl.next_update_utc
    return crl.last_update_utc <= now and (next_update is None or now <= next_update)


def _signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    if crl.issuer != issuer.subject:
        return False
    try:
        return crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False


def check_revocation(
    chain: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    now: datetime,
    *,
    require: bool,
) -> bool:
    """Check every certificate of a validated ``chain`` (leaf first, anchor last).

    Returns:
        True when no certificate is revoked and, if ``require``, each one
        below the anchor is covered by a current CRL of its issuer.

    Raises:
        UntrustedAttestationError: A current CRL of the issuer lists the
            certificate's serial number.
    """
    for cert, issuer in pairwise(chain):
        covered = False
        for crl in crls:
            if not _signed_by(crl, issuer) or not _current(crl, now):
                continue
            covered = True
            if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
                raise UntrustedAttestationError("an attestation certificate is revoked")
        if require and not covered:
            return False
    return True
