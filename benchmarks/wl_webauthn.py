"""WebAuthn workloads: assertions (cached key and COSE bytes) and registrations.

Inputs are hand-built with ``cryptography`` and ``cbor2`` (as an authenticator
would) and shared by every implementation. Each ``check`` verifies a valid
response and refuses the same response with one signature byte flipped.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

import cbor2
from _harness import Impl, Workload
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from mfakit import webauthn as mw
from mfakit.errors import MfaError
from mfakit.webauthn._cose import cached_credential_public_key

RP_ID = "example.com"
ORIGIN = "https://example.com"
CHALLENGE = bytes(range(32))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _client_data(kind: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": _b64(CHALLENGE), "origin": ORIGIN, "crossOrigin": False},
        separators=(",", ":"),
    ).encode()


def _rp_hash() -> bytes:
    return hashlib.sha256(RP_ID.encode()).digest()


class _Key:
    """A credential key with its COSE form and signing function."""

    def __init__(self, alg: str) -> None:
        self.alg = alg
        if alg == "ES256":
            self.private: Any = ec.generate_private_key(ec.SECP256R1())
            n = self.private.public_key().public_numbers()
            cose = {1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"), -3: n.y.to_bytes(32, "big")}
            self.extra: tuple[Any, ...] = (ec.ECDSA(hashes.SHA256()),)
        elif alg == "RS256":
            self.private = rsa.generate_private_key(65537, 2048)
            n = self.private.public_key().public_numbers()
            cose = {1: 3, 3: -257, -1: n.n.to_bytes(256, "big"), -2: n.e.to_bytes(3, "big")}
            self.extra = (padding.PKCS1v15(), hashes.SHA256())
        else:
            self.private = ed25519.Ed25519PrivateKey.generate()
            cose = {1: 1, 3: -8, -1: 6, -2: self.private.public_key().public_bytes_raw()}
            self.extra = ()
        self.pub = self.private.public_key()
        self.cose = cbor2.dumps(cose)

    def reference(self, sig: bytes, data: bytes) -> Callable[[], object]:
        """One verify call with everything pre-parsed (a C-level partial, no lambda)."""
        return functools.partial(self.pub.verify, sig, data, *self.extra)

    def sign(self, data: bytes) -> bytes:
        if self.alg == "ES256":
            return bytes(self.private.sign(data, ec.ECDSA(hashes.SHA256())))
        if self.alg == "RS256":
            return bytes(self.private.sign(data, padding.PKCS1v15(), hashes.SHA256()))
        return bytes(self.private.sign(data))


def _tamper(response: dict[str, Any]) -> dict[str, Any]:
    bad = copy.deepcopy(response)
    key = "signature" if "signature" in bad["response"] else "attestationObject"
    raw = bytearray(base64.urlsafe_b64decode(bad["response"][key] + "=="))
    raw[-1] ^= 1
    bad["response"][key] = _b64(bytes(raw))
    return bad


def _rejects(fn: Callable[[], object], *errors: type[BaseException]) -> bool:
    try:
        fn()
    except errors:
        return True
    return False


def _assertion_workload(alg: str) -> list[Workload]:
    key = _Key(alg)
    cred_id = b"\x07" * 16
    auth_data = _rp_hash() + b"\x01" + (5).to_bytes(4, "big")
    cd = _client_data("webauthn.get")
    signed = auth_data + hashlib.sha256(cd).digest()
    sig = key.sign(signed)
    response = {
        "id": _b64(cred_id),
        "rawId": _b64(cred_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": _b64(cd),
            "authenticatorData": _b64(auth_data),
            "signature": _b64(sig),
        },
        "clientExtensionResults": {},
    }
    bad = _tamper(response)
    cached = mw.parse_credential_public_key(key.cose)

    def ours(resp: dict[str, Any], cose: bytes | mw.CredentialPublicKey) -> object:
        return mw.verify_authentication(
            resp,
            expected_challenge=CHALLENGE,
            expected_origins=ORIGIN,
            expected_rp_id=RP_ID,
            credential_public_key=cose,
            current_sign_count=4,
        )

    import webauthn as pw

    def py_webauthn(resp: dict[str, Any]) -> object:
        return pw.verify_authentication_response(
            credential=resp,
            expected_challenge=CHALLENGE,
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            credential_public_key=key.cose,
            credential_current_sign_count=4,
        )

    from fido2.server import Fido2Server
    from fido2.webauthn import AttestedCredentialData, PublicKeyCredentialRpEntity

    server = Fido2Server(PublicKeyCredentialRpEntity(name="Example", id=RP_ID))
    fido_creds = [AttestedCredentialData.create(bytes(16), cred_id, cbor2.loads(key.cose))]
    state = {"challenge": _b64(CHALLENGE), "user_verification": None}

    def fido2(resp: dict[str, Any]) -> object:
        return server.authenticate_complete(state, fido_creds, resp)

    ref_op = key.reference(sig, signed)

    def ref_check() -> None:
        ref_op()
        if not _rejects(key.reference(sig, signed[:-1] + b"\x00"), Exception):
            raise AssertionError("check failed")

    def check(
        fn: Callable[[dict[str, Any]], object], *errors: type[BaseException]
    ) -> Callable[[], None]:
        def run() -> None:
            fn(response)
            if not (_rejects(lambda: fn(bad), *errors)):
                raise AssertionError("check failed")

        return run

    reference = Impl(name="cryptography verify", op=ref_op, check=ref_check)
    # Every timed op is a functools.partial of the library's own entry point,
    # like the reference: no Python wrapper frame is timed for anyone.
    peers = [
        Impl(
            name="py_webauthn",
            op=functools.partial(
                pw.verify_authentication_response,
                credential=response,
                expected_challenge=CHALLENGE,
                expected_rp_id=RP_ID,
                expected_origin=ORIGIN,
                credential_public_key=key.cose,
                credential_current_sign_count=4,
            ),
            check=check(py_webauthn, Exception),
        ),
        Impl(
            name="fido2",
            op=functools.partial(server.authenticate_complete, state, fido_creds, response),
            check=check(fido2, Exception),
        ),
    ]
    ours_args = {
        "expected_challenge": CHALLENGE,
        "expected_origins": ORIGIN,
        "expected_rp_id": RP_ID,
        "current_sign_count": 4,
    }
    cached_impl = Impl(
        name="mfakit (cached key)",
        op=functools.partial(
            mw.verify_authentication, response, credential_public_key=cached, **ours_args
        ),
        check=check(lambda r: ours(r, cached), MfaError),
    )
    cose_impl = Impl(
        name="mfakit (COSE bytes)",
        op=functools.partial(
            mw.verify_authentication, response, credential_public_key=key.cose, **ours_args
        ),
        check=check(lambda r: ours(r, key.cose), MfaError),
    )
    # verify_authentication keeps recently parsed COSE keys in a small bounded
    # cache; this row clears it before every call, so it shows the full
    # decode-and-load cost of a key seen for the first time (no target).
    clear_key_cache = cached_credential_public_key.cache_clear

    def ours_uncached(resp: dict[str, Any]) -> object:
        clear_key_cache()
        return ours(resp, key.cose)

    uncached_impl = Impl(
        name="mfakit (COSE bytes, key cache cleared)",
        op=lambda: ours_uncached(response),
        check=check(ours_uncached, MfaError),
    )
    target = {"ES256": 0.75, "RS256": 0.60, "EdDSA": 0.75}[alg]
    return [
        Workload(
            name=f"webauthn-assert-{alg}",
            description=f"verify one {alg} assertion; reference = one cryptography verify",
            reference=reference,
            impls=[cached_impl, cose_impl, uncached_impl, *peers],
            targets={"mfakit (cached key)": target},
            # py_webauthn decodes and loads the key on every call: compare it
            # with the row that does the same (key cache cleared).
            peer_targets={("mfakit (COSE bytes, key cache cleared)", "py_webauthn"): 1.15},
        )
    ]


def _name(cn: str, ou: str | None) -> x509.Name:
    from cryptography.x509.oid import NameOID

    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mfakit bench"),
    ]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _packed_chain() -> tuple[x509.Certificate, x509.Certificate, Any]:
    import datetime as dt

    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2045, 1, 1, tzinfo=dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("bench root", None)
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("bench authenticator", "Authenticator Attestation"))
        .issuer_name(root_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4"), b"\x04\x10" + bytes(16)
            ),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    return root, leaf, leaf_key


def _registration_workload(fmt: str) -> Workload:
    import datetime as dt

    key = _Key("ES256")
    cred_id = b"\x09" * 16
    auth_data = (
        _rp_hash()
        + b"\x41"
        + bytes(4)
        + bytes(16)
        + len(cred_id).to_bytes(2, "big")
        + cred_id
        + key.cose
    )
    cd = _client_data("webauthn.create")
    signed = auth_data + hashlib.sha256(cd).digest()
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    if fmt == "none":
        stmt: dict[str, Any] = {}
        policy = None
        roots: dict[Any, list[bytes]] | None = None
        ref_key, ref_sig = key.pub, key.sign(signed)
    else:
        root, leaf, leaf_key = _packed_chain()
        sig = bytes(leaf_key.sign(signed, ec.ECDSA(hashes.SHA256())))
        stmt = {"alg": -7, "sig": sig, "x5c": [leaf.public_bytes(Encoding.DER)]}
        policy = mw.AttestationPolicy(trust_anchors=[root], require_trusted=True)
        from webauthn.helpers.structs import AttestationFormat

        roots = {AttestationFormat.PACKED: [root.public_bytes(Encoding.PEM)]}
        ref_key, ref_sig = leaf_key.public_key(), sig
    att_obj = cbor2.dumps({"fmt": fmt, "attStmt": stmt, "authData": auth_data})
    response = {
        "id": _b64(cred_id),
        "rawId": _b64(cred_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": _b64(cd),
            "attestationObject": _b64(att_obj),
            "transports": ["usb"],
        },
        "clientExtensionResults": {},
    }
    # The tampered response breaks the attestation signature (packed) or adds a
    # member to the "none" statement, which must be empty.
    if fmt == "none":
        bad = copy.deepcopy(response)
        bad_obj = cbor2.dumps({"fmt": fmt, "attStmt": {"sig": b"x"}, "authData": auth_data})
        bad["response"]["attestationObject"] = _b64(bad_obj)
    else:
        bad = _tamper(response)

    def ours(resp: dict[str, Any]) -> object:
        return mw.verify_registration(
            resp,
            expected_challenge=CHALLENGE,
            expected_origins=ORIGIN,
            expected_rp_id=RP_ID,
            attestation=policy,
            now=now,
        )

    import webauthn as pw

    def py_webauthn(resp: dict[str, Any]) -> object:
        return pw.verify_registration_response(
            credential=resp,
            expected_challenge=CHALLENGE,
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            pem_root_certs_bytes_by_fmt=roots,
        )

    def check(
        fn: Callable[[dict[str, Any]], object], *errors: type[BaseException]
    ) -> Callable[[], None]:
        def run() -> None:
            fn(response)
            if not (_rejects(lambda: fn(bad), *errors)):
                raise AssertionError("check failed")

        return run

    ecdsa = ec.ECDSA(hashes.SHA256())

    def ref_check() -> None:
        ref_key.verify(ref_sig, signed, ecdsa)
        if not (_rejects(lambda: ref_key.verify(ref_sig, signed + b"x", ecdsa), Exception)):
            raise AssertionError("check failed")

    targets = {"none": 1.2, "packed": 1.0}
    label = "none" if fmt == "none" else "packed x5c, chain to a given root, §8.2.1 checks"
    return Workload(
        name=f"webauthn-register-{fmt}",
        description=f"verify one ES256 registration ({label}); reference = one cryptography verify",
        reference=Impl(
            name="cryptography verify",
            op=functools.partial(ref_key.verify, ref_sig, signed, ecdsa),
            check=ref_check,
        ),
        impls=[
            Impl(
                name="mfakit",
                op=functools.partial(
                    mw.verify_registration,
                    response,
                    expected_challenge=CHALLENGE,
                    expected_origins=ORIGIN,
                    expected_rp_id=RP_ID,
                    attestation=policy,
                    now=now,
                ),
                check=check(ours, MfaError),
            ),
            Impl(
                name="py_webauthn",
                op=functools.partial(
                    pw.verify_registration_response,
                    credential=response,
                    expected_challenge=CHALLENGE,
                    expected_rp_id=RP_ID,
                    expected_origin=ORIGIN,
                    pem_root_certs_bytes_by_fmt=roots,
                ),
                check=check(py_webauthn, Exception),
            ),
        ],
        peer_targets={("mfakit", "py_webauthn"): targets[fmt]},
    )


def workloads() -> list[Workload]:
    """The WebAuthn workloads."""
    found: list[Workload] = []
    for alg in ("ES256", "RS256", "EdDSA"):
        found.extend(_assertion_workload(alg))
    found.append(_registration_workload("none"))
    found.append(_registration_workload("packed"))
    return found
