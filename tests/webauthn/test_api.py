"""The public surface of mfakit.webauthn: a small front door, three named modules, old names."""

from __future__ import annotations

import importlib
import pickle
import warnings

import pytest

import mfakit.webauthn
from mfakit.webauthn import attestation, low_level, metadata
from mfakit.webauthn import typing as webauthn_typing

FRONT_DOOR = [
    "AttestationPolicy",
    "AttestationType",
    "AuthenticationOptions",
    "COSEAlgorithm",
    "CeremonyMismatchError",
    "CredentialDescriptor",
    "CredentialPublicKey",
    "DEFAULT_ALGORITHMS",
    "DEFAULT_TIMEOUT_MS",
    "InvalidAttestationError",
    "InvalidSignatureError",
    "MAX_ORIGIN_LABELS",
    "MalformedDataError",
    "MetadataProvider",
    "RELATED_ORIGINS_PATH",
    "RegistrationOptions",
    "SignCountError",
    "UnsupportedAlgorithmError",
    "UnsupportedAttestationError",
    "UntrustedAttestationError",
    "UserPresenceError",
    "UserVerificationError",
    "VerifiedAuthentication",
    "VerifiedRegistration",
    "WebAuthnError",
    "all_accepted_credentials_signal",
    "attestation",
    "authentication_options",
    "current_user_details_signal",
    "low_level",
    "metadata",
    "origin_covered",
    "parse_credential_public_key",
    "public_trust_anchors",
    "registration_options",
    "related_origins_document",
    "typing",
    "unknown_credential_signal",
    "verify_authentication",
    "verify_registration",
]
LOW_LEVEL = [
    "AttestationObject",
    "AttestedCredentialData",
    "AuthenticationResponse",
    "AuthenticatorData",
    "AuthenticatorFlags",
    "CollectedClientData",
    "MAX_ATTESTATION_BYTES",
    "MAX_AUTH_DATA_BYTES",
    "MAX_CBOR_DEPTH",
    "MAX_CLIENT_DATA_BYTES",
    "MAX_COSE_KEY_BYTES",
    "MAX_CREDENTIAL_ID_BYTES",
    "MAX_RESPONSE_BYTES",
    "MAX_SIGNATURE_BYTES",
    "MAX_USER_HANDLE_BYTES",
    "RegistrationResponse",
    "parse_attestation_object",
    "parse_authentication_response",
    "parse_authenticator_data",
    "parse_client_data",
    "parse_registration_response",
]
METADATA = [
    "AuthenticatorStatus",
    "CERTIFICATION_LEVELS",
    "DEFAULT_REJECTED_STATUSES",
    "MAX_BLOB_BYTES",
    "MetadataBLOB",
    "MetadataEntry",
    "MetadataSource",
    "StatusReport",
    "load_metadata",
    "parse_metadata_blob",
]
ATTESTATION = [
    "ATTESTATION_FORMATS",
    "AttestationPolicy",
    "AttestationType",
    "MetadataProvider",
    "PublicRoot",
    "TPM_MANUFACTURERS",
    "UNSIGNED_AAGUID_FORMATS",
    "public_roots",
    "public_trust_anchors",
]
TYPING = [
    "AllAcceptedCredentialsOptionsJSON",
    "AuthenticationResponseJSON",
    "AuthenticatorAssertionResponseJSON",
    "AuthenticatorAttestationResponseJSON",
    "AuthenticatorSelectionCriteriaJSON",
    "CurrentUserDetailsOptionsJSON",
    "PublicKeyCredentialCreationOptionsJSON",
    "PublicKeyCredentialDescriptorJSON",
    "PublicKeyCredentialParametersJSON",
    "PublicKeyCredentialRequestOptionsJSON",
    "PublicKeyCredentialRpEntityJSON",
    "PublicKeyCredentialUserEntityJSON",
    "RegistrationResponseJSON",
    "UnknownCredentialOptionsJSON",
]
MODULES = [
    (mfakit.webauthn, FRONT_DOOR),
    (low_level, LOW_LEVEL),
    (metadata, METADATA),
    (attestation, ATTESTATION),
    (webauthn_typing, TYPING),
]
# Every name the front door exported before it was made small, and where it went.
MOVED = {
    **dict.fromkeys(LOW_LEVEL, "mfakit.webauthn.low_level"),
    **dict.fromkeys(METADATA, "mfakit.webauthn.metadata"),
    "ATTESTATION_FORMATS": "mfakit.webauthn.attestation",
    "PublicRoot": "mfakit.webauthn.attestation",
    "public_roots": "mfakit.webauthn.attestation",
}
del MOVED["MAX_CBOR_DEPTH"]  # new in low_level, never in the front door


@pytest.mark.parametrize(("module", "names"), MODULES, ids=lambda m: getattr(m, "__name__", ""))
def test_all_is_pinned(module: object, names: list[str]) -> None:
    """Each public webauthn module exports exactly these names, sorted."""
    assert module.__all__ == sorted(names)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("module", "names"), MODULES, ids=lambda m: getattr(m, "__name__", ""))
def test_classes_and_functions_name_their_public_module(module: object, names: list[str]) -> None:
    """Reprs, tracebacks and docs show the module users import from, never a private one."""
    for name in names:
        obj = getattr(module, name)
        owner = getattr(obj, "__module__", "")
        if not owner.startswith("mfakit.webauthn") or not (isinstance(obj, type) or callable(obj)):
            continue
        assert "._" not in owner, f"{name} shows {owner}"
        assert getattr(importlib.import_module(owner), obj.__qualname__) is obj


def test_front_door_names_show_the_front_door() -> None:
    """A recipe exported by the front door and a subpackage shows the front door."""
    assert repr(mfakit.webauthn.VerifiedRegistration) == (
        "<class 'mfakit.webauthn.VerifiedRegistration'>"
    )
    assert mfakit.webauthn.AttestationPolicy.__module__ == "mfakit.webauthn"
    assert low_level.AuthenticatorData.__module__ == "mfakit.webauthn.low_level"


def test_results_pickle_through_their_public_module() -> None:
    """A public enum member pickles and unpickles through its public module."""
    alg = mfakit.webauthn.COSEAlgorithm.ES256
    assert pickle.loads(pickle.dumps(alg)) is alg  # noqa: S301 - our own bytes


@pytest.mark.parametrize("name", sorted(MOVED))
def test_moved_names_still_work_with_a_deprecation_warning(name: str) -> None:
    """An old front-door name returns the same object and warns where it moved."""
    with pytest.warns(DeprecationWarning, match=MOVED[name].replace(".", r"\.")):
        old = getattr(mfakit.webauthn, name)
    assert old is getattr(importlib.import_module(MOVED[name]), name)


def test_old_from_import_still_works() -> None:
    """``from mfakit.webauthn import parse_client_data`` works, with a warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from mfakit.webauthn import parse_client_data
    assert parse_client_data is low_level.parse_client_data
    # The import machinery looks the name up twice (hasattr, then getattr).
    assert caught
    assert {w.category for w in caught} == {DeprecationWarning}


def test_unknown_names_are_attribute_errors() -> None:
    """A name that never existed is an AttributeError, not a warning."""
    with pytest.raises(AttributeError):
        mfakit.webauthn.no_such_name  # noqa: B018
