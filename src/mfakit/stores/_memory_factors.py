"""The in-memory parts of the factors: TOTP, backup codes, WebAuthn credentials."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime

from mfakit.errors import ConfigurationError, DuplicateError, LimitReachedError, NotFoundError
from mfakit.repositories import (
    BackupCode,
    Page,
    ThrottleState,
    TotpCredential,
    UserFactors,
    WebAuthnCredential,
)
from mfakit.stores._common import (
    check_bool,
    check_int,
    check_keys,
    check_max_devices,
    check_opt_bool,
    check_user_handle,
    normalize,
    utc,
)
from mfakit.stores._memory import MemoryState, page

__all__ = ["MemoryBackupCodes", "MemoryTotp", "MemoryWebAuthn"]


def _oldest_first(devices: Iterable[TotpCredential]) -> tuple[TotpCredential, ...]:
    return tuple(sorted(devices, key=lambda d: (d.created_at, d.totp_id)))


class MemoryTotp:
    """:class:`~mfakit.repositories.TotpRepository` in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def put_pending_totp(self, credential: TotpCredential) -> None:
        """See :meth:`mfakit.repositories.TotpRepository.put_pending_totp`."""
        if credential.state != "pending":
            raise ConfigurationError("put_pending_totp takes a pending credential")
        record = normalize(credential)
        with self._state.lock:
            self._state.check_open()
            owner = self._totp_by_id(record.totp_id)
            if owner is not None and (owner.user_id, owner.state) != (record.user_id, "pending"):
                raise DuplicateError("the TOTP enrollment id is taken")
            self._state.pending_totp[record.user_id] = record

    def _totp_by_id(self, totp_id: str) -> TotpCredential | None:
        state = self._state
        user = state.totp_owners.get(totp_id)
        if user is not None:
            return next(d for d in state.active_totp[user] if d.totp_id == totp_id)
        # Pending enrollments are looked up by id only for maintenance and new ids.
        return next((r for r in state.pending_totp.values() if r.totp_id == totp_id), None)

    def get_pending_totp(self, user_id: str, *, now: datetime) -> TotpCredential | None:
        """See :meth:`mfakit.repositories.TotpRepository.get_pending_totp`."""
        now = utc(now)
        with self._state.lock:
            self._state.check_open()
            record = self._state.pending_totp.get(user_id)
        if record is None or (record.expires_at is not None and record.expires_at <= now):
            return None
        return record

    def list_totp_devices(self, user_id: str) -> tuple[TotpCredential, ...]:
        """See :meth:`mfakit.repositories.TotpRepository.list_totp_devices`."""
        with self._state.lock:
            self._state.check_open()
            return self._state.active_totp.get(user_id, ())

    def get_user_factors(self, user_id: str, *, throttle_keys: Sequence[str] = ()) -> UserFactors:
        """See :meth:`mfakit.repositories.TotpRepository.get_user_factors`."""
        keys = check_keys(throttle_keys)
        state = self._state
        with state.lock:
            state.check_open()
            codes = state.backup.get(user_id, {})
            return UserFactors(
                user_id=user_id,
                totp_devices=state.active_totp.get(user_id, ()),
                credentials=tuple(
                    sorted(
                        state.user_webauthn(user_id), key=lambda c: (c.created_at, c.credential_id)
                    )
                ),
                backup_codes=tuple(codes[k] for k in sorted(codes)),
                throttles={k: state.throttle.get(k) or ThrottleState(key=k) for k in keys},
                last_mfa_at=state.last_mfa.get(user_id),
                factors_changed_at=state.factors_changed.get(user_id),
            )

    def activate_totp(
        self, user_id: str, totp_id: str, *, step: int, now: datetime, max_devices: int
    ) -> TotpCredential:
        """See :meth:`mfakit.repositories.TotpRepository.activate_totp`."""
        now = utc(now)
        check_int(step, "step")
        check_max_devices(max_devices)
        state = self._state
        with state.lock:
            state.check_open()
            pending = state.pending_totp.get(user_id)
            if (
                pending is None
                or pending.totp_id != totp_id
                or (pending.expires_at is not None and pending.expires_at <= now)
            ):
                raise NotFoundError("no such pending TOTP enrollment")
            devices = state.active_totp.get(user_id, ())
            if len(devices) >= max_devices:
                raise LimitReachedError(
                    "the user has as many authenticator apps as allowed", limit=max_devices
                )
            if any(d.name == pending.name for d in devices):
                raise DuplicateError("the user already has an authenticator app with this name")
            active = dataclasses.replace(
                pending, state="active", expires_at=None, confirmed_at=now, last_step=step
            )
            del state.pending_totp[user_id]
            state.put_totp_devices(user_id, _oldest_first((*devices, active)))
            return active

    def advance_totp_step(self, totp_id: str, step: int, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.advance_totp_step`."""
        check_int(step, "step")
        now = utc(now)
        state = self._state
        with state.lock:
            state.check_open()
            user = state.totp_owners.get(totp_id)
            if user is None:
                return False
            devices = state.active_totp[user]
            active = next(d for d in devices if d.totp_id == totp_id)
            if active.last_step is not None and step <= active.last_step:
                return False
            advanced = dataclasses.replace(active, last_step=step, last_used_at=now)
            state.put_totp_devices(user, tuple(advanced if d is active else d for d in devices))
            return True

    def rename_totp_device(self, user_id: str, totp_id: str, name: str) -> TotpCredential:
        """See :meth:`mfakit.repositories.TotpRepository.rename_totp_device`."""
        if not isinstance(name, str) or "\x00" in name:
            raise ConfigurationError("name must be a string without NUL characters")
        state = self._state
        with state.lock:
            state.check_open()
            devices = state.active_totp.get(user_id, ())
            found = next((d for d in devices if d.totp_id == totp_id), None)
            if found is None:
                raise NotFoundError("the user has no such authenticator app")
            if any(d.name == name and d is not found for d in devices):
                raise DuplicateError("the user already has an authenticator app with this name")
            renamed = dataclasses.replace(found, name=name)
            state.put_totp_devices(user_id, tuple(renamed if d is found else d for d in devices))
            return renamed

    def delete_totp_device(self, user_id: str, totp_id: str) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.delete_totp_device`."""
        state = self._state
        with state.lock:
            state.check_open()
            devices = state.active_totp.get(user_id, ())
            kept = tuple(d for d in devices if d.totp_id != totp_id)
            if len(kept) == len(devices):
                return False
            state.put_totp_devices(user_id, kept)
            return True

    def delete_totp(self, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.delete_totp`."""
        state = self._state
        with state.lock:
            state.check_open()
            had = bool(state.active_totp.get(user_id))
            state.put_totp_devices(user_id, ())
            return state.pending_totp.pop(user_id, None) is not None or had

    def list_totp_credentials(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[TotpCredential]:
        """See :meth:`mfakit.repositories.TotpRepository.list_totp_credentials`."""
        with self._state.lock:
            self._state.check_open()
            records = [
                *self._state.pending_totp.values(),
                *(d for devices in self._state.active_totp.values() for d in devices),
            ]
        return page(records, lambda r: r.totp_id, after, limit)

    def rewrap_totp_secret(self, totp_id: str, *, expected: bytes, new: bytes) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.rewrap_totp_secret`."""
        state = self._state
        with state.lock:
            state.check_open()
            record = self._totp_by_id(totp_id)
            if record is None or record.secret != expected:
                return False
            rewrapped = dataclasses.replace(record, secret=bytes(new))
            if record.state == "pending":
                state.pending_totp[record.user_id] = rewrapped
            else:
                devices = state.active_totp[record.user_id]
                state.put_totp_devices(
                    record.user_id, tuple(rewrapped if d is record else d for d in devices)
                )
            return True


class MemoryBackupCodes:
    """:class:`~mfakit.repositories.BackupCodeRepository` in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def replace_backup_codes(self, user_id: str, codes: Sequence[BackupCode]) -> None:
        """See :meth:`mfakit.repositories.BackupCodeRepository.replace_backup_codes`."""
        new: dict[str, BackupCode] = {}
        for code in codes:
            if code.user_id != user_id:
                raise ConfigurationError("a backup code belongs to another user")
            if code.code_id in new:
                raise DuplicateError("two backup codes share an id")
            new[code.code_id] = normalize(code)
        with self._state.lock:
            self._state.check_open()
            self._state.backup[user_id] = new

    def list_backup_codes(self, user_id: str) -> tuple[BackupCode, ...]:
        """See :meth:`mfakit.repositories.BackupCodeRepository.list_backup_codes`."""
        with self._state.lock:
            self._state.check_open()
            codes = self._state.backup.get(user_id, {})
            return tuple(codes[k] for k in sorted(codes))

    def count_unused_backup_codes(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.BackupCodeRepository.count_unused_backup_codes`."""
        with self._state.lock:
            self._state.check_open()
            return sum(c.consumed_at is None for c in self._state.backup.get(user_id, {}).values())

    def consume_backup_code(self, user_id: str, code_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.BackupCodeRepository.consume_backup_code`."""
        now = utc(now)
        with self._state.lock:
            self._state.check_open()
            codes = self._state.backup.get(user_id, {})
            code = codes.get(code_id)
            if code is None or code.consumed_at is not None:
                return False
            codes[code_id] = dataclasses.replace(code, consumed_at=now)
            return True

    def delete_backup_codes(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.BackupCodeRepository.delete_backup_codes`."""
        with self._state.lock:
            self._state.check_open()
            return len(self._state.backup.pop(user_id, {}))


class MemoryWebAuthn:
    """:class:`~mfakit.repositories.WebAuthnCredentialRepository` in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def add_webauthn_credential(self, credential: WebAuthnCredential) -> None:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.add_webauthn_credential`."""
        record = normalize(credential)
        with self._state.lock:
            self._state.check_open()
            if record.credential_id in self._state.webauthn:
                raise DuplicateError("the credential id is already registered")
            self._check_name_free(record.user_id, record.name)
            self._state.webauthn[record.credential_id] = record
            self._state.index_credential(record.user_id, record.credential_id, add=True)

    def _check_name_free(self, user_id: str, name: str) -> None:
        if any(c.name == name for c in self._state.user_webauthn(user_id)):
            raise DuplicateError("the user already has a credential with this name")

    def get_webauthn_credential(self, credential_id: bytes) -> WebAuthnCredential | None:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.get_webauthn_credential`."""
        with self._state.lock:
            self._state.check_open()
            return self._state.webauthn.get(bytes(credential_id))

    def list_webauthn_credentials(self, user_id: str) -> tuple[WebAuthnCredential, ...]:
        """See :class:`~mfakit.repositories.WebAuthnCredentialRepository`."""
        with self._state.lock:
            self._state.check_open()
            mine = self._state.user_webauthn(user_id)
        return tuple(sorted(mine, key=lambda c: (c.created_at, c.credential_id)))

    def rename_webauthn_credential(self, user_id: str, credential_id: bytes, name: str) -> None:
        """See :class:`~mfakit.repositories.WebAuthnCredentialRepository`."""
        with self._state.lock:
            self._state.check_open()
            cred = self._state.webauthn.get(bytes(credential_id))
            if cred is None or cred.user_id != user_id:
                raise NotFoundError("the user has no such credential")
            if cred.name == name:
                return
            self._check_name_free(user_id, name)
            self._state.webauthn[cred.credential_id] = dataclasses.replace(cred, name=name)

    def delete_webauthn_credential(self, user_id: str, credential_id: bytes) -> bool:
        """See :class:`~mfakit.repositories.WebAuthnCredentialRepository`."""
        with self._state.lock:
            self._state.check_open()
            cred = self._state.webauthn.get(bytes(credential_id))
            if cred is None or cred.user_id != user_id:
                return False
            del self._state.webauthn[cred.credential_id]
            self._state.index_credential(user_id, cred.credential_id, add=False)
            return True

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
        now = utc(now)
        check_int(expected_old, "expected_old")
        check_int(new, "new")
        check_opt_bool(backup_state, "backup_state")
        check_opt_bool(backup_eligible, "backup_eligible")
        if user_handle is not None:
            check_user_handle(user_handle, "user_handle")
        with self._state.lock:
            self._state.check_open()
            cred = self._state.webauthn.get(bytes(credential_id))
            if cred is None or cred.sign_count != expected_old:
                return False
            bs = cred.backup_state if backup_state is None else backup_state
            be = cred.backup_eligible if backup_eligible is None else backup_eligible
            kind = "passkey" if backup_eligible else cred.kind
            handle = user_handle if cred.user_handle is None else cred.user_handle
            self._state.webauthn[cred.credential_id] = dataclasses.replace(
                cred,
                sign_count=new,
                last_used_at=now,
                backup_state=bs,
                backup_eligible=be,
                kind=kind,
                user_handle=handle,
            )
            return True

    def set_webauthn_passwordless(
        self, user_id: str, credential_id: bytes, passwordless: bool
    ) -> WebAuthnCredential:
        """See
        :meth:`mfakit.repositories.WebAuthnCredentialRepository.set_webauthn_passwordless`.
        """
        check_bool(passwordless, "passwordless")
        with self._state.lock:
            self._state.check_open()
            cred = self._state.webauthn.get(bytes(credential_id))
            if cred is None or cred.user_id != user_id:
                raise NotFoundError("the user has no such credential")
            cred = dataclasses.replace(cred, passwordless=passwordless)
            self._state.webauthn[cred.credential_id] = cred
            return cred

    def webauthn_user_handle(self, user_id: str, *, create_with: bytes) -> bytes:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.webauthn_user_handle`."""
        handle = check_user_handle(create_with, "create_with")
        state = self._state
        with state.lock:
            state.check_open()
            stored = state.user_handles.get(user_id)
            if stored is not None:
                return stored
            if handle in state.handle_users:
                raise DuplicateError("the user handle is taken; nothing was written")
            state.put_user_handle(user_id, handle)
            return handle

    def find_user_by_webauthn_handle(self, handle: bytes) -> str | None:
        """See
        :meth:`mfakit.repositories.WebAuthnCredentialRepository.find_user_by_webauthn_handle`.
        """
        if not isinstance(handle, bytes):
            raise ConfigurationError("handle must be bytes")
        with self._state.lock:
            self._state.check_open()
            return self._state.handle_users.get(handle)
