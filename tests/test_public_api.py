"""The public surface: every public module has a sorted, documented ``__all__``.

Each feature's own tests pin the exact names of its module; this test checks the
rules that hold for all of them, so a new module cannot forget them.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import mfakit


def _public_modules() -> list[ModuleType]:
    found = [mfakit]
    for info in pkgutil.walk_packages(mfakit.__path__, prefix="mfakit."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]):
            continue
        try:
            found.append(importlib.import_module(info.name))
        except ImportError as exc:  # an optional extra (e.g. psycopg) is missing
            pytest.skip(f"optional dependency missing for {info.name}: {exc}")
    return found


MODULES = _public_modules()


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_module_has_sorted_all(module: ModuleType) -> None:
    """__all__ exists, is sorted and names only things that exist."""
    names = getattr(module, "__all__", None)
    assert isinstance(names, list), f"{module.__name__} has no __all__ list"
    assert names == sorted(names), f"{module.__name__}.__all__ is not sorted"
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(module, name), f"{module.__name__}.{name} is missing"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_public_names_are_documented(module: ModuleType) -> None:
    """Every public module, class and function has a docstring."""
    assert module.__doc__, f"{module.__name__} has no docstring"
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{module.__name__}.{name} has no docstring"


def test_version_is_exposed() -> None:
    """The package reports its version."""
    assert mfakit.__version__.count(".") >= 2
