"""The exception tree in mfakit.errors."""

from __future__ import annotations

import inspect
from datetime import timedelta

import pytest

from mfakit import errors
from mfakit.errors import (
    AttemptsExhaustedError,
    CeremonyMismatchError,
    ConfigurationError,
    DecryptionError,
    LimitReachedError,
    MalformedDataError,
    MfaError,
    PolicyDeniedError,
    SignCountError,
    StepUpRequiredError,
    ThrottledError,
    UnknownCredentialError,
    UnknownKeyError,
    UnsupportedAlgorithmError,
    UnsupportedAttestationError,
    VerificationError,
    WebAuthnError,
)
from mfakit.webauthn import unknown_credential_signal

ALL_ERRORS = [
    obj
    for name, obj in vars(errors).items()
    if inspect.isclass(obj) and issubclass(obj, MfaError) and name in errors.__all__
]

# The tree drawn in DESIGN.md and in the module docstring: child -> parent.
EXPECTED_PARENTS = {
    "ConfigurationError": "MfaError",
    "InvalidNameError": "ConfigurationError",
    "MalformedDataError": "MfaError",
    "VerificationError": "MfaError",
    "InvalidCodeError": "VerificationError",
    "AttemptsExhaustedError": "InvalidCodeError",
    "ReplayedCodeError": "VerificationError",
    "ExpiredCodeError": "VerificationError",
    "DecryptionError": "VerificationError",
    "UnknownKeyError": "DecryptionError",
    "InvitationAddressError": "VerificationError",
    "WebAuthnError": "VerificationError",
    "CeremonyMismatchError": "WebAuthnError",
    "UserPresenceError": "WebAuthnError",
    "UserVerificationError": "WebAuthnError",
    "InvalidSignatureError": "WebAuthnError",
    "UnsupportedAlgorithmError": "WebAuthnError",
    "UnsupportedAttestationError": "WebAuthnError",
    "InvalidAttestationError": "WebAuthnError",
    "UntrustedAttestationError": "WebAuthnError",
    "SignCountError": "WebAuthnError",
    "UnknownCredentialError": "WebAuthnError",
    "PasswordlessNotAllowedError": "WebAuthnError",
    "ThrottledError": "MfaError",
    "LimitReachedError": "MfaError",
    "PolicyDeniedError": "MfaError",
    "StepUpRequiredError": "PolicyDeniedError",
    "SessionRevocationError": "MfaError",
    "StoreError": "MfaError",
    "NotFoundError": "StoreError",
    "DuplicateError": "StoreError",
}


def test_tree_matches_design() -> None:
    """Every error has exactly the parent the design names."""
    names = {cls.__name__ for cls in ALL_ERRORS} - {"MfaError"}
    assert names == set(EXPECTED_PARENTS)
    for cls in ALL_ERRORS:
        if cls is MfaError:
            continue
        assert cls.__mro__[1].__name__ == EXPECTED_PARENTS[cls.__name__]


def test_tree_is_drawn_in_docstring() -> None:
    """The module docstring draws every class of the tree."""
    doc = errors.__doc__ or ""
    for cls in ALL_ERRORS:
        assert cls.__name__ in doc


@pytest.mark.parametrize("cls", [ConfigurationError, MalformedDataError])
def test_input_errors_are_value_errors(cls: type[MfaError]) -> None:
    """Errors about bad input also subclass ValueError."""
    assert issubclass(cls, ValueError)


def test_verification_errors_are_not_value_errors() -> None:
    """A refused code is not a programming error."""
    assert not issubclass(VerificationError, ValueError)


def test_codes_are_unique() -> None:
    """Each class has its own stable machine code."""
    codes = [cls.code for cls in ALL_ERRORS]
    assert len(codes) == len(set(codes))


def test_default_message_used_when_none_given() -> None:
    """An error raised without a message still has a useful one."""
    exc = WebAuthnError()
    assert str(exc) == WebAuthnError.default_message
    assert exc.message == str(exc)


def test_attributes_and_repr() -> None:
    """Structured attributes are kept and shown in repr, never the message alone."""
    exc = CeremonyMismatchError("origin not allowed", field="origin")
    assert exc.field == "origin"
    assert repr(exc) == "CeremonyMismatchError('origin not allowed', field='origin')"
    assert ThrottledError(retry_after=2.5).retry_after == 2.5
    assert repr(LimitReachedError("too many", limit=5)) == "LimitReachedError('too many', limit=5)"
    assert UnsupportedAlgorithmError(alg=-7).alg == -7
    assert UnsupportedAttestationError(fmt="tpm").fmt == "tpm"
    counted = SignCountError(stored=5, received=3)
    assert (counted.stored, counted.received) == (5, 3)
    assert "stored=5" in repr(counted)
    assert MalformedDataError("bad", field="rawId").field == "rawId"
    assert repr(MalformedDataError("bad")) == "MalformedDataError('bad')"


def test_attempts_exhausted_has_zero_remaining() -> None:
    """A dead code reports no attempts left."""
    exc = AttemptsExhaustedError()
    assert exc.attempts_remaining == 0
    assert "attempts_remaining=0" in repr(exc)


def test_decryption_errors_carry_key_id() -> None:
    """Secret-box errors name the key id (never the key)."""
    assert UnknownKeyError(key_id="k2").key_id == "k2"
    assert repr(DecryptionError()) == f"DecryptionError({DecryptionError.default_message!r})"


def test_policy_denied_keeps_decision() -> None:
    """The decision that refused an action travels with the error."""
    decision = object()
    assert PolicyDeniedError(decision=decision).decision is decision


def test_step_up_required_carries_action_age_and_factors() -> None:
    """A step-up refusal says which action, how recent, and which method kinds can answer."""
    decision = object()
    exc = StepUpRequiredError(
        action="delete_project",
        max_age=timedelta(minutes=5),
        factors=("totp", "passkey"),
        decision=decision,
    )
    assert isinstance(exc, PolicyDeniedError)
    assert (exc.action, exc.max_age, exc.factors) == (
        "delete_project",
        timedelta(minutes=5),
        ("totp", "passkey"),
    )
    assert exc.decision is decision
    assert exc.code == "step_up_required"
    assert "action='delete_project'" in repr(exc)
    assert "factors=('totp', 'passkey')" in repr(exc)


def test_unknown_credential_carries_the_signal_options_only() -> None:
    """The signalUnknownCredential argument is an attribute; the id is in no message or repr."""
    credential_id = bytes(range(1, 33))
    exc = UnknownCredentialError(
        signal_options=unknown_credential_signal(rp_id="example.com", credential_id=credential_id)
    )
    encoded = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA"
    assert exc.signal_options == {"rpId": "example.com", "credentialId": encoded}
    assert encoded not in str(exc)
    assert encoded not in repr(exc)
    assert credential_id.hex() not in repr(exc)
    assert exc.code == "unknown_credential"
