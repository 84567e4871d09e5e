"""Building ``otpauth://`` URIs in the Key URI format of Google Authenticator.

``otpauth://TYPE/LABEL?PARAMETERS`` where LABEL is ``issuer:account`` and the
parameters are ``secret`` (unpadded base32), ``issuer``, then ``algorithm``,
``digits`` and ``period``/``counter`` when they differ from the defaults that
every app assumes (SHA1, 6 digits, 30 seconds). Omitting defaults keeps the
QR code small and avoids apps that mishandle explicit values.
"""

from __future__ import annotations

from typing import Final, Literal
from urllib.parse import quote

from mfakit.errors import ConfigurationError
from mfakit.otp._base32 import encode_base32

__all__ = ["build_uri", "check_label_parts"]

# "@" is a legal path character (RFC 3986 pchar) and keeps e-mail labels readable.
_LABEL_SAFE: Final = "@"


def check_label_parts(account_name: object, issuer: object) -> tuple[str, str]:
    """Validate the label parts, raising ConfigurationError."""
    if not isinstance(issuer, str) or not issuer.strip():
        raise ConfigurationError("issuer must be a non-empty string")
    if ":" in issuer:
        # The label's first colon separates issuer from account (Key URI format).
        raise ConfigurationError("issuer must not contain ':'")
    if not isinstance(account_name, str) or not account_name.strip():
        raise ConfigurationError("account_name must be a non-empty string")
    if account_name[0].isspace():
        # Spaces after the label's colon are ignored by readers (Key URI format).
        raise ConfigurationError("account_name must not start with whitespace")
    return account_name, issuer


def build_uri(
    *,
    kind: Literal["totp", "hotp"],
    secret: bytes,
    account_name: str,
    issuer: str,
    algorithm: str,
    digits: int,
    period: int | None = None,
    counter: int | None = None,
) -> str:
    """Return the ``otpauth://`` URI; arguments were validated by the caller's object."""
    account_name, issuer = check_label_parts(account_name, issuer)
    label = quote(issuer, safe=_LABEL_SAFE) + ":" + quote(account_name, safe=_LABEL_SAFE)
    params = [("secret", encode_base32(secret)), ("issuer", issuer)]
    if algorithm != "sha1":
        params.append(("algorithm", algorithm.upper()))
    if digits != 6:
        params.append(("digits", str(digits)))
    if period is not None and period != 30:
        params.append(("period", str(period)))
    if counter is not None:
        params.append(("counter", str(counter)))
    query = "&".join(f"{key}={quote(value, safe='')}" for key, value in params)
    return f"otpauth://{kind}/{label}?{query}"
