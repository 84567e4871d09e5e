"""A small, strict CBOR (RFC 8949) decoder for WebAuthn structures.

Why not ``cbor2.loads``: it accepts duplicate map keys (the last one wins),
tags and indefinite lengths, and ``loads`` gives no way to learn where an item
ended, which authenticator data needs (a COSE key followed by an extensions
map). WebAuthn needs less than
CBOR offers, so this decoder accepts only:

* unsigned and negative integers, byte strings, UTF-8 text strings,
  arrays, maps, ``false``, ``true``, ``null`` and floats;
* definite lengths only;
* map keys that are integers or text, each at most once;
* nesting at most :data:`MAX_DEPTH` deep.

Anything else, and any truncation, raises :class:`MalformedDataError`.
"""

from __future__ import annotations

import struct
from typing import Any

from mfakit.errors import MalformedDataError

__all__ = ["MAX_DEPTH", "decode_prefix", "decode_single"]

#: Deepest nesting of arrays and maps accepted. WebAuthn structures need 4.
MAX_DEPTH = 16

_SIMPLE = {20: False, 21: True, 22: None}


def _fail(field: str, message: str) -> MalformedDataError:
    return MalformedDataError(message, field=field)


def _decode(data: bytes, pos: int, depth: int, field: str) -> tuple[Any, int]:
    # Not a recursion on the input size: depth is capped by MAX_DEPTH.
    # Hot path first: WebAuthn items are mostly small ints, byte and text strings.
    n = len(data)
    if pos >= n:
        raise _fail(field, "truncated CBOR")
    initial = data[pos]
    major = initial >> 5
    info = initial & 0x1F
    pos += 1
    if info < 24:
        arg = info
    elif info < 28:
        size = 1 << (info - 24)  # 1, 2, 4 or 8 bytes
        end = pos + size
        if end > n:
            raise _fail(field, "truncated CBOR")
        arg = int.from_bytes(data[pos:end], "big")
        pos = end
    else:
        raise _fail(field, "unsupported CBOR length encoding")

    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major == 2 or major == 3:  # noqa: PLR1714 - two int compares beat a tuple lookup here
        end = pos + arg
        if end > n:
            raise _fail(field, "truncated CBOR string")
        if major == 2:
            return data[pos:end], end
        try:
            return data[pos:end].decode("utf-8"), end
        except UnicodeDecodeError as exc:
            raise _fail(field, "invalid UTF-8 in CBOR text") from exc
    if major == 5:
        if depth >= MAX_DEPTH:
            raise _fail(field, "CBOR nested too deeply")
        # Each item takes at least one byte: refuse counts the input cannot
        # hold before allocating anything.
        if 2 * arg > n - pos:
            raise _fail(field, "truncated CBOR map")
        result: dict[Any, Any] = {}
        key: int | str
        depth += 1
        for _ in range(arg):
            # Inline the common small items: one-byte integers (0..23 and
            # -1..-24: COSE labels and most values), short ASCII text keys and
            # byte strings with a one-byte length. Each gives what _decode
            # would, without a call; everything else, anything truncated, and
            # the end of the input (0xFF sends it there) goes through _decode.
            head = data[pos] if pos < n else 0xFF
            if head < 0x18:
                key = head
                pos += 1
            elif 0x20 <= head < 0x38:
                key = 0x1F - head
                pos += 1
            elif (
                0x60 <= head < 0x78
                and pos + head - 0x5F <= n
                and data[pos + 1 : pos + head - 0x5F].isascii()
            ):
                # A short ASCII text key ("fmt", "attStmt", "authData"): ASCII
                # is valid UTF-8, so decoding cannot fail.
                key = data[pos + 1 : pos + head - 0x5F].decode("ascii")
                pos += head - 0x5F
            else:
                key, pos = _decode(data, pos, depth, field)
                if type(key) is not int and type(key) is not str:
                    raise _fail(field, "CBOR map key must be an integer or text")
            if key in result:
                raise _fail(field, "duplicate CBOR map key")
            head = data[pos] if pos < n else 0xFF
            if head < 0x18:
                result[key] = head
                pos += 1
            elif 0x20 <= head < 0x38:
                result[key] = 0x1F - head
                pos += 1
            elif head == 0x58 and pos + 1 < n and pos + 2 + data[pos + 1] <= n:
                # A byte string with a one-byte length (EC coordinates, keys).
                end = pos + 2 + data[pos + 1]
                result[key] = data[pos + 2 : end]
                pos = end
            else:
                result[key], pos = _decode(data, pos, depth, field)
        return result, pos
    if major == 4:
        if depth >= MAX_DEPTH:
            raise _fail(field, "CBOR nested too deeply")
        if arg > n - pos:
            raise _fail(field, "truncated CBOR array")
        items = []
        depth += 1
        for _ in range(arg):
            item, pos = _decode(data, pos, depth, field)
            items.append(item)
        return items, pos
    if major == 7:
        if info < 24 and arg in _SIMPLE:
            return _SIMPLE[arg], pos
        if info == 25:
            return struct.unpack(">e", arg.to_bytes(2, "big"))[0], pos
        if info == 26:
            return struct.unpack(">f", arg.to_bytes(4, "big"))[0], pos
        if info == 27:
            return struct.unpack(">d", arg.to_bytes(8, "big"))[0], pos
        raise _fail(field, "unsupported CBOR simple value")
    # major 6: tags have no place in WebAuthn structures.
    raise _fail(field, "CBOR tags are not accepted")


def decode_prefix(data: bytes, pos: int = 0, *, field: str, depth: int = 0) -> tuple[Any, int]:
    """Decode one CBOR item starting at ``pos``.

    Args:
        data: The buffer.
        pos: Where the item starts.
        field: Name used in errors.
        depth: How deep the item sits in an enclosing structure (counts
            towards :data:`MAX_DEPTH`).

    Returns:
        The item and the offset just after it.

    Raises:
        MalformedDataError: Truncated or outside the accepted subset.
    """
    return _decode(data, pos, depth, field)


def decode_single(data: bytes, *, field: str) -> Any:
    """Decode exactly one CBOR item that fills ``data``: trailing bytes are an error.

    Raises:
        MalformedDataError: Truncated, trailing bytes, or outside the accepted subset.
    """
    item, end = _decode(data, 0, 0, field)
    if end != len(data):
        raise _fail(field, "trailing bytes after CBOR item")
    return item
