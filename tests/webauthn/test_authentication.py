"""verify_authentication (§7.2): every check, attacked."""

from __future__ import annotations

from typing import Any

import pytest

from mfakit.errors import (
    CeremonyMismatchError,
    ConfigurationError,
    InvalidSignatureError,
    MalformedDataError,
    SignCountError,
    UnsupportedAlgorithmError,
    UserPresenceError,
    UserVerificationError,
    VerificationError,
    WebAuthnError,
)
from mfakit.webauthn import parse_credential_public_key, verify_authentication

from .helpers import (
    BE,
    BS,
    CHALLENGE,
    ED,
    ORIGIN,
    RP_ID,
    UP,
    UV,
    Credential,
    assertion,
    auth_data,
    client_data,
)

ALGS = [-7, -35, -36, -8, -19, -53, -257, -258, -259, -37, -38, -39, -48, -49, -50]
CREDS = {alg: Credential.new(alg) for alg in (-7, -8, -257)}
ES256 = CREDS[-7]


def verify(resp: Any, cred: Credential = ES256, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "expected_challenge": CHALLENGE,
        "expected_origins": ORIGIN,
        "expected_rp_id": RP_ID,
        "credential_public_key": cred.cose,
        "current_sign_count": 0,
    }
    args.update(kw)
    return verify_authentication(resp, **args)


@pytest.mark.parametrize("alg", ALGS)
def test_every_algorithm(alg: int) -> None:
    """Assertions verify for every supported algorithm, from COSE bytes and cached keys."""
    cred = Credential.new(alg)
    resp = assertion(cred, count=3)
    assert verify(resp, cred).new_sign_count == 3
    cached = parse_credential_public_key(cred.cose)
    assert verify(resp, cred, credential_public_key=cached).credential_id == cred.cred_id


def test_result_fields() -> None:
    """Flags, user handle and counter come back."""
    resp = assertion(ES256, flags=UP | UV | BE | BS, count=9, user_handle=b"user-7")
    result = verify(resp, current_sign_count=8)
    assert (result.user_present, result.user_verified) == (True, True)
    assert (result.backup_eligible, result.backup_state) == (True, True)
    assert result.user_handle == b"user-7"
    assert result.new_sign_count == 9
    assert result.sign_count_regressed is False


def test_signature_from_other_key() -> None:
    """A signature by a different key is refused."""
    other = Credential(alg=-7, private=CREDS[-7].private)
    other.private = Credential.new(-7).private
    with pytest.raises(InvalidSignatureError):
        verify(assertion(other))


def test_tampered_authenticator_data() -> None:
    """Changing signed authenticator data breaks the signature."""
    resp = assertion(ES256, count=1)
    good = assertion(ES256, count=2)
    resp["response"]["authenticatorData"] = good["response"]["authenticatorData"]
    with pytest.raises(InvalidSignatureError):
        verify(resp)


@pytest.mark.parametrize(
    ("cd", "field"),
    [
        (client_data("webauthn.create"), "type"),
        (client_data("webauthn.get", challenge=b"\x00" * 32), "challenge"),
        (client_data("webauthn.get", origin="https://example.com.evil"), "origin"),
        (client_data("webauthn.get", crossOrigin=True), "cross_origin"),
        (client_data("webauthn.get", topOrigin=ORIGIN), "top_origin"),
    ],
)
def test_client_data_mismatch(cd: bytes, field: str) -> None:
    """Each client-data check names its field."""
    with pytest.raises(CeremonyMismatchError) as info:
        verify(assertion(ES256, cd=cd))
    assert info.value.field == field


def test_top_origin_allowed() -> None:
    """A top origin in the allowed set passes when cross-origin is allowed."""
    cd = client_data("webauthn.get", crossOrigin=True, topOrigin="https://top.example")
    verify(
        assertion(ES256, cd=cd),
        allow_cross_origin=True,
        allowed_top_origins={"https://top.example"},
    )


def test_rp_id_mismatch() -> None:
    """An assertion for another RP ID is refused."""
    with pytest.raises(CeremonyMismatchError) as info:
        verify(assertion(ES256, ad=auth_data(rp_id="evil.example", count=1)))
    assert info.value.field == "rp_id"


def test_user_presence() -> None:
    """UP clear is refused unless the caller turns the check off."""
    resp = assertion(ES256, flags=0)
    with pytest.raises(UserPresenceError):
        verify(resp)
    assert verify(resp, require_user_presence=False).user_present is False


def test_user_verification() -> None:
    """UV clear is refused when required."""
    with pytest.raises(UserVerificationError):
        verify(assertion(ES256), require_user_verification=True)


def test_bs_without_be_is_malformed() -> None:
    """BS without BE is refused (§6.1)."""
    with pytest.raises(MalformedDataError):
        verify(assertion(ES256, flags=UP | BS))


def test_backup_eligibility_must_not_change() -> None:
    """BE differing from the registered value is refused when the caller passes it."""
    with pytest.raises(WebAuthnError):
        verify(assertion(ES256, flags=UP | BE), expected_backup_eligible=False)
    with pytest.raises(WebAuthnError):
        verify(assertion(ES256, flags=UP), expected_backup_eligible=True)
    assert verify(assertion(ES256, flags=UP | BE), expected_backup_eligible=True).backup_eligible


def test_backup_eligibility_upgrade_accepted_only_when_asked() -> None:
    """BE=1 on a credential stored with BE=0 passes only with the option, and is reported."""
    upgraded = verify(
        assertion(ES256, flags=UP | BE | BS),
        expected_backup_eligible=False,
        accept_backup_eligibility_upgrade=True,
    )
    assert (upgraded.backup_eligible, upgraded.backup_eligibility_upgraded) == (True, True)
    unchanged = verify(
        assertion(ES256, flags=UP),
        expected_backup_eligible=False,
        accept_backup_eligibility_upgrade=True,
    )
    assert unchanged.backup_eligibility_upgraded is False
    same = verify(
        assertion(ES256, flags=UP | BE),
        expected_backup_eligible=True,
        accept_backup_eligibility_upgrade=True,
    )
    assert same.backup_eligibility_upgraded is False


def test_backup_eligibility_downgrade_always_refused() -> None:
    """BE=0 on a credential stored with BE=1 is refused even when upgrades are accepted."""
    with pytest.raises(WebAuthnError, match="backup eligibility"):
        verify(
            assertion(ES256, flags=UP),
            expected_backup_eligible=True,
            accept_backup_eligibility_upgrade=True,
        )


def test_backup_eligibility_upgrade_option_must_be_bool() -> None:
    """A non-bool accept_backup_eligibility_upgrade is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        verify(assertion(ES256), accept_backup_eligibility_upgrade="yes")


@pytest.mark.parametrize(("stored", "received"), [(5, 5), (5, 4), (5, 0), (1, 0)])
def test_sign_count_regression(stored: int, received: int) -> None:
    """A counter that does not increase is SignCountError with both values."""
    with pytest.raises(SignCountError) as info:
        verify(assertion(ES256, count=received), current_sign_count=stored)
    assert (info.value.stored, info.value.received) == (stored, received)


def test_sign_count_regression_can_be_flagged() -> None:
    """With the option, a regressed counter is flagged and the stored value kept."""
    result = verify(
        assertion(ES256, count=3), current_sign_count=5, allow_sign_count_regression=True
    )
    assert result.sign_count_regressed is True
    assert result.new_sign_count == 5


def test_zero_counters_are_fine() -> None:
    """Authenticators without a counter send 0, which passes when 0 is stored."""
    assert verify(assertion(ES256, count=0)).new_sign_count == 0


def test_user_handle_checked_when_expected() -> None:
    """A returned user handle must match the expected owner."""
    resp = assertion(ES256, user_handle=b"alice")
    assert verify(resp, expected_user_handle=b"alice").user_handle == b"alice"
    with pytest.raises(WebAuthnError):
        verify(resp, expected_user_handle=b"mallory")


def test_authenticator_extensions_returned() -> None:
    """Extension outputs in authenticator data (ED) are returned."""
    ad = auth_data(flags=UP | ED, count=1, ext={"hmac-secret": True})
    assert verify(assertion(ES256, ad=ad)).authenticator_extensions == {"hmac-secret": True}


def test_long_auth_data_bs_without_be() -> None:
    """The full parser also refuses BS without BE."""
    ad = auth_data(flags=UP | BS | ED, count=1, ext={"x": 1})
    with pytest.raises(MalformedDataError):
        verify(assertion(ES256, ad=ad))


def test_rs1_key_needs_parsed_opt_in() -> None:
    """RS1 keys are refused from COSE bytes; a key parsed with allow_rs1 works."""
    cred = Credential.new(-65535)
    with pytest.raises(UnsupportedAlgorithmError):
        verify(assertion(cred), cred)
    key = parse_credential_public_key(cred.cose, allow_rs1=True)
    assert verify(assertion(cred), cred, credential_public_key=key).new_sign_count == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"current_sign_count": -1},
        {"current_sign_count": 2**32},
        {"current_sign_count": "1"},
        {"credential_public_key": "cose"},
        {"expected_challenge": None},
        {"expected_origins": ()},
        {"expected_rp_id": None},
    ],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    """Host-app mistakes are ConfigurationError."""
    with pytest.raises(ConfigurationError):
        verify(assertion(ES256), **kwargs)


def test_mfa_errors_only_on_garbage_stored_key() -> None:
    """A corrupt stored key is MalformedDataError, not a low-level exception."""
    with pytest.raises(MalformedDataError):
        verify(assertion(ES256), credential_public_key=b"\xa0junk")


def test_verification_errors_are_mfa_errors() -> None:
    """All refusals here are VerificationError subclasses."""
    with pytest.raises(VerificationError):
        verify(assertion(ES256, count=0), current_sign_count=3)
