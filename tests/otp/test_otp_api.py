"""The public surface of mfakit.otp and of the OTP vectors, pinned."""

from __future__ import annotations

import mfakit.otp
from mfakit.testing import _otp_vectors


def test_otp_all_is_pinned() -> None:
    """mfakit.otp exports exactly these names."""
    assert mfakit.otp.__all__ == [
        "Algorithm",
        "HOTP",
        "MAX_LOOK_AHEAD",
        "MAX_URI_LENGTH",
        "MAX_WINDOW",
        "OtpAuthUri",
        "TOTP",
        "TimeInput",
        "decode_base32",
        "encode_base32",
        "generate_secret",
        "parse_uri",
    ]


def test_otp_vectors_all_is_pinned() -> None:
    """The vectors module (re-exported by mfakit.testing.vectors) exports exactly these."""
    assert _otp_vectors.__all__ == [
        "RFC4226_HOTP_VECTORS",
        "RFC4226_SECRET",
        "RFC6238_PERIOD",
        "RFC6238_SEEDS",
        "RFC6238_TOTP_VECTORS",
        "HotpVector",
        "TotpVector",
    ]


def test_public_classes_come_from_private_modules() -> None:
    """The classes live in private modules and are re-exported (STYLE.md)."""
    for name in ("HOTP", "TOTP", "OtpAuthUri"):
        assert getattr(mfakit.otp, name).__module__.startswith("mfakit.otp._")
