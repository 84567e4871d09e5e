"""Round trips: mfakit verifies what the independent SoftAuthenticator produces.

Every valid format x algorithm x flag combination registers with
``verify_registration`` and then logs in with ``verify_authentication``; every
fault the authenticator can produce is refused with the right ``mfakit.errors``
class (and field, for ceremony mismatches).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from mfakit import webauthn
from mfakit.errors import (
    CeremonyMismatchError,
    InvalidAttestationError,
    InvalidSignatureError,
    MalformedDataError,
    MfaError,
    SignCountError,
    UnsupportedAttestationError,
    UntrustedAttestationError,
    UserPresenceError,
    UserVerificationError,
    WebAuthnError,
)
from mfakit.testing import SUPPORTED_ALGORITHMS, Fault, SoftAuthenticator

RP_ID = "example.org"
ORIGIN = "https://example.org"
NOW = datetime(2026, 11, 23, tzinfo=UTC)
FORMATS = ("none", "packed-self", "packed", "fido-u2f")
#: (UV, BE, BS): every combination the spec allows (BS needs BE, §6.1.3).
FLAG_SETS = (
    (False, False, False),
    (True, False, False),
    (False, True, False),
    (True, True, True),
)


def _combos() -> list[Any]:
    return [
        pytest.param(fmt, alg, flags, id=f"{fmt}-{alg}-uv{flags[0]:d}be{flags[1]:d}bs{flags[2]:d}")
        for fmt in FORMATS
        for alg in SUPPORTED_ALGORITHMS
        for flags in FLAG_SETS
        if fmt != "fido-u2f" or alg == -7
    ]


def _register(
    auth: SoftAuthenticator,
    *,
    faults: Any = (),
    algorithm: int | None = None,
    resident_key: str = "preferred",
    **verify: Any,
) -> webauthn.VerifiedRegistration:
    options = webauthn.registration_options(
        rp_id=RP_ID,
        rp_name="Example",
        user_id=b"user-1",
        user_name="ada",
        user_display_name="Ada",
        resident_key=resident_key,
    )
    if algorithm is None and auth.attestation == "fido-u2f":
        algorithm = -7  # U2F credentials are P-256 (§8.6); mfakit's options list EdDSA first
    response = auth.create(options.to_json(), faults=faults, algorithm=algorithm)
    verify.setdefault("now", NOW)
    return webauthn.verify_registration(
        response,
        expected_challenge=options.challenge,
        expected_origins=ORIGIN,
        expected_rp_id=RP_ID,
        **verify,
    )


def _login(
    auth: SoftAuthenticator,
    registered: webauthn.VerifiedRegistration,
    *,
    faults: Any = (),
    stored: int | None = None,
    key: Any = None,
    **verify: Any,
) -> webauthn.VerifiedAuthentication:
    options = webauthn.authentication_options(
        rp_id=RP_ID, allow_credentials=[registered.credential_id]
    )
    response = auth.get(options.to_json(), faults=faults)
    return webauthn.verify_authentication(
        response,
        expected_challenge=options.challenge,
        expected_origins=ORIGIN,
        expected_rp_id=RP_ID,
        credential_public_key=registered.public_key if key is None else key,
        current_sign_count=registered.sign_count if stored is None else stored,
        **verify,
    )


@pytest.mark.parametrize(("fmt", "alg", "flags"), _combos())
def test_valid_combination_round_trips(fmt: Any, alg: int, flags: tuple[bool, bool, bool]) -> None:
    """Registration then authentication verify, reporting the flags, format and counters set."""
    uv, be, bs = flags
    auth = SoftAuthenticator(
        attestation=fmt,
        user_verified=uv,
        backup_eligible=be,
        backup_state=bs,
        counter_start=41,
        transports=("usb", "nfc"),
    )
    trusted = fmt in ("packed", "fido-u2f")
    policy = webauthn.AttestationPolicy(
        trust_anchors=[auth.root_certificate], require_trusted=trusted
    )
    registered = _register(auth, algorithm=alg, attestation=policy, require_user_verification=uv)
    assert registered.fmt == ("packed" if fmt == "packed-self" else fmt)
    assert registered.public_key_algorithm == alg
    assert registered.credential_id == auth.credentials[0].credential_id
    assert registered.public_key == auth.credentials[0].public_key
    assert registered.aaguid == UUID(bytes=auth.aaguid)
    assert (registered.user_verified, registered.backup_eligible, registered.backup_state) == flags
    assert registered.sign_count == 41
    assert registered.trusted is trusted
    assert tuple(registered.transports) == ("usb", "nfc")
    verified = _login(
        auth,
        registered,
        key=webauthn.parse_credential_public_key(registered.public_key),
        require_user_verification=uv,
        expected_backup_eligible=be,
    )
    assert verified.new_sign_count == 42
    assert verified.credential_id == registered.credential_id
    assert (verified.user_verified, verified.backup_eligible, verified.backup_state) == flags
    assert verified.user_handle == b"user-1"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("none", "none"), ("packed-self", "self"), ("packed", "basic"), ("fido-u2f", "basic")],
)
def test_attestation_type_is_reported(fmt: Any, expected: str) -> None:
    """The attestation type follows the statement (§6.5.4); x5c without metadata reads as basic."""
    auth = SoftAuthenticator(attestation=fmt)
    policy = webauthn.AttestationPolicy(trust_anchors=[auth.root_certificate])
    assert _register(auth, attestation=policy).attestation_type == expected


def test_intermediate_chain_is_trusted() -> None:
    """A packed chain leaf -> intermediate -> root validates to the root anchor."""
    auth = SoftAuthenticator(attestation="packed", intermediate_ca=True)
    policy = webauthn.AttestationPolicy(
        trust_anchors=[auth.root_certificate_pem], require_trusted=True
    )
    registered = _register(auth, attestation=policy)
    assert registered.trusted is True
    assert len(registered.trust_path) == 2


def test_chain_to_another_root_is_untrusted() -> None:
    """require_trusted refuses a chain that does not reach the given anchor."""
    auth = SoftAuthenticator(attestation="packed")
    policy = webauthn.AttestationPolicy(
        trust_anchors=[SoftAuthenticator(attestation="packed").root_certificate],
        require_trusted=True,
    )
    with pytest.raises(UntrustedAttestationError):
        _register(auth, attestation=policy)


def test_expired_attestation_chain_is_untrusted() -> None:
    """A chain outside its validity period at ``now`` is not trusted."""
    auth = SoftAuthenticator(
        attestation="packed",
        certificate_validity=(datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)),
    )
    policy = webauthn.AttestationPolicy(trust_anchors=[auth.root_certificate], require_trusted=True)
    with pytest.raises(UntrustedAttestationError):
        _register(auth, attestation=policy)


@pytest.mark.parametrize("fmt", ["none", "packed-self"])
def test_require_trusted_refuses_unattested(fmt: Any) -> None:
    """require_trusted turns none and self attestation into UntrustedAttestationError."""
    auth = SoftAuthenticator(attestation=fmt)
    policy = webauthn.AttestationPolicy(trust_anchors=[auth.root_certificate], require_trusted=True)
    with pytest.raises(UntrustedAttestationError):
        _register(auth, attestation=policy)


def test_discoverable_login_returns_user_handle() -> None:
    """A discoverable credential logs in with empty allowCredentials and returns its user handle."""
    auth = SoftAuthenticator()
    registered = _register(auth, resident_key="required")
    options = webauthn.authentication_options(rp_id=RP_ID)
    verified = webauthn.verify_authentication(
        auth.get(options),
        expected_challenge=options.challenge,
        expected_origins=ORIGIN,
        expected_rp_id=RP_ID,
        credential_public_key=registered.public_key,
        current_sign_count=registered.sign_count,
        expected_user_handle=b"user-1",
    )
    assert verified.user_handle == b"user-1"


def test_server_side_credential_has_no_user_handle() -> None:
    """A non-discoverable credential's assertion carries no user handle."""
    auth = SoftAuthenticator()
    registered = _register(auth, resident_key="discouraged")
    assert _login(auth, registered).user_handle is None


def test_zero_counter_authenticator_is_accepted() -> None:
    """An authenticator that always reports 0 passes the counter rule (both zero, §7.2 step 22)."""
    auth = SoftAuthenticator(counter_step=0)
    registered = _register(auth)
    assert _login(auth, registered).new_sign_count == 0
    assert _login(auth, registered).new_sign_count == 0


def test_authenticator_extensions_are_reported() -> None:
    """Authenticator extension outputs in authData (ED flag) reach the result."""
    auth = SoftAuthenticator()
    options = webauthn.registration_options(
        rp_id=RP_ID, rp_name="Example", user_id=b"u", user_name="a", user_display_name="A"
    )
    response = auth.create(options, authenticator_extensions={"credProtect": 2})
    registered = webauthn.verify_registration(
        response,
        expected_challenge=options.challenge,
        expected_origins=ORIGIN,
        expected_rp_id=RP_ID,
    )
    assert dict(registered.authenticator_extensions) == {"credProtect": 2}
    assert dict(registered.extensions).get("credProps") == {"rk": True}


# -- faults --------------------------------------------------------------------------

REGISTRATION_FAULTS = [
    ("none", Fault.WRONG_ORIGIN, CeremonyMismatchError, "origin"),
    ("none", Fault.WRONG_TYPE, CeremonyMismatchError, "type"),
    ("none", Fault.WRONG_CHALLENGE, CeremonyMismatchError, "challenge"),
    ("none", Fault.WRONG_RP_ID_HASH, CeremonyMismatchError, "rp_id"),
    ("none", Fault.CROSS_ORIGIN, CeremonyMismatchError, "cross_origin"),
    ("none", Fault.TOP_ORIGIN, CeremonyMismatchError, "cross_origin"),
    ("none", Fault.UP_CLEAR, UserPresenceError, None),
    ("none", Fault.UV_CLEAR, UserVerificationError, None),
    ("none", Fault.BS_WITHOUT_BE, MalformedDataError, None),
    ("none", Fault.RAW_ID_MISMATCH, MalformedDataError, None),
    ("none", Fault.TRAILING_BYTES, MalformedDataError, None),
    ("none", Fault.UNKNOWN_FORMAT, UnsupportedAttestationError, None),
    ("none", Fault.NONE_WITH_STATEMENT, InvalidAttestationError, None),
    ("packed-self", Fault.BAD_SIGNATURE, InvalidSignatureError, None),
    ("packed", Fault.BAD_SIGNATURE, InvalidSignatureError, None),
    ("fido-u2f", Fault.BAD_SIGNATURE, InvalidSignatureError, None),
    ("packed-self", Fault.PACKED_ALG_MISMATCH, InvalidAttestationError, None),
    ("packed", Fault.PACKED_ALG_MISMATCH, InvalidAttestationError, None),
    ("packed", Fault.AAGUID_MISMATCH, InvalidAttestationError, None),
]


@pytest.mark.parametrize(
    ("fmt", "fault", "error", "field"),
    REGISTRATION_FAULTS,
    ids=[f"{fmt}-{fault.name}" for fmt, fault, _, _ in REGISTRATION_FAULTS],
)
def test_registration_fault_is_refused_with_the_right_error(
    fmt: Any, fault: Fault, error: type[MfaError], field: str | None
) -> None:
    """Each registration fault raises its documented mfakit error."""
    auth = SoftAuthenticator(attestation=fmt)
    with pytest.raises(error) as caught:
        _register(auth, faults=[fault], require_user_verification=fault is Fault.UV_CLEAR)
    if field is not None:
        assert caught.value.field == field  # type: ignore[attr-defined]


AUTHENTICATION_FAULTS = [
    (Fault.WRONG_ORIGIN, CeremonyMismatchError, "origin"),
    (Fault.WRONG_TYPE, CeremonyMismatchError, "type"),
    (Fault.WRONG_CHALLENGE, CeremonyMismatchError, "challenge"),
    (Fault.WRONG_RP_ID_HASH, CeremonyMismatchError, "rp_id"),
    (Fault.CROSS_ORIGIN, CeremonyMismatchError, "cross_origin"),
    (Fault.TOP_ORIGIN, CeremonyMismatchError, "cross_origin"),
    (Fault.UP_CLEAR, UserPresenceError, None),
    (Fault.UV_CLEAR, UserVerificationError, None),
    (Fault.BS_WITHOUT_BE, MalformedDataError, None),
    (Fault.BAD_SIGNATURE, InvalidSignatureError, None),
    (Fault.COUNTER_BACKWARDS, SignCountError, None),
    (Fault.RAW_ID_MISMATCH, MalformedDataError, None),
    (Fault.TRAILING_BYTES, MalformedDataError, None),
    (Fault.BE_CHANGED, WebAuthnError, None),
]


@pytest.mark.parametrize(
    ("fault", "error", "field"),
    AUTHENTICATION_FAULTS,
    ids=[f.name for f, _, _ in AUTHENTICATION_FAULTS],
)
@pytest.mark.parametrize("alg", [-7, -257, -8])
def test_authentication_fault_is_refused_with_the_right_error(
    alg: int, fault: Fault, error: type[MfaError], field: str | None
) -> None:
    """Each assertion fault raises its documented mfakit error."""
    auth = SoftAuthenticator(counter_start=9)
    registered = _register(auth, algorithm=alg)
    with pytest.raises(error) as caught:
        _login(
            auth,
            registered,
            faults=[fault],
            require_user_verification=fault is Fault.UV_CLEAR,
            expected_backup_eligible=False,
        )
    if field is not None:
        assert caught.value.field == field  # type: ignore[attr-defined]


def test_sign_count_regression_can_be_flagged_instead() -> None:
    """allow_sign_count_regression reports the regression instead of raising."""
    auth = SoftAuthenticator(counter_start=9)
    registered = _register(auth)
    verified = _login(
        auth, registered, faults=[Fault.COUNTER_BACKWARDS], allow_sign_count_regression=True
    )
    assert verified.sign_count_regressed is True


def test_foreign_top_origin_is_refused_when_cross_origin_is_allowed() -> None:
    """With cross-origin allowed, a topOrigin outside the allowed set is refused (§7.1 step 11)."""
    auth = SoftAuthenticator()
    with pytest.raises(CeremonyMismatchError) as caught:
        _register(
            auth,
            faults=[Fault.TOP_ORIGIN],
            allow_cross_origin=True,
            allowed_top_origins=("https://example.com",),
        )
    assert caught.value.field == "top_origin"


def test_cross_origin_is_accepted_when_allowed() -> None:
    """crossOrigin true passes when the caller allows cross-origin ceremonies."""
    auth = SoftAuthenticator()
    registered = _register(auth, faults=[Fault.CROSS_ORIGIN], allow_cross_origin=True)
    assert registered.credential_id == auth.credentials[0].credential_id


def test_user_presence_can_be_waived() -> None:
    """require_user_presence=False accepts UP clear (e.g. conditional create, §7.1 step 14)."""
    auth = SoftAuthenticator()
    registered = _register(auth, faults=[Fault.UP_CLEAR], require_user_presence=False)
    assert registered.user_present is False


def test_origin_outside_several_expected_is_refused() -> None:
    """Several expected origins are each exact matches; another origin is refused."""
    auth = SoftAuthenticator(origin="https://login.example.org")
    options = webauthn.registration_options(
        rp_id=RP_ID, rp_name="E", user_id=b"u", user_name="a", user_display_name="A"
    )
    response = auth.create(options)
    registered = webauthn.verify_registration(
        response,
        expected_challenge=options.challenge,
        expected_origins=[ORIGIN, "https://login.example.org"],
        expected_rp_id=RP_ID,
    )
    assert registered.fmt == "none"
    with pytest.raises(CeremonyMismatchError):
        webauthn.verify_registration(
            auth.create(options),
            expected_challenge=options.challenge,
            expected_origins=[ORIGIN, "https://example.org:443"],
            expected_rp_id=RP_ID,
        )
