"""The JSON form of the service's messages in the transactional outbox.

Each message type has a stable ``kind`` (the outbox row's ``kind`` column) and
a payload: a JSON object of the message's fields, without ``message_id`` (that
is the row's own id). Datetimes are ISO 8601 with their offset. The kinds::

    mfa.reminder                 MfaReminder
    mfa.grace_started            GracePeriodStarted
    mfa.enforcement_stopped      EnforcementStopped
    login_code                   LoginCode
    method.added                 MethodAdded
    method.removed               MethodRemoved
    member.locked                AccountLocked
    member.unlocked              AccountUnlocked
    member.removed               MemberRemoved
    mfa.reset                    MfaReset
    backup_codes.low             BackupCodesLow
    passkey.sign_count_anomaly   SignCountAnomaly
    passkey.now_synced           PasskeyNowSynced

A kind's payload only ever gains optional fields; an incompatible change gets
a new kind. Decoding is strict: an unknown kind, an unknown or missing field,
a wrong type or a duplicate key is a :class:`~mfakit.errors.MalformedDataError`.

The login code is the one secret: it is stored sealed with the service's key
ring (AES-256-GCM bound to the message id), so the outbox table never holds
a usable code, as the login-code table holds only its keyed hash. A
``login_code`` row whose ``user_id`` is ``null`` is the placeholder written
for an unknown username (so both answers do the same store work); it decodes
to ``None``: there is nothing to deliver.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from mfakit.errors import ConfigurationError, MalformedDataError
from mfakit.secretbox import KeyRing
from mfakit.service._notify import (
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

__all__ = [
    "LOGIN_CODE_KIND",
    "MESSAGE_KINDS",
    "decode_message",
    "encode_message",
    "encode_unknown_login_code",
    "kind_of",
]

#: Every message type by its stable kind (an explicit registry, not discovery).
MESSAGE_KINDS: Final[Mapping[str, type[Message]]] = {
    "mfa.reminder": MfaReminder,
    "mfa.grace_started": GracePeriodStarted,
    "mfa.enforcement_stopped": EnforcementStopped,
    "login_code": LoginCode,
    "method.added": MethodAdded,
    "method.removed": MethodRemoved,
    "member.locked": AccountLocked,
    "member.unlocked": AccountUnlocked,
    "member.removed": MemberRemoved,
    "mfa.reset": MfaReset,
    "backup_codes.low": BackupCodesLow,
    "passkey.sign_count_anomaly": SignCountAnomaly,
    "passkey.now_synced": PasskeyNowSynced,
}
_KINDS: Final[Mapping[type[Message], str]] = {cls: kind for kind, cls in MESSAGE_KINDS.items()}

#: The kind of emailed login codes (never delivered inline).
LOGIN_CODE_KIND: Final = "login_code"

_SEAL_PURPOSE = "outbox.login_code"
_MAX_PAYLOAD = 16 * 1024


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError
    return value


def _moment(value: object) -> datetime:
    when = datetime.fromisoformat(_text(value))
    if when.tzinfo is None:
        raise TypeError
    return when


# Field decoders by annotation (the modules use postponed annotations, so these
# are strings); read once here, never per message.
_DECODERS: Final[Mapping[str, Callable[[object], object]]] = {
    "str": _text,
    "int": _integer,
    "datetime": _moment,
    "str | None": lambda v: None if v is None else _text(v),
    "datetime | None": lambda v: None if v is None else _moment(v),
}


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    decode: Callable[[object], object]
    required: bool


def _fields(cls: type[Message]) -> tuple[_Field, ...]:
    found = []
    for f in dataclasses.fields(cls):
        if f.name == "message_id":
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        found.append(_Field(f.name, _DECODERS[str(f.type)], required))
    return tuple(found)


_SCHEMAS: Final[Mapping[type[Message], tuple[_Field, ...]]] = {
    cls: _fields(cls) for cls in MESSAGE_KINDS.values()
}


def kind_of(message: Message) -> str:
    """The stable kind of a message."""
    try:
        return _KINDS[type(message)]
    except KeyError:
        raise ConfigurationError("not a message of mfakit.service") from None


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def _seal(code: str, *, message_id: str, keys: KeyRing) -> str:
    sealed = keys.encrypt(code.encode("ascii"), owner=message_id, purpose=_SEAL_PURPOSE)
    return base64.urlsafe_b64encode(sealed).decode("ascii")


def _unseal(value: object, *, message_id: str, keys: KeyRing) -> str:
    try:
        sealed = base64.urlsafe_b64decode(_text(value).encode("ascii"))
    except (TypeError, ValueError, binascii.Error) as exc:
        raise MalformedDataError("the sealed login code is not base64", field="code") from exc
    plain = keys.decrypt(sealed, owner=message_id, purpose=_SEAL_PURPOSE)
    return plain.decode("ascii", errors="replace")


def _dump(payload: Mapping[str, object]) -> str:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=True)


def encode_message(message: Message, *, keys: KeyRing) -> tuple[str, str]:
    """Return ``(kind, payload)`` for an enqueued message (one with its ``message_id``).

    Raises:
        ConfigurationError: not a service message, or it has no ``message_id`` yet.
    """
    kind = kind_of(message)
    if not message.message_id:
        raise ConfigurationError("a message needs its message_id before it is encoded")
    payload = {f.name: _plain(getattr(message, f.name)) for f in _SCHEMAS[type(message)]}
    if isinstance(message, LoginCode):
        payload["code"] = _seal(message.code, message_id=message.message_id, keys=keys)
    return kind, _dump(payload)


def encode_unknown_login_code(
    *, message_id: str, org_id: str, code: str, expires_at: datetime, keys: KeyRing
) -> tuple[str, str]:
    """The placeholder row for a code asked for an unknown username: sealed, addressed to no one.

    It costs what a real login-code row costs (the same seal, the same size
    give or take the recipient id) and decodes to ``None``.
    """
    payload = {
        "user_id": None,
        "org_id": org_id,
        "code": _seal(code, message_id=message_id, keys=keys),
        "expires_at": expires_at.isoformat(),
    }
    return LOGIN_CODE_KIND, _dump(payload)


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise MalformedDataError("duplicate key in the message payload", field=key)
        found[key] = value
    return found


def decode_message(kind: str, payload: str, *, message_id: str, keys: KeyRing) -> Message | None:
    """Rebuild the message of an outbox row, with ``message_id`` set; ``None`` for a placeholder.

    Raises:
        MalformedDataError: unknown kind, bad JSON, an unknown, missing or
            mistyped field (the error names the field, never its value).
        DecryptionError: the sealed login code does not open with the key ring.
    """
    cls = MESSAGE_KINDS.get(kind)
    if cls is None:
        raise MalformedDataError("unknown message kind", field="kind")
    if not isinstance(payload, str) or len(payload) > _MAX_PAYLOAD:
        raise MalformedDataError("the message payload is not a JSON text of at most 16 KiB")
    try:
        data = json.loads(payload, object_pairs_hook=_refuse_duplicates)
    except ValueError as exc:
        if isinstance(exc, MalformedDataError):
            raise
        raise MalformedDataError("the message payload is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedDataError("the message payload is not a JSON object")
    schema = _SCHEMAS[cls]
    unknown = set(data) - {f.name for f in schema}
    if unknown:
        raise MalformedDataError("unknown field in the message payload", field=min(unknown))
    if cls is LoginCode and "user_id" in data and data["user_id"] is None:
        return None
    values: dict[str, object] = {"message_id": message_id}
    for f in schema:
        if f.name not in data:
            if f.required:
                raise MalformedDataError("missing field in the message payload", field=f.name)
            continue
        try:
            values[f.name] = f.decode(data[f.name])
        except (TypeError, ValueError):
            raise MalformedDataError(
                "mistyped field in the message payload", field=f.name
            ) from None
    if cls is LoginCode:
        values["code"] = _unseal(data["code"], message_id=message_id, keys=keys)
    return cls(**values)  # type: ignore[arg-type]
