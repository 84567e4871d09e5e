"""mfakit.static: the browser module is package data, found by importlib.resources and built in."""

from __future__ import annotations

import importlib.resources
import re
import tomllib
from pathlib import Path

from mfakit import static

ROOT = Path(__file__).resolve().parents[1]

# The module's JavaScript API, pinned like a Python module's __all__.
EXPORTS = [
    "ERROR_CODES",
    "MfakitWebAuthnError",
    "abort",
    "authenticate",
    "capabilities",
    "isConditionalCreateAvailable",
    "isConditionalMediationAvailable",
    "isSupported",
    "register",
    "signalAllAcceptedCredentials",
    "signalCurrentUserDetails",
    "signalUnknownCredential",
    "startAutofill",
]


def test_module_is_package_data() -> None:
    """importlib.resources finds mfakit-webauthn.js in the mfakit.static package."""
    found = importlib.resources.files("mfakit.static") / static.MODULE_NAME
    assert static.MODULE_NAME == "mfakit-webauthn.js"
    assert found.is_file()
    assert found.read_bytes() == static.read_module()


def test_module_path_is_the_file() -> None:
    """module_path() is the absolute path of the same bytes read_module() returns."""
    path = static.module_path()
    assert path.is_absolute()
    assert path.name == static.MODULE_NAME
    assert path.read_bytes() == static.read_module()


def test_module_exports_are_pinned() -> None:
    """The module exports exactly the documented names."""
    source = static.read_module().decode("utf-8")
    exported = re.findall(r"^export (?:async function|function|const|class) (\w+)", source, re.M)
    assert sorted(exported) == EXPORTS


def test_module_has_no_imports() -> None:
    """The module stands alone: no import statements, nothing to bundle."""
    source = static.read_module().decode("utf-8")
    assert not re.search(r"^\s*import\b", source, re.M)
    assert "import(" not in source


def test_every_error_code_has_a_message() -> None:
    """Each code in ERROR_CODES has its default message, and none is left out."""
    source = static.read_module().decode("utf-8")
    listed = re.search(r"ERROR_CODES = Object.freeze\(\[(.*?)\]\)", source, re.S)
    messages = re.search(r"const MESSAGES = \{(.*?)\};", source, re.S)
    assert listed is not None
    assert messages is not None
    codes = re.findall(r'"(\w+)"', listed.group(1))
    assert codes == sorted(codes)
    assert re.findall(r"^\s+(\w+): ", messages.group(1), re.M) == codes


def test_wheel_and_sdist_take_the_whole_package() -> None:
    """hatchling's wheel and sdist targets include src/mfakit with its non-Python files."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    targets = config["tool"]["hatch"]["build"]["targets"]
    assert targets["wheel"]["packages"] == ["src/mfakit"]
    assert "src/mfakit" in targets["sdist"]["include"]
    for target in targets.values():
        assert not {"exclude", "only-include", "artifacts"} & set(target)
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert not [p for p in ignored if p.endswith(".js") or "static" in p]
