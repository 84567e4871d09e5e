"""The HMAC keys of emailed login codes: several by id, one current.

A login code is stored as an HMAC of the code, with the id of the key that
made it (:attr:`~mfakit.repositories.LoginCode.key_id`). New codes use the
current key; a code is verified with the key its record names, so a new key
can become current while the codes made under the previous one still verify
until they expire. A code whose key id is no longer configured fails closed,
as a wrong code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mfakit.errors import ConfigurationError
from mfakit.login_codes import MIN_KEY_LENGTH
from mfakit.repositories import DEFAULT_LOGIN_CODE_KEY_ID

__all__ = ["LoginCodeKeys"]

# The same key ids as the secret-box key ring: 1 to 32 characters.
_KEY_ID_RE = re.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


class LoginCodeKeys:
    """The configured login-code keys, by id, and the id new codes use.

    Built from the service's arguments: either one ``key`` (its id is
    :data:`~mfakit.repositories.DEFAULT_LOGIN_CODE_KEY_ID`, ``"default"``), or
    a mapping ``keys`` of id to key with ``current`` naming the one new codes
    use. ``repr`` shows the ids only.

    Raises:
        ConfigurationError: both or neither forms given, ``current`` missing or
            unknown, an invalid id, a key shorter than 16 bytes, or one key
            under two ids. The message never contains a key.
    """

    __slots__ = ("_keys", "current_id")

    def __init__(
        self,
        *,
        key: bytes | None,
        keys: Mapping[str, bytes] | None,
        current: str | None,
    ) -> None:
        if key is not None and keys is not None:
            raise ConfigurationError("pass login_code_key or login_code_keys, not both")
        if key is not None:
            if current is not None:
                raise ConfigurationError("login_code_key_id goes with login_code_keys")
            if not isinstance(key, bytes) or len(key) < MIN_KEY_LENGTH:
                raise ConfigurationError(f"login_code_key must be at least {MIN_KEY_LENGTH} bytes")
            keys, current = {DEFAULT_LOGIN_CODE_KEY_ID: key}, DEFAULT_LOGIN_CODE_KEY_ID
        if keys is None:
            raise ConfigurationError("login_code_key or login_code_keys is required")
        if not isinstance(keys, Mapping) or not keys:
            raise ConfigurationError("login_code_keys must be a non-empty mapping of id to key")
        checked: dict[str, bytes] = {}
        for key_id, value in keys.items():
            if not isinstance(key_id, str) or _KEY_ID_RE.fullmatch(key_id) is None:
                raise ConfigurationError(
                    "a login-code key id must be 1 to 32 characters from A-Z a-z 0-9 . _ -,"
                    " starting with a letter or digit"
                )
            if not isinstance(value, bytes) or len(value) < MIN_KEY_LENGTH:
                raise ConfigurationError(
                    f"login-code key {key_id!r} must be at least {MIN_KEY_LENGTH} bytes"
                )
            if value in checked.values():
                raise ConfigurationError(f"login-code key {key_id!r} repeats another id's key")
            checked[key_id] = value
        if current is None:
            raise ConfigurationError("login_code_key_id must name the key new codes use")
        if not isinstance(current, str) or current not in checked:
            raise ConfigurationError("login_code_key_id is not one of login_code_keys")
        self._keys = checked
        self.current_id = current

    @property
    def current(self) -> bytes:
        """The key new codes are made with."""
        return self._keys[self.current_id]

    def get(self, key_id: str) -> bytes | None:
        """The key with this id, or ``None`` when it is not configured (any more)."""
        return self._keys.get(key_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """The configured key ids, the current one first."""
        return (self.current_id, *(k for k in self._keys if k != self.current_id))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(current={self.current_id!r}, key_ids={self.ids!r})"
