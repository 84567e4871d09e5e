"""The examples in the mfakit.otp docstrings run and give what they show."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from mfakit.otp import _base32, _hotp, _totp, _uri


@pytest.mark.parametrize("module", [_base32, _hotp, _totp, _uri], ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    """Every >>> example in the module's docstrings passes."""
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
