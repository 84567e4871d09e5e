"""Parsing ``otpauth://`` URIs (the Key URI format used by Google Authenticator)."""

from __future__ import annotations

import dataclasses
import re
from typing import Final, Literal
from urllib.parse import unquote, unquote_plus

from mfakit.errors import ConfigurationError, MalformedDataError
from mfakit.otp._base32 import decode_base32
from mfakit.otp._engine import MAX_COUNTER, MIN_SECRET_BYTES, normalize_algorithm
from mfakit.otp._hotp import HOTP
from mfakit.otp._totp import TOTP

__all__ = ["MAX_URI_LENGTH", "OtpAuthUri", "parse_uri"]

#: Longer input is refused before any parsing (a QR code holds at most ~4 kB).
MAX_URI_LENGTH: Final = 4096

_URI_RE: Final = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<kind>[^/?#]*)(?P<rest>.*)", re.S
)
_DECIMAL_RE: Final = re.compile(r"[0-9]{1,20}")
_KNOWN: Final = frozenset({"secret", "issuer", "algorithm", "digits", "period", "counter"})


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class OtpAuthUri:
    """A parsed ``otpauth://`` URI.

    Attributes:
        kind: ``"totp"`` or ``"hotp"``.
        otp: The ready-to-use :class:`~mfakit.otp.TOTP` or :class:`~mfakit.otp.HOTP`
            (its ``repr`` never shows the secret).
        account_name: The label's account part, decoded.
        issuer: The issuer from the label or the ``issuer`` parameter, or ``None``.
        counter: For HOTP, the initial counter; ``None`` for TOTP.
    """

    kind: Literal["totp", "hotp"]
    otp: TOTP | HOTP
    account_name: str
    issuer: str | None = None
    counter: int | None = None

    def to_uri(self) -> str:
        """Build the URI again, in mfakit's canonical form.

        Raises:
            ConfigurationError: there is no issuer (mfakit always writes one).
        """
        if self.issuer is None:
            raise ConfigurationError("an issuer is required to build a URI")
        if isinstance(self.otp, HOTP):
            return self.otp.uri(
                account_name=self.account_name, issuer=self.issuer, counter=self.counter or 0
            )
        return self.otp.uri(account_name=self.account_name, issuer=self.issuer)


def _fail(message: str, field: str) -> MalformedDataError:
    return MalformedDataError(message, field=field)


def _decode(text: str, field: str, *, plus_is_space: bool) -> str:
    try:
        decode = unquote_plus if plus_is_space else unquote
        return decode(text, errors="strict")
    except UnicodeDecodeError as exc:
        raise _fail(f"the {field} is not valid percent-encoded UTF-8", field) from exc


def _int_param(value: str, field: str) -> int:
    if not _DECIMAL_RE.fullmatch(value):
        raise _fail(f"the {field} parameter must be a decimal number", field)
    return int(value)


def _split_label(path: str) -> tuple[str, str | None]:
    if not path.startswith("/") or len(path) == 1:
        raise _fail("the URI has no label (issuer:account)", "label")
    label = _decode(path[1:], "label", plus_is_space=False)
    issuer: str | None = None
    account = label
    if ":" in label:
        # Neither part may contain a colon: the first one is the separator.
        issuer, account = label.split(":", 1)
        account = account.lstrip(" ")
        if not issuer:
            raise _fail("the label has an empty issuer", "label")
    if not account.strip():
        raise _fail("the label has no account name", "label")
    return account, issuer


def _query(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    if not query:
        return params
    for pair in query.split("&"):
        if not pair:
            continue
        raw_key, sep, raw_value = pair.partition("=")
        key = _decode(raw_key, "query", plus_is_space=True)
        if key not in _KNOWN:
            continue  # e.g. "image" or "color": app-specific extras are ignored
        if not sep:
            raise _fail(f"the {key} parameter has no value", key)
        if key in params:
            raise _fail(f"the {key} parameter appears twice", key)
        params[key] = _decode(raw_value, key, plus_is_space=True)
    return params


def parse_uri(uri: str) -> OtpAuthUri:
    """Parse an ``otpauth://totp/...`` or ``otpauth://hotp/...`` URI, strictly.

    Unknown parameters (``image``, ``color``, ...) are ignored; everything that
    sets up the codes is checked.

    Args:
        uri: The URI, e.g. read from a QR code.

    Returns:
        The parsed URI, with a ready :class:`~mfakit.otp.TOTP` or
        :class:`~mfakit.otp.HOTP` in ``otp``.

    Raises:
        MalformedDataError: with ``field`` naming what is wrong: ``uri``
            (not a string, too long, control characters, a fragment),
            ``scheme``, ``type``, ``label``, ``secret`` (missing, not base32,
            shorter than 16 bytes), ``algorithm``, ``digits``, ``period``,
            ``counter`` (missing for HOTP, not allowed for TOTP), ``issuer``
            (differs between label and parameter, or empty), ``query`` (a
            parameter name that is not UTF-8), or the name of a duplicated
            parameter.

    Example::

        >>> parsed = parse_uri(
        ...     "otpauth://totp/ACME%20Co:alice@example.com"
        ...     "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co"
        ... )
        >>> parsed.issuer, parsed.account_name
        ('ACME Co', 'alice@example.com')
    """
    if not isinstance(uri, str):
        raise _fail("the URI must be a string", "uri")
    if len(uri) > MAX_URI_LENGTH:
        raise _fail("the URI is too long", "uri")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in uri):
        raise _fail("the URI contains control characters", "uri")
    match = _URI_RE.fullmatch(uri)
    if match is None or match["scheme"].lower() != "otpauth":
        raise _fail("not an otpauth:// URI", "scheme")
    kind = match["kind"].lower()
    if kind not in ("totp", "hotp"):
        raise _fail("the OTP type must be totp or hotp", "type")
    rest = match["rest"]
    if "#" in rest:
        raise _fail("an otpauth URI has no fragment", "uri")
    path, _, query = rest.partition("?")
    account_name, label_issuer = _split_label(path)
    params = _query(query)

    issuer = params.get("issuer")
    if issuer is not None and label_issuer is not None and issuer != label_issuer:
        raise _fail("the issuer differs between the label and the issuer parameter", "issuer")
    if issuer is None:
        issuer = label_issuer
    if issuer is not None and not issuer:
        raise _fail("the issuer is empty", "issuer")

    if "secret" not in params or not params["secret"].strip():
        raise _fail("the URI has no secret", "secret")
    try:
        secret = decode_base32(params["secret"])
    except MalformedDataError as exc:
        raise _fail("the secret is not valid base32", "secret") from exc
    if len(secret) < MIN_SECRET_BYTES:
        raise _fail(f"the secret is shorter than {MIN_SECRET_BYTES} bytes", "secret")

    try:
        algorithm = normalize_algorithm(params.get("algorithm", "sha1"))
    except ConfigurationError as exc:
        raise _fail("unsupported algorithm (SHA1, SHA256 or SHA512)", "algorithm") from exc

    digits = _int_param(params["digits"], "digits") if "digits" in params else 6
    if not 6 <= digits <= 8:
        raise _fail("digits must be 6, 7 or 8", "digits")

    if kind == "totp":
        if "counter" in params:
            raise _fail("a totp URI has no counter", "counter")
        period = _int_param(params["period"], "period") if "period" in params else 30
        if period < 1:
            raise _fail("the period must be a positive number of seconds", "period")
        totp = TOTP(secret, digits=digits, period=period, algorithm=algorithm)
        return OtpAuthUri(kind="totp", otp=totp, account_name=account_name, issuer=issuer)

    if "period" in params:
        raise _fail("a hotp URI has no period", "period")
    if "counter" not in params:
        raise _fail("a hotp URI needs a counter", "counter")
    counter = _int_param(params["counter"], "counter")
    if counter > MAX_COUNTER:
        raise _fail("the counter does not fit in 8 bytes", "counter")
    hotp = HOTP(secret, digits=digits, algorithm=algorithm)
    return OtpAuthUri(
        kind="hotp", otp=hotp, account_name=account_name, issuer=issuer, counter=counter
    )
