"""The facade every mfakit store presents: each port method delegates to one part.

A store is built from one small **context** (what its parts share: the state
and lock of the memory store; the connection source, dialect and
transactions of the SQL stores) and one **part** per port (TOTP, backup
codes, WebAuthn credentials, challenges, login codes, throttles, user
state, trusted browsers, organizations, memberships, invitations, audit,
outbox). Each part receives
the context and holds its port methods' real code; no part inherits from
another. A part that needs another's capability (accepting an invitation
adds a membership) is handed one narrow callable when it is built.

:class:`StoreFacade` owns the parts of a :class:`StoreParts` bundle and
forwards each port method to its part in one explicit line (no
``__getattr__``), so :class:`~mfakit.repositories.MfaStore` is satisfied
structurally and the API reference shows every method on the store.
:class:`~mfakit.stores.memory.MemoryStore`,
:class:`~mfakit.stores.sqlite.SQLiteStore` and
:class:`~mfakit.stores.postgres.PostgresStore` subclass it once, only to
build their context and parts; the facade holds no logic of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Protocol

from mfakit.repositories import (
    AuditEvent,
    AuditSink,
    BackupCode,
    BackupCodeRepository,
    Challenge,
    ChallengeRepository,
    Invitation,
    InvitationRepository,
    LoginCode,
    LoginCodeRepository,
    Membership,
    MembershipContext,
    MembershipRepository,
    MemberSummary,
    Organization,
    OrganizationRepository,
    OutboxMessage,
    OutboxRepository,
    Page,
    ThrottleRepository,
    ThrottleState,
    TotpCredential,
    TotpRepository,
    TrustedBrowser,
    TrustedBrowserRepository,
    UserFactors,
    UserStateRepository,
    WebAuthnCredential,
    WebAuthnCredentialRepository,
)

__all__ = ["StoreContext", "StoreFacade", "StoreParts"]


class StoreContext(Protocol):
    """What a store family's context offers the facade: transactions and closing."""

    def atomic(self) -> AbstractContextManager[None]:
        """See :meth:`mfakit.repositories.MfaStore.atomic`."""
        ...

    def close(self) -> None:
        """See :meth:`mfakit.repositories.MfaStore.close`."""
        ...


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class StoreParts:
    """One store's context and its part for each port, typed by the port it implements."""

    context: StoreContext
    totp: TotpRepository
    backup_codes: BackupCodeRepository
    webauthn: WebAuthnCredentialRepository
    challenges: ChallengeRepository
    login_codes: LoginCodeRepository
    throttles: ThrottleRepository
    user_state: UserStateRepository
    trusted_browsers: TrustedBrowserRepository
    organizations: OrganizationRepository
    memberships: MembershipRepository
    invitations: InvitationRepository
    audit: AuditSink
    outbox: OutboxRepository


class StoreFacade:
    """Every port of :class:`mfakit.repositories.MfaStore`, each a one-line delegation.

    Args:
        parts: The store's context and parts.
    """

    def __init__(self, parts: StoreParts) -> None:
        self._context = parts.context
        self._totp = parts.totp
        self._backup_codes = parts.backup_codes
        self._webauthn = parts.webauthn
        self._challenges = parts.challenges
        self._login_codes = parts.login_codes
        self._throttles = parts.throttles
        self._user_state = parts.user_state
        self._trusted_browsers = parts.trusted_browsers
        self._organizations = parts.organizations
        self._memberships = parts.memberships
        self._invitations = parts.invitations
        self._audit = parts.audit
        self._outbox = parts.outbox

    # -- MfaStore ------------------------------------------------------------------------

    def atomic(self) -> AbstractContextManager[None]:
        """Run the port calls made in the block as one transaction.

        See :meth:`mfakit.repositories.MfaStore.atomic`.
        """
        return self._context.atomic()

    def close(self) -> None:
        """Close the store; further calls raise :class:`~mfakit.errors.StoreError`."""
        self._context.close()

    # -- TotpRepository --------------------------------------------------------------------

    def put_pending_totp(self, credential: TotpCredential) -> None:
        """See :meth:`mfakit.repositories.TotpRepository.put_pending_totp`."""
        self._totp.put_pending_totp(credential)

    def get_pending_totp(self, user_id: str, *, now: datetime) -> TotpCredential | None:
        """See :meth:`mfakit.repositories.TotpRepository.get_pending_totp`."""
        return self._totp.get_pending_totp(user_id, now=now)

    def list_totp_devices(self, user_id: str) -> tuple[TotpCredential, ...]:
        """See :meth:`mfakit.repositories.TotpRepository.list_totp_devices`."""
        return self._totp.list_totp_devices(user_id)

    def activate_totp(
        self, user_id: str, totp_id: str, *, step: int, now: datetime, max_devices: int
    ) -> TotpCredential:
        """See :meth:`mfakit.repositories.TotpRepository.activate_totp`."""
        return self._totp.activate_totp(
            user_id, totp_id, step=step, now=now, max_devices=max_devices
        )

    def get_user_factors(self, user_id: str, *, throttle_keys: Sequence[str] = ()) -> UserFactors:
        """See :meth:`mfakit.repositories.TotpRepository.get_user_factors`."""
        return self._totp.get_user_factors(user_id, throttle_keys=throttle_keys)

    def advance_totp_step(self, totp_id: str, step: int, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.advance_totp_step`."""
        return self._totp.advance_totp_step(totp_id, step, now=now)

    def rename_totp_device(self, user_id: str, totp_id: str, name: str) -> TotpCredential:
        """See :meth:`mfakit.repositories.TotpRepository.rename_totp_device`."""
        return self._totp.rename_totp_device(user_id, totp_id, name)

    def delete_totp_device(self, user_id: str, totp_id: str) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.delete_totp_device`."""
        return self._totp.delete_totp_device(user_id, totp_id)

    def delete_totp(self, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.delete_totp`."""
        return self._totp.delete_totp(user_id)

    def list_totp_credentials(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[TotpCredential]:
        """See :meth:`mfakit.repositories.TotpRepository.list_totp_credentials`."""
        return self._totp.list_totp_credentials(after=after, limit=limit)

    def rewrap_totp_secret(self, totp_id: str, *, expected: bytes, new: bytes) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.rewrap_totp_secret`."""
        return self._totp.rewrap_totp_secret(totp_id, expected=expected, new=new)

    # -- BackupCodeRepository --------------------------------------------------------------

    def replace_backup_codes(self, user_id: str, codes: Sequence[BackupCode]) -> None:
        """See :meth:`mfakit.repositories.BackupCodeRepository.replace_backup_codes`."""
        self._backup_codes.replace_backup_codes(user_id, codes)

    def list_backup_codes(self, user_id: str) -> tuple[BackupCode, ...]:
        """See :meth:`mfakit.repositories.BackupCodeRepository.list_backup_codes`."""
        return self._backup_codes.list_backup_codes(user_id)

    def count_unused_backup_codes(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.BackupCodeRepository.count_unused_backup_codes`."""
        return self._backup_codes.count_unused_backup_codes(user_id)

    def consume_backup_code(self, user_id: str, code_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.BackupCodeRepository.consume_backup_code`."""
        return self._backup_codes.consume_backup_code(user_id, code_id, now=now)

    def delete_backup_codes(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.BackupCodeRepository.delete_backup_codes`."""
        return self._backup_codes.delete_backup_codes(user_id)

    # -- WebAuthnCredentialRepository ------------------------------------------------------

    def add_webauthn_credential(self, credential: WebAuthnCredential) -> None:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.add_webauthn_credential`."""
        self._webauthn.add_webauthn_credential(credential)

    def get_webauthn_credential(self, credential_id: bytes) -> WebAuthnCredential | None:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.get_webauthn_credential`."""
        return self._webauthn.get_webauthn_credential(credential_id)

    def list_webauthn_credentials(self, user_id: str) -> tuple[WebAuthnCredential, ...]:
        """See
        :meth:`mfakit.repositories.WebAuthnCredentialRepository.list_webauthn_credentials`.
        """
        return self._webauthn.list_webauthn_credentials(user_id)

    def rename_webauthn_credential(self, user_id: str, credential_id: bytes, name: str) -> None:
        """See
        :meth:`mfakit.repositories.WebAuthnCredentialRepository.rename_webauthn_credential`.
        """
        self._webauthn.rename_webauthn_credential(user_id, credential_id, name)

    def delete_webauthn_credential(self, user_id: str, credential_id: bytes) -> bool:
        """See
        :meth:`mfakit.repositories.WebAuthnCredentialRepository.delete_webauthn_credential`.
        """
        return self._webauthn.delete_webauthn_credential(user_id, credential_id)

    def update_sign_count(
        self,
        credential_id: bytes,
        expected_old: int,
        new: int,
        *,
        now: datetime,
        backup_state: bool | None = None,
        backup_eligible: bool | None = None,
        user_handle: bytes | None = None,
    ) -> bool:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.update_sign_count`."""
        return self._webauthn.update_sign_count(
            credential_id,
            expected_old,
            new,
            now=now,
            backup_state=backup_state,
            backup_eligible=backup_eligible,
            user_handle=user_handle,
        )

    def set_webauthn_passwordless(
        self, user_id: str, credential_id: bytes, passwordless: bool
    ) -> WebAuthnCredential:
        """See
        :meth:`mfakit.repositories.WebAuthnCredentialRepository.set_webauthn_passwordless`.
        """
        return self._webauthn.set_webauthn_passwordless(user_id, credential_id, passwordless)

    def webauthn_user_handle(self, user_id: str, *, create_with: bytes) -> bytes:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.webauthn_user_handle`."""
        return self._webauthn.webauthn_user_handle(user_id, create_with=create_with)

    def find_user_by_webauthn_handle(self, handle: bytes) -> str | None:
        """See
        :meth:`mfakit.repositories.WebAuthnCredentialRepository.find_user_by_webauthn_handle`.
        """
        return self._webauthn.find_user_by_webauthn_handle(handle)

    # -- ChallengeRepository ---------------------------------------------------------------

    def put_challenge(self, challenge: Challenge) -> None:
        """See :meth:`mfakit.repositories.ChallengeRepository.put_challenge`."""
        self._challenges.put_challenge(challenge)

    def pop_challenge(self, challenge_id: str, now: datetime) -> Challenge | None:
        """See :meth:`mfakit.repositories.ChallengeRepository.pop_challenge`."""
        return self._challenges.pop_challenge(challenge_id, now)

    def purge_expired_challenges(self, *, now: datetime) -> int:
        """See :meth:`mfakit.repositories.ChallengeRepository.purge_expired_challenges`."""
        return self._challenges.purge_expired_challenges(now=now)

    # -- LoginCodeRepository ---------------------------------------------------------------

    def put_login_code(self, code: LoginCode) -> None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.put_login_code`."""
        self._login_codes.put_login_code(code)

    def put_login_code_if_cooled_down(self, code: LoginCode, *, cooldown: timedelta) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.put_login_code_if_cooled_down`."""
        return self._login_codes.put_login_code_if_cooled_down(code, cooldown=cooldown)

    def get_login_code(self, subject: str) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.get_login_code`."""
        return self._login_codes.get_login_code(subject)

    def record_login_code_attempt(
        self, subject: str, code_id: str, *, now: datetime
    ) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.record_login_code_attempt`."""
        return self._login_codes.record_login_code_attempt(subject, code_id, now=now)

    def consume_login_code(self, subject: str, code_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.consume_login_code`."""
        return self._login_codes.consume_login_code(subject, code_id, now=now)

    def delete_login_code(self, subject: str) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.delete_login_code`."""
        return self._login_codes.delete_login_code(subject)

    def purge_expired_login_codes(self, *, now: datetime) -> int:
        """See :meth:`mfakit.repositories.LoginCodeRepository.purge_expired_login_codes`."""
        return self._login_codes.purge_expired_login_codes(now=now)

    # -- ThrottleRepository ----------------------------------------------------------------

    def get_throttle(self, key: str) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.get_throttle`."""
        return self._throttles.get_throttle(key)

    def get_throttles(self, keys: Sequence[str]) -> Mapping[str, ThrottleState]:
        """See :meth:`mfakit.repositories.ThrottleRepository.get_throttles`."""
        return self._throttles.get_throttles(keys)

    def record_failure(
        self, key: str, now: datetime, *, window: timedelta | None = None
    ) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.record_failure`."""
        return self._throttles.record_failure(key, now, window=window)

    def lock_throttle(self, key: str, *, until: datetime) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.lock_throttle`."""
        return self._throttles.lock_throttle(key, until=until)

    def reset_throttle(self, key: str) -> None:
        """See :meth:`mfakit.repositories.ThrottleRepository.reset_throttle`."""
        self._throttles.reset_throttle(key)

    def reset_throttles(self, keys: Sequence[str]) -> None:
        """See :meth:`mfakit.repositories.ThrottleRepository.reset_throttles`."""
        self._throttles.reset_throttles(keys)

    # -- UserStateRepository ---------------------------------------------------------------

    def record_second_factor(
        self, user_id: str, *, at: datetime, reset_keys: Sequence[str] = ()
    ) -> datetime:
        """See :meth:`mfakit.repositories.UserStateRepository.record_second_factor`."""
        return self._user_state.record_second_factor(user_id, at=at, reset_keys=reset_keys)

    def record_factor_change(self, user_id: str, *, at: datetime) -> int:
        """See :meth:`mfakit.repositories.UserStateRepository.record_factor_change`."""
        return self._user_state.record_factor_change(user_id, at=at)

    # -- TrustedBrowserRepository ----------------------------------------------------------

    def add_trusted_browser(self, browser: TrustedBrowser) -> None:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.add_trusted_browser`."""
        self._trusted_browsers.add_trusted_browser(browser)

    def get_trusted_browser(self, token_hash: bytes) -> TrustedBrowser | None:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.get_trusted_browser`."""
        return self._trusted_browsers.get_trusted_browser(token_hash)

    def touch_trusted_browser(self, token_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.touch_trusted_browser`."""
        return self._trusted_browsers.touch_trusted_browser(token_id, now=now)

    def list_trusted_browsers(self, user_id: str) -> tuple[TrustedBrowser, ...]:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.list_trusted_browsers`."""
        return self._trusted_browsers.list_trusted_browsers(user_id)

    def revoke_trusted_browser(self, user_id: str, token_id: str) -> bool:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.revoke_trusted_browser`."""
        return self._trusted_browsers.revoke_trusted_browser(user_id, token_id)

    def revoke_trusted_browsers(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.revoke_trusted_browsers`."""
        return self._trusted_browsers.revoke_trusted_browsers(user_id)

    def purge_expired_trusted_browsers(self, *, now: datetime) -> int:
        """See
        :meth:`mfakit.repositories.TrustedBrowserRepository.purge_expired_trusted_browsers`.
        """
        return self._trusted_browsers.purge_expired_trusted_browsers(now=now)

    # -- OrganizationRepository ------------------------------------------------------------

    def create_organization(self, organization: Organization) -> Organization:
        """See :meth:`mfakit.repositories.OrganizationRepository.create_organization`."""
        return self._organizations.create_organization(organization)

    def get_organization(self, org_id: str) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.get_organization`."""
        return self._organizations.get_organization(org_id)

    def update_organization(self, organization: Organization) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.update_organization`."""
        return self._organizations.update_organization(organization)

    def list_organizations(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[Organization]:
        """See :meth:`mfakit.repositories.OrganizationRepository.list_organizations`."""
        return self._organizations.list_organizations(after=after, limit=limit)

    # -- MembershipRepository --------------------------------------------------------------

    def add_membership(self, membership: Membership) -> Membership:
        """See :meth:`mfakit.repositories.MembershipRepository.add_membership`."""
        return self._memberships.add_membership(membership)

    def get_membership(self, org_id: str, user_id: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership`."""
        return self._memberships.get_membership(org_id, user_id)

    def get_membership_by_username(self, org_id: str, username: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership_by_username`."""
        return self._memberships.get_membership_by_username(org_id, username)

    def update_membership(self, membership: Membership) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.update_membership`."""
        return self._memberships.update_membership(membership)

    def delete_membership(self, org_id: str, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.MembershipRepository.delete_membership`."""
        return self._memberships.delete_membership(org_id, user_id)

    def list_memberships(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Membership]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_memberships`."""
        return self._memberships.list_memberships(org_id, after=after, limit=limit)

    def list_user_memberships(self, user_id: str) -> tuple[Membership, ...]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_user_memberships`."""
        return self._memberships.list_user_memberships(user_id)

    def list_user_memberships_with_orgs(self, user_id: str) -> tuple[MembershipContext, ...]:
        """See
        :meth:`mfakit.repositories.MembershipRepository.list_user_memberships_with_orgs`.
        """
        return self._memberships.list_user_memberships_with_orgs(user_id)

    def count_memberships(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_memberships`."""
        return self._memberships.count_memberships(org_id)

    def count_active_owners(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_active_owners`."""
        return self._memberships.count_active_owners(org_id)

    def list_member_summaries(
        self,
        org_id: str,
        *,
        after: str | None = None,
        limit: int = 100,
        throttle_prefixes: Sequence[str] = (),
    ) -> Page[MemberSummary]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_member_summaries`."""
        return self._memberships.list_member_summaries(
            org_id, after=after, limit=limit, throttle_prefixes=throttle_prefixes
        )

    def list_all_member_summaries(
        self,
        *,
        after: str | None = None,
        limit: int = 100,
        throttle_prefixes: Sequence[str] = (),
    ) -> Page[MemberSummary]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_all_member_summaries`."""
        return self._memberships.list_all_member_summaries(
            after=after, limit=limit, throttle_prefixes=throttle_prefixes
        )

    # -- InvitationRepository --------------------------------------------------------------

    def create_invitation(self, invitation: Invitation) -> None:
        """See :meth:`mfakit.repositories.InvitationRepository.create_invitation`."""
        self._invitations.create_invitation(invitation)

    def get_invitation(self, invitation_id: str) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.get_invitation`."""
        return self._invitations.get_invitation(invitation_id)

    def list_invitations(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Invitation]:
        """See :meth:`mfakit.repositories.InvitationRepository.list_invitations`."""
        return self._invitations.list_invitations(org_id, after=after, limit=limit)

    def accept_invitation(
        self, invitation_id: str, membership: Membership, *, now: datetime
    ) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.accept_invitation`."""
        return self._invitations.accept_invitation(invitation_id, membership, now=now)

    def revoke_invitation(self, invitation_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.InvitationRepository.revoke_invitation`."""
        return self._invitations.revoke_invitation(invitation_id, now=now)

    # -- AuditSink -------------------------------------------------------------------------

    def append_audit_event(self, event: AuditEvent) -> None:
        """See :meth:`mfakit.repositories.AuditSink.append_audit_event`."""
        self._audit.append_audit_event(event)

    def append_audit_events(self, events: Sequence[AuditEvent]) -> None:
        """See :meth:`mfakit.repositories.AuditSink.append_audit_events`."""
        self._audit.append_audit_events(events)

    def list_audit_events(
        self,
        *,
        org_id: str | None = None,
        user_id: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Page[AuditEvent]:
        """See :meth:`mfakit.repositories.AuditSink.list_audit_events`."""
        return self._audit.list_audit_events(
            org_id=org_id, user_id=user_id, after=after, limit=limit
        )

    # -- OutboxRepository ------------------------------------------------------------------

    def enqueue_message(self, message: OutboxMessage) -> None:
        """See :meth:`mfakit.repositories.OutboxRepository.enqueue_message`."""
        self._outbox.enqueue_message(message)

    def get_message(self, message_id: str) -> OutboxMessage | None:
        """See :meth:`mfakit.repositories.OutboxRepository.get_message`."""
        return self._outbox.get_message(message_id)

    def claim_messages(
        self,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        kinds: Collection[str] | None = None,
    ) -> tuple[OutboxMessage, ...]:
        """See :meth:`mfakit.repositories.OutboxRepository.claim_messages`."""
        return self._outbox.claim_messages(now=now, limit=limit, lease=lease, kinds=kinds)

    def mark_message_delivered(self, message_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.OutboxRepository.mark_message_delivered`."""
        return self._outbox.mark_message_delivered(message_id, now=now)

    def mark_message_failed(
        self,
        message_id: str,
        *,
        now: datetime,
        error: str,
        next_attempt_at: datetime | None,
    ) -> bool:
        """See :meth:`mfakit.repositories.OutboxRepository.mark_message_failed`."""
        return self._outbox.mark_message_failed(
            message_id, now=now, error=error, next_attempt_at=next_attempt_at
        )

    def purge_delivered_messages(self, *, before: datetime) -> int:
        """See :meth:`mfakit.repositories.OutboxRepository.purge_delivered_messages`."""
        return self._outbox.purge_delivered_messages(before=before)

    def count_pending_messages(self) -> int:
        """See :meth:`mfakit.repositories.OutboxRepository.count_pending_messages`."""
        return self._outbox.count_pending_messages()
