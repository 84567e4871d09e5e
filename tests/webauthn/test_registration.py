"""verify_registration (§7.1) and the none / packed / fido-u2f formats (§8)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from mfakit.errors import (
    CeremonyMismatchError,
    ConfigurationError,
    InvalidAttestationError,
    InvalidSignatureError,
    MalformedDataError,
    UnsupportedAlgorithmError,
    UnsupportedAttestationError,
    UntrustedAttestationError,
    UserPresenceError,
    UserVerificationError,
)
from mfakit.webauthn import AttestationPolicy, verify_registration
from mfakit.webauthn.attestation import ATTESTATION_FORMATS

from .helpers import (
    AT,
    BE,
    BS,
    CHALLENGE,
    ED,
    NOW,
    ORIGIN,
    RP_ID,
    UP,
    UV,
    Credential,
    auth_data,
    b64,
    client_data,
    make_chain,
    registration,
    sign,
)

ES256 = Credential.new(-7)


def verify(resp: Any, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "expected_challenge": CHALLENGE,
        "expected_origins": ORIGIN,
        "expected_rp_id": RP_ID,
    }
    args.update(kw)
    return verify_registration(resp, **args)


def test_none_registration_result() -> None:
    """A none registration returns the credential, flags, transports and attestation type."""
    flags = UP | UV | BE | BS | AT
    reg = verify(registration(ES256, flags=flags, transports=["usb", "nfc"]))
    assert reg.credential_id == ES256.cred_id
    assert reg.public_key == ES256.cose
    assert reg.public_key_algorithm == -7
    assert reg.credential_public_key.alg == -7
    assert reg.sign_count == 0
    assert reg.aaguid == uuid.UUID(int=0)
    assert (reg.fmt, reg.attestation_type, reg.trusted, reg.trust_path) == (
        "none",
        "none",
        False,
        (),
    )
    assert (reg.user_present, reg.user_verified, reg.backup_eligible, reg.backup_state) == (
        True,
        True,
        True,
        True,
    )
    assert reg.transports == ("usb", "nfc")
    assert reg.authenticator_attachment == "cross-platform"
    assert reg.client_data.type == "webauthn.create"


@pytest.mark.parametrize(
    ("cd", "field"),
    [
        (client_data("webauthn.get"), "type"),
        (client_data("webauthn.create", challenge=b"\x02" * 32), "challenge"),
        (client_data("webauthn.create", origin="https://evil.example"), "origin"),
        (client_data("webauthn.create", crossOrigin=True), "cross_origin"),
        (client_data("webauthn.create", topOrigin="https://top.example"), "top_origin"),
    ],
)
def test_client_data_mismatch(cd: bytes, field: str) -> None:
    """Each client-data check names its field."""
    with pytest.raises(CeremonyMismatchError) as info:
        verify(registration(ES256, cd=cd))
    assert info.value.field == field


def test_several_origins_allowed() -> None:
    """The origin may be any of several expected ones, by exact match."""
    verify(registration(ES256), expected_origins=["https://other.example", ORIGIN])
    with pytest.raises(CeremonyMismatchError):
        verify(registration(ES256), expected_origins=["https://example.com/"])


def test_cross_origin_with_top_origin_when_allowed() -> None:
    """crossOrigin and topOrigin pass when the caller allows that top origin."""
    cd = client_data("webauthn.create", crossOrigin=True, topOrigin="https://top.example")
    verify(
        registration(ES256, cd=cd),
        allow_cross_origin=True,
        allowed_top_origins=["https://top.example"],
    )
    with pytest.raises(CeremonyMismatchError) as info:
        verify(
            registration(ES256, cd=cd),
            allow_cross_origin=True,
            allowed_top_origins=["https://other.example"],
        )
    assert info.value.field == "top_origin"


def test_rp_id_mismatch() -> None:
    """An rpIdHash for another RP ID is refused."""
    with pytest.raises(CeremonyMismatchError) as info:
        verify(registration(ES256), expected_rp_id="evil.example")
    assert info.value.field == "rp_id"


def test_user_presence_required_unless_turned_off() -> None:
    """UP clear is refused by default and allowed when the caller turns the check off."""
    resp = registration(ES256, flags=AT)
    with pytest.raises(UserPresenceError):
        verify(resp)
    assert verify(resp, require_user_presence=False).user_present is False


def test_user_verification_when_required() -> None:
    """UV clear is refused when required."""
    with pytest.raises(UserVerificationError):
        verify(registration(ES256), require_user_verification=True)


def test_no_attested_credential_data() -> None:
    """A registration without AT has no credential and is malformed."""
    cd = client_data("webauthn.create")
    with pytest.raises(MalformedDataError):
        verify(registration(ES256, cd=cd, ad=auth_data(flags=UP)))


def test_credential_id_must_equal_raw_id() -> None:
    """authData's credential id must be the one in rawId."""
    other = Credential(alg=-7, private=ES256.private)
    ad = auth_data(flags=UP | AT, cred_id=other.cred_id, cose=ES256.cose)
    with pytest.raises(MalformedDataError):
        verify(registration(ES256, ad=ad))


def test_algorithm_must_be_supported() -> None:
    """A credential algorithm outside supported_algorithms is refused."""
    with pytest.raises(UnsupportedAlgorithmError) as info:
        verify(registration(ES256), supported_algorithms=(-8,))
    assert info.value.alg == -7


def test_cose_without_alg() -> None:
    """A credential key without alg is malformed."""
    cose = cbor2.dumps({1: 2})
    ad = auth_data(flags=UP | AT, cred_id=ES256.cred_id, cose=cose)
    with pytest.raises(MalformedDataError):
        verify(registration(ES256, ad=ad))


def test_rs1_only_when_listed() -> None:
    """RS1 credentials register only when the caller lists -65535."""
    rs1 = Credential.new(-65535)
    with pytest.raises(UnsupportedAlgorithmError):
        verify(registration(rs1))
    assert verify(registration(rs1), supported_algorithms=(-65535,)).public_key_algorithm == -65535


def test_extensions_returned() -> None:
    """Client extension results and authenticator extension outputs come back."""
    ad = auth_data(
        flags=UP | AT | ED, cred_id=ES256.cred_id, cose=ES256.cose, ext={"credProtect": 1}
    )
    resp = registration(ES256, ad=ad)
    resp["clientExtensionResults"] = {"credProps": {"rk": True}}
    reg = verify(resp)
    assert reg.extensions["credProps"]["rk"] is True
    assert reg.authenticator_extensions["credProtect"] == 1


def test_none_statement_must_be_empty() -> None:
    """A none statement with content is refused."""
    with pytest.raises(InvalidAttestationError):
        verify(registration(ES256, att_stmt={"sig": b"x"}))


def test_unknown_format() -> None:
    """An unknown format is UnsupportedAttestationError naming it."""
    with pytest.raises(UnsupportedAttestationError) as info:
        verify(registration(ES256, fmt="x-unknown", att_stmt={}))
    assert info.value.fmt == "x-unknown"


def test_format_not_allowed_by_policy() -> None:
    """allowed_formats restricts the formats."""
    with pytest.raises(UnsupportedAttestationError):
        verify(registration(ES256), attestation=AttestationPolicy(allowed_formats={"packed"}))


def test_registry_is_explicit() -> None:
    """The format registry lists exactly the formats of WebAuthn Level 3 §8."""
    assert sorted(ATTESTATION_FORMATS) == [
        "android-key",
        "android-safetynet",
        "apple",
        "compound",
        "fido-u2f",
        "none",
        "packed",
        "tpm",
    ]


# packed self attestation ---------------------------------------------------------


@pytest.mark.parametrize("alg", [-7, -35, -36, -8, -19, -53, -257, -37, -48])
def test_packed_self(alg: int) -> None:
    """Self attestation verifies with the credential key for every algorithm."""
    cred = Credential.new(alg)
    reg = verify(registration(cred, fmt="packed"))
    assert (reg.attestation_type, reg.trusted) == ("self", False)


def test_packed_self_alg_mismatch() -> None:
    """Self attestation's alg must equal the credential's."""
    other = Credential.new(-8)
    with pytest.raises(InvalidAttestationError):
        verify(registration(ES256, fmt="packed", signer=(other.private, -8)))


def test_packed_self_bad_signature() -> None:
    """A self attestation signed by another key is refused."""
    other = Credential.new(-7)
    with pytest.raises(InvalidSignatureError):
        verify(registration(ES256, fmt="packed", signer=(other.private, -7)))


@pytest.mark.parametrize(
    "stmt",
    [{"alg": "ES256", "sig": b"x"}, {"alg": -7}, {"alg": -7, "sig": b"x", "ecdaaKeyId": b"x"}],
)
def test_packed_statement_shape(stmt: dict[str, Any]) -> None:
    """Missing or mistyped members and unknown members are refused."""
    with pytest.raises(InvalidAttestationError):
        verify(registration(ES256, fmt="packed", att_stmt=stmt))


def test_self_attestation_untrusted_when_trust_required() -> None:
    """require_trusted refuses self and none attestation."""
    policy = AttestationPolicy(require_trusted=True)
    with pytest.raises(UntrustedAttestationError):
        verify(registration(ES256, fmt="packed"), attestation=policy)
    with pytest.raises(UntrustedAttestationError):
        verify(registration(ES256), attestation=policy)


# packed x5c -------------------------------------------------------------------------


def _packed_x5c(chain: Any, *, aaguid: bytes = bytes(16), alg: int = -7) -> dict[str, Any]:
    return registration(
        ES256, fmt="packed", signer=(chain.leaf_key, alg), x5c=chain.x5c, aaguid=aaguid
    )


@pytest.mark.parametrize("intermediate", [False, True])
def test_packed_x5c_trusted(intermediate: bool) -> None:
    """A chain to a configured anchor is trusted (basic attestation)."""
    chain = make_chain(intermediate=intermediate)
    policy = AttestationPolicy(trust_anchors=[chain.root], require_trusted=True)
    reg = verify(_packed_x5c(chain), attestation=policy, now=NOW)
    assert (reg.attestation_type, reg.trusted) == ("basic", True)
    assert reg.trust_path[0] == chain.leaf


def test_anchor_as_pem_and_der() -> None:
    """Trust anchors may be PEM or DER bytes."""
    chain = make_chain()
    for anchor in (chain.root.public_bytes(Encoding.PEM), chain.root.public_bytes(Encoding.DER)):
        policy = AttestationPolicy(trust_anchors=[anchor])
        assert verify(_packed_x5c(chain), attestation=policy, now=NOW).trusted


def test_packed_x5c_without_anchor_is_untrusted() -> None:
    """A valid x5c statement with no anchors is accepted but not trusted."""
    reg = verify(_packed_x5c(make_chain()))
    assert (reg.attestation_type, reg.trusted) == ("basic", False)


def test_packed_x5c_other_root() -> None:
    """A chain to a different root is untrusted, and refused when trust is required."""
    chain, other = make_chain(), make_chain()
    assert not verify(
        _packed_x5c(chain), attestation=AttestationPolicy(trust_anchors=[other.root]), now=NOW
    ).trusted
    with pytest.raises(UntrustedAttestationError):
        verify(
            _packed_x5c(chain),
            attestation=AttestationPolicy(trust_anchors=[other.root], require_trusted=True),
            now=NOW,
        )


def test_expired_leaf_is_untrusted() -> None:
    """Chain validation uses now: an expired leaf does not validate."""
    chain = make_chain(leaf_not_after=NOW - timedelta(days=1))
    policy = AttestationPolicy(trust_anchors=[chain.root])
    assert not verify(_packed_x5c(chain), attestation=policy, now=NOW).trusted
    assert verify(_packed_x5c(chain), attestation=policy, now=NOW - timedelta(days=2)).trusted


def test_chain_validation_needs_now() -> None:
    """Without now, validating against anchors is a configuration error."""
    chain = make_chain()
    with pytest.raises(ConfigurationError):
        verify(_packed_x5c(chain), attestation=AttestationPolicy(trust_anchors=[chain.root]))


def test_metadata_provider_supplies_anchors() -> None:
    """A metadata provider's roots for the AAGUID are used."""
    chain = make_chain(aaguid=b"\x05" * 16)

    class Provider:
        def trust_anchors_for(self, aaguid: bytes) -> list[Any]:
            return [chain.root] if aaguid == b"\x05" * 16 else []

    policy = AttestationPolicy(metadata=Provider(), require_trusted=True)
    assert verify(_packed_x5c(chain, aaguid=b"\x05" * 16), attestation=policy, now=NOW).trusted


def test_failing_metadata_provider_is_configuration_error() -> None:
    """A provider that raises is contained as ConfigurationError."""

    class Broken:
        def trust_anchors_for(self, aaguid: bytes) -> list[Any]:
            raise RuntimeError("down")

    with pytest.raises(ConfigurationError):
        verify(_packed_x5c(make_chain()), attestation=AttestationPolicy(metadata=Broken()), now=NOW)


@pytest.mark.parametrize(
    ("chain_kw", "aaguid"),
    [
        ({"leaf_ou": "Engineering"}, bytes(16)),
        ({"leaf_ou": None}, bytes(16)),
        ({"leaf_ca": True}, bytes(16)),
        ({"leaf_ca": None}, bytes(16)),
        ({"aaguid_critical": True}, bytes(16)),
        ({"aaguid": b"\x09" * 16}, bytes(16)),
    ],
)
def test_packed_certificate_requirements(chain_kw: dict[str, Any], aaguid: bytes) -> None:
    """Each §8.2.1 requirement, when broken, makes the statement invalid."""
    chain = make_chain(**chain_kw)
    with pytest.raises(InvalidAttestationError):
        verify(_packed_x5c(chain, aaguid=aaguid))


def test_packed_leaf_without_aaguid_extension() -> None:
    """The AAGUID extension is optional."""
    assert verify(_packed_x5c(make_chain(aaguid=None))).attestation_type == "basic"


def test_packed_x5c_signature_by_other_key() -> None:
    """The statement must be signed by the leaf's key."""
    chain = make_chain()
    chain.leaf_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(InvalidSignatureError):
        verify(_packed_x5c(chain))


def test_packed_x5c_alg_disagrees_with_leaf_key() -> None:
    """alg must fit the leaf's key type."""
    chain = make_chain()
    resp = _packed_x5c(chain)
    stmt_obj = _statement(resp)
    stmt_obj["attStmt"]["alg"] = -8
    with pytest.raises(InvalidAttestationError):
        verify(_with_statement(resp, stmt_obj))


def test_packed_x5c_unknown_alg() -> None:
    """An unknown alg is UnsupportedAlgorithmError."""
    resp = _packed_x5c(make_chain())
    stmt_obj = _statement(resp)
    stmt_obj["attStmt"]["alg"] = -1000
    with pytest.raises(UnsupportedAlgorithmError):
        verify(_with_statement(resp, stmt_obj))


@pytest.mark.parametrize("x5c", [[], b"x", [b"not a cert"], ["text"], [b"x"] * 6])
def test_packed_x5c_shape(x5c: Any) -> None:
    """x5c must be a short non-empty array of DER certificates."""
    resp = _packed_x5c(make_chain())
    stmt_obj = _statement(resp)
    stmt_obj["attStmt"]["x5c"] = x5c
    with pytest.raises(InvalidAttestationError):
        verify(_with_statement(resp, stmt_obj))


def _statement(resp: dict[str, Any]) -> dict[str, Any]:
    import base64

    raw = resp["response"]["attestationObject"]
    return cbor2.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


def _with_statement(resp: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    out = {**resp, "response": {**resp["response"]}}
    out["response"]["attestationObject"] = b64(cbor2.dumps(obj))
    return out


def test_bad_trust_anchor_is_configuration_error() -> None:
    """Anchors that are not certificates are refused at policy creation."""
    with pytest.raises(ConfigurationError):
        AttestationPolicy(trust_anchors=[b"junk"])
    with pytest.raises(ConfigurationError):
        AttestationPolicy(trust_anchors=["text"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    "kwargs",
    [{"allowed_formats": "none"}, {"metadata": object()}, {"max_chain_depth": 9}],
)
def test_policy_arguments_checked(kwargs: dict[str, Any]) -> None:
    """Policy arguments of the wrong shape are configuration errors."""
    with pytest.raises(ConfigurationError):
        AttestationPolicy(**kwargs)


# fido-u2f ---------------------------------------------------------------------------


def _u2f(
    cred: Credential,
    chain: Any,
    *,
    sig: bytes | None = None,
    x5c: list[bytes] | None = None,
    cd: bytes | None = None,
) -> dict[str, Any]:
    cd = cd or client_data("webauthn.create")
    ad = auth_data(flags=UP | AT, cred_id=cred.cred_id, cose=cred.cose)
    nums = cred.private.public_key().public_numbers()
    point = b"\x04" + nums.x.to_bytes(32, "big") + nums.y.to_bytes(32, "big")
    data = (
        b"\x00"
        + hashlib.sha256(RP_ID.encode()).digest()
        + hashlib.sha256(cd).digest()
        + cred.cred_id
        + point
    )
    stmt = {
        "sig": sig if sig is not None else sign(chain.leaf_key, -7, data),
        "x5c": x5c if x5c is not None else chain.x5c[:1],
    }
    return registration(cred, fmt="fido-u2f", att_stmt=stmt, cd=cd, ad=ad)


def test_fido_u2f_trusted() -> None:
    """A fido-u2f statement verifies and chains to its anchor."""
    chain = make_chain()
    reg = verify(
        _u2f(ES256, chain), attestation=AttestationPolicy(trust_anchors=[chain.root]), now=NOW
    )
    assert (reg.fmt, reg.attestation_type, reg.trusted) == ("fido-u2f", "basic", True)


def test_fido_u2f_bad_signature() -> None:
    """A wrong U2F signature is refused."""
    chain = make_chain()
    with pytest.raises(InvalidSignatureError):
        verify(_u2f(ES256, chain, sig=sign(chain.leaf_key, -7, b"other")))


def test_fido_u2f_needs_p256_credential() -> None:
    """A non-P-256 credential cannot use fido-u2f."""
    chain = make_chain()
    resp = registration(
        Credential.new(-8), fmt="fido-u2f", att_stmt={"sig": b"x", "x5c": chain.x5c[:1]}
    )
    with pytest.raises(InvalidAttestationError):
        verify(resp)


def test_fido_u2f_one_certificate() -> None:
    """fido-u2f needs exactly one certificate."""
    chain = make_chain(intermediate=True)
    with pytest.raises(InvalidAttestationError):
        verify(_u2f(ES256, chain, x5c=chain.x5c))


def test_fido_u2f_certificate_key_p256() -> None:
    """The U2F attestation certificate key must be P-256."""
    chain = make_chain(leaf_key=ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(InvalidAttestationError):
        verify(_u2f(ES256, chain, sig=b"x"))


def test_fido_u2f_extra_member() -> None:
    """Unknown members of a fido-u2f statement are refused."""
    chain = make_chain()
    resp = registration(ES256, fmt="fido-u2f", att_stmt={"sig": b"x", "x5c": chain.x5c, "alg": -7})
    with pytest.raises(InvalidAttestationError):
        verify(resp)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"expected_challenge": b""},
        {"expected_challenge": "abc"},
        {"expected_origins": []},
        {"expected_origins": [1]},
        {"expected_origins": 5},
        {"expected_rp_id": ""},
        {"attestation": "none"},
        {"supported_algorithms": "-7"},
    ],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    """Host-app mistakes are ConfigurationError."""
    with pytest.raises(ConfigurationError):
        verify(registration(ES256), **kwargs)


def test_naive_now_refused() -> None:
    """A naive datetime for now is a configuration error."""
    with pytest.raises(ConfigurationError):
        verify(registration(ES256), now=NOW.replace(tzinfo=None))


def test_metadata_provider_returning_junk() -> None:
    """A provider that returns non-certificates is a configuration error."""

    class Junk:
        def trust_anchors_for(self, aaguid: bytes) -> list[Any]:
            return [b"junk"]

    with pytest.raises(ConfigurationError):
        verify(_packed_x5c(make_chain()), attestation=AttestationPolicy(metadata=Junk()), now=NOW)


def test_fido_u2f_verify_needs_attested_data() -> None:
    """The fido-u2f verifier refuses authenticator data without a credential."""
    from mfakit.webauthn import parse_credential_public_key
    from mfakit.webauthn.attestation import _fido_u2f as _fmt_fido_u2f
    from mfakit.webauthn.low_level import parse_authenticator_data

    chain = make_chain()
    with pytest.raises(InvalidAttestationError):
        _fmt_fido_u2f.verify(
            {"sig": b"x", "x5c": chain.x5c[:1]},
            parse_authenticator_data(auth_data()),
            bytes(32),
            parse_credential_public_key(ES256.cose),
        )


def test_certificate_with_zero_serial_is_contained() -> None:
    """A certificate cryptography warns about (serial 0) never escapes as a warning error."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    from .helpers import _name

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("zero"))
        .issuer_name(_name("zero"))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2035, 1, 1, tzinfo=dt.UTC))
        .sign(key, hashes.SHA256())
    )
    der = bytearray(cert.public_bytes(Encoding.DER))
    # The serial INTEGER 1 is encoded as 02 01 01; make it 02 01 00.
    at = der.index(b"\x02\x01\x01")
    der[at + 2] = 0
    resp = registration(ES256, fmt="packed", att_stmt={"alg": -7, "sig": b"x", "x5c": [bytes(der)]})
    with pytest.raises(InvalidAttestationError):
        verify(resp)
