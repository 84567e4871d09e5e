"""HOTP: the counter-based one-time password of RFC 4226."""

from __future__ import annotations

from typing import Final

from mfakit.errors import ConfigurationError
from mfakit.otp._engine import MAX_COUNTER, OtpBase, check_counter, normalize_code
from mfakit.otp._keyuri import build_uri

__all__ = ["HOTP", "MAX_LOOK_AHEAD"]

#: The largest ``look_ahead`` :meth:`HOTP.verify` accepts (RFC 4226 section 7.4's
#: resynchronization window ``s``; a bigger one only helps attackers).
MAX_LOOK_AHEAD: Final = 100


class HOTP(OtpBase):
    """An HOTP generator and verifier (RFC 4226) for one shared secret.

    The HMAC key schedule is prepared once, in the constructor; each code costs
    one HMAC.

    Args:
        secret: The shared secret, raw bytes, at least 16 (RFC 4226 section 4, R6).
        digits: Code length, 6, 7 or 8.
        algorithm: ``"sha1"`` (the default every app supports), ``"sha256"`` or ``"sha512"``.

    Raises:
        ConfigurationError: an argument is invalid.

    Example::

        >>> hotp = HOTP(b"12345678901234567890")
        >>> hotp.at(0)
        '755224'
        >>> hotp.verify("287082", counter=0, look_ahead=2)
        1
    """

    __slots__ = ()

    def __init__(self, secret: bytes, *, digits: int = 6, algorithm: str = "sha1") -> None:
        super().__init__(secret, digits, algorithm)

    def at(self, counter: int) -> str:
        """Return the code for ``counter``, zero-padded to :attr:`digits`.

        Raises:
            ConfigurationError: ``counter`` is not an int in ``[0, 2**64)``.
        """
        return self._code(check_counter(counter))

    def verify(self, code: object, *, counter: int, look_ahead: int = 0) -> int | None:
        """Check ``code`` against ``counter``, ``counter + 1``, ... ``counter + look_ahead``.

        Comparison is constant-time. Whitespace in ``code`` is ignored; anything
        that is not exactly :attr:`digits` ASCII digits is simply no match.

        Args:
            code: What the user typed.
            counter: The next counter value the server expects.
            look_ahead: How many further counter values to accept (0 to 100).

        Returns:
            The counter value that matched (store ``result + 1`` as the next
            expected counter), or ``None``.

        Raises:
            ConfigurationError: ``counter`` or ``look_ahead`` is invalid.
        """
        first = check_counter(counter)
        if type(look_ahead) is not int or not 0 <= look_ahead <= MAX_LOOK_AHEAD:
            raise ConfigurationError(f"look_ahead must be an int from 0 to {MAX_LOOK_AHEAD}")
        typed = normalize_code(code, self._digits)
        if typed is None:
            return None
        for candidate in range(first, min(first + look_ahead, MAX_COUNTER) + 1):
            if self._matches(candidate, typed):
                return candidate
        return None

    def uri(self, *, account_name: str, issuer: str, counter: int) -> str:
        """Return the ``otpauth://hotp/...`` URI for enrolling an authenticator app.

        Args:
            account_name: Shown in the app, e.g. the user's e-mail.
            issuer: Your service's name; must not contain ``:``.
            counter: The counter value the app starts from.

        Raises:
            ConfigurationError: an argument is invalid.
        """
        return build_uri(
            kind="hotp",
            secret=self._secret,
            account_name=account_name,
            issuer=issuer,
            algorithm=self._algorithm,
            digits=self._digits,
            counter=check_counter(counter),
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not HOTP:
            return NotImplemented
        return self._same_key(other)

    def __hash__(self) -> int:
        return hash((HOTP, self._digits, self._algorithm))

    def __repr__(self) -> str:
        return f"HOTP(digits={self._digits}, algorithm={self._algorithm!r})"
