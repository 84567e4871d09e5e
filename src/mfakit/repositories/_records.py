"""Frozen records that cross the repository ports.

Records hold only plain values (``str``, ``bytes``, ``int``, ``bool``, aware UTC
``datetime``, small literals and JSON-able mappings) so that any database can
store them and no store needs to import the pure core. The service maps between
these records and the core's types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

__all__ = [
    "AuditEvent",
    "BackupCode",
    "Challenge",
    "CredentialSummary",
    "DEFAULT_LOGIN_CODE_KEY_ID",
    "Invitation",
    "LockReason",
    "LoginCode",
    "MemberSummary",
    "Membership",
    "MembershipContext",
    "MembershipStatus",
    "Organization",
    "OutboxMessage",
    "Page",
    "PrincipalKind",
    "ThrottleState",
    "TotpCredential",
    "TotpState",
    "TrustedBrowser",
    "UserFactors",
    "WebAuthnCredential",
    "WebAuthnKind",
]

T = TypeVar("T")

#: The key id of login codes made under a single ``login_code_key`` (and of
#: every code stored before login codes recorded their key id).
DEFAULT_LOGIN_CODE_KEY_ID = "default"

#: Whether a TOTP credential awaits its confirming code or is in use.
TotpState = Literal["pending", "active"]
#: The kind of principal a membership gives (DESIGN.md, policy model).
PrincipalKind = Literal["owner", "member", "guest"]
#: Where a membership stands.
MembershipStatus = Literal["active", "locked", "removed"]
#: Why a membership is locked.
LockReason = Literal["mfa_deadline", "failed_attempts", "admin"]
#: What the user registered a WebAuthn credential as.
WebAuthnKind = Literal["passkey", "security_key"]


class _FromBackupEligible:
    """Default of :attr:`WebAuthnCredential.kind`: derive it from the BE flag."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<derived from backup_eligible>"


_DERIVE_KIND: Any = _FromBackupEligible()


class _FromKind:
    """Default of :attr:`WebAuthnCredential.passwordless`: derive it from the kind."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<derived from kind>"


_DERIVE_PASSWORDLESS: Any = _FromKind()

_EMPTY: Mapping[str, Any] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    """One page of a keyset-paginated listing.

    Attributes:
        items: The records of this page, in the listing's order.
        next_cursor: Pass it as ``after`` to get the next page; ``None`` on the last page.
    """

    items: tuple[T, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TotpCredential:
    """One of a user's TOTP devices (authenticator apps), pending confirmation or active.

    A user has at most one pending enrollment and any number of active devices
    up to the service's limit, each with its own name (unique among the
    user's active devices), secret and replay state.

    Attributes:
        totp_id: Random identifier of this enrollment, then of the device.
        user_id: The owner.
        state: ``"pending"`` until confirmed, then ``"active"``.
        name: The device's name, chosen by the user (1 to 64 characters; the
            name a pending enrollment will take). Devices stored before names
            existed are called ``"Authenticator app"``.
        secret: The TOTP key as :mod:`mfakit.secretbox` ciphertext (never plaintext).
        algorithm: ``"sha1"``, ``"sha256"`` or ``"sha512"``.
        digits: Code length.
        period: Time step in seconds.
        created_at: When the enrollment began.
        expires_at: When a pending enrollment stops being confirmable (``None`` when active).
        confirmed_at: When it became active.
        last_step: The last time step accepted (replay protection), ``None`` before any.
        last_used_at: When the device last completed a sign-in, ``None`` before any.
    """

    totp_id: str
    user_id: str
    state: TotpState
    name: str = "Authenticator app"
    secret: bytes = field(repr=False)
    algorithm: str = "sha1"
    digits: int = 6
    period: int = 30
    created_at: datetime
    expires_at: datetime | None = None
    confirmed_at: datetime | None = None
    last_step: int | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupCode:
    """One hashed backup code of a user's current set.

    Attributes:
        user_id: The owner.
        code_id: The code's lookup id (not secret on its own).
        hash: The Argon2 PHC string of the code.
        created_at: When the set was generated.
        consumed_at: When the code was used, ``None`` while unused.
    """

    user_id: str
    code_id: str
    hash: str = field(repr=False)
    created_at: datetime
    consumed_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebAuthnCredential:
    """A registered passkey or security key.

    Attributes:
        credential_id: The credential id (unique across all users).
        user_id: The owner.
        name: The user's label, unique per user.
        public_key: The COSE_Key bytes.
        sign_count: The last signature counter seen.
        transports: Transport hints reported at registration.
        aaguid: The authenticator's AAGUID (16 bytes).
        backup_eligible: The BE flag at registration, or True once a provider
            started syncing the credential (an accepted BE upgrade).
        backup_state: The BS flag last seen.
        created_at: Registration time.
        last_used_at: Last successful assertion, ``None`` before any.
        kind: What the user registered it as: ``"passkey"`` or
            ``"security_key"``. When not given it is derived from
            ``backup_eligible`` (a backup-eligible credential is a synced
            passkey, anything else is taken for a security key), which is
            also how the SQL stores fill it for credentials stored before the
            field existed. Stores keep it as given; the one change is to
            ``"passkey"`` when the credential becomes backup-eligible
            (``update_sign_count(..., backup_eligible=True)``).
        user_handle: The WebAuthn user handle the credential was registered
            with (the user's random handle, see
            :meth:`~mfakit.repositories.WebAuthnCredentialRepository.webauthn_user_handle`),
            which a discoverable credential returns with each assertion.
            ``None`` for a credential stored before handles were recorded
            (then registered with the user id's UTF-8 bytes) until its next
            assertion records that value (``update_sign_count(...,
            user_handle=...)``).
        passwordless: Whether the credential may sign the user in on its own
            (a usernameless passkey sign-in), not only as a second factor.
            When not given it is derived from ``kind``: True for a
            ``"passkey"``, False for a ``"security_key"``, which is also how
            the SQL stores fill it for credentials stored before the field
            existed.
        attested_provider: The authenticator model's name from FIDO metadata,
            recorded at registration only when the attestation chained to a
            trust anchor and the metadata described the model (an attested
            provider name); ``None`` otherwise.
    """

    credential_id: bytes
    user_id: str
    name: str
    public_key: bytes
    sign_count: int = 0
    transports: tuple[str, ...] = ()
    aaguid: bytes = bytes(16)
    backup_eligible: bool = False
    backup_state: bool = False
    created_at: datetime
    last_used_at: datetime | None = None
    kind: WebAuthnKind = _DERIVE_KIND
    user_handle: bytes | None = None
    passwordless: bool = _DERIVE_PASSWORDLESS
    attested_provider: str | None = None

    def __post_init__(self) -> None:
        if self.kind is _DERIVE_KIND:
            derived = "passkey" if self.backup_eligible else "security_key"
            object.__setattr__(self, "kind", derived)
        if self.passwordless is _DERIVE_PASSWORDLESS:
            object.__setattr__(self, "passwordless", self.kind == "passkey")


@dataclass(frozen=True, slots=True, kw_only=True)
class Challenge:
    """A single-use challenge (for example a WebAuthn ceremony's).

    Attributes:
        challenge_id: Identifier the client sends back.
        purpose: What it is for, e.g. ``"webauthn.registration"``.
        user_id: The user it was issued to, ``None`` for usernameless flows.
        challenge: The random challenge bytes.
        created_at: Issue time.
        expires_at: After this instant it can no longer be popped.
        context: JSON-able data the ceremony needs later (e.g. the new credential's name).
    """

    challenge_id: str
    purpose: str
    user_id: str | None = None
    challenge: bytes = field(repr=False)
    created_at: datetime
    expires_at: datetime
    context: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginCode:
    """An emailed one-time login code, stored as a keyed hash.

    A subject (e.g. ``org_id/username``) has at most one live code; issuing a
    new one replaces it.

    Attributes:
        subject: Who the code logs in.
        code_id: Random identifier of this issuance.
        code_hash: Keyed hash of the code.
        created_at: Issue time (the resend cool-down counts from it).
        expires_at: After this instant the code is dead.
        max_attempts: Wrong attempts allowed before the code is dead.
        attempts: Attempts counted so far.
        consumed_at: When it was used, ``None`` while unused.
        key_id: The id of the HMAC key that made ``code_hash``, so that a code
            still verifies after a newer key became current.
    """

    subject: str
    code_id: str
    code_hash: bytes = field(repr=False)
    created_at: datetime
    expires_at: datetime
    max_attempts: int = 5
    attempts: int = 0
    consumed_at: datetime | None = None
    key_id: str = DEFAULT_LOGIN_CODE_KEY_ID


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottleState:
    """Failed attempts recorded under a key (e.g. ``"totp:<user_id>"``).

    Attributes:
        key: The throttle key.
        failures: Failures counted in the current window.
        first_failure_at: First failure of the current window.
        last_failure_at: Most recent failure.
        locked_until: No attempt is allowed before this instant, ``None`` if not locked.
    """

    key: str
    failures: int = 0
    first_failure_at: datetime | None = None
    last_failure_at: datetime | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Organization:
    """An organization and its MFA enforcement state.

    Attributes:
        org_id: Identifier.
        name: Display name.
        policy: The organization's policy settings as a JSON-able mapping.
        enforced: Whether MFA enforcement is on.
        enforced_at: When enforcement was last turned on.
        enforced_by: Who last turned enforcement on (a user id), ``None`` if
            never or unknown. Like ``enforced_at`` it is kept when enforcement
            stops.
        enforcement_stopped_at: When enforcement was last turned off.
        created_at: Creation time.
        version: Optimistic-concurrency counter; the store bumps it on each update.
    """

    org_id: str
    name: str
    policy: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    enforced: bool = False
    enforced_at: datetime | None = None
    enforced_by: str | None = None
    enforcement_stopped_at: datetime | None = None
    created_at: datetime
    version: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Membership:
    """A principal's place in an organization, with the policy's stored anchors.

    Deadlines are never stored: the policy derives them from these anchors.

    Attributes:
        org_id: The organization.
        user_id: The user.
        kind: ``owner``, ``member`` or ``guest``.
        status: ``active``, ``locked`` or ``removed``.
        username: Login name inside the organization (IAM members), unique per organization.
        joined_at: When the membership began.
        grace_started_at: Anchor of a running grace period, ``None`` if none.
        grace_reason: Why the grace period runs (e.g. ``"enforcement"``, ``"lost_method"``).
        locked_at: When the lock was applied.
        lock_reason: Why it is locked.
        last_reminder_at: Last MFA reminder sent.
        exempt_until: End of an exemption (break-glass accounts), ``None`` if none.
        attributes: Further JSON-able facts the service keeps.
        version: Optimistic-concurrency counter; the store bumps it on each update.
    """

    org_id: str
    user_id: str
    kind: PrincipalKind = "member"
    status: MembershipStatus = "active"
    username: str | None = None
    joined_at: datetime
    grace_started_at: datetime | None = None
    grace_reason: str | None = None
    locked_at: datetime | None = None
    lock_reason: LockReason | None = None
    last_reminder_at: datetime | None = None
    exempt_until: datetime | None = None
    attributes: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    version: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Invitation:
    """An invitation to join an organization, accepted at most once.

    Attributes:
        invitation_id: Identifier (the invitation link carries it).
        org_id: The organization.
        email: Where it was sent.
        kind: The principal kind the invitee will get.
        invited_by: The inviting user.
        created_at: Issue time.
        expires_at: After this instant it cannot be accepted.
        accepted_at: When it was accepted.
        accepted_by: The user who accepted it.
        revoked_at: When it was revoked.
    """

    invitation_id: str
    org_id: str
    email: str
    kind: PrincipalKind = "member"
    invited_by: str
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None
    accepted_by: str | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """A security-relevant action: who did what, when, with what outcome.

    Never put secrets, codes or keys in ``details``.

    Attributes:
        event_id: Unique identifier.
        at: When it happened.
        action: Machine code, e.g. ``"totp.confirmed"``.
        outcome: ``"success"``, ``"failure"``, ``"denied"``, ...
        actor_id: Who acted, ``None`` for the system.
        user_id: The user concerned.
        org_id: The organization concerned.
        details: JSON-able, log-safe parameters.
    """

    event_id: str
    at: datetime
    action: str
    outcome: str = "success"
    actor_id: str | None = None
    user_id: str | None = None
    org_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFactors:
    """One user's second factors and sign-in counters, read together in one store call.

    Attributes:
        user_id: The user.
        totp_devices: The *active* TOTP devices as stored (secrets still
            encrypted), oldest first (by ``created_at``, then ``totp_id``), as
            in :meth:`~mfakit.repositories.TotpRepository.list_totp_devices`
            (a pending enrollment is not returned).
        credentials: The WebAuthn credentials, oldest first (by ``created_at``,
            then ``credential_id``), as in
            :meth:`~mfakit.repositories.WebAuthnCredentialRepository.list_webauthn_credentials`.
        backup_codes: The backup code set, used codes included, ordered by
            ``code_id``, as in
            :meth:`~mfakit.repositories.BackupCodeRepository.list_backup_codes`.
        throttles: The state of each throttle key asked for, keyed by key
            (zero failures for a key with nothing recorded), as in
            :meth:`~mfakit.repositories.ThrottleRepository.get_throttles`.
        last_mfa_at: When the user last passed a second-factor check (the
            step-up anchor, set by
            :meth:`~mfakit.repositories.UserStateRepository.record_second_factor`),
            ``None`` before any.
        factors_changed_at: When the user's second factors last changed (or a
            membership of theirs was locked), as stored by
            :meth:`~mfakit.repositories.UserStateRepository.record_factor_change`;
            ``None`` before any. A trusted browser issued at or before it is void.
    """

    user_id: str
    totp_devices: tuple[TotpCredential, ...] = ()
    credentials: tuple[WebAuthnCredential, ...] = ()
    backup_codes: tuple[BackupCode, ...] = ()
    throttles: Mapping[str, ThrottleState] = field(default_factory=lambda: _EMPTY)
    last_mfa_at: datetime | None = None
    factors_changed_at: datetime | None = None

    @property
    def totp(self) -> TotpCredential | None:
        """The oldest active TOTP device, ``None`` without one.

        .. deprecated:: 0.x
            A user may have several devices: use :attr:`totp_devices`.
        """
        return self.totp_devices[0] if self.totp_devices else None


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustedBrowser:
    """A browser the user chose to trust, so that it may skip the second factor for a while.

    The browser keeps a random token (in a cookie); the store keeps only the
    token's SHA-256 digest, which cannot be turned back into the token.

    Attributes:
        token_id: Random identifier, not secret (to list and revoke it).
        user_id: The user the token was issued to.
        token_hash: SHA-256 of the token (32 bytes), unique across all users.
        label: What the user (or the application) calls the browser, if anything.
        created_at: When it was trusted.
        expires_at: When the trust ends (the token is refused from this instant on).
        last_used_at: When it last let the user skip the second factor, ``None`` before.
    """

    token_id: str
    user_id: str
    token_hash: bytes = field(repr=False)
    label: str | None = None
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MembershipContext:
    """One of a user's memberships with its organization, read in one query.

    Attributes:
        membership: The membership record.
        organization: Its organization's record.
        active_owners: How many memberships of that organization are owners
            with status ``active`` (as
            :meth:`~mfakit.repositories.MembershipRepository.count_active_owners`).
    """

    membership: Membership
    organization: Organization
    active_owners: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialSummary:
    """What an organization-wide listing says about one WebAuthn credential.

    The key material (public key, AAGUID, counters) is left out: a policy only
    needs to know what the method is, its label and its dates.

    Attributes:
        credential_id: The credential id.
        name: The user's label.
        kind: ``"passkey"`` or ``"security_key"`` (see :attr:`WebAuthnCredential.kind`).
        created_at: Registration time.
        last_used_at: Last successful assertion, ``None`` before any.
    """

    credential_id: bytes
    name: str
    kind: WebAuthnKind
    created_at: datetime
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberSummary:
    """A membership with a summary of the member's second factors, read in one query.

    It holds every stored fact the policy's ``Principal`` is built from, so an
    organization-wide pass (report, reminders, sweep) needs no further store
    call per member.

    Attributes:
        membership: The membership record itself.
        totp_created_at: When the member's oldest *active* TOTP device was
            enrolled (the earliest ``created_at``), ``None`` if the member has
            no active device (a pending enrollment does not count).
        totp_confirmed_at: When the earliest of them was confirmed (the
            earliest ``confirmed_at``), ``None`` without one.
        totp_devices: How many active TOTP devices the member has.
        credentials: The member's WebAuthn credentials, oldest first (by
            ``created_at``, then ``credential_id``), as in
            :meth:`~mfakit.repositories.WebAuthnCredentialRepository.list_webauthn_credentials`.
        backup_codes_unused: How many of the member's backup codes are unused.
        backup_codes_created_at: When the member's current backup code set was
            generated (the earliest ``created_at`` of its codes), ``None`` if
            the member has no codes at all.
        failed_attempts: The sum of ``failures`` of the throttle keys asked for
            (``prefix + user_id`` for each ``throttle_prefixes`` given to the
            listing); 0 when none were asked for.
        last_mfa_at: When the member (the user, in any organization or none)
            last passed a second-factor check, as in
            :attr:`UserFactors.last_mfa_at`.
    """

    membership: Membership
    totp_created_at: datetime | None = None
    totp_confirmed_at: datetime | None = None
    totp_devices: int = 0
    credentials: tuple[CredentialSummary, ...] = ()
    backup_codes_unused: int = 0
    backup_codes_created_at: datetime | None = None
    failed_attempts: int = 0
    last_mfa_at: datetime | None = None

    @property
    def has_totp(self) -> bool:
        """Whether the member has an active TOTP credential."""
        return self.totp_created_at is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxMessage:
    """A notification waiting in the transactional outbox, delivered at least once.

    Written in the same transaction as the change that causes it, claimed by one
    deliverer at a time for a lease, then marked delivered or failed.

    Attributes:
        message_id: Stable unique id; deliverers and recipients use it to drop
            duplicates (delivery is at least once).
        kind: What the message is, e.g. ``"mfa.reminder"`` (free text for the store).
        payload: The message as JSON text; the store keeps it as given.
        created_at: When it was enqueued.
        next_attempt_at: When it may next be claimed; ``None`` once a deliverer
            gave up on it (it is then never claimed again).
        attempts: How many times it was claimed (each claim is one delivery attempt).
        claimed_until: End of the current claim's lease, ``None`` if never
            claimed or released by a failure. After it passes, the message can
            be claimed again.
        delivered_at: When a deliverer reported it delivered, ``None`` until then.
        failed_at: When the last failure was reported, ``None`` if none.
        last_error: The last failure's log-safe description, ``None`` if none.
    """

    message_id: str
    kind: str
    payload: str = field(repr=False)
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: int = 0
    claimed_until: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    last_error: str | None = None
