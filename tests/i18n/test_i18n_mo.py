"""mfakit's .po reader and .mo writer: in sync, read back by gettext, the same as msgfmt."""

from __future__ import annotations

import gettext
import io
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from mfakit import i18n
from mfakit.errors import MalformedDataError
from mfakit.i18n.__main__ import main
from mfakit.i18n._mo import PoEntry, compile_directory, compile_mo, parse_po

LOCALE_DIR = Path(i18n.__file__).resolve().parent / "locale"
SOURCES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/mfakit.po"))

SAMPLE = r"""# a comment
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\n"

#. {name}
msgid "greeting"
msgstr "Bonjour "
"{name}\t\"ici\"\\"

msgid "apples"
msgid_plural "apples"
msgstr[0] "{count} pomme"
msgstr[1] "{count} pommes"

#, fuzzy
msgid "draft"
msgstr "brouillon"

msgid "untranslated"
msgstr ""
"""


def test_sources_found() -> None:
    """The checks below look at the real catalogs (they cannot pass vacuously)."""
    assert [p.parent.parent.name for p in SOURCES] == ["en", "fr"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.parent.name)
def test_committed_mo_matches_its_source(source: Path) -> None:
    """Recompiling each .po gives the committed .mo byte for byte."""
    compiled = compile_mo(parse_po(source.read_text(encoding="utf-8")))
    assert compiled == source.with_suffix(".mo").read_bytes()


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.parent.name)
def test_gnu_translations_reads_every_entry_back(source: Path) -> None:
    """gettext.GNUTranslations returns each .po text from the .mo, plurals included."""
    entries = [e for e in parse_po(source.read_text(encoding="utf-8")) if e.msgid]
    reader = gettext.GNUTranslations(io.BytesIO(source.with_suffix(".mo").read_bytes()))
    plural_rule = {"en": lambda n: int(n != 1), "fr": lambda n: int(n > 1)}
    rule = plural_rule[source.parent.parent.name]
    for entry in entries:
        if entry.msgid_plural is None:
            assert reader.gettext(entry.msgid) == entry.msgstr[0]
        else:
            for n in (0, 1, 2, 5):
                got = reader.ngettext(entry.msgid, entry.msgid_plural, n)
                assert got == entry.msgstr[rule(n)]
    assert reader.info()["content-type"] == "text/plain; charset=UTF-8"


def test_sample_round_trip() -> None:
    """Escapes, continuation lines and plurals survive; fuzzy and empty entries are left out."""
    reader = gettext.GNUTranslations(io.BytesIO(compile_mo(parse_po(SAMPLE))))
    assert reader.gettext("greeting") == 'Bonjour {name}\t"ici"\\'
    assert reader.ngettext("apples", "apples", 1) == "{count} pomme"
    assert reader.ngettext("apples", "apples", 2) == "{count} pommes"
    assert reader.gettext("draft") == "draft"
    assert reader.gettext("untranslated") == "untranslated"


def test_parse_flags_fuzzy_and_keeps_order() -> None:
    """parse_po returns the entries in file order with their flags."""
    entries = parse_po(SAMPLE)
    assert [e.msgid for e in entries] == ["", "greeting", "apples", "draft", "untranslated"]
    assert [e.fuzzy for e in entries] == [False, False, False, True, False]
    assert entries[2].msgid_plural == "apples"
    assert entries[2].msgstr == ("{count} pomme", "{count} pommes")


def test_mo_layout() -> None:
    """The header, sorted originals and string table follow the GNU MO layout."""
    entries = [
        PoEntry(msgid="b", msgid_plural=None, msgstr=("B",), fuzzy=False, line=1),
        PoEntry(msgid="a", msgid_plural=None, msgstr=("AA",), fuzzy=False, line=2),
    ]
    data = compile_mo(entries)
    magic, revision, count, originals, translations, hash_size, hash_at = struct.unpack_from(
        "<7I", data
    )
    assert (magic, revision, count, hash_size) == (0x950412DE, 0, 2, 0)
    assert (originals, translations, hash_at) == (28, 44, 60)
    first = struct.unpack_from("<2I", data, originals)
    assert data[first[1] : first[1] + first[0] + 1] == b"a\0"
    second_translation = struct.unpack_from("<2I", data, translations + 8)
    assert data[second_translation[1] : second_translation[1] + 2] == b"B\0"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.parent.name)
def test_same_bytes_as_gnu_msgfmt(source: Path, tmp_path: Path) -> None:
    """An independent oracle: GNU msgfmt --no-hash writes the very same bytes."""
    if shutil.which("msgfmt") is None:
        pytest.fail("GNU gettext's msgfmt is not installed: run `bash scripts/system-deps`")
    target = tmp_path / "out.mo"
    subprocess.run(["msgfmt", "--no-hash", "-o", str(target), str(source)], check=True)
    assert target.read_bytes() == source.with_suffix(".mo").read_bytes()


@pytest.mark.parametrize(
    "text",
    [
        'msgid "a"\nmsgstr "x" junk\n',
        'msgid "a"\n',
        'msgstr "x"\n',
        '"orphan"\n',
        'msgctxt "c"\nmsgid "a"\nmsgstr "x"\n',
        'msgid "a"\nmsgstr "\\q"\n',
        'msgid "a"\nmsgid_plural "a"\nmsgstr[1] "x"\n',
        'msgid "a"\nmsgid_plural "a"\nmsgstr "x"\n',
        'msgid "a"\nmsgstr "x"\nmsgstr "y"\n',
        'msgid "a"\nmsgstr "x"\n\nmsgid "a"\nmsgstr "y"\n',
        '#~ msgid "old"\n',
        "something else\n",
    ],
)
def test_malformed_po_is_refused(text: str) -> None:
    """Text outside the supported PO subset raises MalformedDataError naming a line."""
    with pytest.raises(MalformedDataError, match="line"):
        parse_po(text)


def test_compile_command_writes_and_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m mfakit.i18n compile` writes .mo files; --check passes, or fails when stale."""
    target = tmp_path / "de" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / "mfakit.po").write_text(SAMPLE, encoding="utf-8")
    assert main(["compile", str(tmp_path), "--check"]) == 1
    assert main(["compile", str(tmp_path)]) == 0
    assert (target / "mfakit.mo").read_bytes() == compile_mo(parse_po(SAMPLE))
    assert main(["compile", str(tmp_path), "--check"]) == 0
    (target / "mfakit.mo").write_bytes(b"stale")
    assert main(["compile", str(tmp_path), "--check"]) == 1
    (target / "mfakit.po").write_text('msgid "a"\n', encoding="utf-8")
    assert main(["compile", str(tmp_path)]) == 2
    assert "stale" in capsys.readouterr().out


def test_shipped_catalogs_are_fresh() -> None:
    """The command's --check passes on the committed catalogs."""
    assert main(["compile", str(LOCALE_DIR), "--check"]) == 0


def test_compile_directory_lists_what_it_wrote(tmp_path: Path) -> None:
    """compile_directory writes one .mo per .po and returns their paths."""
    for lang in ("fr", "de"):
        folder = tmp_path / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "mfakit.po").write_text(SAMPLE, encoding="utf-8")
    written = compile_directory(tmp_path)
    assert [p.parent.parent.name for p in written] == ["de", "fr"]
