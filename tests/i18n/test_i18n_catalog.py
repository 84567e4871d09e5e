"""The Catalog: shipped texts, locale fallback, the host's overrides and .mo directories."""

from __future__ import annotations

from pathlib import Path

import pytest

from mfakit.errors import ConfigurationError
from mfakit.i18n import Catalog, default_catalog
from mfakit.i18n._mo import compile_mo, parse_po

SUBJECT = "notification.login_code.subject"
SECONDS = "error.throttled.seconds"


def _host_dir(root: Path, lang: str, po: str, domain: str = "mfakit") -> Path:
    folder = root / lang / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{domain}.mo").write_bytes(compile_mo(parse_po(po)))
    return root


HEADER = 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'


def test_regional_locale_falls_back_to_language() -> None:
    """fr-FR and fr_CA use the French catalog; en-GB the English one."""
    catalog = default_catalog()
    assert catalog.text(SUBJECT, locale="fr-FR") == "Votre code de connexion"
    assert catalog.text(SUBJECT, locale="fr_CA") == "Votre code de connexion"
    assert catalog.text(SUBJECT, locale="en-GB") == "Your sign-in code"


def test_unknown_locale_falls_back_to_english() -> None:
    """A language with no catalog, a junk tag and None all give English."""
    catalog = default_catalog()
    for locale in ("de", "xx-YY", "%%%", None):
        assert catalog.text(SUBJECT, locale=locale) == "Your sign-in code"


def test_default_locale_can_be_french() -> None:
    """default_locale is the end of every chain."""
    assert Catalog(default_locale="fr").text(SUBJECT, locale="de") == "Votre code de connexion"


def test_plural_forms_follow_each_language() -> None:
    """English is singular only for 1; French is singular for 0 and 1 (n > 1)."""
    catalog = default_catalog()
    english = [catalog.text(SECONDS, locale="en", count=n) for n in (0, 1, 2)]
    french = [catalog.text(SECONDS, locale="fr", count=n) for n in (0, 1, 2)]
    assert [t.endswith("seconds.") for t in english] == [True, False, True]
    assert [t.endswith("secondes.") for t in french] == [False, False, True]


def test_override_wins_for_its_locale_only() -> None:
    """An override replaces the text in its locale and in that locale's regions."""
    catalog = Catalog(overrides={"fr": {SUBJECT: "Code de connexion ACME"}})
    assert catalog.text(SUBJECT, locale="fr-BE") == "Code de connexion ACME"
    assert catalog.text(SUBJECT, locale="en") == "Your sign-in code"


def test_regional_override_beats_language_text() -> None:
    """A fr-CA override wins for fr-CA; fr-FR still gets the French catalog."""
    catalog = Catalog(overrides={"fr_CA": {SUBJECT: "Votre code de connexion (Québec)"}})
    assert catalog.text(SUBJECT, locale="fr-CA") == "Votre code de connexion (Québec)"
    assert catalog.text(SUBJECT, locale="fr-FR") == "Votre code de connexion"
    assert "fr-CA" in catalog.locales


def test_plural_override_forms_use_the_language_rule() -> None:
    """An override's forms are picked by the language's plural rule (French: n > 1)."""
    catalog = Catalog(overrides={"fr": {SECONDS: ("une forme {count}", "deux formes {count}")}})
    assert catalog.text(SECONDS, locale="fr", count=0) == "une forme {count}"
    assert catalog.text(SECONDS, locale="fr", count=2) == "deux formes {count}"
    single = Catalog(overrides={"en": {SECONDS: "Wait {count} s."}})
    assert single.text(SECONDS, locale="en", count=1) == "Wait {count} s."


def test_host_directory_beats_shipped_and_adds_a_language(tmp_path: Path) -> None:
    """A host .mo wins over the shipped text and adds German; overrides win over both."""
    po = HEADER + f'msgid "{SUBJECT}"\nmsgstr "Ihr Anmeldecode"\n'
    _host_dir(tmp_path, "de", po)
    _host_dir(tmp_path, "fr", HEADER + f'msgid "{SUBJECT}"\nmsgstr "Code maison"\n')
    catalog = Catalog(directories=[tmp_path])
    assert catalog.locales == ("de", "en", "fr")
    assert catalog.text(SUBJECT, locale="de-AT") == "Ihr Anmeldecode"
    assert catalog.text(SUBJECT, locale="fr") == "Code maison"
    # A text the host's German catalog lacks falls back to English.
    assert catalog.text("error.expired_code", locale="de").startswith("That code")
    both = Catalog(directories=[tmp_path], overrides={"de": {SUBJECT: "Override"}})
    assert both.text(SUBJECT, locale="de") == "Override"


def test_without_shipped_catalogs_missing_ids_are_visible() -> None:
    """With shipped=False and nothing else, find gives None and text gives the id."""
    catalog = Catalog(shipped=False)
    assert catalog.locales == ()
    assert catalog.find(SUBJECT, locale="en") is None
    assert catalog.text(SUBJECT, locale="en") == SUBJECT


def test_unreadable_host_catalog_is_a_configuration_error(tmp_path: Path) -> None:
    """A .mo file gettext cannot read is reported when the catalog loads."""
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "mfakit.mo").write_bytes(b"not a catalog at all")
    with pytest.raises(ConfigurationError):
        Catalog(directories=[tmp_path]).text(SUBJECT, locale="de")


@pytest.mark.parametrize(
    "kwargs", [{"default_locale": "!!"}, {"overrides": {"not a locale": {SUBJECT: "x"}}}]
)
def test_bad_locale_tags_are_refused(kwargs: dict[str, object]) -> None:
    """default_locale and override locales must be locale tags."""
    with pytest.raises(ConfigurationError):
        Catalog(**kwargs)  # type: ignore[arg-type]


def test_default_catalog_is_shared() -> None:
    """default_catalog() builds one catalog per process."""
    assert default_catalog() is default_catalog()


def test_host_domain_is_read_beside_mfakit_texts(tmp_path: Path) -> None:
    """A host's own domain (app.mo) serves its ids; mfakit's ids still come from mfakit."""
    _host_dir(tmp_path, "fr", HEADER + 'msgid "app.title"\nmsgstr "Bienvenue {name}"\n', "app")
    _host_dir(tmp_path, "fr", HEADER + f'msgid "{SUBJECT}"\nmsgstr "Pas lu"\n')
    catalog = Catalog(directories=[tmp_path], domains=("app",))
    assert catalog.text("app.title", locale="fr-FR") == "Bienvenue {name}"
    # Only the listed domains are read: the directory's mfakit.mo is not.
    assert catalog.text(SUBJECT, locale="fr") == "Votre code de connexion"
    assert catalog.find("app.title", locale="en") is None
    assert Catalog(directories=[tmp_path]).find("app.title", locale="fr") is None


def test_first_domain_wins_within_a_directory(tmp_path: Path) -> None:
    """domains=("app", "mfakit"): app.mo before the directory's mfakit.mo, both before mfakit's."""
    _host_dir(tmp_path, "fr", HEADER + f'msgid "{SUBJECT}"\nmsgstr "Code app"\n', "app")
    _host_dir(tmp_path, "fr", HEADER + f'msgid "{SUBJECT}"\nmsgstr "Code maison"\n')
    assert Catalog(directories=[tmp_path], domains=("app", "mfakit")).text(
        SUBJECT, locale="fr"
    ) == ("Code app")
    assert Catalog(directories=[tmp_path], domains=("mfakit", "app")).text(
        SUBJECT, locale="fr"
    ) == ("Code maison")


@pytest.mark.parametrize("domains", ["app", ("../app",), ("",), ("a/b",)])
def test_bad_domains_are_refused(domains: object) -> None:
    """A bare string (not a sequence) and a name that is not a plain file name are refused."""
    with pytest.raises(ConfigurationError):
        Catalog(domains=domains)  # type: ignore[arg-type]


def test_format_fills_values_and_count() -> None:
    """format() fills placeholders, {count} from count, and leaves unknown ones visible."""
    forms = ("Il reste {count} code de {who}.", "Il reste {count} codes.")
    catalog = Catalog(overrides={"fr": {"app.left": forms}})
    assert catalog.format("app.left", locale="fr", count=1, values={"who": "Ada"}) == (
        "Il reste 1 code de Ada."
    )
    assert catalog.format("app.left", locale="fr", count=3) == "Il reste 3 codes."
    assert catalog.format("app.left", locale="fr", count=1) == "Il reste 1 code de {who}."
    assert catalog.format("app.left", locale="fr", count=2, values={"count": "deux"}) == (
        "Il reste deux codes."
    )
    assert default_catalog().format(SUBJECT, locale="en") == "Your sign-in code"
