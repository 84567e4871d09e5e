"""Shared fixtures for the secret-box tests: rings built from fixed keys."""

from __future__ import annotations

import pytest
from _secretbox_data import KEY_1, OWNER, PURPOSE, SECRET

from mfakit.secretbox import KeyRing


@pytest.fixture
def ring() -> KeyRing:
    """A one-key ring, current key ``k1``."""
    return KeyRing({"k1": KEY_1}, current="k1")


@pytest.fixture
def envelope(ring: KeyRing) -> bytes:
    """A TOTP-sized secret encrypted under ``k1`` for OWNER and PURPOSE."""
    return ring.encrypt(SECRET, owner=OWNER, purpose=PURPOSE)
