"""Signal API payloads: shapes the browser accepts, and refusals of bad arguments."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from mfakit.errors import ConfigurationError, MfaError
from mfakit.webauthn import (
    all_accepted_credentials_signal,
    current_user_details_signal,
    unknown_credential_signal,
)

HANDLE = bytes(range(32))
CRED_A = b"\xfb\xff" + b"a" * 30  # encodes with "-" and "_" in base64url
CRED_B = b"b" * 16
LONG = "x" * 1025


def _decode(text: str) -> bytes:
    assert "=" not in text
    assert "+" not in text
    assert "/" not in text
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_unknown_credential_payload_is_base64url_without_padding() -> None:
    payload = unknown_credential_signal(rp_id="example.com", credential_id=CRED_A)
    assert set(payload) == {"rpId", "credentialId"}
    assert payload["rpId"] == "example.com"
    assert payload["credentialId"].startswith("-_")
    assert _decode(payload["credentialId"]) == CRED_A


def test_all_accepted_lists_each_id_once_in_order() -> None:
    payload = all_accepted_credentials_signal(
        rp_id="example.com", user_handle=HANDLE, credential_ids=[CRED_B, CRED_A, CRED_B]
    )
    assert set(payload) == {"rpId", "userId", "allAcceptedCredentialIds"}
    assert _decode(payload["userId"]) == HANDLE
    assert [_decode(c) for c in payload["allAcceptedCredentialIds"]] == [CRED_B, CRED_A]


def test_all_accepted_with_no_credentials_is_an_empty_list() -> None:
    # A user who deleted their last passkey: the provider may hide all of them.
    payload = all_accepted_credentials_signal(
        rp_id="example.com", user_handle=HANDLE, credential_ids=iter(())
    )
    assert payload["allAcceptedCredentialIds"] == []


def test_current_user_details_keeps_the_names() -> None:
    payload = current_user_details_signal(
        rp_id="example.com", user_handle=HANDLE, name="ada@example.com", display_name="Ada L."
    )
    assert payload == {
        "rpId": "example.com",
        "userId": base64.urlsafe_b64encode(HANDLE).rstrip(b"=").decode(),
        "name": "ada@example.com",
        "displayName": "Ada L.",
    }


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        (unknown_credential_signal, {"rp_id": "", "credential_id": CRED_A}),
        (unknown_credential_signal, {"rp_id": None, "credential_id": CRED_A}),
        (unknown_credential_signal, {"rp_id": "example.com", "credential_id": b""}),
        (unknown_credential_signal, {"rp_id": "example.com", "credential_id": b"x" * 1024}),
        (unknown_credential_signal, {"rp_id": "example.com", "credential_id": "abc"}),
        (
            all_accepted_credentials_signal,
            {"rp_id": "example.com", "user_handle": b"x" * 65, "credential_ids": []},
        ),
        (
            all_accepted_credentials_signal,
            {"rp_id": "example.com", "user_handle": HANDLE, "credential_ids": CRED_A},
        ),
        (
            all_accepted_credentials_signal,
            {"rp_id": "example.com", "user_handle": HANDLE, "credential_ids": [CRED_A, "s"]},
        ),
        (
            current_user_details_signal,
            {"rp_id": "example.com", "user_handle": HANDLE, "name": 1, "display_name": "A"},
        ),
        (
            current_user_details_signal,
            {"rp_id": "example.com", "user_handle": HANDLE, "name": "a", "display_name": LONG},
        ),
        (
            current_user_details_signal,
            {"rp_id": "example.com", "user_handle": "handle", "name": "a", "display_name": "A"},
        ),
    ],
)
def test_bad_arguments_are_configuration_errors(call: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        call(**kwargs)
    assert isinstance(caught.value, MfaError)
    # The message names the argument, never its value.
    assert "example.com" not in str(caught.value)
    assert "xxxx" not in str(caught.value)


def test_too_many_credentials_are_refused() -> None:
    ids = (i.to_bytes(4, "big") for i in range(10_001))
    with pytest.raises(ConfigurationError, match="more than 10000"):
        all_accepted_credentials_signal(rp_id="example.com", user_handle=HANDLE, credential_ids=ids)
    payload = all_accepted_credentials_signal(
        rp_id="example.com",
        user_handle=HANDLE,
        credential_ids=(i.to_bytes(4, "big") for i in range(10_000)),
    )
    assert len(payload["allAcceptedCredentialIds"]) == 10_000
