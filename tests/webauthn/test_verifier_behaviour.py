"""Behaviours of the two verifiers kept from the deleted fast-path tests, plus tokenBinding."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import cbor2
import pytest

from mfakit.errors import (
    ConfigurationError,
    InvalidSignatureError,
    MalformedDataError,
    MfaError,
    UnsupportedAlgorithmError,
)
from mfakit.webauthn import (
    VerifiedAuthentication,
    VerifiedRegistration,
    _cose,
    verify_authentication,
    verify_registration,
)
from mfakit.webauthn._options import PublicKeyCredentialRequestOptionsJSON
from mfakit.webauthn._response import AuthenticationResponseJSON

from .helpers import (
    AT,
    CHALLENGE,
    ED,
    ORIGIN,
    RP_ID,
    UP,
    Credential,
    assertion,
    auth_data,
    client_data,
    registration,
)

ES256 = Credential.new(-7)


def _login(response: Any, key: Any = None, **kw: Any) -> VerifiedAuthentication:
    args: dict[str, Any] = {
        "expected_challenge": CHALLENGE,
        "expected_origins": ORIGIN,
        "expected_rp_id": RP_ID,
        "credential_public_key": ES256.cose if key is None else key,
        "current_sign_count": 0,
    }
    args.update(kw)
    return verify_authentication(response, **args)


def _register(response: Any, **kw: Any) -> VerifiedRegistration:
    return verify_registration(
        response, expected_challenge=CHALLENGE, expected_origins=ORIGIN, expected_rp_id=RP_ID, **kw
    )


# --- tokenBinding: reserved in Level 3, whatever it holds -------------------


@pytest.mark.parametrize(
    "token_binding",
    [
        {"status": "present", "id": "AAAA"},
        {"status": "supported"},
        {"status": "not-a-status"},
        {"status": 7},
        "reserved",
        None,
    ],
)
def test_token_binding_is_ignored_in_an_assertion(token_binding: object) -> None:
    """Any tokenBinding member, an unknown status included, is treated as absent."""
    cd = client_data("webauthn.get", tokenBinding=token_binding)
    assert _login(assertion(ES256, cd=cd)).new_sign_count == 1


def test_token_binding_is_ignored_in_a_registration() -> None:
    """A registration whose client data carries an unknown tokenBinding status verifies."""
    cred = Credential.new(-7)
    cd = client_data("webauthn.create", tokenBinding={"status": "unknown-future-value"})
    assert _register(registration(cred, cd=cd)).credential_id == cred.cred_id


# --- the key cache -----------------------------------------------------------


def test_cose_bytes_are_parsed_once() -> None:
    """A key passed as COSE bytes is reused on the next assertion."""
    cache = _cose.cached_credential_public_key
    cache.cache_clear()
    _login(assertion(ES256))
    _login(assertion(ES256), key=bytes(ES256.cose))
    info = cache.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 1, 1)


def test_cose_key_cache_is_bounded() -> None:
    """The cache never holds more than KEY_CACHE_SIZE keys."""
    cache = _cose.cached_credential_public_key
    cache.cache_clear()
    for _ in range(_cose.KEY_CACHE_SIZE + 5):
        cache(Credential.new(-8).cose)
    assert cache.cache_info().currsize == _cose.KEY_CACHE_SIZE == 256


def test_cose_key_errors_are_not_cached() -> None:
    """A key that fails to parse fails every time and leaves nothing in the cache."""
    cache = _cose.cached_credential_public_key
    cache.cache_clear()
    bad = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32})
    for _ in range(2):
        with pytest.raises(MalformedDataError):
            _login(assertion(ES256), key=bad)
    assert cache.cache_info().currsize == 0


def test_rs1_stays_refused_from_bytes() -> None:
    """RS1 keys given as bytes are refused on every call, cached or not."""
    cred = Credential.new(-65535)
    for _ in range(2):
        with pytest.raises(UnsupportedAlgorithmError):
            _login(assertion(cred), key=cred.cose)


def test_bytes_subclass_skips_the_cache() -> None:
    """A bytes subclass (its hash may differ) is parsed outside the cache and verifies."""

    class Stored(bytes):
        pass

    cache = _cose.cached_credential_public_key
    cache.cache_clear()
    assert _login(assertion(ES256), key=Stored(ES256.cose)).new_sign_count == 1
    assert cache.cache_info().currsize == 0


def test_each_key_verifies_only_its_own_signatures() -> None:
    """Keys sharing the module's scheme objects do not accept each other's signatures."""
    other = Credential.new(-7)
    assert _login(assertion(other), key=other.cose).new_sign_count == 1
    with pytest.raises(InvalidSignatureError):
        _login(assertion(ES256), key=other.cose)


# --- response shapes and arguments -----------------------------------------


@pytest.mark.parametrize("encode", [json.dumps, lambda r: json.dumps(r).encode()])
def test_response_as_json_text(encode: Any) -> None:
    """The response may come as JSON text (str or bytes) and verifies like the dict."""
    response = assertion(ES256)
    assert _login(encode(response)) == _login(response)


@pytest.mark.parametrize("flags", [UP | AT, UP | ED, UP | AT | ED])
def test_at_or_ed_on_bare_authenticator_data_is_malformed(flags: int) -> None:
    """AT or ED on 37 bytes of authenticator data: the data they announce is missing."""
    with pytest.raises(MalformedDataError):
        _login(assertion(ES256, ad=auth_data(flags=flags, count=1)))


def test_lone_surrogate_origin_is_only_a_non_match() -> None:
    """An expected origin with a lone surrogate cannot match; the real origin still does."""
    assert _login(assertion(ES256), expected_origins=["https://\ud800.example", ORIGIN])


@pytest.mark.parametrize("handle", ["abc", 5, bytearray(b"x")])
def test_non_bytes_expected_user_handle_is_a_configuration_error(handle: object) -> None:
    """expected_user_handle must be bytes."""
    with pytest.raises(ConfigurationError):
        _login(assertion(ES256, user_handle=b"u"), expected_user_handle=handle)


@pytest.mark.parametrize("size", [1, 768])
def test_longest_challenge_round_trips(size: int) -> None:
    """A challenge of up to 768 bytes (1024 base64url characters) verifies."""
    challenge = b"\x07" * size
    cd = client_data("webauthn.get", challenge=challenge)
    assert _login(assertion(ES256, cd=cd), expected_challenge=challenge)


def test_challenge_over_the_limit_is_a_configuration_error() -> None:
    """An expected challenge longer than client data may carry is a host-app bug."""
    with pytest.raises(ConfigurationError):
        _login(assertion(ES256), expected_challenge=b"\x07" * 769)


def test_results_are_genuine_frozen_dataclasses() -> None:
    """Both verifiers return their frozen dataclasses, equal to a copy."""
    cred = Credential.new(-7)
    reg = _register(registration(cred))
    login = _login(assertion(cred), key=reg.credential_public_key)
    for result in (reg, login):
        assert dataclasses.replace(result) == result
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.credential_id = b"x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "cd",
    [
        client_data("webauthn.get", crossOrigin=0),
        client_data("webauthn.get", origin=["https://example.com"]),
        client_data("webauthn.get").replace(b'"challenge":"', b'"challenge":"!'),
        client_data("webauthn.get")[:-1] + b',"type":"webauthn.get"}',
        client_data("webauthn.get")[:-1] + b',"x":NaN}',
        b'["webauthn.get"]',
        b"\xff\xfe",
        b"",
    ],
)
def test_malformed_client_data_is_malformed_data(cd: bytes) -> None:
    """Client data that is not a well-typed JSON object is refused as malformed."""
    ad = auth_data(count=1)
    sig = ES256.private.sign(ad + hashlib.sha256(cd).digest(), _ecdsa())
    with pytest.raises(MalformedDataError):
        _login(assertion(ES256, cd=cd, ad=ad, signature=sig))


def test_whitespace_around_client_data_is_accepted() -> None:
    """JSON whitespace around the client data object is valid JSON and verifies."""
    cd = b" " + client_data("webauthn.get") + b"\n"
    assert _login(assertion(ES256, cd=cd)).new_sign_count == 1


def test_typed_dict_shapes_describe_the_json() -> None:
    """The TypedDict shapes name the members of the Level 3 JSON."""
    assert {"challenge", "rpId", "allowCredentials"} <= set(
        PublicKeyCredentialRequestOptionsJSON.__annotations__
    )
    assert AuthenticationResponseJSON.__required_keys__ >= {"id", "rawId", "type", "response"}
    assert "authenticatorAttachment" in AuthenticationResponseJSON.__optional_keys__


def test_nothing_but_mfa_errors_escape() -> None:
    """A response of the wrong shape raises an MfaError, whatever is wrong."""
    for bad in (None, [], {"type": "public-key"}, "{", b"\xff", {"response": 1}):
        with pytest.raises(MfaError):
            _login(bad)


def _ecdsa() -> Any:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.ECDSA(hashes.SHA256())
