"""Authentication ceremony verification (WebAuthn Level 3 §7.2)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mfakit.errors import ConfigurationError, MalformedDataError, SignCountError, WebAuthnError

from ._ceremony import (
    check_challenge_arg,
    check_client_data,
    check_flags,
    check_rp_id_hash,
    origin_set,
)
from ._cose import CredentialPublicKey, parse_credential_public_key
from ._response import authentication_fields
from ._structures import EMPTY_MAP, client_data_fields, parse_authenticator_data

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
      (§7.2: a credential's backup eligibility never changes);
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
            cached :class:`CredentialPublicKey`.
        current_sign_count: The stored signature counter.
        require_user_verification: Demand the UV flag.
        require_user_presence: Demand the UP flag.
        now: Unused by §7.2; accepted so both verifiers take the same arguments.
        allow_cross_origin: Accept ``crossOrigin: true``.
        allowed_top_origins: Top-level origins allowed to embed the ceremony.
        expected_backup_eligible: The BE flag stored at registration.
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
        WebAuthnError: BE changed or the user handle differs.
        ConfigurationError: A bad argument.
    """
    challenge = check_challenge_arg(expected_challenge)
    origins = (
        frozenset((expected_origins,))
        if type(expected_origins) is str
        else origin_set(expected_origins, "expected_origins")
    )
    top_origins = (
        origin_set(allowed_top_origins, "allowed_top_origins")
        if allowed_top_origins
        else _NO_TOP_ORIGINS
    )
    if type(current_sign_count) is not int or not 0 <= current_sign_count < 1 << 32:
        raise ConfigurationError("current_sign_count must be a 32-bit unsigned integer")
    if type(credential_public_key) is CredentialPublicKey:
        key = credential_public_key
    elif isinstance(credential_public_key, bytes):
        key = parse_credential_public_key(credential_public_key)
    else:
        raise ConfigurationError(
            "credential_public_key must be COSE bytes or a CredentialPublicKey"
        )

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
    if len(raw_auth_data) == 37:
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
    backup_eligible = bool(flags & 0x08)
    if expected_backup_eligible is not None and backup_eligible != expected_backup_eligible:
        raise WebAuthnError("backup eligibility changed since registration")
    # The closure directly: one Python frame less than key.verify().
    key._verify(signature, raw_auth_data + hashlib.sha256(cdj).digest())
    regressed = (received or current_sign_count) and received <= current_sign_count
    if regressed and not allow_sign_count_regression:
        raise SignCountError(stored=current_sign_count, received=received)
    return VerifiedAuthentication(
        credential_id=cred_id,
        new_sign_count=max(received, current_sign_count),
        sign_count_regressed=bool(regressed),
        user_present=bool(flags & 0x01),
        user_verified=bool(flags & 0x04),
        backup_eligible=backup_eligible,
        backup_state=bool(flags & 0x10),
        user_handle=user_handle,
        authenticator_attachment=attachment,
        extensions=ext,
        authenticator_extensions=auth_extensions,
    )
