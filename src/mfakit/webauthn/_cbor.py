"""CBOR (RFC 8949) for WebAuthn structures: ``cbor2`` with mfakit's limits.

Every CBOR structure WebAuthn hands a relying party (the attestation object,
the COSE key and the extension outputs of authenticator data) is in the CTAP2
canonical form, so mfakit accepts only this subset:

* integers, byte strings, UTF-8 text, arrays, maps, ``false``, ``true``,
  ``null`` and floats;
* definite lengths only (CTAP2 canonical form forbids indefinite ones);
* map keys that are integers or text, each at most once;
* nesting at most :data:`MAX_DEPTH` deep;
* no tags, no other simple values, nothing after the item (where the caller
  asks for exactly one item).

``cbor2`` (6.1 or later) enforces the first limits itself while it decodes:
``max_depth``, ``allow_indefinite=False`` and ``allow_duplicate_keys=False``
(a repeated key is refused whatever its encoding). Tags are refused before
any of them is interpreted: every tag number maps to a refusal in
``semantic_decoders`` and ``tag_hook``, so no date, set, regular expression
or shared reference is ever built. ``cbor2`` reads declared lengths in
chunks, so a length the input cannot hold allocates nothing. What ``cbor2``
cannot be told (which key and value types are allowed) is checked on its
result. Every failure is a :class:`MalformedDataError`, raised at the one
boundary in :func:`decode_prefix`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn

import cbor2

from mfakit.errors import MalformedDataError

__all__ = ["MAX_DEPTH", "decode_prefix", "decode_single"]

#: Deepest nesting of arrays and maps accepted. WebAuthn structures need 4.
MAX_DEPTH = 16

# Types a decoded item may hold besides arrays (list) and maps (dict):
# cbor2's results for integers, floats, byte strings, text, false/true, null.
_SCALARS = frozenset({int, float, bytes, str, bool, type(None)})


class _TagRefusedError(cbor2.CBORDecodeError):
    """A tag was met: raised from inside cbor2, named for the error message."""


def _refuse_tag(_decoder: object, _tag: object = None) -> NoReturn:
    raise _TagRefusedError("CBOR tags are not accepted")


class _EveryTag(Mapping[int, Callable[..., Any]]):
    """``semantic_decoders`` that answers every tag number with a refusal.

    cbor2 looks a tag up here before its own decoders (dates, big numbers,
    sets, shared references...), so none of them ever runs on untrusted input.
    """

    def __getitem__(self, tag: int) -> Callable[..., Any]:
        return _refuse_tag

    def __iter__(self) -> Iterator[int]:
        return iter(())

    def __len__(self) -> int:
        return 0


_NO_TAGS = _EveryTag()

# cbor2's refusals, told apart by its own wording, and mfakit's log-safe
# message for each. Anything else is "malformed CBOR".
_MESSAGES = (
    ("nesting depth", "CBOR nested too deeply"),
    ("indefinite", "indefinite-length CBOR is not accepted"),
    ("duplicate", "duplicate CBOR map key"),
    ("premature end", "truncated CBOR"),
    ("utf-8", "invalid UTF-8 in CBOR text"),
)


def _message(exc: BaseException) -> str:
    text = str(exc).lower()
    for fragment, message in _MESSAGES:
        if fragment in text:
            return message
    return "malformed CBOR"


class _OutsideSubsetError(Exception):
    """The decoded item holds a type outside the accepted subset (message log-safe)."""


def _check_subset(item: Any) -> None:
    """Refuse keys other than integers and text, and values other than the subset's.

    ``cbor2`` already bounded the depth, so the recursion is bounded too.
    """
    kind = type(item)
    if kind is dict:
        for key, value in item.items():
            if type(key) is not int and type(key) is not str:
                raise _OutsideSubsetError("CBOR map key must be an integer or text")
            if type(value) not in _SCALARS:
                _check_subset(value)
    elif kind is list:
        for value in item:
            if type(value) not in _SCALARS:
                _check_subset(value)
    elif kind not in _SCALARS:
        # undefined, other simple values, or anything a tag would have built.
        raise _OutsideSubsetError("unsupported CBOR simple value")


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
    stream = io.BytesIO(data)
    stream.seek(pos)
    try:
        item = cbor2.CBORDecoder(
            stream,
            semantic_decoders=_NO_TAGS,
            tag_hook=_refuse_tag,
            max_depth=MAX_DEPTH,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        ).decode()
        _check_subset(item)
    except _TagRefusedError as exc:
        raise MalformedDataError("CBOR tags are not accepted", field=field) from exc
    except _OutsideSubsetError as exc:
        raise MalformedDataError(str(exc), field=field) from exc
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise MalformedDataError(_message(exc), field=field) from exc
    return item, stream.tell()


def decode_single(data: bytes, *, field: str) -> Any:
    """Decode exactly one CBOR item that fills ``data``: trailing bytes are an error.

    Raises:
        MalformedDataError: As :func:`decode_prefix`, or bytes after the item.
    """
    item, end = decode_prefix(data, 0, field=field)
    if end != len(data):
        raise MalformedDataError("trailing bytes after CBOR item", field=field)
    return item
