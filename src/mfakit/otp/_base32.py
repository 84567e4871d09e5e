"""Base32 (RFC 4648 section 6) as authenticator apps use it, and secret generation."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Final

from mfakit.errors import ConfigurationError, MalformedDataError
from mfakit.otp._engine import MIN_SECRET_BYTES

__all__ = ["decode_base32", "encode_base32", "generate_secret"]

_ALPHABET: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
# Unpadded lengths modulo 8 that a whole number of bytes can produce (RFC 4648 section 6).
_VALID_REMAINDERS: Final = frozenset({0, 2, 4, 5, 7})


def encode_base32(data: bytes, *, padding: bool = False) -> str:
    """Encode bytes as upper-case base32, without ``=`` padding by default.

    Authenticator apps and the Key URI format expect the unpadded form.

    Args:
        data: The bytes to encode, typically a TOTP secret.
        padding: Keep the ``=`` padding of RFC 4648.

    Raises:
        ConfigurationError: ``data`` is not bytes.

    Example::

        >>> encode_base32(b"12345678901234567890")
        'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ConfigurationError("base32 encodes bytes")
    text = base64.b32encode(bytes(data)).decode("ascii")
    return text if padding else text.rstrip("=")


def decode_base32(text: str) -> bytes:
    """Decode base32 as people type it: any case, spaces allowed, padding optional.

    Whitespace anywhere is ignored (apps show keys in groups of four). If ``=``
    padding is present it must be complete and only at the end.

    Args:
        text: The base32 text, e.g. a key typed by the user or a URI's ``secret``.

    Returns:
        The decoded bytes.

    Raises:
        MalformedDataError: not a string, a character outside the base32
            alphabet, misplaced padding, or an impossible length.

    Example::

        >>> decode_base32("gezd gnbv gy3t qojq")
        b'1234567890'
    """
    if not isinstance(text, str):
        raise MalformedDataError("base32 input must be text", field="base32")
    compact = "".join(text.split())
    # Check ASCII before upper(): "ß".upper() is "SS" and would sneak in.
    if not compact.isascii():
        raise MalformedDataError("base32 input has characters outside the alphabet", field="base32")
    compact = compact.upper()
    body = compact.rstrip("=")
    pad = len(compact) - len(body)
    if not _ALPHABET.issuperset(body):
        raise MalformedDataError("base32 input has characters outside the alphabet", field="base32")
    if len(body) % 8 not in _VALID_REMAINDERS:
        raise MalformedDataError("base32 input has an impossible length", field="base32")
    if pad and pad != -len(body) % 8:
        raise MalformedDataError("base32 padding does not match the length", field="base32")
    try:
        return base64.b32decode(body + "=" * (-len(body) % 8))
    except binascii.Error as exc:  # pragma: no cover - excluded by the checks above
        raise MalformedDataError("base32 input is not valid", field="base32") from exc


def generate_secret(nbytes: int = 20) -> bytes:
    """Return a new random TOTP/HOTP secret from :mod:`secrets`.

    Args:
        nbytes: Length in bytes. 20 (160 bits) is what RFC 4226 section 4
            recommends and what every authenticator app supports.

    Raises:
        ConfigurationError: ``nbytes`` is not an int, is below 16 (RFC 4226
            requires at least 128 bits) or above 1024.

    Example::

        >>> len(generate_secret())
        20
    """
    if isinstance(nbytes, bool) or not isinstance(nbytes, int):
        raise ConfigurationError("nbytes must be an int")
    if nbytes < MIN_SECRET_BYTES:
        raise ConfigurationError(f"a secret must have at least {MIN_SECRET_BYTES} bytes")
    if nbytes > 1024:
        raise ConfigurationError("a secret longer than 1024 bytes is not useful")
    return secrets.token_bytes(nbytes)
