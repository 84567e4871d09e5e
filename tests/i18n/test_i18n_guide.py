"""The translations guide runs as written, the module's names are pinned, and the catalogs ship."""

from __future__ import annotations

import fnmatch
import importlib.resources
import re
import tomllib
from pathlib import Path

import pytest

from mfakit import i18n

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guides" / "translations.md"


def test_guide_runs_and_prints_what_it_shows(capsys: pytest.CaptureFixture[str]) -> None:
    """Every python block runs in order; the printed lines are the page's text blocks."""
    text = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    shown = re.findall(r"```text\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 5
    namespace: dict[str, object] = {"__name__": "guide"}
    for index, source in enumerate(blocks):
        exec(compile(source, f"{GUIDE.name} (block {index})", "exec"), namespace)  # noqa: S102
    assert capsys.readouterr().out == "".join(shown)


def test_public_names_are_pinned() -> None:
    """mfakit.i18n exports exactly these names."""
    assert i18n.__all__ == [
        "Catalog",
        "DOMAIN",
        "DateFormatter",
        "ERROR_MESSAGE_IDS",
        "MESSAGE_IDS",
        "NOTIFICATION_KEYS",
        "NOTIFICATION_MESSAGE_IDS",
        "OverrideText",
        "PLURAL_MESSAGE_IDS",
        "POLICY_MESSAGE_IDS",
        "RenderedMessage",
        "choose_locale",
        "default_catalog",
        "fallback_chain",
        "normalize_locale",
        "parse_accept_language",
        "reason_message",
        "render_notification",
        "user_message",
    ]


def test_catalogs_are_package_data_built_into_wheel_and_sdist() -> None:
    """importlib.resources finds the .po and .mo files; hatchling takes them; git keeps them."""
    root = importlib.resources.files("mfakit.i18n") / "locale"
    shipped = [f"{lang}/LC_MESSAGES/mfakit.{ext}" for lang in ("en", "fr") for ext in ("po", "mo")]
    for name in shipped:
        assert (root / name).is_file(), name
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    targets = config["tool"]["hatch"]["build"]["targets"]
    assert targets["wheel"]["packages"] == ["src/mfakit"]
    assert "src/mfakit" in targets["sdist"]["include"]
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    for name in shipped:
        assert not [p for p in ignored if fnmatch.fnmatch(Path(name).name, p.strip("/"))], name
