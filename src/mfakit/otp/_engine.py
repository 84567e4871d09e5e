"""The HOTP engine shared by :class:`~mfakit.otp.HOTP` and :class:`~mfakit.otp.TOTP`.

RFC 4226 section 5.3: ``HOTP(K, C) = Truncate(HMAC-H(K, C)) mod 10^Digit``, where
``C`` is the 8-byte big-endian counter. The HMAC (RFC 2104) key schedule is done
once per object: the inner and outer padded keys are hashed into two hash
states, and each code costs two ``copy()``/``update()``/``digest()`` rounds, with
no key set-up and no algorithm lookup per call.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from hmac import compare_digest
from typing import TYPE_CHECKING, Final, Literal

from mfakit.errors import ConfigurationError

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = [
    "MAX_COUNTER",
    "MIN_SECRET_BYTES",
    "Algorithm",
    "OtpBase",
    "check_counter",
    "normalize_algorithm",
    "normalize_code",
    "pack_counter",
    "prepare_hmac",
    "unpack_u32",
]

#: The hash functions RFC 6238 section 1.2 allows (HMAC-SHA-1, -256, -512).
Algorithm = Literal["sha1", "sha256", "sha512"]

_CONSTRUCTORS: Final[dict[str, Callable[..., _Hash]]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}

#: The counter is an 8-byte unsigned integer (RFC 4226 section 5.1).
MAX_COUNTER: Final = (1 << 64) - 1

#: RFC 4226 section 4, requirement R6: the shared secret is at least 128 bits.
MIN_SECRET_BYTES: Final = 16

# RFC 2104 section 2: K XOR ipad and K XOR opad, as byte translation tables.
_IPAD: Final = bytes(b ^ 0x36 for b in range(256))
_OPAD: Final = bytes(b ^ 0x5C for b in range(256))

pack_counter: Final = struct.Struct(">Q").pack
unpack_u32: Final = struct.Struct(">I").unpack_from


def normalize_algorithm(algorithm: object) -> Algorithm:
    """Return the canonical lower-case algorithm name, or raise ConfigurationError."""
    if isinstance(algorithm, str):
        name = algorithm.lower()
        if name == "sha1":
            return "sha1"
        if name == "sha256":
            return "sha256"
        if name == "sha512":
            return "sha512"
    raise ConfigurationError("algorithm must be 'sha1', 'sha256' or 'sha512'")


def _check_secret(secret: object) -> bytes:
    if not isinstance(secret, bytes | bytearray | memoryview):
        raise ConfigurationError("the secret must be bytes (decode base32 text first)")
    raw = bytes(secret)
    if len(raw) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"the secret must be at least {MIN_SECRET_BYTES} bytes (RFC 4226 section 4, R6)"
        )
    return raw


def _check_digits(digits: object) -> int:
    if type(digits) is not int or not 6 <= digits <= 8:
        raise ConfigurationError("digits must be 6, 7 or 8")
    return digits


def check_counter(counter: object, what: str = "counter") -> int:
    """Return ``counter`` if it is an int in the 8-byte unsigned range, else raise."""
    if isinstance(counter, bool) or not isinstance(counter, int):
        raise ConfigurationError(f"{what} must be an int")
    if not 0 <= counter <= MAX_COUNTER:
        raise ConfigurationError(f"{what} must be between 0 and 2**64 - 1")
    return int(counter)


def prepare_hmac(key: bytes, algorithm: Algorithm) -> tuple[_Hash, _Hash]:
    """Return the hash states after absorbing ``K XOR ipad`` and ``K XOR opad`` (RFC 2104).

    ``HMAC(K, m) = H(K ^ opad || H(K ^ ipad || m))``: copying these two states
    and feeding them the rest is the whole per-message cost.
    """
    new = _CONSTRUCTORS[algorithm]
    block_size = new().block_size
    if len(key) > block_size:
        key = new(key).digest()
    padded = key.ljust(block_size, b"\0")
    return new(padded.translate(_IPAD)), new(padded.translate(_OPAD))


def normalize_code(code: object, digits: int) -> str | None:
    """Return ``code`` without whitespace if it is exactly ``digits`` ASCII digits.

    Anything else (other types, other characters, other lengths) is ``None``.
    """
    if not isinstance(code, str) or len(code) > 64:
        return None
    compact = "".join(code.split())
    if len(compact) != digits or not compact.isascii() or not compact.isdigit():
        return None
    return compact


class OtpBase:
    """What HOTP and TOTP share: the secret, the prepared key, the code format."""

    __slots__ = ("_algorithm", "_digits", "_format", "_inner", "_modulus", "_outer", "_secret")

    def __init__(self, secret: bytes, digits: int, algorithm: str) -> None:
        self._secret = _check_secret(secret)
        self._digits = _check_digits(digits)
        self._algorithm: Algorithm = normalize_algorithm(algorithm)
        self._inner, self._outer = prepare_hmac(self._secret, self._algorithm)
        self._modulus = 10**self._digits
        # "%0Nd" zero-pads to the code length (RFC 4226 section 5.3); measured
        # faster than str.format or an f-string here.
        self._format = f"%0{self._digits}d"

    @property
    def secret(self) -> bytes:
        """The shared secret (raw bytes). Keep it encrypted at rest."""
        return self._secret

    @property
    def digits(self) -> int:
        """The number of digits of a code (6, 7 or 8)."""
        return self._digits

    @property
    def algorithm(self) -> Algorithm:
        """The HMAC hash function: ``"sha1"``, ``"sha256"`` or ``"sha512"``."""
        return self._algorithm

    def _code(self, counter: int) -> str:
        """HOTP value for ``counter`` (RFC 4226 section 5.3), zero-padded."""
        inner = self._inner.copy()
        inner.update(pack_counter(counter))
        outer = self._outer.copy()
        outer.update(inner.digest())
        mac = outer.digest()
        # Dynamic truncation: the low 4 bits of the last byte pick 4 bytes, top bit masked.
        value: int = (unpack_u32(mac, mac[-1] & 0x0F)[0] & 0x7FFFFFFF) % self._modulus
        return self._format % value

    def _matches(self, counter: int, code: str) -> bool:
        return compare_digest(self._code(counter), code)

    def _same_key(self, other: OtpBase) -> bool:
        return (
            self._digits == other._digits
            and self._algorithm == other._algorithm
            and compare_digest(self._secret, other._secret)
        )
