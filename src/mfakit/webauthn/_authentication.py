"""Authentication ceremony verification (WebAuthn Level 3 §7.2)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mfakit.errors import ConfigurationError, SignCountError, WebAuthnError

from ._ceremony import (
    check_challenge_arg,
    check_client_data,
    check_flags,
    check_rp_id_hash,
    origin_set,
)
from ._cose import (
    CredentialPublicKey,
    cached_credential_public_key,
    parse_credential_public_key,
)
from ._response import parse_authentication_response
from ._structures import (
    BIT_BE,
    BIT_BS,
    BIT_UP,
    BIT_UV,
    EMPTY_MAP,
    parse_authenticator_data,
    parse_client_data,
)

__all__ = ["VerifiedAuthentication", "verify_authentication"]


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
    # The caller's arguments.
    challenge = check_challenge_arg(expected_challenge)
    origins = origin_set(expected_origins, "expected_origins")
    top_origins = origin_set(allowed_top_origins, "allowed_top_origins")
    if type(current_sign_count) is not int or not 0 <= current_sign_count < 1 << 32:
        raise ConfigurationError("current_sign_count must be a 32-bit unsigned integer")
    if expected_user_handle is not None and not isinstance(expected_user_handle, bytes):
        raise ConfigurationError("expected_user_handle must be bytes")
    if type(accept_backup_eligibility_upgrade) is not bool:
        raise ConfigurationError("accept_backup_eligibility_upgrade must be a bool")
    key = _credential_key(credential_public_key)

    # Steps 1-3, 8: the credential and the response's members.
    cred = parse_authentication_response(response)
    # Step 6: the user handle names the credential's owner.
    _check_user_handle(cred.user_handle, expected_user_handle)
    # Steps 9-14: the client data.
    check_client_data(
        parse_client_data(cred.client_data_json),
        ceremony="webauthn.get",
        expected_challenge=challenge,
        origins=origins,
        allow_cross_origin=allow_cross_origin,
        top_origins=top_origins,
    )
    auth_data = parse_authenticator_data(cred.authenticator_data)
    bits = auth_data.raw[32]  # the flags byte, tested with the BIT_* names
    # Step 15: the RP ID hash.
    check_rp_id_hash(auth_data.rp_id_hash, expected_rp_id)
    # Steps 16-17: UP and UV (step 18, BS without BE, is refused by the parser).
    check_flags(bits, require_up=require_user_presence, require_uv=require_user_verification)
    # Step 19: backup eligibility against the credential record.
    upgraded = _check_backup_eligibility(
        bits, expected_backup_eligible, accept_upgrade=accept_backup_eligibility_upgrade
    )
    # Steps 21-22: the signature over authenticatorData || SHA-256(clientDataJSON).
    key.verify(
        cred.signature, cred.authenticator_data + hashlib.sha256(cred.client_data_json).digest()
    )
    # Step 23: the signature counter.
    regressed = _check_sign_count(
        auth_data.sign_count, current_sign_count, allow_regression=allow_sign_count_regression
    )
    return VerifiedAuthentication(
        credential_id=cred.credential_id,
        new_sign_count=max(auth_data.sign_count, current_sign_count),
        sign_count_regressed=regressed,
        user_present=bool(bits & BIT_UP),
        user_verified=bool(bits & BIT_UV),
        backup_eligible=bool(bits & BIT_BE),
        backup_state=bool(bits & BIT_BS),
        user_handle=cred.user_handle,
        authenticator_attachment=cred.authenticator_attachment,
        extensions=cred.client_extension_results,
        authenticator_extensions=auth_data.extensions or EMPTY_MAP,
        backup_eligibility_upgraded=upgraded,
    )


def _credential_key(credential_public_key: object) -> CredentialPublicKey:
    """The caller's stored key: parsed, from the bounded cache, or as given."""
    if type(credential_public_key) is CredentialPublicKey:
        return credential_public_key
    if type(credential_public_key) is bytes:
        return cached_credential_public_key(credential_public_key)
    if isinstance(credential_public_key, bytes):
        # A subclass may hash differently: parse it, outside the cache.
        return parse_credential_public_key(credential_public_key)
    raise ConfigurationError("credential_public_key must be COSE bytes or a CredentialPublicKey")


def _check_user_handle(user_handle: bytes | None, expected: bytes | None) -> None:
    """§7.2 step 6: a returned user handle must be the one of the credential's owner."""
    if (
        expected is not None
        and user_handle is not None
        and not hmac.compare_digest(user_handle, expected)
    ):
        raise WebAuthnError("user handle does not match the credential's owner")


def _check_backup_eligibility(bits: int, expected: bool | None, *, accept_upgrade: bool) -> bool:
    """§7.2 step 19: BE never changes; returns True for an accepted BE 0 -> 1 upgrade."""
    if expected is None:
        return False
    eligible = bool(bits & BIT_BE)
    if eligible == expected:
        return False
    if eligible and accept_upgrade:
        return True
    raise WebAuthnError("backup eligibility changed since registration")


def _check_sign_count(received: int, stored: int, *, allow_regression: bool) -> bool:
    """§7.2 step 23 (§6.1.1): True when the counter did not increase and that is allowed."""
    if (received or stored) and received <= stored:
        if not allow_regression:
            raise SignCountError(stored=stored, received=received)
        return True
    return False
