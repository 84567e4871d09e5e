"""TOTP flows: enroll (begin, confirm), update by re-enrolling, delete."""

from __future__ import annotations

import hmac
import secrets

from mfakit import qr
from mfakit.errors import (
    ConfigurationError,
    ExpiredCodeError,
    InvalidCodeError,
    NotFoundError,
)
from mfakit.otp import TOTP, encode_base32, generate_secret
from mfakit.policy import Method, MethodKind, SensitiveAction
from mfakit.repositories import TotpCredential
from mfakit.secretbox import TOTP_SECRET_PURPOSE
from mfakit.service._backup import BackupCodeFlow
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory
from mfakit.service._factor_changes import FactorChanges
from mfakit.service._facts import TOTP_METHOD_ID
from mfakit.service._methods import MethodPolicy
from mfakit.service._notify import MethodAdded, MethodRemoved
from mfakit.service._results import (
    MethodRemoval,
    TotpActivation,
    TotpEnrollment,
)
from mfakit.service._settings import UserRef, check_user_id
from mfakit.service._step_up import StepUp
from mfakit.service._throttle import Throttle

__all__ = ["ENROLL_FACTOR", "TotpFlow"]

_LABEL = "Authenticator app"
#: The throttle counter of TOTP confirmations.
ENROLL_FACTOR = "totp_enroll"


def _grouped(key: str) -> str:
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


class TotpFlow:
    """Enrolling, confirming, updating and deleting the user's TOTP authenticator.

    Depends on the context, the directory, the throttle, the method policy,
    the step-up (adding or replacing a TOTP when the user has a factor,
    deleting it), the factor changes and the backup code flow (confirming a
    TOTP issues a new set of backup codes).
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

    def begin_totp_enrollment(self, user: UserRef) -> TotpEnrollment:
        """See :meth:`MfaService.begin_totp_enrollment`."""
        context = self._context
        if not isinstance(user, UserRef):
            raise ConfigurationError("user must be a UserRef")
        now = context.now()
        factors = self._directory.factors(user.user_id)
        replacing = factors.totp is not None
        self._step_up.require_for_method_change(
            user.user_id,
            SensitiveAction.REPLACE_METHOD if replacing else SensitiveAction.ADD_METHOD,
            factors,
            now,
        )
        self._policy.check_add(
            user.user_id,
            MethodKind.TOTP,
            "",
            _without_totp(factors.methods),
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
        methods, last_mfa_at = factors.methods, factors.last_mfa_at
        before = _without_totp(methods)
        self._policy.check_add(user_id, MethodKind.TOTP, "", before, now, last_mfa_at=last_mfa_at)
        replaced = any(m.id == TOTP_METHOD_ID for m in methods)
        fresh = self._backup.generate()
        # Activation, the new backup codes and the policy effects: all or nothing.
        with context.transaction():
            try:
                context.store.activate_totp(user_id, pending.totp_id, step=step, now=now)
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
                user_id, MethodKind.TOTP, "", before, now, last_mfa_at=last_mfa_at
            )
            codes = self._backup.store(user_id, fresh, now)
            context.audit("totp.activated", at=now, user_id=user_id, details={"replaced": replaced})
            context.send(
                MethodAdded(user_id=user_id, method=MethodKind.TOTP.value, label=_LABEL), at=now
            )
        return TotpActivation(
            totp_id=pending.totp_id,
            replaced=replaced,
            backup_codes=codes,
            advice=self._backup.advice(user_id),
        )

    def delete_totp(self, user_id: str, *, confirmation: str | None) -> MethodRemoval:
        """See :meth:`MfaService.delete_totp`."""
        context = self._context
        check_user_id(user_id)
        now = context.now()
        factors = self._directory.factors(user_id)
        methods, last_mfa_at = factors.methods, factors.last_mfa_at
        if not any(m.id == TOTP_METHOD_ID for m in methods):
            raise NotFoundError("the user has no TOTP")
        self._step_up.require_for_method_change(
            user_id, SensitiveAction.REMOVE_METHOD, factors, now
        )
        self._policy.check_remove(
            user_id, TOTP_METHOD_ID, confirmation, methods, now, last_mfa_at=last_mfa_at
        )
        # The removal and the grace period it may start: all or nothing.
        with context.transaction():
            context.store.delete_totp(user_id)
            self._factor_changes.record(user_id, at=now, reason="totp.deleted")
            remaining = self._backup.drop_if_alone(user_id)
            deadline, obligations = self._policy.commit_remove(
                user_id, TOTP_METHOD_ID, confirmation, methods, now, last_mfa_at=last_mfa_at
            )
            context.audit("totp.deleted", at=now, user_id=user_id)
            context.send(
                MethodRemoved(
                    user_id=user_id, method=MethodKind.TOTP.value, label=_LABEL, deadline=deadline
                ),
                at=now,
            )
        return MethodRemoval(
            method=MethodKind.TOTP,
            label=_LABEL,
            deadline=deadline,
            obligations=obligations,
            remaining_methods=remaining,
        )


def _same_id(stored: str, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(stored.encode(), given.encode())


def _without_totp(methods: tuple[Method, ...]) -> tuple[Method, ...]:
    return tuple(m for m in methods if m.id != TOTP_METHOD_ID)
