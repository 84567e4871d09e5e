"""py_webauthn, an independent implementation, accepts what AttestationBuilder makes.

This checks the builders against the specification through a peer; where the peer
differs, the test records why (the spec decides).
"""

from __future__ import annotations

import pytest
import webauthn as pw
from cryptography.hazmat.primitives.serialization import Encoding
from webauthn.helpers.structs import AttestationFormat

from mfakit.testing._attestation_builders import AttestationBuilder, BuiltRegistration

from ._support import register, restate


def _peer(builder: AttestationBuilder, built: BuiltRegistration, fmt: AttestationFormat) -> None:
    pw.verify_registration_response(
        credential=built.response,
        expected_challenge=built.challenge,
        expected_rp_id=builder.rp_id,
        expected_origin=builder.origin,
        pem_root_certs_bytes_by_fmt={fmt: [builder.root.public_bytes(Encoding.PEM)]},
    )


@pytest.mark.parametrize(
    ("make", "fmt"),
    [
        (lambda b: b.tpm(), AttestationFormat.TPM),
        (lambda b: b.tpm(alg=-257, credential_alg=-257), AttestationFormat.TPM),
        (lambda b: b.apple(), AttestationFormat.APPLE),
        (lambda b: b.packed(), AttestationFormat.PACKED),
    ],
)
def test_peer_and_mfakit_accept_built_statements(
    builder: AttestationBuilder, make: object, fmt: AttestationFormat
) -> None:
    """Both py_webauthn and mfakit verify the built tpm, apple and packed registrations."""
    built = make(builder)  # type: ignore[operator]
    _peer(builder, built, fmt)
    assert register(builder, built).trusted


def test_android_key_peer_needs_the_root_inside_x5c(builder: AttestationBuilder) -> None:
    """py_webauthn treats the last x5c certificate as the root, so it needs it included;
    mfakit completes a chain that omits it from the configured anchors (issue 8)."""
    built = builder.android_key()
    root = builder.root.public_bytes(Encoding.DER)
    with_root = restate(built, dict(built.att_stmt, x5c=[*built.att_stmt["x5c"], root]))
    _peer(builder, with_root, AttestationFormat.ANDROID_KEY)
    with pytest.raises(pw.helpers.exceptions.InvalidRegistrationResponse):
        _peer(builder, built, AttestationFormat.ANDROID_KEY)
    assert register(builder, built).trusted
    assert register(builder, with_root).trusted


@pytest.mark.parametrize("fault", ["extra_data", "name", "signature", "pub_area_key"])
def test_peer_also_refuses_tpm_faults(builder: AttestationBuilder, fault: str) -> None:
    """The TPM faults the builder injects are refused by the peer too."""
    with pytest.raises(pw.helpers.exceptions.InvalidRegistrationResponse):
        _peer(builder, builder.tpm(fault=fault), AttestationFormat.TPM)
