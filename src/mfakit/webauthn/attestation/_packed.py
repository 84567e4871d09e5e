"""The ``packed`` attestation statement format (WebAuthn Level 3 §8.2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from mfakit.errors import (
    InvalidAttestationError,
    InvalidSignatureError,
)
from mfakit.webauthn._cose import CredentialPublicKey
from mfakit.webauthn._structures import AuthenticatorData

from ._common import (
    StatementResult,
    check_certificate_aaguid,
    check_end_entity,
    load_x5c,
    only_keys,
    verify_with_certificate,
)
from ._options import DEFAULT_OPTIONS, FormatOptions

__all__ = ["check_certificate_requirements", "verify"]

_KEYS = frozenset({"alg", "sig", "x5c"})
_SELF = StatementResult(attestation_type="self")


def check_certificate_requirements(cert: x509.Certificate, aaguid: bytes) -> None:
    """The §8.2.1 "Certificate Requirements for Packed Attestation Statements".

    * version 3;
    * subject with C (a two-letter code), O, OU = "Authenticator Attestation"
      and CN;
    * basic constraints present with CA false;
    * the id-fido-gen-ce-aaguid extension, when present, not critical and
      equal to the AAGUID in authenticator data.

    Raises:
        InvalidAttestationError: A requirement is not met, or a field of the
            certificate does not parse (cryptography parses some lazily).
    """
    try:
        _check_requirements(cert, aaguid)
    except (ValueError, x509.InvalidVersion) as exc:
        raise InvalidAttestationError("packed attestation certificate does not parse") from exc


def _check_requirements(cert: x509.Certificate, aaguid: bytes) -> None:
    if cert.version is not x509.Version.v3:
        raise InvalidAttestationError("packed attestation certificate must be version 3")
    subject = cert.subject
    country = subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    org = subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    unit = subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    common = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if (
        len(country) != 1
        or len(org) != 1
        or len(unit) != 1
        or len(common) != 1
        or not isinstance(country[0].value, str)
        or len(country[0].value) != 2
        or not org[0].value
        or unit[0].value != "Authenticator Attestation"
        or not common[0].value
    ):
        raise InvalidAttestationError("packed attestation certificate subject breaks §8.2.1")
    check_end_entity(cert, what="packed attestation certificate")
    check_certificate_aaguid(cert, aaguid, fmt="packed", may_be_critical=False)


def verify(
    att_stmt: Mapping[str, Any],
    auth_data: AuthenticatorData,
    client_data_hash: bytes,
    credential_key: CredentialPublicKey,
    options: FormatOptions = DEFAULT_OPTIONS,
) -> StatementResult:
    """Verify a ``packed`` statement (§8.2 "Verification procedure").

    With ``x5c``: the signature verifies with the leaf's key under ``alg``,
    and the leaf meets :func:`check_certificate_requirements`; the type is
    ``basic`` (AttCA cannot be told apart without metadata). Without ``x5c``
    (self attestation): ``alg`` equals the credential's algorithm and the
    signature verifies with the credential key.

    The signed data is ``authenticatorData || clientDataHash``.

    Raises:
        InvalidAttestationError: The statement breaks the format's rules.
        InvalidSignatureError: ``sig`` does not verify.
        UnsupportedAlgorithmError: ``alg`` is unknown.
    """
    only_keys(att_stmt, _KEYS, "packed")
    alg = att_stmt.get("alg")
    sig = att_stmt.get("sig")
    if type(alg) is not int or type(sig) is not bytes:
        raise InvalidAttestationError("packed statement needs an integer alg and a signature")
    signed = auth_data.raw + client_data_hash
    if "x5c" not in att_stmt:
        if alg != credential_key.alg:
            raise InvalidAttestationError("self attestation alg differs from the credential's")
        try:
            credential_key.verify(sig, signed)
        except InvalidSignatureError as exc:
            raise InvalidSignatureError("packed self attestation signature is not valid") from exc
        return _SELF
    certs = load_x5c(att_stmt["x5c"], fmt="packed")
    leaf = certs[0]
    verify_with_certificate(leaf, alg, sig, signed, fmt="packed")
    acd = auth_data.attested_credential_data
    check_certificate_requirements(leaf, acd.aaguid if acd is not None else bytes(16))
    return StatementResult(attestation_type="basic", trust_path=certs)
