"""Build valid ``tpm``, ``android-key``, ``android-safetynet``, ``apple``, ``packed`` and
``compound`` registrations with a throw-away CA, or ones with exactly one defect.

Every statement is built from its specification (WebAuthn Level 3 §8, TPM 2.0
Part 2, the Android key attestation schema, the SafetyNet response format)
with ``cryptography`` and ``cbor2``, independently of mfakit's parsers. Each
builder method takes ``fault=``: one named mutation that breaks exactly one
requirement, so a test can prove the verifier refuses it.

Example::

    builder = AttestationBuilder()
    built = builder.tpm()
    policy = AttestationPolicy(trust_anchors=[builder.root])
    verify_registration(built.response, expected_challenge=built.challenge, ...)
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

__all__ = [
    "AttestationBuilder",
    "BuiltRegistration",
    "der_key_description",
]

_NOT_BEFORE = datetime(2024, 1, 1, tzinfo=UTC)
_NOT_AFTER = datetime(2124, 1, 1, tzinfo=UTC)
_AAGUID_OID = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
_APPLE_NONCE_OID = ObjectIdentifier("1.2.840.113635.100.8.2")
_ANDROID_KEY_OID = ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")
_TCG_MANUFACTURER = ObjectIdentifier("2.23.133.2.1")
_TCG_MODEL = ObjectIdentifier("2.23.133.2.2")
_TCG_VERSION = ObjectIdentifier("2.23.133.2.3")
_TCG_AIK_EKU = ObjectIdentifier("2.23.133.8.3")
#: An Infineon TPM (TCG vendor id "IFX").
DEFAULT_TPM_MANUFACTURER = "id:49465800"


@cache
def _rsa_key() -> rsa.RSAPrivateKey:
    # RSA generation is slow; one key serves every RSA use in a test run.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _der(tag: int, content: bytes) -> bytes:
    """One DER TLV; ``tag`` is the identifier octets as an integer (0xBF8558 for [600])."""
    length = len(content)
    if length < 0x80:
        encoded = bytes([length])
    else:
        raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
        encoded = bytes([0x80 | len(raw)]) + raw
    return tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big") + encoded + content


def _der_int(value: int, tag: int = 0x02) -> bytes:
    return _der(tag, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def _authorization_list(
    *, purpose: int | None, origin: int | None, all_applications: bool
) -> bytes:
    items = b""
    if purpose is not None:
        items += _der(0xA1, _der(0x31, _der_int(purpose)))
    if all_applications:
        items += _der(0xBF8458, _der(0x05, b""))
    if origin is not None:
        items += _der(0xBF853E, _der_int(origin))
    return _der(0x30, items)


def der_key_description(
    challenge: bytes,
    *,
    tee: Mapping[str, Any] | None = None,
    software: Mapping[str, Any] | None = None,
) -> bytes:
    """A DER Android ``KeyDescription`` (attestation version 3, TEE level).

    ``tee`` / ``software`` take ``purpose``, ``origin`` and ``all_applications``.
    """
    empty = {"purpose": None, "origin": None, "all_applications": False}
    tee_list = {**empty, **(tee if tee is not None else {"purpose": 2, "origin": 0})}
    soft_list = {**empty, **(software or {})}
    return _der(
        0x30,
        _der_int(3)
        + _der_int(1, 0x0A)
        + _der_int(4)
        + _der_int(1, 0x0A)
        + _der(0x04, challenge)
        + _der(0x04, b"")
        + _authorization_list(**soft_list)
        + _authorization_list(**tee_list),
    )


#: Makes an attestation statement from ``(authData, clientDataHash, credential private key)``.
StatementMaker = Callable[[bytes, bytes, Any], Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltRegistration:
    """A registration response built by :class:`AttestationBuilder`.

    Attributes:
        response: The Level 3 JSON ``PublicKeyCredential`` to verify.
        challenge: The challenge it answers.
        fmt: The attestation format.
        att_stmt: The attestation statement.
        auth_data: The authenticator data bytes.
        client_data_hash: SHA-256 of clientDataJSON.
        credential_private_key: The credential's private key.
    """

    response: dict[str, Any] = field(repr=False)
    challenge: bytes = field(repr=False)
    fmt: str
    att_stmt: Any = field(repr=False)
    auth_data: bytes = field(repr=False)
    client_data_hash: bytes = field(repr=False)
    credential_private_key: Any = field(repr=False)


class AttestationBuilder:
    """A test CA (root, intermediate) and builders of attested registrations.

    Args:
        rp_id: The RP ID the authenticator data is bound to.
        origin: The origin in clientDataJSON.
        aaguid: The AAGUID in authenticator data and certificates.
    """

    def __init__(
        self,
        *,
        rp_id: str = "example.com",
        origin: str = "https://example.com",
        aaguid: bytes = bytes(range(16)),
    ) -> None:
        self.rp_id = rp_id
        self.origin = origin
        self.aaguid = aaguid
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mfakit test root")])
        self.root = self._ca(root_name, self.root_key, root_name, self.root_key, path_length=1)
        self.intermediate_key = ec.generate_private_key(ec.SECP256R1())
        self.intermediate = self._ca(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mfakit test intermediate")]),
            self.intermediate_key,
            root_name,
            self.root_key,
            path_length=0,
        )

    @staticmethod
    def _ca(
        subject: x509.Name,
        key: ec.EllipticCurvePrivateKey,
        issuer: x509.Name,
        issuer_key: ec.EllipticCurvePrivateKey,
        *,
        path_length: int | None,
        basic_constraints: bool | None = True,
        basic_constraints_critical: bool = True,
        key_cert_sign: bool | None = True,
        extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
        validity: tuple[datetime, datetime] = (_NOT_BEFORE, _NOT_AFTER),
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(validity[0])
            .not_valid_after(validity[1])
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
        )
        if basic_constraints is not None:
            value = x509.BasicConstraints(
                ca=basic_constraints, path_length=path_length if basic_constraints else None
            )
            builder = builder.add_extension(value, critical=basic_constraints_critical)
        if key_cert_sign is not None:
            usage = x509.KeyUsage(
                digital_signature=not key_cert_sign,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=key_cert_sign,
                crl_sign=key_cert_sign,
                encipher_only=False,
                decipher_only=False,
            )
            builder = builder.add_extension(usage, critical=True)
        for ext, critical in extensions:
            builder = builder.add_extension(ext, critical)
        return builder.sign(issuer_key, hashes.SHA256())

    def ca_certificate(
        self,
        common_name: str,
        *,
        issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
        path_length: int | None = None,
        basic_constraints: bool | None = True,
        basic_constraints_critical: bool = True,
        key_cert_sign: bool | None = True,
        extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
        validity: tuple[datetime, datetime] = (_NOT_BEFORE, _NOT_AFTER),
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        """A CA certificate and its key, self-signed unless ``issuer`` (certificate, key).

        The knobs reproduce what real attestation CAs do or must not do:
        ``basic_constraints`` is ``True`` (CA), ``False`` (``cA`` false) or
        ``None`` (no extension); ``basic_constraints_critical=False`` as on
        Yubico's U2F root; ``key_cert_sign`` ``True``/``False`` sets keyUsage
        (critical), ``None`` leaves it out; ``extensions`` adds others (e.g.
        the TPM-only EKUs of Microsoft's TPM intermediates).
        """
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        issuer_name, issuer_key = (
            (subject, key) if issuer is None else (issuer[0].subject, issuer[1])
        )
        cert = self._ca(
            subject,
            key,
            issuer_name,
            issuer_key,
            path_length=path_length,
            basic_constraints=basic_constraints,
            basic_constraints_critical=basic_constraints_critical,
            key_cert_sign=key_cert_sign,
            extensions=extensions,
            validity=validity,
        )
        return cert, key

    def leaf(
        self,
        public_key: Any,
        *,
        subject: x509.Name | None = None,
        extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
        basic_constraints: bool = True,
        issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
        validity: tuple[datetime, datetime] = (_NOT_BEFORE, _NOT_AFTER),
    ) -> x509.Certificate:
        """A leaf certificate for ``public_key`` issued by the intermediate.

        ``issuer`` (certificate, key) issues it instead: its name is the
        leaf's issuer name and its key signs (pass another key under the
        same certificate to forge a wrong signature).
        """
        issuer_cert, issuer_key = issuer or (self.intermediate, self.intermediate_key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject if subject is not None else self._packed_subject())
            .issuer_name(issuer_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(validity[0])
            .not_valid_after(validity[1])
        )
        if basic_constraints:
            builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        for ext, critical in extensions:
            builder = builder.add_extension(ext, critical)
        return builder.sign(issuer_key, hashes.SHA256())

    @staticmethod
    def _packed_subject() -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "AA"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mfakit tests"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
                x509.NameAttribute(NameOID.COMMON_NAME, "mfakit test authenticator"),
            ]
        )

    def _aaguid_extension(self, aaguid: bytes | None = None) -> x509.UnrecognizedExtension:
        value = b"\x04\x10" + (aaguid if aaguid is not None else self.aaguid)
        return x509.UnrecognizedExtension(_AAGUID_OID, value)

    # -- the common part of every registration ------------------------------------

    @staticmethod
    def _credential(alg: int) -> tuple[Any, bytes]:
        if alg == -7:
            key = ec.generate_private_key(ec.SECP256R1())
            numbers = key.public_key().public_numbers()
            cose = {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
            return key, cbor2.dumps(cose)
        if alg == -257:
            rsa_key = _rsa_key()
            pub = rsa_key.public_key().public_numbers()
            cose = {1: 3, 3: -257, -1: pub.n.to_bytes(256, "big"), -2: pub.e.to_bytes(3, "big")}
            return rsa_key, cbor2.dumps(cose)
        raise ValueError("the builder makes ES256 and RS256 credentials")

    def _registration(
        self,
        fmt: str,
        alg: int,
        make_statement: Any,
        *,
        challenge: bytes | None = None,
        aaguid: bytes | None = None,
    ) -> BuiltRegistration:
        challenge = challenge if challenge is not None else secrets.token_bytes(32)
        key, cose = self._credential(alg)
        credential_id = secrets.token_bytes(16)
        auth_data = (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([0x45])  # UP, UV, AT
            + (0).to_bytes(4, "big")
            + (self.aaguid if aaguid is None else aaguid)
            + len(credential_id).to_bytes(2, "big")
            + credential_id
            + cose
        )
        client_data = json.dumps(
            {"type": "webauthn.create", "challenge": _b64url(challenge), "origin": self.origin},
            separators=(",", ":"),
        ).encode()
        client_data_hash = hashlib.sha256(client_data).digest()
        att_stmt = make_statement(auth_data, client_data_hash, key)
        attestation_object = cbor2.dumps({"fmt": fmt, "attStmt": att_stmt, "authData": auth_data})
        response = {
            "id": _b64url(credential_id),
            "rawId": _b64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": _b64url(client_data),
                "attestationObject": _b64url(attestation_object),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }
        return BuiltRegistration(
            response=response,
            challenge=challenge,
            fmt=fmt,
            att_stmt=att_stmt,
            auth_data=auth_data,
            client_data_hash=client_data_hash,
            credential_private_key=key,
        )

    @staticmethod
    def _sign(key: Any, data: bytes, alg: int) -> bytes:
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hashes.SHA256()))
        if alg == -37:
            return key.sign(  # type: ignore[no-any-return]
                data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()
            )
        digest = hashes.SHA1() if alg == -65535 else hashes.SHA256()  # noqa: S303 - RS1 tests
        return key.sign(data, padding.PKCS1v15(), digest)  # type: ignore[no-any-return]

    @staticmethod
    def _der_certs(*certs: x509.Certificate) -> list[bytes]:
        return [c.public_bytes(serialization.Encoding.DER) for c in certs]

    # -- packed (§8.2) --------------------------------------------------------------

    def packed_statement(
        self,
        *,
        fault: str | None = None,
        issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
        x5c_tail: tuple[x509.Certificate, ...] | None = None,
    ) -> StatementMaker:
        """A ``packed`` statement with an x5c chain (leaf, intermediate), signed ES256.

        ``issuer`` (certificate, key) issues the leaf instead of the intermediate;
        ``x5c_tail`` replaces the certificates sent after the leaf.

        Faults: ``signature``.
        """
        attestation_key = ec.generate_private_key(ec.SECP256R1())
        leaf = self.leaf(
            attestation_key.public_key(),
            extensions=((self._aaguid_extension(), False),),
            issuer=issuer,
        )
        tail = (self.intermediate,) if x5c_tail is None else x5c_tail

        def statement(auth_data: bytes, cdh: bytes, _key: Any) -> dict[str, Any]:
            sig = attestation_key.sign(auth_data + cdh, ec.ECDSA(hashes.SHA256()))
            if fault == "signature":
                sig = attestation_key.sign(b"other", ec.ECDSA(hashes.SHA256()))
            return {"alg": -7, "sig": sig, "x5c": self._der_certs(leaf, *tail)}

        return statement

    # -- fido-u2f (§8.6) ------------------------------------------------------------

    def fido_u2f_statement(
        self,
        *,
        issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    ) -> StatementMaker:
        """A ``fido-u2f`` statement: one attestation certificate, as U2F devices send.

        The certificate is issued by ``issuer`` (certificate, key), by default
        the root, as Yubico's U2F certificates are issued by its root directly.
        """
        attestation_key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mfakit U2F EE")])
        leaf = self.leaf(
            attestation_key.public_key(),
            subject=subject,
            basic_constraints=False,
            issuer=issuer or (self.root, self.root_key),
        )

        def statement(auth_data: bytes, cdh: bytes, _key: Any) -> dict[str, Any]:
            # §8.6: verificationData = 0x00 || rpIdHash || clientDataHash || credentialId || key
            credential_id_length = int.from_bytes(auth_data[53:55], "big")
            credential_id = auth_data[55 : 55 + credential_id_length]
            cose = cbor2.loads(auth_data[55 + credential_id_length :])
            public_key = b"\x04" + cose[-2] + cose[-3]
            signed = b"\x00" + auth_data[:32] + cdh + credential_id + public_key
            sig = attestation_key.sign(signed, ec.ECDSA(hashes.SHA256()))
            return {"sig": sig, "x5c": self._der_certs(leaf)}

        return statement

    # -- tpm (§8.3) -----------------------------------------------------------------

    @staticmethod
    def tpm_pub_area(public_key: Any, *, name_alg: int = 0x000B) -> bytes:
        """``TPMT_PUBLIC`` of ``public_key`` (RSA 2048 or P-256), signing, no scheme."""
        attributes = (0x00060472).to_bytes(4, "big")
        head = name_alg.to_bytes(2, "big") + attributes + b"\x00\x00" + b"\x00\x10" + b"\x00\x10"
        if isinstance(public_key, rsa.RSAPublicKey):
            numbers = public_key.public_numbers()
            modulus = numbers.n.to_bytes(256, "big")
            exponent = 0 if numbers.e == 65537 else numbers.e
            return (
                b"\x00\x01"
                + head
                + (2048).to_bytes(2, "big")
                + exponent.to_bytes(4, "big")
                + len(modulus).to_bytes(2, "big")
                + modulus
            )
        point = public_key.public_numbers()
        x, y = point.x.to_bytes(32, "big"), point.y.to_bytes(32, "big")
        ecc: bytes = b"\x00\x23" + head + b"\x00\x03\x00\x10\x00\x20" + x + b"\x00\x20" + y
        return ecc

    @staticmethod
    def tpm_cert_info(
        extra_data: bytes,
        name: bytes,
        *,
        magic: int = 0xFF544347,
        tag: int = 0x8017,
    ) -> bytes:
        """``TPMS_ATTEST`` with a ``TPMS_CERTIFY_INFO`` for the Name ``name``."""
        signer = b"\x00\x0b" + bytes(32)
        return (
            magic.to_bytes(4, "big")
            + tag.to_bytes(2, "big")
            + len(signer).to_bytes(2, "big")
            + signer
            + len(extra_data).to_bytes(2, "big")
            + extra_data
            + (1234).to_bytes(8, "big")
            + (1).to_bytes(4, "big")
            + (0).to_bytes(4, "big")
            + b"\x01"
            + (0x2000).to_bytes(8, "big")
            + len(name).to_bytes(2, "big")
            + name
            + b"\x00\x00"
        )

    def aik_certificate(
        self,
        public_key: Any,
        *,
        manufacturer: str = DEFAULT_TPM_MANUFACTURER,
        fault: str | None = None,
        extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
        issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    ) -> x509.Certificate:
        """An AIK certificate meeting §8.3.1 (or breaking one rule, per ``fault``).

        ``extensions`` are added as they are (e.g. the critical certificatePolicies
        of Windows AIK certificates); ``issuer`` (certificate, key) issues it
        instead of the intermediate.
        """
        attributes = [
            x509.NameAttribute(_TCG_MANUFACTURER, manufacturer),
            x509.NameAttribute(_TCG_MODEL, "SLB9670"),
            x509.NameAttribute(_TCG_VERSION, "id:0D"),
        ]
        if fault == "aik_san_model":
            attributes = attributes[:1] + attributes[2:]
        aik_extensions: list[tuple[x509.ExtensionType, bool]] = []
        if fault != "aik_san":
            san = x509.SubjectAlternativeName([x509.DirectoryName(x509.Name(attributes))])
            aik_extensions.append((san, fault != "aik_san_not_critical"))
        eku = ExtendedKeyUsageOID.SERVER_AUTH if fault == "aik_eku" else _TCG_AIK_EKU
        if fault != "aik_no_eku":
            aik_extensions.append((x509.ExtendedKeyUsage([eku]), False))
        aaguid = bytes(16) if fault == "aik_aaguid" else self.aaguid
        aik_extensions.append((self._aaguid_extension(aaguid), False))
        subject = x509.Name([])
        if fault == "aik_subject":
            subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not empty")])
        if fault == "aik_ca":
            aik_extensions.append((x509.BasicConstraints(ca=True, path_length=None), True))
        return self.leaf(
            public_key,
            subject=subject,
            extensions=(*aik_extensions, *extensions),
            basic_constraints=fault not in ("aik_ca", "aik_basic_constraints"),
            issuer=issuer,
        )

    def tpm_statement(
        self,
        *,
        alg: int = -7,
        manufacturer: str = DEFAULT_TPM_MANUFACTURER,
        fault: str | None = None,
        aik_extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
        issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
        x5c_tail: tuple[x509.Certificate, ...] | None = None,
    ) -> StatementMaker:
        """A ``tpm`` statement; the AIK signs with ``alg`` (ES256, RS256, PS256 or RS1).

        ``aik_extensions`` are added to the AIK certificate, which ``issuer``
        (certificate, key) issues instead of the intermediate; ``x5c_tail``
        replaces the certificates sent after it.

        Faults: ``ver``, ``magic``, ``type``, ``extra_data``, ``name``, ``pub_area_key``,
        ``signature``, ``cert_info_trailing``, and the AIK ones of :meth:`aik_certificate`
        (``aik_subject``, ``aik_san``, ``aik_san_model``, ``aik_san_not_critical``,
        ``aik_eku``, ``aik_no_eku``, ``aik_ca``, ``aik_basic_constraints``, ``aik_aaguid``).
        """
        aik_key: Any = ec.generate_private_key(ec.SECP256R1()) if alg == -7 else _rsa_key()
        aik = self.aik_certificate(
            aik_key.public_key(),
            manufacturer=manufacturer,
            fault=fault,
            extensions=aik_extensions,
            issuer=issuer,
        )
        tail = (self.intermediate,) if x5c_tail is None else x5c_tail
        digest = {-7: "sha256", -257: "sha256", -37: "sha256", -65535: "sha1"}[alg]

        def statement(auth_data: bytes, cdh: bytes, key: Any) -> dict[str, Any]:
            public = key.public_key()
            if fault == "pub_area_key":
                public = ec.generate_private_key(ec.SECP256R1()).public_key()
            pub_area = self.tpm_pub_area(public)
            name = b"\x00\x0b" + hashlib.sha256(pub_area).digest()
            if fault == "name":
                name = b"\x00\x0b" + hashlib.sha256(pub_area + b"x").digest()
            extra = hashlib.new(digest, auth_data + cdh).digest()
            if fault == "extra_data":
                extra = hashlib.new(digest, auth_data).digest()
            cert_info = self.tpm_cert_info(
                extra,
                name,
                magic=0xFF544348 if fault == "magic" else 0xFF544347,
                tag=0x8018 if fault == "type" else 0x8017,
            )
            if fault == "cert_info_trailing":
                cert_info += b"\x00"
            sig = self._sign(aik_key, b"x" + cert_info if fault == "signature" else cert_info, alg)
            return {
                "ver": "1.2" if fault == "ver" else "2.0",
                "alg": alg,
                "x5c": self._der_certs(aik, *tail),
                "sig": sig,
                "certInfo": cert_info,
                "pubArea": pub_area,
            }

        return statement

    # -- android-key (§8.4) -----------------------------------------------------------

    def android_key_statement(self, *, fault: str | None = None) -> StatementMaker:
        """An ``android-key`` statement; x5c is (leaf, intermediate), the root omitted.

        Faults: ``signature``, ``key_mismatch``, ``challenge``, ``all_applications``,
        ``origin``, ``purpose``, ``software_only``, ``no_extension``, ``bad_der``.
        """

        def statement(auth_data: bytes, cdh: bytes, key: Any) -> dict[str, Any]:
            tee: dict[str, Any] = {"purpose": 2, "origin": 0}
            software: dict[str, Any] = {}
            if fault == "origin":
                tee["origin"] = 2  # KM_ORIGIN_IMPORTED
            if fault == "purpose":
                tee["purpose"] = 0  # KM_PURPOSE_ENCRYPT
            if fault == "all_applications":
                software["all_applications"] = True
            if fault == "software_only":
                tee, software = {}, {"purpose": 2, "origin": 0}
            challenge = bytes(32) if fault == "challenge" else cdh
            description = der_key_description(challenge, tee=tee, software=software)
            if fault == "bad_der":
                description = description[:-1]
            signer = key
            if fault == "key_mismatch":  # a valid signature by a key that is not the credential's
                signer = ec.generate_private_key(ec.SECP256R1())
            public = signer.public_key()
            extensions: tuple[tuple[x509.ExtensionType, bool], ...] = ()
            if fault != "no_extension":
                ext = x509.UnrecognizedExtension(_ANDROID_KEY_OID, description)
                extensions = ((ext, False),)
            subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Android Keystore Key")])
            leaf = self.leaf(public, subject=subject, extensions=extensions)
            signed = b"x" + auth_data + cdh if fault == "signature" else auth_data + cdh
            return {
                "alg": -7,
                "sig": signer.sign(signed, ec.ECDSA(hashes.SHA256())),
                "x5c": self._der_certs(leaf, self.intermediate),
            }

        return statement

    # -- android-safetynet (§8.5) -----------------------------------------------------

    def safetynet_jws(
        self, payload: Mapping[str, Any], *, hostname: str = "attest.android.com", san: bool = True
    ) -> bytes:
        """A compact JWS (RS256) over ``payload`` with an x5c chain to the test root.

        The leaf names ``hostname`` in its CN and, when ``san``, in a DNS SAN.
        """
        key = _rsa_key()
        extensions: tuple[tuple[x509.ExtensionType, bool], ...] = ()
        if san:
            extensions = ((x509.SubjectAlternativeName([x509.DNSName(hostname)]), False),)
        leaf = self.leaf(
            key.public_key(),
            subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]),
            extensions=extensions,
        )
        header = {
            "alg": "RS256",
            "x5c": [base64.b64encode(d).decode() for d in self._der_certs(leaf, self.intermediate)],
        }
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(payload).encode())
        )
        sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return (signing_input + "." + _b64url(sig)).encode()

    def android_safetynet_statement(
        self, *, now: datetime, fault: str | None = None
    ) -> StatementMaker:
        """An ``android-safetynet`` statement whose response was made at ``now``.

        Faults: ``ver``, ``nonce``, ``cts_profile``, ``timestamp``, ``no_timestamp``,
        ``hostname``, ``cn_hostname`` (no SAN, CN elsewhere), ``signature``, ``not_jws``;
        ``cn_only`` is valid (the host name in the CN alone).
        """

        def statement(auth_data: bytes, cdh: bytes, _key: Any) -> dict[str, Any]:
            nonce_input = auth_data if fault == "nonce" else auth_data + cdh
            stamp = int(now.timestamp() * 1000) - (3_600_000 if fault == "timestamp" else 0)
            payload: dict[str, Any] = {
                "nonce": base64.b64encode(hashlib.sha256(nonce_input).digest()).decode(),
                "timestampMs": stamp,
                "apkPackageName": "com.google.android.gms",
                "ctsProfileMatch": fault != "cts_profile",
                "basicIntegrity": True,
            }
            if fault == "no_timestamp":
                del payload["timestampMs"]
            host = (
                "attest.example.com"
                if fault in ("hostname", "cn_hostname")
                else "attest.android.com"
            )
            response = self.safetynet_jws(
                payload, hostname=host, san=fault not in ("cn_only", "cn_hostname")
            )
            if fault == "signature":
                head, body, sig = response.split(b".")
                raw = bytearray(base64.urlsafe_b64decode(sig + b"=" * (-len(sig) % 4)))
                raw[-1] ^= 1
                response = b".".join((head, body, _b64url(bytes(raw)).encode()))
            if fault == "not_jws":
                response = b"not a jws"
            return {"ver": "" if fault == "ver" else "214815028", "response": response}

        return statement

    # -- apple (§8.8) -----------------------------------------------------------------

    def apple_statement(self, *, fault: str | None = None) -> StatementMaker:
        """An ``apple`` statement: credCert holds the nonce and the credential key.

        Faults: ``nonce``, ``key_mismatch``, ``no_extension``, ``extra_member``
        (an unknown ``ver`` member), ``alg_other`` (an ``alg`` member that is not the
        credential's), ``alg_not_int``; ``alg_equal`` is valid (the ``alg`` member
        2020-era Apple devices send, equal to the credential's algorithm).
        """

        def statement(auth_data: bytes, cdh: bytes, key: Any) -> dict[str, Any]:
            nonce = hashlib.sha256(auth_data + (b"" if fault == "nonce" else cdh)).digest()
            value = bytes.fromhex("3024a1220420") + nonce
            extensions: tuple[tuple[x509.ExtensionType, bool], ...] = ()
            if fault != "no_extension":
                extensions = ((x509.UnrecognizedExtension(_APPLE_NONCE_OID, value), False),)
            public = key.public_key()
            if fault == "key_mismatch":
                public = ec.generate_private_key(ec.SECP256R1()).public_key()
            subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "credential")])
            leaf = self.leaf(public, subject=subject, extensions=extensions)
            stmt: dict[str, Any] = {"x5c": self._der_certs(leaf, self.intermediate)}
            if fault == "extra_member":
                stmt["ver"] = "1"
            alg = {"alg_equal": -7, "alg_other": -257, "alg_not_int": "-7"}.get(fault or "")
            if alg is not None:
                stmt["alg"] = alg
            return stmt

        return statement

    # -- compound (§8.9) --------------------------------------------------------------

    def compound_statement(self, *, fault: str | None = None) -> StatementMaker:
        """A ``compound`` statement of an ``apple`` and an ``android-key`` statement.

        Faults: ``single`` (one statement), ``nested`` (a compound inside),
        ``inner`` (the apple statement's nonce is wrong), ``not_map``.
        """

        def statement(auth_data: bytes, cdh: bytes, key: Any) -> list[Any]:
            # Re-make both statements for this credential and ceremony.
            parts: list[Any] = [
                {"fmt": "apple", "attStmt": apple_for(auth_data, cdh, key)},
                {"fmt": "android-key", "attStmt": android_for(auth_data, cdh, key)},
            ]
            if fault == "single":
                return parts[:1]
            if fault == "nested":
                parts.append({"fmt": "compound", "attStmt": {}})
            if fault == "not_map":
                parts.append(["fmt", "apple"])
            return parts

        def apple_for(auth_data: bytes, cdh: bytes, key: Any) -> dict[str, Any]:
            nonce = hashlib.sha256(auth_data + (b"" if fault == "inner" else cdh)).digest()
            ext = x509.UnrecognizedExtension(
                _APPLE_NONCE_OID, bytes.fromhex("3024a1220420") + nonce
            )
            leaf = self.leaf(
                key.public_key(),
                subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "credential")]),
                extensions=((ext, False),),
            )
            return {"x5c": self._der_certs(leaf, self.intermediate)}

        def android_for(auth_data: bytes, cdh: bytes, key: Any) -> dict[str, Any]:
            ext = x509.UnrecognizedExtension(_ANDROID_KEY_OID, der_key_description(cdh))
            leaf = self.leaf(
                key.public_key(),
                subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Android Keystore")]),
                extensions=((ext, False),),
            )
            return {
                "alg": -7,
                "sig": key.sign(auth_data + cdh, ec.ECDSA(hashes.SHA256())),
                "x5c": self._der_certs(leaf, self.intermediate),
            }

        return statement

    # -- whole registrations (one per format) ------------------------------------------

    def packed(
        self, *, fault: str | None = None, challenge: bytes | None = None, **chain: Any
    ) -> BuiltRegistration:
        """A ``packed`` x5c registration (see :meth:`packed_statement`).

        ``challenge`` answers a given challenge (a relying party's options);
        default: a fresh random one.
        """
        return self._registration(
            "packed", -7, self.packed_statement(fault=fault, **chain), challenge=challenge
        )

    def fido_u2f(self, **chain: Any) -> BuiltRegistration:
        """A ``fido-u2f`` registration (see :meth:`fido_u2f_statement`); zero AAGUID."""
        statement = self.fido_u2f_statement(**chain)
        return self._registration("fido-u2f", -7, statement, aaguid=bytes(16))

    def tpm(
        self,
        *,
        alg: int = -7,
        credential_alg: int = -7,
        manufacturer: str = DEFAULT_TPM_MANUFACTURER,
        fault: str | None = None,
        **chain: Any,
    ) -> BuiltRegistration:
        """A ``tpm`` registration of a ``credential_alg`` key (see :meth:`tpm_statement`)."""
        statement = self.tpm_statement(alg=alg, manufacturer=manufacturer, fault=fault, **chain)
        return self._registration("tpm", credential_alg, statement)

    def android_key(self, *, fault: str | None = None) -> BuiltRegistration:
        """An ``android-key`` registration (see :meth:`android_key_statement`)."""
        return self._registration("android-key", -7, self.android_key_statement(fault=fault))

    def android_safetynet(self, *, now: datetime, fault: str | None = None) -> BuiltRegistration:
        """An ``android-safetynet`` registration (see :meth:`android_safetynet_statement`)."""
        statement = self.android_safetynet_statement(now=now, fault=fault)
        return self._registration("android-safetynet", -7, statement)

    def apple(self, *, fault: str | None = None) -> BuiltRegistration:
        """An ``apple`` registration (see :meth:`apple_statement`)."""
        return self._registration("apple", -7, self.apple_statement(fault=fault))

    def compound(self, *, fault: str | None = None) -> BuiltRegistration:
        """A ``compound`` registration (see :meth:`compound_statement`)."""
        return self._registration("compound", -7, self.compound_statement(fault=fault))

    def soft_authenticator_hook(
        self, fmt: str, **options: Any
    ) -> Callable[[bytes, bytes, Any], tuple[str, Any]]:
        """A statement maker for ``SoftAuthenticator(attestation_statement=...)``.

        ``fmt`` is ``packed``, ``fido-u2f``, ``tpm``, ``android-key``, ``android-safetynet``,
        ``apple`` or ``compound``; ``options`` go to the matching
        ``*_statement`` method (``fault=``, ``now=`` for SafetyNet, ...).
        """
        makers: dict[str, Callable[..., StatementMaker]] = {
            "packed": self.packed_statement,
            "fido-u2f": self.fido_u2f_statement,
            "tpm": self.tpm_statement,
            "android-key": self.android_key_statement,
            "android-safetynet": self.android_safetynet_statement,
            "apple": self.apple_statement,
            "compound": self.compound_statement,
        }
        make = makers[fmt](**options)

        def hook(auth_data: bytes, client_data_hash: bytes, key: Any) -> tuple[str, Any]:
            return fmt, make(auth_data, client_data_hash, key)

        return hook

    # -- FIDO metadata (MDS3) ---------------------------------------------------------

    def metadata_blob(
        self,
        entries: list[dict[str, Any]],
        *,
        no: int = 1,
        next_update: str = "2124-01-01",
        alg: str = "ES256",
    ) -> str:
        """A metadata BLOB (a JWT, MDS3 §3.1.7) signed under this CA: the tests' "FIDO root".

        ``alg`` is ``ES256``, ``RS256`` or ``PS256``.
        """
        key: Any = ec.generate_private_key(ec.SECP256R1()) if alg == "ES256" else _rsa_key()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mfakit test MDS signer")])
        leaf = self.leaf(key.public_key(), subject=subject)
        header = {
            "alg": alg,
            "typ": "JWT",
            "x5c": [base64.b64encode(d).decode() for d in self._der_certs(leaf, self.intermediate)],
        }
        payload = {
            "legalHeader": "Test metadata: not for production.",
            "no": no,
            "nextUpdate": next_update,
            "entries": entries,
        }
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(payload).encode())
        ).encode()
        if alg == "ES256":
            sig = ecdsa_raw(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        elif alg == "PS256":
            sig = key.sign(
                signing_input, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()
            )
        else:
            sig = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signing_input.decode() + "." + _b64url(sig)

    def metadata_entry(
        self,
        *,
        description: str = "mfakit Test Key 5 NFC",
        statuses: tuple[tuple[str, str], ...] = (("FIDO_CERTIFIED_L1", "2024-01-01"),),
        aaguid: bytes | None = None,
        key_identifiers: tuple[str, ...] = (),
        roots: tuple[x509.Certificate, ...] | None = None,
    ) -> dict[str, Any]:
        """A ``MetadataBLOBPayloadEntry`` for this builder's model (its root as anchor)."""
        model = aaguid if aaguid is not None else self.aaguid
        root_certs = roots if roots is not None else (self.root,)
        statement: dict[str, Any] = {
            "description": description,
            "icon": "data:image/png;base64,iVBORw0KGgo=",
            "attestationRootCertificates": [
                base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
                for c in root_certs
            ],
        }
        entry: dict[str, Any] = {
            "metadataStatement": statement,
            "statusReports": [{"status": s, "effectiveDate": d} for s, d in statuses],
            "timeOfLastStatusChange": "2024-01-01",
        }
        if key_identifiers:
            entry["attestationCertificateKeyIdentifiers"] = list(key_identifiers)
        else:
            entry["aaguid"] = str(uuid.UUID(bytes=model))
        return entry

    # -- revocation -------------------------------------------------------------------

    def crl(
        self, *, revoked: tuple[x509.Certificate, ...] = (), issuer: str = "intermediate"
    ) -> x509.CertificateRevocationList:
        """A CRL of the intermediate (or the root) listing ``revoked``, current until 2124."""
        name, key = (
            (self.intermediate.subject, self.intermediate_key)
            if issuer == "intermediate"
            else (self.root.subject, self.root_key)
        )
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(name)
            .last_update(_NOT_BEFORE)
            .next_update(_NOT_AFTER)
        )
        for cert in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(cert.serial_number)
                .revocation_date(_NOT_BEFORE)
                .build()
            )
        return builder.sign(key, hashes.SHA256())


def ecdsa_raw(signature_der: bytes, size: int = 32) -> bytes:
    """A DER ECDSA signature as JWS ``r || s``."""
    r, s = decode_dss_signature(signature_der)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")
