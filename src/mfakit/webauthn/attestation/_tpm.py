"""The ``tpm`` attestation statement format (WebAuthn Level 3 §8.3).

A TPM signs ``certInfo`` (a ``TPMS_ATTEST``, TPM 2.0 Part 2 §10.12.12) with its
attestation identity key (AIK). ``certInfo`` certifies the credential key,
whose ``TPMT_PUBLIC`` is ``pubArea``, and carries the hash of
``authenticatorData || clientDataHash`` in ``extraData``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ObjectIdentifier

from mfakit.errors import (
    InvalidAttestationError,
    UnsupportedAlgorithmError,
)
from mfakit.webauthn._cose import COSEAlgorithm, CredentialPublicKey
from mfakit.webauthn._structures import AuthenticatorData

from ._common import (
    StatementResult,
    check_certificate_aaguid,
    check_end_entity,
    load_x5c,
    only_keys,
    verify_with_certificate,
)
from ._options import DEFAULT_OPTIONS, FormatOptions, hash_for_alg
from ._tpm_structures import (
    TPM_ALG_ECC,
    TPM_ALG_RSA,
    TPM_GENERATED_VALUE,
    TPM_ST_ATTEST_CERTIFY,
    TPMTPublic,
    parse_tpms_attest,
    parse_tpmt_public,
)

__all__ = [
    "TPM_MANUFACTURERS",
    "check_aik_certificate",
    "verify",
]

_KEYS = frozenset({"ver", "alg", "x5c", "sig", "certInfo", "pubArea"})
#: tcg-kp-AIKCertificate (TCG EK Credential Profile): the AIK certificate's EKU.
OID_TCG_KP_AIK_CERTIFICATE = ObjectIdentifier("2.23.133.8.3")
#: tcg-at-tpmManufacturer, tcg-at-tpmModel, tcg-at-tpmVersion (TCG EK Credential Profile §3.2.9).
OID_TPM_MANUFACTURER = ObjectIdentifier("2.23.133.2.1")
OID_TPM_MODEL = ObjectIdentifier("2.23.133.2.2")
OID_TPM_VERSION = ObjectIdentifier("2.23.133.2.3")

#: TPM manufacturers of the TCG "TPM Vendor ID Registry" (version 1.06, §4.1
#: "Product Implementations"), as the ``id:`` + hex of the 4-byte vendor id
#: that AIK certificates carry (upper case; compared case-insensitively).
TPM_MANUFACTURERS: frozenset[str] = frozenset(
    {
        "id:414D4400",  # AMD
        "id:414E5400",  # Ant Group
        "id:41544D4C",  # Atmel
        "id:4252434D",  # Broadcom
        "id:4353434F",  # Cisco
        "id:464C5953",  # Flyslice Technologies
        "id:474F4F47",  # Google
        "id:48504500",  # HPE
        "id:48504900",  # HPI
        "id:48495349",  # Huawei
        "id:49424D00",  # IBM
        "id:49465800",  # Infineon
        "id:494E5443",  # Intel
        "id:4C454E00",  # Lenovo
        "id:4D534654",  # Microsoft
        "id:4E534D20",  # National Semiconductor
        "id:4E545A00",  # Nationz
        "id:4E544300",  # Nuvoton Technology
        "id:51434F4D",  # Qualcomm
        "id:524F4343",  # Fuzhou Rockchip
        "id:534D534E",  # Samsung
        "id:534D5343",  # SMSC
        "id:534E5300",  # Sinosun
        "id:53544D20",  # ST Microelectronics
        "id:54584E00",  # Texas Instruments
        "id:57454300",  # Winbond
    }
)

# TPMI_ALG_HASH of a Name (Part 2 §6.3) -> the hash function.
_NAME_HASHES = {0x0004: "sha1", 0x000B: "sha256", 0x000C: "sha384", 0x000D: "sha512"}
# TPM_ECC_CURVE (Part 2 §6.4) -> the curve name cryptography uses.
_TPM_CURVES = {0x0003: "secp256r1", 0x0004: "secp384r1", 0x0005: "secp521r1"}
# Statement algorithms §8.3 lets a TPM use (RSA PKCS#1 v1.5, PSS and ECDSA; RS1 opt-in).
_TPM_ALGS = frozenset(
    {
        COSEAlgorithm.RS256,
        COSEAlgorithm.RS384,
        COSEAlgorithm.RS512,
        COSEAlgorithm.RS1,
        COSEAlgorithm.PS256,
        COSEAlgorithm.PS384,
        COSEAlgorithm.PS512,
        COSEAlgorithm.ES256,
        COSEAlgorithm.ES384,
        COSEAlgorithm.ES512,
    }
)


def _pub_area_matches(pub: TPMTPublic, credential_key: CredentialPublicKey) -> bool:
    key = credential_key.key
    if pub.type == TPM_ALG_RSA:
        if not isinstance(key, rsa.RSAPublicKey):
            return False
        numbers = key.public_numbers()
        exponent = pub.rsa_exponent or 65537  # Part 2 §12.2.3.5: 0 means 2^16 + 1
        return (
            int.from_bytes(pub.rsa_modulus, "big") == numbers.n
            and exponent == numbers.e
            and pub.rsa_key_bits == numbers.n.bit_length()
        )
    if not isinstance(key, ec.EllipticCurvePublicKey) or pub.type != TPM_ALG_ECC:
        return False
    if _TPM_CURVES.get(pub.ecc_curve or 0) != key.curve.name:
        return False
    point = key.public_numbers()
    return (
        int.from_bytes(pub.ecc_x, "big") == point.x and int.from_bytes(pub.ecc_y, "big") == point.y
    )


def _san_tpm_attributes(cert: x509.Certificate) -> dict[x509.ObjectIdentifier, str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound as exc:
        raise InvalidAttestationError("AIK certificate lacks a subject alternative name") from exc
    found: dict[x509.ObjectIdentifier, str] = {}
    for name in san.value.get_values_for_type(x509.DirectoryName):
        for attribute in name:
            if isinstance(attribute.value, str):
                found[attribute.oid] = attribute.value
    return found


def check_aik_certificate(
    cert: x509.Certificate, aaguid: bytes, *, check_manufacturer: bool = True
) -> None:
    """The §8.3.1 "TPM Attestation Statement Certificate Requirements".

    * version 3 and an empty subject;
    * a subject alternative name (critical, as the subject is empty) holding
      the TPM manufacturer, model and version (TCG EK Credential Profile
      §3.2.9); the manufacturer in the TCG registry when ``check_manufacturer``;
    * extended key usage containing tcg-kp-AIKCertificate (2.23.133.8.3);
    * basic constraints present with CA false;
    * the id-fido-gen-ce-aaguid extension, when present, equal to the AAGUID.

    Raises:
        InvalidAttestationError: A requirement is not met, or the certificate
            does not parse.
    """
    try:
        _check_aik(cert, aaguid, check_manufacturer)
    except (ValueError, x509.InvalidVersion) as exc:
        raise InvalidAttestationError("AIK certificate does not parse") from exc


def _check_aik(cert: x509.Certificate, aaguid: bytes, check_manufacturer: bool) -> None:
    if cert.version is not x509.Version.v3:
        raise InvalidAttestationError("AIK certificate must be version 3")
    if len(cert.subject) != 0:
        raise InvalidAttestationError("AIK certificate subject must be empty")
    extensions = cert.extensions
    attributes = _san_tpm_attributes(cert)
    san = extensions.get_extension_for_class(x509.SubjectAlternativeName)
    if not san.critical:
        raise InvalidAttestationError("AIK certificate SAN must be critical (empty subject)")
    manufacturer = attributes.get(OID_TPM_MANUFACTURER)
    if manufacturer is None or OID_TPM_MODEL not in attributes or OID_TPM_VERSION not in attributes:
        raise InvalidAttestationError("AIK certificate SAN lacks TPM manufacturer, model, version")
    if check_manufacturer and manufacturer.upper().replace("ID:", "id:") not in TPM_MANUFACTURERS:
        raise InvalidAttestationError("AIK certificate names an unknown TPM manufacturer")
    try:
        eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise InvalidAttestationError("AIK certificate lacks extended key usage") from exc
    if OID_TCG_KP_AIK_CERTIFICATE not in list(eku):
        raise InvalidAttestationError("AIK certificate EKU lacks tcg-kp-AIKCertificate")
    check_end_entity(cert, what="AIK certificate")
    check_certificate_aaguid(cert, aaguid, fmt="tpm", may_be_critical=True)


def verify(
    att_stmt: Mapping[str, Any],
    auth_data: AuthenticatorData,
    client_data_hash: bytes,
    credential_key: CredentialPublicKey,
    options: FormatOptions = DEFAULT_OPTIONS,
) -> StatementResult:
    """Verify a ``tpm`` statement (§8.3 "Verification procedure").

    * ``ver`` is ``"2.0"``;
    * ``pubArea`` parses and its key (RSA modulus, exponent and size; ECC
      curve and point) is the credential public key;
    * ``certInfo`` parses; ``magic`` is ``TPM_GENERATED_VALUE``, ``type`` is
      ``TPM_ST_ATTEST_CERTIFY``; ``extraData`` is the hash of
      ``authenticatorData || clientDataHash`` with ``alg``'s hash; the
      attested ``name`` is ``nameAlg || H_nameAlg(pubArea)``;
    * ``sig`` verifies over ``certInfo`` with the AIK certificate's key under
      ``alg`` (RS256/384/512, PS256/384/512, ES256/384/512; RS1 only with
      ``options.allow_sha1``);
    * the AIK certificate meets :func:`check_aik_certificate`.

    Returns:
        Attestation type ``attca`` with ``x5c`` as the trust path.

    Raises:
        InvalidAttestationError: The statement breaks a rule above.
        MalformedDataError: ``certInfo`` or ``pubArea`` does not parse.
        InvalidSignatureError: ``sig`` does not verify.
        UnsupportedAlgorithmError: ``alg`` is unknown.
    """
    only_keys(att_stmt, _KEYS, "tpm")
    if att_stmt.get("ver") != "2.0":
        raise InvalidAttestationError("tpm statement version must be 2.0")
    alg, sig = att_stmt.get("alg"), att_stmt.get("sig")
    cert_info, pub_area = att_stmt.get("certInfo"), att_stmt.get("pubArea")
    if type(alg) is not int or type(sig) is not bytes:
        raise InvalidAttestationError("tpm statement needs an integer alg and a signature")
    if "x5c" not in att_stmt:
        raise InvalidAttestationError("tpm statement lacks x5c")
    if type(cert_info) is not bytes or type(pub_area) is not bytes:
        raise InvalidAttestationError("tpm statement needs certInfo and pubArea bytes")
    if alg not in _TPM_ALGS:
        raise UnsupportedAlgorithmError("tpm statement alg is not allowed", alg=alg)
    digest = hash_for_alg(alg, allow_sha1=options.allow_sha1, fmt="tpm")
    pub = parse_tpmt_public(pub_area)
    if not _pub_area_matches(pub, credential_key):
        raise InvalidAttestationError("tpm pubArea key is not the credential public key")
    info = parse_tpms_attest(cert_info)
    if info.magic != TPM_GENERATED_VALUE:
        raise InvalidAttestationError("tpm certInfo magic is not TPM_GENERATED_VALUE")
    if info.type != TPM_ST_ATTEST_CERTIFY:  # pragma: no cover - the parser refuses others
        raise InvalidAttestationError("tpm certInfo type is not TPM_ST_ATTEST_CERTIFY")
    hasher = hashes.Hash(digest)
    hasher.update(auth_data.raw + client_data_hash)
    if not hmac.compare_digest(info.extra_data, hasher.finalize()):
        raise InvalidAttestationError("tpm extraData is not the hash of attToBeSigned")
    name = (
        pub.name_alg.to_bytes(2, "big") + hashlib.new(_NAME_HASHES[pub.name_alg], pub.raw).digest()
    )
    if not hmac.compare_digest(info.attested_name, name):
        raise InvalidAttestationError("tpm attested name does not match pubArea")
    certs = load_x5c(att_stmt["x5c"], fmt="tpm")
    aik = certs[0]
    verify_with_certificate(aik, alg, sig, info.raw, fmt="tpm")
    acd = auth_data.attested_credential_data
    check_aik_certificate(
        aik,
        acd.aaguid if acd is not None else bytes(16),
        check_manufacturer=options.tpm_check_manufacturer,
    )
    return StatementResult(attestation_type="attca", trust_path=certs)
