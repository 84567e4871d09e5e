"""Read gettext ``.po`` sources and write ``.mo`` files, with the standard library only.

The standard library reads ``.mo`` files (:class:`gettext.GNUTranslations`)
but has no compiler. This one is small because mfakit's catalogs use a small
part of the PO format: ``msgid``, ``msgid_plural``, ``msgstr`` and
``msgstr[n]`` with continuation lines, comments and the ``fuzzy`` flag.
``msgctxt`` and obsolete (``#~``) entries are refused rather than half-read.

The ``.mo`` layout follows the GNU gettext manual, section "The Format of GNU
MO Files" (https://www.gnu.org/software/gettext/manual/html_node/MO-Files.html):
a 28-byte header (magic ``0x950412de``, revision 0, the number of strings N,
the offsets of the original and translation tables, the size and offset of
an optional hash table), then two tables of N (length, offset) pairs, then
the NUL-terminated strings. Originals are sorted by their bytes, so a reader
may bisect; a plural entry's original is ``msgid NUL msgid_plural`` and its
translation the forms joined by NUL. mfakit writes little-endian files with
no hash table, and the same bytes for the same entries every time.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

from mfakit.errors import MalformedDataError

__all__ = ["PoEntry", "compile_directory", "compile_mo", "parse_po"]

_MAGIC = 0x950412DE
_HEADER = struct.Struct("<7I")
_PAIR = struct.Struct("<2I")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"\s*$')
_KEYWORD = re.compile(r"(msgid_plural|msgid|msgstr(?:\[(\d+)\])?|msgctxt)\s+(.*)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class PoEntry:
    """One message of a ``.po`` file.

    Attributes:
        msgid: The message id (``""`` for the header entry).
        msgid_plural: The plural id of a plural message, else ``None``.
        msgstr: The translations: one for a plain message, one per plural form otherwise.
        fuzzy: Whether the entry is flagged ``fuzzy`` (not compiled).
        line: The line of its ``msgid`` in the source, for error messages.
    """

    msgid: str
    msgid_plural: str | None
    msgstr: tuple[str, ...]
    fuzzy: bool
    line: int


def _unquote(text: str, line: int) -> str:
    match = _STRING.match(text)
    if match is None:
        raise MalformedDataError(f"line {line}: expected a quoted string", field="po")
    out: list[str] = []
    chars = iter(match.group(1))
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        escaped = next(chars, "")
        if escaped not in _ESCAPES:
            raise MalformedDataError(f"line {line}: unknown escape \\{escaped}", field="po")
        out.append(_ESCAPES[escaped])
    return "".join(out)


class _EntryBuilder:
    """Collects the keywords of one entry as the parser meets them."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}
        self.order: list[str] = []
        self.fuzzy = False
        self.line = 0

    def start(self, key: str, line: int) -> None:
        if key in self.fields:
            raise MalformedDataError(f"line {line}: {key} given twice", field="po")
        if key == "msgid":
            self.line = line
        self.fields[key] = []
        self.order.append(key)

    def append(self, text: str) -> None:
        self.fields[self.order[-1]].append(text)

    def build(self) -> PoEntry:
        def joined(key: str) -> str | None:
            parts = self.fields.get(key)
            return None if parts is None else "".join(parts)

        msgid = joined("msgid")
        if msgid is None:
            raise MalformedDataError(f"line {self.line}: an entry has no msgid", field="po")
        plural = joined("msgid_plural")
        if plural is None:
            single = joined("msgstr")
            if single is None or any(k.startswith("msgstr[") for k in self.fields):
                raise MalformedDataError(f"line {self.line}: expected one msgstr", field="po")
            forms: tuple[str, ...] = (single,)
        else:
            indexed = sorted(
                (int(key[7:-1]), "".join(parts))
                for key, parts in self.fields.items()
                if key.startswith("msgstr[")
            )
            if not indexed or [i for i, _ in indexed] != list(range(len(indexed))):
                raise MalformedDataError(
                    f"line {self.line}: expected msgstr[0], msgstr[1], ...", field="po"
                )
            if "msgstr" in self.fields:
                raise MalformedDataError(f"line {self.line}: plain msgstr in a plural", field="po")
            forms = tuple(text for _, text in indexed)
        return PoEntry(
            msgid=msgid, msgid_plural=plural, msgstr=forms, fuzzy=self.fuzzy, line=self.line
        )


def parse_po(text: str) -> list[PoEntry]:
    """The entries of a ``.po`` file, in file order.

    Args:
        text: The file's text.

    Returns:
        Every entry, the header (``msgid ""``) included, fuzzy ones flagged.

    Raises:
        MalformedDataError: The text is not in the subset of the PO format mfakit
            reads; the message names the line.
    """
    entries: list[PoEntry] = []
    current: _EntryBuilder | None = None
    pending_fuzzy = False

    def finish() -> None:
        nonlocal current
        if current is not None:
            entries.append(current.build())
        current = None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#~"):
            raise MalformedDataError(f"line {number}: obsolete entries are not read", field="po")
        if line.startswith("#"):
            if current is not None and current.order and current.order[-1].startswith("msgstr"):
                finish()
            if line.startswith("#,") and "fuzzy" in (f.strip() for f in line[2:].split(",")):
                pending_fuzzy = True
            continue
        if line.startswith('"'):
            if current is None or not current.order:
                raise MalformedDataError(f"line {number}: a string outside an entry", field="po")
            current.append(_unquote(line, number))
            continue
        match = _KEYWORD.match(line)
        if match is None:
            raise MalformedDataError(f"line {number}: unexpected text", field="po")
        key = match.group(1)
        if key == "msgctxt":
            raise MalformedDataError(f"line {number}: msgctxt is not supported", field="po")
        if key == "msgid":
            finish()
            current = _EntryBuilder()
            current.fuzzy = pending_fuzzy
            pending_fuzzy = False
        elif current is None:
            raise MalformedDataError(f"line {number}: {key} before msgid", field="po")
        current.start(key, number)
        current.append(_unquote(match.group(3), number))
    finish()
    seen: set[str] = set()
    for entry in entries:
        if entry.msgid in seen:
            raise MalformedDataError(f"line {entry.line}: duplicate msgid", field="po")
        seen.add(entry.msgid)
    return entries


def compile_mo(entries: list[PoEntry]) -> bytes:
    """The ``.mo`` bytes of the translated, non-fuzzy entries.

    Like GNU ``msgfmt``, an entry that is fuzzy or has an empty translation
    is left out (the header entry, whose id is empty, is kept).

    Args:
        entries: What :func:`parse_po` returned.

    Returns:
        The file's bytes: the same entries always give the same bytes.
    """
    pairs: list[tuple[bytes, bytes]] = []
    for entry in entries:
        if entry.fuzzy or not all(entry.msgstr):
            continue
        original = entry.msgid
        if entry.msgid_plural is not None:
            original += "\0" + entry.msgid_plural
        pairs.append((original.encode("utf-8"), "\0".join(entry.msgstr).encode("utf-8")))
    pairs.sort()
    count = len(pairs)
    originals_at = _HEADER.size
    translations_at = originals_at + count * _PAIR.size
    data_at = translations_at + count * _PAIR.size
    tables = [bytearray(), bytearray()]
    blob = bytearray()
    for column in (0, 1):
        for pair in pairs:
            text = pair[column]
            tables[column] += _PAIR.pack(len(text), data_at + len(blob))
            blob += text + b"\0"
    header = _HEADER.pack(_MAGIC, 0, count, originals_at, translations_at, 0, data_at)
    return header + bytes(tables[0]) + bytes(tables[1]) + bytes(blob)


def compile_directory(root: Path, *, domain: str = "mfakit") -> list[Path]:
    """Compile every ``<root>/<lang>/LC_MESSAGES/<domain>.po`` next to itself as ``.mo``.

    Args:
        root: A directory laid out like gettext's ``localedir``.
        domain: The catalog's name.

    Returns:
        The ``.mo`` files written, sorted.
    """
    written: list[Path] = []
    for source in sorted(root.glob(f"*/LC_MESSAGES/{domain}.po")):
        target = source.with_suffix(".mo")
        target.write_bytes(compile_mo(parse_po(source.read_text(encoding="utf-8"))))
        written.append(target)
    return written
