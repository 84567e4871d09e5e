"""The wheel's metadata: what ``pip show`` and indexes read, from a real build of the checkout."""

from __future__ import annotations

import email.parser
import subprocess
import sys
import zipfile
from email.message import Message
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def metadata(tmp_path_factory: pytest.TempPathFactory) -> Message:
    """The METADATA of a wheel built from the checkout by pip (the build backend of pyproject)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("mfakit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.BytesParser().parsebytes(archive.read(name))


def test_licence_is_in_the_field_every_pip_shows(metadata: Message) -> None:
    """``License`` (read by every pip), the licence file, and the matching classifier."""
    assert metadata["License"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert "License :: OSI Approved :: Apache Software License" in metadata.get_all("Classifier")


def test_runtime_dependencies_are_exactly_the_five(metadata: Message) -> None:
    """Only the card's libraries at runtime; everything else is behind an extra."""
    runtime = sorted(
        r.split(">=")[0] for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r
    )
    assert runtime == ["argon2-cffi", "cbor2", "cryptography", "segno", "typing-extensions"]
