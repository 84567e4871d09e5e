"""Published HOTP and TOTP test vectors, as typed frozen data.

Sources (values copied exactly, see ``tests/vectors/README.md``):

* RFC 4226, "HOTP: An HMAC-Based One-Time Password Algorithm", Appendix D
  ("HOTP Algorithm: Test Values"): the secret is the ASCII string
  ``"12345678901234567890"``, HMAC-SHA-1, 6 digits, counters 0 to 9.
  https://www.rfc-editor.org/rfc/rfc4226#appendix-D
* RFC 6238, "TOTP: Time-Based One-Time Password Algorithm", Appendix B
  ("Test Vectors"): X = 30 seconds, T0 = 0, 8 digits, HMAC-SHA-1, -256 and -512.
  https://www.rfc-editor.org/rfc/rfc6238#appendix-B

  Appendix B's prose names only the 20-byte seed, but its table was produced by
  the Appendix A reference code, which uses a seed of the hash's length for
  each mode: ``"12345678901234567890"`` repeated and cut to 20 bytes (SHA-1),
  32 bytes (SHA-256) and 64 bytes (SHA-512). RFC 6238 erratum 2866 records this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = [
    "RFC4226_HOTP_VECTORS",
    "RFC4226_SECRET",
    "RFC6238_PERIOD",
    "RFC6238_SEEDS",
    "RFC6238_TOTP_VECTORS",
    "HotpVector",
    "TotpVector",
]

#: RFC 4226 Appendix D: the ASCII string "12345678901234567890" (0x3132...3930).
RFC4226_SECRET: Final = b"12345678901234567890"

#: RFC 6238 Appendix A/B: the seed per hash function (see the module docstring).
RFC6238_SEEDS: Final[dict[str, bytes]] = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}

_Mode = Literal["sha1", "sha256", "sha512"]

#: RFC 6238 Appendix B: the time step X, in seconds (T0 is 0).
RFC6238_PERIOD: Final = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class HotpVector:
    """One HOTP test value: ``HOTP(secret, counter) == code``.

    Attributes:
        secret: The shared secret (raw bytes).
        counter: The counter value C.
        code: The expected HOTP value, zero-padded.
        digits: The code length.
        algorithm: The HMAC hash function.
        source: Where the value is published.
    """

    secret: bytes = field(repr=False)
    counter: int
    code: str
    digits: int = 6
    algorithm: _Mode = "sha1"
    source: str = "RFC 4226 Appendix D"


@dataclass(frozen=True, slots=True, kw_only=True)
class TotpVector:
    """One TOTP test value: ``TOTP(secret, period=30, t0=0).at(time) == code``.

    Attributes:
        secret: The shared secret for this algorithm (raw bytes).
        time: Unix time in seconds.
        step: The time step T, as RFC 6238 prints it (in hex there).
        code: The expected TOTP value, zero-padded.
        algorithm: The HMAC hash function.
        digits: The code length.
        period: The time step X in seconds.
        source: Where the value is published.
    """

    secret: bytes = field(repr=False)
    time: int
    step: int
    code: str
    algorithm: _Mode
    digits: int = 8
    period: int = RFC6238_PERIOD
    source: str = "RFC 6238 Appendix B"


#: RFC 4226 Appendix D, Table 2 ("Truncated" values, column "HOTP").
RFC4226_HOTP_VECTORS: Final[tuple[HotpVector, ...]] = tuple(
    HotpVector(secret=RFC4226_SECRET, counter=counter, code=code)
    for counter, code in (
        (0, "755224"),
        (1, "287082"),
        (2, "359152"),
        (3, "969429"),
        (4, "338314"),
        (5, "254676"),
        (6, "287922"),
        (7, "162583"),
        (8, "399871"),
        (9, "520489"),
    )
)

# RFC 6238 Appendix B, the table's 18 rows in the RFC's order:
# (Time (sec), Value of T (hex), TOTP, Mode).
_RFC6238_ROWS: Final[tuple[tuple[int, int, str, _Mode], ...]] = (
    (59, 0x0000000000000001, "94287082", "sha1"),
    (59, 0x0000000000000001, "46119246", "sha256"),
    (59, 0x0000000000000001, "90693936", "sha512"),
    (1111111109, 0x00000000023523EC, "07081804", "sha1"),
    (1111111109, 0x00000000023523EC, "68084774", "sha256"),
    (1111111109, 0x00000000023523EC, "25091201", "sha512"),
    (1111111111, 0x00000000023523ED, "14050471", "sha1"),
    (1111111111, 0x00000000023523ED, "67062674", "sha256"),
    (1111111111, 0x00000000023523ED, "99943326", "sha512"),
    (1234567890, 0x000000000273EF07, "89005924", "sha1"),
    (1234567890, 0x000000000273EF07, "91819424", "sha256"),
    (1234567890, 0x000000000273EF07, "93441116", "sha512"),
    (2000000000, 0x0000000003F940AA, "69279037", "sha1"),
    (2000000000, 0x0000000003F940AA, "90698825", "sha256"),
    (2000000000, 0x0000000003F940AA, "38618901", "sha512"),
    (20000000000, 0x0000000027BC86AA, "65353130", "sha1"),
    (20000000000, 0x0000000027BC86AA, "77737706", "sha256"),
    (20000000000, 0x0000000027BC86AA, "47863826", "sha512"),
)
RFC6238_TOTP_VECTORS: Final[tuple[TotpVector, ...]] = tuple(
    TotpVector(secret=RFC6238_SEEDS[mode], time=time, step=step, code=code, algorithm=mode)
    for time, step, code, mode in _RFC6238_ROWS
)
