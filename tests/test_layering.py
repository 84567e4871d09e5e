"""The layering rules of DESIGN.md, checked on the source text.

* The pure core never imports the service, the repositories or the stores.
* Only mfakit.clock reads the current time; the core takes ``now`` as an argument.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "mfakit"

# Packages (or modules) that make up the pure core and the shared modules.
CORE = (
    "otp",
    "backup_codes",
    "login_codes",
    "webauthn",
    "policy",
    "secretbox",
    "qr",
    "errors",
    "clock",
)
FORBIDDEN_FOR_CORE = (
    "mfakit.service",
    "mfakit.repositories",
    "mfakit.stores",
    "mfakit.testing",
    "mfakit.cli",
)
# Calls that read the wall clock; only mfakit/clock.py may make them.
CLOCK_READS = {
    ("time", "time"),
    ("time", "time_ns"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
}


def _core_files() -> list[Path]:
    files: list[Path] = []
    for name in CORE:
        pkg = SRC / name
        if pkg.is_dir():
            files.extend(sorted(pkg.rglob("*.py")))
        files.extend(p for p in (SRC / f"{name}.py", SRC / f"_{name}.py") if p.exists())
    return files


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


CORE_FILES = _core_files()


def test_core_files_found() -> None:
    """The check looks at real files (it cannot pass vacuously)."""
    assert any(p.name == "errors.py" for p in CORE_FILES)
    assert any(p.name == "clock.py" for p in CORE_FILES)


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_core_does_not_import_upper_layers(path: Path) -> None:
    """A core module imports nothing from the service, ports, stores, testing or CLI."""
    imported = _imports(ast.parse(path.read_text(encoding="utf-8")))
    bad = sorted(m for m in imported if m.startswith(FORBIDDEN_FOR_CORE))
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_only_clock_reads_time(path: Path) -> None:
    """No module but mfakit.clock calls time.time(), datetime.now() and the like."""
    if path == SRC / "clock.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            assert (owner_name, node.func.attr) not in CLOCK_READS, (
                f"{path.relative_to(SRC)}:{node.lineno} reads the clock; use mfakit.clock"
            )
