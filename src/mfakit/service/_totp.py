"""TOTP flows: a user's named authenticator apps: add, list, rename, delete one or all."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Sequence

from mfakit import qr
from mfakit.errors import (
    ConfigurationError,
    DuplicateError,
    ExpiredCodeError,
    InvalidCodeError,
    LimitReachedError,
    NotFoundError,
)
from mfakit.otp import TOTP, encode_base32, generate_secret
from mfakit.policy import Method, MethodKind, SensitiveAction
from mfakit.repositories import TotpCredential
from mfakit.secretbox import TOTP_SECRET_PURPOSE
from mfakit.service._backup import BackupCodeFlow
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory, UserFactors
from mfakit.service._factor_changes import FactorChanges
from mfakit.service._facts import TOTP_LABEL, totp_method_id
from mfakit.service._methods import MethodPolicy
from mfakit.service._notify import MethodAdded, MethodRemoved
from mfakit.service._results import (
    MethodRemoval,
    TotpActivation,
    TotpDevice,
    TotpEnrollment,
)
from mfakit.service._settings import UserRef, check_name, check_user_id
from mfakit.service._step_up import StepUp
from mfakit.service._throttle import Throttle

__all__ = ["ENROLL_FACTOR", "TotpFlow"]

#: Longest device name accepted, in characters.
MAX_DEVICE_NAME = 64
# The policy method id of all of a user's devices judged together (delete_totp).
_ALL_DEVICES = "totp"
#: The throttle counter of TOTP confirmations.
ENROLL_FACTOR = "totp_enroll"


def _grouped(key: str) -> str:
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


class TotpFlow:
    """Adding, listing, renaming and deleting the user's authenticator apps (TOTP devices).

    Depends on the context, the directory, the throttle, the method policy,
    the step-up (adding a device when the user has a factor, deleting one or
    all; renaming is not a factor change and needs none), the factor changes
    and the backup code flow (confirming a TOTP issues a new set of backup
    codes).
    """

    def __init__(
        self,
        *,
        context: ServiceContext,
        directory: Directory,
        throttle: Throttle,
        policy: MethodPolicy,
        step_up: StepUp,
        factor_changes: FactorChanges,
        backup: BackupCodeFlow,
    ) -> None:
        self._context = context
        self._directory = directory
        self._throttle = throttle
        self._policy = policy
        self._step_up = step_up
        self._factor_changes = factor_changes
        self._backup = backup

    def totp_of(self, credential: TotpCredential) -> TOTP:
        """The :class:`~mfakit.otp.TOTP` of a stored credential (its secret decrypted)."""
        secret = self._context.keys.decrypt(
            credential.secret, owner=credential.user_id, purpose=TOTP_SECRET_PURPOSE
        )
        return TOTP(
            secret,
            digits=credential.digits,
            period=credential.period,
            algorithm=credential.algorithm,
        )

    def begin_totp_enrollment(self, user: UserRef, *, name: str = TOTP_LABEL) -> TotpEnrollment:
        """See :meth:`MfaService.begin_totp_enrollment`."""
        context = self._context
        if not isinstance(user, UserRef):
            raise ConfigurationError("user must be a UserRef")
        label = _name(name)
        now = context.now()
        factors = self._directory.factors(user.user_id)
        # Before anything else (the limit, the name, the pending enrollment):
        # a stale session learns nothing and stores nothing.
        self._step_up.require_for_method_change(
            user.user_id, SensitiveAction.ADD_METHOD, factors, now
        )
        devices = factors.totp_devices
        limit = context.settings.max_totp_devices
        if len(devices) >= limit:
            raise LimitReachedError(
                "the user has as many authenticator apps as allowed", limit=limit
            )
        _check_name_free(devices, label)
        self._policy.check_add(
            user.user_id,
            MethodKind.TOTP,
            label,
            factors.methods,
            now,
            last_mfa_at=factors.last_mfa_at,
        )
        secret = generate_secret()
        totp = TOTP(secret, digits=context.settings.totp_digits)
        expires_at = now + context.settings.pending_totp_ttl
        credential = TotpCredential(
            totp_id=secrets.token_urlsafe(16),
            user_id=user.user_id,
            state="pending",
            name=label,
            secret=context.keys.encrypt(secret, owner=user.user_id, purpose=TOTP_SECRET_PURPOSE),
            digits=totp.digits,
            period=totp.period,
            algorithm=str(totp.algorithm),
            created_at=now,
            expires_at=expires_at,
        )
        context.store.put_pending_totp(credential)
        uri = totp.uri(account_name=user.name, issuer=context.issuer)
        context.audit("totp.enrollment_started", at=now, user_id=user.user_id)
        return TotpEnrollment(
            totp_id=credential.totp_id,
            name=label,
            manual_key=_grouped(encode_base32(secret)),
            uri=uri,
            qr_svg=qr.render_svg(uri),
            expires_at=expires_at,
        )

    def confirm_totp(self, user_id: str, totp_id: str, code: str) -> TotpActivation:
        """See :meth:`MfaService.confirm_totp`."""
        context = self._context
        check_user_id(user_id)
        now = context.now()
        pending = context.store.get_pending_totp(user_id, now=now)
        if pending is None or not _same_id(pending.totp_id, totp_id):
            raise ExpiredCodeError("no such pending TOTP enrollment; it may have expired")
        # Its own counter: confirming proves the new app, not the user, so it must
        # neither share nor reset the sign-in throttles.
        self._throttle.charge(ENROLL_FACTOR, user_id, now)
        step = self.totp_of(pending).verify(code, for_time=now, window=context.settings.totp_window)
        if step is None:
            context.audit("totp.confirm", at=now, outcome="failure", user_id=user_id)
            raise InvalidCodeError
        factors = self._directory.factors(user_id)
        before, last_mfa_at = factors.methods, factors.last_mfa_at
        label = pending.name
        self._policy.check_add(
            user_id, MethodKind.TOTP, label, before, now, last_mfa_at=last_mfa_at
        )
        fresh = self._backup.generate()
        # Activation (the device limit and unique name checked by the store in
        # the same statement's transaction), the new backup codes and the
        # policy effects: all or nothing.
        with context.transaction():
            try:
                device = context.store.activate_totp(
                    user_id,
                    pending.totp_id,
                    step=step,
                    now=now,
                    max_devices=context.settings.max_totp_devices,
                )
            except NotFoundError as exc:
                raise ExpiredCodeError(
                    "the enrollment was confirmed or replaced meanwhile"
                ) from exc
            self._throttle.reset(ENROLL_FACTOR, user_id)
            # The confirming code was just checked: it counts as a recent second
            # factor (the sign-in counters are the user's, so they are left alone).
            context.store.record_second_factor(user_id, at=now)
            self._factor_changes.record(user_id, at=now, reason="totp.activated")
            self._policy.commit_add(
                user_id, MethodKind.TOTP, label, before, now, last_mfa_at=last_mfa_at
            )
            codes = self._backup.store(user_id, fresh, now)
            context.audit(
                "totp.activated",
                at=now,
                user_id=user_id,
                details={"replaced": False, "devices": len(factors.totp_devices) + 1},
            )
            context.send(
                MethodAdded(user_id=user_id, method=MethodKind.TOTP.value, label=label), at=now
            )
        return TotpActivation(
            totp_id=device.totp_id,
            replaced=False,
            backup_codes=codes,
            advice=self._backup.advice(user_id),
            device=_listed(device),
        )

    def list_totp_devices(self, user_id: str) -> tuple[TotpDevice, ...]:
        """See :meth:`MfaService.list_totp_devices`."""
        check_user_id(user_id)
        return tuple(_listed(d) for d in self._context.store.list_totp_devices(user_id))

    def rename_totp_device(self, user_id: str, device_id: str, name: str) -> TotpDevice:
        """See :meth:`MfaService.rename_totp_device`."""
        context = self._context
        check_user_id(user_id)
        label = _name(name)
        devices = context.store.list_totp_devices(user_id)
        device = _find(devices, device_id)
        _check_name_free([d for d in devices if d is not device], label)
        renamed = context.store.rename_totp_device(user_id, device.totp_id, label)
        context.audit("totp.renamed", at=context.now(), user_id=user_id)
        return _listed(renamed)

    def delete_totp_device(
        self, user_id: str, device_id: str, *, confirmation: str | None
    ) -> MethodRemoval:
        """See :meth:`MfaService.delete_totp_device`."""
        check_user_id(user_id)
        factors = self._directory.factors(user_id)
        device = _find(factors.totp_devices, device_id)
        return self._remove(
            user_id,
            factors,
            (device,),
            method_id=totp_method_id(device.totp_id),
            methods=factors.methods,
            confirmation=confirmation,
            label=device.name,
            every_device=False,
        )

    def delete_totp(self, user_id: str, *, confirmation: str | None) -> MethodRemoval:
        """See :meth:`MfaService.delete_totp`."""
        check_user_id(user_id)
        factors = self._directory.factors(user_id)
        if not factors.totp_devices:
            raise NotFoundError("the user has no TOTP")
        # One decision for all the devices: the policy sees them as one method
        # that goes, so removing the last of the user's methods is judged once.
        others = tuple(m for m in factors.methods if m.kind is not MethodKind.TOTP)
        oldest = min(m.created_at for m in factors.methods if m.kind is MethodKind.TOTP)
        together = Method(
            id=_ALL_DEVICES, kind=MethodKind.TOTP, created_at=oldest, label=TOTP_LABEL
        )
        return self._remove(
            user_id,
            factors,
            factors.totp_devices,
            method_id=_ALL_DEVICES,
            methods=(together, *others),
            confirmation=confirmation,
            label=TOTP_LABEL,
            every_device=True,
        )

    def _remove(
        self,
        user_id: str,
        factors: UserFactors,
        devices: tuple[TotpCredential, ...],
        *,
        method_id: str,
        methods: tuple[Method, ...],
        confirmation: str | None,
        label: str,
        every_device: bool,
    ) -> MethodRemoval:
        """Remove ``devices`` (the policy judging ``method_id`` out of ``methods``).

        ``every_device`` deletes all of the user's devices and pending
        enrollment (``delete_totp``); otherwise the one device in ``devices``.
        """
        context = self._context
        now = context.now()
        last_mfa_at = factors.last_mfa_at
        self._step_up.require_for_method_change(
            user_id, SensitiveAction.REMOVE_METHOD, factors, now
        )
        self._policy.check_remove(
            user_id, method_id, confirmation, methods, now, last_mfa_at=last_mfa_at
        )
        # The removal and the grace period it may start: all or nothing.
        with context.transaction():
            if every_device:
                context.store.delete_totp(user_id)
            elif not context.store.delete_totp_device(user_id, devices[0].totp_id):
                raise NotFoundError("no such authenticator app")
            self._factor_changes.record(user_id, at=now, reason="totp.deleted")
            remaining = self._backup.drop_if_alone(user_id)
            deadline, obligations = self._policy.commit_remove(
                user_id, method_id, confirmation, methods, now, last_mfa_at=last_mfa_at
            )
            context.audit(
                "totp.deleted", at=now, user_id=user_id, details={"devices": len(devices)}
            )
            context.send(
                MethodRemoved(
                    user_id=user_id, method=MethodKind.TOTP.value, label=label, deadline=deadline
                ),
                at=now,
            )
        return MethodRemoval(
            method=MethodKind.TOTP,
            label=label,
            deadline=deadline,
            obligations=obligations,
            remaining_methods=remaining,
        )


def _same_id(stored: str, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(stored.encode(), given.encode())


def _name(name: object) -> str:
    return check_name(name, field="name", max_length=MAX_DEVICE_NAME)


def _find(devices: Sequence[TotpCredential], device_id: object) -> TotpCredential:
    """The device ``device_id`` among the user's, or NotFoundError."""
    if not isinstance(device_id, str):
        raise ConfigurationError("device_id must be a string")
    for d in devices:
        if d.totp_id == device_id:
            return d
    raise NotFoundError("no such authenticator app")


def _check_name_free(devices: Iterable[TotpCredential], label: str) -> None:
    """Names are unique per user, compared without case (as the policy compares labels)."""
    wanted = label.casefold()
    if any(d.name.casefold() == wanted for d in devices):
        raise DuplicateError("an authenticator app with this name exists")


def _listed(device: TotpCredential) -> TotpDevice:
    return TotpDevice(
        device_id=device.totp_id,
        name=device.name,
        created_at=device.created_at,
        confirmed_at=device.confirmed_at,
        last_used_at=device.last_used_at,
    )
