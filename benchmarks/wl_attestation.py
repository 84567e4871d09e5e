"""Attestation workloads: registration with tpm, and packed x5c with a metadata lookup.

Inputs come from mfakit.testing's AttestationBuilder (built with cryptography and
cbor2 from the specifications) and are shared by every implementation. Each
``check`` verifies the valid response and refuses it with one signature byte
flipped (the attestation signature, last in the attestation object).
"""

from __future__ import annotations

import base64
import copy
import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from _harness import Impl, Workload
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from mfakit import webauthn as mw
from mfakit.errors import MfaError
from mfakit.testing._attestation_builders import AttestationBuilder

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tamper_statement(builder: AttestationBuilder, built: Any, key: str) -> dict[str, Any]:
    import cbor2

    stmt = dict(built.att_stmt)
    raw = bytearray(stmt[key])
    raw[-1] ^= 1
    stmt[key] = bytes(raw)
    bad = copy.deepcopy(built.response)
    obj = cbor2.dumps({"fmt": built.fmt, "attStmt": stmt, "authData": built.auth_data})
    bad["response"]["attestationObject"] = _b64(obj)
    return bad


def _rejects(fn: Callable[[], object], *errors: type[BaseException]) -> bool:
    try:
        fn()
    except errors:
        return True
    return False


def _workload(
    *,
    name: str,
    description: str,
    builder: AttestationBuilder,
    built: Any,
    policy: mw.AttestationPolicy,
    roots: dict[Any, list[bytes]],
    ref: tuple[Any, bytes, bytes],
    target: float | None,
) -> Workload:
    response = built.response
    bad = _tamper_statement(builder, built, "sig")

    def ours(resp: dict[str, Any]) -> object:
        result = mw.verify_registration(
            resp,
            expected_challenge=built.challenge,
            expected_origins=builder.origin,
            expected_rp_id=builder.rp_id,
            attestation=policy,
            now=NOW,
        )
        if not result.trusted:
            raise AssertionError("mfakit did not establish trust")
        return result

    import webauthn as pw

    def py_webauthn(resp: dict[str, Any]) -> object:
        return pw.verify_registration_response(
            credential=resp,
            expected_challenge=built.challenge,
            expected_rp_id=builder.rp_id,
            expected_origin=builder.origin,
            pem_root_certs_bytes_by_fmt=roots,
        )

    def check(
        fn: Callable[[dict[str, Any]], object], *errors: type[BaseException]
    ) -> Callable[[], None]:
        def run() -> None:
            fn(response)
            if not _rejects(lambda: fn(bad), *errors):
                raise AssertionError("check failed")

        return run

    ref_key, ref_sig, ref_data = ref
    ecdsa = ec.ECDSA(hashes.SHA256())

    def ref_check() -> None:
        ref_key.verify(ref_sig, ref_data, ecdsa)
        if not _rejects(lambda: ref_key.verify(ref_sig, ref_data + b"x", ecdsa), Exception):
            raise AssertionError("check failed")

    return Workload(
        name=name,
        description=description,
        reference=Impl(
            name="cryptography verify",
            op=functools.partial(ref_key.verify, ref_sig, ref_data, ecdsa),
            check=ref_check,
        ),
        impls=[
            Impl(name="mfakit", op=lambda: ours(response), check=check(ours, MfaError)),
            Impl(
                name="py_webauthn",
                op=lambda: py_webauthn(response),
                check=check(py_webauthn, Exception),
            ),
        ],
        peer_targets={("mfakit", "py_webauthn"): target} if target else {},
    )


def _tpm() -> Workload:
    from webauthn.helpers.structs import AttestationFormat

    builder = AttestationBuilder()
    built = builder.tpm()
    aik = x509.load_der_x509_certificate(built.att_stmt["x5c"][0])
    return _workload(
        name="attestation-register-tpm",
        description=(
            "verify one tpm registration (ES256 AIK, ECC credential, chain to a given root, "
            "§8.3.1 checks); reference = one cryptography verify"
        ),
        builder=builder,
        built=built,
        policy=mw.AttestationPolicy(trust_anchors=[builder.root], require_trusted=True),
        roots={AttestationFormat.TPM: [builder.root.public_bytes(Encoding.PEM)]},
        ref=(aik.public_key(), built.att_stmt["sig"], built.att_stmt["certInfo"]),
        target=None,
    )


def _packed_metadata() -> Workload:
    from webauthn.helpers.structs import AttestationFormat

    fido = AttestationBuilder()
    builder = AttestationBuilder()
    # A BLOB with 200 models, the authenticator's among them, verified once up front.
    entries = [
        builder.metadata_entry(description=f"model {i}", aaguid=i.to_bytes(16, "big"))
        for i in range(1, 200)
    ]
    entries.append(builder.metadata_entry())
    blob = mw.metadata.parse_metadata_blob(
        fido.metadata_blob(entries), trusted_roots=[fido.root], now=NOW
    )
    built = builder.packed()
    leaf = x509.load_der_x509_certificate(built.att_stmt["x5c"][0])
    return _workload(
        name="attestation-register-packed-metadata",
        description=(
            "verify one packed x5c registration with the anchor from a metadata lookup "
            "(status rules applied; py_webauthn given the root directly); "
            "reference = one cryptography verify"
        ),
        builder=builder,
        built=built,
        policy=mw.AttestationPolicy(metadata=blob, require_trusted=True),
        roots={AttestationFormat.PACKED: [builder.root.public_bytes(Encoding.PEM)]},
        ref=(leaf.public_key(), built.att_stmt["sig"], built.auth_data + built.client_data_hash),
        target=None,
    )


def workloads() -> list[Workload]:
    """The attestation workloads."""
    return [_tpm(), _packed_metadata()]
