"""Constants shared by the secret-box tests (a uniquely named module, not a test file)."""

from __future__ import annotations

# Fixed, obviously fake keys: the tests must be reproducible.
KEY_1 = bytes(range(32))
KEY_2 = bytes(range(100, 132))
KEY_3 = bytes(range(200, 232))
OWNER = "user-42"
PURPOSE = "mfakit.totp-secret"
SECRET = b"12345678901234567890"
