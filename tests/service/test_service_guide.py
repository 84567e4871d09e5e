"""The service guide's examples run as written, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "service.md"
BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)


def test_guide_examples_run_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    """Every Python block of docs/guides/service.md executes without error."""
    assert len(BLOCKS) >= 8
    namespace: dict[str, object] = {"__name__": "guide"}
    for source in BLOCKS:
        exec(compile(source, str(GUIDE), "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert "['confirm_phrase']" in out
    assert "('u-bob',)" in out
    assert "\nYubiKey\n" in out  # the synced security key's notice
