"""The repository ports and records: public surface and log safety."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import UTC, datetime

import pytest

import mfakit.stores
import mfakit.testing.contracts
from mfakit import repositories
from mfakit.repositories import WebAuthnCredential
from mfakit.stores.memory import MemoryStore
from mfakit.testing import postgres as pg_helper
from mfakit.testing.contracts._records import (
    backup_codes,
    challenge,
    login_code,
    new_id,
    outbox_message,
    pending_totp,
)


def test_repositories_all_is_pinned() -> None:
    """The ports module's public names are exactly these."""
    assert repositories.__all__ == [
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


def test_contracts_all_is_pinned() -> None:
    """The contract suite's public names are exactly these, and each resolves."""
    assert mfakit.testing.contracts.__all__ == [
        "ProcessRaceContract",
        "StateMachineContract",
        "StoreContract",
        "ThreadRaceContract",
    ]
    for name in mfakit.testing.contracts.__all__:
        assert getattr(mfakit.testing.contracts, name).__name__ == name


def test_contracts_unknown_name() -> None:
    """An unknown attribute of the contracts package is an AttributeError."""
    with pytest.raises(AttributeError):
        _ = mfakit.testing.contracts.NoSuchContract  # type: ignore[attr-defined]


def test_other_modules_all_pinned() -> None:
    """The stores package and the PostgreSQL helper export exactly these names."""
    assert mfakit.stores.__all__ == []
    assert pg_helper.__all__ == ["TemporaryPostgres", "find_postgres_bin"]


def test_records_are_frozen() -> None:
    """Records cannot be changed in place."""
    rec = pending_totp(new_id("user"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.last_step = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("record", "secret"),
    [
        (pending_totp("u"), "secret"),
        (backup_codes("u", 1)[0], "hash"),
        (challenge(), "challenge"),
        (login_code("s"), "code_hash"),
        (outbox_message(), "payload"),
    ],
)
def test_secrets_not_in_repr(record: object, secret: str) -> None:
    """Secret material never appears in a record's repr."""
    value = getattr(record, secret)
    assert f"{secret}=" not in repr(record)
    assert repr(value) not in repr(record)


def test_memory_store_satisfies_every_port() -> None:
    """Each port protocol accepts the in-memory store (runtime check of the method set)."""
    store = MemoryStore()
    for name in repositories.__all__:
        port = getattr(repositories, name)
        if name.endswith(("Repository", "Sink")) or name == "MfaStore":
            assert isinstance(store, port), name


@pytest.mark.parametrize(("backup_eligible", "kind"), [(True, "passkey"), (False, "security_key")])
def test_webauthn_kind_derived_from_backup_eligibility(backup_eligible: bool, kind: str) -> None:
    """Without an explicit kind, a backup-eligible credential is a passkey, else a security key."""
    cred = WebAuthnCredential(
        credential_id=b"c",
        user_id="u",
        name="n",
        public_key=b"k",
        backup_eligible=backup_eligible,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert cred.kind == kind


def test_webauthn_kind_given_is_kept() -> None:
    """An explicit kind wins over the BE flag and survives dataclasses.replace."""
    cred = WebAuthnCredential(
        credential_id=b"c",
        user_id="u",
        name="n",
        public_key=b"k",
        backup_eligible=True,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        kind="security_key",
    )
    assert dataclasses.replace(cred, backup_eligible=False, name="m").kind == "security_key"
    assert dataclasses.replace(cred, kind="passkey").kind == "passkey"


def test_webauthn_kind_default_reads_as_derived() -> None:
    """The kind's default shows as derived from the BE flag in signatures and docs."""
    default = inspect.signature(WebAuthnCredential).parameters["kind"].default
    assert repr(default) == "<derived from backup_eligible>"
