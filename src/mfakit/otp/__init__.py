"""One-time passwords: HOTP (RFC 4226), TOTP (RFC 6238) and ``otpauth://`` URIs.

The objects here are pure: they never read the clock (pass ``for_time``) and
never store anything. Replay protection is the caller's half of the contract:
:meth:`TOTP.verify` returns the matched time step, the caller stores it
atomically and passes it back as ``after_step``.

Example::

    from mfakit.otp import TOTP, generate_secret

    secret = generate_secret()               # store it encrypted (mfakit.secretbox)
    totp = TOTP(secret)
    uri = totp.uri(account_name="alice@example.com", issuer="ACME")
    step = totp.verify(user_input, for_time=clock.now(), after_step=last_step)
    if step is not None:
        last_step = step                     # accept, and never again for this step

Also exported: the bounds ``MAX_WINDOW`` (10, for :meth:`TOTP.verify`),
``MAX_LOOK_AHEAD`` (100, for :meth:`HOTP.verify`) and ``MAX_URI_LENGTH`` (4096
characters, for :func:`parse_uri`); the types ``Algorithm``
(``"sha1" | "sha256" | "sha512"``) and ``TimeInput`` (``int | float | datetime``).
"""

from __future__ import annotations

from mfakit.otp._base32 import decode_base32, encode_base32, generate_secret
from mfakit.otp._engine import Algorithm
from mfakit.otp._hotp import HOTP, MAX_LOOK_AHEAD
from mfakit.otp._totp import MAX_WINDOW, TOTP, TimeInput
from mfakit.otp._uri import MAX_URI_LENGTH, OtpAuthUri, parse_uri

__all__ = [
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
