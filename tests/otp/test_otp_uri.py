"""otpauth:// URIs: building with correct escaping, strict parsing."""

from __future__ import annotations

import base64
import dataclasses
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.errors import ConfigurationError, MalformedDataError
from mfakit.otp import HOTP, MAX_URI_LENGTH, TOTP, OtpAuthUri, encode_base32, parse_uri

SECRET = b"12345678901234567890"
B32 = encode_base32(SECRET)


def _attempt(uri: str) -> OtpAuthUri | MalformedDataError:
    try:
        return parse_uri(uri)
    except MalformedDataError as exc:
        return exc


def _parse_error(uri: object) -> MalformedDataError:
    with pytest.raises(MalformedDataError) as info:
        parse_uri(uri)  # type: ignore[arg-type]
    return info.value


# -- building ---------------------------------------------------------------------


def test_build_default_totp() -> None:
    """Defaults are omitted; issuer is in the label and the parameter."""
    uri = TOTP(SECRET).uri(account_name="alice@example.com", issuer="ACME Co")
    assert uri == (f"otpauth://totp/ACME%20Co:alice@example.com?secret={B32}&issuer=ACME%20Co")


def test_build_non_defaults() -> None:
    """Algorithm (upper case), digits and period appear when not the defaults."""
    uri = TOTP(SECRET, digits=8, period=60, algorithm="sha512").uri(account_name="a", issuer="I")
    assert uri.endswith("&issuer=I&algorithm=SHA512&digits=8&period=60")


def test_build_escapes_reserved_characters() -> None:
    """Reserved characters in the label and parameters are percent-escaped."""
    uri = TOTP(SECRET).uri(account_name="a/b?c#d&e=f+g h:i%j", issuer="Big & Co/+=? é")
    label = uri.removeprefix("otpauth://totp/").split("?", 1)[0]
    assert label == "Big%20%26%20Co%2F%2B%3D%3F%20%C3%A9:a%2Fb%3Fc%23d%26e%3Df%2Bg%20h%3Ai%25j"
    assert uri.endswith("&issuer=Big%20%26%20Co%2F%2B%3D%3F%20%C3%A9")
    parsed = parse_uri(uri)
    assert parsed.account_name == "a/b?c#d&e=f+g h:i%j"
    assert parsed.issuer == "Big & Co/+=? é"


def test_secret_is_unpadded_base32() -> None:
    """The secret parameter is the stdlib's base32 without '=' padding (Key URI format)."""
    for secret in (b"x" * 16, b"x" * 17, b"x" * 20):
        uri = TOTP(secret).uri(account_name="a", issuer="b")
        value = uri.split("secret=", 1)[1].split("&", 1)[0]
        assert value == base64.b32encode(secret).decode().rstrip("=")
        assert "=" not in value


@pytest.mark.parametrize("issuer", ["A:B", ":", "", "   ", None, 5])
def test_build_refuses_bad_issuer(issuer: object) -> None:
    """An issuer with ':' or empty is refused (the label could not be parsed back)."""
    with pytest.raises(ConfigurationError):
        TOTP(SECRET).uri(account_name="a", issuer=issuer)  # type: ignore[arg-type]


@pytest.mark.parametrize("account", ["", "  ", None, b"a", " alice", "\talice"])
def test_build_refuses_bad_account(account: object) -> None:
    """An empty or non-string account name is refused."""
    with pytest.raises(ConfigurationError):
        TOTP(SECRET).uri(account_name=account, issuer="I")  # type: ignore[arg-type]


# -- parsing ----------------------------------------------------------------------


def test_parse_totp() -> None:
    """A TOTP URI parses into a ready TOTP with the label decoded."""
    parsed = parse_uri(
        f"otpauth://totp/ACME%20Co:john.doe@email.com?secret={B32}&issuer=ACME%20Co"
        "&algorithm=SHA256&digits=8&period=60"
    )
    assert parsed.kind == "totp"
    assert parsed.otp == TOTP(SECRET, digits=8, period=60, algorithm="sha256")
    assert (parsed.account_name, parsed.issuer, parsed.counter) == (
        "john.doe@email.com",
        "ACME Co",
        None,
    )


def test_parse_hotp() -> None:
    """An HOTP URI parses with its counter."""
    parsed = parse_uri(f"otpauth://hotp/Example:bob?secret={B32}&counter=42")
    assert parsed.kind == "hotp"
    assert parsed.otp == HOTP(SECRET)
    assert parsed.counter == 42
    assert parsed.issuer == "Example"


def test_parse_lenient_where_the_format_allows() -> None:
    """Lower-case secret, %3A separator, spaces after it, '+' as space, no issuer."""
    parsed = parse_uri(f"OTPAUTH://TOTP/Big%20Co%3A%20%20alice?secret={B32.lower()}&issuer=Big+Co")
    assert (parsed.issuer, parsed.account_name) == ("Big Co", "alice")
    assert parsed.otp == TOTP(SECRET)
    assert parse_uri(f"otpauth://totp/Big%20Co%3A%20alice?secret={B32}").issuer == "Big Co"
    assert parse_uri(f"otpauth://totp/Big%20Co%3A%20alice?secret={B32}").account_name == "alice"
    bare = parse_uri(f"otpauth://totp/alice?secret={B32}")
    assert (bare.issuer, bare.account_name) == (None, "alice")
    only_param = parse_uri(f"otpauth://totp/alice?secret={B32}&issuer=Z")
    assert only_param.issuer == "Z"


def test_parse_ignores_unknown_parameters() -> None:
    """App-specific parameters such as image are ignored."""
    parsed = parse_uri(f"otpauth://totp/I:a?secret={B32}&image=https%3A%2F%2Fx%2Fy.png&&color=red")
    assert parsed.otp == TOTP(SECRET)


def test_parse_plus_in_query_is_space() -> None:
    """'+' in the query is a space (form encoding), '%2B' a plus."""
    assert parse_uri(f"otpauth://totp/a?secret={B32}&issuer=A+B").issuer == "A B"
    assert parse_uri(f"otpauth://totp/a?secret={B32}&issuer=A%2BB").issuer == "A+B"


BAD_URIS = [
    (None, "uri"),
    (b"otpauth://totp/a?secret=" + B32.encode(), "uri"),
    ("otpauth://totp/a?secret=" + "A" * MAX_URI_LENGTH, "uri"),
    (f"otpauth://totp/a?secret={B32}\n", "uri"),
    (f"otpauth://totp/a?secret={B32}#frag", "uri"),
    (f"https://totp/a?secret={B32}", "scheme"),
    (f"otpauth:totp/a?secret={B32}", "scheme"),
    ("not a uri", "scheme"),
    (f"otpauth://motp/a?secret={B32}", "type"),
    (f"otpauth:///a?secret={B32}", "type"),
    (f"otpauth://totp?secret={B32}", "label"),
    (f"otpauth://totp/?secret={B32}", "label"),
    (f"otpauth://totp/Issuer:?secret={B32}", "label"),
    (f"otpauth://totp/:alice?secret={B32}", "label"),
    (f"otpauth://totp/%FF?secret={B32}", "label"),
    ("otpauth://totp/a", "secret"),
    ("otpauth://totp/a?issuer=x", "secret"),
    ("otpauth://totp/a?secret=", "secret"),
    ("otpauth://totp/a?secret", "secret"),
    ("otpauth://totp/a?secret=GEZDGNBV1Y3TQOJQ", "secret"),
    ("otpauth://totp/a?secret=GEZDGNBVGY3TQOJQ", "secret"),  # 10 bytes: too short
    (f"otpauth://totp/a?secret={B32}&secret={B32}", "secret"),
    (f"otpauth://totp/a?secret={B32}&algorithm=MD5", "algorithm"),
    (f"otpauth://totp/a?secret={B32}&algorithm=", "algorithm"),
    (f"otpauth://totp/a?secret={B32}&digits=5", "digits"),
    (f"otpauth://totp/a?secret={B32}&digits=9", "digits"),
    (f"otpauth://totp/a?secret={B32}&digits=six", "digits"),
    (f"otpauth://totp/a?secret={B32}&digits=-6", "digits"),
    (f"otpauth://totp/a?secret={B32}&digits=%206", "digits"),
    (f"otpauth://totp/a?secret={B32}&period=0", "period"),
    (f"otpauth://totp/a?secret={B32}&period=-30", "period"),
    (f"otpauth://totp/a?secret={B32}&period=30.5", "period"),
    (f"otpauth://totp/a?secret={B32}&period=1e3", "period"),
    (f"otpauth://totp/a?secret={B32}&counter=1", "counter"),
    (f"otpauth://hotp/a?secret={B32}", "counter"),
    (f"otpauth://hotp/a?secret={B32}&counter=", "counter"),
    (f"otpauth://hotp/a?secret={B32}&counter=-1", "counter"),
    (f"otpauth://hotp/a?secret={B32}&counter={2**64}", "counter"),
    (f"otpauth://hotp/a?secret={B32}&counter=1&period=30", "period"),
    (f"otpauth://totp/A:a?secret={B32}&issuer=B", "issuer"),
    (f"otpauth://totp/a?secret={B32}&issuer=", "issuer"),
    (f"otpauth://totp/a?secret={B32}&issuer=%FF", "issuer"),
    (f"otpauth://totp/a?secret={B32}&%FF=1", "query"),
]


@pytest.mark.parametrize(("uri", "field"), BAD_URIS)
def test_parse_names_what_is_wrong(uri: object, field: str) -> None:
    """Each defect raises MalformedDataError whose field names it."""
    assert _parse_error(uri).field == field


def test_parse_error_does_not_leak_secret() -> None:
    """Error messages and reprs never contain the secret."""
    error = _parse_error(f"otpauth://totp/A:a?secret={B32}&issuer=B")
    assert B32 not in str(error)
    assert B32 not in repr(error)


def test_parsed_repr_hides_secret() -> None:
    """The parsed URI's repr never shows the secret."""
    parsed = parse_uri(f"otpauth://totp/I:a?secret={B32}")
    assert B32 not in repr(parsed)
    assert "12345678901234567890" not in repr(parsed)


def test_to_uri_round_trip() -> None:
    """to_uri rebuilds an equivalent URI; without an issuer it is refused."""
    for uri in (
        TOTP(SECRET, digits=7, period=45).uri(account_name="x y", issuer="Q"),
        HOTP(SECRET, algorithm="sha256").uri(account_name="x", issuer="Q", counter=3),
    ):
        assert parse_uri(uri).to_uri() == uri
    bare = parse_uri(f"otpauth://totp/alice?secret={B32}")
    with pytest.raises(ConfigurationError):
        bare.to_uri()
    assert dataclasses.replace(bare, issuer="Z").to_uri().startswith("otpauth://totp/Z:alice?")


def test_otpauthuri_is_frozen() -> None:
    """OtpAuthUri cannot be modified."""
    parsed = parse_uri(f"otpauth://totp/alice?secret={B32}")
    assert isinstance(parsed, OtpAuthUri)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.issuer = "x"  # type: ignore[misc]


# -- properties -------------------------------------------------------------------

label_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=":"), min_size=1
).filter(lambda s: s.strip())


@settings(max_examples=150)
@given(
    account=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1).filter(
        lambda s: s.strip() and not s[0].isspace()
    ),
    issuer=label_text,
    digits=st.integers(6, 8),
    period=st.integers(1, 10_000),
    algorithm=st.sampled_from(["sha1", "sha256", "sha512"]),
    secret=st.binary(min_size=16, max_size=64),
)
def test_build_parse_round_trip(
    *, account: str, issuer: str, digits: int, period: int, algorithm: str, secret: bytes
) -> None:
    """Whatever the names, parse(build(x)) gives back x exactly."""
    totp = TOTP(secret, digits=digits, period=period, algorithm=algorithm)
    parsed = parse_uri(totp.uri(account_name=account, issuer=issuer))
    assert parsed.otp == totp
    assert (parsed.account_name, parsed.issuer) == (account, issuer)


@settings(max_examples=300)
@given(st.text(max_size=120))
def test_parse_random_text_only_malformed(text: str) -> None:
    """Random text is refused with MalformedDataError, never another exception."""
    outcome = _attempt(text)
    if isinstance(outcome, MalformedDataError):
        assert outcome.field is not None
    else:
        assert outcome.kind in ("totp", "hotp")


_VALID = TOTP(SECRET, digits=8, period=60).uri(account_name="alice@x.org", issuer="Ex Co")


@settings(max_examples=300)
@given(
    position=st.integers(0, len(_VALID)),
    cut=st.integers(0, 6),
    insert=st.text(alphabet="%:/?&=#+ 0aZ9=GHxé\x00", max_size=4),
)
def test_parse_mutated_uri_only_documented_outcomes(position: int, cut: int, insert: str) -> None:
    """A mutated valid URI parses to something consistent or raises MalformedDataError."""
    uri = _VALID[:position] + insert + _VALID[position + cut :]
    outcome = _attempt(uri)
    if isinstance(outcome, MalformedDataError):
        assert outcome.field is not None
    else:
        assert outcome.kind in ("totp", "hotp")
        assert len(outcome.otp.secret) >= 16
        assert outcome.account_name.strip()


@settings(max_examples=100)
@given(
    params=st.lists(
        st.tuples(
            st.sampled_from(["secret", "issuer", "algorithm", "digits", "period", "counter", "x"]),
            st.text(alphabet="0123456789ABCDEFGHJKZ=%-+ abc", max_size=40),
        ),
        max_size=6,
    ),
    kind=st.sampled_from(["totp", "hotp", "TOTP", "xotp"]),
)
def test_parse_random_parameters_only_documented_outcomes(
    params: list[tuple[str, str]], kind: str
) -> None:
    """Any parameter soup parses consistently or raises MalformedDataError."""
    query = "&".join(f"{k}={quote(v, safe='%+')}" for k, v in params)
    outcome = _attempt(f"otpauth://{kind}/I:a?{query}")
    if isinstance(outcome, MalformedDataError):
        assert outcome.field is not None
    else:
        assert 6 <= outcome.otp.digits <= 8
        assert (outcome.counter is not None) == (outcome.kind == "hotp")
