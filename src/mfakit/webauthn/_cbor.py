"""CBOR (RFC 8949) for WebAuthn structures: ``cbor2`` behind mfakit's limits.

Every CBOR structure WebAuthn hands a relying party (the attestation object,
the COSE key and the extension outputs of authenticator data) is in the CTAP2
canonical form, so mfakit accepts only this subset:

* integers, byte strings, UTF-8 text, arrays, maps, ``false``, ``true``,
  ``null`` and floats;
* definite lengths only (CTAP2 canonical form forbids indefinite ones);
* map keys that are integers or text, each at most once;
* nesting at most :data:`MAX_DEPTH` deep;
* no tags, no other simple values, nothing after the item.

Values are decoded by ``cbor2`` with ``allow_duplicate_keys=False`` (cbor2
6.1 and later), which refuses a repeated key whatever its encoding, and
invalid UTF-8. ``cbor2`` decodes every tag it knows (dates, sets, shared
references that build cyclic structures, regular expressions...) and accepts
any key type, and no option turns either off, so a bounded walk of the item
headers runs first (:func:`_item_end`): it reads only each item's major type
and length, never a value, refuses what is outside the subset, and finds
where the item ends (so trailing bytes, and the end of a COSE key inside
authenticator data, are known without decoding). Every failure of either is
a :class:`MalformedDataError`, raised in :func:`decode_prefix`.
"""

from __future__ import annotations

from typing import Any

import cbor2

from mfakit.errors import MalformedDataError

__all__ = ["MAX_DEPTH", "decode_prefix", "decode_single"]

#: Deepest nesting of arrays and maps accepted. WebAuthn structures need 4.
MAX_DEPTH = 16

_MAP_KEY_MAJORS = (0, 1, 3)  # unsigned, negative, text
# Simple values and floats (major 7) by additional information: false, true,
# null, half, single and double floats.
_MAJOR7_OK = frozenset({20, 21, 22, 25, 26, 27})


class _OutsideSubsetError(Exception):
    """The header walk met something outside the accepted subset (message log-safe)."""


def _item_end(data: bytes, pos: int) -> int:
    """The offset just after the CBOR item at ``pos``, walking headers only.

    An explicit stack (one entry per open array or map, at most
    :data:`MAX_DEPTH`) holds how many items each container still expects,
    so the walk is iterative and its cost is linear in the number of items,
    which cannot exceed the input's length.
    """
    n = len(data)
    # Each entry: [items still expected, True when the container is a map].
    stack: list[list[Any]] = []
    while True:
        if pos >= n:
            raise _OutsideSubsetError("truncated CBOR")
        initial = data[pos]
        major, info = initial >> 5, initial & 0x1F
        # In a map, an even number of items still expected means a key comes.
        if stack and stack[-1][1] and not stack[-1][0] % 2 and major not in _MAP_KEY_MAJORS:
            raise _OutsideSubsetError("CBOR map key must be an integer or text")
        pos += 1
        if info < 24:
            arg = info
        elif info < 28:
            size = 1 << (info - 24)
            if pos + size > n:
                raise _OutsideSubsetError("truncated CBOR")
            arg = int.from_bytes(data[pos : pos + size], "big")
            pos += size
        elif info == 31 and major != 7:
            raise _OutsideSubsetError("indefinite-length CBOR is not accepted")
        else:
            raise _OutsideSubsetError("unsupported CBOR encoding")
        if major in (2, 3):
            pos += arg
            if pos > n:
                raise _OutsideSubsetError("truncated CBOR string")
        elif major in (4, 5):
            if len(stack) >= MAX_DEPTH:
                raise _OutsideSubsetError("CBOR nested too deeply")
            count = arg * 2 if major == 5 else arg
            # Each item takes at least one byte: refuse counts the input
            # cannot hold before anything is allocated.
            if count > n - pos:
                raise _OutsideSubsetError("truncated CBOR container")
            if count:
                stack.append([count, major == 5])
                continue
        elif major == 6:
            raise _OutsideSubsetError("CBOR tags are not accepted")
        elif major == 7 and info not in _MAJOR7_OK:
            raise _OutsideSubsetError("unsupported CBOR simple value")
        # One item complete: close every container it completes.
        while stack:
            stack[-1][0] -= 1
            if stack[-1][0]:
                break
            stack.pop()
        if not stack:
            return pos


def decode_prefix(data: bytes, pos: int = 0, *, field: str) -> tuple[Any, int]:
    """Decode the one CBOR item that starts at ``pos``.

    Args:
        data: The buffer.
        pos: Where the item starts.
        field: Name used in errors.

    Returns:
        The item (maps as ``dict``, arrays as ``list``) and the offset just
        after it.

    Raises:
        MalformedDataError: Truncated, outside the accepted subset, a
            duplicate map key or invalid UTF-8.
    """
    try:
        end = _item_end(data, pos)
        # allow_duplicate_keys arrived in cbor2 6.1; the walk already
        # enforced depth and definite lengths.
        item = cbor2.loads(data[pos:end], allow_duplicate_keys=False)
    except _OutsideSubsetError as exc:
        raise MalformedDataError(str(exc), field=field) from exc
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        # The walk leaves cbor2 only duplicate keys and invalid UTF-8 to find.
        raise MalformedDataError("duplicate CBOR map key or bad CBOR text", field=field) from exc
    return item, end


def decode_single(data: bytes, *, field: str) -> Any:
    """Decode exactly one CBOR item that fills ``data``: trailing bytes are an error.

    Raises:
        MalformedDataError: As :func:`decode_prefix`, or bytes after the item.
    """
    item, end = decode_prefix(data, 0, field=field)
    if end != len(data):
        raise MalformedDataError("trailing bytes after CBOR item", field=field)
    return item
