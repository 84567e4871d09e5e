"""Fixtures of the attestation tests."""

from __future__ import annotations

import pytest

from mfakit.testing._attestation_builders import AttestationBuilder


@pytest.fixture(scope="module")
def builder() -> AttestationBuilder:
    """A test CA shared by a module's tests (generating keys is the slow part)."""
    return AttestationBuilder()
