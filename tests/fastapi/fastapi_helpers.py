"""Shared by the FastAPI example's tests: the app's settings and how to import it."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from argon2 import PasswordHasher

from mfakit.backup_codes import CHEAP_FOR_TESTS, Hasher
from mfakit.service import ServiceSettings

# The example is a package named apart from ``fastapi`` itself, in examples/fastapi.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "fastapi"))

ORIGIN = "http://localhost:8000"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
CHEAP_PASSWORDS = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
SETTINGS = ServiceSettings(backup_code_hasher=Hasher(profile=CHEAP_FOR_TESTS))
T = TypeVar("T")
