"""The API reference covers every public module (autodoc pages in docs/api/)."""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import mfakit

API = Path(__file__).resolve().parents[1] / "docs" / "api"


def _documented() -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in API.glob("*.md"))
    return set(re.findall(r"automodule:: ([a-z0-9_.]+)", text))


def _public_modules() -> set[str]:
    names = set()
    for info in pkgutil.walk_packages(mfakit.__path__, prefix="mfakit."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.add(info.name)
    return names


def test_every_public_module_has_an_api_page() -> None:
    """Each public module is rendered by an automodule directive."""
    missing = _public_modules() - _documented()
    assert not missing, f"no API page for {sorted(missing)}"


def test_api_pages_name_only_real_modules() -> None:
    """No API page points at a module that does not exist."""
    assert _documented() <= _public_modules() | {"mfakit"}
