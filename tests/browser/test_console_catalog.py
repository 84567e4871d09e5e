"""The console's catalog (domain ``console``): complete in English and French, in sync with
the code, compiled, and with the same placeholders and markup in both languages."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from console import i18n
from tests.french_typography import typography_faults

from mfakit import i18n as mfakit_i18n
from mfakit.i18n.__main__ import main as i18n_command
from mfakit.i18n._mo import PoEntry, compile_mo, parse_po

CONSOLE = Path(i18n.__file__).resolve().parent
LANGUAGES = ("en", "fr")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
TAG = re.compile(r"<[^>]*>")
#: A console message id written in the console's code: console.<where>.<what>...
CONSOLE_ID = re.compile(r"[\"'](console(?:\.[a-z0-9_]+){2,})[\"']")
#: Any message id a t() or tn() call names by its literal, and the literal ids of tn() calls.
T_CALL = re.compile(r"\bt\(\s*[\"']([a-z0-9_.]+)[\"']")
TN_CALL = re.compile(r"\btn\(\s*[\"']([a-z0-9_.]+)[\"']")
#: The console's code: Python, templates, script.
SOURCES = sorted(p for p in CONSOLE.rglob("*") if p.suffix in (".py", ".html", ".js"))


def _entries(lang: str) -> dict[str, PoEntry]:
    source = i18n.LOCALEDIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    return {e.msgid: e for e in parse_po(source.read_text(encoding="utf-8")) if e.msgid}


CATALOGS = {lang: _entries(lang) for lang in LANGUAGES}


def _found(pattern: re.Pattern[str]) -> set[str]:
    return {m for p in SOURCES for m in pattern.findall(p.read_text(encoding="utf-8"))}


def test_the_console_speaks_english_and_french() -> None:
    """Both catalogs are there and the console offers exactly their languages."""
    assert i18n.LANGUAGES == LANGUAGES
    assert i18n.DEFAULT_LOCALE == "en"


def test_every_id_the_code_uses_is_in_the_catalog_and_no_other() -> None:
    """The console.* ids written in the code (Python, templates) are exactly the catalog's."""
    used = _found(CONSOLE_ID)
    assert len(used) > 300
    for lang in LANGUAGES:
        mine = {m for m in CATALOGS[lang] if m.startswith("console.")}
        assert mine - used == set(), f"{lang}: ids nobody uses"
        assert used - mine == set(), f"{lang}: ids missing from the catalog"


def test_mfakit_ids_the_console_names_exist() -> None:
    """An mfakit id the console looks up itself (t("error.invalid_code")) is one mfakit has."""
    named = {m for m in _found(T_CALL) if not m.startswith("console.")}
    assert named
    assert named <= mfakit_i18n.MESSAGE_IDS


def test_mfakit_ids_the_console_rewords_are_mfakits_with_its_placeholders() -> None:
    """An mfakit id in the console's catalog replaces mfakit's text: it must be one of
    mfakit's ids, with only placeholders mfakit fills in for it."""
    shipped = Path(mfakit_i18n.__file__).resolve().parent / "locale" / "en" / "LC_MESSAGES"
    mfakit_en = {e.msgid: e for e in parse_po((shipped / "mfakit.po").read_text("utf-8"))}
    reworded = {m for m in CATALOGS["en"] if not m.startswith("console.")}
    assert reworded
    assert reworded <= mfakit_i18n.MESSAGE_IDS
    for msgid in reworded:
        given = set(PLACEHOLDER.findall(" ".join(mfakit_en[msgid].msgstr)))
        for lang in LANGUAGES:
            used = set(PLACEHOLDER.findall(" ".join(CATALOGS[lang][msgid].msgstr)))
            assert used <= given, (lang, msgid)
            assert (CATALOGS[lang][msgid].msgid_plural is None) == (
                mfakit_en[msgid].msgid_plural is None
            )


def test_english_and_french_have_the_same_ids() -> None:
    """Every id is in both languages."""
    assert set(CATALOGS["en"]) == set(CATALOGS["fr"])


def _untranslated(entry: PoEntry) -> bool:
    return entry.fuzzy or not all(f.strip() for f in entry.msgstr) or entry.msgid in entry.msgstr


def test_every_message_is_translated() -> None:
    """No entry of either language is fuzzy, empty, or its own id."""
    for lang, entries in CATALOGS.items():
        assert [m for m, entry in entries.items() if _untranslated(entry)] == [], lang
    assert _untranslated(dataclasses.replace(CATALOGS["fr"]["console.login.title"], fuzzy=True))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_messages_are_the_ones_tn_asks_for(lang: str) -> None:
    """tn() ids have two forms (both with {count} or neither: a verb may agree with a number
    the text does not show); every other id has one text."""
    asked = {m for m in _found(TN_CALL) if m.startswith("console.")}
    plural = {m for m, e in CATALOGS[lang].items() if e.msgid_plural is not None}
    assert {m for m in plural if m.startswith("console.")} == asked
    for msgid in plural:
        forms = CATALOGS[lang][msgid].msgstr
        assert len(forms) == 2, msgid
        assert len({"{count}" in form for form in forms}) == 1, msgid


@pytest.mark.parametrize("msgid", sorted(CATALOGS["en"]))
def test_english_and_french_have_the_same_placeholders_and_markup(msgid: str) -> None:
    """Each placeholder and each tag (with its attributes) of the English text is in the
    French one, and the reverse."""
    english = [CATALOGS["en"][msgid].msgstr, CATALOGS["fr"][msgid].msgstr]
    placeholders = [[set(PLACEHOLDER.findall(f)) for f in forms] for forms in english]
    tags = [[sorted(TAG.findall(f)) for f in forms] for forms in english]
    assert placeholders[0] == placeholders[1]
    assert tags[0] == tags[1]


def test_french_typography_is_consistent() -> None:
    """The console's French follows mfakit's catalog: no-break spaces and curly apostrophes."""
    for msgid, entry in CATALOGS["fr"].items():
        for text in entry.msgstr:
            assert typography_faults(text) == [], msgid
    assert typography_faults("Code\u00a0: «\u00a0x\u00a0» l\u2019a") == []
    assert len(typography_faults("Code : l'a <a href='x'>")) == 2


def test_markup_is_the_few_tags_the_pages_use() -> None:
    """Catalog texts hold no markup but strong, em, code, span.sr-only, span.hint and links."""
    allowed = re.compile(
        r'</?(strong|em|code)>|<code id="org-id">|<strong id="totp-app-name">|'
        r'<span class="(sr-only|hint|to)">|</span>|<a href="\{[a-z_]+\}"( target="_blank" '
        r'rel="noopener")?>|</a>'
    )
    for entry in CATALOGS["en"].values():
        for text in entry.msgstr:
            for tag in TAG.findall(text):
                assert allowed.fullmatch(tag), (entry.msgid, tag)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_mo_files_are_compiled_from_the_po_files(lang: str) -> None:
    """Each console.mo is exactly what its console.po compiles to (mfakit's compiler)."""
    folder = i18n.LOCALEDIR / lang / "LC_MESSAGES"
    source = parse_po((folder / "console.po").read_text(encoding="utf-8"))
    assert (folder / "console.mo").read_bytes() == compile_mo(source)


def test_the_compile_command_finds_them_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m mfakit.i18n compile examples/console/locale --domain console --check`."""
    assert i18n_command(["compile", str(i18n.LOCALEDIR), "--domain", "console", "--check"]) == 0
    assert capsys.readouterr().out == ""
