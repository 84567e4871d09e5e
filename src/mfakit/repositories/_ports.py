"""The repository ports: one :class:`typing.Protocol` per aggregate.

Every security-critical write is a single atomic method (compare-and-set), so
the service never reads and then writes: two application servers racing on the
same code, step, challenge or counter see exactly one winner.

Conventions shared by every port:

* All datetimes are timezone-aware; stores return them in UTC. A naive
  datetime is refused with :class:`~mfakit.errors.ConfigurationError`.
* Creating a record whose key exists raises :class:`~mfakit.errors.DuplicateError`
  and writes nothing. Methods that need an existing record raise
  :class:`~mfakit.errors.NotFoundError`; ``get_*`` methods return ``None``.
* Any other storage failure is a :class:`~mfakit.errors.StoreError`.
* Listings that can grow without bound are keyset-paginated: pass the
  returned :attr:`Page.next_cursor` as ``after`` until it is ``None``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from mfakit.repositories._records import (
    AuditEvent,
    BackupCode,
    Challenge,
    Invitation,
    LoginCode,
    Membership,
    MembershipContext,
    MemberSummary,
    Organization,
    OutboxMessage,
    Page,
    ThrottleState,
    TotpCredential,
    TrustedBrowser,
    UserFactors,
    WebAuthnCredential,
)

__all__ = [
    "AuditSink",
    "BackupCodeRepository",
    "ChallengeRepository",
    "InvitationRepository",
    "LoginCodeRepository",
    "MembershipRepository",
    "MfaStore",
    "OrganizationRepository",
    "OutboxRepository",
    "ThrottleRepository",
    "TotpRepository",
    "TrustedBrowserRepository",
    "UserStateRepository",
    "WebAuthnCredentialRepository",
]


@runtime_checkable
class TotpRepository(Protocol):
    """TOTP devices: at most one pending enrollment and several named active devices per user."""

    def put_pending_totp(self, credential: TotpCredential) -> None:
        """Store a pending enrollment, replacing the user's previous pending one.

        The user's active devices are untouched.

        Raises:
            ConfigurationError: ``credential.state`` is not ``"pending"``.
            DuplicateError: another enrollment or device already has this ``totp_id``.
        """
        ...

    def get_pending_totp(self, user_id: str, *, now: datetime) -> TotpCredential | None:
        """Return the user's pending enrollment, or ``None`` if absent or expired."""
        ...

    def list_totp_devices(self, user_id: str) -> tuple[TotpCredential, ...]:
        """Return the user's active devices, oldest first (by ``created_at``, then ``totp_id``)."""
        ...

    def activate_totp(
        self, user_id: str, totp_id: str, *, step: int, now: datetime, max_devices: int
    ) -> TotpCredential:
        """Atomically turn the pending enrollment ``totp_id`` into a new active device.

        The user's other devices are kept; ``last_step`` is set to ``step``
        (the confirming code's step, which can then not be replayed). The
        limit is checked in the same transaction as the activation, so
        concurrent activations never leave the user more than ``max_devices``
        active devices.

        Raises:
            NotFoundError: no unexpired pending enrollment ``totp_id`` for the user
                (including when a concurrent call activated or replaced it first).
            LimitReachedError: the user already has ``max_devices`` active devices.
            DuplicateError: another active device of the user has the pending
                enrollment's name.
            ConfigurationError: ``max_devices`` is not a positive int.

        Nothing is written when it raises.
        """
        ...

    def get_user_factors(self, user_id: str, *, throttle_keys: Sequence[str] = ()) -> UserFactors:
        """Return the user's second factors and the states of ``throttle_keys`` in one call.

        The active TOTP devices (as :meth:`list_totp_devices`, ciphertext
        included), the WebAuthn credentials (as
        :meth:`WebAuthnCredentialRepository.list_webauthn_credentials`), the
        backup codes (as :meth:`BackupCodeRepository.list_backup_codes`) and
        the state of each of ``throttle_keys`` (as
        :meth:`ThrottleRepository.get_throttles`), the user's last
        second-factor check (as stored by
        :meth:`UserStateRepository.record_second_factor`) and the time of the
        user's last factor change (as stored by
        :meth:`UserStateRepository.record_factor_change`), read as one consistent
        snapshot: one read transaction (SQL stores) or under the store's lock
        (memory store). A user with nothing stored gets an empty
        :class:`~mfakit.repositories.UserFactors`.

        Raises:
            ConfigurationError: ``throttle_keys`` is a single string, or holds
                more than 1000 keys.
        """
        ...

    def advance_totp_step(self, totp_id: str, step: int, *, now: datetime) -> bool:
        """Record ``step`` as accepted by the active device ``totp_id``; compare-and-set.

        True only if ``step`` is greater than the device's stored step; then
        ``last_used_at`` is set to ``now`` too. Each device keeps its own
        step: advancing one never changes another. Returns False when there
        is no such active device (a pending enrollment, or one deleted
        meanwhile).
        """
        ...

    def rename_totp_device(self, user_id: str, totp_id: str, name: str) -> TotpCredential:
        """Rename one of the user's active devices; return it renamed.

        Raises:
            NotFoundError: the user has no such active device.
            DuplicateError: another active device of the user has this name.
        """
        ...

    def delete_totp_device(self, user_id: str, totp_id: str) -> bool:
        """Delete one of the user's active devices; True if it existed."""
        ...

    def delete_totp(self, user_id: str) -> bool:
        """Delete the user's active devices and pending enrollment; True if any existed."""
        ...

    def list_totp_credentials(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[TotpCredential]:
        """Return every stored credential (pending and active) ordered by ``totp_id``.

        For maintenance such as re-encrypting the secrets under a new
        :mod:`mfakit.secretbox` key, one page at a time.
        """
        ...

    def rewrap_totp_secret(self, totp_id: str, *, expected: bytes, new: bytes) -> bool:
        """Compare-and-set the ciphertext of one credential (after a key rotation).

        Returns True only if the stored secret still equals ``expected``, so a
        rotation never overwrites a secret that was re-enrolled meanwhile.
        """
        ...


@runtime_checkable
class BackupCodeRepository(Protocol):
    """A user's current set of backup codes, replaced as a whole."""

    def replace_backup_codes(self, user_id: str, codes: Sequence[BackupCode]) -> None:
        """Atomically replace the user's whole set with ``codes``.

        Raises:
            ConfigurationError: a code belongs to another user.
            DuplicateError: two codes share a ``code_id`` (nothing is written).
        """
        ...

    def list_backup_codes(self, user_id: str) -> tuple[BackupCode, ...]:
        """Return the user's codes, used ones included, ordered by ``code_id``."""
        ...

    def count_unused_backup_codes(self, user_id: str) -> int:
        """Return how many of the user's codes are still unused."""
        ...

    def consume_backup_code(self, user_id: str, code_id: str, *, now: datetime) -> bool:
        """Mark the code used; True exactly once, False if unknown or already used."""
        ...

    def delete_backup_codes(self, user_id: str) -> int:
        """Delete the user's set; return how many codes it held."""
        ...


@runtime_checkable
class WebAuthnCredentialRepository(Protocol):
    """Passkeys and security keys."""

    def add_webauthn_credential(self, credential: WebAuthnCredential) -> None:
        """Store a new credential.

        Raises:
            DuplicateError: the credential id is registered (to anyone), or the
                user already has a credential with this name. Nothing is written.
        """
        ...

    def get_webauthn_credential(self, credential_id: bytes) -> WebAuthnCredential | None:
        """Return the credential with this id, or ``None``."""
        ...

    def list_webauthn_credentials(self, user_id: str) -> tuple[WebAuthnCredential, ...]:
        """Return the user's credentials, oldest first."""
        ...

    def rename_webauthn_credential(self, user_id: str, credential_id: bytes, name: str) -> None:
        """Rename one of the user's credentials.

        Raises:
            NotFoundError: the user has no such credential.
            DuplicateError: the user has another credential with this name.
        """
        ...

    def delete_webauthn_credential(self, user_id: str, credential_id: bytes) -> bool:
        """Delete one of the user's credentials; True if it existed."""
        ...

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
        """Compare-and-set the signature counter after a successful assertion.

        Sets ``sign_count`` to ``new`` and ``last_used_at`` to ``now`` (and the BS
        flag when given) only if the stored counter still equals ``expected_old``.
        Returns False otherwise (a concurrent login, or no such credential), and
        then changes nothing at all.

        ``backup_eligible``, when given, sets the BE flag in the same guarded
        update (a provider started syncing a credential registered without it).
        ``backup_eligible=True`` also sets ``kind`` to ``"passkey"``: a
        backup-eligible credential is a synced passkey whatever it was
        registered as (see :attr:`WebAuthnCredential.kind`), so a synced
        credential is never judged by a policy as a device-bound security key.

        ``user_handle``, when given, becomes the credential's
        :attr:`~mfakit.repositories.WebAuthnCredential.user_handle` in the
        same guarded update if it has none (a credential stored before
        handles were recorded); a recorded handle is never replaced.

        Raises:
            ConfigurationError: a flag is not a bool or ``None``, or
                ``user_handle`` is not 1 to 64 bytes (nothing changes).
        """
        ...

    def set_webauthn_passwordless(
        self, user_id: str, credential_id: bytes, passwordless: bool
    ) -> WebAuthnCredential:
        """Set whether one of the user's credentials may sign in on its own; return it updated.

        Only :attr:`~mfakit.repositories.WebAuthnCredential.passwordless`
        changes.

        Raises:
            NotFoundError: the user has no such credential.
            ConfigurationError: ``passwordless`` is not a bool.
        """
        ...

    def webauthn_user_handle(self, user_id: str, *, create_with: bytes) -> bytes:
        """Return the user's WebAuthn user handle, storing ``create_with`` if there is none.

        One atomic get-or-create: the first call for a user stores
        ``create_with``; every later call (and every concurrent one, whatever
        its ``create_with``) returns the stored handle. A stored handle never
        changes, even when the user's credentials are all deleted. The
        caller passes fresh random bytes (``secrets.token_bytes(32)``): a
        user handle must not hold personal information (WebAuthn L3 §14.6.1).

        Raises:
            ConfigurationError: ``create_with`` is not 1 to 64 bytes.
            DuplicateError: the user has no handle and ``create_with`` is
                another user's (nothing is written).
        """
        ...

    def find_user_by_webauthn_handle(self, handle: bytes) -> str | None:
        """Return the user whose handle (as stored by :meth:`webauthn_user_handle`) is ``handle``.

        One lookup by a unique index; ``None`` when no user has it.
        """
        ...


@runtime_checkable
class ChallengeRepository(Protocol):
    """Single-use challenges."""

    def put_challenge(self, challenge: Challenge) -> None:
        """Store a new challenge.

        Raises:
            DuplicateError: the id is taken.
        """
        ...

    def pop_challenge(self, challenge_id: str, now: datetime) -> Challenge | None:
        """Atomically remove and return the challenge.

        Returns ``None`` if it does not exist, was popped already, or expired at
        or before ``now`` (an expired challenge is removed too).
        """
        ...

    def purge_expired_challenges(self, *, now: datetime) -> int:
        """Delete challenges expired at ``now``; return how many."""
        ...


@runtime_checkable
class LoginCodeRepository(Protocol):
    """Emailed login codes: one live code per subject."""

    def put_login_code(self, code: LoginCode) -> None:
        """Store a code, replacing the subject's previous one."""
        ...

    def put_login_code_if_cooled_down(self, code: LoginCode, *, cooldown: timedelta) -> bool:
        """Atomically store ``code`` unless the subject's last code is too recent.

        ``code`` replaces the subject's previous code (like :meth:`put_login_code`)
        only if the subject has no code, or its code was created at or before
        ``code.created_at - cooldown`` (whatever that code's state: used,
        expired and exhausted codes count too, as the resend cool-down counts
        from the last issue). One guarded write: of concurrent calls for one
        subject with the same ``created_at``, exactly one stores its code when
        ``cooldown`` is positive.

        Returns:
            True if ``code`` was stored; False if the previous code is kept.

        Raises:
            ConfigurationError: ``cooldown`` is negative or not a timedelta.
        """
        ...

    def get_login_code(self, subject: str) -> LoginCode | None:
        """Return the subject's latest code (even if dead), or ``None``."""
        ...

    def record_login_code_attempt(
        self, subject: str, code_id: str, *, now: datetime
    ) -> LoginCode | None:
        """Atomically count one attempt against the code ``code_id``.

        Call it *before* comparing the code, so parallel guesses can never
        exceed ``max_attempts``. Returns the updated record, or ``None`` if no
        attempt may be made: unknown or replaced code, used, expired, or out of
        attempts.
        """
        ...

    def consume_login_code(self, subject: str, code_id: str, *, now: datetime) -> bool:
        """Mark the code used; True exactly once, and only while unexpired."""
        ...

    def delete_login_code(self, subject: str) -> bool:
        """Delete the subject's code; True if one existed."""
        ...

    def purge_expired_login_codes(self, *, now: datetime) -> int:
        """Delete every dead code and return how many were deleted.

        A code is dead, and deleted, when it expired at or before ``now``
        (``expires_at <= now``) or was consumed at or before ``now``
        (``consumed_at <= now``). Every other code is kept, including an
        unexpired code that is out of attempts (it stays refused until it
        expires). Codes are stored even for subjects that do not exist (so that
        requesting one reveals nothing), so run this regularly to keep the
        table bounded; afterwards :meth:`get_login_code` returns ``None`` for
        the purged subjects.
        """
        ...


@runtime_checkable
class ThrottleRepository(Protocol):
    """Failure counters and lockouts per key."""

    def get_throttle(self, key: str) -> ThrottleState:
        """Return the key's state (zero failures if nothing was recorded)."""
        ...

    def get_throttles(self, keys: Sequence[str]) -> Mapping[str, ThrottleState]:
        """Return the state of each key in one read, keyed by key.

        Every key asked for is in the result (once, however often it was
        given); a key with nothing recorded reads as zero failures, as in
        :meth:`get_throttle`. An empty ``keys`` returns an empty mapping.

        Raises:
            ConfigurationError: ``keys`` is a single string, or holds more than
                1000 keys.
        """
        ...

    def record_failure(
        self, key: str, now: datetime, *, window: timedelta | None = None
    ) -> ThrottleState:
        """Atomically count one failure and return the new state.

        If ``window`` is given and the key's first failure is older than
        ``window`` at ``now``, the count restarts at one. Concurrent callers
        each see a distinct ``failures`` value.
        """
        ...

    def lock_throttle(self, key: str, *, until: datetime) -> ThrottleState:
        """Lock the key until ``until``; a concurrent longer lock is never shortened."""
        ...

    def reset_throttle(self, key: str) -> None:
        """Forget the key's failures and lock (after a success or an admin unlock)."""
        ...

    def reset_throttles(self, keys: Sequence[str]) -> None:
        """Forget the failures and locks of every key in one write (unknown keys are ignored).

        Raises:
            ConfigurationError: ``keys`` is a single string, or holds more than
                1000 keys.
        """
        ...


@runtime_checkable
class UserStateRepository(Protocol):
    """What the service keeps per user, whatever organizations the user belongs to.

    One record per user (created by the first write): the time of the user's
    last successful second-factor check, the anchor of step-up decisions
    (``Principal.last_mfa_at``), and the time the user's second factors last
    changed, before which no trusted browser counts. They are read with the
    user's factors (:meth:`TotpRepository.get_user_factors`); the first also
    with member summaries (:meth:`MembershipRepository.list_member_summaries`).
    """

    def record_second_factor(
        self, user_id: str, *, at: datetime, reset_keys: Sequence[str] = ()
    ) -> datetime:
        """Record a successful second-factor check: one atomic write, all or nothing.

        Forgets the failures and locks of ``reset_keys`` (as
        :meth:`ThrottleRepository.reset_throttles`) and sets the user's last
        check to ``at``, never moving it backwards: a stored time later than
        ``at`` is kept (two sign-ins racing, or a clock that stepped back).

        Returns:
            The user's last check as stored after the call (``at`` or later).

        Raises:
            ConfigurationError: ``at`` is naive, or ``reset_keys`` is a single
                string or holds more than 1000 keys (nothing is written).
        """
        ...

    def record_factor_change(self, user_id: str, *, at: datetime) -> int:
        """Record that the user's second factors changed: one atomic write, all or nothing.

        Sets the user's factor-change time to ``at``, never moving it
        backwards (a later stored time is kept), and deletes every trusted
        browser of the user (:class:`TrustedBrowserRepository`), in the same
        transaction: a browser trusted before the change cannot outlive it,
        even one added by a request racing with the change.

        Returns:
            How many trusted browsers were deleted.

        Raises:
            ConfigurationError: ``at`` is naive (nothing is written).
        """
        ...


@runtime_checkable
class TrustedBrowserRepository(Protocol):
    """Browsers users chose to trust for a while, found by the hash of their token."""

    def add_trusted_browser(self, browser: TrustedBrowser) -> None:
        """Store a new trusted browser.

        Raises:
            ConfigurationError: the record is invalid (``token_hash`` is not
                32 bytes, ``expires_at`` is not after ``created_at``).
            DuplicateError: the ``token_id`` or the ``token_hash`` exists
                (nothing is written).
        """
        ...

    def get_trusted_browser(self, token_hash: bytes) -> TrustedBrowser | None:
        """Return the trusted browser whose token has this hash, or ``None``.

        One lookup by a unique index, whatever the number of stored tokens.
        Expired records are returned too: the caller checks ``expires_at``.
        """
        ...

    def touch_trusted_browser(self, token_id: str, *, now: datetime) -> bool:
        """Set ``last_used_at`` to ``now`` (never backwards); True if the record exists."""
        ...

    def list_trusted_browsers(self, user_id: str) -> tuple[TrustedBrowser, ...]:
        """Return the user's trusted browsers (expired ones too), oldest first.

        Ordered by ``created_at``, then ``token_id``.
        """
        ...

    def revoke_trusted_browser(self, user_id: str, token_id: str) -> bool:
        """Delete one of the user's trusted browsers; True if it existed (and was the user's)."""
        ...

    def revoke_trusted_browsers(self, user_id: str) -> int:
        """Delete every trusted browser of the user; return how many."""
        ...

    def purge_expired_trusted_browsers(self, *, now: datetime) -> int:
        """Delete the browsers whose trust ended at ``now`` (``expires_at <= now``); count them."""
        ...


@runtime_checkable
class OrganizationRepository(Protocol):
    """Organizations and their enforcement state."""

    def create_organization(self, organization: Organization) -> Organization:
        """Store a new organization (its version starts at 1) and return it.

        Raises:
            DuplicateError: the id is taken.
        """
        ...

    def get_organization(self, org_id: str) -> Organization | None:
        """Return the organization, or ``None``."""
        ...

    def update_organization(self, organization: Organization) -> Organization | None:
        """Compare-and-set: store ``organization`` if the stored version equals its ``version``.

        Returns the stored record (with the version bumped), or ``None`` if a
        concurrent update won.

        Raises:
            NotFoundError: no such organization.
        """
        ...

    def list_organizations(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[Organization]:
        """Return organizations ordered by id, ``limit`` at most per page."""
        ...


@runtime_checkable
class MembershipRepository(Protocol):
    """Principals of organizations."""

    def add_membership(self, membership: Membership) -> Membership:
        """Store a new membership (its version starts at 1) and return it.

        Raises:
            NotFoundError: the organization does not exist.
            DuplicateError: the user, or the username, is already in the organization.
        """
        ...

    def get_membership(self, org_id: str, user_id: str) -> Membership | None:
        """Return the membership, or ``None``."""
        ...

    def get_membership_by_username(self, org_id: str, username: str) -> Membership | None:
        """Return the membership with this username in the organization, or ``None``."""
        ...

    def update_membership(self, membership: Membership) -> Membership | None:
        """Compare-and-set on ``version``, like :meth:`OrganizationRepository.update_organization`.

        Raises:
            NotFoundError: no such membership.
            DuplicateError: the new username is taken in the organization.
        """
        ...

    def delete_membership(self, org_id: str, user_id: str) -> bool:
        """Delete the membership; True if it existed."""
        ...

    def list_memberships(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Membership]:
        """Return the organization's memberships ordered by user id, one page at a time."""
        ...

    def list_user_memberships(self, user_id: str) -> tuple[Membership, ...]:
        """Return the user's memberships in every organization, ordered by org id."""
        ...

    def list_user_memberships_with_orgs(self, user_id: str) -> tuple[MembershipContext, ...]:
        """Return the user's memberships, each with its organization and active-owner count.

        The same memberships in the same order (by org id) as
        :meth:`list_user_memberships`, removed ones included, each with its
        :class:`~mfakit.repositories.Organization` record and the
        organization's :meth:`count_active_owners`, read in one query (a join
        and an aggregate in SQL stores) whatever the organizations' size.
        """
        ...

    def count_memberships(self, org_id: str) -> int:
        """Return how many memberships the organization has."""
        ...

    def count_active_owners(self, org_id: str) -> int:
        """Return how many memberships of the organization are owners with status ``active``.

        One aggregate: locked and removed owners are not counted. 0 for an
        unknown organization.
        """
        ...

    def list_member_summaries(
        self,
        org_id: str,
        *,
        after: str | None = None,
        limit: int = 100,
        throttle_prefixes: Sequence[str] = (),
    ) -> Page[MemberSummary]:
        """Return the organization's members with their factor summaries, one page per query.

        The same memberships, in the same order (by user id) and with the same
        cursors as :meth:`list_memberships`, each with what the policy needs of
        the member's active TOTP, WebAuthn credentials and backup codes, and
        the user's last second-factor check (see
        :class:`~mfakit.repositories.MemberSummary`). ``failed_attempts`` sums
        the failures of the throttle keys ``prefix + user_id`` for each of
        ``throttle_prefixes`` (duplicates ignored).

        A page is read in one query (SQL stores) or in time proportional to the
        page (memory store), whatever the organization's size. It is a
        consistent snapshot of each member, not of the whole organization.

        Raises:
            ConfigurationError: ``limit`` is outside 1..1000, or more than 16
                throttle prefixes are given.
        """
        ...

    def list_all_member_summaries(
        self,
        *,
        after: str | None = None,
        limit: int = 100,
        throttle_prefixes: Sequence[str] = (),
    ) -> Page[MemberSummary]:
        """Like :meth:`list_member_summaries`, across every organization (for sweeps).

        Ordered by organization id, then user id; a user who belongs to
        several organizations appears once per membership. The cursor is
        opaque: pass :attr:`Page.next_cursor` back as ``after``.

        Raises:
            ConfigurationError: a bad ``limit`` or prefix count, or ``after`` is
                not a cursor of this listing.
        """
        ...


@runtime_checkable
class InvitationRepository(Protocol):
    """Invitations, accepted at most once."""

    def create_invitation(self, invitation: Invitation) -> None:
        """Store a new invitation.

        Raises:
            NotFoundError: the organization does not exist.
            DuplicateError: the id is taken.
        """
        ...

    def get_invitation(self, invitation_id: str) -> Invitation | None:
        """Return the invitation, or ``None``."""
        ...

    def list_invitations(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Invitation]:
        """Return the organization's invitations ordered by id, one page at a time."""
        ...

    def accept_invitation(
        self, invitation_id: str, membership: Membership, *, now: datetime
    ) -> Invitation | None:
        """Atomically accept the invitation and add ``membership`` to its organization.

        Returns the accepted invitation, or ``None`` (and writes nothing) if it
        does not exist, was accepted or revoked, or expired at ``now``.

        Raises:
            ConfigurationError: ``membership`` is for another organization.
            DuplicateError: the user is already a member (nothing is written).
        """
        ...

    def revoke_invitation(self, invitation_id: str, *, now: datetime) -> bool:
        """Revoke a pending invitation; True if it was pending."""
        ...


@runtime_checkable
class AuditSink(Protocol):
    """Append-only audit log."""

    def append_audit_event(self, event: AuditEvent) -> None:
        """Append an event.

        Raises:
            DuplicateError: the event id exists.
        """
        ...

    def append_audit_events(self, events: Sequence[AuditEvent]) -> None:
        """Append several events in one call, in order: all of them or none.

        An empty ``events`` writes nothing. Inside :meth:`MfaStore.atomic` the
        events are part of that transaction.

        Raises:
            ConfigurationError: ``events`` holds more than 1000 events or an
                invalid record (nothing is written).
            DuplicateError: an event id exists, or two events share one
                (nothing is written).
        """
        ...

    def list_audit_events(
        self,
        *,
        org_id: str | None = None,
        user_id: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Page[AuditEvent]:
        """Return events in the order they were appended, optionally filtered."""
        ...


@runtime_checkable
class OutboxRepository(Protocol):
    """The transactional outbox: notifications written with the change that causes them.

    Enqueue a message inside the :meth:`MfaStore.atomic` block of the change,
    so it commits or rolls back with it; deliverers on any number of servers
    then claim due messages for a lease, deliver them and mark them delivered
    or failed. Delivery is at least once: a deliverer that dies (or overruns
    its lease) leaves its messages to be claimed again, so recipients drop
    duplicates by :attr:`~mfakit.repositories.OutboxMessage.message_id`.
    """

    def enqueue_message(self, message: OutboxMessage) -> None:
        """Store a new message (inside ``atomic()``, part of that transaction).

        Raises:
            ConfigurationError: ``message.next_attempt_at`` is ``None`` or the
                record is invalid.
            DuplicateError: the message id is taken (nothing is written).
        """
        ...

    def get_message(self, message_id: str) -> OutboxMessage | None:
        """Return the message, or ``None``."""
        ...

    def claim_messages(
        self,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        kinds: Collection[str] | None = None,
    ) -> tuple[OutboxMessage, ...]:
        """Atomically claim up to ``limit`` due messages for ``lease``; return them claimed.

        A message is due when it is undelivered, its ``next_attempt_at`` is at
        or before ``now``, and it is unclaimed or its claim expired
        (``claimed_until <= now``). ``kinds``, when given, restricts the claim
        to messages of those kinds (say, one deliverer per channel). Each claimed message gets
        ``claimed_until = now + lease`` and one more ``attempts``. Concurrent
        callers never claim the same message while a claim holds. The oldest
        due messages are claimed first; the result is ordered by
        ``(next_attempt_at, created_at, message_id)``.

        Raises:
            ConfigurationError: ``limit`` is outside 1..1000, ``lease`` is not
                positive, or ``kinds`` is a single string or holds more than 1000 kinds.
        """
        ...

    def mark_message_delivered(self, message_id: str, *, now: datetime) -> bool:
        """Record the message as delivered at ``now`` and release its claim.

        Returns True if it was undelivered; False if unknown or already
        delivered (a second deliverer whose lease had expired).
        """
        ...

    def mark_message_failed(
        self,
        message_id: str,
        *,
        now: datetime,
        error: str,
        next_attempt_at: datetime | None,
    ) -> bool:
        """Record a failed delivery attempt and release the claim.

        Sets ``failed_at = now``, ``last_error = error`` and ``next_attempt_at``
        (when to retry; ``None`` gives up: the message is never claimed again
        but stays stored for inspection). Returns True if the message was
        undelivered; False if unknown or already delivered (nothing changes).
        """
        ...

    def purge_delivered_messages(self, *, before: datetime) -> int:
        """Delete messages delivered strictly before ``before``; return how many."""
        ...

    def count_pending_messages(self) -> int:
        """Return how many messages are undelivered and not given up (claimed ones included)."""
        ...


@runtime_checkable
class MfaStore(
    TotpRepository,
    BackupCodeRepository,
    WebAuthnCredentialRepository,
    ChallengeRepository,
    LoginCodeRepository,
    ThrottleRepository,
    UserStateRepository,
    TrustedBrowserRepository,
    OrganizationRepository,
    MembershipRepository,
    InvitationRepository,
    AuditSink,
    OutboxRepository,
    Protocol,
):
    """Every port at once: what the service needs from a store."""

    def atomic(self) -> AbstractContextManager[None]:
        """Make the port calls in a ``with`` block one transaction: all or nothing.

        For an action and the policy effects it causes, e.g. deleting a
        user's last method and starting their grace period::

            with store.atomic():
                store.delete_totp(user_id)
                store.update_membership(dataclasses.replace(m, grace_started_at=now))

        Calls made by the same thread inside the block see each other's writes;
        other callers see all of them at the end of the block or none. If the
        block raises, every write in it is undone and the exception propagates.
        A call that fails inside the block (e.g. a ``DuplicateError``) is undone
        by itself and leaves the block usable. Blocks nest (an inner block is
        part of the outer one). Keep blocks short: they hold write locks.
        """
        ...

    def close(self) -> None:
        """Release the store's connections. Further use raises :class:`StoreError`."""
        ...
