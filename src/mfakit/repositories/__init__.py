"""Repository ports: how mfakit reaches the host application's storage.

The ports are :class:`typing.Protocol` classes; the records crossing them are
frozen dataclasses of plain values. :mod:`mfakit.stores` ships three adapters
(memory, SQLite, PostgreSQL) and :mod:`mfakit.testing.contracts` holds the
contract suite any adapter must pass.

Example::

    from mfakit.repositories import MfaStore
    from mfakit.stores.sqlite import SQLiteStore

    store: MfaStore = SQLiteStore("mfa.sqlite3")
"""

from __future__ import annotations

from mfakit.repositories._ports import (
    AuditSink,
    BackupCodeRepository,
    ChallengeRepository,
    InvitationRepository,
    LoginCodeRepository,
    MembershipRepository,
    MfaStore,
    OrganizationRepository,
    OutboxRepository,
    ThrottleRepository,
    TotpRepository,
    TrustedBrowserRepository,
    UserStateRepository,
    WebAuthnCredentialRepository,
)
from mfakit.repositories._records import (
    DEFAULT_LOGIN_CODE_KEY_ID,
    AuditEvent,
    BackupCode,
    Challenge,
    CredentialSummary,
    Invitation,
    LockReason,
    LoginCode,
    Membership,
    MembershipContext,
    MembershipStatus,
    MemberSummary,
    Organization,
    OutboxMessage,
    Page,
    PrincipalKind,
    ThrottleState,
    TotpCredential,
    TotpState,
    TrustedBrowser,
    UserFactors,
    WebAuthnCredential,
    WebAuthnKind,
)

__all__ = [
    "AuditEvent",
    "AuditSink",
    "BackupCode",
    "BackupCodeRepository",
    "Challenge",
    "ChallengeRepository",
    "CredentialSummary",
    "DEFAULT_LOGIN_CODE_KEY_ID",
    "Invitation",
    "InvitationRepository",
    "LockReason",
    "LoginCode",
    "LoginCodeRepository",
    "MemberSummary",
    "Membership",
    "MembershipContext",
    "MembershipRepository",
    "MembershipStatus",
    "MfaStore",
    "Organization",
    "OrganizationRepository",
    "OutboxMessage",
    "OutboxRepository",
    "Page",
    "PrincipalKind",
    "ThrottleRepository",
    "ThrottleState",
    "TotpCredential",
    "TotpRepository",
    "TotpState",
    "TrustedBrowser",
    "TrustedBrowserRepository",
    "UserFactors",
    "UserStateRepository",
    "WebAuthnCredential",
    "WebAuthnCredentialRepository",
    "WebAuthnKind",
]
