"""Provider names: the bundled community AAGUID list, the strict loader and the icon rule."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from importlib import resources

import pytest

from mfakit.errors import ConfigurationError, MalformedDataError
from mfakit.webauthn import providers
from mfakit.webauthn.providers import (
    BUNDLED_SHA256,
    MAX_ICON_CHARS,
    MAX_NAME_CHARS,
    Provider,
    ProviderNames,
)

GOOGLE = uuid.UUID("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4")
APPLE = uuid.UUID("fbfc3007-154e-4ecc-8c0b-6e020557d7bd")
KEY = "0ea242b4-43c4-4a1b-8b17-dd6d0b6baec6"
SVG = "data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode()


def _one(**entry: object) -> bytes:
    return json.dumps({KEY: entry}).encode()


def test_bundled_checksum_matches_the_shipped_file() -> None:
    """The recorded SHA-256 is the shipped file's, recomputed here."""
    data = resources.files("mfakit.webauthn").joinpath("provider_aaguids.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == BUNDLED_SHA256


def test_bundled_ships_names_only() -> None:
    """The shipped file has names and nothing else (no icons), and is cached."""
    data = resources.files("mfakit.webauthn").joinpath("provider_aaguids.json").read_bytes()
    document = json.loads(data)
    assert len(document) == 49
    assert all(set(entry) == {"name"} for entry in document.values())
    names = ProviderNames.bundled()
    assert names is ProviderNames.bundled()
    assert len(names) == 49
    assert all(p.icon_light is None and p.icon_dark is None for p in names.values())


@pytest.mark.parametrize(
    ("aaguid", "name"),
    [
        (GOOGLE, "Google Password Manager"),
        (APPLE, "Apple Passwords"),
        ("bada5566-a7aa-401f-bd96-45619a55120d", "1Password"),
        ("d548826e-79b4-db40-a3d8-11116f7e8349", "Bitwarden"),
        ("08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"),
        ("891494da-2c90-4d31-a9cd-4eab0aed1309", "Sésame"),
    ],
)
def test_bundled_lookup_well_known(aaguid: uuid.UUID | str, name: str) -> None:
    """Well-known providers are found by UUID, by text and by their 16 bytes."""
    names = ProviderNames.bundled()
    key = uuid.UUID(str(aaguid))
    assert names.lookup(aaguid) == Provider(name=name)
    assert names.lookup(key.bytes) == Provider(name=name)
    assert names[key].name == name


def test_lookup_zero_and_unknown() -> None:
    """The all-zero AAGUID and an unknown one name nothing; bad keys are refused."""
    names = ProviderNames.bundled()
    assert names.lookup(bytes(16)) is None
    assert names.lookup(uuid.UUID(int=0)) is None
    assert names.lookup(uuid.UUID(int=1)) is None
    with pytest.raises(MalformedDataError, match="16 bytes"):
        names.lookup(b"short")
    with pytest.raises(MalformedDataError, match="not an AAGUID"):
        names.lookup("nope")
    with pytest.raises(ConfigurationError):
        names.lookup(42)  # type: ignore[arg-type]


def test_bundled_refuses_a_tampered_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shipped file that does not match its checksum is refused."""
    providers._bundled.cache_clear()
    monkeypatch.setattr(providers, "BUNDLED_SHA256", "0" * 64)
    try:
        with pytest.raises(MalformedDataError, match="checksum"):
            ProviderNames.bundled()
    finally:
        monkeypatch.undo()
        providers._bundled.cache_clear()
    assert len(ProviderNames.bundled()) == 49


def test_from_json_accepts_empty_retired_list() -> None:
    """The list's documented retirement (an empty object) loads as an empty mapping."""
    names = ProviderNames.from_json("{}")
    assert len(names) == 0
    assert names.lookup(GOOGLE) is None


def test_from_json_keeps_names_and_ignores_unknown_members() -> None:
    """A copy with extra members loads; str and bytes give equal lists."""
    text = json.dumps({KEY: {"name": "Keeper", "url": "https://example.com"}})
    names = ProviderNames.from_json(text)
    assert names == ProviderNames.from_json(text.encode())
    assert names.lookup(KEY) == Provider(name="Keeper")
    assert repr(names) == "ProviderNames(1 providers)"
    assert hash(names) == hash(ProviderNames.from_json(text))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"not-a-uuid": {"name": "x"}}', "not a UUID"),
        (json.dumps({KEY.upper(): {"name": "x"}}).encode(), "lowercase canonical"),
        (json.dumps({KEY.replace("-", ""): {"name": "x"}}).encode(), "lowercase canonical"),
        (json.dumps({str(uuid.UUID(int=0)): {"name": "x"}}).encode(), "all-zero"),
        (json.dumps({KEY: "Keeper"}).encode(), "must be an object"),
        (json.dumps({KEY: {}}).encode(), "has no name"),
        (_one(name=7), "must be a string"),
        (_one(name="  "), "is empty"),
        (_one(name="x" * (MAX_NAME_CHARS + 1)), "longer than"),
        (_one(name="Kee\nper"), "control or format"),
        (_one(name="Kee\u202eper"), "control or format"),
        (_one(name="Keeper", icon_light=5), "icon must be a string"),
        (f'{{"{KEY}": {{"name": "a"}}, "{KEY}": {{"name": "b"}}}}'.encode(), "twice"),
    ],
)
def test_from_json_refusals(document: bytes, message: str) -> None:
    """Every rule of the strict loader refuses with a MalformedDataError naming it."""
    with pytest.raises(MalformedDataError, match=message) as caught:
        ProviderNames.from_json(document)
    assert caught.value.field == "provider_names"


def test_from_json_refuses_oversized(monkeypatch: pytest.MonkeyPatch) -> None:
    """A document above the size limit is refused before parsing."""
    monkeypatch.setattr(providers, "MAX_LIST_BYTES", 10)
    with pytest.raises(MalformedDataError, match="larger than"):
        ProviderNames.from_json(_one(name="Keeper"))


def test_from_json_type_error() -> None:
    """Only str or bytes are read."""
    with pytest.raises(ConfigurationError):
        ProviderNames.from_json({})  # type: ignore[arg-type]


def test_icons_kept_when_image_data_uris() -> None:
    """SVG and PNG base64 data URIs are kept, light and dark."""
    png = "data:image/png;base64,iVBORw0KGgo="
    names = ProviderNames.from_json(_one(name="Keeper", icon_light=SVG, icon_dark=png))
    provider = names.lookup(KEY)
    assert provider is not None
    assert (provider.icon_light, provider.icon_dark) == (SVG, png)


@pytest.mark.parametrize(
    "icon",
    [
        "https://example.com/icon.svg",
        "javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "data:image/svg+xml,<svg onload=alert(1)/>",
        "data:image/svg+xml;base64,not base64!",
        "data:image/svg+xml;base64,PHN2Zy8+\n",
        "data:image/svg+xml;base64,PHN2Zy8+" + "A" * MAX_ICON_CHARS,
        "",
    ],
)
def test_other_icons_dropped_name_kept(icon: str) -> None:
    """An icon that is not an image data URI is dropped; the entry keeps its name."""
    names = ProviderNames.from_json(_one(name="Keeper", icon_light=icon, icon_dark=SVG))
    assert names.lookup(KEY) == Provider(name="Keeper", icon_light=None, icon_dark=SVG)


def test_constructor_checks_types() -> None:
    """Direct construction takes UUID keys and Provider values, never the zero AAGUID."""
    assert ProviderNames({GOOGLE: Provider(name="G")}).lookup(GOOGLE) == Provider(name="G")
    with pytest.raises(ConfigurationError):
        ProviderNames({str(GOOGLE): Provider(name="G")})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="all-zero"):
        ProviderNames({uuid.UUID(int=0): Provider(name="G")})
