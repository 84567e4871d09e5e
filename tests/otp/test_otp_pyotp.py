"""Differential tests against pyotp, an independent implementation (test oracle only)."""

from __future__ import annotations

import hashlib

import pyotp
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.otp import HOTP, TOTP, encode_base32, parse_uri

DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}

secrets_ = st.binary(min_size=16, max_size=64)
algorithms = st.sampled_from(sorted(DIGESTS))
digits_ = st.integers(6, 8)
periods = st.integers(1, 120)  # pyotp refuses periods above 120 s
times = st.one_of(
    st.integers(0, 253_402_300_799),  # pyotp stops before year 10000
    st.floats(0, 253_402_300_799, allow_nan=False, allow_infinity=False),
)
names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30
).filter(lambda s: s.strip() and not s[0].isspace())
issuers = names.filter(lambda s: ":" not in s)


def _peer_totp(secret: bytes, digits: int, period: int, algorithm: str) -> pyotp.TOTP:
    return pyotp.TOTP(
        encode_base32(secret), digits=digits, interval=period, digest=DIGESTS[algorithm]
    )


@settings(max_examples=200)
@given(secret=secrets_, algorithm=algorithms, digits=digits_, period=periods, when=times)
def test_totp_codes_match_pyotp(
    *, secret: bytes, algorithm: str, digits: int, period: int, when: float
) -> None:
    """For any secret, algorithm, digits, period and time, both give the same code."""
    mine = TOTP(secret, digits=digits, period=period, algorithm=algorithm)
    peer = _peer_totp(secret, digits, period, algorithm)
    assert mine.at(when) == peer.at(when)
    assert mine.step(when) == peer.timecode(when)


@settings(max_examples=150)
@given(
    secret=secrets_,
    algorithm=algorithms,
    digits=digits_,
    period=periods,
    when=st.integers(10_000, 4_000_000_000),
    offset=st.integers(-3, 3),
    window=st.integers(0, 2),
)
def test_totp_verify_agrees_with_pyotp(
    *,
    secret: bytes,
    algorithm: str,
    digits: int,
    period: int,
    when: int,
    offset: int,
    window: int,
) -> None:
    """Accept/reject decisions agree with pyotp's valid_window for nearby codes."""
    mine = TOTP(secret, digits=digits, period=period, algorithm=algorithm)
    peer = _peer_totp(secret, digits, period, algorithm)
    code = peer.at(when + offset * period)
    step = mine.verify(code, for_time=when, window=window)
    assert (step is not None) == peer.verify(code, for_time=when, valid_window=window)
    if step is not None:
        assert peer.at(step * period) == code


@settings(max_examples=150)
@given(secret=secrets_, algorithm=algorithms, digits=digits_, counter=st.integers(0, 2**63))
def test_hotp_codes_match_pyotp(
    *, secret: bytes, algorithm: str, digits: int, counter: int
) -> None:
    """HOTP codes agree with pyotp for any counter."""
    mine = HOTP(secret, digits=digits, algorithm=algorithm)
    peer = pyotp.HOTP(encode_base32(secret), digits=digits, digest=DIGESTS[algorithm])
    assert mine.at(counter) == peer.at(counter)


@settings(max_examples=150)
@given(
    secret=secrets_,
    algorithm=algorithms,
    digits=digits_,
    period=periods,
    account=names,
    issuer=issuers,
)
def test_our_uri_parsed_by_pyotp(
    *, secret: bytes, algorithm: str, digits: int, period: int, account: str, issuer: str
) -> None:
    """pyotp reads our URIs as the same key, names and parameters."""
    mine = TOTP(secret, digits=digits, period=period, algorithm=algorithm)
    peer = pyotp.parse_uri(mine.uri(account_name=account, issuer=issuer))
    assert isinstance(peer, pyotp.TOTP)
    assert (peer.name, peer.issuer) == (account, issuer)
    assert (peer.digits, peer.interval, peer.digest().name) == (digits, period, algorithm)
    assert peer.byte_secret() == secret


@settings(max_examples=150)
@given(
    secret=secrets_,
    algorithm=algorithms,
    digits=digits_,
    period=periods,
    account=names,
    issuer=issuers,
)
def test_pyotp_uri_parsed_by_us(
    *, secret: bytes, algorithm: str, digits: int, period: int, account: str, issuer: str
) -> None:
    """We read pyotp's URIs as the same key, names and parameters."""
    peer = _peer_totp(secret, digits, period, algorithm)
    parsed = parse_uri(peer.provisioning_uri(name=account, issuer_name=issuer))
    assert parsed.kind == "totp"
    assert parsed.otp == TOTP(secret, digits=digits, period=period, algorithm=algorithm)
    assert (parsed.account_name, parsed.issuer) == (account, issuer)


@settings(max_examples=80)
@given(secret=secrets_, account=names, issuer=issuers, counter=st.integers(0, 2**63))
def test_hotp_uris_both_ways(*, secret: bytes, account: str, issuer: str, counter: int) -> None:
    """HOTP URIs (with their counter) are read the same way in both directions."""
    mine = HOTP(secret).uri(account_name=account, issuer=issuer, counter=counter)
    peer = pyotp.parse_uri(mine)
    assert isinstance(peer, pyotp.HOTP)
    assert (peer.initial_count, peer.name, peer.issuer) == (counter, account, issuer)
    theirs = pyotp.HOTP(encode_base32(secret), initial_count=counter).provisioning_uri(
        name=account, issuer_name=issuer
    )
    parsed = parse_uri(theirs)
    assert (parsed.kind, parsed.counter, parsed.otp) == ("hotp", counter, HOTP(secret))
