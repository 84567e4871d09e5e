"""Hand-built WebAuthn inputs for the verifier's tests (cryptography + cbor2 only).

These helpers are independent of mfakit's parsers: they encode with cbor2 and
sign with cryptography, the way an authenticator and a browser would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, padding, rsa
from cryptography.x509.oid import NameOID

RP_ID = "example.com"
ORIGIN = "https://example.com"
CHALLENGE = b"\x01" * 32
NOW = datetime(2026, 6, 1, tzinfo=UTC)

UP, UV, BE, BS, AT, ED = 0x01, 0x04, 0x08, 0x10, 0x40, 0x80

_EC = {
    -7: (ec.SECP256R1, hashes.SHA256, 1, 32),
    -35: (ec.SECP384R1, hashes.SHA384, 2, 48),
    -36: (ec.SECP521R1, hashes.SHA512, 3, 66),
    # RFC 9864 fully specified ECDSA: ESP256, ESP384, ESP512.
    -9: (ec.SECP256R1, hashes.SHA256, 1, 32),
    -51: (ec.SECP384R1, hashes.SHA384, 2, 48),
    -52: (ec.SECP521R1, hashes.SHA512, 3, 66),
}
_RSA_HASH = {
    -257: hashes.SHA256,
    -258: hashes.SHA384,
    -259: hashes.SHA512,
    -65535: hashes.SHA1,
    -37: hashes.SHA256,
    -38: hashes.SHA384,
    -39: hashes.SHA512,
}
_MLDSA = {-48: mldsa.MLDSA44PrivateKey, -49: mldsa.MLDSA65PrivateKey, -50: mldsa.MLDSA87PrivateKey}


def b64(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def generate_key(alg: int) -> Any:
    """A fresh private key for COSE ``alg``."""
    if alg in _EC:
        return ec.generate_private_key(_EC[alg][0]())
    if alg in _RSA_HASH:
        return rsa.generate_private_key(65537, 2048)
    if alg in (-8, -19):
        return ed25519.Ed25519PrivateKey.generate()
    if alg == -53:
        return ed448.Ed448PrivateKey.generate()
    return _MLDSA[alg].generate()


def cose_map(private: Any, alg: int) -> dict[int, Any]:
    """The COSE_Key map of ``private``'s public key under ``alg``."""
    pub = private.public_key()
    if alg in _EC:
        nums = pub.public_numbers()
        size = _EC[alg][3]
        return {
            1: 2,
            3: alg,
            -1: _EC[alg][2],
            -2: nums.x.to_bytes(size, "big"),
            -3: nums.y.to_bytes(size, "big"),
        }
    if alg in _RSA_HASH:
        nums = pub.public_numbers()
        return {1: 3, 3: alg, -1: nums.n.to_bytes(256, "big"), -2: nums.e.to_bytes(3, "big")}
    if alg in (-8, -19, -53):
        return {1: 1, 3: alg, -1: 7 if alg == -53 else 6, -2: pub.public_bytes_raw()}
    return {1: 7, 3: alg, -1: pub.public_bytes_raw()}


def sign(private: Any, alg: int, data: bytes) -> bytes:
    """Sign ``data`` the way COSE ``alg`` says."""
    if alg in _EC:
        return private.sign(data, ec.ECDSA(_EC[alg][1]()))
    if alg in (-37, -38, -39):
        h = _RSA_HASH[alg]()
        return private.sign(data, padding.PSS(padding.MGF1(h), h.digest_size), h)
    if alg in _RSA_HASH:
        return private.sign(data, padding.PKCS1v15(), _RSA_HASH[alg]())
    return private.sign(data)


def client_data(
    kind: str, *, challenge: bytes = CHALLENGE, origin: str = ORIGIN, **extra: Any
) -> bytes:
    """clientDataJSON as a browser serializes it."""
    obj = {"type": kind, "challenge": b64(challenge), "origin": origin, "crossOrigin": False}
    obj.update(extra)
    return json.dumps(obj, separators=(",", ":")).encode()


def auth_data(
    *,
    rp_id: str = RP_ID,
    flags: int = UP,
    count: int = 0,
    aaguid: bytes = bytes(16),
    cred_id: bytes | None = None,
    cose: bytes | None = None,
    ext: dict[str, Any] | None = None,
) -> bytes:
    """Authenticator data; attested credential data when ``cred_id`` is given."""
    out = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + count.to_bytes(4, "big")
    if cred_id is not None:
        assert cose is not None
        out += aaguid + len(cred_id).to_bytes(2, "big") + cred_id + cose
    if ext is not None:
        out += cbor2.dumps(ext)
    return out


@dataclass
class Credential:
    """A software credential: key, algorithm, id, COSE bytes."""

    alg: int
    private: Any
    cred_id: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def cose(self) -> bytes:
        """The COSE_Key bytes."""
        return cbor2.dumps(cose_map(self.private, self.alg))

    @classmethod
    def new(cls, alg: int = -7) -> Credential:
        """A fresh credential."""
        return cls(alg=alg, private=generate_key(alg))


def registration(
    cred: Credential,
    *,
    fmt: str = "none",
    att_stmt: dict[str, Any] | None = None,
    flags: int = UP | AT,
    cd: bytes | None = None,
    ad: bytes | None = None,
    aaguid: bytes = bytes(16),
    transports: list[str] | None = None,
    signer: Any = None,
    x5c: list[bytes] | None = None,
) -> dict[str, Any]:
    """A RegistrationResponseJSON. ``signer`` (private, alg) makes a packed statement."""
    cd = cd if cd is not None else client_data("webauthn.create")
    ad = (
        ad
        if ad is not None
        else auth_data(flags=flags, cred_id=cred.cred_id, cose=cred.cose, aaguid=aaguid)
    )
    if att_stmt is None:
        att_stmt = {}
        if fmt == "packed":
            key, alg = signer if signer is not None else (cred.private, cred.alg)
            att_stmt = {"alg": alg, "sig": sign(key, alg, ad + hashlib.sha256(cd).digest())}
            if x5c is not None:
                att_stmt["x5c"] = x5c
    obj = cbor2.dumps({"fmt": fmt, "attStmt": att_stmt, "authData": ad})
    return {
        "id": b64(cred.cred_id),
        "rawId": b64(cred.cred_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64(cd),
            "attestationObject": b64(obj),
            "transports": transports if transports is not None else ["usb"],
        },
        "clientExtensionResults": {},
        "authenticatorAttachment": "cross-platform",
    }


def assertion(
    cred: Credential,
    *,
    flags: int = UP,
    count: int = 1,
    cd: bytes | None = None,
    ad: bytes | None = None,
    user_handle: bytes | None = None,
    signature: bytes | None = None,
) -> dict[str, Any]:
    """An AuthenticationResponseJSON."""
    cd = cd if cd is not None else client_data("webauthn.get")
    ad = ad if ad is not None else auth_data(flags=flags, count=count)
    sig = (
        signature
        if signature is not None
        else sign(cred.private, cred.alg, ad + hashlib.sha256(cd).digest())
    )
    resp: dict[str, Any] = {
        "clientDataJSON": b64(cd),
        "authenticatorData": b64(ad),
        "signature": b64(sig),
    }
    if user_handle is not None:
        resp["userHandle"] = b64(user_handle)
    return {
        "id": b64(cred.cred_id),
        "rawId": b64(cred.cred_id),
        "type": "public-key",
        "response": resp,
        "clientExtensionResults": {},
    }


def _name(cn: str, ou: str | None = "Authenticator Attestation") -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mfakit tests"),
    ]
    if ou is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


@dataclass
class Chain:
    """A root CA, optional intermediate, and an attestation leaf."""

    root: x509.Certificate
    leaf: x509.Certificate
    leaf_key: Any
    intermediates: list[x509.Certificate]

    @property
    def x5c(self) -> list[bytes]:
        """The x5c array (leaf first), DER."""
        from cryptography.hazmat.primitives.serialization import Encoding

        return [c.public_bytes(Encoding.DER) for c in [self.leaf, *self.intermediates]]


def _ca_cert(
    subject: x509.Name,
    key: Any,
    issuer: x509.Name,
    issuer_key: Any,
    *,
    path_length: int | None,
    not_after: datetime,
) -> x509.Certificate:
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=365))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
    )
    if issuer_key is not key:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_chain(
    *,
    aaguid: bytes | None = bytes(16),
    intermediate: bool = False,
    leaf_ou: str | None = "Authenticator Attestation",
    leaf_ca: bool | None = False,
    aaguid_critical: bool = False,
    leaf_not_after: datetime | None = None,
    leaf_key: Any = None,
    version1: bool = False,
) -> Chain:
    """An attestation chain with knobs to break §8.2.1 requirements."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("mfakit test root", ou=None)
    root = _ca_cert(
        root_name,
        root_key,
        root_name,
        root_key,
        path_length=None,
        not_after=NOW + timedelta(days=3650),
    )
    issuer, issuer_key, inters = root_name, root_key, []
    if intermediate:
        int_key = ec.generate_private_key(ec.SECP256R1())
        int_name = _name("mfakit test intermediate", ou=None)
        inters.append(
            _ca_cert(
                int_name,
                int_key,
                root_name,
                root_key,
                path_length=0,
                not_after=NOW + timedelta(days=3650),
            )
        )
        issuer, issuer_key = int_name, int_key
    leaf_key = leaf_key if leaf_key is not None else ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name("mfakit test authenticator", ou=leaf_ou))
        .issuer_name(issuer)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=30))
        .not_valid_after(leaf_not_after or NOW + timedelta(days=3650))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if leaf_ca is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=leaf_ca, path_length=None), critical=True
        )
    if aaguid is not None:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4"), b"\x04\x10" + aaguid
            ),
            critical=aaguid_critical,
        )
    leaf = builder.sign(issuer_key, hashes.SHA256())
    return Chain(root=root, leaf=leaf, leaf_key=leaf_key, intermediates=inters)
