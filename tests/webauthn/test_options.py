"""Ceremony options and their Level 3 JSON form."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from mfakit.errors import ConfigurationError
from mfakit.webauthn import (
    DEFAULT_ALGORITHMS,
    CredentialDescriptor,
    authentication_options,
    registration_options,
)


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def reg(**kw: Any) -> Any:
    args: dict[str, Any] = {
        "rp_id": "example.com",
        "rp_name": "Example",
        "user_id": b"u" * 16,
        "user_name": "ada@example.com",
        "user_display_name": "Ada",
    }
    args.update(kw)
    return registration_options(**args)


def test_registration_json_shape() -> None:
    """to_json gives the PublicKeyCredentialCreationOptionsJSON members."""
    opts = reg(
        exclude_credentials=[b"c1", CredentialDescriptor(id=b"c2", transports=("usb", "x"))],
        hints=["security-key"],
        resident_key="required",
        attestation="direct",
        user_verification="required",
        authenticator_attachment="cross-platform",
    )
    js = opts.to_json()
    assert js["rp"] == {"id": "example.com", "name": "Example"}
    assert _b64d(js["user"]["id"]) == b"u" * 16
    assert js["user"]["name"] == "ada@example.com"
    assert js["user"]["displayName"] == "Ada"
    assert _b64d(js["challenge"]) == opts.challenge
    assert [p["alg"] for p in js["pubKeyCredParams"]] == list(DEFAULT_ALGORITHMS)
    assert all(p["type"] == "public-key" for p in js["pubKeyCredParams"])
    assert js["excludeCredentials"] == [
        {"type": "public-key", "id": "YzE"},
        {"type": "public-key", "id": "YzI", "transports": ["usb"]},
    ]
    assert js["authenticatorSelection"] == {
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "required",
        "authenticatorAttachment": "cross-platform",
    }
    assert js["hints"] == ["security-key"]
    assert js["attestation"] == "direct"
    assert js["extensions"] == {"credProps": True}
    assert js["timeout"] == 300_000


def test_default_challenge_is_32_random_bytes() -> None:
    """Each call makes a fresh 32-byte challenge."""
    a, b = reg(), reg()
    assert len(a.challenge) == 32
    assert a.challenge != b.challenge


def test_short_challenge_refused() -> None:
    """Challenges under 16 bytes are refused."""
    with pytest.raises(ConfigurationError):
        reg(challenge=b"x" * 15)
    assert reg(challenge=b"x" * 16).challenge == b"x" * 16


def test_challenge_longer_than_client_data_carries_refused() -> None:
    """Challenges over 768 bytes (1024 base64url characters) could never verify: refused."""
    with pytest.raises(ConfigurationError):
        reg(challenge=b"x" * 769)
    assert reg(challenge=b"x" * 768).challenge == b"x" * 768


def test_extensions_copied_and_cred_props_optional() -> None:
    """Caller extensions are copied; credProps can be left out."""
    ext = {"largeBlob": {"support": "preferred"}}
    opts = reg(extensions=ext, cred_props=False)
    ext["largeBlob"]["support"] = "required"
    assert opts.to_json()["extensions"] == {"largeBlob": {"support": "preferred"}}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rp_id": ""},
        {"user_id": b""},
        {"user_id": b"x" * 65},
        {"user_name": None},
        {"attestation": "full"},
        {"user_verification": "maybe"},
        {"resident_key": "yes"},
        {"algorithms": [-7, 12345]},
        {"algorithms": []},
        {"timeout_ms": 0},
        {"hints": "hybrid"},
        {"hints": ["phone"]},
        {"extensions": {"x": object()}},
        {"exclude_credentials": b"id"},
        {"exclude_credentials": [b""]},
        {"exclude_credentials": [1]},
        {"authenticator_attachment": "usb"},
        {"exclude_credentials": 5},
    ],
)
def test_registration_arguments_checked(kwargs: dict[str, Any]) -> None:
    """Out-of-range arguments are ConfigurationError."""
    with pytest.raises(ConfigurationError):
        reg(**kwargs)


def test_authentication_json_shape() -> None:
    """to_json gives the PublicKeyCredentialRequestOptionsJSON members."""
    opts = authentication_options(
        rp_id="example.com",
        allow_credentials=[CredentialDescriptor(id=b"c1", transports=("internal", "hybrid"))],
        user_verification="required",
        hints=["client-device"],
        extensions={"appid": "x"},
        timeout_ms=60_000,
    )
    js = opts.to_json()
    assert js == {
        "challenge": js["challenge"],
        "timeout": 60_000,
        "rpId": "example.com",
        "allowCredentials": [
            {"type": "public-key", "id": "YzE", "transports": ["internal", "hybrid"]}
        ],
        "userVerification": "required",
        "hints": ["client-device"],
        "extensions": {"appid": "x"},
    }
    assert _b64d(js["challenge"]) == opts.challenge


def test_authentication_defaults() -> None:
    """A discoverable login has no allow list and preferred UV."""
    js = authentication_options(rp_id="example.com").to_json()
    assert js["allowCredentials"] == []
    assert js["userVerification"] == "preferred"


@pytest.mark.parametrize("kwargs", [{"rp_id": ""}, {"challenge": b"short"}, {"timeout_ms": 10**9}])
def test_authentication_arguments_checked(kwargs: dict[str, Any]) -> None:
    """Out-of-range arguments are ConfigurationError."""
    args = {"rp_id": "example.com", **kwargs}
    with pytest.raises(ConfigurationError):
        authentication_options(**args)


def test_repr_hides_challenge() -> None:
    """The challenge and user id stay out of the repr."""
    opts = reg(challenge=b"S" * 16)
    assert "SSSS" not in repr(opts)
    assert "uuuu" not in repr(opts)
