"""The records of the software authenticator: its fault switches and its credentials."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from mfakit.testing._soft_keys import KeyPair

__all__ = ["CREATE_ONLY_FAULTS", "GET_ONLY_FAULTS", "Fault", "SoftCredential"]


class Fault(enum.Enum):
    """A defect the authenticator can put into a response, to test a verifier rejects it.

    Each member names the spec step (WebAuthn L3 §7.1 / §7.2) a verifier must fail.
    """

    #: clientDataJSON.origin is a foreign origin (§7.1 step 9, §7.2 step 13).
    WRONG_ORIGIN = "wrong_origin"
    #: clientDataJSON.type is the other ceremony's (§7.1 step 7, §7.2 step 11).
    WRONG_TYPE = "wrong_type"
    #: clientDataJSON.challenge differs from the options' (§7.1 step 8, §7.2 step 12).
    WRONG_CHALLENGE = "wrong_challenge"
    #: rpIdHash is the hash of another RP ID (§7.1 step 13, §7.2 step 15).
    WRONG_RP_ID_HASH = "wrong_rp_id_hash"
    #: clientDataJSON.crossOrigin is true (§7.1 step 10, §7.2 step 14).
    CROSS_ORIGIN = "cross_origin"
    #: crossOrigin true and a topOrigin from another site (§7.1 step 11, §7.2 step 14).
    TOP_ORIGIN = "top_origin"
    #: The UP flag is clear (§7.1 step 14, §7.2 step 16).
    UP_CLEAR = "up_clear"
    #: The UV flag is clear even though the test asked for user verification.
    UV_CLEAR = "uv_clear"
    #: BS is set while BE is clear (§7.1 step 16, §7.2 step 18).
    BS_WITHOUT_BE = "bs_without_be"
    #: The assertion or attestation signature does not verify.
    BAD_SIGNATURE = "bad_signature"
    #: The assertion's signCount is below the last one reported (§7.2 step 22).
    COUNTER_BACKWARDS = "counter_backwards"
    #: The response's rawId differs from its id (§5.1, L3 JSON parsing).
    RAW_ID_MISMATCH = "raw_id_mismatch"
    #: A valid CBOR item follows the attestationObject (registration) or extra bytes
    #: follow the authenticatorData (authentication; the signature covers them).
    TRAILING_BYTES = "trailing_bytes"
    #: The attestation statement format is an unregistered identifier (§7.1 step 21).
    UNKNOWN_FORMAT = "unknown_format"
    #: packed: attStmt.alg differs from the signing key's algorithm (§8.2 verification).
    PACKED_ALG_MISMATCH = "packed_alg_mismatch"
    #: none: the attestation statement is not empty (§8.7).
    NONE_WITH_STATEMENT = "none_with_statement"
    #: packed x5c: the certificate's AAGUID extension differs from authData's (§8.2.1).
    AAGUID_MISMATCH = "aaguid_mismatch"
    #: authentication: BE differs from the value registered (§7.2 step 18, §6.1.3).
    BE_CHANGED = "be_changed"


CREATE_ONLY_FAULTS = frozenset(
    {
        Fault.UNKNOWN_FORMAT,
        Fault.PACKED_ALG_MISMATCH,
        Fault.NONE_WITH_STATEMENT,
        Fault.AAGUID_MISMATCH,
    }
)
GET_ONLY_FAULTS = frozenset({Fault.COUNTER_BACKWARDS, Fault.BE_CHANGED})


@dataclass(frozen=True, slots=True, kw_only=True)
class SoftCredential:
    """A credential held by a :class:`SoftAuthenticator` (log-safe: no key in ``repr``).

    Attributes:
        credential_id: The credential ID.
        rp_id: The RP ID the credential is scoped to.
        user_handle: The user handle (``user.id``) for a discoverable credential, else None.
        algorithm: The COSE algorithm of the credential key.
        public_key: The credential public key, COSE_Key encoded.
        backup_eligible: The BE flag the credential was registered with.
        backup_state: The BS flag the authenticator reports.
        transports: The transports ``getTransports()`` reports.
    """

    credential_id: bytes
    rp_id: str
    user_handle: bytes | None
    algorithm: int
    public_key: bytes
    backup_eligible: bool
    backup_state: bool
    transports: tuple[str, ...]
    key_pair: KeyPair = field(repr=False)
