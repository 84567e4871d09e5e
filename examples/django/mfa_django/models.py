"""One model per table of mfakit's SQL schema (``mfakit.stores._schema``), in Django's terms.

Times are ``DateTimeField`` (``USE_TZ = True``: aware UTC), mappings
``JSONField``, keys that listings page through :class:`~mfa_django.fields.KeyField`.
The SQL schema's primary keys, unique indexes (partial ones included) and
checks are Django constraints, so the database still refuses what mfakit's
ports call a duplicate.

Each model converts to and from its mfakit record in one place:
``from_record`` (an unsaved instance) and ``to_record``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from django.db import models
from django.db.models import Q

from mfa_django.fields import KeyField
from mfakit.repositories import (
    AuditEvent,
    BackupCode,
    Challenge,
    Invitation,
    LoginCode,
    Membership,
    Organization,
    OutboxMessage,
    ThrottleState,
    TotpCredential,
    TrustedBrowser,
    WebAuthnCredential,
)

_PRINCIPAL_KINDS = [("owner", "owner"), ("member", "member"), ("guest", "guest")]


def utc_of(value: datetime) -> datetime:
    # Django returns aware datetimes in the connection's zone (UTC by default).
    return value.astimezone(UTC)


def opt_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


class TotpDevice(models.Model):
    """A TOTP enrollment (pending) or device (active): ``mfa_totp``."""

    totp_id = KeyField(primary_key=True)
    user_id = KeyField()
    state = models.CharField(max_length=7, choices=[("pending", "pending"), ("active", "active")])
    name = models.TextField()
    secret = models.BinaryField()
    algorithm = models.TextField()
    digits = models.IntegerField()
    period = models.IntegerField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True)
    confirmed_at = models.DateTimeField(null=True)
    last_step = models.BigIntegerField(null=True)
    last_used_at = models.DateTimeField(null=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            # At most one pending enrollment per user; names unique among active devices.
            models.UniqueConstraint(
                fields=["user_id"], condition=Q(state="pending"), name="mfa_totp_pending"
            ),
            models.UniqueConstraint(
                fields=["user_id", "name"], condition=Q(state="active"), name="mfa_totp_name"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "active"]), name="mfa_totp_state"
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["user_id", "state", "created_at"], name="mfa_totp_user")
        ]

    @classmethod
    def from_record(cls, r: TotpCredential) -> TotpDevice:
        return cls(
            totp_id=r.totp_id,
            user_id=r.user_id,
            state=r.state,
            name=r.name,
            secret=bytes(r.secret),
            algorithm=r.algorithm,
            digits=r.digits,
            period=r.period,
            created_at=r.created_at,
            expires_at=r.expires_at,
            confirmed_at=r.confirmed_at,
            last_step=r.last_step,
            last_used_at=r.last_used_at,
        )

    def to_record(self) -> TotpCredential:
        return TotpCredential(
            totp_id=self.totp_id,
            user_id=self.user_id,
            state=self.state,
            name=self.name,
            secret=bytes(self.secret),
            algorithm=self.algorithm,
            digits=self.digits,
            period=self.period,
            created_at=utc_of(self.created_at),
            expires_at=opt_utc(self.expires_at),
            confirmed_at=opt_utc(self.confirmed_at),
            last_step=self.last_step,
            last_used_at=opt_utc(self.last_used_at),
        )


class BackupCodeSet(models.Model):
    """One row per user with backup codes, locked while the set is replaced."""

    user_id = KeyField(primary_key=True)
    replaced = models.BigIntegerField(default=0)


class StoredBackupCode(models.Model):
    """One hashed backup code: ``mfa_backup_codes``."""

    user_id = KeyField()
    code_id = KeyField()
    hash = models.TextField()
    created_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["user_id", "code_id"], name="mfa_backup_code")
        ]

    @classmethod
    def from_record(cls, r: BackupCode) -> StoredBackupCode:
        return cls(
            user_id=r.user_id,
            code_id=r.code_id,
            hash=r.hash,
            created_at=r.created_at,
            consumed_at=r.consumed_at,
        )

    def to_record(self) -> BackupCode:
        return BackupCode(
            user_id=self.user_id,
            code_id=self.code_id,
            hash=self.hash,
            created_at=utc_of(self.created_at),
            consumed_at=opt_utc(self.consumed_at),
        )


class Credential(models.Model):
    """A passkey or security key: ``mfa_webauthn_credentials``."""

    credential_id = models.BinaryField(unique=True)
    user_id = KeyField()
    name = models.TextField()
    public_key = models.BinaryField()
    sign_count = models.BigIntegerField()
    transports = models.JSONField(default=list)
    aaguid = models.BinaryField()
    backup_eligible = models.BooleanField()
    backup_state = models.BooleanField()
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True)
    kind = models.CharField(
        max_length=12, choices=[("passkey", "passkey"), ("security_key", "security_key")]
    )
    user_handle = models.BinaryField(null=True)
    passwordless = models.BooleanField()
    attested_provider = models.TextField(null=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["user_id", "name"], name="mfa_credential_name")
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["user_id", "created_at", "credential_id"], name="mfa_cred_user")
        ]

    @classmethod
    def from_record(cls, r: WebAuthnCredential) -> Credential:
        return cls(
            credential_id=bytes(r.credential_id),
            user_id=r.user_id,
            name=r.name,
            public_key=bytes(r.public_key),
            sign_count=r.sign_count,
            transports=list(r.transports),
            aaguid=bytes(r.aaguid),
            backup_eligible=r.backup_eligible,
            backup_state=r.backup_state,
            created_at=r.created_at,
            last_used_at=r.last_used_at,
            kind=r.kind,
            user_handle=None if r.user_handle is None else bytes(r.user_handle),
            passwordless=r.passwordless,
            attested_provider=r.attested_provider,
        )

    def to_record(self) -> WebAuthnCredential:
        return WebAuthnCredential(
            credential_id=bytes(self.credential_id),
            user_id=self.user_id,
            name=self.name,
            public_key=bytes(self.public_key),
            sign_count=self.sign_count,
            transports=tuple(self.transports),
            aaguid=bytes(self.aaguid),
            backup_eligible=self.backup_eligible,
            backup_state=self.backup_state,
            created_at=utc_of(self.created_at),
            last_used_at=opt_utc(self.last_used_at),
            kind=self.kind,
            user_handle=None if self.user_handle is None else bytes(self.user_handle),
            passwordless=self.passwordless,
            attested_provider=self.attested_provider,
        )


class UserHandle(models.Model):
    """Each user's random WebAuthn user handle: ``mfa_webauthn_user_handles``."""

    user_id = KeyField(primary_key=True)
    handle = models.BinaryField(unique=True)


class StoredChallenge(models.Model):
    """A single-use challenge: ``mfa_challenges``."""

    challenge_id = KeyField(primary_key=True)
    purpose = models.TextField()
    user_id = models.TextField(null=True)
    challenge = models.BinaryField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    context = models.JSONField(default=dict)

    @classmethod
    def from_record(cls, r: Challenge) -> StoredChallenge:
        return cls(
            challenge_id=r.challenge_id,
            purpose=r.purpose,
            user_id=r.user_id,
            challenge=bytes(r.challenge),
            created_at=r.created_at,
            expires_at=r.expires_at,
            context=dict(r.context),
        )

    def to_record(self) -> Challenge:
        return Challenge(
            challenge_id=self.challenge_id,
            purpose=self.purpose,
            user_id=self.user_id,
            challenge=bytes(self.challenge),
            created_at=utc_of(self.created_at),
            expires_at=utc_of(self.expires_at),
            context=self.context,
        )


class StoredLoginCode(models.Model):
    """A subject's emailed login code: ``mfa_login_codes``."""

    subject = KeyField(primary_key=True)
    code_id = models.TextField()
    code_hash = models.BinaryField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    max_attempts = models.IntegerField()
    attempts = models.IntegerField()
    consumed_at = models.DateTimeField(null=True, db_index=True)
    key_id = models.TextField()

    @classmethod
    def from_record(cls, r: LoginCode) -> StoredLoginCode:
        return cls(
            subject=r.subject,
            code_id=r.code_id,
            code_hash=bytes(r.code_hash),
            created_at=r.created_at,
            expires_at=r.expires_at,
            max_attempts=r.max_attempts,
            attempts=r.attempts,
            consumed_at=r.consumed_at,
            key_id=r.key_id,
        )

    def to_record(self) -> LoginCode:
        return LoginCode(
            subject=self.subject,
            code_id=self.code_id,
            code_hash=bytes(self.code_hash),
            created_at=utc_of(self.created_at),
            expires_at=utc_of(self.expires_at),
            max_attempts=self.max_attempts,
            attempts=self.attempts,
            consumed_at=opt_utc(self.consumed_at),
            key_id=self.key_id,
        )


class Throttle(models.Model):
    """Failures and lock of one key: ``mfa_throttle``."""

    key = KeyField(primary_key=True)
    failures = models.IntegerField(default=0)
    first_failure_at = models.DateTimeField(null=True)
    last_failure_at = models.DateTimeField(null=True)
    locked_until = models.DateTimeField(null=True)

    def to_record(self) -> ThrottleState:
        return ThrottleState(
            key=self.key,
            failures=self.failures,
            first_failure_at=opt_utc(self.first_failure_at),
            last_failure_at=opt_utc(self.last_failure_at),
            locked_until=opt_utc(self.locked_until),
        )


class UserState(models.Model):
    """What mfakit keeps per user: ``mfa_user_state``."""

    user_id = KeyField(primary_key=True)
    last_mfa_at = models.DateTimeField(null=True)
    factors_changed_at = models.DateTimeField(null=True)


class StoredTrustedBrowser(models.Model):
    """A browser trusted for a while, by the hash of its token: ``mfa_trusted_browsers``."""

    token_id = KeyField(primary_key=True)
    user_id = KeyField()
    token_hash = models.BinaryField(unique=True)
    label = models.TextField(null=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True)

    class Meta:
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["user_id", "created_at", "token_id"], name="mfa_trusted_user")
        ]

    @classmethod
    def from_record(cls, r: TrustedBrowser) -> StoredTrustedBrowser:
        return cls(
            token_id=r.token_id,
            user_id=r.user_id,
            token_hash=bytes(r.token_hash),
            label=r.label,
            created_at=r.created_at,
            expires_at=r.expires_at,
            last_used_at=r.last_used_at,
        )

    def to_record(self) -> TrustedBrowser:
        return TrustedBrowser(
            token_id=self.token_id,
            user_id=self.user_id,
            token_hash=bytes(self.token_hash),
            label=self.label,
            created_at=utc_of(self.created_at),
            expires_at=utc_of(self.expires_at),
            last_used_at=opt_utc(self.last_used_at),
        )


class StoredOrganization(models.Model):
    """An organization and its enforcement state: ``mfa_organizations``."""

    org_id = KeyField(primary_key=True)
    name = models.TextField()
    policy = models.JSONField(default=dict)
    enforced = models.BooleanField(default=False)
    enforced_at = models.DateTimeField(null=True)
    enforced_by = models.TextField(null=True)
    enforcement_stopped_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField()
    version = models.BigIntegerField(default=1)

    @classmethod
    def from_record(cls, r: Organization) -> StoredOrganization:
        return cls(
            org_id=r.org_id,
            name=r.name,
            policy=dict(r.policy),
            enforced=r.enforced,
            enforced_at=r.enforced_at,
            enforced_by=r.enforced_by,
            enforcement_stopped_at=r.enforcement_stopped_at,
            created_at=r.created_at,
            version=1,
        )

    def to_record(self) -> Organization:
        return Organization(
            org_id=self.org_id,
            name=self.name,
            policy=self.policy,
            enforced=self.enforced,
            enforced_at=opt_utc(self.enforced_at),
            enforced_by=self.enforced_by,
            enforcement_stopped_at=opt_utc(self.enforcement_stopped_at),
            created_at=utc_of(self.created_at),
            version=self.version,
        )


class StoredMembership(models.Model):
    """A principal of an organization: ``mfa_memberships``."""

    org = models.ForeignKey(
        StoredOrganization, on_delete=models.CASCADE, db_column="org_id", related_name="members"
    )
    user_id = KeyField()
    kind = models.CharField(max_length=6, choices=_PRINCIPAL_KINDS)
    status = models.CharField(
        max_length=7, choices=[("active", "active"), ("locked", "locked"), ("removed", "removed")]
    )
    username = models.TextField(null=True)
    joined_at = models.DateTimeField()
    grace_started_at = models.DateTimeField(null=True)
    grace_reason = models.TextField(null=True)
    locked_at = models.DateTimeField(null=True)
    lock_reason = models.TextField(null=True)
    last_reminder_at = models.DateTimeField(null=True)
    exempt_until = models.DateTimeField(null=True)
    attributes = models.JSONField(default=dict)
    version = models.BigIntegerField(default=1)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["org", "user_id"], name="mfa_membership"),
            models.UniqueConstraint(fields=["org", "username"], name="mfa_membership_username"),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["user_id", "org"], name="mfa_membership_user"),
            models.Index(fields=["org", "kind", "status"], name="mfa_membership_kind"),
        ]

    @staticmethod
    def values_of(r: Membership) -> dict[str, Any]:
        """The columns a membership record sets (all but the keys and the version)."""
        return {
            "kind": r.kind,
            "status": r.status,
            "username": r.username,
            "joined_at": r.joined_at,
            "grace_started_at": r.grace_started_at,
            "grace_reason": r.grace_reason,
            "locked_at": r.locked_at,
            "lock_reason": r.lock_reason,
            "last_reminder_at": r.last_reminder_at,
            "exempt_until": r.exempt_until,
            "attributes": dict(r.attributes),
        }

    @classmethod
    def from_record(cls, r: Membership) -> StoredMembership:
        return cls(org_id=r.org_id, user_id=r.user_id, version=1, **cls.values_of(r))

    def to_record(self) -> Membership:
        return Membership(
            org_id=self.org_id,
            user_id=self.user_id,
            kind=self.kind,
            status=self.status,
            username=self.username,
            joined_at=utc_of(self.joined_at),
            grace_started_at=opt_utc(self.grace_started_at),
            grace_reason=self.grace_reason,
            locked_at=opt_utc(self.locked_at),
            lock_reason=self.lock_reason,
            last_reminder_at=opt_utc(self.last_reminder_at),
            exempt_until=opt_utc(self.exempt_until),
            attributes=self.attributes,
            version=self.version,
        )


class StoredInvitation(models.Model):
    """An invitation, accepted at most once: ``mfa_invitations``."""

    invitation_id = KeyField(primary_key=True)
    org = models.ForeignKey(
        StoredOrganization, on_delete=models.CASCADE, db_column="org_id", related_name="invitations"
    )
    email = models.TextField()
    kind = models.CharField(max_length=6, choices=_PRINCIPAL_KINDS)
    invited_by = models.TextField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True)
    accepted_by = models.TextField(null=True)
    revoked_at = models.DateTimeField(null=True)

    class Meta:
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["org", "invitation_id"], name="mfa_invitation_org")
        ]

    @classmethod
    def from_record(cls, r: Invitation) -> StoredInvitation:
        return cls(
            invitation_id=r.invitation_id,
            org_id=r.org_id,
            email=r.email,
            kind=r.kind,
            invited_by=r.invited_by,
            created_at=r.created_at,
            expires_at=r.expires_at,
            accepted_at=r.accepted_at,
            accepted_by=r.accepted_by,
            revoked_at=r.revoked_at,
        )

    def to_record(self) -> Invitation:
        return Invitation(
            invitation_id=self.invitation_id,
            org_id=self.org_id,
            email=self.email,
            kind=self.kind,
            invited_by=self.invited_by,
            created_at=utc_of(self.created_at),
            expires_at=utc_of(self.expires_at),
            accepted_at=opt_utc(self.accepted_at),
            accepted_by=self.accepted_by,
            revoked_at=opt_utc(self.revoked_at),
        )


class StoredAuditEvent(models.Model):
    """The append-only audit log, in ``seq`` order: ``mfa_audit_events``."""

    seq = models.BigAutoField(primary_key=True)
    event_id = models.TextField(unique=True)
    at = models.DateTimeField()
    action = models.TextField()
    outcome = models.TextField()
    actor_id = models.TextField(null=True)
    user_id = models.TextField(null=True)
    org_id = models.TextField(null=True)
    details = models.JSONField(default=dict)

    class Meta:
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["org_id", "seq"], name="mfa_audit_org"),
            models.Index(fields=["user_id", "seq"], name="mfa_audit_user"),
        ]

    @classmethod
    def from_record(cls, r: AuditEvent) -> StoredAuditEvent:
        return cls(
            event_id=r.event_id,
            at=r.at,
            action=r.action,
            outcome=r.outcome,
            actor_id=r.actor_id,
            user_id=r.user_id,
            org_id=r.org_id,
            details=dict(r.details),
        )

    def to_record(self) -> AuditEvent:
        return AuditEvent(
            event_id=self.event_id,
            at=utc_of(self.at),
            action=self.action,
            outcome=self.outcome,
            actor_id=self.actor_id,
            user_id=self.user_id,
            org_id=self.org_id,
            details=self.details,
        )


class StoredOutboxMessage(models.Model):
    """A notification in the transactional outbox: ``mfa_outbox``."""

    message_id = KeyField(primary_key=True)
    kind = models.TextField()
    payload = models.TextField()
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True)
    attempts = models.IntegerField(default=0)
    claimed_until = models.DateTimeField(null=True)
    delivered_at = models.DateTimeField(null=True)
    failed_at = models.DateTimeField(null=True)
    last_error = models.TextField(null=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(condition=Q(attempts__gte=0), name="mfa_outbox_attempts")
        ]
        indexes: ClassVar[list[Any]] = [
            # Claims walk the undelivered messages in claim order; purges the delivered.
            models.Index(
                fields=["next_attempt_at", "created_at", "message_id"],
                condition=Q(delivered_at__isnull=True),
                name="mfa_outbox_due",
            ),
            models.Index(
                fields=["delivered_at"],
                condition=Q(delivered_at__isnull=False),
                name="mfa_outbox_delivered",
            ),
        ]

    @classmethod
    def from_record(cls, r: OutboxMessage) -> StoredOutboxMessage:
        return cls(
            message_id=r.message_id,
            kind=r.kind,
            payload=r.payload,
            created_at=r.created_at,
            next_attempt_at=r.next_attempt_at,
            attempts=r.attempts,
            claimed_until=r.claimed_until,
            delivered_at=r.delivered_at,
            failed_at=r.failed_at,
            last_error=r.last_error,
        )

    def to_record(self) -> OutboxMessage:
        return OutboxMessage(
            message_id=self.message_id,
            kind=self.kind,
            payload=self.payload,
            created_at=utc_of(self.created_at),
            next_attempt_at=opt_utc(self.next_attempt_at),
            attempts=self.attempts,
            claimed_until=opt_utc(self.claimed_until),
            delivered_at=opt_utc(self.delivered_at),
            failed_at=opt_utc(self.failed_at),
            last_error=self.last_error,
        )
