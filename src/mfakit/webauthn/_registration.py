"""Registration ceremony verification (WebAuthn Level 3 §7.1)."""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509

from mfakit.clock import ensure_aware
from mfakit.errors import ConfigurationError, MalformedDataError, UnsupportedAlgorithmError

from ._ceremony import (
    check_challenge_arg,
    check_client_data,
    check_flags,
    check_rp_id_hash,
    origin_set,
)
from ._cose import (
    DEFAULT_ALGORITHMS,
    COSEAlgorithm,
    CredentialPublicKey,
    credential_public_key_from_map,
)
from ._response import parse_registration_response
from ._structures import (
    BIT_BE,
    BIT_BS,
    BIT_UP,
    BIT_UV,
    EMPTY_MAP,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
    parse_attestation_object,
    parse_client_data,
)
from .attestation._common import AttestationType
from .attestation._policy import AttestationPolicy, verify_attestation
from .metadata import MetadataEntry

__all__ = ["VerifiedRegistration", "verify_registration"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedRegistration:
    """A registration that passed every check of §7.1. Store what you need of it.

    Attributes:
        credential_id: The new credential's id (store it, unique across users).
        public_key: The COSE_Key bytes (store them).
        public_key_algorithm: The key's COSE algorithm.
        credential_public_key: The loaded key, ready to cache for logins.
        sign_count: The initial signature counter (store it).
        aaguid: The AAGUID the authenticator data carries (all zeros when not
            disclosed). It is the authenticator's claim: it names a model only
            when ``trusted`` and the format signs it. ``fido-u2f`` does not
            (§8.6), so its AAGUID never selects anchors or metadata.
        fmt: The attestation statement format.
        attestation_type: ``none``, ``self``, ``basic``, ``attca`` or ``anonca``.
        trust_path: The ``x5c`` certificates, leaf first.
        trusted: True only when the trust path validated to a trust anchor.
        user_present: The UP flag.
        user_verified: The UV flag.
        backup_eligible: The BE flag (store it; it must not change).
        backup_state: The BS flag (whether the passkey is synced now).
        transports: The transports the client reported (store them for allow lists).
        authenticator_attachment: ``platform``, ``cross-platform`` or ``None``.
        extensions: The client extension results (e.g. ``credProps``).
        authenticator_extensions: Authenticator extension outputs, if any.
        client_data: The parsed client data.
        authenticator_data: The parsed authenticator data.
        authenticator_description: The model's name from the metadata
            (e.g. "YubiKey 5 NFC"), when ``AttestationPolicy(metadata=...)`` knows
            it and the attestation is trusted (an unproven AAGUID names nothing).
        authenticator_icon: The model's icon (a ``data:`` URL) from the metadata.
        metadata_entry: The model's metadata entry, when found.
        attestation_statements: For ``compound`` attestation: every
            contained ``(fmt, attestation_type)`` pair, in order.
    """

    credential_id: bytes
    public_key: bytes = field(repr=False)
    public_key_algorithm: int
    credential_public_key: CredentialPublicKey = field(repr=False, compare=False)
    sign_count: int
    aaguid: uuid.UUID
    fmt: str
    attestation_type: AttestationType
    trust_path: tuple[x509.Certificate, ...] = field(repr=False)
    trusted: bool
    user_present: bool
    user_verified: bool
    backup_eligible: bool
    backup_state: bool
    transports: tuple[str, ...]
    authenticator_attachment: str | None
    extensions: Mapping[str, Any]
    authenticator_extensions: Mapping[str, Any]
    client_data: CollectedClientData = field(repr=False, compare=False)
    authenticator_data: AuthenticatorData = field(repr=False, compare=False)
    authenticator_description: str | None = None
    authenticator_icon: str | None = field(default=None, repr=False)
    metadata_entry: MetadataEntry | None = field(default=None, repr=False, compare=False)
    attestation_statements: tuple[tuple[str, AttestationType], ...] = ()


def verify_registration(
    response: object,
    *,
    expected_challenge: bytes,
    expected_origins: str | Collection[str],
    expected_rp_id: str,
    require_user_verification: bool = False,
    require_user_presence: bool = True,
    supported_algorithms: Collection[int] = DEFAULT_ALGORITHMS,
    attestation: AttestationPolicy | None = None,
    now: datetime | None = None,
    allow_cross_origin: bool = False,
    allowed_top_origins: Collection[str] = (),
) -> VerifiedRegistration:
    """Verify a registration response (WebAuthn Level 3 §7.1, "Registering a New Credential").

    The steps, in the spec's order:

    * decode the Level 3 JSON (``rawId`` equals ``id``, ``type`` is ``public-key``);
    * parse ``clientDataJSON`` (§5.8.1) and check ``C.type == "webauthn.create"``,
      ``C.challenge`` (constant time), ``C.origin`` among ``expected_origins``,
      ``C.crossOrigin`` (refused unless ``allow_cross_origin``) and
      ``C.topOrigin`` (must be in ``allowed_top_origins``);
    * hash ``clientDataJSON`` with SHA-256;
    * decode the attestation object (exactly one CBOR map, §6.5.4);
    * ``rpIdHash`` is SHA-256 of ``expected_rp_id``;
    * UP set (unless ``require_user_presence=False``), UV set when
      ``require_user_verification``; BS not set without BE (§6.1);
    * the AT flag and attested credential data are present; the credential id
      is at most 1023 bytes and equals ``rawId``;
    * the credential key's algorithm is one of ``supported_algorithms`` and the
      key is valid for it;
    * the extension outputs are returned for the caller to act on;
    * the attestation statement verifies with its format's procedure (§8)
      and the format is allowed by the policy;
    * trust is assessed against the policy's anchors at ``now``.

    The caller must still check that ``credential_id`` is not registered yet
    (§7.1: refuse, or delete the older registration) before storing it.

    Args:
        response: ``credential.toJSON()``: a ``dict``, or JSON ``str``/``bytes``.
        expected_challenge: The challenge issued with the options.
        expected_origins: The origin (``https://example.com``) or origins allowed.
        expected_rp_id: The RP ID the options used.
        require_user_verification: Demand the UV flag.
        require_user_presence: Demand the UP flag (turn off only for
            conditional create, §5.1.3).
        supported_algorithms: COSE algorithms accepted. RS1 (``-65535``) is
            accepted only if listed here.
        attestation: The trust policy; default: any format, nothing trusted.
        now: When to validate attestation certificate chains (needed when the
            policy has trust anchors).
        allow_cross_origin: Accept ``crossOrigin: true`` (an iframe).
        allowed_top_origins: Top-level origins allowed to embed the ceremony.

    Returns:
        The verified registration.

    Raises:
        MalformedDataError: The response cannot be parsed.
        CeremonyMismatchError: type, challenge, origin, cross origin, top
            origin or RP ID differs (see ``.field``).
        UserPresenceError: UP clear.
        UserVerificationError: UV required and clear.
        UnsupportedAlgorithmError: The credential algorithm is not accepted.
        UnsupportedAttestationError: The format is unknown or not allowed.
        InvalidAttestationError: The statement breaks its format's rules.
        InvalidSignatureError: The attestation signature does not verify.
        UntrustedAttestationError: Trust is required and not established.
        ConfigurationError: A bad argument.

    Example::

        reg = verify_registration(
            request.json, expected_challenge=session.pop("challenge"),
            expected_origins="https://example.com", expected_rp_id="example.com",
        )
        store(reg.credential_id, reg.public_key, reg.sign_count, reg.transports)
    """
    # The caller's arguments.
    challenge = check_challenge_arg(expected_challenge)
    origins = origin_set(expected_origins, "expected_origins")
    top_origins = origin_set(allowed_top_origins, "allowed_top_origins")
    if attestation is not None and not isinstance(attestation, AttestationPolicy):
        raise ConfigurationError("attestation must be an AttestationPolicy")
    if now is not None:
        now = ensure_aware(now)
    if isinstance(supported_algorithms, str | bytes):
        raise ConfigurationError("supported_algorithms must be a collection of integers")

    # Steps 1-4: the credential and the response's members.
    cred = parse_registration_response(response)
    # Steps 5-10: the client data.
    client_data = parse_client_data(cred.client_data_json)
    check_client_data(
        client_data,
        ceremony="webauthn.create",
        expected_challenge=challenge,
        origins=origins,
        allow_cross_origin=allow_cross_origin,
        top_origins=top_origins,
    )
    # Step 11: the hash of the client data.
    client_data_hash = hashlib.sha256(cred.client_data_json).digest()
    # Step 12: the attestation object (BS without BE is refused by the parser).
    att_obj = parse_attestation_object(cred.attestation_object)
    auth_data = att_obj.auth_data
    bits = auth_data.raw[32]  # the flags byte, tested with the BIT_* names
    # Step 13: the RP ID hash.
    check_rp_id_hash(auth_data.rp_id_hash, expected_rp_id)
    # Steps 14-15: UP and UV.
    check_flags(bits, require_up=require_user_presence, require_uv=require_user_verification)
    # Steps 19-20 and 23: the attested credential, its id and its key.
    acd = _attested_credential(auth_data, cred.credential_id)
    key = _credential_key(acd, supported_algorithms)
    # Steps 21-22 and 24-26: the statement of its format, then trust.
    statement, trusted, entry = verify_attestation(
        att_obj.fmt,
        att_stmt=att_obj.att_stmt,
        auth_data=auth_data,
        client_data_hash=client_data_hash,
        credential_key=key,
        policy=attestation,
        now=now,
    )
    return VerifiedRegistration(
        credential_id=acd.credential_id,
        public_key=acd.credential_public_key,
        public_key_algorithm=key.alg,
        credential_public_key=key,
        sign_count=auth_data.sign_count,
        aaguid=_aaguid(acd.aaguid),
        fmt=att_obj.fmt,
        attestation_type=statement.attestation_type,
        trust_path=statement.trust_path,
        trusted=trusted,
        user_present=bool(bits & BIT_UP),
        user_verified=bool(bits & BIT_UV),
        backup_eligible=bool(bits & BIT_BE),
        backup_state=bool(bits & BIT_BS),
        transports=cred.transports,
        authenticator_attachment=cred.authenticator_attachment,
        extensions=cred.client_extension_results,
        authenticator_extensions=auth_data.extensions or EMPTY_MAP,
        client_data=client_data,
        authenticator_data=auth_data,
        authenticator_description=entry.description if entry is not None else None,
        authenticator_icon=entry.icon if entry is not None else None,
        metadata_entry=entry,
        attestation_statements=tuple(
            (sub_fmt, sub.attestation_type) for sub_fmt, sub in getattr(statement, "statements", ())
        ),
    )


def _attested_credential(auth_data: AuthenticatorData, raw_id: bytes) -> AttestedCredentialData:
    """§7.1: the AT flag brings a credential, whose id is the response's ``rawId``."""
    acd = auth_data.attested_credential_data
    if acd is None:
        raise MalformedDataError(
            "AT flag clear: no credential in a registration", field="authenticatorData"
        )
    if acd.credential_id != raw_id:
        raise MalformedDataError("credential id differs from rawId", field="rawId")
    return acd


def _credential_key(
    acd: AttestedCredentialData, supported_algorithms: Collection[int]
) -> CredentialPublicKey:
    """§7.1 step 20: the key's algorithm is accepted, and the key loads for it."""
    alg = acd.cose_map.get(3)
    if type(alg) is not int:
        raise MalformedDataError("COSE key algorithm missing", field="credentialPublicKey")
    if alg not in supported_algorithms:
        raise UnsupportedAlgorithmError("credential algorithm not accepted", alg=alg)
    return credential_public_key_from_map(
        acd.cose_map, acd.credential_public_key, allow_rs1=alg == COSEAlgorithm.RS1
    )


@functools.lru_cache(maxsize=256)
def _aaguid(raw: bytes) -> uuid.UUID:
    """The AAGUID as a UUID; models repeat, and UUIDs are immutable."""
    return uuid.UUID(bytes=raw)
