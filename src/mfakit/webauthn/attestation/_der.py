"""A small strict DER reader (ITU-T X.690 §8, §10) for attestation certificate extensions.

Only what the Android key attestation record needs: tag-length-value
elements with low and high tag numbers, definite minimal lengths, and the
INTEGER, ENUMERATED, OCTET STRING, NULL, SEQUENCE and SET contents. Anything
else in the encoding (indefinite lengths, non-minimal lengths or integers,
truncation, trailing bytes, nesting deeper than :data:`MAX_DEPTH`) raises
:class:`~mfakit.errors.MalformedDataError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mfakit.errors import MalformedDataError

__all__ = [
    "CLASS_CONTEXT",
    "CLASS_UNIVERSAL",
    "Element",
    "MAX_DEPTH",
    "children",
    "parse_single",
    "read_integer",
]

CLASS_UNIVERSAL = 0
CLASS_CONTEXT = 2
#: Deepest nesting :func:`children` accepts from one :func:`parse_single` root.
MAX_DEPTH = 8

TAG_INTEGER = 2
TAG_OCTET_STRING = 4
TAG_NULL = 5
TAG_ENUMERATED = 10
TAG_SEQUENCE = 16
TAG_SET = 17


@dataclass(frozen=True, slots=True)
class Element:
    """One DER element: class, constructed bit, tag number and content octets."""

    cls: int
    constructed: bool
    number: int
    content: bytes
    depth: int = 0

    def expect(self, cls: int, number: int, *, constructed: bool, what: str) -> Element:
        """Return self if it has this class, tag number and form, else raise."""
        if self.cls != cls or self.number != number or self.constructed != constructed:
            raise _bad(f"{what} has the wrong tag")
        return self


def _bad(message: str) -> MalformedDataError:
    return MalformedDataError(f"DER: {message}", field="der")


def _read(data: bytes, pos: int, depth: int) -> tuple[Element, int]:
    end = len(data)
    if pos >= end:
        raise _bad("truncated")
    first = data[pos]
    pos += 1
    cls, constructed, number = first >> 6, bool(first & 0x20), first & 0x1F
    if number == 0x1F:  # high tag number form (§8.1.2.4), base 128, minimal
        number = 0
        count = 0
        while True:
            if pos >= end:
                raise _bad("truncated tag")
            byte = data[pos]
            pos += 1
            if count == 0 and byte == 0x80:
                raise _bad("non-minimal tag")
            number = (number << 7) | (byte & 0x7F)
            count += 1
            if count > 4:
                raise _bad("tag number too large")
            if not byte & 0x80:
                break
        if number < 0x1F:
            raise _bad("non-minimal tag")
    if pos >= end:
        raise _bad("truncated length")
    length = data[pos]
    pos += 1
    if length & 0x80:
        count = length & 0x7F
        if count == 0:
            raise _bad("indefinite length")
        if count > 4 or pos + count > end:
            raise _bad("bad length")
        raw = data[pos : pos + count]
        pos += count
        if raw[0] == 0:
            raise _bad("non-minimal length")
        length = int.from_bytes(raw, "big")
        if length < 0x80:
            raise _bad("non-minimal length")
    if pos + length > end:
        raise _bad("truncated content")
    return Element(cls, constructed, number, data[pos : pos + length], depth), pos + length


def parse_single(data: bytes) -> Element:
    """Parse exactly one element spanning all of ``data``.

    Raises:
        MalformedDataError: Bad encoding or trailing bytes.
    """
    element, pos = _read(data, 0, 0)
    if pos != len(data):
        raise _bad("trailing bytes")
    return element


def children(element: Element) -> list[Element]:
    """The elements inside a constructed ``element``, in order.

    Raises:
        MalformedDataError: ``element`` is primitive, too deep, or its content
            is not a sequence of whole elements.
    """
    if not element.constructed:
        raise _bad("primitive element where a constructed one is required")
    depth = element.depth + 1
    if depth > MAX_DEPTH:
        raise _bad("nesting too deep")
    items = []
    pos = 0
    content = element.content
    while pos < len(content):
        item, pos = _read(content, pos, depth)
        items.append(item)
    return items


def read_integer(element: Element, *, what: str, tag: int = TAG_INTEGER) -> int:
    """The value of a universal INTEGER (or ENUMERATED with ``tag=10``), minimally encoded.

    Raises:
        MalformedDataError: Wrong tag, empty or non-minimal content.
    """
    element.expect(CLASS_UNIVERSAL, tag, constructed=False, what=what)
    content = element.content
    if not content or len(content) > 16:
        raise _bad(f"{what} has a bad length")
    if len(content) > 1 and (
        (content[0] == 0 and not content[1] & 0x80) or (content[0] == 0xFF and content[1] & 0x80)
    ):
        raise _bad(f"{what} is not minimally encoded")
    return int.from_bytes(content, "big", signed=True)
