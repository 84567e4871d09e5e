"""HOTP: counters, look-ahead, input handling."""

from __future__ import annotations

import pytest

from mfakit.errors import ConfigurationError
from mfakit.otp import HOTP, MAX_LOOK_AHEAD

SECRET = b"12345678901234567890"


def test_at_is_zero_padded_and_sized() -> None:
    """Codes have exactly `digits` characters."""
    for digits in (6, 7, 8):
        hotp = HOTP(SECRET, digits=digits)
        assert all(len(hotp.at(c)) == digits and hotp.at(c).isdigit() for c in range(50))


def test_counter_range() -> None:
    """Counters are 8-byte unsigned: 0 and 2**64 - 1 work, outside is refused."""
    hotp = HOTP(SECRET)
    assert len(hotp.at(0)) == len(hotp.at(2**64 - 1)) == 6
    for bad in (-1, 2**64, 1.0, "1", True, None):
        with pytest.raises(ConfigurationError):
            hotp.at(bad)  # type: ignore[arg-type]


def test_verify_exact_counter() -> None:
    """With look_ahead=0 only the expected counter matches."""
    hotp = HOTP(SECRET)
    assert hotp.verify("755224", counter=0) == 0
    assert hotp.verify("287082", counter=0) is None


def test_verify_look_ahead_returns_matched_counter() -> None:
    """look_ahead accepts later counters and returns the one that matched."""
    hotp = HOTP(SECRET)
    assert hotp.verify("969429", counter=0, look_ahead=3) == 3
    assert hotp.verify("969429", counter=0, look_ahead=2) is None
    assert hotp.verify("755224", counter=1, look_ahead=5) is None  # never backwards


def test_verify_at_top_of_counter_range() -> None:
    """Look-ahead stops at the largest counter instead of overflowing."""
    hotp = HOTP(SECRET)
    top = 2**64 - 1
    assert hotp.verify(hotp.at(top), counter=top, look_ahead=5) == top


@pytest.mark.parametrize("look_ahead", [-1, MAX_LOOK_AHEAD + 1, 1.0, True])
def test_bad_look_ahead_refused(look_ahead: object) -> None:
    """look_ahead is an int from 0 to MAX_LOOK_AHEAD."""
    with pytest.raises(ConfigurationError):
        HOTP(SECRET).verify("755224", counter=0, look_ahead=look_ahead)  # type: ignore[arg-type]


def test_bad_counter_refused_in_verify() -> None:
    """A negative counter is a configuration error."""
    with pytest.raises(ConfigurationError):
        HOTP(SECRET).verify("755224", counter=-1)


@pytest.mark.parametrize(
    "code", ["75522", "7552240", "755 224", "75522x", 755224, None, "\uff17" + "55224"]
)
def test_verify_input_handling(code: object) -> None:
    """Spaces are ignored; anything else that is not six ASCII digits is no match."""
    expected = 0 if code == "755 224" else None
    assert HOTP(SECRET).verify(code, counter=0) == expected


def test_repr_eq_hash() -> None:
    """HOTP's repr hides the secret; equality compares secret and parameters."""
    hotp = HOTP(SECRET, digits=8, algorithm="sha256")
    assert repr(hotp) == "HOTP(digits=8, algorithm='sha256')"
    assert hotp == HOTP(SECRET, digits=8, algorithm="sha256")
    assert hash(hotp) == hash(HOTP(SECRET, digits=8, algorithm="sha256"))
    assert hotp != HOTP(SECRET, digits=8)
    assert hotp != HOTP(SECRET[::-1], digits=8, algorithm="sha256")
    assert hotp != object()


def test_uri_has_counter() -> None:
    """The HOTP URI carries the counter, and a bad counter is refused."""
    hotp = HOTP(SECRET)
    uri = hotp.uri(account_name="bob", issuer="Example", counter=7)
    assert uri == (
        "otpauth://hotp/Example:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        "&issuer=Example&counter=7"
    )
    with pytest.raises(ConfigurationError):
        hotp.uri(account_name="bob", issuer="Example", counter=-1)


def test_long_key_is_hashed_first() -> None:
    """Keys longer than the hash block are hashed first (RFC 2104), as HMAC requires."""
    import hmac

    key = bytes(range(200))
    mac = hmac.digest(key, (5).to_bytes(8, "big"), "sha1")
    offset = mac[-1] & 0x0F
    expected = (int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF) % 10**6
    assert HOTP(key).at(5) == f"{expected:06d}"
