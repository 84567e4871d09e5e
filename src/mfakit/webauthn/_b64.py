"""Strict base64url (RFC 4648 §5, no padding), the one decoder of ``mfakit.webauthn``.

WebAuthn Level 3 JSON carries binary members as unpadded base64url; the
metadata BLOB and SafetyNet tokens are compact JWS, which use the same
encoding. Every one of them is decoded by :func:`b64url_decode`.
"""

from __future__ import annotations

import base64
import binascii

from mfakit.errors import MalformedDataError

__all__ = ["b64url_decode", "b64url_encode"]

# Map the URL-safe alphabet onto the standard one, and the standard-only
# characters onto one that ``a2b_base64(strict_mode=True)`` refuses, so "+" and
# "/" cannot sneak in as if they were base64url; "=" goes the same way because
# the text is unpadded.
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/!!!")
# The padding a2b_base64 needs, by length % 4; a length of 4k+1 stays invalid.
_PAD = (b"", b"=", b"==", b"=")
# Bits of the last character that carry no data must be zero (RFC 4648 §3.5),
# otherwise one value has several encodings.
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_CANONICAL_LAST = {
    2: frozenset(c for i, c in enumerate(_ALPHABET) if i & 0x0F == 0),
    3: frozenset(c for i, c in enumerate(_ALPHABET) if i & 0x03 == 0),
}


def b64url_decode(value: object, *, field: str, max_len: int) -> bytes:
    """Decode unpadded base64url text strictly.

    Args:
        value: The JSON value; must be a ``str``.
        field: Name used in the error.
        max_len: Largest accepted length of the text, in characters.

    Returns:
        The decoded bytes.

    Raises:
        MalformedDataError: Not a string, too long, padded, characters outside
            the base64url alphabet, or non-zero unused bits.
    """
    if type(value) is not str:
        raise MalformedDataError("expected a base64url string", field=field)
    if len(value) > max_len:
        raise MalformedDataError("base64url value too long", field=field)
    rem = len(value) & 3
    try:
        # strict_mode refuses every character outside the (translated)
        # alphabet and a length of 4k+1.
        data = binascii.a2b_base64(
            value.encode("ascii").translate(_TO_STANDARD) + _PAD[rem], strict_mode=True
        )
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise MalformedDataError("invalid base64url", field=field) from exc
    if rem and value[-1] not in _CANONICAL_LAST[rem]:
        raise MalformedDataError("non-canonical base64url", field=field)
    return data


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
