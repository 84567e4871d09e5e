"""The performance shortcuts give exactly what the plain code paths give.

Covers the slot-filling builders of the frozen result classes, the JSON
scanner shortcut, base64url canonicality, the inlined CBOR items and the
bounded cache of parsed COSE keys used by ``verify_authentication``.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import inspect
import json
from typing import Any
from unittest import mock

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfakit.errors import (
    ConfigurationError,
    InvalidSignatureError,
    MalformedDataError,
    MfaError,
    UnsupportedAlgorithmError,
)
from mfakit.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
    CredentialPublicKey,
    VerifiedAuthentication,
    VerifiedRegistration,
    _authentication,
    _b64,
    _cbor,
    _ceremony,
    _cose,
    _registration,
    _response,
    _structures,
    parse_credential_public_key,
    verify_authentication,
)
from mfakit.webauthn._response import RegistrationResponse

from .helpers import (
    CHALLENGE,
    ORIGIN,
    RP_ID,
    Credential,
    assertion,
    auth_data,
    client_data,
    sign,
)

# (dataclass, its builder): every builder the package uses.
BUILDERS: list[tuple[type[Any], Any]] = [
    (VerifiedAuthentication, _authentication._build_result),
    (CollectedClientData, _structures._new_client_data),
    (AttestedCredentialData, _structures._new_attested),
    (AuthenticatorData, _structures._new_auth_data),
    (AttestationObject, _structures._new_attestation_object),
    (RegistrationResponse, _response._new_registration_response),
    (CredentialPublicKey, _cose._new_credential_public_key),
    (VerifiedRegistration, _registration._new_verified_registration),
]


def _values(cls: type[Any]) -> dict[str, Any]:
    """Distinct, hashable sample values, one per field."""
    return {f.name: (f.name, i) for i, f in enumerate(dataclasses.fields(cls))}


@pytest.mark.parametrize(("cls", "builder"), BUILDERS)
def test_builder_parameters_follow_field_order(cls: type[Any], builder: Any) -> None:
    """A builder takes the dataclass's fields, in order, and has its exact slots."""
    names = [f.name for f in dataclasses.fields(cls)]
    assert list(inspect.signature(builder).parameters) == [
        "type_" if n == "type" else n for n in names
    ]
    assert builder.__slots__ == cls.__slots__ == tuple(names)


@pytest.mark.parametrize(("cls", "builder"), BUILDERS)
def test_builder_result_equals_init_result(cls: type[Any], builder: Any) -> None:
    """A built object has the dataclass's type and the same fields, equality and repr."""
    values = _values(cls)
    built = builder(*values.values())
    plain = cls(**values)
    assert type(built) is cls
    assert all(getattr(built, n) == getattr(plain, n) for n in values)
    assert built == plain
    assert repr(built) == repr(plain)


@pytest.mark.parametrize(("cls", "builder"), BUILDERS)
def test_built_object_is_frozen(cls: type[Any], builder: Any) -> None:
    """A built object refuses attribute assignment like any frozen instance."""
    values = _values(cls)
    built = builder(*values.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(built, next(iter(values)), "changed")


def test_verified_authentication_is_the_public_class() -> None:
    """verify_authentication returns a genuine, frozen VerifiedAuthentication."""
    cred = Credential.new(-7)
    result = verify_authentication(
        assertion(cred, count=2),
        expected_challenge=CHALLENGE,
        expected_origins=ORIGIN,
        expected_rp_id=RP_ID,
        credential_public_key=cred.cose,
        current_sign_count=1,
    )
    assert type(result) is VerifiedAuthentication
    assert dataclasses.replace(result) == result
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.new_sign_count = 0  # type: ignore[misc]


@pytest.mark.parametrize("flags", range(256))
def test_flag_table_matches_bits(flags: int) -> None:
    """The (UP, UV, BE, BS) table agrees with the flag bits."""
    assert _authentication._FLAG_BITS[flags] == (
        bool(flags & 0x01),
        bool(flags & 0x04),
        bool(flags & 0x08),
        bool(flags & 0x10),
    )


def _old_loads(text: str) -> Any:
    """The strict decode without the scanner shortcut."""
    return _structures._DECODER.decode(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"a":1}',
        ' {"a":1}',
        '{"a":1}\n',
        '\t{"a": [1, 2]} ',
        '{"a":1}x',
        "",
        " ",
        '{"a":1,"a":2}',
        "NaN",
        "[1,2]",
        '"x"',
        "1 2",
        '{"a":"\x01"}',
    ],
)
def test_json_shortcut_agrees_with_decode(text: str) -> None:
    """loads_json accepts and refuses exactly what the strict decoder does."""
    try:
        expected: Any = ("ok", _old_loads(text))
    except MalformedDataError:
        expected = ("error",)
    except ValueError:
        expected = ("error",)
    try:
        got: Any = ("ok", _structures.loads_json(text, field="f"))
    except MalformedDataError:
        got = ("error",)
    assert got == expected


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON, st.sampled_from(["", " ", "\n", "\t "]), st.sampled_from(["", " ", "\r\n"]))
def test_json_shortcut_round_trips(value: Any, lead: str, trail: str) -> None:
    """Any JSON value, with or without surrounding whitespace, parses as json.loads does."""
    text = lead + json.dumps(value, separators=(",", ":")) + trail
    assert _structures.loads_json(text.encode(), field="f") == json.loads(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="AQgw-_+/=Z9a\u00e9 ", max_size=12))
def test_json_shortcut_errors_match_on_text(noise: str) -> None:
    """Arbitrary text is accepted or refused as the strict decoder does."""
    text = '{"k":"' + noise + '"}' if noise[:1] == "A" else noise
    try:
        expected: Any = _old_loads(text)
        refused = False
    except (MalformedDataError, ValueError):
        refused = True
    if refused:
        with pytest.raises(MalformedDataError):
            _structures.loads_json(text, field="f")
    else:
        assert _structures.loads_json(text, field="f") == expected


_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _canonical(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="ABCDEFQgw089-_+/=\u00e9 \n", max_size=11))
def test_base64url_accepts_only_canonical_text(text: str) -> None:
    """Decoding succeeds exactly when the text is the canonical encoding of the result."""
    try:
        data = _b64.b64url_decode(text, field="f", max_len=64)
    except MalformedDataError:
        if all(c in _URLSAFE for c in text) and len(text) % 4 != 1:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            assert _canonical(raw) != text
        return
    assert _canonical(data) == text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=40))
def test_base64url_round_trip(data: bytes) -> None:
    """The canonical encoding of any bytes decodes back to them."""
    assert _b64.b64url_decode(_canonical(data), field="f", max_len=64) == data


@pytest.mark.parametrize("value", [None, 7, b"AAAA", ["AAAA"]])
def test_base64url_refuses_non_strings(value: object) -> None:
    """Only str is base64url text."""
    with pytest.raises(MalformedDataError, match="expected a base64url string"):
        _b64.b64url_decode(value, field="f", max_len=64)


def test_base64url_refuses_long_text() -> None:
    """The length limit holds on the fast path."""
    with pytest.raises(MalformedDataError, match="too long"):
        _b64.b64url_decode("A" * 9, field="f", max_len=8)


_KEYS = st.integers(-30, 30) | st.text(max_size=30)
_VALUES = st.recursive(
    st.integers(-300, 300)
    | st.integers(-(2**64), 2**64 - 1)  # beyond that, cbor2 uses bignum tags
    | st.binary(max_size=300)
    | st.text(max_size=30)
    | st.booleans()
    | st.none(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=16,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_KEYS, _VALUES, max_size=8))
def test_cbor_maps_decode_as_cbor2_encodes_them(value: dict[Any, Any]) -> None:
    """Maps of small and large items decode to what cbor2 encoded."""
    assert _cbor.decode_single(cbor2.dumps(value), field="f") == value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_KEYS, _VALUES, min_size=1, max_size=6), st.data())
def test_cbor_mutations_end_in_malformed_or_cbor2_value(value: Any, data: st.DataObject) -> None:
    """A mutated or truncated map is refused, or decodes to exactly what cbor2 reads."""
    raw = bytearray(cbor2.dumps(value))
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    blob = bytes(raw[:cut])
    try:
        ours = _cbor.decode_single(blob, field="f")
    except MalformedDataError:
        return
    # Accepted: no duplicates, tags or trailing bytes, so cbor2 must agree.
    assert repr(ours) == repr(cbor2.loads(blob))


def test_cbor_duplicate_small_int_key_refused() -> None:
    """A repeated one-byte integer key (inlined) is still a duplicate."""
    with pytest.raises(MalformedDataError, match="duplicate"):
        _cbor.decode_single(bytes([0xA2, 0x01, 0x02, 0x01, 0x03]), field="f")


def test_cbor_duplicate_text_key_refused() -> None:
    """A repeated short text key (inlined) is still a duplicate."""
    blob = bytes([0xA2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02])
    with pytest.raises(MalformedDataError, match="duplicate"):
        _cbor.decode_single(blob, field="f")


def test_cbor_non_ascii_text_key_takes_the_checked_path() -> None:
    """A short non-ASCII key decodes as UTF-8; invalid UTF-8 is refused."""
    assert _cbor.decode_single(bytes([0xA1, 0x62, 0xC3, 0xA9, 0x01]), field="f") == {"\u00e9": 1}
    with pytest.raises(MalformedDataError, match="UTF-8"):
        _cbor.decode_single(bytes([0xA1, 0x62, 0xC3, 0x28, 0x01]), field="f")


@pytest.mark.parametrize(
    "blob",
    [
        bytes([0xA1, 0x01]),  # value missing
        bytes([0xA1, 0x01, 0x58]),  # byte string length missing
        bytes([0xA1, 0x01, 0x58, 0x03, 0x00]),  # byte string truncated
        bytes([0xA1, 0x63, 0x61, 0x62]),  # text key truncated
    ],
)
def test_cbor_truncated_inlined_items_refused(blob: bytes) -> None:
    """Truncation inside an inlined item is refused as truncated CBOR."""
    with pytest.raises(MalformedDataError, match="truncated"):
        _cbor.decode_single(blob, field="f")


def _verify_with_bytes(cred: Credential, cose: bytes) -> Any:
    return verify_authentication(
        assertion(cred, count=5),
        expected_challenge=CHALLENGE,
        expected_origins=ORIGIN,
        expected_rp_id=RP_ID,
        credential_public_key=cose,
        current_sign_count=1,
    )


def test_cose_bytes_are_parsed_once() -> None:
    """A key passed as COSE bytes is reused on the next assertion."""
    cred = Credential.new(-7)
    cache = _cose.cached_credential_public_key
    cache.cache_clear()
    _verify_with_bytes(cred, cred.cose)
    _verify_with_bytes(cred, bytes(cred.cose))
    info = cache.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 1, 1)


def test_cose_key_cache_is_bounded() -> None:
    """The cache never holds more than KEY_CACHE_SIZE keys."""
    cache = _cose.cached_credential_public_key
    cache.cache_clear()
    for _ in range(_cose.KEY_CACHE_SIZE + 5):
        cache(Credential.new(-8).cose)
    assert cache.cache_info().currsize == _cose.KEY_CACHE_SIZE == 256


def test_cose_key_errors_are_not_cached() -> None:
    """A bad key fails every time and leaves nothing in the cache."""
    cache = _cose.cached_credential_public_key
    cache.cache_clear()
    bad = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32})
    for _ in range(2):
        with pytest.raises(MalformedDataError):
            _verify_with_bytes(Credential.new(-7), bad)
    assert cache.cache_info().currsize == 0


def test_cached_path_still_refuses_rs1() -> None:
    """RS1 keys stay refused when they come as bytes, cached or not."""
    cred = Credential.new(-65535)
    for _ in range(2):
        with pytest.raises(UnsupportedAlgorithmError):
            _verify_with_bytes(cred, cred.cose)


def test_bytes_subclass_is_parsed_without_the_cache() -> None:
    """A bytes subclass (its hash may differ) skips the cache but still verifies."""

    class Stored(bytes):
        pass

    cred = Credential.new(-7)
    cache = _cose.cached_credential_public_key
    cache.cache_clear()
    assert _verify_with_bytes(cred, Stored(cred.cose)).new_sign_count == 5
    assert cache.cache_info().currsize == 0


def test_shared_scheme_objects_verify_for_every_key() -> None:
    """Keys sharing the module's scheme objects each verify only their own signatures."""
    first, second = Credential.new(-7), Credential.new(-7)
    assert _verify_with_bytes(first, first.cose).new_sign_count == 5
    assert _verify_with_bytes(second, second.cose).new_sign_count == 5
    with pytest.raises(InvalidSignatureError):
        _verify_with_bytes(first, second.cose)


# --- the common-case assertion path against the general one ---------------

_ES256 = Credential.new(-7)
_CD_VARIANTS: list[bytes] = [
    client_data("webauthn.get"),
    client_data("webauthn.get", crossOrigin=True),
    client_data("webauthn.get", crossOrigin=0),
    client_data("webauthn.get", crossOrigin=None),
    client_data("webauthn.get", topOrigin="https://top.example"),
    client_data("webauthn.get", origin=["https://example.com"]),
    client_data("webauthn.get", origin="https://evil.example"),
    client_data("webauthn.create"),
    client_data("webauthn.get", challenge=b"\x02" * 32),
    client_data("webauthn.get").replace(b'"challenge":"', b'"challenge":"!'),
    client_data("webauthn.get", extra="ignored", tokenBinding={"status": "present"}),
    b" " + client_data("webauthn.get"),
    client_data("webauthn.get") + b"\n",
    client_data("webauthn.get")[:-1] + b',"type":"webauthn.get"}',
    client_data("webauthn.get")[:-1] + b',"x":NaN}',
    b'["webauthn.get"]',
    b"\xff\xfe",
    b"",
]
_AD_VARIANTS: list[bytes] = [
    auth_data(flags=f, count=c)
    for f in (0x00, 0x01, 0x05, 0x09, 0x11, 0x19, 0x1D)
    for c in (0, 3, 9)
] + [
    auth_data(rp_id="other.example", count=9),
    auth_data(count=9, ext={"credProtect": 1}),
    auth_data(count=9)[:-1],
    auth_data(count=9) + b"\x00",
    auth_data(flags=0x41, count=9),
    auth_data(flags=0x81, count=9),
    auth_data(flags=0xC1, count=9),
]


def _outcome(response: Any, **kw: Any) -> tuple[Any, ...]:
    args: dict[str, Any] = {
        "expected_challenge": CHALLENGE,
        "expected_origins": ORIGIN,
        "expected_rp_id": RP_ID,
        "credential_public_key": _ES256.cose,
        "current_sign_count": 5,
    }
    args.update(kw)
    try:
        return ("ok", verify_authentication(response, **args))
    except MfaError as exc:
        return ("error", type(exc), getattr(exc, "field", None), str(exc))


def _general_outcome(response: Any, **kw: Any) -> tuple[Any, ...]:
    with mock.patch.object(_authentication, "_common_case", return_value=None):
        return _outcome(response, **kw)


def _signed(cd: bytes, ad: bytes, user_handle: bytes | None) -> dict[str, Any]:
    sig = sign(_ES256.private, -7, ad + hashlib.sha256(cd).digest())
    return assertion(_ES256, cd=cd, ad=ad, user_handle=user_handle, signature=sig)


_TOP_MUTATIONS: list[tuple[str, Any]] = [
    ("type", "public-key"),
    ("type", "public_key"),
    ("type", None),
    ("id", "AAAA"),
    ("id", None),
    ("rawId", ""),
    ("authenticatorAttachment", "platform"),
    ("authenticatorAttachment", "cross-platform"),
    ("authenticatorAttachment", "usb"),
    ("authenticatorAttachment", ["platform"]),
    ("authenticatorAttachment", None),
    ("clientExtensionResults", {}),
    ("clientExtensionResults", {"credProps": {"rk": True}}),
    ("clientExtensionResults", None),
    ("clientExtensionResults", []),
    ("response", None),
]
_INNER_MUTATIONS: list[tuple[str, Any]] = [
    ("userHandle", None),
    ("userHandle", ""),
    ("userHandle", "dXNlci03"),
    ("userHandle", "dXNlci03="),
    ("userHandle", "A" * 200),
    ("userHandle", 7),
    ("signature", "AAAA"),
    ("signature", "AA+A"),
    ("signature", "AA\u00e9A"),
    ("signature", "AAB"),
    ("signature", "+/+/"),
    ("signature", None),
    ("authenticatorData", "AAAA"),
    ("clientDataJSON", "AAAA"),
    ("clientDataJSON", "A" * 20000),
]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cd=st.sampled_from(_CD_VARIANTS),
    ad=st.sampled_from(_AD_VARIANTS),
    handle=st.sampled_from([None, b"user-7", b""]),
    top=st.none() | st.sampled_from(_TOP_MUTATIONS),
    inner=st.none() | st.sampled_from(_INNER_MUTATIONS),
    drop=st.sampled_from([None, "id", "rawId", "clientExtensionResults", "response"]),
    options=st.fixed_dictionaries(
        {},
        optional={
            "require_user_verification": st.booleans(),
            "require_user_presence": st.booleans(),
            "allow_cross_origin": st.booleans(),
            "allowed_top_origins": st.just(["https://top.example"]),
            "expected_backup_eligible": st.booleans(),
            "expected_user_handle": st.sampled_from([b"user-7", b"user-8"]),
            "allow_sign_count_regression": st.booleans(),
            "expected_origins": st.just(["https://example.com", "https://b.example"]),
            "expected_rp_id": st.sampled_from(["example.com", "other.example"]),
        },
    ),
)
def test_common_case_path_agrees_with_general_path(  # noqa: PLR0917 - hypothesis arguments
    cd: bytes,
    ad: bytes,
    handle: bytes | None,
    top: tuple[str, Any] | None,
    inner: tuple[str, Any] | None,
    drop: str | None,
    options: dict[str, Any],
) -> None:
    """On valid and mutated assertions both paths give the same result or the same error."""
    response = _signed(cd, ad, handle)
    if top is not None:
        response[top[0]] = top[1]
    if inner is not None and type(response.get("response")) is dict:
        response["response"][inner[0]] = inner[1]
    if drop is not None:
        response.pop(drop, None)
    fast = _outcome(copy.deepcopy(response), **options)
    general = _general_outcome(copy.deepcopy(response), **options)
    assert fast == general


def _take_common_case(response: dict[str, Any], cd_parse: mock.Mock | None = None) -> Any:
    origins = frozenset((ORIGIN,))
    return _authentication._common_case(
        response,
        CHALLENGE,
        origins,
        _ceremony.origin_suffixes(origins),
        RP_ID,
        parse_credential_public_key(_ES256.cose),
        5,
        True,
        False,
        None,
        b"user-7",
        False,
    )


def test_common_case_path_takes_the_usual_assertion() -> None:
    """A browser's usual assertion is accepted by the common-case path itself."""
    response = _signed(client_data("webauthn.get"), auth_data(count=9), b"user-7")
    with mock.patch.object(
        _authentication, "_client_data_json_ok", side_effect=AssertionError("parsed")
    ):
        taken = _take_common_case(response)
    assert taken is not None
    assert _outcome(response) == _general_outcome(response) == ("ok", taken)


@pytest.mark.parametrize(
    "cd",
    [
        client_data("webauthn.get")[:-1] + b',"other_keys_can_be_added_here":"x"}',
        client_data("webauthn.get").replace(b'"origin"', b'"origin" '),
        client_data("webauthn.get").replace(b"https:", b"https\\u003a"),
        client_data("webauthn.get").replace(b',"crossOrigin":false', b""),
    ],
)
def test_common_case_parses_client_data_outside_the_template(cd: bytes) -> None:
    """Client data not in the §5.8.1.1 byte form is parsed, not refused by the template."""
    response = _signed(cd, auth_data(count=9), b"user-7")
    with mock.patch.object(
        _authentication, "_client_data_json_ok", wraps=_authentication._client_data_json_ok
    ) as parsed:
        taken = _take_common_case(response)
    template = b'"crossOrigin"' not in cd
    assert parsed.called is not template
    assert taken is not None
    assert _outcome(response) == _general_outcome(response) == ("ok", taken)


@pytest.mark.parametrize("flags", [0x41, 0x81, 0xC5])
def test_assertion_flags_claiming_absent_data_are_malformed(flags: int) -> None:
    """AT or ED set on 37 bytes of authenticator data: the data they announce is missing."""
    response = _signed(client_data("webauthn.get"), auth_data(flags=flags, count=9), None)
    outcome = _outcome(response)
    assert outcome[:2] == ("error", MalformedDataError)
    assert outcome[2] in {"authenticatorData", "extensions"}
    assert _general_outcome(response) == outcome


@pytest.mark.parametrize("as_text", [str, bytes])
def test_assertion_as_json_text(as_text: Any) -> None:
    """The response may come as JSON text (str or bytes) and verifies like the dict."""
    response = _signed(client_data("webauthn.get"), auth_data(count=9), b"user-7")
    text = json.dumps(response)
    outcome = _outcome(text if as_text is str else text.encode())
    assert outcome == _outcome(response)
    assert outcome[0] == "ok"


def test_origin_that_cannot_be_utf8_still_parses() -> None:
    """An expected origin with a lone surrogate has no template; others still match."""
    origins = ["https://example.com", "https://\ud800.example"]
    assert len(_ceremony.origin_suffixes(frozenset(origins))) == 2
    response = _signed(client_data("webauthn.get"), auth_data(count=9), None)
    assert _outcome(response, expected_origins=origins)[0] == "ok"


def test_expected_user_handle_must_be_bytes() -> None:
    """A non-bytes expected_user_handle is a configuration error, on either path."""
    response = _signed(client_data("webauthn.get"), auth_data(count=9), b"user-7")
    outcome = _outcome(response, expected_user_handle="user-7")
    assert outcome[:2] == ("error", ConfigurationError)
    assert _general_outcome(response, expected_user_handle="user-7") == outcome


@pytest.mark.parametrize(
    "text", ["AAB", "AB", "AAAA", "AA", "AAA", "A", "+AAA", "\u00e9AAA", "AA=="]
)
def test_common_case_decoder_matches_strict_decoder(text: str) -> None:
    """The common-case decoder returns None exactly where b64url_decode raises."""
    try:
        expected: bytes | None = _b64.b64url_decode(text, field="f", max_len=8)
    except MalformedDataError:
        expected = None
    assert _authentication._b64_or_none(text, 8) == expected
