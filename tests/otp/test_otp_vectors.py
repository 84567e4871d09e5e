"""RFC 4226 Appendix D and RFC 6238 Appendix B vectors, all 28."""

from __future__ import annotations

import pytest

from mfakit.otp import HOTP, TOTP
from mfakit.testing._otp_vectors import (
    RFC4226_HOTP_VECTORS,
    RFC6238_SEEDS,
    RFC6238_TOTP_VECTORS,
    HotpVector,
    TotpVector,
)


def test_vector_counts() -> None:
    """The RFCs publish 10 HOTP and 18 TOTP values; all are present."""
    assert len(RFC4226_HOTP_VECTORS) == 10
    assert len(RFC6238_TOTP_VECTORS) == 18
    assert {v.algorithm for v in RFC6238_TOTP_VECTORS} == {"sha1", "sha256", "sha512"}


def test_seeds_have_hash_lengths() -> None:
    """Each RFC 6238 seed is the digits 1234567890 repeated to the hash's length."""
    for name, length in (("sha1", 20), ("sha256", 32), ("sha512", 64)):
        assert RFC6238_SEEDS[name] == (b"1234567890" * 7)[:length]


@pytest.mark.parametrize("vector", RFC4226_HOTP_VECTORS, ids=lambda v: f"C={v.counter}")
def test_hotp_vector(vector: HotpVector) -> None:
    """HOTP.at reproduces RFC 4226 Appendix D."""
    hotp = HOTP(vector.secret, digits=vector.digits, algorithm=vector.algorithm)
    assert hotp.at(vector.counter) == vector.code
    assert hotp.verify(vector.code, counter=vector.counter) == vector.counter


@pytest.mark.parametrize("vector", RFC6238_TOTP_VECTORS, ids=lambda v: f"{v.algorithm}-{v.time}")
def test_totp_vector(vector: TotpVector) -> None:
    """TOTP.at and TOTP.step reproduce RFC 6238 Appendix B."""
    totp = TOTP(
        vector.secret, digits=vector.digits, period=vector.period, algorithm=vector.algorithm
    )
    assert totp.step(vector.time) == vector.step
    assert totp.at(vector.time) == vector.code
    assert totp.verify(vector.code, for_time=vector.time, window=0) == vector.step


def test_vector_repr_hides_secret() -> None:
    """A vector's repr does not print the secret."""
    assert "1234567890" not in repr(RFC6238_TOTP_VECTORS[0])
    assert "1234567890" not in repr(RFC4226_HOTP_VECTORS[0])
