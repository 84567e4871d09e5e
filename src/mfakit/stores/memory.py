"""An in-memory store: thread-safe, for tests and small single-process apps.

Every method runs under one lock, so each is atomic with respect to the
others. Nothing survives the process.

Example::

    from mfakit.stores.memory import MemoryStore

    store = MemoryStore()
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from mfakit.errors import ConfigurationError, DuplicateError, NotFoundError, StoreError
from mfakit.repositories import (
    AuditEvent,
    BackupCode,
    Challenge,
    Invitation,
    LoginCode,
    Membership,
    Organization,
    Page,
    ThrottleState,
    TotpCredential,
    WebAuthnCredential,
)
from mfakit.stores._common import check_int, check_limit, normalize, parse_seq_cursor, utc

__all__ = ["MemoryStore"]

T = TypeVar("T")


def _page(items: Iterable[T], key: Callable[[T], str], after: str | None, limit: int) -> Page[T]:
    check_limit(limit)
    ordered = sorted((i for i in items if after is None or key(i) > after), key=key)
    chunk = tuple(ordered[:limit])
    more = len(ordered) > limit
    return Page(items=chunk, next_cursor=key(chunk[-1]) if more else None)


class MemoryStore:
    """Implements every port of :class:`mfakit.repositories.MfaStore` in process memory."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False
        self._pending_totp: dict[str, TotpCredential] = {}
        self._active_totp: dict[str, TotpCredential] = {}
        self._backup: dict[str, dict[str, BackupCode]] = {}
        self._webauthn: dict[bytes, WebAuthnCredential] = {}
        self._challenges: dict[str, Challenge] = {}
        self._login_codes: dict[str, LoginCode] = {}
        self._throttle: dict[str, ThrottleState] = {}
        self._orgs: dict[str, Organization] = {}
        self._members: dict[tuple[str, str], Membership] = {}
        self._invitations: dict[str, Invitation] = {}
        self._audit: list[tuple[int, AuditEvent]] = []
        self._audit_ids: set[str] = set()
        self._seq = itertools.count(1)

    def __repr__(self) -> str:
        return "MemoryStore()"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")

    def close(self) -> None:
        """Close the store; further calls raise :class:`StoreError`."""
        with self._lock:
            self._closed = True

    # -- TOTP -----------------------------------------------------------------------

    def put_pending_totp(self, credential: TotpCredential) -> None:
        """See :meth:`mfakit.repositories.TotpRepository.put_pending_totp`."""
        if credential.state != "pending":
            raise ConfigurationError("put_pending_totp takes a pending credential")
        record = normalize(credential)
        with self._lock:
            self._check_open()
            self._pending_totp[record.user_id] = record

    def get_pending_totp(self, user_id: str, *, now: datetime) -> TotpCredential | None:
        """See :meth:`mfakit.repositories.TotpRepository.get_pending_totp`."""
        now = utc(now)
        with self._lock:
            self._check_open()
            record = self._pending_totp.get(user_id)
        if record is None or (record.expires_at is not None and record.expires_at <= now):
            return None
        return record

    def get_active_totp(self, user_id: str) -> TotpCredential | None:
        """See :meth:`mfakit.repositories.TotpRepository.get_active_totp`."""
        with self._lock:
            self._check_open()
            return self._active_totp.get(user_id)

    def activate_totp(
        self, user_id: str, totp_id: str, *, step: int, now: datetime
    ) -> TotpCredential:
        """See :meth:`mfakit.repositories.TotpRepository.activate_totp`."""
        now = utc(now)
        check_int(step, "step")
        with self._lock:
            self._check_open()
            pending = self._pending_totp.get(user_id)
            if (
                pending is None
                or pending.totp_id != totp_id
                or (pending.expires_at is not None and pending.expires_at <= now)
            ):
                raise NotFoundError("no such pending TOTP enrollment")
            active = dataclasses.replace(
                pending, state="active", expires_at=None, confirmed_at=now, last_step=step
            )
            del self._pending_totp[user_id]
            self._active_totp[user_id] = active
            return active

    def advance_totp_step(self, user_id: str, step: int) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.advance_totp_step`."""
        check_int(step, "step")
        with self._lock:
            self._check_open()
            active = self._active_totp.get(user_id)
            if active is None or (active.last_step is not None and step <= active.last_step):
                return False
            self._active_totp[user_id] = dataclasses.replace(active, last_step=step)
            return True

    def delete_totp(self, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.delete_totp`."""
        with self._lock:
            self._check_open()
            found = [d.pop(user_id, None) for d in (self._active_totp, self._pending_totp)]
            return any(r is not None for r in found)

    # -- Backup codes ---------------------------------------------------------------

    def replace_backup_codes(self, user_id: str, codes: Sequence[BackupCode]) -> None:
        """See :meth:`mfakit.repositories.BackupCodeRepository.replace_backup_codes`."""
        new: dict[str, BackupCode] = {}
        for code in codes:
            if code.user_id != user_id:
                raise ConfigurationError("a backup code belongs to another user")
            if code.code_id in new:
                raise DuplicateError("two backup codes share an id")
            new[code.code_id] = normalize(code)
        with self._lock:
            self._check_open()
            self._backup[user_id] = new

    def list_backup_codes(self, user_id: str) -> tuple[BackupCode, ...]:
        """See :meth:`mfakit.repositories.BackupCodeRepository.list_backup_codes`."""
        with self._lock:
            self._check_open()
            codes = self._backup.get(user_id, {})
            return tuple(codes[k] for k in sorted(codes))

    def count_unused_backup_codes(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.BackupCodeRepository.count_unused_backup_codes`."""
        with self._lock:
            self._check_open()
            return sum(c.consumed_at is None for c in self._backup.get(user_id, {}).values())

    def consume_backup_code(self, user_id: str, code_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.BackupCodeRepository.consume_backup_code`."""
        now = utc(now)
        with self._lock:
            self._check_open()
            codes = self._backup.get(user_id, {})
            code = codes.get(code_id)
            if code is None or code.consumed_at is not None:
                return False
            codes[code_id] = dataclasses.replace(code, consumed_at=now)
            return True

    def delete_backup_codes(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.BackupCodeRepository.delete_backup_codes`."""
        with self._lock:
            self._check_open()
            return len(self._backup.pop(user_id, {}))

    # -- WebAuthn -------------------------------------------------------------------

    def add_webauthn_credential(self, credential: WebAuthnCredential) -> None:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.add_webauthn_credential`."""
        record = normalize(credential)
        with self._lock:
            self._check_open()
            if record.credential_id in self._webauthn:
                raise DuplicateError("the credential id is already registered")
            self._check_name_free(record.user_id, record.name)
            self._webauthn[record.credential_id] = record

    def _check_name_free(self, user_id: str, name: str) -> None:
        if any(c.user_id == user_id and c.name == name for c in self._webauthn.values()):
            raise DuplicateError("the user already has a credential with this name")

    def get_webauthn_credential(self, credential_id: bytes) -> WebAuthnCredential | None:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.get_webauthn_credential`."""
        with self._lock:
            self._check_open()
            return self._webauthn.get(bytes(credential_id))

    def list_webauthn_credentials(self, user_id: str) -> tuple[WebAuthnCredential, ...]:
        """See :class:`~mfakit.repositories.WebAuthnCredentialRepository`."""
        with self._lock:
            self._check_open()
            mine = [c for c in self._webauthn.values() if c.user_id == user_id]
        return tuple(sorted(mine, key=lambda c: (c.created_at, c.credential_id)))

    def rename_webauthn_credential(self, user_id: str, credential_id: bytes, name: str) -> None:
        """See :class:`~mfakit.repositories.WebAuthnCredentialRepository`."""
        with self._lock:
            self._check_open()
            cred = self._webauthn.get(bytes(credential_id))
            if cred is None or cred.user_id != user_id:
                raise NotFoundError("the user has no such credential")
            if cred.name == name:
                return
            self._check_name_free(user_id, name)
            self._webauthn[cred.credential_id] = dataclasses.replace(cred, name=name)

    def delete_webauthn_credential(self, user_id: str, credential_id: bytes) -> bool:
        """See :class:`~mfakit.repositories.WebAuthnCredentialRepository`."""
        with self._lock:
            self._check_open()
            cred = self._webauthn.get(bytes(credential_id))
            if cred is None or cred.user_id != user_id:
                return False
            del self._webauthn[cred.credential_id]
            return True

    def update_sign_count(
        self,
        credential_id: bytes,
        expected_old: int,
        new: int,
        *,
        now: datetime,
        backup_state: bool | None = None,
    ) -> bool:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.update_sign_count`."""
        now = utc(now)
        check_int(expected_old, "expected_old")
        check_int(new, "new")
        with self._lock:
            self._check_open()
            cred = self._webauthn.get(bytes(credential_id))
            if cred is None or cred.sign_count != expected_old:
                return False
            bs = cred.backup_state if backup_state is None else backup_state
            self._webauthn[cred.credential_id] = dataclasses.replace(
                cred, sign_count=new, last_used_at=now, backup_state=bs
            )
            return True

    # -- Challenges -----------------------------------------------------------------

    def put_challenge(self, challenge: Challenge) -> None:
        """See :meth:`mfakit.repositories.ChallengeRepository.put_challenge`."""
        record = normalize(challenge)
        with self._lock:
            self._check_open()
            if record.challenge_id in self._challenges:
                raise DuplicateError("the challenge id is taken")
            self._challenges[record.challenge_id] = record

    def pop_challenge(self, challenge_id: str, *, now: datetime) -> Challenge | None:
        """See :meth:`mfakit.repositories.ChallengeRepository.pop_challenge`."""
        now = utc(now)
        with self._lock:
            self._check_open()
            record = self._challenges.pop(challenge_id, None)
        if record is None or record.expires_at <= now:
            return None
        return record

    def purge_expired_challenges(self, *, now: datetime) -> int:
        """See :meth:`mfakit.repositories.ChallengeRepository.purge_expired_challenges`."""
        now = utc(now)
        with self._lock:
            self._check_open()
            dead = [k for k, c in self._challenges.items() if c.expires_at <= now]
            for k in dead:
                del self._challenges[k]
            return len(dead)

    # -- Login codes ----------------------------------------------------------------

    def put_login_code(self, code: LoginCode) -> None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.put_login_code`."""
        record = normalize(code)
        with self._lock:
            self._check_open()
            self._login_codes[record.subject] = record

    def get_login_code(self, subject: str) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.get_login_code`."""
        with self._lock:
            self._check_open()
            return self._login_codes.get(subject)

    def _live_code(self, subject: str, code_id: str, now: datetime) -> LoginCode | None:
        code = self._login_codes.get(subject)
        if (
            code is None
            or code.code_id != code_id
            or code.consumed_at is not None
            or code.expires_at <= now
        ):
            return None
        return code

    def record_login_code_attempt(
        self, subject: str, code_id: str, *, now: datetime
    ) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.record_login_code_attempt`."""
        now = utc(now)
        with self._lock:
            self._check_open()
            code = self._live_code(subject, code_id, now)
            if code is None or code.attempts >= code.max_attempts:
                return None
            updated = dataclasses.replace(code, attempts=code.attempts + 1)
            self._login_codes[subject] = updated
            return updated

    def consume_login_code(self, subject: str, code_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.consume_login_code`."""
        now = utc(now)
        with self._lock:
            self._check_open()
            code = self._live_code(subject, code_id, now)
            if code is None:
                return False
            self._login_codes[subject] = dataclasses.replace(code, consumed_at=now)
            return True

    def delete_login_code(self, subject: str) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.delete_login_code`."""
        with self._lock:
            self._check_open()
            return self._login_codes.pop(subject, None) is not None

    # -- Throttle -------------------------------------------------------------------

    def get_throttle(self, key: str) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.get_throttle`."""
        with self._lock:
            self._check_open()
            return self._throttle.get(key) or ThrottleState(key=key)

    def record_failure(
        self, key: str, *, now: datetime, window: timedelta | None = None
    ) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.record_failure`."""
        now = utc(now)
        with self._lock:
            self._check_open()
            state = self._throttle.get(key) or ThrottleState(key=key)
            first = state.first_failure_at
            if first is None or (window is not None and first + window < now):
                state = dataclasses.replace(state, failures=1, first_failure_at=now)
            else:
                state = dataclasses.replace(state, failures=state.failures + 1)
            state = dataclasses.replace(state, last_failure_at=now)
            self._throttle[key] = state
            return state

    def lock_throttle(self, key: str, *, until: datetime) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.lock_throttle`."""
        until = utc(until)
        with self._lock:
            self._check_open()
            state = self._throttle.get(key) or ThrottleState(key=key)
            if state.locked_until is None or state.locked_until < until:
                state = dataclasses.replace(state, locked_until=until)
            self._throttle[key] = state
            return state

    def reset_throttle(self, key: str) -> None:
        """See :meth:`mfakit.repositories.ThrottleRepository.reset_throttle`."""
        with self._lock:
            self._check_open()
            self._throttle.pop(key, None)

    # -- Organizations --------------------------------------------------------------

    def create_organization(self, organization: Organization) -> Organization:
        """See :meth:`mfakit.repositories.OrganizationRepository.create_organization`."""
        record = dataclasses.replace(normalize(organization), version=1)
        with self._lock:
            self._check_open()
            if record.org_id in self._orgs:
                raise DuplicateError("the organization id is taken")
            self._orgs[record.org_id] = record
            return record

    def get_organization(self, org_id: str) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.get_organization`."""
        with self._lock:
            self._check_open()
            return self._orgs.get(org_id)

    def update_organization(self, organization: Organization) -> Organization | None:
        """See :meth:`mfakit.repositories.OrganizationRepository.update_organization`."""
        record = normalize(organization)
        with self._lock:
            self._check_open()
            stored = self._orgs.get(record.org_id)
            if stored is None:
                raise NotFoundError("no such organization")
            if stored.version != record.version:
                return None
            record = dataclasses.replace(
                record, version=record.version + 1, created_at=stored.created_at
            )
            self._orgs[record.org_id] = record
            return record

    def list_organizations(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[Organization]:
        """See :meth:`mfakit.repositories.OrganizationRepository.list_organizations`."""
        with self._lock:
            self._check_open()
            orgs = list(self._orgs.values())
        return _page(orgs, lambda o: o.org_id, after, limit)

    # -- Memberships ----------------------------------------------------------------

    def _check_username_free(self, m: Membership) -> None:
        if m.username is None:
            return
        for other in self._members.values():
            if (
                other.org_id == m.org_id
                and other.username == m.username
                and other.user_id != m.user_id
            ):
                raise DuplicateError("the username is taken in the organization")

    def _insert_membership(self, membership: Membership) -> Membership:
        record = dataclasses.replace(normalize(membership), version=1)
        if record.org_id not in self._orgs:
            raise NotFoundError("no such organization")
        if (record.org_id, record.user_id) in self._members:
            raise DuplicateError("the user is already a member")
        self._check_username_free(record)
        self._members[record.org_id, record.user_id] = record
        return record

    def add_membership(self, membership: Membership) -> Membership:
        """See :meth:`mfakit.repositories.MembershipRepository.add_membership`."""
        with self._lock:
            self._check_open()
            return self._insert_membership(membership)

    def get_membership(self, org_id: str, user_id: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership`."""
        with self._lock:
            self._check_open()
            return self._members.get((org_id, user_id))

    def get_membership_by_username(self, org_id: str, username: str) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.get_membership_by_username`."""
        with self._lock:
            self._check_open()
            for m in self._members.values():
                if m.org_id == org_id and m.username == username:
                    return m
            return None

    def update_membership(self, membership: Membership) -> Membership | None:
        """See :meth:`mfakit.repositories.MembershipRepository.update_membership`."""
        record = normalize(membership)
        with self._lock:
            self._check_open()
            stored = self._members.get((record.org_id, record.user_id))
            if stored is None:
                raise NotFoundError("no such membership")
            if stored.version != record.version:
                return None
            self._check_username_free(record)
            record = dataclasses.replace(record, version=record.version + 1)
            self._members[record.org_id, record.user_id] = record
            return record

    def delete_membership(self, org_id: str, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.MembershipRepository.delete_membership`."""
        with self._lock:
            self._check_open()
            return self._members.pop((org_id, user_id), None) is not None

    def list_memberships(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Membership]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_memberships`."""
        with self._lock:
            self._check_open()
            mine = [m for m in self._members.values() if m.org_id == org_id]
        return _page(mine, lambda m: m.user_id, after, limit)

    def list_user_memberships(self, user_id: str) -> tuple[Membership, ...]:
        """See :meth:`mfakit.repositories.MembershipRepository.list_user_memberships`."""
        with self._lock:
            self._check_open()
            mine = [m for m in self._members.values() if m.user_id == user_id]
        return tuple(sorted(mine, key=lambda m: m.org_id))

    def count_memberships(self, org_id: str) -> int:
        """See :meth:`mfakit.repositories.MembershipRepository.count_memberships`."""
        with self._lock:
            self._check_open()
            return sum(m.org_id == org_id for m in self._members.values())

    # -- Invitations ----------------------------------------------------------------

    def create_invitation(self, invitation: Invitation) -> None:
        """See :meth:`mfakit.repositories.InvitationRepository.create_invitation`."""
        record = normalize(invitation)
        with self._lock:
            self._check_open()
            if record.org_id not in self._orgs:
                raise NotFoundError("no such organization")
            if record.invitation_id in self._invitations:
                raise DuplicateError("the invitation id is taken")
            self._invitations[record.invitation_id] = record

    def get_invitation(self, invitation_id: str) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.get_invitation`."""
        with self._lock:
            self._check_open()
            return self._invitations.get(invitation_id)

    def list_invitations(
        self, org_id: str, *, after: str | None = None, limit: int = 100
    ) -> Page[Invitation]:
        """See :meth:`mfakit.repositories.InvitationRepository.list_invitations`."""
        with self._lock:
            self._check_open()
            mine = [i for i in self._invitations.values() if i.org_id == org_id]
        return _page(mine, lambda i: i.invitation_id, after, limit)

    def accept_invitation(
        self, invitation_id: str, membership: Membership, *, now: datetime
    ) -> Invitation | None:
        """See :meth:`mfakit.repositories.InvitationRepository.accept_invitation`."""
        now = utc(now)
        with self._lock:
            self._check_open()
            inv = self._invitations.get(invitation_id)
            if (
                inv is None
                or inv.accepted_at is not None
                or inv.revoked_at is not None
                or inv.expires_at <= now
            ):
                return None
            if membership.org_id != inv.org_id:
                raise ConfigurationError("the membership is for another organization")
            self._insert_membership(membership)
            accepted = dataclasses.replace(inv, accepted_at=now, accepted_by=membership.user_id)
            self._invitations[invitation_id] = accepted
            return accepted

    def revoke_invitation(self, invitation_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.InvitationRepository.revoke_invitation`."""
        now = utc(now)
        with self._lock:
            self._check_open()
            inv = self._invitations.get(invitation_id)
            if inv is None or inv.accepted_at is not None or inv.revoked_at is not None:
                return False
            self._invitations[invitation_id] = dataclasses.replace(inv, revoked_at=now)
            return True

    # -- Audit ----------------------------------------------------------------------

    def append_audit_event(self, event: AuditEvent) -> None:
        """See :meth:`mfakit.repositories.AuditSink.append_audit_event`."""
        record = normalize(event)
        with self._lock:
            self._check_open()
            if record.event_id in self._audit_ids:
                raise DuplicateError("the event id exists")
            self._audit_ids.add(record.event_id)
            self._audit.append((next(self._seq), record))

    def list_audit_events(
        self,
        *,
        org_id: str | None = None,
        user_id: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Page[AuditEvent]:
        """See :meth:`mfakit.repositories.AuditSink.list_audit_events`."""
        check_limit(limit)
        start = parse_seq_cursor(after)
        with self._lock:
            self._check_open()
            rows = [
                (seq, e)
                for seq, e in self._audit
                if seq > start
                and (org_id is None or e.org_id == org_id)
                and (user_id is None or e.user_id == user_id)
            ]
        chunk = rows[:limit]
        cursor = str(chunk[-1][0]) if len(rows) > limit else None
        return Page(items=tuple(e for _, e in chunk), next_cursor=cursor)
