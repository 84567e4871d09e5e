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
from mfakit.policy import Method, MethodKind
from mfakit.repositories import TotpCredential
from mfakit.secretbox import TOTP_SECRET_PURPOSE
from mfakit.service._backup import BackupCodeFlows
from mfakit.service._core import throttle_key
from mfakit.service._facts import TOTP_METHOD_ID
from mfakit.service._notify import MethodAdded, MethodRemoved
from mfakit.service._results import (
    MethodRemoval,
    TotpActivation,
    TotpEnrollment,
)
from mfakit.service._settings import UserRef, check_user_id

__all__ = ["TotpFlows"]

_LABEL = "Authenticator app"
#: The throttle counter of TOTP confirmations.
ENROLL_FACTOR = "totp_enroll"


def _grouped(key: str) -> str:
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


class TotpFlows(BackupCodeFlows):
    """Enrolling, confirming, updating and deleting the user's TOTP authenticator."""

    def _totp_of(self, credential: TotpCredential) -> TOTP:
        secret = self._keys.decrypt(
            credential.secret, owner=credential.user_id, purpose=TOTP_SECRET_PURPOSE
        )
        return TOTP(
            secret,
            digits=credential.digits,
            period=credential.period,
            algorithm=credential.algorithm,
        )

    def begin_totp_enrollment(self, user: UserRef) -> TotpEnrollment:
        """Start setting up (or replacing) the user's authenticator app.

        A new secret is stored encrypted as a *pending* enrollment that expires
        after ``settings.pending_totp_ttl``. An active TOTP keeps working until the
        new one is confirmed (that is how TOTP is updated).

        Args:
            user: The user, with the account name shown by the app.

        Returns:
            The key to type, the ``otpauth://`` URI and its QR code. Show them once.

        Raises:
            PolicyDeniedError: an organization does not let this user use TOTP.
        """
        if not isinstance(user, UserRef):
            raise ConfigurationError("user must be a UserRef")
        now = self._now()
        methods = self._methods(user.user_id)
        self._check_add(user.user_id, MethodKind.TOTP, "", _without_totp(methods), now)
        secret = generate_secret()
        totp = TOTP(secret, digits=self._settings.totp_digits)
        expires_at = now + self._settings.pending_totp_ttl
        credential = TotpCredential(
            totp_id=secrets.token_urlsafe(16),
            user_id=user.user_id,
            state="pending",
            secret=self._keys.encrypt(secret, owner=user.user_id, purpose=TOTP_SECRET_PURPOSE),
            digits=totp.digits,
            period=totp.period,
            algorithm=str(totp.algorithm),
            created_at=now,
            expires_at=expires_at,
        )
        self._store.put_pending_totp(credential)
        uri = totp.uri(account_name=user.name, issuer=self._issuer)
        self._audit("totp.enrollment_started", at=now, user_id=user.user_id)
        return TotpEnrollment(
            totp_id=credential.totp_id,
            manual_key=_grouped(encode_base32(secret)),
            uri=uri,
            qr_svg=qr.render_svg(uri),
            expires_at=expires_at,
        )

    def confirm_totp(self, user_id: str, totp_id: str, code: str) -> TotpActivation:
        """Activate a pending enrollment with a code from the app; issue new backup codes.

        The confirming code's time step is stored, so the same code cannot then
        be used to sign in. A previously active TOTP is replaced, and the user's
        backup codes are replaced by a new set (shown once).

        Raises:
            ExpiredCodeError: no pending enrollment ``totp_id`` (expired, replaced or
                already confirmed).
            InvalidCodeError: the code does not match.
            ThrottledError: too many wrong codes.
            PolicyDeniedError: an organization no longer lets the user use TOTP.
        """
        check_user_id(user_id)
        now = self._now()
        pending = self._store.get_pending_totp(user_id, now=now)
        if pending is None or not _same_id(pending.totp_id, totp_id):
            raise ExpiredCodeError("no such pending TOTP enrollment; it may have expired")
        # Its own counter: confirming proves the new app, not the user, so it must
        # neither share nor reset the sign-in throttles.
        self._charge_attempt(ENROLL_FACTOR, user_id, now)
        step = self._totp_of(pending).verify(code, for_time=now, window=self._settings.totp_window)
        if step is None:
            self._audit("totp.confirm", at=now, outcome="failure", user_id=user_id)
            raise InvalidCodeError
        methods = self._methods(user_id)
        before = _without_totp(methods)
        self._check_add(user_id, MethodKind.TOTP, "", before, now)
        replaced = any(m.id == TOTP_METHOD_ID for m in methods)
        fresh = self._generate_backup_codes()
        # Activation, the new backup codes and the policy effects: all or nothing.
        with self._transaction():
            try:
                self._store.activate_totp(user_id, pending.totp_id, step=step, now=now)
            except NotFoundError as exc:
                raise ExpiredCodeError(
                    "the enrollment was confirmed or replaced meanwhile"
                ) from exc
            self._store.reset_throttle(throttle_key(ENROLL_FACTOR, user_id))
            self._commit_add(user_id, MethodKind.TOTP, "", before, now)
            codes = self._store_backup_codes(user_id, fresh, now)
            self._audit("totp.activated", at=now, user_id=user_id, details={"replaced": replaced})
            self._send(
                MethodAdded(user_id=user_id, method=MethodKind.TOTP.value, label=_LABEL), at=now
            )
        return TotpActivation(
            totp_id=pending.totp_id,
            replaced=replaced,
            backup_codes=codes,
            advice=self._advice(user_id),
        )

    def delete_totp(self, user_id: str, *, confirmation: str | None) -> MethodRemoval:
        """Delete the user's TOTP after the typed confirmation ``DELETE``.

        Each organization's policy decides: a step-up may be required, removing
        the last method may be refused or start a grace period. When no second
        factor remains, the backup codes are deleted too.

        Raises:
            NotFoundError: the user has no TOTP.
            PolicyDeniedError: confirmation missing or wrong, step-up required, or
                refused by an organization (``decision`` says why).
        """
        check_user_id(user_id)
        now = self._now()
        methods = self._methods(user_id)
        if not any(m.id == TOTP_METHOD_ID for m in methods):
            raise NotFoundError("the user has no TOTP")
        self._check_remove(user_id, TOTP_METHOD_ID, confirmation, methods, now)
        # The removal and the grace period it may start: all or nothing.
        with self._transaction():
            self._store.delete_totp(user_id)
            remaining = self._drop_backup_codes_if_alone(user_id)
            deadline, obligations = self._commit_remove(
                user_id, TOTP_METHOD_ID, confirmation, methods, now
            )
            self._audit("totp.deleted", at=now, user_id=user_id)
            self._send(
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
