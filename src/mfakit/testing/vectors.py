"""Published test vectors, as typed data, for mfakit's tests and yours.

* RFC 4226 Appendix D (HOTP) and RFC 6238 Appendix B (TOTP);
* the W3C WebAuthn Level 3 "Test Vectors" section (registrations and assertions
  for none, packed, fido-u2f, tpm, android-key and apple, with the attestation
  root certificate they chain to).

Each constant records where its values come from; ``tests/vectors/README.md``
lists the sources. Use them to check any HOTP/TOTP implementation::

    from mfakit.otp import TOTP
    from mfakit.testing.vectors import RFC6238_TOTP_VECTORS

    for v in RFC6238_TOTP_VECTORS:
        totp = TOTP(v.secret, digits=v.digits, algorithm=v.algorithm, period=v.period)
        assert totp.at(v.time) == v.code
"""

from __future__ import annotations

from mfakit.testing._otp_vectors import (
    RFC4226_HOTP_VECTORS,
    RFC4226_SECRET,
    RFC6238_PERIOD,
    RFC6238_SEEDS,
    RFC6238_TOTP_VECTORS,
    HotpVector,
    TotpVector,
)
from mfakit.testing._webauthn_vectors import (
    WEBAUTHN_ATTESTATION_ROOT_CERTIFICATE,
    WEBAUTHN_TEST_VECTORS,
    WEBAUTHN_TEST_VECTORS_SOURCE,
    WebAuthnTestVector,
)

__all__ = [
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
