"""The shipped catalogs: complete in English and French, consistent, and in sync with the code."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from tests.french_typography import typography_faults

from mfakit import errors, i18n
from mfakit.errors import MfaError
from mfakit.i18n._mo import PoEntry, parse_po
from mfakit.service import Message

LOCALE_DIR = Path(i18n.__file__).resolve().parent / "locale"
LANGUAGES = ("en", "fr")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _entries(lang: str) -> dict[str, PoEntry]:
    text = (LOCALE_DIR / lang / "LC_MESSAGES" / "mfakit.po").read_text(encoding="utf-8")
    return {e.msgid: e for e in parse_po(text) if e.msgid}


CATALOGS = {lang: _entries(lang) for lang in LANGUAGES}


def _error_classes() -> list[type[MfaError]]:
    found: list[type[MfaError]] = []
    todo: list[type[MfaError]] = [MfaError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_shipped_languages_are_english_and_french() -> None:
    """The package ships exactly the en and fr catalogs, each as .po and .mo."""
    shipped = sorted(p.name for p in LOCALE_DIR.iterdir() if p.is_dir())
    assert shipped == ["en", "fr"]
    for lang in shipped:
        assert (LOCALE_DIR / lang / "LC_MESSAGES" / "mfakit.mo").is_file()
    assert i18n.default_catalog().locales == ("en", "fr")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_has_exactly_the_ids_the_code_uses(lang: str) -> None:
    """Every id mfakit looks up is in the catalog, and the catalog has no other."""
    assert set(CATALOGS[lang]) == i18n.MESSAGE_IDS


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated(lang: str) -> None:
    """No entry is fuzzy, empty, or the message id itself."""
    for msgid, entry in CATALOGS[lang].items():
        assert not entry.fuzzy, msgid
        assert all(form.strip() for form in entry.msgstr), msgid
        assert msgid not in entry.msgstr, msgid


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_messages_have_two_forms(lang: str) -> None:
    """Exactly the plural ids have msgid_plural, with the two forms both languages use."""
    plural = {m for m, e in CATALOGS[lang].items() if e.msgid_plural is not None}
    assert plural == i18n.PLURAL_MESSAGE_IDS
    for msgid in plural:
        assert len(CATALOGS[lang][msgid].msgstr) == 2
        assert all("{count}" in form for form in CATALOGS[lang][msgid].msgstr)


@pytest.mark.parametrize("msgid", sorted(i18n.MESSAGE_IDS))
def test_english_and_french_have_the_same_placeholders(msgid: str) -> None:
    """Each placeholder of the English text is in the French one, and the reverse."""
    english = [set(PLACEHOLDER.findall(f)) for f in CATALOGS["en"][msgid].msgstr]
    french = [set(PLACEHOLDER.findall(f)) for f in CATALOGS["fr"][msgid].msgstr]
    assert english == french


def test_french_typography_is_consistent() -> None:
    """French uses a no-break space before : ; ! ? » and after «, and a curly apostrophe."""
    for msgid, entry in CATALOGS["fr"].items():
        for text in entry.msgstr:
            assert typography_faults(text) == [], msgid


def test_french_typography_rule_catches_faults() -> None:
    """The rule is not vacuous: a plain space, a missing space and ' are each caught."""
    assert typography_faults("compte\u00a0: «\u00a0x\u00a0» l\u2019a") == []
    assert len(typography_faults("compte : x")) == 1
    assert len(typography_faults("vraiment?")) == 1
    assert len(typography_faults("« x\u00a0»")) == 1
    assert typography_faults("l'a") == ["ASCII apostrophe"]


def test_every_error_code_has_a_message_id() -> None:
    """Walking the whole MfaError tree, each class's code has its error.<code> id."""
    classes = _error_classes()
    assert len(classes) >= len(errors.__all__) - 1  # every class but CeremonyField
    for cls in classes:
        assert i18n.ERROR_MESSAGE_IDS[cls.code] == f"error.{cls.code}"
        assert f"error.{cls.code}" in i18n.MESSAGE_IDS
    assert set(i18n.ERROR_MESSAGE_IDS) == {cls.code for cls in classes}


def test_every_notification_type_has_subject_and_body_ids() -> None:
    """Each member of the Message union has .subject and .body ids in the catalogs."""
    kinds = set(typing.get_args(Message))
    assert set(i18n.NOTIFICATION_KEYS) == kinds
    for kind in kinds:
        key = i18n.NOTIFICATION_KEYS[kind]
        ids = i18n.NOTIFICATION_MESSAGE_IDS[kind]
        assert ids[:2] == (f"notification.{key}.subject", f"notification.{key}.body")
        assert set(ids) <= i18n.MESSAGE_IDS


@pytest.mark.parametrize("lang", LANGUAGES)
def test_subjects_take_no_secret(lang: str) -> None:
    """No subject has a {code} placeholder, and only the login-code body has one."""
    with_code = {m for m, e in CATALOGS[lang].items() if "{code}" in "".join(e.msgstr)}
    assert with_code == {"notification.login_code.body"}
