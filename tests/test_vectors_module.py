"""mfakit.testing.vectors: the published vectors, re-exported for other projects."""

from __future__ import annotations

from mfakit.otp import HOTP, TOTP
from mfakit.testing import vectors


def test_vectors_all_is_pinned() -> None:
    """The public names of the vectors module are exactly these."""
    assert vectors.__all__ == [
        "HotpVector",
        "RFC4226_HOTP_VECTORS",
        "RFC4226_SECRET",
        "RFC6238_PERIOD",
        "RFC6238_SEEDS",
        "RFC6238_TOTP_VECTORS",
        "TotpVector",
        "WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE",
        "WEBAUTHN_TEST_VECTORS",
        "WEBAUTHN_TEST_VECTORS_SOURCE",
        "WebAuthnTestVector",
    ]


def test_docstring_recipe_checks_every_totp_vector() -> None:
    """The module docstring's recipe verifies all 18 RFC 6238 vectors."""
    assert len(vectors.RFC6238_TOTP_VECTORS) == 18
    for v in vectors.RFC6238_TOTP_VECTORS:
        totp = TOTP(v.secret, digits=v.digits, algorithm=v.algorithm, period=v.period)
        assert totp.at(v.time) == v.code


def test_hotp_vectors_are_the_ten_of_rfc_4226() -> None:
    """The ten RFC 4226 values, counters 0 to 9, all verify."""
    assert [v.counter for v in vectors.RFC4226_HOTP_VECTORS] == list(range(10))
    for v in vectors.RFC4226_HOTP_VECTORS:
        assert HOTP(v.secret, digits=v.digits).at(v.counter) == v.code
