"""FIDO Metadata Service (MDS3): a BLOB built and signed with a test root, then applied."""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit import webauthn
from mfakit.errors import (
    ConfigurationError,
    InvalidSignatureError,
    MalformedDataError,
    UntrustedAttestationError,
)
from mfakit.testing import SoftAuthenticator
from mfakit.testing._attestation_builders import AttestationBuilder
from mfakit.webauthn.metadata import (
    MetadataBLOB,
    MetadataSource,
    key_identifier,
    load_metadata,
    parse_metadata_blob,
)

from ._support import NOW, register


@pytest.fixture(scope="module")
def fido() -> AttestationBuilder:
    """The stand-in for the FIDO Alliance: its root signs the BLOB."""
    return AttestationBuilder()


def _blob(fido: AttestationBuilder, *entries: dict[str, object], **kwargs: object) -> MetadataBLOB:
    token = fido.metadata_blob(list(entries), **kwargs)  # type: ignore[arg-type]
    return parse_metadata_blob(token, trusted_roots=[fido.root], now=NOW)


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256"])
def test_blob_verifies_and_parses(
    fido: AttestationBuilder, builder: AttestationBuilder, alg: str
) -> None:
    """A BLOB signed under the FIDO root verifies; its fields read back."""
    blob = _blob(fido, builder.metadata_entry(), no=7, alg=alg)
    assert (blob.no, blob.next_update.isoformat(), len(blob.entries)) == (7, "2124-01-01", 1)
    entry = blob.entry_for_aaguid(uuid.UUID(bytes=builder.aaguid))
    assert entry is not None
    assert entry.description == "mfakit Test Key 5 NFC"
    assert entry.attestation_root_certificates == (builder.root,)
    assert entry.certification_level(NOW) == "FIDO_CERTIFIED_L1"


def test_registration_names_the_authenticator(
    fido: AttestationBuilder, builder: AttestationBuilder
) -> None:
    """The metadata's root makes the chain trusted; the result carries description and icon."""
    blob = _blob(fido, builder.metadata_entry())
    result = register(builder, builder.packed(), trust_anchors=(), metadata=blob)
    assert result.trusted
    assert result.authenticator_description == "mfakit Test Key 5 NFC"
    assert result.authenticator_icon == "data:image/png;base64,iVBORw0KGgo="
    assert result.metadata_entry is blob.entries[0]


def test_unknown_model_without_metadata_entry(
    fido: AttestationBuilder, builder: AttestationBuilder
) -> None:
    """A model the BLOB lacks is not trusted through it; require_metadata refuses it."""
    blob = _blob(fido, builder.metadata_entry(aaguid=bytes(15) + b"\x01"))
    result = register(builder, builder.packed(), trust_anchors=(), metadata=blob)
    assert (result.trusted, result.authenticator_description) == (False, None)
    with pytest.raises(UntrustedAttestationError, match="not in the metadata"):
        register(builder, builder.packed(), metadata=blob, require_metadata=True)


@pytest.mark.parametrize(
    "status",
    [
        "REVOKED",
        "ATTESTATION_KEY_COMPROMISE",
        "USER_VERIFICATION_BYPASS",
        "USER_KEY_REMOTE_COMPROMISE",
        "USER_KEY_PHYSICAL_COMPROMISE",
    ],
)
def test_compromise_statuses_are_refused_by_default(
    fido: AttestationBuilder, builder: AttestationBuilder, status: str
) -> None:
    """Each compromise status in effect refuses the registration."""
    entry = builder.metadata_entry(
        statuses=(("FIDO_CERTIFIED_L2", "2024-01-01"), (status, "2025-01-01"))
    )
    blob = _blob(fido, entry)
    with pytest.raises(UntrustedAttestationError, match=status):
        register(builder, builder.packed(), metadata=blob)


def test_statuses_are_policy(fido: AttestationBuilder, builder: AttestationBuilder) -> None:
    """A policy may accept UPDATE_AVAILABLE-style statuses or reject more."""
    entry = builder.metadata_entry(statuses=(("USER_VERIFICATION_BYPASS", "2025-01-01"),))
    blob = _blob(fido, entry)
    assert register(builder, builder.packed(), metadata=blob, rejected_statuses={"REVOKED"}).trusted
    entry = builder.metadata_entry(statuses=(("UPDATE_AVAILABLE", "2025-01-01"),))
    with pytest.raises(UntrustedAttestationError):
        register(
            builder,
            builder.packed(),
            metadata=_blob(fido, entry),
            rejected_statuses={"UPDATE_AVAILABLE"},
        )


def test_future_status_is_not_yet_in_effect(
    fido: AttestationBuilder, builder: AttestationBuilder
) -> None:
    """A REVOKED report effective after now does not apply yet."""
    entry = builder.metadata_entry(statuses=(("REVOKED", "2099-01-01"),))
    assert register(builder, builder.packed(), metadata=_blob(fido, entry)).trusted


@pytest.mark.parametrize(
    ("statuses", "minimum", "accepted"),
    [
        ((("FIDO_CERTIFIED_L1", "2024-01-01"),), "FIDO_CERTIFIED_L1", True),
        ((("FIDO_CERTIFIED", "2024-01-01"),), "FIDO_CERTIFIED_L1", True),
        ((("FIDO_CERTIFIED_L1", "2024-01-01"),), "FIDO_CERTIFIED_L2", False),
        (
            (("FIDO_CERTIFIED_L1", "2024-01-01"), ("FIDO_CERTIFIED_L3plus", "2025-01-01")),
            "FIDO_CERTIFIED_L3",
            True,
        ),
        ((("NOT_FIDO_CERTIFIED", "2024-01-01"),), "FIDO_CERTIFIED_L1", False),
        ((("FIDO_CERTIFIED_L2", "2099-01-01"),), "FIDO_CERTIFIED_L2", False),
    ],
)
def test_minimum_certification(
    fido: AttestationBuilder,
    builder: AttestationBuilder,
    statuses: tuple[tuple[str, str], ...],
    minimum: str,
    accepted: bool,
) -> None:
    """'Certified L<n> or above only' accepts exactly the models certified at n or more."""
    blob = _blob(fido, builder.metadata_entry(statuses=statuses))
    if accepted:
        assert register(builder, builder.packed(), metadata=blob, minimum_certification=minimum)
    else:
        with pytest.raises(UntrustedAttestationError, match="certification"):
            register(builder, builder.packed(), metadata=blob, minimum_certification=minimum)


def test_u2f_lookup_by_key_identifier(fido: AttestationBuilder) -> None:
    """A fido-u2f registration (zero AAGUID) is found by its certificate key identifier."""
    soft = SoftAuthenticator(attestation="fido-u2f", origin="https://example.org", algorithm=-7)
    options = webauthn.registration_options(
        rp_id="example.org",
        rp_name="x",
        user_id=b"u",
        user_name="u",
        user_display_name="u",
        attestation="direct",
    )
    response = soft.create(options)
    leaf_der = base64.urlsafe_b64decode(
        response["response"]["attestationObject"]
        + "=" * (-len(response["response"]["attestationObject"]) % 4)
    )
    import cbor2

    leaf = x509.load_der_x509_certificate(cbor2.loads(leaf_der)["attStmt"]["x5c"][0])
    kid = key_identifier(leaf)
    entry = fido.metadata_entry(
        description="mfakit U2F key", key_identifiers=(kid.upper(),), roots=(soft.root_certificate,)
    )
    blob = _blob(fido, entry)
    assert blob.entry_for_key_identifier(kid) is not None
    result = webauthn.verify_registration(
        response,
        expected_challenge=options.challenge,
        expected_origins="https://example.org",
        expected_rp_id="example.org",
        attestation=webauthn.AttestationPolicy(metadata=blob),
        now=NOW,
    )
    assert (result.trusted, result.authenticator_description) == (True, "mfakit U2F key")


def test_lookup_edges(fido: AttestationBuilder, builder: AttestationBuilder) -> None:
    """Zero AAGUID without a certificate finds nothing; an unknown model has no anchors."""
    blob = _blob(fido, builder.metadata_entry())
    assert blob.lookup(bytes(16), None) is None
    assert tuple(blob.trust_anchors_for(bytes(16))) == ()
    assert blob.entry_for_aaguid(builder.aaguid) is blob.entries[0]


def test_blob_from_another_root_is_refused(
    fido: AttestationBuilder, builder: AttestationBuilder
) -> None:
    """A BLOB whose chain does not end at the caller's FIDO root is refused."""
    token = builder.metadata_blob([])
    with pytest.raises(UntrustedAttestationError, match="does not chain"):
        parse_metadata_blob(token, trusted_roots=[fido.root], now=NOW)


def test_blob_signature_is_checked(fido: AttestationBuilder) -> None:
    """A payload changed after signing is InvalidSignatureError."""
    head, _, sig = fido.metadata_blob([], no=1).split(".")
    forged_payload = (
        base64.urlsafe_b64encode(
            json.dumps({"no": 99, "nextUpdate": "2124-01-01", "entries": []}).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    with pytest.raises(InvalidSignatureError, match="BLOB signature"):
        parse_metadata_blob(
            ".".join((head, forged_payload, sig)), trusted_roots=[fido.root], now=NOW
        )


def test_rollback_and_staleness(fido: AttestationBuilder) -> None:
    """A BLOB not newer than previous_no, or past nextUpdate, is refused (stale: opt-in)."""
    token = fido.metadata_blob([], no=5, next_update="2026-05-31")
    with pytest.raises(UntrustedAttestationError, match="past its nextUpdate"):
        parse_metadata_blob(token, trusted_roots=[fido.root], now=NOW)
    assert parse_metadata_blob(token, trusted_roots=[fido.root], now=NOW, allow_stale=True).no == 5
    fresh = fido.metadata_blob([], no=5)
    with pytest.raises(UntrustedAttestationError, match="not newer"):
        parse_metadata_blob(fresh, trusted_roots=[fido.root], now=NOW, previous_no=5)
    assert parse_metadata_blob(fresh, trusted_roots=[fido.root], now=NOW, previous_no=4).no == 5


def test_blob_signer_revocation(fido: AttestationBuilder) -> None:
    """A revoked BLOB signer is refused; require_revocation_info needs CRLs for the chain."""
    token = fido.metadata_blob([])
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    signer = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    with pytest.raises(UntrustedAttestationError, match="revoked"):
        parse_metadata_blob(
            token, trusted_roots=[fido.root], now=NOW, crls=[fido.crl(revoked=(signer,))]
        )
    with pytest.raises(UntrustedAttestationError, match="no current CRL"):
        parse_metadata_blob(token, trusted_roots=[fido.root], now=NOW, require_revocation_info=True)
    crls = [fido.crl(), fido.crl(issuer="root")]
    assert parse_metadata_blob(token, trusted_roots=[fido.root], now=NOW, crls=crls).no == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"no": -1, "nextUpdate": "2124-01-01", "entries": []},
        {"no": 1, "nextUpdate": "soon", "entries": []},
        {"no": 1, "nextUpdate": 5, "entries": []},
        {"no": 1, "nextUpdate": "2124-01-01", "entries": {}},
        {"no": 1, "nextUpdate": "2124-01-01", "entries": [1]},
        {"no": 1, "nextUpdate": "2124-01-01", "entries": [{"statusReports": []}], "legalHeader": 3},
        {"no": 1, "nextUpdate": "2124-01-01", "entries": [{"aaguid": "x", "statusReports": []}]},
        {
            "no": 1,
            "nextUpdate": "2124-01-01",
            "entries": [{"aaguid": "z" * 36, "statusReports": []}],
        },
        {"no": 1, "nextUpdate": "2124-01-01", "entries": [{}]},
        {"no": 1, "nextUpdate": "2124-01-01", "entries": [{"statusReports": [{}]}]},
        {
            "no": 1,
            "nextUpdate": "2124-01-01",
            "entries": [{"statusReports": [], "metadataStatement": 1}],
        },
        {
            "no": 1,
            "nextUpdate": "2124-01-01",
            "entries": [{"statusReports": [], "attestationCertificateKeyIdentifiers": [1]}],
        },
        {
            "no": 1,
            "nextUpdate": "2124-01-01",
            "entries": [
                {"statusReports": [], "metadataStatement": {"attestationRootCertificates": "x"}}
            ],
        },
        {
            "no": 1,
            "nextUpdate": "2124-01-01",
            "entries": [
                {"statusReports": [], "metadataStatement": {"attestationRootCertificates": [1]}}
            ],
        },
        {
            "no": 1,
            "nextUpdate": "2124-01-01",
            "entries": [
                {
                    "statusReports": [],
                    "metadataStatement": {"attestationRootCertificates": ["AAAA"]},
                }
            ],
        },
        {
            "no": 1,
            "nextUpdate": "2124-01-01",
            "entries": [{"statusReports": [], "metadataStatement": {"description": 1}}],
        },
    ],
)
def test_malformed_payloads(fido: AttestationBuilder, payload: dict[str, object]) -> None:
    """Each malformed payload field is MalformedDataError (after the signature checks)."""
    token = _signed_payload(fido, payload)
    with pytest.raises(MalformedDataError):
        parse_metadata_blob(token, trusted_roots=[fido.root], now=NOW)


def _signed_payload(fido: AttestationBuilder, payload: dict[str, object]) -> str:
    """Sign an arbitrary payload as the FIDO signer (reusing metadata_blob's header)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from mfakit.testing._attestation_builders import ecdsa_raw

    key = ec.generate_private_key(ec.SECP256R1())
    leaf = fido.leaf(key.public_key())
    header = {
        "alg": "ES256",
        "x5c": [
            base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
            for c in (leaf, fido.intermediate)
        ],
    }

    def seg(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    signing_input = seg(header) + "." + seg(payload)
    sig = ecdsa_raw(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return signing_input + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


class _Source:
    def __init__(self, blob: str | Exception) -> None:
        self.blob = blob

    def fetch_blob(self) -> str:
        if isinstance(self.blob, Exception):
            raise self.blob
        return self.blob


def test_metadata_source_protocol(fido: AttestationBuilder) -> None:
    """load_metadata fetches through the host's MetadataSource and verifies."""
    source = _Source(fido.metadata_blob([], no=3))
    assert isinstance(source, MetadataSource)
    assert load_metadata(source, trusted_roots=[fido.root], now=NOW).no == 3
    with pytest.raises(ConfigurationError, match="source failed"):
        load_metadata(_Source(OSError("offline")), trusted_roots=[fido.root], now=NOW)
    with pytest.raises(ConfigurationError, match="fetch_blob"):
        load_metadata(object(), trusted_roots=[fido.root], now=NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize("roots", [[], b"pem", ["text"], [b"garbage"]])
def test_trusted_roots_are_checked(fido: AttestationBuilder, roots: object) -> None:
    """trusted_roots must be a non-empty collection of certificates."""
    with pytest.raises(ConfigurationError):
        parse_metadata_blob(fido.metadata_blob([]), trusted_roots=roots, now=NOW)  # type: ignore[arg-type]


def test_trusted_roots_as_pem_and_der(fido: AttestationBuilder) -> None:
    """Roots may be given as PEM or DER bytes."""
    token = fido.metadata_blob([])
    for encoding in (serialization.Encoding.PEM, serialization.Encoding.DER):
        root = fido.root.public_bytes(encoding)
        assert parse_metadata_blob(token, trusted_roots=[root], now=NOW).no == 1


def test_status_check_without_time(builder: AttestationBuilder) -> None:
    """check_status without now applies every report, future ones included."""
    blob_entry = webauthn.metadata.MetadataEntry(
        status_reports=(
            webauthn.metadata.StatusReport(
                status="REVOKED", effective_date=NOW.date() + timedelta(days=9)
            ),
        )
    )
    with pytest.raises(UntrustedAttestationError):
        blob_entry.check_status()
    assert blob_entry.certification_level() is None


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_blob_parser_fuzz_random(token: bytes | str) -> None:
    """Random input ends in MalformedDataError or a VerificationError."""
    with pytest.raises((MalformedDataError, UntrustedAttestationError, InvalidSignatureError)):
        parse_metadata_blob(token, trusted_roots=[_FIDO.root], now=NOW)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 100_000), st.sampled_from("A_-.x="))
def test_blob_parser_fuzz_mutated(index: int, char: str) -> None:
    """A mutated valid BLOB parses (a no-op mutation) or raises a documented error."""
    token = bytearray(_TOKEN.encode())
    token[index % len(token)] = ord(char)
    with contextlib.suppress(MalformedDataError, UntrustedAttestationError, InvalidSignatureError):
        parse_metadata_blob(token.decode(), trusted_roots=[_FIDO.root], now=NOW)


_FIDO = AttestationBuilder()
_TOKEN = _FIDO.metadata_blob([_FIDO.metadata_entry()])


def test_unproven_aaguid_names_and_certifies_nothing(
    fido: AttestationBuilder, builder: AttestationBuilder
) -> None:
    """An attestation that does not chain to an anchor gets no name and meets no certification."""
    blob = _blob(fido, builder.metadata_entry(roots=(AttestationBuilder().root,)))
    result = register(builder, builder.packed(), trust_anchors=(), metadata=blob)
    assert (result.trusted, result.authenticator_description, result.metadata_entry) == (
        False,
        None,
        None,
    )
    with pytest.raises(UntrustedAttestationError, match="need a trusted attestation"):
        register(
            builder,
            builder.packed(),
            trust_anchors=(),
            metadata=blob,
            minimum_certification="FIDO_CERTIFIED_L1",
        )
    with pytest.raises(UntrustedAttestationError, match="need a trusted attestation"):
        register(builder, builder.packed(), trust_anchors=(), metadata=blob, require_metadata=True)


def test_claimed_compromised_model_is_refused_even_unproven(
    fido: AttestationBuilder, builder: AttestationBuilder
) -> None:
    """Claiming the AAGUID of a REVOKED model is refused even without trust."""
    entry = builder.metadata_entry(
        statuses=(("REVOKED", "2025-01-01"),), roots=(AttestationBuilder().root,)
    )
    with pytest.raises(UntrustedAttestationError, match="REVOKED"):
        register(builder, builder.packed(), trust_anchors=(), metadata=_blob(fido, entry))
