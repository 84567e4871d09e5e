"""Strict base64url (RFC 4648 §5, no padding), as WebAuthn Level 3 JSON uses it."""

from __future__ import annotations

import base64
import binascii

from mfakit.errors import MalformedDataError

__all__ = ["b64url_decode", "b64url_decode_all", "b64url_encode"]

# Map the URL-safe alphabet onto the standard one, and the standard-only
# characters onto one that ``a2b_base64(strict_mode=True)`` refuses, so "+" and
# "/" cannot sneak in as if they were base64url; "=" goes the same way because
# Level 3 JSON is unpadded.
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/!!!")
_PAD = (b"", b"=", b"==", b"=")
_a2b = binascii.a2b_base64  # 4k+1 stays invalid: "x=" is bad padding
# Bits of the last character that carry no data must be zero (RFC 4648 §3.5),
# otherwise one value has several encodings.
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_LAST_OK = {
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
    if type(value) is str and len(value) <= max_len:
        rem = len(value) & 3
        try:
            # strict_mode refuses every character outside the (translated)
            # alphabet and a length of 4k+1.
            data = _a2b(value.encode("ascii").translate(_TO_STANDARD) + _PAD[rem], strict_mode=True)
        except (UnicodeEncodeError, binascii.Error) as exc:
            raise MalformedDataError("invalid base64url", field=field) from exc
        if not rem or value[-1] in _LAST_OK[rem]:
            return data
        raise MalformedDataError("non-canonical base64url", field=field)
    if type(value) is not str:
        raise MalformedDataError("expected a base64url string", field=field)
    raise MalformedDataError("base64url value too long", field=field)


# Filling a text to a multiple of four characters with "A" (zero bits) lets
# several texts be decoded by one a2b_base64 call: strict mode refuses "="
# anywhere but at the very end, so padding cannot separate them. Index: length
# % 4; a length of 4k+1 is never valid, and "!" makes the decoder refuse it.
_FILL = ("", "A!!", "AA", "A")
# The characters a text may end with, by length % 4 (RFC 4648 §3.5: the
# unused bits of the last character are zero; the decoder refuses anything
# outside the alphabet, and every length of 4k+1).
_ALPHABET_SET = frozenset(_ALPHABET)
_CANONICAL_LAST = (_ALPHABET_SET, _ALPHABET_SET, _LAST_OK[2], _LAST_OK[3])


def b64url_decode_all(texts: tuple[str, ...]) -> list[bytes] | None:
    """Decode several non-empty texts as :func:`b64url_decode` would, with one call.

    The caller checks types and length limits first. Returns ``None`` where
    :func:`b64url_decode` would raise for any of them.
    """
    parts = []
    for text in texts:
        n = len(text)
        if not n or text[-1] not in _CANONICAL_LAST[n & 3]:
            return None
        parts.append(text)
        parts.append(_FILL[n & 3])
    try:
        blob = _a2b("".join(parts).encode("ascii").translate(_TO_STANDARD), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        return None
    out = []
    pos = 0
    for text in texts:
        n = len(text)
        out.append(blob[pos : pos + ((n * 3) >> 2)])
        pos += ((n + 3) >> 2) * 3
    return out


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
