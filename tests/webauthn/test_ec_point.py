"""The pure-Python EC point check agrees with OpenSSL's, point by point.

``_cose.ec_point_on_curve`` replaced OpenSSL's SubjectPublicKeyInfo decoder as
the registration-time check of an ES256/ES384/ES512 credential key. Every case
below asks both and demands the same answer: real points, their negations,
points nudged off the curve, coordinates at or above the field prime, and
random coordinates.
"""

from __future__ import annotations

import copy
from typing import Any
from unittest import mock

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfakit.webauthn import _cose

# alg: (curve class, coordinate length in bytes)
_CURVES: dict[int, tuple[type[ec.EllipticCurve], int]] = {
    -7: (ec.SECP256R1, 32),
    -35: (ec.SECP384R1, 48),
    -36: (ec.SECP521R1, 66),
}
_ALGS = sorted(_CURVES)


def _openssl_accepts(alg: int, x: bytes, y: bytes) -> bool:
    """Whether OpenSSL loads the uncompressed point as a public key of ``alg``'s curve."""
    try:
        serialization.load_der_public_key(_cose._EC_SPKI_PREFIX[alg] + x + y)
    except ValueError:
        return False
    return True


def _agree(alg: int, x: bytes, y: bytes) -> bool:
    """Both checks' common answer; fails the test when they differ."""
    ours = _cose.ec_point_on_curve(alg, x, y)
    assert ours == _openssl_accepts(alg, x, y), (alg, x.hex(), y.hex())
    return ours


def _enc(alg: int, value: int) -> bytes:
    return value.to_bytes(_CURVES[alg][1], "big")


def _point(alg: int) -> tuple[int, int]:
    """A fresh public point of ``alg``'s curve."""
    nums = ec.generate_private_key(_CURVES[alg][0]()).public_key().public_numbers()
    return nums.x, nums.y


def _prime(alg: int) -> int:
    return _cose._EC_EQUATION[alg][0]


def _small_x_point(alg: int) -> tuple[int, int]:
    """The on-curve point with the smallest x (each prime is 3 mod 4, so sqrt is a power)."""
    p, b = _cose._EC_EQUATION[alg]
    assert p % 4 == 3
    for x in range(1000):
        rhs = (x * x * x - 3 * x + b) % p
        y = pow(rhs, (p + 1) // 4, p)
        if y * y % p == rhs:
            return x, y
    raise AssertionError("no small x found")  # pragma: no cover - one exists below 10


@pytest.mark.parametrize("alg", _ALGS)
def test_generated_points_are_on_curve(alg: int) -> None:
    """Public points of freshly generated keys are accepted by both checks."""
    for _ in range(5):
        x, y = _point(alg)
        assert _agree(alg, _enc(alg, x), _enc(alg, y))


@pytest.mark.parametrize("alg", _ALGS)
def test_negated_points_are_on_curve(alg: int) -> None:
    """(x, p - y) is the negated point, valid for both checks."""
    x, y = _point(alg)
    assert _agree(alg, _enc(alg, x), _enc(alg, _prime(alg) - y))


@pytest.mark.parametrize("alg", _ALGS)
def test_nudged_points_are_off_curve(alg: int) -> None:
    """(x, y+1) and (x+1, y) are refused by both checks."""
    x, y = _point(alg)
    p = _prime(alg)
    assert not _agree(alg, _enc(alg, x), _enc(alg, (y + 1) % p))
    assert not _agree(alg, _enc(alg, (x + 1) % p), _enc(alg, y))


@pytest.mark.parametrize("alg", _ALGS)
def test_small_x_point_is_on_curve(alg: int) -> None:
    """The on-curve point found by square root (small x) is accepted by both checks."""
    x, y = _small_x_point(alg)
    assert _agree(alg, _enc(alg, x), _enc(alg, y))
    assert _agree(alg, _enc(alg, x), _enc(alg, _prime(alg) - y))


@pytest.mark.parametrize("alg", _ALGS)
def test_coordinates_at_or_above_prime_are_refused(alg: int) -> None:
    """x + p and y + p (congruent to a real point) and x = p are refused by both checks."""
    p = _prime(alg)
    size = _CURVES[alg][1]
    x, y = _small_x_point(alg)
    assert x + p < 256**size
    assert not _agree(alg, _enc(alg, x + p), _enc(alg, y))
    if y + p < 256**size:
        assert not _agree(alg, _enc(alg, x), _enc(alg, y + p))
    assert not _agree(alg, _enc(alg, p), _enc(alg, y))
    assert not _agree(alg, _enc(alg, x), _enc(alg, p))


@pytest.mark.parametrize("alg", _ALGS)
def test_generated_point_plus_prime_refused_when_it_fits(alg: int) -> None:
    """A generated point with p added to a coordinate (where it fits) is refused by both."""
    p = _prime(alg)
    limit = 256 ** _CURVES[alg][1]
    tried = 0
    for _ in range(20):
        x, y = _point(alg)
        for cx, cy in ((x + p, y), (x, y + p)):
            if cx < limit and cy < limit:
                tried += 1
                assert not _agree(alg, _enc(alg, cx), _enc(alg, cy))
    if alg == -36:  # p = 2**521 - 1 always leaves room in 66 bytes
        assert tried == 40


@pytest.mark.parametrize("alg", _ALGS)
@pytest.mark.parametrize(
    "pair",
    [
        (b"\x00", b"\x00"),
        (b"\xff", b"\xff"),
        (b"\x00", b"\xff"),
        (b"\xff", b"\x00"),
    ],
)
def test_degenerate_coordinates_are_refused(alg: int, pair: tuple[bytes, bytes]) -> None:
    """(0, 0), all-0xFF and their mixes are refused by both checks."""
    size = _CURVES[alg][1]
    assert not _agree(alg, pair[0] * size, pair[1] * size)


@st.composite
def _coordinates(draw: st.DrawFn) -> tuple[int, bytes, bytes]:
    alg = draw(st.sampled_from(_ALGS))
    size = _CURVES[alg][1]
    return (
        alg,
        draw(st.binary(min_size=size, max_size=size)),
        draw(st.binary(min_size=size, max_size=size)),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_coordinates())
def test_random_coordinates_agree_with_openssl(case: tuple[int, bytes, bytes]) -> None:
    """Random coordinate pairs of the right length: same answer from both checks."""
    alg, x, y = case
    _agree(alg, x, y)


_POINTS: dict[int, tuple[int, int]] = {alg: _point(alg) for alg in _ALGS}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_ALGS), st.integers(-3, 3), st.integers(-3, 3), st.booleans())
def test_points_near_a_real_point_agree_with_openssl(
    alg: int, dx: int, dy: int, negate: bool
) -> None:
    """A real point, its negation and small offsets of either: same answer from both."""
    x, y = _POINTS[alg]
    p = _prime(alg)
    if negate:
        y = p - y
    limit = 256 ** _CURVES[alg][1]
    cx, cy = (x + dx) % limit, (y + dy) % limit
    assert _agree(alg, _enc(alg, cx), _enc(alg, cy)) == (dx == 0 and dy == 0)


def _keys_agree(alg: int, key: Any) -> bool:
    """The point of a loaded key equals what the check was given (a helper sanity check)."""
    nums = key.public_numbers()
    return bool(_agree(alg, _enc(alg, nums.x), _enc(alg, nums.y)))


@pytest.mark.parametrize("alg", _ALGS)
def test_loaded_key_round_trip(alg: int) -> None:
    """A key OpenSSL loaded from an accepted point gives back a point both checks accept."""
    x, y = _point(alg)
    key = serialization.load_der_public_key(
        _cose._EC_SPKI_PREFIX[alg] + _enc(alg, x) + _enc(alg, y)
    )
    assert _keys_agree(alg, key)


def test_copy_of_an_unused_deferred_key_loads_once() -> None:
    """A copy taken before first use shares the placeholder, which loads the key only once."""
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
    cose = {1: 2, 3: -7, -1: 1, -2: x, -3: y}
    original = _cose._from_decoded(cose, cbor2.dumps(cose), allow_rs1=False, defer_ec=True)
    clone = copy.copy(original)
    with mock.patch.object(
        _cose.serialization, "load_der_public_key", wraps=_cose.serialization.load_der_public_key
    ) as load:
        assert clone.key.public_numbers() == numbers
        assert clone.key.public_numbers() == numbers
        assert original.key.public_numbers() == numbers
    assert load.call_count == 1
