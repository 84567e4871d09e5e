"""The exception tree: every failure mfakit reports is an :class:`MfaError`.

Nothing else escapes a public function: parsers convert low-level errors
(``KeyError``, ``struct.error``, ``cbor2`` and ``cryptography`` exceptions) into
these classes at one boundary, chaining the original with ``raise ... from``.

Messages and ``repr()`` are log-safe: they never contain secrets, codes, keys
or other credential material. Structured details live in attributes.

::

    MfaError
    ├── ConfigurationError (also ValueError)     bad arguments from the host app
    │   └── InvalidNameError (.field)            a name refused before anything is stored
    ├── MalformedDataError (also ValueError)     input that cannot be parsed
    ├── VerificationError                        well-formed input that is not accepted
    │   ├── InvalidCodeError                     wrong OTP, backup or login code
    │   │   └── AttemptsExhaustedError           too many wrong tries: the code is dead
    │   ├── ReplayedCodeError                    a code or challenge used before
    │   ├── ExpiredCodeError                     a code or challenge past its expiry
    │   ├── DecryptionError                      a secret-box ciphertext was refused
    │   │   └── UnknownKeyError                  ... because its key id is not in the ring
    │   ├── InvitationAddressError               an invitation accepted from another address
    │   └── WebAuthnError
    │       ├── CeremonyMismatchError (.field)   type|challenge|origin|rp_id|cross_origin|top_origin
    │       ├── UserPresenceError
    │       ├── UserVerificationError
    │       ├── InvalidSignatureError
    │       ├── UnsupportedAlgorithmError (.alg)
    │       ├── UnsupportedAttestationError (.fmt)
    │       ├── InvalidAttestationError
    │       ├── UntrustedAttestationError
    │       ├── SignCountError (.stored, .received)
    │       ├── UnknownCredentialError (.signal_options)
    │       │                                    a passkey sign-in with no such credential
    │       └── PasswordlessNotAllowedError      a credential kept for second factors only
    ├── ThrottledError (.retry_after)            too many attempts; try again later
    ├── LimitReachedError (.limit)               the user already has as many as allowed
    ├── PolicyDeniedError (.decision)            the organization's policy refuses the action
    │   └── StepUpRequiredError (.action, .max_age, .factors)
    │                                            ... until the user passes a second factor again
    ├── SessionRevocationError                   the host's session revoker failed (after commit)
    └── StoreError                               a storage adapter failed
        ├── NotFoundError                        the record does not exist
        └── DuplicateError                       the record already exists; nothing was written

``MfaError`` itself is never raised; catch it to handle every mfakit failure.
Each class has a stable machine-readable :attr:`MfaError.code`.

Example::

    from mfakit.errors import MfaError, ThrottledError

    try:
        service.verify_totp(user_id, code)
    except ThrottledError as exc:
        retry_in = exc.retry_after
    except MfaError as exc:
        log.info("second factor refused: %s", exc.code)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, Literal

__all__ = [
    "AttemptsExhaustedError",
    "CeremonyField",
    "CeremonyMismatchError",
    "ConfigurationError",
    "DecryptionError",
    "DuplicateError",
    "ExpiredCodeError",
    "InvalidAttestationError",
    "InvalidCodeError",
    "InvalidNameError",
    "InvalidSignatureError",
    "InvitationAddressError",
    "LimitReachedError",
    "MalformedDataError",
    "MfaError",
    "NotFoundError",
    "PasswordlessNotAllowedError",
    "PolicyDeniedError",
    "ReplayedCodeError",
    "SessionRevocationError",
    "SignCountError",
    "StepUpRequiredError",
    "StoreError",
    "ThrottledError",
    "UnknownCredentialError",
    "UnknownKeyError",
    "UnsupportedAlgorithmError",
    "UnsupportedAttestationError",
    "UntrustedAttestationError",
    "UserPresenceError",
    "UserVerificationError",
    "VerificationError",
    "WebAuthnError",
]

#: The client-data or ceremony field a :class:`CeremonyMismatchError` names.
CeremonyField = Literal["type", "challenge", "origin", "rp_id", "cross_origin", "top_origin"]


class MfaError(Exception):
    """Base of every mfakit error. Never raised itself.

    Args:
        message: A log-safe description. Never put secrets, codes or keys in it.
    """

    #: Stable machine-readable identifier of the error class.
    code: str = "mfa_error"
    #: The message used when none is given.
    default_message: str = "multi-factor authentication failed"

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        details = "".join(f", {k}={v!r}" for k, v in self._details().items())
        return f"{type(self).__name__}({self.message!r}{details})"

    def _details(self) -> dict[str, Any]:
        """Structured, log-safe attributes shown in ``repr``."""
        return {}


class ConfigurationError(MfaError, ValueError):
    """The host application passed an invalid argument or configuration."""

    code = "configuration_error"
    default_message = "invalid configuration"


class InvalidNameError(ConfigurationError):
    """A name (of a passkey, a member, an organization, a user) is refused.

    Raised before anything is stored and before any WebAuthn ceremony starts:
    empty or blank, too long, or holding a control character (NUL included).
    The message says which rule was broken, never the name itself.

    Args:
        message: A log-safe description.
        field: Which name: ``"name"``, ``"username"``, ``"display_name"``, ...
    """

    code = "invalid_name"
    default_message = "the name is not valid"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def _details(self) -> dict[str, Any]:
        return {"field": self.field} if self.field is not None else {}


class MalformedDataError(MfaError, ValueError):
    """Input could not be parsed (bad encoding, wrong type, truncated, too large).

    Args:
        message: A log-safe description.
        field: The name of the offending field or structure, when known.
    """

    code = "malformed_data"
    default_message = "malformed input"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def _details(self) -> dict[str, Any]:
        return {"field": self.field} if self.field is not None else {}


class VerificationError(MfaError):
    """Well-formed input that is not accepted (wrong code, bad signature, ...)."""

    code = "verification_failed"
    default_message = "verification failed"


class InvalidCodeError(VerificationError):
    """A one-time, backup or login code did not match.

    Args:
        message: A log-safe description.
        attempts_remaining: Wrong attempts left before the code is dead, when known.
    """

    code = "invalid_code"
    default_message = "the code is not valid"

    def __init__(
        self, message: str | None = None, *, attempts_remaining: int | None = None
    ) -> None:
        super().__init__(message)
        self.attempts_remaining = attempts_remaining

    def _details(self) -> dict[str, Any]:
        if self.attempts_remaining is None:
            return {}
        return {"attempts_remaining": self.attempts_remaining}


class AttemptsExhaustedError(InvalidCodeError):
    """Too many wrong attempts: the code can no longer be used, even if correct."""

    code = "attempts_exhausted"
    default_message = "too many wrong attempts; request a new code"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, attempts_remaining=0)


class ReplayedCodeError(VerificationError):
    """A code, time step or challenge that was already used was presented again."""

    code = "replayed_code"
    default_message = "the code has already been used"


class ExpiredCodeError(VerificationError):
    """A code, pending enrollment or challenge is past its expiry."""

    code = "expired_code"
    default_message = "the code has expired"


class DecryptionError(VerificationError):
    """A secret-box ciphertext failed authentication.

    Raised for a wrong key, tampered bytes, or associated data that does not
    match (for example a secret copied to another user's record).

    Args:
        message: A log-safe description.
        key_id: The key id named by the ciphertext, when it could be read.
    """

    code = "decryption_failed"
    default_message = "the ciphertext could not be decrypted"

    def __init__(self, message: str | None = None, *, key_id: str | None = None) -> None:
        super().__init__(message)
        self.key_id = key_id

    def _details(self) -> dict[str, Any]:
        return {"key_id": self.key_id} if self.key_id is not None else {}


class UnknownKeyError(DecryptionError):
    """The ciphertext names a key id that the key ring does not hold."""

    code = "unknown_key"
    default_message = "the ciphertext was made with a key that is not in the key ring"


class InvitationAddressError(VerificationError):
    """An invitation was accepted by a user whose verified address is not the invited one.

    An invitation link can be forwarded; only the person it was sent to may
    use it. Neither address is kept in the message or the attributes.
    """

    code = "invitation_address_mismatch"
    default_message = "the invitation was sent to another e-mail address"


class WebAuthnError(VerificationError):
    """A WebAuthn ceremony response was well-formed but is not accepted."""

    code = "webauthn_error"
    default_message = "the WebAuthn response was not accepted"


class CeremonyMismatchError(WebAuthnError):
    """A ceremony field does not match what the relying party expected.

    Args:
        message: A log-safe description.
        field: Which field: ``type``, ``challenge``, ``origin``, ``rp_id``,
            ``cross_origin`` or ``top_origin``.
    """

    code = "ceremony_mismatch"
    default_message = "the response does not match the expected ceremony"

    def __init__(self, message: str | None = None, *, field: CeremonyField) -> None:
        super().__init__(message)
        self.field: CeremonyField = field

    def _details(self) -> dict[str, Any]:
        return {"field": self.field}


class UserPresenceError(WebAuthnError):
    """The authenticator did not report user presence (UP flag clear)."""

    code = "user_presence_required"
    default_message = "user presence was not confirmed"


class UserVerificationError(WebAuthnError):
    """User verification was required but the UV flag is clear."""

    code = "user_verification_required"
    default_message = "user verification was required but not performed"


class InvalidSignatureError(WebAuthnError):
    """A signature (assertion or attestation) did not verify."""

    code = "invalid_signature"
    default_message = "the signature is not valid"


class UnsupportedAlgorithmError(WebAuthnError):
    """A COSE algorithm is unknown or not allowed by the caller.

    Args:
        message: A log-safe description.
        alg: The COSE algorithm identifier, when known.
    """

    code = "unsupported_algorithm"
    default_message = "the algorithm is not supported"

    def __init__(self, message: str | None = None, *, alg: int | None = None) -> None:
        super().__init__(message)
        self.alg = alg

    def _details(self) -> dict[str, Any]:
        return {"alg": self.alg}


class UnsupportedAttestationError(WebAuthnError):
    """The attestation statement format is unknown or not allowed.

    Args:
        message: A log-safe description.
        fmt: The attestation statement format identifier.
    """

    code = "unsupported_attestation"
    default_message = "the attestation format is not supported"

    def __init__(self, message: str | None = None, *, fmt: str | None = None) -> None:
        super().__init__(message)
        self.fmt = fmt

    def _details(self) -> dict[str, Any]:
        return {"fmt": self.fmt}


class InvalidAttestationError(WebAuthnError):
    """An attestation statement violates its format's requirements."""

    code = "invalid_attestation"
    default_message = "the attestation statement is not valid"


class UntrustedAttestationError(WebAuthnError):
    """The attestation is valid but does not chain to a trusted anchor, as required."""

    code = "untrusted_attestation"
    default_message = "the attestation is not trusted"


class SignCountError(WebAuthnError):
    """The signature counter did not increase: the credential may be cloned.

    Args:
        message: A log-safe description.
        stored: The counter value the relying party had stored.
        received: The counter value in the authenticator data.
    """

    code = "sign_count_regression"
    default_message = "the signature counter did not increase; the authenticator may be cloned"

    def __init__(
        self, message: str | None = None, *, stored: int | None = None, received: int | None = None
    ) -> None:
        super().__init__(message)
        self.stored = stored
        self.received = received

    def _details(self) -> dict[str, Any]:
        return {"stored": self.stored, "received": self.received}


class UnknownCredentialError(WebAuthnError):
    """A passkey sign-in named a credential that cannot sign anyone in.

    The one refusal for a credential id nobody has registered (or that was
    deleted) and for a registered credential whose response names another
    user handle: the message and attributes are the same in every case, so
    the answer tells nothing about other users' credentials. Tell the
    browser, so the passkey manager can stop offering the credential::

        PublicKeyCredential.signalUnknownCredential(error.signal_options)

    Args:
        message: A log-safe description (never the credential id).
        signal_options: The payload of
            :func:`~mfakit.webauthn.unknown_credential_signal` for the
            response's credential id (not a secret, but kept out of the
            message and ``repr``).
    """

    code = "unknown_credential"
    default_message = "this passkey cannot sign in here"

    def __init__(self, message: str | None = None, *, signal_options: Mapping[str, object]) -> None:
        super().__init__(message)
        #: ``{"rpId": ..., "credentialId": <base64url>}``: the argument of
        #: ``PublicKeyCredential.signalUnknownCredential``.
        self.signal_options: dict[str, object] = dict(signal_options)


class PasswordlessNotAllowedError(WebAuthnError):
    """A valid passkey assertion, from a credential its owner keeps for second factors only.

    Raised by a passkey sign-in only after the assertion verified, so only
    the holder of the credential's private key learns that the credential
    exists and is not allowed to sign in on its own. The credential still
    works as a second factor: do not signal it as unknown.
    """

    code = "passwordless_not_allowed"
    default_message = "this passkey works as a second factor only; sign in another way"


class ThrottledError(MfaError):
    """Too many attempts: the caller must wait before trying again.

    Args:
        message: A log-safe description.
        retry_after: Seconds until the next attempt is allowed.
    """

    code = "throttled"
    default_message = "too many attempts; try again later"

    def __init__(self, message: str | None = None, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def _details(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class LimitReachedError(MfaError):
    """The user already has as many of something as allowed (e.g. authenticator apps).

    Raised before anything is stored: the user must delete one first.

    Args:
        message: A log-safe description.
        limit: The configured maximum.
    """

    code = "limit_reached"
    default_message = "the limit is reached"

    def __init__(self, message: str | None = None, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit

    def _details(self) -> dict[str, Any]:
        return {"limit": self.limit}


class PolicyDeniedError(MfaError):
    """The organization's MFA policy refuses the action.

    Args:
        message: A log-safe description.
        decision: The policy decision that refused it (reasons, obligations).
    """

    code = "policy_denied"
    default_message = "the organization's policy does not allow this"

    def __init__(self, message: str | None = None, *, decision: Any = None) -> None:
        super().__init__(message)
        self.decision = decision


class StepUpRequiredError(PolicyDeniedError):
    """The action needs a recent second-factor check, and the user's last one is too old.

    The user must pass a second factor again (the same calls as the second
    step of sign-in: ``verify_totp``, ``verify_passkey``, ``verify_backup_code``)
    before retrying. Raised before anything is stored or any ceremony starts.

    Args:
        message: A log-safe description.
        action: The action that needs the step-up (an action name).
        max_age: How recent the check must be, at most (older or equal is stale).
        factors: The method kinds the user has that can satisfy it
            (:class:`~mfakit.policy.MethodKind` values, never a secret); empty
            when the user has no second factor at all, in which case the
            application decides (for example, ask for the password again).
        decision: The policy decision that asked for it, when there is one.
    """

    code = "step_up_required"
    default_message = "verify a second factor again to continue"

    def __init__(
        self,
        message: str | None = None,
        *,
        action: str,
        max_age: timedelta,
        factors: Iterable[str] = (),
        decision: Any = None,
    ) -> None:
        super().__init__(message, decision=decision)
        self.action = action
        self.max_age = max_age
        self.factors: tuple[str, ...] = tuple(factors)

    def _details(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "max_age": self.max_age,
            "factors": tuple(str(f) for f in self.factors),
        }


class SessionRevocationError(MfaError):
    """The host's session revoker raised after an action was committed.

    The action (an MFA reset, a removal) is done and stays done; only the
    user's sessions may still be alive. Revoke them again (the audit trail has
    a ``sessions.revoke_failed`` event). The revoker's exception is chained as
    ``__cause__``; it is not in the message, which stays log-safe.

    Args:
        message: A log-safe description.
        user_id: Whose sessions were to be revoked.
    """

    code = "session_revocation_failed"
    default_message = "the action was done, but the user's sessions could not be revoked"

    def __init__(self, message: str | None = None, *, user_id: str | None = None) -> None:
        super().__init__(message)
        self.user_id = user_id

    def _details(self) -> dict[str, Any]:
        return {"user_id": self.user_id} if self.user_id is not None else {}


class StoreError(MfaError):
    """A storage adapter failed. Adapters wrap driver errors: ``raise StoreError(...) from exc``."""

    code = "store_error"
    default_message = "the store failed"


class NotFoundError(StoreError):
    """The record does not exist."""

    code = "not_found"
    default_message = "the record does not exist"


class DuplicateError(StoreError):
    """The record already exists; nothing was written."""

    code = "duplicate"
    default_message = "the record already exists"
