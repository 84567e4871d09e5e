"""The tutorial's code blocks run, in order, as one program."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from mfakit.secretbox import generate_key_entry

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _blocks(page: str) -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_tutorial_runs_end_to_end(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every block of docs/tutorial.md executes in one namespace, in order.

    The environment is what the tutorial's two ``export`` lines make.
    """
    monkeypatch.setenv("MFAKIT_KEYS", generate_key_entry("k1"))
    monkeypatch.setenv("MFAKIT_LOGIN_CODE_KEY", secrets.token_hex(32))
    monkeypatch.delenv("TUTORIAL_DATA", raising=False)
    blocks = _blocks("tutorial.md")
    assert len(blocks) >= 8
    namespace: dict[str, object] = {"__name__": "tutorial"}
    for index, source in enumerate(blocks):
        code = compile(source, f"docs/tutorial.md (block {index})", "exec")
        exec(code, namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert "refused: replayed_code" in out
    assert "backup codes left: 9" in out
    assert "MacBook Touch ID" in out
    # The second process decrypted the secret with the same keys.
    assert "second process: totp" in out


def _section(page: str, heading: str) -> str:
    text = (DOCS / page).read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else None]


def test_passkey_sign_in_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The passkeys guide's sign-in without a username runs as written."""
    section = _section("guides/passkeys.md", "Passkey sign-in without a username")
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    namespace: dict[str, object] = {"__name__": "guide"}
    for block in blocks:
        exec(compile(block, "docs/guides/passkeys.md", "exec"), namespace)  # noqa: S102
    assert capsys.readouterr().out == "u-1 passkey False\nask for the password, then the passkey\n"
