"""TOTP: the time-based one-time password of RFC 6238."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from hmac import compare_digest
from typing import Final, TypeAlias

from mfakit.clock import ensure_aware
from mfakit.errors import ConfigurationError
from mfakit.otp._engine import (
    MAX_COUNTER,
    OtpBase,
    check_counter,
    normalize_code,
    pack_counter,
    unpack_u32,
)
from mfakit.otp._keyuri import build_uri

__all__ = ["MAX_WINDOW", "TOTP", "TimeInput"]

#: What a time argument may be: Unix seconds (int or float) or an aware datetime.
TimeInput: TypeAlias = int | float | datetime

#: The largest ``window`` :meth:`TOTP.verify` accepts. RFC 6238 section 5.2
#: recommends at most one step of delay; ten steps either side is already generous.
MAX_WINDOW: Final = 10

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND: Final = timedelta(seconds=1)

# Offsets in the order verify tries them: the current step, then -1, +1, -2, +2, ...
_OFFSETS: Final = tuple(
    (0, *(o for d in range(1, w + 1) for o in (-d, d))) for w in range(MAX_WINDOW + 1)
)


def _whole_seconds(for_time: object) -> int:
    """Floor of the Unix time in seconds, exactly (no float rounding for datetimes)."""
    if isinstance(for_time, datetime):
        return (ensure_aware(for_time) - _EPOCH) // _SECOND
    if isinstance(for_time, bool):
        raise ConfigurationError("a time must be Unix seconds or an aware datetime, not a bool")
    if isinstance(for_time, int):
        return int(for_time)
    if isinstance(for_time, float):
        if not math.isfinite(for_time):
            raise ConfigurationError("a time must be a finite number")
        return math.floor(for_time)
    raise ConfigurationError("a time must be Unix seconds (int or float) or an aware datetime")


class TOTP(OtpBase):
    """A TOTP generator and verifier (RFC 6238) for one shared secret.

    ``T = floor((unix_time - t0) / period)`` and the code is ``HOTP(secret, T)``.
    The HMAC key schedule is prepared once, in the constructor: verifying the
    current code costs one HMAC, a rejected code with ``window=1`` three.

    Args:
        secret: The shared secret, raw bytes, at least 16 (RFC 4226 section 4, R6).
            Use :func:`~mfakit.otp.decode_base32` for a typed key.
        digits: Code length, 6, 7 or 8.
        period: The time step in seconds (RFC 6238's X), any positive int.
        algorithm: ``"sha1"`` (the default every app supports), ``"sha256"`` or ``"sha512"``.
        t0: The Unix time at which counting starts (RFC 6238's T0).

    Raises:
        ConfigurationError: an argument is invalid.

    Example::

        >>> totp = TOTP(b"12345678901234567890", digits=8)
        >>> totp.at(59)
        '94287082'
        >>> totp.verify("94287082", for_time=59)
        1
        >>> totp.verify("94287082", for_time=59, after_step=1) is None
        True
    """

    __slots__ = ("_period", "_t0")

    def __init__(
        self,
        secret: bytes,
        *,
        digits: int = 6,
        period: int = 30,
        algorithm: str = "sha1",
        t0: int = 0,
    ) -> None:
        super().__init__(secret, digits, algorithm)
        if type(period) is not int or period < 1:
            raise ConfigurationError("period must be a positive int (seconds)")
        if type(t0) is not int:
            raise ConfigurationError("t0 must be an int (Unix seconds)")
        self._period = period
        self._t0 = t0

    @property
    def period(self) -> int:
        """The time step in seconds."""
        return self._period

    @property
    def t0(self) -> int:
        """The Unix time at which step 0 starts."""
        return self._t0

    def step(self, for_time: TimeInput) -> int:
        """Return the time step (RFC 6238's T) that ``for_time`` falls in.

        Args:
            for_time: Unix seconds (int or float) or an aware datetime.

        Raises:
            ConfigurationError: a naive datetime, another type, or a time before
                ``t0`` or beyond the 8-byte counter.
        """
        step = (_whole_seconds(for_time) - self._t0) // self._period
        if not 0 <= step <= MAX_COUNTER:
            raise ConfigurationError("the time is before t0 or too far in the future")
        return step

    def remaining(self, for_time: TimeInput) -> float:
        """Return the seconds left before the code of ``for_time`` changes.

        Raises:
            ConfigurationError: as for :meth:`step`.
        """
        step = self.step(for_time)
        end = self._t0 + (step + 1) * self._period
        now = (
            (ensure_aware(for_time) - _EPOCH) / _SECOND
            if isinstance(for_time, datetime)
            else for_time
        )
        return float(end - now)

    def at(self, for_time: TimeInput) -> str:
        """Return the code valid at ``for_time``, zero-padded to :attr:`digits`.

        Args:
            for_time: Unix seconds (int or float) or an aware datetime.

        Raises:
            ConfigurationError: as for :meth:`step`.
        """
        return self._code(self.step(for_time))

    def at_step(self, step: int) -> str:
        """Return the code of time step ``step``.

        Raises:
            ConfigurationError: ``step`` is not an int in ``[0, 2**64)``.
        """
        return self._code(check_counter(step, "step"))

    def verify(
        self,
        code: object,
        *,
        for_time: TimeInput,
        window: int = 1,
        after_step: int | None = None,
    ) -> int | None:
        """Check a code typed by the user; return the time step it matched, or ``None``.

        The current step is tried first, then its neighbours ``-1, +1, -2, +2``
        and so on up to ``window``. A step less than or equal to ``after_step``
        never matches: store the returned step and pass it back as
        ``after_step`` next time, so each code is accepted at most once (RFC
        6238 section 5.2). Comparison is constant-time.

        Whitespace in ``code`` is ignored; anything that is not exactly
        :attr:`digits` ASCII digits (another type, letters, a wrong length) is
        simply no match, never an exception.

        Args:
            code: What the user typed.
            for_time: The current time: Unix seconds or an aware datetime.
            window: How many steps either side of the current one to accept,
                0 to 10. 1 allows for a code typed just before it changed and
                for a little clock drift.
            after_step: The step of the last accepted code for this secret.

        Returns:
            The matched time step, or ``None``.

        Raises:
            ConfigurationError: ``for_time``, ``window`` or ``after_step`` is
                invalid (these come from the application, not the user).
        """
        # Fast path for the usual call: int seconds, a well-formed code.
        if type(for_time) is int and for_time >= self._t0:
            step = (for_time - self._t0) // self._period
            if step > MAX_COUNTER:
                raise ConfigurationError("the time is too far in the future")
        else:
            step = self.step(for_time)
        if type(window) is not int or not 0 <= window <= MAX_WINDOW:
            raise ConfigurationError(f"window must be an int from 0 to {MAX_WINDOW}")
        if after_step is None:
            floor = -1
        elif type(after_step) is int:
            floor = after_step
        else:
            raise ConfigurationError("after_step must be an int or None")
        if type(code) is not str or len(code) != self._digits or not code.isdigit():
            typed = normalize_code(code, self._digits)
            if typed is None:
                return None
        elif not code.isascii():
            return None
        else:
            typed = code
        # The HOTP computation of OtpBase._code, inlined: this loop is the hot path.
        inner, outer, fmt, modulus = self._inner, self._outer, self._format, self._modulus
        for offset in _OFFSETS[window]:
            candidate = step + offset
            if candidate <= floor or candidate > MAX_COUNTER:
                continue
            h = inner.copy()
            h.update(pack_counter(candidate))
            o = outer.copy()
            o.update(h.digest())
            mac = o.digest()
            value = (unpack_u32(mac, mac[-1] & 0x0F)[0] & 0x7FFFFFFF) % modulus
            if compare_digest(fmt % value, typed):
                return candidate
        return None

    def uri(self, *, account_name: str, issuer: str) -> str:
        """Return the ``otpauth://totp/...`` URI for enrolling an authenticator app.

        The label is ``issuer:account_name`` and the issuer is repeated as a
        parameter, both percent-escaped; the secret is unpadded base32.

        Args:
            account_name: Shown in the app, e.g. the user's e-mail.
            issuer: Your service's name; must not contain ``:``.

        Raises:
            ConfigurationError: an argument is invalid, or ``t0`` is not 0
                (the Key URI format cannot express it).
        """
        if self._t0 != 0:
            raise ConfigurationError("an otpauth URI cannot carry t0; only t0=0 can be enrolled")
        return build_uri(
            kind="totp",
            secret=self._secret,
            account_name=account_name,
            issuer=issuer,
            algorithm=self._algorithm,
            digits=self._digits,
            period=self._period,
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not TOTP:
            return NotImplemented
        return self._period == other._period and self._t0 == other._t0 and self._same_key(other)

    def __hash__(self) -> int:
        return hash((TOTP, self._digits, self._algorithm, self._period, self._t0))

    def __repr__(self) -> str:
        return (
            f"TOTP(digits={self._digits}, period={self._period}, "
            f"algorithm={self._algorithm!r}, t0={self._t0})"
        )
