"""Authentication ceremony verification (WebAuthn Level 3 §7.2)."""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mfakit.errors import ConfigurationError, MalformedDataError, SignCountError, WebAuthnError

from ._b64 import _CANONICAL_LAST, _FILL, _LAST_OK, _PAD, _TO_STANDARD, _a2b
from ._ceremony import (
    _CD_HEADS,
    _TO_URL,
    MAX_CHALLENGE_BYTES,
    _b2a,
    _rp_id_hash,
    check_challenge_arg,
    check_client_data,
    check_flags,
    check_rp_id_hash,
    origin_set,
    origin_suffixes,
    single_origin,
)
from ._cose import (
    CredentialPublicKey,
    cached_credential_public_key,
    parse_credential_public_key,
)
from ._response import (
    _ATTACHMENTS,
    _CD_MAX,
    _ID_MAX,
    _SIG_MAX,
    _UH_MAX,
    authentication_fields,
)
from ._structures import (
    _SCAN_ONCE,
    EMPTY_MAP,
    client_data_fields,
    parse_authenticator_data,
)

__all__ = ["VerifiedAuthentication", "verify_authentication"]

_NO_TOP_ORIGINS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedAuthentication:
    """An assertion that passed every check of §7.2.

    Attributes:
        credential_id: The credential used (``rawId``).
        new_sign_count: The counter to store (compare-and-set it).
        sign_count_regressed: True when the counter did not increase and the
            caller allowed that (``allow_sign_count_regression=True``).
        user_present: The UP flag.
        user_verified: The UV flag.
        backup_eligible: The BE flag.
        backup_state: The BS flag (store it: a passkey may become synced).
        backup_eligibility_upgraded: True when the credential was stored as
            not backup-eligible and now asserts BE, and the caller accepted
            that (``accept_backup_eligibility_upgrade=True``): store BE.
        user_handle: The user handle the authenticator returned (discoverable
            credentials), else ``None``.
        authenticator_attachment: ``platform``, ``cross-platform`` or ``None``.
        extensions: The client extension results.
        authenticator_extensions: Authenticator extension outputs, if any.
    """

    credential_id: bytes
    new_sign_count: int
    sign_count_regressed: bool = False
    user_present: bool
    user_verified: bool
    backup_eligible: bool
    backup_state: bool
    user_handle: bytes | None
    authenticator_attachment: str | None
    extensions: Mapping[str, Any]
    authenticator_extensions: Mapping[str, Any]
    backup_eligibility_upgraded: bool = False


class _Build:
    """Builds a :class:`VerifiedAuthentication` without the frozen ``__init__``.

    A frozen dataclass's ``__init__`` stores each field through
    ``object.__setattr__``, a few microseconds per assertion. This class has
    exactly the same slots, so plain slot stores fill it and its instance then
    becomes a ``VerifiedAuthentication`` (``__class__`` assignment between
    layout-compatible classes); the object is then indistinguishable from one
    made by ``__init__`` (a test compares them field by field). Arguments are
    in the dataclass's field order.
    """

    __slots__ = VerifiedAuthentication.__slots__

    def __init__(  # noqa: PLR0917 - positional: keywords cost time on the hot path
        self,
        credential_id: bytes,
        new_sign_count: int,
        sign_count_regressed: bool,
        user_present: bool,
        user_verified: bool,
        backup_eligible: bool,
        backup_state: bool,
        user_handle: bytes | None,
        authenticator_attachment: str | None,
        extensions: Mapping[str, Any],
        authenticator_extensions: Mapping[str, Any],
        backup_eligibility_upgraded: bool = False,
    ) -> None:
        self.credential_id = credential_id
        self.new_sign_count = new_sign_count
        self.sign_count_regressed = sign_count_regressed
        self.user_present = user_present
        self.user_verified = user_verified
        self.backup_eligible = backup_eligible
        self.backup_state = backup_state
        self.user_handle = user_handle
        self.authenticator_attachment = authenticator_attachment
        self.extensions = extensions
        self.authenticator_extensions = authenticator_extensions
        self.backup_eligibility_upgraded = backup_eligibility_upgraded
        self.__class__ = VerifiedAuthentication  # type: ignore[assignment]


# What calling _Build returns: by then its class is VerifiedAuthentication.
_build_result: Callable[..., VerifiedAuthentication] = _Build  # type: ignore[assignment]


# Flags bytes a 37-byte assertion cannot carry: AT or ED (the data they
# announce is absent), or BS without BE (§6.1).
_NOT_BARE_ASSERTION: tuple[bool, ...] = tuple(
    bool(f & 0xC0) or f & 0x18 == 0x10 for f in range(256)
)
# (UP, UV, BE, BS) for every flags byte: one lookup instead of four bool() calls.
_FLAG_BITS: tuple[tuple[bool, bool, bool, bool], ...] = tuple(
    (bool(f & 0x01), bool(f & 0x04), bool(f & 0x08), bool(f & 0x10)) for f in range(256)
)


def verify_authentication(
    response: object,
    *,
    expected_challenge: bytes,
    expected_origins: str | Collection[str],
    expected_rp_id: str,
    credential_public_key: bytes | CredentialPublicKey,
    current_sign_count: int,
    require_user_verification: bool = False,
    require_user_presence: bool = True,
    now: datetime | None = None,
    allow_cross_origin: bool = False,
    allowed_top_origins: Collection[str] = (),
    expected_backup_eligible: bool | None = None,
    expected_user_handle: bytes | None = None,
    allow_sign_count_regression: bool = False,
    accept_backup_eligibility_upgrade: bool = False,
) -> VerifiedAuthentication:
    """Verify an authentication assertion (WebAuthn Level 3 §7.2).

    The steps, in the spec's order:

    * decode the Level 3 JSON (``rawId`` equals ``id``, ``type`` is ``public-key``);
    * the caller looks the credential up by ``credential_id`` and passes its key;
      if ``expected_user_handle`` is given, a returned ``userHandle`` must equal it;
    * parse ``clientDataJSON``; ``C.type == "webauthn.get"``, ``C.challenge``
      (constant time), ``C.origin``, ``C.crossOrigin``, ``C.topOrigin``;
    * ``rpIdHash`` is SHA-256 of ``expected_rp_id``;
    * UP set (unless turned off), UV set when required; BS not set without BE;
    * BE equals ``expected_backup_eligible`` when the caller passes it
      (§7.2: a credential's backup eligibility never changes), except that
      ``accept_backup_eligibility_upgrade=True`` accepts BE set on a
      credential stored without it (a provider started syncing it);
    * the signature over ``authenticatorData || SHA-256(clientDataJSON)``
      verifies with the stored key;
    * the signature counter: if either the stored or the received value is
      non-zero, the received one must be greater (§6.1.1); otherwise
      :class:`SignCountError`, or, with ``allow_sign_count_regression=True``,
      the result's ``sign_count_regressed`` is set and the RP decides.

    Args:
        response: ``credential.toJSON()``: a ``dict``, or JSON ``str``/``bytes``.
        expected_challenge: The challenge issued with the options.
        expected_origins: The origin or origins allowed.
        expected_rp_id: The RP ID.
        credential_public_key: The stored COSE key bytes, or (faster) a
            cached :class:`CredentialPublicKey`. Parsed COSE bytes are kept in
            a small bounded cache of recently used keys (256 public keys,
            keyed by their exact bytes), so a returning user's key is not
            decoded again; errors are never cached.
        current_sign_count: The stored signature counter.
        require_user_verification: Demand the UV flag.
        require_user_presence: Demand the UP flag.
        now: Unused by §7.2; accepted so both verifiers take the same arguments.
        allow_cross_origin: Accept ``crossOrigin: true``.
        allowed_top_origins: Top-level origins allowed to embed the ceremony.
        expected_backup_eligible: The BE flag stored at registration.
        accept_backup_eligibility_upgrade: Accept BE=1 from a credential
            stored with BE=0, and report it as ``backup_eligibility_upgraded``
            (store the new flag). BE=0 from a credential stored with BE=1 is
            always refused. Default: the spec's rule, any change refused.
        expected_user_handle: The user's handle, when the user is known.
        allow_sign_count_regression: Flag a counter that did not increase
            instead of raising.

    Returns:
        The verified assertion; store ``new_sign_count`` and ``backup_state``.

    Raises:
        MalformedDataError: The response or the stored key cannot be parsed.
        CeremonyMismatchError: type, challenge, origin, cross origin, top
            origin or RP ID differs (see ``.field``).
        UserPresenceError: UP clear.
        UserVerificationError: UV required and clear.
        InvalidSignatureError: The signature does not verify.
        SignCountError: The counter did not increase.
        WebAuthnError: BE changed (and the change is not an accepted
            upgrade) or the user handle differs.
        ConfigurationError: A bad argument.
    """
    challenge = (
        expected_challenge
        if type(expected_challenge) is bytes and 0 < len(expected_challenge) <= MAX_CHALLENGE_BYTES
        else check_challenge_arg(expected_challenge)
    )
    if type(expected_origins) is str:
        origins, suffixes = single_origin(expected_origins)
    else:
        origins = origin_set(expected_origins, "expected_origins")
        suffixes = origin_suffixes(origins)
    top_origins = (
        origin_set(allowed_top_origins, "allowed_top_origins")
        if allowed_top_origins
        else _NO_TOP_ORIGINS
    )
    if type(current_sign_count) is not int or not 0 <= current_sign_count < 1 << 32:
        raise ConfigurationError("current_sign_count must be a 32-bit unsigned integer")
    if expected_user_handle is not None and not isinstance(expected_user_handle, bytes):
        raise ConfigurationError("expected_user_handle must be bytes")
    if type(accept_backup_eligibility_upgrade) is not bool:
        raise ConfigurationError("accept_backup_eligibility_upgrade must be a bool")
    if type(credential_public_key) is CredentialPublicKey:
        key = credential_public_key
    elif type(credential_public_key) is bytes:
        key = cached_credential_public_key(credential_public_key)
    elif isinstance(credential_public_key, bytes):
        key = parse_credential_public_key(credential_public_key)
    else:
        raise ConfigurationError(
            "credential_public_key must be COSE bytes or a CredentialPublicKey"
        )
    if type(response) is dict:
        result = _common_case(
            response,
            challenge,
            origins,
            suffixes,
            expected_rp_id,
            key,
            current_sign_count,
            require_user_presence,
            require_user_verification,
            expected_backup_eligible,
            expected_user_handle,
            allow_sign_count_regression,
        )
        if result is not None:
            return result

    (
        cred_id,
        cdj,
        raw_auth_data,
        signature,
        user_handle,
        attachment,
        ext,
        flags,
        received,
        auth_ext,
    ) = _general_case(
        response,
        challenge,
        origins,
        expected_rp_id,
        require_user_presence,
        require_user_verification,
        allow_cross_origin,
        top_origins,
        expected_backup_eligible,
        expected_user_handle,
        accept_backup_eligibility_upgrade,
    )
    # The closure directly: one Python frame less than key.verify().
    key._verify(signature, raw_auth_data + _sha256(cdj).digest())
    regressed = (received or current_sign_count) and received <= current_sign_count
    if regressed and not allow_sign_count_regression:
        raise SignCountError(stored=current_sign_count, received=received)
    up, uv, backup_eligible, bs = _FLAG_BITS[flags]
    return _build_result(
        cred_id,
        max(received, current_sign_count),
        bool(regressed),
        up,
        uv,
        backup_eligible,
        bs,
        user_handle,
        attachment,
        ext,
        auth_ext,
        expected_backup_eligible is False and backup_eligible,
    )


#: (credential id, clientDataJSON, authenticatorData, signature, userHandle,
#: authenticatorAttachment, clientExtensionResults, flags, signCount,
#: authenticator extension outputs)
_Fields = tuple[
    bytes,
    bytes,
    bytes,
    bytes,
    bytes | None,
    str | None,
    Mapping[str, Any],
    int,
    int,
    Mapping[str, Any],
]


def _general_case(  # noqa: PLR0917 - private, positional on purpose
    response: object,
    challenge: bytes,
    origins: frozenset[str],
    expected_rp_id: str,
    require_user_presence: bool,
    require_user_verification: bool,
    allow_cross_origin: bool,
    top_origins: frozenset[str],
    expected_backup_eligible: bool | None,
    expected_user_handle: bytes | None,
    accept_backup_eligibility_upgrade: bool,
) -> _Fields:
    """Every §7.2 step before the signature, for any input; raises the precise error."""
    cred_id, cdj, raw_auth_data, signature, user_handle, attachment, ext = authentication_fields(
        response
    )
    if (
        expected_user_handle is not None
        and user_handle is not None
        and not hmac.compare_digest(user_handle, expected_user_handle)
    ):
        raise WebAuthnError("user handle does not match the credential's owner")
    check_client_data(
        client_data_fields(cdj),
        ceremony="webauthn.get",
        expected_challenge=challenge,
        origins=origins,
        allow_cross_origin=allow_cross_origin,
        top_origins=top_origins,
    )
    if len(raw_auth_data) == 37 and not raw_auth_data[32] & 0xC0:
        # The usual assertion: no attested data, no extensions. Reading the
        # three fields directly is what parse_authenticator_data would do.
        flags = raw_auth_data[32]
        if flags & 0x18 == 0x10:
            raise MalformedDataError("BS flag set without BE", field="authenticatorData")
        received = int.from_bytes(raw_auth_data[33:37], "big")
        auth_extensions = EMPTY_MAP
    else:
        auth_data = parse_authenticator_data(raw_auth_data)
        flags = raw_auth_data[32]
        received = auth_data.sign_count
        auth_extensions = auth_data.extensions or EMPTY_MAP
    check_rp_id_hash(raw_auth_data[:32], expected_rp_id)
    check_flags(flags, require_up=require_user_presence, require_uv=require_user_verification)
    if (
        expected_backup_eligible is not None
        and bool(flags & 0x08) != expected_backup_eligible
        and (expected_backup_eligible or not accept_backup_eligibility_upgrade)
    ):
        raise WebAuthnError("backup eligibility changed since registration")
    return (
        cred_id,
        cdj,
        raw_auth_data,
        signature,
        user_handle,
        attachment,
        ext,
        flags,
        received,
        auth_extensions,
    )


def _b64_or_none(value: object, max_len: int) -> bytes | None:
    """What b64url_decode returns, or None where it would raise."""
    if type(value) is not str or len(value) > max_len:
        return None
    rem = len(value) & 3
    try:
        data = _a2b(value.encode("ascii").translate(_TO_STANDARD) + _PAD[rem], strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        return None
    if rem and value[-1] not in _LAST_OK[rem]:
        return None
    return data


# The joint decode of b64url_decode_all, inlined (see _b64 for _FILL).
_LAST_2 = _LAST_OK[2]
_CD_GET_HEAD = _CD_HEADS["webauthn.get"]
_sha256 = hashlib.sha256
_compare = hmac.compare_digest


def _common_case(  # noqa: PLR0917 - one flat hot path, positional on purpose
    response: dict[str, Any],
    challenge: bytes,
    origins: frozenset[str],
    suffixes: tuple[bytes, ...],
    expected_rp_id: str,
    key: CredentialPublicKey,
    current_sign_count: int,
    require_user_presence: bool,
    require_user_verification: bool,
    expected_backup_eligible: bool | None,
    expected_user_handle: bytes | None,
    allow_sign_count_regression: bool,
) -> VerifiedAuthentication | None:
    """The usual assertion, checked with fewer calls; ``None`` hands over to _general_case.

    It accepts only what :func:`_general_case` accepts, with the same result,
    and raises only where the general path would raise the same error (a bad
    signature or counter, checked after every other step passed). The shape
    it takes: no ``topOrigin``, no ``crossOrigin: true``, 37-byte
    authenticator data without AT or ED, no client extension outputs, a known
    or missing attachment. The four base64url members are decoded by one
    ``a2b_base64`` call, with the same alphabet, length and canonical-bits
    rules as :func:`b64url_decode`; clientDataJSON in the §5.8.1.1 form is
    matched as bytes (see :func:`_ceremony.template_client_data`), any other form is
    parsed with the strict JSON scanner. At the first thing it does not take
    it returns ``None`` and the general path runs from the start, raising the
    precise error. A test compares both paths on valid and mutated responses.
    """
    get = response.get
    raw_id = get("rawId")
    inner = get("response")
    if (
        get("type") != "public-key"
        or type(raw_id) is not str
        or get("id") != raw_id
        or type(inner) is not dict
    ):
        return None
    attachment = get("authenticatorAttachment")
    if attachment is not None and (type(attachment) is not str or attachment not in _ATTACHMENTS):
        return None
    ext = get("clientExtensionResults", EMPTY_MAP)
    if ext is not EMPTY_MAP and (type(ext) is not dict or ext):
        return None
    cd_text = inner.get("clientDataJSON")
    ad_text = inner.get("authenticatorData")
    sig_text = inner.get("signature")
    # 37 bytes of authenticator data are 50 characters (ending in 2 spare bits x 2).
    if (
        type(cd_text) is not str
        or type(sig_text) is not str
        or type(ad_text) is not str
        or len(ad_text) != 50
        or ad_text[-1] not in _LAST_2
    ):
        return None
    n_id = len(raw_id)
    n_cd = len(cd_text)
    n_sig = len(sig_text)
    if (
        n_id > _ID_MAX
        or n_cd > _CD_MAX
        or n_sig > _SIG_MAX
        or not (n_id and n_cd and n_sig)
        # RFC 4648 §3.5: the unused bits of the last character are zero.
        or raw_id[-1] not in _CANONICAL_LAST[n_id & 3]
        or cd_text[-1] not in _CANONICAL_LAST[n_cd & 3]
        or sig_text[-1] not in _CANONICAL_LAST[n_sig & 3]
    ):
        return None
    try:
        blob = _a2b(
            "".join(
                (
                    raw_id,
                    _FILL[n_id & 3],
                    cd_text,
                    _FILL[n_cd & 3],
                    ad_text,
                    "AA",
                    sig_text,
                    _FILL[n_sig & 3],
                )
            )
            .encode("ascii")
            .translate(_TO_STANDARD),
            strict_mode=True,
        )
    except (UnicodeEncodeError, binascii.Error):
        return None
    at_cd = ((n_id + 3) >> 2) * 3
    at_ad = at_cd + ((n_cd + 3) >> 2) * 3
    cred_id = blob[: (n_id * 3) >> 2]
    cdj = blob[at_cd : at_cd + ((n_cd * 3) >> 2)]
    raw_auth_data = blob[at_ad : at_ad + 37]
    signature = blob[at_ad + 39 : at_ad + 39 + ((n_sig * 3) >> 2)]
    handle_text = inner.get("userHandle")
    user_handle = None
    if handle_text is not None:
        user_handle = _b64_or_none(handle_text, _UH_MAX)
        if user_handle is None:
            return None
        if not user_handle:
            user_handle = None
        elif expected_user_handle is not None and not _compare(user_handle, expected_user_handle):
            return None
    # clientDataJSON (§5.8.1): the §5.8.1.1 serialization of the expected
    # values, compared as bytes in constant time, else strict JSON parsing.
    head = _CD_GET_HEAD + _b2a(challenge, newline=False).rstrip(b"=").translate(_TO_URL)
    if not _compare(cdj, head + suffixes[0]):
        for suffix in suffixes[1:]:
            if _compare(cdj, head + suffix):
                break
        else:
            if not _client_data_json_ok(cdj, challenge, origins):
                return None
    # Authenticator data (§6.1) of an assertion: no attested data, no extensions.
    flags = raw_auth_data[32]
    if (
        _NOT_BARE_ASSERTION[flags]
        or (require_user_presence and not flags & 0x01)
        or (require_user_verification and not flags & 0x04)
        or (expected_backup_eligible is not None and bool(flags & 0x08) != expected_backup_eligible)
        or type(expected_rp_id) is not str
        or not expected_rp_id
        or not raw_auth_data.startswith(_rp_id_hash(expected_rp_id))
    ):
        return None
    # Every step before the signature passed, as the general path would find.
    key._verify(signature, raw_auth_data + _sha256(cdj).digest())
    received = int.from_bytes(raw_auth_data[33:37], "big")
    regressed = (received or current_sign_count) and received <= current_sign_count
    if regressed and not allow_sign_count_regression:
        raise SignCountError(stored=current_sign_count, received=received)
    up, uv, backup_eligible, bs = _FLAG_BITS[flags]
    return _build_result(
        cred_id,
        received if received > current_sign_count else current_sign_count,
        bool(regressed),
        up,
        uv,
        backup_eligible,
        bs,
        user_handle,
        attachment,
        EMPTY_MAP,
        EMPTY_MAP,
    )


def _client_data_json_ok(cdj: bytes, challenge: bytes, origins: frozenset[str]) -> bool:
    """Whether strict JSON parsing finds an acceptable same-origin ``webauthn.get``.

    ``cdj`` is at most MAX_CLIENT_DATA_BYTES long: its text was held to _CD_MAX.
    """
    try:
        text = cdj.decode("utf-8")
        client_data, end = _SCAN_ONCE(text, 0)
    except (StopIteration, ValueError, RecursionError):
        # ValueError covers UnicodeDecodeError, JSONDecodeError and the
        # MalformedDataError of the duplicate-member and constant hooks.
        return False
    if end != len(text) or type(client_data) is not dict:
        return False
    origin = client_data.get("origin")
    cross_origin = client_data.get("crossOrigin")
    if (
        client_data.get("type") != "webauthn.get"
        or type(origin) is not str
        or origin not in origins
        or (cross_origin is not None and cross_origin is not False)
        or client_data.get("topOrigin") is not None
    ):
        return False
    client_challenge = _b64_or_none(client_data.get("challenge"), 1024)
    return client_challenge is not None and _compare(client_challenge, challenge)
