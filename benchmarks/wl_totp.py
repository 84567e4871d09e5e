"""TOTP verification: mfakit and pyotp against one bare HMAC-SHA1 plus truncation.

Both workloads verify at a fixed time with SHA1, 6 digits and a window of 1, on
objects prepared once (as a server would keep them, e.g. in a cache).

* ``totp``: the current code; the least possible work is one HMAC, which is
  the reference (with the counter computed from the time, and the dynamic
  truncation of RFC 4226 section 5.3).
* ``totp-reject``: a wrong code; every step of the window must be tried, so
  three HMACs are unavoidable. The reference is still one HMAC: a ratio of
  about 0.33x or more shows the rejection costs at most three HMACs' worth.
"""

from __future__ import annotations

import hmac
import struct

import pyotp
from _harness import Impl, Workload

from mfakit.otp import TOTP, encode_base32

SECRET = bytes(range(1, 21))
NOW = 1_700_000_015
PERIOD = 30
_unpack = struct.Struct(">I").unpack_from


def _require(ok: bool) -> None:
    # Not "assert": the self-check must also run under python -O.
    if not ok:
        raise AssertionError("self-check failed")


def _reference_code(key: bytes, for_time: int) -> int:
    counter = (for_time // PERIOD).to_bytes(8, "big")
    mac = hmac.digest(key, counter, "sha1")
    return (_unpack(mac, mac[-1] & 0x0F)[0] & 0x7FFFFFFF) % 1_000_000


def _reference() -> Impl:
    key = bytes(SECRET)

    def op() -> object:
        return _reference_code(key, NOW)

    def check() -> None:
        expected = int(TOTP(SECRET).at(NOW))
        _require(_reference_code(key, NOW) == expected)
        _require(_reference_code(key, NOW + PERIOD) != expected)

    return Impl(name="hmac.digest + truncate", op=op, check=check)


def _impls(code: str) -> list[Impl]:
    totp = TOTP(SECRET)
    good = totp.at(NOW)
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    verify = totp.verify

    def mfakit_op() -> object:
        return verify(code, for_time=NOW, window=1)

    def mfakit_check() -> None:
        _require(verify(good, for_time=NOW, window=1) == NOW // PERIOD)
        _require(verify(bad, for_time=NOW, window=1) is None)

    peer = pyotp.TOTP(encode_base32(SECRET))
    peer_verify = peer.verify

    def pyotp_op() -> object:
        return peer_verify(code, for_time=NOW, valid_window=1)

    def pyotp_check() -> None:
        _require(peer_verify(good, for_time=NOW, valid_window=1))
        _require(not peer_verify(bad, for_time=NOW, valid_window=1))

    return [
        Impl(name="mfakit", op=mfakit_op, check=mfakit_check),
        Impl(name="pyotp", op=pyotp_op, check=pyotp_check),
    ]


def workloads() -> list[Workload]:
    """The accept and reject TOTP workloads."""
    totp = TOTP(SECRET)
    good = totp.at(NOW)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    _require(all(totp.at(NOW + d * PERIOD) != wrong for d in (-1, 0, 1)))
    return [
        Workload(
            name="totp",
            description="verify the current code (SHA1, 6 digits, window 1)",
            reference=_reference(),
            impls=_impls(good),
            targets={"mfakit": 1.0},
            peer_targets={("mfakit", "pyotp"): 1.0},
        ),
        Workload(
            name="totp-reject",
            description="reject a wrong code (3 steps tried; reference is ONE HMAC)",
            reference=_reference(),
            impls=_impls(wrong),
            targets={"mfakit": 1 / 3},
            peer_targets={("mfakit", "pyotp"): 1.0},
        ),
    ]
