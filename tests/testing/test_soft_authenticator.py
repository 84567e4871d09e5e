"""The SoftAuthenticator, proven spec-correct by two independent verifiers.

py_webauthn and fido2 (test-only peers) accept every valid format x algorithm x flag
combination they support, and reject every fault they check. Where a peer does not
check a rule the spec states, the test records the gap (the mfakit differential
tests then show mfakit does check it).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import cbor2
import pytest
from _soft_peers import (
    ORIGIN,
    PY_WEBAUTHN_ALGS,
    RP_ID,
    b64decode,
    fido2_authenticate,
    fido2_register,
    fido2_server,
    fido2_verify_statement,
    pw_authenticate,
    pw_options,
    pw_register,
)
from cryptography import x509
from fido2.attestation.base import InvalidAttestation
from fido2.webauthn import PublicKeyCredentialUserEntity
from hypothesis import given, settings
from hypothesis import strategies as st
from webauthn.helpers.exceptions import WebAuthnException

import mfakit.testing
from mfakit.errors import ConfigurationError
from mfakit.testing import (
    SUPPORTED_ALGORITHMS,
    Fault,
    SoftAuthenticator,
)
from mfakit.testing._soft_ca import AAGUID_EXTENSION_OID

FORMATS = ("none", "packed-self", "packed", "fido-u2f")


@dataclass(frozen=True)
class Flags:
    """One UV/BE/BS combination a test sets on the authenticator."""

    uv: bool
    be: bool
    bs: bool


FLAG_SETS = (
    Flags(uv=False, be=False, bs=False),
    Flags(uv=True, be=False, bs=False),
    Flags(uv=True, be=True, bs=False),
    Flags(uv=False, be=True, bs=True),
)


def _combos(algorithms: Any) -> list[Any]:
    return [
        pytest.param(fmt, alg, flags, id=f"{fmt}-{alg}-uv{flags.uv:d}be{flags.be:d}bs{flags.bs:d}")
        for fmt in FORMATS
        for alg in sorted(algorithms)
        for flags in FLAG_SETS
        if fmt != "fido-u2f" or alg == -7
    ]


def _auth(fmt: Any, flags: Flags, **kwargs: Any) -> SoftAuthenticator:
    return SoftAuthenticator(
        attestation=fmt,
        user_verified=flags.uv,
        backup_eligible=flags.be,
        backup_state=flags.bs,
        counter_start=7,
        **kwargs,
    )


def test_module_all_is_pinned() -> None:
    """mfakit.testing exports exactly these names."""
    assert mfakit.testing.__all__ == [
        "AttestationBuilder",
        "AttestationCA",
        "BuiltRegistration",
        "Fault",
        "SUPPORTED_ALGORITHMS",
        "SoftAttestation",
        "SoftAuthenticator",
        "SoftCredential",
    ]


def test_supported_algorithms_include_ml_dsa_when_available() -> None:
    """ML-DSA-44 is offered exactly when the installed cryptography can sign with it."""
    from mfakit.testing._soft_keys import MLDSA_AVAILABLE

    assert (-48 in SUPPORTED_ALGORITHMS) is MLDSA_AVAILABLE
    assert {-7, -35, -36, -257, -37, -8} <= set(SUPPORTED_ALGORITHMS)


# -- valid combinations, accepted by the peers ------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "alg", "flags"), _combos(set(SUPPORTED_ALGORITHMS) & PY_WEBAUTHN_ALGS)
)
def test_py_webauthn_accepts_registration_and_assertion(fmt: Any, alg: int, flags: Flags) -> None:
    """py_webauthn verifies the registration, then an assertion, with the flags we set."""
    auth = _auth(fmt, flags)
    registered, _ = pw_register(auth, alg, uv=flags.uv)
    assert registered.fmt == ("packed" if fmt == "packed-self" else fmt)
    assert registered.user_verified is flags.uv
    assert registered.credential_backed_up is flags.bs
    assert registered.credential_device_type == ("multi_device" if flags.be else "single_device")
    assert registered.sign_count == 7
    verified = pw_authenticate(auth, registered, uv=flags.uv)
    assert verified.new_sign_count == 8
    assert verified.user_verified is flags.uv


@pytest.mark.parametrize(("fmt", "alg", "flags"), _combos(SUPPORTED_ALGORITHMS))
def test_fido2_accepts_registration_statement_and_assertion(
    fmt: Any, alg: int, flags: Flags
) -> None:
    """fido2's server and attestation verifier accept the response, chain included."""
    auth = _auth(fmt, flags)
    server = fido2_server()
    options, state = server.register_begin(
        PublicKeyCredentialUserEntity(id=b"user-1", name="ada", display_name="Ada")
    )
    response = auth.create(dict(options)["publicKey"], algorithm=alg)
    auth_data = server.register_complete(state, response)
    fido2_verify_statement(
        response, auth.root_certificate if fmt in ("packed", "fido-u2f") else None
    )
    assert auth_data.is_user_verified() is flags.uv
    assert auth_data.is_backup_eligible() is flags.be
    assert auth_data.is_backed_up() is flags.bs
    assert auth_data.credential_data is not None
    fido2_authenticate(server, auth, auth_data.credential_data)


def test_fido2_validates_chain_through_an_intermediate_ca() -> None:
    """A packed x5c chain with an intermediate CA validates to the exposed root."""
    auth = SoftAuthenticator(attestation="packed", intermediate_ca=True)
    _, options = pw_options(-7)
    response = auth.create(options)
    x5c = cbor2.loads(b64decode(response["response"]["attestationObject"]))["attStmt"]["x5c"]
    assert len(x5c) == 2
    fido2_verify_statement(response, auth.root_certificate)


def test_fido2_rejects_chain_to_another_root() -> None:
    """The generated chain does not validate to a different authenticator's root."""
    auth = SoftAuthenticator(attestation="packed")
    other = SoftAuthenticator(attestation="packed")
    _, options = pw_options(-7)
    with pytest.raises(InvalidAttestation):
        fido2_verify_statement(auth.create(options), other.root_certificate)


def test_attestation_certificate_meets_packed_requirements() -> None:
    """The leaf is v3, has the §8.2.1 subject, CA false and a non-critical AAGUID extension."""
    auth = SoftAuthenticator(attestation="packed", seed=b"cert")
    leaf = auth.ca.leaf
    assert leaf.version is x509.Version.v3
    units = leaf.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)
    assert [u.value for u in units] == ["Authenticator Attestation"]
    for oid in (
        x509.NameOID.COUNTRY_NAME,
        x509.NameOID.ORGANIZATION_NAME,
        x509.NameOID.COMMON_NAME,
    ):
        assert leaf.subject.get_attributes_for_oid(oid)
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ext = leaf.extensions.get_extension_for_oid(AAGUID_EXTENSION_OID)
    assert ext.critical is False
    assert isinstance(ext.value, x509.UnrecognizedExtension)
    assert ext.value.value == b"\x04\x10" + auth.aaguid
    assert auth.root_certificate_pem.startswith(b"-----BEGIN CERTIFICATE-----")


def test_fido_u2f_has_zero_aaguid_and_one_certificate() -> None:
    """fido-u2f: zero AAGUID in authData and exactly one certificate in x5c (§8.6)."""
    auth = SoftAuthenticator(attestation="fido-u2f", aaguid=b"\x11" * 16)
    _, options = pw_options(-7)
    att = cbor2.loads(b64decode(auth.create(options)["response"]["attestationObject"]))
    assert att["authData"][37 + 0 : 37 + 16] == bytes(16)
    assert len(att["attStmt"]["x5c"]) == 1


# -- faults, rejected by the peers --------------------------------------------------------

PEER_ERRORS = (WebAuthnException, ValueError, InvalidAttestation)

REGISTRATION_FAULTS_BOTH = (
    Fault.WRONG_ORIGIN,
    Fault.WRONG_TYPE,
    Fault.WRONG_CHALLENGE,
    Fault.WRONG_RP_ID_HASH,
    Fault.UP_CLEAR,
    Fault.UV_CLEAR,
    Fault.RAW_ID_MISMATCH,
)
AUTHENTICATION_FAULTS_BOTH = (
    Fault.WRONG_ORIGIN,
    Fault.WRONG_TYPE,
    Fault.WRONG_CHALLENGE,
    Fault.WRONG_RP_ID_HASH,
    Fault.UP_CLEAR,
    Fault.UV_CLEAR,
    Fault.RAW_ID_MISMATCH,
    Fault.BAD_SIGNATURE,
    Fault.TRAILING_BYTES,
)


@pytest.mark.parametrize("fault", REGISTRATION_FAULTS_BOTH, ids=lambda f: f.name)
def test_py_webauthn_rejects_registration_fault(fault: Fault) -> None:
    """py_webauthn refuses a registration carrying the fault."""
    with pytest.raises(PEER_ERRORS):
        pw_register(SoftAuthenticator(attestation="packed"), -7, uv=True, faults=[fault])


@pytest.mark.parametrize("fault", REGISTRATION_FAULTS_BOTH, ids=lambda f: f.name)
def test_fido2_rejects_registration_fault(fault: Fault) -> None:
    """fido2's server refuses a registration carrying the fault."""
    with pytest.raises(PEER_ERRORS):
        fido2_register(fido2_server(), SoftAuthenticator(), -7, uv=True, faults=[fault])


@pytest.mark.parametrize("fault", AUTHENTICATION_FAULTS_BOTH, ids=lambda f: f.name)
def test_py_webauthn_rejects_assertion_fault(fault: Fault) -> None:
    """py_webauthn refuses an assertion carrying the fault."""
    auth = SoftAuthenticator()
    registered, _ = pw_register(auth, -7)
    with pytest.raises(PEER_ERRORS):
        pw_authenticate(auth, registered, uv=True, faults=[fault])


@pytest.mark.parametrize("fault", AUTHENTICATION_FAULTS_BOTH, ids=lambda f: f.name)
def test_fido2_rejects_assertion_fault(fault: Fault) -> None:
    """fido2's server refuses an assertion carrying the fault."""
    auth = SoftAuthenticator()
    server = fido2_server()
    credential = fido2_register(server, auth, -7)
    with pytest.raises(PEER_ERRORS):
        fido2_authenticate(server, auth, credential, uv=True, faults=[fault])


@pytest.mark.parametrize(
    ("fmt", "fault"),
    [
        ("packed-self", Fault.BAD_SIGNATURE),
        ("packed", Fault.BAD_SIGNATURE),
        ("fido-u2f", Fault.BAD_SIGNATURE),
        ("packed-self", Fault.PACKED_ALG_MISMATCH),
        ("packed", Fault.PACKED_ALG_MISMATCH),
        ("packed", Fault.AAGUID_MISMATCH),
        ("none", Fault.UNKNOWN_FORMAT),
    ],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_fido2_rejects_attestation_statement_fault(fmt: Any, fault: Fault) -> None:
    """fido2's attestation verifier refuses a broken statement."""
    auth = SoftAuthenticator(attestation=fmt)
    _, options = pw_options(-7)
    response = auth.create(options, faults=[fault])
    with pytest.raises(InvalidAttestation):
        fido2_verify_statement(response, auth.root_certificate if fmt != "packed-self" else None)


@pytest.mark.parametrize(
    ("fmt", "fault"),
    [
        ("packed-self", Fault.BAD_SIGNATURE),
        ("packed", Fault.BAD_SIGNATURE),
        ("fido-u2f", Fault.BAD_SIGNATURE),
        ("packed-self", Fault.PACKED_ALG_MISMATCH),
        ("packed", Fault.PACKED_ALG_MISMATCH),
        ("none", Fault.UNKNOWN_FORMAT),
        ("none", Fault.NONE_WITH_STATEMENT),
        ("none", Fault.BS_WITHOUT_BE),
    ],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_py_webauthn_rejects_attestation_fault(fmt: Any, fault: Fault) -> None:
    """py_webauthn refuses a registration whose statement or flags are broken."""
    with pytest.raises(PEER_ERRORS):
        pw_register(SoftAuthenticator(attestation=fmt), -7, faults=[fault])


def test_fido2_rejects_none_statement_that_is_not_empty() -> None:
    """fido2's none verifier refuses a non-empty attStmt (§8.7)."""
    auth = SoftAuthenticator()
    _, options = pw_options(-7)
    with pytest.raises(InvalidAttestation):
        fido2_verify_statement(auth.create(options, faults=[Fault.NONE_WITH_STATEMENT]), None)


def test_py_webauthn_rejects_counter_going_back() -> None:
    """py_webauthn refuses a signCount lower than the stored one (§7.2 step 22)."""
    auth = SoftAuthenticator(counter_start=10)
    registered, _ = pw_register(auth, -7)
    with pytest.raises(WebAuthnException):
        pw_authenticate(auth, registered, faults=[Fault.COUNTER_BACKWARDS])


def test_py_webauthn_rejects_bs_without_be_in_assertion() -> None:
    """py_webauthn refuses BS set with BE clear in an assertion (§6.1.3)."""
    auth = SoftAuthenticator()
    registered, _ = pw_register(auth, -7)
    with pytest.raises(WebAuthnException):
        pw_authenticate(auth, registered, faults=[Fault.BS_WITHOUT_BE])


def test_py_webauthn_rejects_trailing_authenticator_data() -> None:
    """py_webauthn refuses bytes after the authenticator data of an assertion."""
    auth = SoftAuthenticator()
    registered, _ = pw_register(auth, -7)
    with pytest.raises(WebAuthnException):
        pw_authenticate(auth, registered, faults=[Fault.TRAILING_BYTES])


def test_fido2_rejects_trailing_cbor_after_attestation_object() -> None:
    """fido2 refuses a valid CBOR item after the attestationObject (§5.2.1: one CBOR map)."""
    with pytest.raises(ValueError, match="attestation_object"):
        fido2_register(fido2_server(), SoftAuthenticator(), -7, faults=[Fault.TRAILING_BYTES])


# -- peer gaps: the fault is really there, the peer does not check that rule -----------


def _client_data(response: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(b64decode(response["response"]["clientDataJSON"]))
    return loaded


@pytest.mark.parametrize("fault", [Fault.CROSS_ORIGIN, Fault.TOP_ORIGIN], ids=lambda f: f.name)
def test_peers_do_not_check_cross_origin(fault: Fault) -> None:
    """Peer gap: neither peer refuses crossOrigin true or a foreign topOrigin (§7.1 steps 10-11).

    The spec leaves it to the RP's expectations; an RP that embeds no iframes must
    refuse both. mfakit does by default (see tests/webauthn/test_differential.py).
    """
    auth = SoftAuthenticator()
    registered, response = pw_register(auth, -7, faults=[fault])
    data = _client_data(response)
    assert data["crossOrigin"] is True
    assert ("topOrigin" in data) is (fault is Fault.TOP_ORIGIN)
    assert registered.credential_id == b64decode(response["rawId"])
    fido2_register(fido2_server(), SoftAuthenticator(), -7, faults=[fault])


def test_py_webauthn_accepts_trailing_cbor_after_attestation_object() -> None:
    """Peer gap: py_webauthn decodes the first CBOR item and ignores what follows it.

    The attestationObject is one CBOR map (§5.2.1, §6.5); trailing data is malformed.
    """
    registered, response = pw_register(SoftAuthenticator(), -7, faults=[Fault.TRAILING_BYTES])
    assert b64decode(response["response"]["attestationObject"]).endswith(b"\x00")
    assert registered.fmt == "none"


def test_be_changed_flips_the_backup_eligibility_flag() -> None:
    """Peer gap: neither peer compares BE with the registered value (§6.1.3); the fault flips it."""
    auth = SoftAuthenticator(backup_eligible=False)
    registered, _ = pw_register(auth, -7)
    verified = pw_authenticate(auth, registered, faults=[Fault.BE_CHANGED])
    assert verified.credential_device_type == "multi_device"


def test_fido2_does_not_check_counters() -> None:
    """Peer gap: fido2's server leaves the signature counter rule to the application."""
    auth = SoftAuthenticator(counter_start=10)
    server = fido2_server()
    credential = fido2_register(server, auth, -7)
    fido2_authenticate(server, auth, credential, faults=[Fault.COUNTER_BACKWARDS])
    assert auth.sign_count(credential.credential_id) == 10


# -- the authenticator's own behaviour ---------------------------------------------------


def _registration_options(
    *, resident_key: str = "discouraged", extensions: Any = None
) -> dict[str, Any]:
    options: dict[str, Any] = {
        "rp": {"id": RP_ID, "name": "Example"},
        "user": {"id": "dXNlci0x", "name": "ada", "displayName": "Ada"},
        "challenge": base64.urlsafe_b64encode(b"c" * 32).rstrip(b"=").decode(),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": resident_key},
    }
    if extensions is not None:
        options["extensions"] = extensions
    return options


def _request_options(allow: Any = ()) -> dict[str, Any]:
    return {
        "challenge": base64.urlsafe_b64encode(b"r" * 32).rstrip(b"=").decode(),
        "rpId": RP_ID,
        "allowCredentials": [
            {"type": "public-key", "id": base64.urlsafe_b64encode(c).rstrip(b"=").decode()}
            for c in allow
        ],
    }


def _assertion_flags(response: dict[str, Any]) -> int:
    return b64decode(response["response"]["authenticatorData"])[32]


def test_start_syncing_sets_be_and_bs_in_later_assertions() -> None:
    """After start_syncing, the credential's assertions report BE and the chosen BS."""
    auth = SoftAuthenticator(backup_eligible=False)
    auth.create(_registration_options())
    cred = auth.credentials[0]
    assert _assertion_flags(auth.get(_request_options([cred.credential_id]))) & 0x18 == 0
    synced = auth.start_syncing(cred.credential_id)
    assert (synced.backup_eligible, synced.backup_state) == (True, True)
    assert _assertion_flags(auth.get(_request_options([cred.credential_id]))) & 0x18 == 0x18


def test_start_syncing_unknown_credential_refused() -> None:
    """start_syncing a credential the authenticator does not hold is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        SoftAuthenticator().start_syncing(b"missing")


def test_response_has_level3_json_shape() -> None:
    """create() returns the RegistrationResponseJSON members of WebAuthn L3 §5.1."""
    response = SoftAuthenticator(transports=("usb", "nfc")).create(_registration_options())
    assert response["type"] == "public-key"
    assert response["id"] == response["rawId"]
    assert response["authenticatorAttachment"] == "platform"
    assert response["clientExtensionResults"] == {}
    assert response["response"]["transports"] == ["usb", "nfc"]
    assert response["response"]["publicKeyAlgorithm"] == -7
    assert set(response["response"]) >= {"clientDataJSON", "attestationObject", "publicKey"}
    assert _client_data(response) == {
        "type": "webauthn.create",
        "challenge": base64.urlsafe_b64encode(b"c" * 32).rstrip(b"=").decode(),
        "origin": ORIGIN,
        "crossOrigin": False,
    }


def test_discoverable_credential_returns_user_handle() -> None:
    """A discoverable credential answers an empty allowCredentials with its userHandle."""
    auth = SoftAuthenticator()
    auth.create(_registration_options(resident_key="required"))
    assertion = auth.get(_request_options())
    assert b64decode(assertion["response"]["userHandle"]) == b"user-1"


def test_server_side_credential_has_no_user_handle() -> None:
    """A non-discoverable credential omits userHandle and is not found without allowCredentials."""
    auth = SoftAuthenticator()
    response = auth.create(_registration_options())
    assertion = auth.get(_request_options([b64decode(response["rawId"])]))
    assert "userHandle" not in assertion["response"]
    with pytest.raises(ConfigurationError):
        auth.get(_request_options())


def test_cred_props_extension_output() -> None:
    """The credProps client extension reports whether the credential is discoverable."""
    auth = SoftAuthenticator()
    response = auth.create(
        _registration_options(resident_key="required", extensions={"credProps": True})
    )
    assert response["clientExtensionResults"] == {"credProps": {"rk": True}}


def test_authenticator_extensions_set_the_ed_flag() -> None:
    """Authenticator extension outputs are appended to authData with the ED flag (§6.1)."""
    auth = SoftAuthenticator()
    response = auth.create(_registration_options(), authenticator_extensions={"credProtect": 2})
    auth_data = b64decode(response["response"]["authenticatorData"])
    assert auth_data[32] & 0x80
    assert auth_data.endswith(cbor2.dumps({"credProtect": 2}))
    assertion = auth.get(
        _request_options([b64decode(response["rawId"])]), authenticator_extensions={"x": 1}
    )
    assert b64decode(assertion["response"]["authenticatorData"])[32] & 0x80


def test_counter_can_stay_at_zero() -> None:
    """counter_step=0 with counter_start=0 models authenticators without a counter."""
    auth = SoftAuthenticator(counter_step=0)
    registered, _ = pw_register(auth, -7)
    assert pw_authenticate(auth, registered).new_sign_count == 0
    assert pw_authenticate(auth, registered).new_sign_count == 0


def test_counter_advances_by_step() -> None:
    """Each assertion adds counter_step to the counter."""
    auth = SoftAuthenticator(counter_start=100, counter_step=5)
    registered, _ = pw_register(auth, -7)
    first = pw_authenticate(auth, registered)
    assert first.new_sign_count == 105
    assert pw_authenticate(auth, registered, stored_count=105).new_sign_count == 110


def test_seed_makes_keys_and_ids_deterministic() -> None:
    """The same seed gives the same AAGUID, credential IDs and (non-RSA) public keys."""
    for alg in (a for a in SUPPORTED_ALGORITHMS if a not in (-257, -37)):
        one, two = (SoftAuthenticator(seed=b"seed", algorithm=alg) for _ in range(2))
        first, second = one.create(_registration_options()), two.create(_registration_options())
        assert first["rawId"] == second["rawId"]
        assert one.credentials[0].public_key == two.credentials[0].public_key
        assert one.aaguid == two.aaguid
    assert SoftAuthenticator(seed=b"a").aaguid != SoftAuthenticator(seed=b"b").aaguid


def test_each_credential_of_a_seeded_authenticator_differs() -> None:
    """Two credentials from one seeded authenticator have different IDs and keys."""
    auth = SoftAuthenticator(seed=b"seed")
    auth.create(_registration_options())
    auth.create(_registration_options())
    first, second = auth.credentials
    assert first.credential_id != second.credential_id
    assert first.public_key != second.public_key


def test_reprs_are_log_safe() -> None:
    """Neither the authenticator's nor a credential's repr shows private key material."""
    auth = SoftAuthenticator(seed=b"seed")
    auth.create(_registration_options())
    text = repr(auth) + repr(auth.credentials[0]) + repr(auth.ca)
    assert "private" not in text.lower()
    assert "key_pair" not in text
    assert "leaf_key" not in text


def test_accepts_objects_with_to_json() -> None:
    """Options may be any object with a to_json() method."""

    class Options:
        def to_json(self) -> dict[str, Any]:
            return _registration_options()

    assert SoftAuthenticator().create(Options())["type"] == "public-key"


def test_get_with_explicit_credential_and_origin() -> None:
    """get() can pick a credential by ID and report another origin."""
    auth = SoftAuthenticator()
    auth.create(_registration_options())
    cred = auth.credentials[0]
    assertion = auth.get(
        _request_options(), credential_id=cred.credential_id, origin="https://a.example.org"
    )
    assert _client_data(assertion)["origin"] == "https://a.example.org"


def test_rp_id_defaults_to_origin_host() -> None:
    """Without rp.id the credential is scoped to the origin's host."""
    options = _registration_options()
    options["rp"] = {"name": "Example"}
    auth = SoftAuthenticator(origin="https://login.example.org:8443")
    auth.create(options)
    assert auth.credentials[0].rp_id == "login.example.org"


def test_algorithm_follows_pub_key_cred_params() -> None:
    """Without an override the first supported pubKeyCredParams entry is used."""
    options = _registration_options()
    options["pubKeyCredParams"] = [
        {"type": "public-key", "alg": -999},
        {"type": "public-key", "alg": -8},
    ]
    assert SoftAuthenticator().create(options)["response"]["publicKeyAlgorithm"] == -8


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attestation": "tpm"},
        {"algorithm": -999},
        {"aaguid": b"short"},
        {"counter_start": -1},
        {"counter_step": -1},
        {"attestation": "fido-u2f", "intermediate_ca": True},
    ],
)
def test_bad_construction_is_a_configuration_error(kwargs: Any) -> None:
    """Invalid constructor arguments raise ConfigurationError."""
    with pytest.raises(ConfigurationError):
        SoftAuthenticator(**kwargs)


@pytest.mark.parametrize(
    ("fmt", "fault", "call"),
    [
        ("none", Fault.COUNTER_BACKWARDS, "create"),
        ("none", Fault.UNKNOWN_FORMAT, "get"),
        ("none", Fault.BAD_SIGNATURE, "create"),
        ("packed", Fault.NONE_WITH_STATEMENT, "create"),
        ("packed-self", Fault.AAGUID_MISMATCH, "create"),
        ("fido-u2f", Fault.PACKED_ALG_MISMATCH, "create"),
    ],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_inapplicable_fault_is_a_configuration_error(fmt: Any, fault: Fault, call: str) -> None:
    """A fault that cannot apply to the ceremony or format is refused, not silently ignored."""
    auth = SoftAuthenticator(attestation=fmt)
    response = auth.create(_registration_options(resident_key="required"))
    if call == "create":
        with pytest.raises(ConfigurationError):
            auth.create(_registration_options(), faults=[fault])
    else:
        with pytest.raises(ConfigurationError):
            auth.get(_request_options([b64decode(response["rawId"])]), faults=[fault])


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.create({"rp": {}}),
        lambda a: a.create(object()),
        lambda a: a.create(type("O", (), {"to_json": lambda self: []})()),
        lambda a: a.create({**_registration_options(), "pubKeyCredParams": [{"alg": -999}]}),
        lambda a: a.create(_registration_options(), algorithm=-999),
        lambda a: a.get({"rpId": RP_ID}),
        lambda a: a.get(_request_options(), credential_id=b"unknown"),
        lambda a: SoftAuthenticator(attestation="fido-u2f").create(
            _registration_options(), algorithm=-8
        ),
    ],
)
def test_bad_options_are_configuration_errors(call: Any) -> None:
    """Malformed options, unknown credentials and impossible choices raise ConfigurationError."""
    with pytest.raises(ConfigurationError):
        call(SoftAuthenticator())


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-300, 300) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(
        ["rp", "user", "challenge", "pubKeyCredParams", "authenticatorSelection", "extensions"]
    ),
    _JSON,
)
def test_arbitrary_creation_options_raise_only_configuration_error(key: str, value: Any) -> None:
    """Whatever one member of the options holds, create() answers or raises ConfigurationError."""
    options = {**_registration_options(), key: value}
    try:
        response = SoftAuthenticator().create(options)
    except ConfigurationError:
        return
    assert response["type"] == "public-key"


@settings(max_examples=80, deadline=None)
@given(
    st.fixed_dictionaries(
        {}, optional={"challenge": _JSON, "rpId": _JSON, "allowCredentials": _JSON}
    )
)
def test_arbitrary_request_options_raise_only_configuration_error(options: dict[str, Any]) -> None:
    """Whatever the options, get() answers or raises ConfigurationError."""
    auth = SoftAuthenticator()
    auth.create(_registration_options(resident_key="required"))
    try:
        response = auth.get(options)
    except ConfigurationError:
        return
    assert response["type"] == "public-key"
