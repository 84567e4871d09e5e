"""The JSON codec of outbox messages: stable kinds, strict decoding, sealed login codes."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from mfakit.errors import ConfigurationError, DecryptionError, MalformedDataError
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import (
    AccountLocked,
    AccountUnlocked,
    BackupCodesLow,
    EnforcementStopped,
    GracePeriodStarted,
    LoginCode,
    MemberRemoved,
    Message,
    MethodAdded,
    MethodRemoved,
    MfaReminder,
    MfaReset,
    PasskeyNowSynced,
    SignCountAnomaly,
)
from mfakit.service._codec import (
    MESSAGE_KINDS,
    decode_message,
    encode_message,
    encode_unknown_login_code,
    kind_of,
)

KEYS = KeyRing({"k1": generate_key()}, current="k1")
WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MID = "m" * 32

SAMPLES: list[Message] = [
    MfaReminder(user_id="u", org_id="o", deadline=WHEN, actor_id="a"),
    MfaReminder(user_id="u", org_id="o"),
    GracePeriodStarted(user_id="u", org_id="o", deadline=WHEN),
    EnforcementStopped(user_id="u", org_id="o", actor_id="a"),
    LoginCode(user_id="u", org_id="o", code="123456", expires_at=WHEN),
    MethodAdded(user_id="u", method="passkey", label="Laptop"),
    MethodRemoved(user_id="u", method="totp", deadline=WHEN),
    AccountLocked(user_id="u", org_id="o", reason="admin"),
    AccountUnlocked(user_id="u", org_id="o", deadline=None),
    MemberRemoved(user_id="u", org_id="o"),
    MemberRemoved(user_id="u", org_id="o", actor_id="a"),
    MfaReset(user_id="u", org_id="o", deadline=WHEN, actor_id="a"),
    MfaReset(user_id="u"),
    BackupCodesLow(user_id="u", remaining=2),
    SignCountAnomaly(user_id="u", label="Key"),
    PasskeyNowSynced(user_id="u", label="Key"),
]


def _enqueued(message: Message) -> Message:
    return dataclasses.replace(message, message_id=MID)


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips(message: Message) -> None:
    """Encoding then decoding gives the same message, with its id."""
    kind, payload = encode_message(_enqueued(message), keys=KEYS)
    decoded = decode_message(kind, payload, message_id=MID, keys=KEYS)
    assert decoded is not None
    assert decoded == message
    assert decoded.message_id == MID
    assert [getattr(decoded, f.name) for f in dataclasses.fields(decoded)] == [
        getattr(_enqueued(message), f.name) for f in dataclasses.fields(message)
    ]


def test_kinds_are_stable() -> None:
    """The kind strings are stored in databases: they never change."""
    assert {k: c.__name__ for k, c in MESSAGE_KINDS.items()} == {
        "mfa.reminder": "MfaReminder",
        "mfa.grace_started": "GracePeriodStarted",
        "mfa.enforcement_stopped": "EnforcementStopped",
        "login_code": "LoginCode",
        "method.added": "MethodAdded",
        "method.removed": "MethodRemoved",
        "member.locked": "AccountLocked",
        "member.unlocked": "AccountUnlocked",
        "member.removed": "MemberRemoved",
        "mfa.reset": "MfaReset",
        "backup_codes.low": "BackupCodesLow",
        "passkey.sign_count_anomaly": "SignCountAnomaly",
        "passkey.now_synced": "PasskeyNowSynced",
    }
    assert {type(m) for m in SAMPLES} == set(MESSAGE_KINDS.values())


def test_payload_has_no_message_id() -> None:
    """The id is the outbox row's own; the payload holds only the fields."""
    _, payload = encode_message(_enqueued(SAMPLES[0]), keys=KEYS)
    assert "message_id" not in json.loads(payload)


def test_encoding_needs_the_message_id() -> None:
    """A message is encoded only once the outbox gave it its id."""
    with pytest.raises(ConfigurationError):
        encode_message(SAMPLES[0], keys=KEYS)


def test_message_id_is_not_part_of_equality() -> None:
    """Host code comparing messages it built keeps working; the id is delivery metadata."""
    assert _enqueued(SAMPLES[0]) == SAMPLES[0]
    assert SAMPLES[0].message_id == ""


def test_unknown_kind_is_refused() -> None:
    """A kind this version does not know is malformed data."""
    with pytest.raises(MalformedDataError):
        decode_message("mfa.unknown", "{}", message_id=MID, keys=KEYS)


@pytest.mark.parametrize(
    "payload",
    [
        '{"user_id":"u","org_id":"o","reason":"admin","extra":1}',  # unknown field
        '{"user_id":"u","org_id":"o"}',  # missing field
        '{"user_id":1,"org_id":"o","reason":"admin"}',  # mistyped field
        '{"user_id":"u","user_id":"v","org_id":"o","reason":"admin"}',  # duplicate key
        '["u"]',  # not an object
        "not json",
        "{" * 20000,  # too long
    ],
)
def test_malformed_payload_is_refused(payload: str) -> None:
    """Unknown, missing, mistyped or duplicate fields and non-objects are malformed data."""
    with pytest.raises(MalformedDataError):
        decode_message("member.locked", payload, message_id=MID, keys=KEYS)


def test_naive_datetime_is_refused() -> None:
    """Datetimes must carry their offset."""
    payload = '{"user_id":"u","org_id":"o","deadline":"2026-03-02T09:00:00"}'
    with pytest.raises(MalformedDataError):
        decode_message("mfa.grace_started", payload, message_id=MID, keys=KEYS)


def test_login_code_is_sealed_in_the_payload() -> None:
    """The stored payload never holds the code in clear."""
    _, payload = encode_message(_enqueued(SAMPLES[4]), keys=KEYS)
    assert "123456" not in payload


def test_sealed_code_is_bound_to_its_message_id() -> None:
    """A sealed code copied to another row does not open."""
    kind, payload = encode_message(_enqueued(SAMPLES[4]), keys=KEYS)
    with pytest.raises(DecryptionError):
        decode_message(kind, payload, message_id="other", keys=KEYS)


def test_sealed_code_needs_the_key_ring() -> None:
    """Without the service's key, the outbox row is useless."""
    kind, payload = encode_message(_enqueued(SAMPLES[4]), keys=KEYS)
    other = KeyRing({"k1": generate_key()}, current="k1")
    with pytest.raises(DecryptionError):
        decode_message(kind, payload, message_id=MID, keys=other)


def test_placeholder_decodes_to_nothing() -> None:
    """The row written for an unknown username is a login code to no one."""
    kind, payload = encode_unknown_login_code(
        message_id=MID, org_id="o", code="654321", expires_at=WHEN, keys=KEYS
    )
    assert kind == kind_of(SAMPLES[4])
    assert "654321" not in payload
    assert decode_message(kind, payload, message_id=MID, keys=KEYS) is None


def test_kind_of_refuses_foreign_objects() -> None:
    """Only the service's messages have a kind."""
    with pytest.raises(ConfigurationError):
        kind_of(object())  # type: ignore[arg-type]
