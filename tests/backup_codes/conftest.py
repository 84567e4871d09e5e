"""Shared fixtures for the backup code tests: the cheap profile and an Argon2 call counter."""

from __future__ import annotations

from collections.abc import Iterator

import argon2.low_level
import pytest
from backup_codes_helpers import CountingLib

from mfakit import backup_codes


@pytest.fixture(scope="session")
def hasher() -> backup_codes.Hasher:
    """The cheap test profile: tests stay fast on two shared cores."""
    return backup_codes.Hasher(profile=backup_codes.CHEAP_FOR_TESTS)


@pytest.fixture(scope="session")
def ten(hasher: backup_codes.Hasher) -> backup_codes.GeneratedCodes:
    """One set of ten codes, generated once."""
    return backup_codes.generate(10, hasher=hasher)


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingLib]:
    """Count the Argon2 computations made through argon2-cffi's low-level module."""
    counting = CountingLib(argon2.low_level.lib)
    monkeypatch.setattr(argon2.low_level, "lib", counting)
    return counting
