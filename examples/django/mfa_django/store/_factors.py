"""The parts of the factors: TOTP devices, backup codes, WebAuthn credentials and handles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from mfa_django.models import (
    BackupCodeSet,
    Credential,
    StoredBackupCode,
    Throttle,
    TotpDevice,
    UserHandle,
    UserState,
    opt_utc,
)
from mfa_django.store._context import DjangoContext
from mfakit.errors import (
    ConfigurationError,
    DuplicateError,
    LimitReachedError,
    NotFoundError,
    StoreError,
)
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
    check_limit,
    check_max_devices,
    check_opt_bool,
    check_user_handle,
    normalize,
    utc,
)

__all__ = ["DjangoBackupCodes", "DjangoTotp", "DjangoWebAuthn", "keyset_page"]

#: How often a re-enrollment retries after losing its insert to a concurrent one.
#: Each lost attempt means another caller's enrollment was committed, so this
#: bounds the concurrent re-enrollments of one user that are waited out.
_TRIES = 64


def _check_name(name: object) -> str:
    if not isinstance(name, str) or "\x00" in name:
        raise ConfigurationError("name must be a string without NUL characters")
    return name


class DjangoTotp:
    """:class:`~mfakit.repositories.TotpRepository` on the ORM."""

    def __init__(self, ctx: DjangoContext) -> None:
        self._ctx = ctx

    def _devices(self) -> Any:
        return TotpDevice.objects.using(self._ctx.using)

    def _active(self, user_id: str) -> Any:
        return self._devices().filter(user_id=user_id, state="active")

    def put_pending_totp(self, credential: TotpCredential) -> None:
        """See :meth:`mfakit.repositories.TotpRepository.put_pending_totp`."""
        record = normalize(credential)
        if record.state != "pending":
            raise ConfigurationError("put_pending_totp takes a pending credential")
        row = TotpDevice.from_record(record)

        def replace() -> None:
            devices = self._devices()
            # The id may be the user's own pending enrollment (stored again);
            # any other row holding it is a duplicate.
            taken = devices.filter(totp_id=record.totp_id).exclude(
                user_id=record.user_id, state="pending"
            )
            for _ in range(_TRIES):
                if taken.exists():
                    raise DuplicateError("another enrollment or device has this id")
                devices.filter(user_id=record.user_id, state="pending").delete()
                # A concurrent re-enrollment that inserted meanwhile makes the
                # insert violate the one-pending-per-user constraint: its
                # savepoint undoes it, and the loop deletes that one too, so
                # the last caller wins as with the SQL store's upsert.
                try:
                    with transaction.atomic(using=self._ctx.using):
                        row.save(using=self._ctx.using, force_insert=True)
                except IntegrityError:
                    continue
                return
            raise StoreError("the enrollment changed under every attempt")  # pragma: no cover

        self._ctx.run(replace, write=True)

    def get_pending_totp(self, user_id: str, *, now: datetime) -> TotpCredential | None:
        """See :meth:`mfakit.repositories.TotpRepository.get_pending_totp`."""
        at = utc(now)
        row = self._ctx.run(
            lambda: (
                self._devices()
                .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
                .filter(user_id=user_id, state="pending")
                .first()
            )
        )
        return None if row is None else row.to_record()

    def list_totp_devices(self, user_id: str) -> tuple[TotpCredential, ...]:
        """See :meth:`mfakit.repositories.TotpRepository.list_totp_devices`."""
        rows = self._ctx.run(lambda: list(self._active(user_id).order_by("created_at", "totp_id")))
        return tuple(r.to_record() for r in rows)

    def get_user_factors(self, user_id: str, *, throttle_keys: Sequence[str] = ()) -> UserFactors:
        """See :meth:`mfakit.repositories.TotpRepository.get_user_factors`.

        One read transaction (``REPEATABLE READ`` on PostgreSQL): a query per
        model, each on its ``user_id`` (or key) index.
        """
        keys = check_keys(throttle_keys)
        using = self._ctx.using

        def read() -> UserFactors:
            devices = self._active(user_id).order_by("created_at", "totp_id")
            creds = Credential.objects.using(using).filter(user_id=user_id)
            codes = StoredBackupCode.objects.using(using).filter(user_id=user_id)
            found: dict[str, ThrottleState] = {}
            if keys:
                found = {
                    t.key: t.to_record() for t in Throttle.objects.using(using).filter(key__in=keys)
                }
            state = UserState.objects.using(using).filter(user_id=user_id).first()
            return UserFactors(
                user_id=user_id,
                totp_devices=tuple(d.to_record() for d in devices),
                credentials=tuple(
                    c.to_record() for c in creds.order_by("created_at", "credential_id")
                ),
                backup_codes=tuple(c.to_record() for c in codes.order_by("code_id")),
                throttles={k: found.get(k) or ThrottleState(key=k) for k in keys},
                last_mfa_at=None if state is None else opt_utc(state.last_mfa_at),
                factors_changed_at=None if state is None else opt_utc(state.factors_changed_at),
            )

        return self._ctx.run(read, snapshot=True)

    def activate_totp(
        self, user_id: str, totp_id: str, *, step: int, now: datetime, max_devices: int
    ) -> TotpCredential:
        """See :meth:`mfakit.repositories.TotpRepository.activate_totp`.

        One write transaction that locks the user's pending row first
        (``select_for_update()``; SQLite's ``BEGIN IMMEDIATE`` already runs it
        alone), so the count of active devices holds until it commits.
        """
        at = utc(now)
        check_int(step, "step")
        check_max_devices(max_devices)

        def activate() -> TotpCredential:
            devices = self._devices()
            pending = (
                devices.select_for_update()
                .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
                .filter(user_id=user_id, totp_id=totp_id, state="pending")
                .first()
            )
            if pending is None:
                raise NotFoundError("no such pending TOTP enrollment")
            if self._active(user_id).count() >= max_devices:
                raise LimitReachedError(
                    "the user has as many authenticator apps as allowed", limit=max_devices
                )
            # A name taken by an active device violates mfa_totp_name: DuplicateError.
            devices.filter(totp_id=totp_id, state="pending").update(
                state="active", expires_at=None, confirmed_at=at, last_step=step
            )
            return devices.get(totp_id=totp_id).to_record()  # type: ignore[no-any-return]

        return self._ctx.run(activate, write=True)

    def advance_totp_step(self, totp_id: str, step: int, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.advance_totp_step`."""
        check_int(step, "step")
        at = utc(now)
        changed = self._ctx.run(
            lambda: (
                self._devices()
                .filter(Q(last_step__isnull=True) | Q(last_step__lt=step))
                .filter(totp_id=totp_id, state="active")
                .update(last_step=step, last_used_at=at)
            ),
            write=True,
        )
        return bool(changed == 1)

    def rename_totp_device(self, user_id: str, totp_id: str, name: str) -> TotpCredential:
        """See :meth:`mfakit.repositories.TotpRepository.rename_totp_device`.

        No ``UPDATE ... RETURNING`` in the ORM: the update, then a read of the
        row it locked, in one transaction.
        """
        _check_name(name)

        def rename() -> TotpCredential:
            rows = self._active(user_id).filter(totp_id=totp_id)
            if rows.update(name=name) == 0:
                raise NotFoundError("the user has no such authenticator app")
            return rows.get().to_record()  # type: ignore[no-any-return]

        return self._ctx.run(rename, write=True)

    def delete_totp_device(self, user_id: str, totp_id: str) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.delete_totp_device`."""
        deleted, _ = self._ctx.run(
            lambda: self._active(user_id).filter(totp_id=totp_id).delete(), write=True
        )
        return bool(deleted > 0)

    def delete_totp(self, user_id: str) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.delete_totp`."""
        deleted, _ = self._ctx.run(
            lambda: self._devices().filter(user_id=user_id).delete(), write=True
        )
        return bool(deleted > 0)

    def list_totp_credentials(
        self, *, after: str | None = None, limit: int = 100
    ) -> Page[TotpCredential]:
        """See :meth:`mfakit.repositories.TotpRepository.list_totp_credentials`."""
        check_limit(limit)
        rows = self._devices().order_by("totp_id")
        if after is not None:
            rows = rows.filter(totp_id__gt=after)
        found = self._ctx.run(lambda: list(rows[: limit + 1]))
        return keyset_page([r.to_record() for r in found], lambda t: t.totp_id, limit)

    def rewrap_totp_secret(self, totp_id: str, *, expected: bytes, new: bytes) -> bool:
        """See :meth:`mfakit.repositories.TotpRepository.rewrap_totp_secret`."""
        changed = self._ctx.run(
            lambda: (
                self._devices()
                .filter(totp_id=totp_id, secret=bytes(expected))
                .update(secret=bytes(new))
            ),
            write=True,
        )
        return bool(changed == 1)


def keyset_page(items: list[Any], key: Any, limit: int) -> Page[Any]:
    """One page from ``limit + 1`` records: the extra one says there is a next page."""
    page = tuple(items[:limit])
    return Page(items=page, next_cursor=str(key(page[-1])) if len(items) > limit else None)


class DjangoBackupCodes:
    """:class:`~mfakit.repositories.BackupCodeRepository` on the ORM."""

    def __init__(self, ctx: DjangoContext) -> None:
        self._ctx = ctx

    def _codes(self, user_id: str) -> Any:
        return StoredBackupCode.objects.using(self._ctx.using).filter(user_id=user_id)

    def replace_backup_codes(self, user_id: str, codes: Sequence[BackupCode]) -> None:
        """See :meth:`mfakit.repositories.BackupCodeRepository.replace_backup_codes`.

        The user's set row is locked first (``select_for_update().get_or_create()``,
        which also survives a concurrent first insert), so concurrent
        replacements of one set run one after the other, never merging two sets.
        """
        records = [normalize(c) for c in codes]
        if any(c.user_id != user_id for c in records):
            raise ConfigurationError("a backup code belongs to another user")
        if len({c.code_id for c in records}) != len(records):
            raise DuplicateError("two backup codes share an id")
        using = self._ctx.using

        def replace() -> None:
            BackupCodeSet.objects.using(using).select_for_update().get_or_create(user_id=user_id)
            BackupCodeSet.objects.using(using).filter(user_id=user_id).update(
                replaced=F("replaced") + 1
            )
            self._codes(user_id).delete()
            StoredBackupCode.objects.using(using).bulk_create(
                [StoredBackupCode.from_record(c) for c in records]
            )

        self._ctx.run(replace, write=True)

    def list_backup_codes(self, user_id: str) -> tuple[BackupCode, ...]:
        """See :meth:`mfakit.repositories.BackupCodeRepository.list_backup_codes`."""
        rows = self._ctx.run(lambda: list(self._codes(user_id).order_by("code_id")))
        return tuple(r.to_record() for r in rows)

    def count_unused_backup_codes(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.BackupCodeRepository.count_unused_backup_codes`."""
        return int(
            self._ctx.run(lambda: self._codes(user_id).filter(consumed_at__isnull=True).count())
        )

    def consume_backup_code(self, user_id: str, code_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.BackupCodeRepository.consume_backup_code`."""
        at = utc(now)
        changed = self._ctx.run(
            lambda: (
                self._codes(user_id)
                .filter(code_id=code_id, consumed_at__isnull=True)
                .update(consumed_at=at)
            ),
            write=True,
        )
        return bool(changed == 1)

    def delete_backup_codes(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.BackupCodeRepository.delete_backup_codes`."""

        def delete() -> int:
            deleted, _ = self._codes(user_id).delete()
            BackupCodeSet.objects.using(self._ctx.using).filter(user_id=user_id).delete()
            return int(deleted)

        return self._ctx.run(delete, write=True)


class DjangoWebAuthn:
    """:class:`~mfakit.repositories.WebAuthnCredentialRepository` on the ORM."""

    def __init__(self, ctx: DjangoContext) -> None:
        self._ctx = ctx

    def _creds(self) -> Any:
        return Credential.objects.using(self._ctx.using)

    def add_webauthn_credential(self, credential: WebAuthnCredential) -> None:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.add_webauthn_credential`."""
        row = Credential.from_record(normalize(credential))
        self._ctx.run(lambda: row.save(using=self._ctx.using, force_insert=True), write=True)

    def get_webauthn_credential(self, credential_id: bytes) -> WebAuthnCredential | None:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.get_webauthn_credential`."""
        row = self._ctx.run(
            lambda: self._creds().filter(credential_id=bytes(credential_id)).first()
        )
        return None if row is None else row.to_record()

    def list_webauthn_credentials(self, user_id: str) -> tuple[WebAuthnCredential, ...]:
        """See :class:`~mfakit.repositories.WebAuthnCredentialRepository`."""
        rows = self._ctx.run(
            lambda: list(
                self._creds().filter(user_id=user_id).order_by("created_at", "credential_id")
            )
        )
        return tuple(r.to_record() for r in rows)

    def rename_webauthn_credential(self, user_id: str, credential_id: bytes, name: str) -> None:
        """See :class:`~mfakit.repositories.WebAuthnCredentialRepository`."""
        _check_name(name)
        changed = self._ctx.run(
            lambda: (
                self._creds()
                .filter(credential_id=bytes(credential_id), user_id=user_id)
                .update(name=name)
            ),
            write=True,
        )
        if changed == 0:
            raise NotFoundError("the user has no such credential")

    def delete_webauthn_credential(self, user_id: str, credential_id: bytes) -> bool:
        """See :class:`~mfakit.repositories.WebAuthnCredentialRepository`."""
        deleted, _ = self._ctx.run(
            lambda: (
                self._creds().filter(credential_id=bytes(credential_id), user_id=user_id).delete()
            ),
            write=True,
        )
        return bool(deleted == 1)

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
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.update_sign_count`.

        One guarded ``QuerySet.update()``: the flags, the kind and a first
        user handle change only with the counter.
        """
        check_int(expected_old, "expected_old")
        check_int(new, "new")
        check_opt_bool(backup_state, "backup_state")
        check_opt_bool(backup_eligible, "backup_eligible")
        handle = None if user_handle is None else check_user_handle(user_handle, "user_handle")
        changes: dict[str, Any] = {"sign_count": new, "last_used_at": utc(now)}
        if backup_state is not None:
            changes["backup_state"] = backup_state
        if backup_eligible is not None:
            changes["backup_eligible"] = backup_eligible
        if backup_eligible:
            changes["kind"] = "passkey"
        if handle is not None:
            changes["user_handle"] = Coalesce(F("user_handle"), Value(handle))
        changed = self._ctx.run(
            lambda: (
                self._creds()
                .filter(credential_id=bytes(credential_id), sign_count=expected_old)
                .update(**changes)
            ),
            write=True,
        )
        return bool(changed == 1)

    def set_webauthn_passwordless(
        self, user_id: str, credential_id: bytes, passwordless: bool
    ) -> WebAuthnCredential:
        """See
        :meth:`mfakit.repositories.WebAuthnCredentialRepository.set_webauthn_passwordless`.
        """
        flag = check_bool(passwordless, "passwordless")

        def update() -> WebAuthnCredential:
            rows = self._creds().filter(credential_id=bytes(credential_id), user_id=user_id)
            if rows.update(passwordless=flag) == 0:
                raise NotFoundError("the user has no such credential")
            return rows.get().to_record()  # type: ignore[no-any-return]

        return self._ctx.run(update, write=True)

    def webauthn_user_handle(self, user_id: str, *, create_with: bytes) -> bytes:
        """See :meth:`mfakit.repositories.WebAuthnCredentialRepository.webauthn_user_handle`.

        ``get_or_create()`` is this port's get-or-create: when the insert
        violates a unique constraint it reads the user's row again, and
        re-raises (a :class:`DuplicateError`) only if the user still has none,
        that is when ``create_with`` is another user's handle.
        """
        handle = check_user_handle(create_with, "create_with")
        row, _ = self._ctx.run(
            lambda: UserHandle.objects.using(self._ctx.using).get_or_create(
                user_id=user_id, defaults={"handle": handle}
            ),
            write=True,
        )
        return bytes(row.handle)

    def find_user_by_webauthn_handle(self, handle: bytes) -> str | None:
        """See
        :meth:`mfakit.repositories.WebAuthnCredentialRepository.find_user_by_webauthn_handle`.
        """
        if not isinstance(handle, bytes):
            raise ConfigurationError("handle must be bytes")
        row = self._ctx.run(
            lambda: UserHandle.objects.using(self._ctx.using).filter(handle=handle).first()
        )
        return None if row is None else str(row.user_id)
