"""The registration fast paths give exactly what the general paths give.

``verify_registration`` takes shortcuts for the common case: one joint
base64url decode of the response (``_response._common_registration``), a
reader for the attestation object as clients encode it
(``_structures._common_attestation_object``), templates of the canonical
ES256 / EdDSA / RS256 COSE keys (``_cose.known_cose_key``), the §5.8.1.1 byte
template of clientDataJSON (``_ceremony.template_client_data``), a shortcut
for ``none`` attestation without a policy, and a credential EC key loaded on
first use. Each must accept exactly what the general path accepts, with the
same result, and fall back (``None``) for everything else: the differential
test below runs valid and mutated registrations with the shortcuts on and all
of them off and compares the outcomes.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfakit.errors import (
    ConfigurationError,
    InvalidAttestationError,
    InvalidSignatureError,
    MalformedDataError,
    MfaError,
)
from mfakit.webauthn import (
    AttestationPolicy,
    VerifiedRegistration,
    _attestation,
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
    verify_registration,
)

from .helpers import (
    AT,
    BE,
    BS,
    CHALLENGE,
    ED,
    NOW,
    ORIGIN,
    RP_ID,
    UP,
    UV,
    Credential,
    assertion,
    auth_data,
    b64,
    client_data,
    cose_map,
    make_chain,
    sign,
)

_CREDS: dict[int, Credential] = {alg: Credential.new(alg) for alg in (-7, -8, -257, -35, -36)}
_CHAIN = make_chain()
_OTHER_ORIGIN = "https://b.example"
_QUOTED_ORIGIN = 'https://a"b.example'
_UNICODE_ORIGIN = "https://b\u00fccher.example"
_TOP = "https://top.example"


# --- building registrations ------------------------------------------------


def _head(major: int, n: int, width: int | None = None) -> bytes:
    """A CBOR head: minimal, or with an argument of ``width`` bytes (1, 2, 4 or 8)."""
    if width is None:
        if n < 24:
            return bytes([major << 5 | n])
        width = 1 if n < 0x100 else 2 if n < 0x10000 else 4
    info = {1: 24, 2: 25, 4: 26, 8: 27}[width]
    return bytes([major << 5 | info]) + n.to_bytes(width, "big")


def _bstr(data: bytes, width: int | None = None) -> bytes:
    return _head(2, len(data), width) + data


def _cose_bytes(cred: Credential, variant: str) -> bytes:
    """The COSE_Key of ``cred``, encoded canonically or in one of the odd ways."""
    m = cose_map(cred.private, cred.alg)
    if variant == "canonical":
        return cbor2.dumps(m)
    if variant == "reordered":
        return cbor2.dumps(dict(reversed(list(m.items()))))
    if variant == "long_length":
        # The first byte-string parameter with a length one size too long.
        label = -1 if cred.alg == -257 else -2
        out = _head(5, len(m))
        for k, v in m.items():
            if k == label:
                out += cbor2.dumps(k) + _bstr(v, 2 if len(v) < 0x100 else 4)
            else:
                out += cbor2.dumps(k) + cbor2.dumps(v)
        return out
    if variant == "extra_param":
        return cbor2.dumps({**m, 2: b"kid"})
    if variant == "private_label":
        return cbor2.dumps({**m, -4: b"\x01" * 32})
    if variant == "off_curve":
        if cred.alg in (-7, -35, -36):
            y = m[-3]
            m[-3] = y[:-1] + bytes([y[-1] ^ 1])
        return cbor2.dumps(m)
    if variant == "other_alg":
        return cbor2.dumps({**m, 3: -257 if cred.alg != -257 else -7})
    if variant == "indefinite":
        return b"\xbf" + cbor2.dumps(m)[1:] + b"\xff"
    raise AssertionError(variant)  # pragma: no cover


_COSE_VARIANTS = [
    "canonical",
    "reordered",
    "long_length",
    "extra_param",
    "private_label",
    "off_curve",
    "other_alg",
    "indefinite",
]


def _auth_data_bytes(cred: Credential, cose: bytes, variant: str) -> bytes:
    """Attested authenticator data of ``cred`` in one of the usual or broken forms."""
    flags = UP | AT
    extra = b""
    rp_id = RP_ID
    cred_id = cred.cred_id
    if variant == "uv":
        flags |= UV
    elif variant == "backed_up":
        flags |= BE | BS
    elif variant == "bs_only":
        flags |= BS
    elif variant == "no_up":
        flags = AT
    elif variant == "extensions":
        flags |= ED
        extra = cbor2.dumps({"credProtect": 1})
    elif variant == "ed_without_extensions":
        flags |= ED
    elif variant == "trailing":
        extra = b"\x00"
    elif variant == "other_rp":
        rp_id = "other.example"
    elif variant == "other_cred_id":
        cred_id = bytes(16)
    ad = auth_data(rp_id=rp_id, flags=flags, cred_id=cred_id, cose=cose) + extra
    if variant == "truncated":
        ad = ad[:-1]
    elif variant == "no_at":
        ad = auth_data(flags=UP)
    return ad


_AD_VARIANTS = [
    "plain",
    "plain",
    "uv",
    "backed_up",
    "bs_only",
    "no_up",
    "extensions",
    "ed_without_extensions",
    "trailing",
    "truncated",
    "no_at",
    "other_rp",
    "other_cred_id",
]


def _statement(fmt: str, cred: Credential, ad: bytes, cd: bytes) -> dict[str, Any]:
    """A valid-as-possible statement of ``fmt`` over ``ad`` and ``cd``."""
    cd_hash = hashlib.sha256(cd).digest()
    if fmt == "packed-self":
        return {"alg": cred.alg, "sig": sign(cred.private, cred.alg, ad + cd_hash)}
    if fmt == "packed-x5c":
        return {
            "alg": -7,
            "sig": sign(_CHAIN.leaf_key, -7, ad + cd_hash),
            "x5c": _CHAIN.x5c,
        }
    if fmt == "fido-u2f":
        m = cose_map(cred.private, cred.alg)
        point = b"\x04" + m.get(-2, b"") + m.get(-3, b"")
        data = b"\x00" + ad[:32] + cd_hash + cred.cred_id + point
        return {"sig": sign(_CHAIN.leaf_key, -7, data), "x5c": _CHAIN.x5c[:1]}
    return {}


def _fmt_name(fmt: str) -> str:
    return "packed" if fmt.startswith("packed") else fmt


def _attestation_object(fmt: str, stmt: dict[str, Any], ad: bytes, variant: str) -> bytes:
    """The attestation object, encoded as clients do or in one of the odd ways."""
    fmt_item = cbor2.dumps(fmt)
    stmt_item = cbor2.dumps(stmt)
    ad_item = cbor2.dumps(ad)
    key_fmt, key_stmt, key_ad = (cbor2.dumps(k) for k in ("fmt", "attStmt", "authData"))
    members = [key_fmt + fmt_item, key_stmt + stmt_item, key_ad + ad_item]
    if variant == "reordered":
        members = [members[2], members[0], members[1]]
    elif variant == "ad_two_byte_length":
        members[2] = key_ad + _bstr(ad, 2)
    elif variant == "ad_four_byte_length":
        members[2] = key_ad + _bstr(ad, 4)
    elif variant == "fmt_int":
        members[0] = key_fmt + cbor2.dumps(7)
    elif variant == "fmt_long":
        members[0] = key_fmt + cbor2.dumps(fmt + "x" * 24)
    elif variant == "fmt_empty":
        members[0] = key_fmt + cbor2.dumps("")
    elif variant == "fmt_non_ascii":
        members[0] = key_fmt + cbor2.dumps(fmt + "\u00e9")
    elif variant == "fmt_two_byte_length":
        members[0] = key_fmt + _head(3, len(fmt), 1) + fmt.encode()
    elif variant == "compound_list":
        members[0] = key_fmt + cbor2.dumps("compound")
        members[1] = key_stmt + cbor2.dumps([{"fmt": "none", "attStmt": {}}])
    elif variant == "stmt_int_key":
        members[1] = key_stmt + cbor2.dumps({**stmt, 1: 1})
    elif variant == "stmt_extra_member":
        members[1] = key_stmt + cbor2.dumps({**stmt, "x": 1})
    elif variant == "stmt_list":
        members[1] = key_stmt + cbor2.dumps([])
    elif variant == "stmt_indefinite":
        members[1] = key_stmt + b"\xbf" + stmt_item[1:] + b"\xff"
    elif variant == "ad_text":
        members[2] = key_ad + cbor2.dumps(ad.hex())
    if variant == "indefinite":
        return b"\xbf" + b"".join(members) + b"\xff"
    if variant == "duplicate_key":
        return _head(5, 4) + b"".join(members) + key_fmt + fmt_item
    if variant == "extra_member":
        return _head(5, 4) + b"".join(members) + cbor2.dumps("x") + cbor2.dumps(1)
    if variant == "missing_member":
        return _head(5, 2) + b"".join(members[:2])
    body = _head(5, 3) + b"".join(members)
    if variant == "trailing":
        body += b"\x00"
    elif variant == "truncated":
        body = body[:-1]
    return body


_AO_VARIANTS = [
    "canonical",
    "canonical",
    "canonical",
    "reordered",
    "ad_two_byte_length",
    "ad_four_byte_length",
    "fmt_int",
    "fmt_long",
    "fmt_empty",
    "fmt_non_ascii",
    "fmt_two_byte_length",
    "compound_list",
    "stmt_int_key",
    "stmt_extra_member",
    "stmt_list",
    "stmt_indefinite",
    "ad_text",
    "indefinite",
    "duplicate_key",
    "extra_member",
    "missing_member",
    "trailing",
    "truncated",
]


def _cd(variant: str) -> bytes:
    """clientDataJSON of a registration, as browsers send it or mutated."""
    base = client_data("webauthn.create")
    bare = base.replace(b',"crossOrigin":false', b"")
    table: dict[str, Callable[[], bytes]] = {
        "canonical": lambda: base,
        "bare": lambda: bare,
        "cross_origin": lambda: client_data("webauthn.create", crossOrigin=True),
        "cross_origin_null": lambda: client_data("webauthn.create", crossOrigin=None),
        "cross_origin_zero": lambda: client_data("webauthn.create", crossOrigin=0),
        "top_origin": lambda: client_data("webauthn.create", crossOrigin=True, topOrigin=_TOP),
        "top_origin_same": lambda: client_data("webauthn.create", topOrigin=_TOP),
        "extra_member": lambda: client_data("webauthn.create", extra="ignored"),
        "chromium_member": lambda: (
            base[:-1] + b',"other_keys_can_be_added_here":"do not compare clientDataJSON"}'
        ),
        "leading_space": lambda: b" " + base,
        "trailing_newline": lambda: base + b"\n",
        "space_after_colon": lambda: base.replace(b'"origin":', b'"origin": '),
        "other_origin": lambda: client_data("webauthn.create", origin=_OTHER_ORIGIN),
        "evil_origin": lambda: client_data("webauthn.create", origin="https://evil.example"),
        "quoted_origin": lambda: client_data("webauthn.create", origin=_QUOTED_ORIGIN),
        "unicode_origin": lambda: json.dumps(
            {"type": "webauthn.create", "challenge": b64(CHALLENGE), "origin": _UNICODE_ORIGIN},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode(),
        "unicode_origin_escaped": lambda: client_data("webauthn.create", origin=_UNICODE_ORIGIN),
        "escaped_origin": lambda: base.replace(b"https:", b"https\\u003a"),
        "escaped_slash": lambda: base.replace(b"https://", b"https:\\/\\/"),
        "other_challenge": lambda: client_data("webauthn.create", challenge=b"\x02" * 32),
        "padded_challenge": lambda: base.replace(
            b64(CHALLENGE).encode(), b64(CHALLENGE).encode() + b"="
        ),
        "get_type": lambda: client_data("webauthn.get"),
        "duplicate_type": lambda: base[:-1] + b',"type":"webauthn.create"}',
        "bare_brace_tail": lambda: bare[:-1] + b"}",
        "double_brace": lambda: base + b"}",
        "not_utf8": lambda: base.replace(b"example", b"ex\xffample"),
        "array": lambda: b'["webauthn.create"]',
        "empty": lambda: b"",
        "nan": lambda: base[:-1] + b',"x":NaN}',
    }
    return table[variant]()


_CD_VARIANTS = [
    "canonical",
    "canonical",
    "canonical",
    "bare",
    "cross_origin",
    "cross_origin_null",
    "cross_origin_zero",
    "top_origin",
    "top_origin_same",
    "extra_member",
    "chromium_member",
    "leading_space",
    "trailing_newline",
    "space_after_colon",
    "other_origin",
    "evil_origin",
    "quoted_origin",
    "unicode_origin",
    "unicode_origin_escaped",
    "escaped_origin",
    "escaped_slash",
    "other_challenge",
    "padded_challenge",
    "get_type",
    "duplicate_type",
    "bare_brace_tail",
    "double_brace",
    "not_utf8",
    "array",
    "empty",
    "nan",
]


def _build(  # noqa: PLR0917 - one argument per variant axis
    alg: int, fmt: str, cd_v: str, cose_v: str, ad_v: str, ao_v: str
) -> dict[str, Any]:
    """A RegistrationResponseJSON assembled from the chosen variants."""
    cred = _CREDS[alg]
    cd = _cd(cd_v)
    ad = _auth_data_bytes(cred, _cose_bytes(cred, cose_v), ad_v)
    stmt = _statement(fmt, cred, ad, cd)
    ao = _attestation_object(_fmt_name(fmt), stmt, ad, ao_v)
    return {
        "id": b64(cred.cred_id),
        "rawId": b64(cred.cred_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64(cd),
            "attestationObject": b64(ao),
            "transports": ["usb", "nfc"],
        },
        "clientExtensionResults": {},
        "authenticatorAttachment": "cross-platform",
    }


def _last_char_bumped(text: str) -> str:
    """``text`` with its last character replaced by the next one of the alphabet."""
    alphabet = _b64._ALPHABET
    if text[-1] not in alphabet:  # an earlier mutation padded it: already not canonical
        return text
    return text[:-1] + alphabet[(alphabet.index(text[-1]) + 1) % 64]


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(r: dict[str, Any]) -> None:
        r[key] = value

    return apply


def _set_inner(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(r: dict[str, Any]) -> None:
        r["response"][key] = value

    return apply


def _edit_inner(key: str, edit: Callable[[str], Any]) -> Callable[[dict[str, Any]], None]:
    def apply(r: dict[str, Any]) -> None:
        value = r["response"].get(key)
        if type(value) is str and value:  # earlier mutations may have replaced it
            r["response"][key] = edit(value)

    return apply


def _both_ids(edit: Callable[[str], str]) -> Callable[[dict[str, Any]], None]:
    def apply(r: dict[str, Any]) -> None:
        value = r.get("rawId")
        if type(value) is str and value:  # earlier mutations may have replaced it
            r["id"] = r["rawId"] = edit(value)

    return apply


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    def apply(r: dict[str, Any]) -> None:
        r.pop(key, None)

    return apply


def _drop_inner(key: str) -> Callable[[dict[str, Any]], None]:
    def apply(r: dict[str, Any]) -> None:
        r["response"].pop(key, None)

    return apply


_RESPONSE_MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "id_differs": _set("id", "AAAAAAAAAAAAAAAAAAAAAA"),
    "id_missing": _drop("id"),
    "id_not_str": _set("id", 7),
    "raw_id_padded": _both_ids(lambda t: t + "=="),
    "raw_id_plus": _both_ids(lambda t: "+" + t[1:]),
    "raw_id_slash": _both_ids(lambda t: t[:-2] + "/" + t[-1]),
    "raw_id_non_canonical": _both_ids(_last_char_bumped),
    "raw_id_empty": _both_ids(lambda t: ""),
    "raw_id_one_char": _both_ids(lambda t: "A"),
    "raw_id_five_chars": _both_ids(lambda t: "AAAAA"),
    "raw_id_not_str": _set("rawId", 7),
    "raw_id_non_ascii": _both_ids(lambda t: "\u00e9" + t[1:]),
    "raw_id_space": _both_ids(lambda t: t[:4] + " " + t[5:]),
    "raw_id_too_long": _both_ids(lambda t: "A" * 1368),
    "type_wrong": _set("type", "public_key"),
    "type_missing": _drop("type"),
    "response_missing": _drop("response"),
    "response_list": _set("response", []),
    "attachment_platform": _set("authenticatorAttachment", "platform"),
    "attachment_unknown": _set("authenticatorAttachment", "usb"),
    "attachment_list": _set("authenticatorAttachment", ["platform"]),
    "attachment_null": _set("authenticatorAttachment", None),
    "attachment_missing": _drop("authenticatorAttachment"),
    "ext_missing": _drop("clientExtensionResults"),
    "ext_cred_props": _set("clientExtensionResults", {"credProps": {"rk": True}}),
    "ext_nested_list": _set("clientExtensionResults", {"a": [1, {"b": [2]}]}),
    "ext_null": _set("clientExtensionResults", None),
    "ext_list": _set("clientExtensionResults", []),
    "transports_missing": _drop_inner("transports"),
    "transports_empty": _set_inner("transports", []),
    "transports_str": _set_inner("transports", "usb"),
    "transports_duplicates": _set_inner("transports", ["usb", "nfc", "usb", "hybrid"]),
    "transports_non_str": _set_inner("transports", ["usb", 1]),
    "transports_sixteen": _set_inner("transports", [f"t{i}" for i in range(16)]),
    "transports_seventeen": _set_inner("transports", [f"t{i}" for i in range(17)]),
    "transports_seventeen_bad": _set_inner("transports", [1] * 17),
    "transports_null": _set_inner("transports", None),
    "cd_padded": _edit_inner("clientDataJSON", lambda t: t + "=" * (-len(t) % 4)),
    "cd_plus": _edit_inner("clientDataJSON", lambda t: t.replace("-", "+").replace("_", "/")),
    "cd_non_canonical": _edit_inner("clientDataJSON", _last_char_bumped),
    "cd_not_str": _set_inner("clientDataJSON", None),
    "cd_empty": _set_inner("clientDataJSON", ""),
    "cd_missing": _drop_inner("clientDataJSON"),
    "ao_padded": _edit_inner("attestationObject", lambda t: t + "=" * (-len(t) % 4)),
    "ao_one_extra_char": _edit_inner("attestationObject", lambda t: t + "A"),
    "ao_non_canonical": _edit_inner("attestationObject", _last_char_bumped),
    "ao_newline": _edit_inner("attestationObject", lambda t: t[:8] + "\n" + t[8:]),
    "ao_bytes": _edit_inner("attestationObject", lambda t: t.encode()),
    "ao_empty": _set_inner("attestationObject", ""),
    "ao_missing": _drop_inner("attestationObject"),
    "ao_too_long": _set_inner("attestationObject", "A" * 90000),
}


_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "expected_origins": st.sampled_from(
            [
                ORIGIN,
                [ORIGIN, _OTHER_ORIGIN],
                [_OTHER_ORIGIN],
                [ORIGIN, _QUOTED_ORIGIN, _UNICODE_ORIGIN],
            ]
        ),
        "allow_cross_origin": st.booleans(),
        "allowed_top_origins": st.just([_TOP]),
        "require_user_verification": st.booleans(),
        "require_user_presence": st.booleans(),
        "supported_algorithms": st.sampled_from([[-7], [-8, -257], [-35, -36, -7]]),
        "attestation": st.sampled_from(
            [None, AttestationPolicy(), AttestationPolicy(trust_anchors=[_CHAIN.root])]
        ),
        "expected_rp_id": st.sampled_from([RP_ID, "other.example"]),
    },
)


# --- outcomes ----------------------------------------------------------------

_OBJECT_FIELDS = frozenset({"credential_public_key", "client_data", "authenticator_data"})


def _comparable(reg: VerifiedRegistration) -> dict[str, Any]:
    """Every field of a result, with the parsed objects reduced to comparable values."""
    out = {
        f.name: getattr(reg, f.name)
        for f in dataclasses.fields(reg)
        if f.name not in _OBJECT_FIELDS
    }
    cd = reg.client_data
    out["client_data"] = (cd.type, cd.challenge, cd.origin, cd.cross_origin, cd.top_origin, cd.raw)
    ad = reg.authenticator_data
    out["authenticator_data"] = (ad.raw, ad)
    acd = ad.attested_credential_data
    assert acd is not None
    out["cose_map"] = dict(acd.cose_map)
    out["cose_value_types"] = sorted((k, type(v).__name__) for k, v in acd.cose_map.items())
    key = reg.credential_public_key
    out["credential_public_key"] = (key.alg, key.cose, key)
    return out


def _outcome(response: Any, **options: Any) -> tuple[Any, ...]:
    args: dict[str, Any] = {
        "expected_challenge": CHALLENGE,
        "expected_origins": ORIGIN,
        "expected_rp_id": RP_ID,
        "now": NOW,
    }
    args.update(options)
    try:
        return ("ok", _comparable(verify_registration(response, **args)))
    except MfaError as exc:
        return ("error", type(exc), getattr(exc, "field", None), str(exc))


@contextlib.contextmanager
def _general_paths() -> Iterator[None]:
    """Turn every registration fast path off (each then falls back to the general one)."""
    with (
        mock.patch.object(_response, "_common_registration", return_value=None),
        mock.patch.object(_structures, "_common_attestation_object", return_value=None),
        mock.patch.object(_structures, "known_cose_key", return_value=None),
        mock.patch.object(_cose, "known_cose_key", return_value=None),
        mock.patch.object(_registration, "template_client_data", return_value=None),
    ):
        yield


def _general_outcome(response: Any, **options: Any) -> tuple[Any, ...]:
    with _general_paths():
        return _outcome(response, **options)


def _valid(alg: int = -7, fmt: str = "none") -> dict[str, Any]:
    return _build(alg, fmt, "canonical", "canonical", "plain", "canonical")


# --- the differential test ------------------------------------------------------


_AXES = ("cd", "cose", "ad", "ao", "response", "options")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    alg=st.sampled_from(sorted(_CREDS)),
    fmt=st.sampled_from(["none", "none", "packed-self", "packed-x5c", "fido-u2f"]),
    # Mutate at most two aspects at once, none a third of the time: valid
    # registrations stay common, so the fast paths' results get compared too.
    axes=st.just(frozenset()) | st.frozensets(st.sampled_from(_AXES), min_size=1, max_size=2),
    data=st.data(),
)
def test_fast_paths_agree_with_general_paths(
    alg: int, fmt: str, axes: frozenset[str], data: st.DataObject
) -> None:
    """On valid and mutated registrations both paths give the same result or the same error."""

    def pick(axis: str, usual: Any, strategy: st.SearchStrategy[Any]) -> Any:
        return data.draw(strategy, label=axis) if axis in axes else usual

    cd_v = pick("cd", "canonical", st.sampled_from(_CD_VARIANTS))
    cose_v = pick("cose", "canonical", st.sampled_from(_COSE_VARIANTS))
    ad_v = pick("ad", "plain", st.sampled_from(_AD_VARIANTS))
    ao_v = pick("ao", "canonical", st.sampled_from(_AO_VARIANTS))
    mutations = pick(
        "response",
        [],
        st.lists(st.sampled_from(sorted(_RESPONSE_MUTATIONS)), min_size=1, max_size=2),
    )
    options = pick("options", {}, _OPTIONS)
    response: Any = _build(alg, fmt, cd_v, cose_v, ad_v, ao_v)
    for name in mutations:
        if type(response.get("response")) is dict or not name.startswith(("cd_", "ao_", "trans")):
            _RESPONSE_MUTATIONS[name](response)
    if data.draw(st.integers(0, 9), label="as_json") == 0:
        with contextlib.suppress(TypeError):  # bytes members stay a dict
            response = json.dumps(response)
    fast = _outcome(copy.deepcopy(response), **options)
    general = _general_outcome(copy.deepcopy(response), **options)
    assert fast == general


@pytest.mark.parametrize("alg", sorted(_CREDS))
@pytest.mark.parametrize("fmt", ["none", "packed-self", "packed-x5c", "fido-u2f"])
def test_valid_registrations_agree(alg: int, fmt: str) -> None:
    """Each algorithm and format: the fast and general paths give the same outcome."""
    response = _valid(alg, fmt)
    fast = _outcome(copy.deepcopy(response))
    assert fast == _general_outcome(copy.deepcopy(response))
    if fmt != "fido-u2f" or alg == -7:
        assert fast[0] == "ok"


@pytest.mark.parametrize("cd_v", _CD_VARIANTS)
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"allow_cross_origin": True, "allowed_top_origins": [_TOP]},
        {"expected_origins": [ORIGIN, _QUOTED_ORIGIN, _UNICODE_ORIGIN, _OTHER_ORIGIN]},
    ],
)
def test_every_client_data_variant_agrees(cd_v: str, options: dict[str, Any]) -> None:
    """Every clientDataJSON variant: same outcome on both paths, under three option sets."""
    response = _build(-7, "none", cd_v, "canonical", "plain", "canonical")
    assert _outcome(copy.deepcopy(response), **options) == _general_outcome(
        copy.deepcopy(response), **options
    )


@pytest.mark.parametrize("alg", sorted(_CREDS))
@pytest.mark.parametrize("cose_v", _COSE_VARIANTS)
def test_every_cose_variant_agrees(alg: int, cose_v: str) -> None:
    """Every COSE key encoding of every algorithm: same outcome on both paths."""
    for ad_v in ("plain", "extensions", "truncated", "trailing"):
        response = _build(alg, "packed-self", "canonical", cose_v, ad_v, "canonical")
        assert _outcome(copy.deepcopy(response)) == _general_outcome(copy.deepcopy(response))


@pytest.mark.parametrize("ao_v", _AO_VARIANTS)
@pytest.mark.parametrize("fmt", ["none", "packed-self", "packed-x5c"])
def test_every_attestation_object_variant_agrees(ao_v: str, fmt: str) -> None:
    """Every attestation object encoding: same outcome on both paths."""
    response = _build(-7, fmt, "canonical", "canonical", "plain", ao_v)
    assert _outcome(copy.deepcopy(response)) == _general_outcome(copy.deepcopy(response))


@pytest.mark.parametrize("name", sorted(_RESPONSE_MUTATIONS))
def test_every_response_mutation_agrees(name: str) -> None:
    """Every response member mutation: same outcome on both paths."""
    response = _valid()
    _RESPONSE_MUTATIONS[name](response)
    assert _outcome(copy.deepcopy(response)) == _general_outcome(copy.deepcopy(response))


@pytest.mark.parametrize(
    ("ao_v", "accepted"),
    [("canonical", True), ("reordered", True), ("ad_two_byte_length", True), ("trailing", False)],
)
def test_attestation_object_variants_accepted_as_expected(ao_v: str, accepted: bool) -> None:
    """Non-canonical but valid encodings verify; trailing bytes are refused (both paths)."""
    response = _build(-7, "packed-self", "canonical", "canonical", "plain", ao_v)
    outcome = _outcome(response)
    assert (outcome[0] == "ok") is accepted
    if not accepted:
        assert outcome[1] is MalformedDataError


# --- long challenges: the template must not accept what parsing refuses -----------------


def _registration_with_challenge(challenge: bytes) -> dict[str, Any]:
    cd = client_data("webauthn.create", challenge=challenge)
    cred = _CREDS[-7]
    ad = auth_data(flags=UP | AT, cred_id=cred.cred_id, cose=cred.cose)
    ao = _attestation_object("none", {}, ad, "canonical")
    response = _build(-7, "none", "canonical", "canonical", "plain", "canonical")
    response["response"]["clientDataJSON"] = b64(cd)
    response["response"]["attestationObject"] = b64(ao)
    return response


@pytest.mark.parametrize(("size", "accepted"), [(768, True), (769, False), (800, False)])
def test_registration_challenge_length_limit_is_the_parsers(size: int, accepted: bool) -> None:
    """Up to 768 bytes (1024 base64url characters) both paths accept; beyond, both refuse."""
    challenge = b"\x05" * size
    response = _registration_with_challenge(challenge)
    general = _general_outcome(copy.deepcopy(response), expected_challenge=challenge)
    if accepted:
        assert general[0] == "ok"
    else:
        assert general[:2] == ("error", ConfigurationError)
    assert _outcome(copy.deepcopy(response), expected_challenge=challenge) == general


@pytest.mark.parametrize(("size", "accepted"), [(768, True), (769, False)])
def test_authentication_challenge_length_limit_is_the_parsers(size: int, accepted: bool) -> None:
    """Assertions: up to 768 bytes accepted on both paths, a configuration error beyond."""
    challenge = b"\x05" * size
    cred = _CREDS[-7]
    response = assertion(cred, cd=client_data("webauthn.get", challenge=challenge))
    args: dict[str, Any] = {
        "expected_challenge": challenge,
        "expected_origins": ORIGIN,
        "expected_rp_id": RP_ID,
        "credential_public_key": cred.cose,
        "current_sign_count": 0,
    }
    outcomes = []
    for common in (True, False):
        with (
            mock.patch.object(_authentication, "_common_case", wraps=_authentication._common_case)
            if common
            else mock.patch.object(_authentication, "_common_case", return_value=None)
        ):
            try:
                outcomes.append(verify_authentication(copy.deepcopy(response), **args))
            except ConfigurationError as exc:
                outcomes.append(type(exc))
    assert outcomes[0] == outcomes[1]
    assert (outcomes[0] is not ConfigurationError) is accepted


# --- nesting depth: the statement is one level deeper inside the object ----------------


def _deep_statement_object(fmt: str) -> bytes:
    """An attestation object whose attStmt nests 16 containers (MAX_DEPTH) in all."""
    cred = _CREDS[-7]
    ad = auth_data(flags=UP | AT, cred_id=cred.cred_id, cose=cred.cose)
    stmt = _statement(fmt, cred, ad, _cd("canonical"))
    nested: list[Any] = []
    for _ in range(_cbor.MAX_DEPTH - 2):
        nested = [nested]
    stmt["x"] = nested  # the map, then 14 + 1 lists: 16 containers
    return _attestation_object(_fmt_name(fmt), stmt, ad, "canonical")


def test_attestation_object_reader_keeps_the_depth_limit() -> None:
    """A statement nested to the limit in the object: the reader declines, the parser refuses."""
    raw = _deep_statement_object("none")
    with (
        mock.patch.object(_structures, "_common_attestation_object", return_value=None),
        pytest.raises(MalformedDataError, match="nested too deeply"),
    ):
        _structures.parse_attestation_object(raw)
    assert _structures._common_attestation_object(raw) is None


@pytest.mark.parametrize("fmt", ["none", "packed-self"])
def test_deep_statement_registration_agrees(fmt: str) -> None:
    """A registration whose statement nests to the depth limit fails alike on both paths."""
    response = _valid(-7, fmt)
    response["response"]["attestationObject"] = b64(_deep_statement_object(fmt))
    general = _general_outcome(copy.deepcopy(response))
    assert general[:3] == ("error", MalformedDataError, "attestationObject")
    assert _outcome(copy.deepcopy(response)) == general


# --- each fast function on its own ---------------------------------------------------


def test_common_registration_takes_the_usual_response() -> None:
    """The browser's usual response is decoded by the joint decoder, equal to the general parse."""
    response = _valid()
    with mock.patch.object(_response, "b64url_decode", side_effect=AssertionError("general")):
        fast = _response._common_registration(copy.deepcopy(response))
        via_parser = _response.parse_registration_response(copy.deepcopy(response))
    assert fast is not None
    with mock.patch.object(_response, "_common_registration", return_value=None):
        general = _response.parse_registration_response(copy.deepcopy(response))
    assert fast == via_parser == general
    assert fast.client_extension_results == general.client_extension_results


@pytest.mark.parametrize("name", sorted(_RESPONSE_MUTATIONS))
def test_common_registration_agrees_with_general_parse(name: str) -> None:
    """After any response mutation the joint decoder gives the general parse or falls back."""
    response = _valid()
    _RESPONSE_MUTATIONS[name](response)
    fast = _response._common_registration(copy.deepcopy(response))
    with mock.patch.object(_response, "_common_registration", return_value=None):
        try:
            general: Any = _response.parse_registration_response(copy.deepcopy(response))
        except MalformedDataError:
            general = None
    if fast is not None:
        assert fast == general
        assert fast.client_extension_results == general.client_extension_results
        assert fast.transports == general.transports


def test_common_attestation_object_takes_the_usual_encoding() -> None:
    """The usual attestation object is read without the generic CBOR decode, equal to it."""
    cred = _CREDS[-7]
    ad = auth_data(flags=UP | AT, cred_id=cred.cred_id, cose=cred.cose)
    stmt = _statement("packed-self", cred, ad, _cd("canonical"))
    raw = _attestation_object("packed", stmt, ad, "canonical")
    with mock.patch.object(_structures, "decode_single", side_effect=AssertionError("general")):
        fast = _structures._common_attestation_object(raw)
        via_parser = _structures.parse_attestation_object(raw)
    assert fast is not None
    with mock.patch.object(_structures, "_common_attestation_object", return_value=None):
        general = _structures.parse_attestation_object(raw)
    assert fast == via_parser == general
    assert dict(fast.att_stmt) == dict(general.att_stmt)


@pytest.mark.parametrize("ao_v", _AO_VARIANTS)
@pytest.mark.parametrize("ad_v", ["plain", "extensions", "truncated", "no_at", "trailing"])
def test_common_attestation_object_agrees_with_general_parse(ao_v: str, ad_v: str) -> None:
    """For every encoding the attestation object reader gives the general parse or falls back."""
    cred = _CREDS[-7]
    ad = _auth_data_bytes(cred, cred.cose, ad_v)
    raw = _attestation_object("none", {}, ad, ao_v)
    fast = _structures._common_attestation_object(raw)
    with mock.patch.object(_structures, "_common_attestation_object", return_value=None):
        try:
            general: Any = _structures.parse_attestation_object(raw)
        except MalformedDataError:
            general = None
    if fast is not None:
        assert general is not None
        assert (fast.raw, fast.fmt, dict(fast.att_stmt), fast.auth_data) == (
            general.raw,
            general.fmt,
            dict(general.att_stmt),
            general.auth_data,
        )
    taken = ao_v in {"canonical", "ad_two_byte_length", "stmt_extra_member", "fmt_two_byte_length"}
    if ad_v in {"plain", "extensions"} and ao_v in {"canonical", "ad_two_byte_length"}:
        assert fast is not None
    if not taken:
        assert fast is None


@pytest.mark.parametrize("alg", [-7, -8, -257])
def test_known_cose_key_takes_the_canonical_keys(alg: int) -> None:
    """ES256, EdDSA and RS256 canonical keys are read by template, equal to the strict decode."""
    cose = _CREDS[alg].cose
    known = _cose.known_cose_key(cose, 0)
    assert known is not None
    assert known == _cbor.decode_prefix(cose, 0, field="f")
    assert [type(v) for v in known[0].values()] == [
        type(v) for v in _cbor.decode_prefix(cose, 0, field="f")[0].values()
    ]
    with mock.patch.object(_cose, "decode_single", side_effect=AssertionError("general")):
        key = parse_credential_public_key(cose)
    with mock.patch.object(_cose, "known_cose_key", return_value=None):
        assert parse_credential_public_key(cose) == key
    ad = auth_data(flags=UP | AT, cred_id=b"c" * 16, cose=cose)
    with mock.patch.object(_structures, "decode_prefix", side_effect=AssertionError("general")):
        parsed = _structures.parse_authenticator_data(ad)
    assert parsed.attested_credential_data is not None
    assert dict(parsed.attested_credential_data.cose_map) == known[0]


@pytest.mark.parametrize(
    ("alg", "variant"),
    [
        (-35, "canonical"),
        (-36, "canonical"),
        (-7, "reordered"),
        (-7, "long_length"),
        (-8, "long_length"),
        (-257, "long_length"),
        (-7, "indefinite"),
        (-257, "reordered"),
    ],
)
def test_known_cose_key_declines_other_keys(alg: int, variant: str) -> None:
    """Keys outside the three canonical templates are declined (the decoder reads them)."""
    assert _cose.known_cose_key(_cose_bytes(_CREDS[alg], variant), 0) is None


def test_known_cose_key_at_offset_and_followed_by_bytes() -> None:
    """A canonical key inside a buffer is read at its offset and ends where the decoder ends."""
    for alg in (-7, -8, -257):
        cose = _CREDS[alg].cose
        buf = b"\x00" * 7 + cose + b"\xa1\x01\x02"
        known = _cose.known_cose_key(buf, 7)
        assert known is not None
        assert known == _cbor.decode_prefix(buf, 7, field="f")
        assert known[1] == 7 + len(cose)


@st.composite
def _cose_buffers(draw: st.DrawFn) -> tuple[bytes, int]:
    alg = draw(st.sampled_from([-7, -8, -257]))
    raw = bytearray(_CREDS[alg].cose)
    for _ in range(draw(st.integers(0, 2))):
        pos = draw(st.integers(0, len(raw) - 1))
        raw[pos] = draw(
            st.sampled_from([0x00, 0x20, 0x21, 0x22, 0x43, 0x58, 0x59, 0xA4, 0xA5, 0xFF])
            | st.integers(0, 255)
        )
    cut = draw(st.integers(0, len(raw)))
    if draw(st.booleans()):
        raw = raw[:cut]
    prefix = draw(st.binary(max_size=3))
    suffix = draw(st.binary(max_size=3))
    return prefix + bytes(raw) + suffix, len(prefix)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cose_buffers())
def test_known_cose_key_agrees_with_decode_prefix(case: tuple[bytes, int]) -> None:
    """Whenever the template reader answers, the strict decoder gives the same map and end."""
    raw, start = case
    known = _cose.known_cose_key(raw, start)
    if known is None:
        return
    decoded = _cbor.decode_prefix(raw, start, field="f")
    assert known == decoded
    assert [(k, type(v)) for k, v in known[0].items()] == [
        (k, type(v)) for k, v in decoded[0].items()
    ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), st.integers(0, 4))
def test_known_cose_key_on_random_bytes(raw: bytes, start: int) -> None:
    """On random bytes the template reader declines or agrees with the strict decoder."""
    known = _cose.known_cose_key(raw, start)
    if known is not None:
        assert known == _cbor.decode_prefix(raw, start, field="f")


def test_template_client_data_takes_the_usual_client_data() -> None:
    """Browser client data matches the template: (origin, False), or (origin, None) when bare."""
    origins = frozenset((ORIGIN,))
    assert _ceremony.template_client_data(
        _cd("canonical"), "webauthn.create", CHALLENGE, origins
    ) == (ORIGIN, False)
    assert _ceremony.template_client_data(_cd("bare"), "webauthn.create", CHALLENGE, origins) == (
        ORIGIN,
        None,
    )
    assert (
        _ceremony.template_client_data(_cd("canonical"), "webauthn.get", CHALLENGE, origins) is None
    )


def test_registration_uses_the_template_for_usual_client_data() -> None:
    """verify_registration does not parse client data in the template form, same result."""
    response = _valid()
    with mock.patch.object(
        _registration, "parse_client_data", side_effect=AssertionError("parsed")
    ):
        fast = _outcome(copy.deepcopy(response))
    assert fast[0] == "ok"
    assert fast == _general_outcome(copy.deepcopy(response))


_ORIGIN_TEXT = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from('"\\\x00\x1f\x7f\u2028/'),
    max_size=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_ORIGIN_TEXT, min_size=1, max_size=3),
    st.binary(min_size=1, max_size=100),
    st.sampled_from(["webauthn.create", "webauthn.get"]),
    st.booleans(),
    st.booleans(),
)
def test_template_client_data_agrees_with_parsing(
    origins: list[str], challenge: bytes, ceremony: str, bare: bool, ascii_only: bool
) -> None:
    """Client data serialized from any origin matches the template only when parsing accepts it."""
    obj: dict[str, Any] = {"type": ceremony, "challenge": b64(challenge), "origin": origins[0]}
    if not bare:
        obj["crossOrigin"] = False
    raw = json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii_only).encode()
    allowed = frozenset(origins)
    matched = _ceremony.template_client_data(raw, "webauthn.create", challenge, allowed)
    if matched is None:
        return
    parsed = _structures.parse_client_data(raw)
    _ceremony.check_client_data(
        (parsed.type, parsed.challenge, parsed.origin, parsed.cross_origin, parsed.top_origin),
        ceremony="webauthn.create",
        expected_challenge=challenge,
        origins=allowed,
        allow_cross_origin=False,
        top_origins=frozenset(),
    )
    assert matched == (parsed.origin, parsed.cross_origin)
    assert parsed.top_origin is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(alphabet="ABQgw09-_+/=\u00e9 \n!", max_size=10), min_size=1, max_size=3))
def test_b64url_decode_all_agrees_with_b64url_decode(texts: list[str]) -> None:
    """The joint decode gives each text's decode, or None exactly where one would raise."""
    expected: list[bytes] | None = []
    for text in texts:
        try:
            data = _b64.b64url_decode(text, field="f", max_len=64)
        except MalformedDataError:
            expected = None
            break
        if not data:
            expected = None
            break
        assert expected is not None
        expected.append(data)
    assert _b64.b64url_decode_all(tuple(texts)) == expected


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=4))
def test_b64url_decode_all_round_trips(blobs: list[bytes]) -> None:
    """Canonical encodings of any non-empty byte strings decode jointly to those bytes."""
    assert _b64.b64url_decode_all(tuple(b64(b) for b in blobs)) == blobs


@pytest.mark.parametrize(
    "texts",
    [
        ("",),
        ("AAAA", ""),
        ("A",),
        ("AAAAA", "AA"),
        ("AA==",),
        ("AA", "=A"),
        ("AB",),
        ("AAB",),
        ("AA+A",),
        ("AA/A",),
        ("AA\nA",),
        ("AAAA", "AA\u00e9A"),
    ],
)
def test_b64url_decode_all_refuses_what_the_strict_decoder_refuses(texts: tuple[str, ...]) -> None:
    """Empty, 4k+1 long, padded, non-canonical or non-alphabet texts make the joint decode None."""
    assert _b64.b64url_decode_all(texts) is None


# --- attestation "none" without a policy -----------------------------------------------


@pytest.mark.parametrize("alg", sorted(_CREDS))
def test_none_format_without_policy_equals_default_policy(alg: int) -> None:
    """attestation=None gives what AttestationPolicy() gives for a none registration."""
    response = _valid(alg)
    assert _outcome(copy.deepcopy(response), attestation=None)[0] == "ok"
    assert _outcome(copy.deepcopy(response), attestation=None) == _outcome(
        copy.deepcopy(response), attestation=AttestationPolicy()
    )


def test_non_empty_none_statement_refused_with_and_without_policy() -> None:
    """A non-empty none statement is refused identically with and without a policy."""
    response = _build(-7, "none", "canonical", "canonical", "plain", "stmt_extra_member")
    without = _outcome(copy.deepcopy(response), attestation=None)
    assert without[:2] == ("error", InvalidAttestationError)
    assert without == _outcome(copy.deepcopy(response), attestation=AttestationPolicy())


def test_none_shortcut_is_taken_without_policy() -> None:
    """Without a policy a none statement skips the policy machinery entirely."""
    response = _valid()
    with mock.patch.object(
        _attestation, "_assess", side_effect=AssertionError("policy path")
    ) as assess:
        assert _outcome(copy.deepcopy(response), attestation=None)[0] == "ok"
    assert not assess.called


# --- the credential key loaded on first use --------------------------------------------


def _register(alg: int) -> VerifiedRegistration:
    return verify_registration(
        _valid(alg),
        expected_challenge=CHALLENGE,
        expected_origins=ORIGIN,
        expected_rp_id=RP_ID,
    )


def _signed_message(alg: int) -> tuple[bytes, bytes]:
    data = b"assertion data " + bytes([alg & 0xFF])
    return sign(_CREDS[alg].private, alg, data), data


@pytest.mark.parametrize("alg", [-7, -35, -36])
def test_registered_ec_key_is_deferred_and_equals_parsed_key(alg: int) -> None:
    """A registration's EC key is loaded on first use and equals the parsed key's numbers."""
    reg = _register(alg)
    key = reg.credential_public_key
    assert type(key._key) is _cose._Deferred
    parsed = parse_credential_public_key(reg.public_key)
    assert key.key.public_numbers() == parsed.key.public_numbers()
    assert type(key._key) is not _cose._Deferred
    assert key == parsed


@pytest.mark.parametrize("alg", [-7, -35, -36])
def test_deferred_key_verifies_genuine_signatures(alg: int) -> None:
    """The deferred key verifies a genuine signature on the first and later calls."""
    key = _register(alg).credential_public_key
    signature, data = _signed_message(alg)
    key.verify(signature, data)
    assert type(key._key) is not _cose._Deferred
    key.verify(signature, data)
    key.verify(signature, data)


@pytest.mark.parametrize("alg", [-7, -35, -36])
def test_deferred_key_refuses_bad_signature_on_first_call(alg: int) -> None:
    """A bad signature is refused on the very first call (before any load) and after."""
    key = _register(alg).credential_public_key
    assert type(key._key) is _cose._Deferred
    signature, data = _signed_message(alg)
    with pytest.raises(InvalidSignatureError):
        key.verify(signature, data + b"!")
    with pytest.raises(InvalidSignatureError):
        key.verify(signature[:-1], data)
    with pytest.raises(InvalidSignatureError):
        key.verify(b"", data)
    key.verify(signature, data)
    with pytest.raises(InvalidSignatureError):
        key.verify(signature, data + b"!")


@pytest.mark.parametrize("alg", [-7, -35, -36])
def test_deferred_key_property_loads_it(alg: int) -> None:
    """Reading .key loads the key once: the placeholder is gone and the key is reused."""
    key = _register(alg).credential_public_key
    first = key.key
    assert type(key._key) is not _cose._Deferred
    assert key.key is first
    signature, data = _signed_message(alg)
    key.verify(signature, data)


@pytest.mark.parametrize("alg", [-7, -35, -36])
def test_deferred_key_used_by_two_threads_at_once(alg: int) -> None:
    """Two threads verifying through the same fresh deferred key both succeed."""
    key = _register(alg).credential_public_key
    assert type(key._key) is _cose._Deferred
    signature, data = _signed_message(alg)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def work() -> None:
        barrier.wait()
        try:
            key.verify(signature, data)
            results.append("ok")
        except MfaError as exc:  # pragma: no cover - reported by the assert below
            results.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["ok", "ok"]
    assert type(key._key) is not _cose._Deferred


@pytest.mark.parametrize("alg", [-7, -35, -36])
def test_registered_ec_key_verifies_an_assertion(alg: int) -> None:
    """The deferred key of a registration verifies a genuine assertion end to end."""
    reg = _register(alg)
    cred = _CREDS[alg]
    result = verify_authentication(
        assertion(cred, count=3),
        expected_challenge=CHALLENGE,
        expected_origins=ORIGIN,
        expected_rp_id=RP_ID,
        credential_public_key=reg.credential_public_key,
        current_sign_count=0,
    )
    assert result.new_sign_count == 3


@pytest.mark.parametrize("alg", [-7, -35, -36])
def test_off_curve_registration_key_refused(alg: int) -> None:
    """An off-curve EC point in a registration's COSE key is malformed credentialPublicKey."""
    for fmt in ("none", "packed-self"):
        response = _build(alg, fmt, "canonical", "off_curve", "plain", "canonical")
        outcome = _outcome(copy.deepcopy(response))
        assert outcome[:3] == ("error", MalformedDataError, "credentialPublicKey")
        assert outcome == _general_outcome(copy.deepcopy(response))


@pytest.mark.parametrize("alg", [-7, -35, -36])
def test_coordinate_above_prime_registration_key_refused(alg: int) -> None:
    """An x coordinate of p plus a real x (congruent, out of range) is refused at registration."""
    cred = _CREDS[alg]
    m = cose_map(cred.private, alg)
    size = len(m[-2])
    p = _cose._EC_EQUATION[alg][0]
    x = int.from_bytes(m[-2], "big") + p
    if x >= 256**size:
        x = p  # x = p itself: out of range too
    m[-2] = x.to_bytes(size, "big")
    ad = auth_data(flags=UP | AT, cred_id=cred.cred_id, cose=cbor2.dumps(m))
    response = _valid(alg)
    response["response"]["attestationObject"] = b64(
        _attestation_object("none", {}, ad, "canonical")
    )
    outcome = _outcome(response)
    assert outcome[:3] == ("error", MalformedDataError, "credentialPublicKey")


# --- the fast builder and the AAGUID cache -------------------------------------------


def test_registration_result_is_the_public_frozen_class() -> None:
    """verify_registration returns a genuine, frozen VerifiedRegistration equal to a copy."""
    reg = _register(-8)
    assert type(reg) is VerifiedRegistration
    assert dataclasses.replace(reg) == reg
    with pytest.raises(dataclasses.FrozenInstanceError):
        reg.sign_count = 1  # type: ignore[misc]


def test_aaguid_cache_gives_equal_uuids() -> None:
    """The cached AAGUID conversion equals uuid.UUID(bytes=...) for several values."""
    import uuid

    for raw in (bytes(16), b"\x01" * 16, bytes(range(16))):
        assert _registration._aaguid(raw) == uuid.UUID(bytes=raw)
        assert _registration._aaguid(raw) is _registration._aaguid(raw)
