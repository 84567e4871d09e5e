"""Second-factor sign-in: begin, then complete with TOTP or a backup code (passkeys: _passkeys).

The host application checks the password first. Every completion:

1. applies each organization's login decision (a locked or overdue member is
   refused before any factor is checked, so nothing is consumed);
2. charges the attempt to the factor's throttle (atomic count, checked first);
3. checks the factor and makes it single-use with one atomic store call;
4. on success resets the throttles and records the verification time (step-up).

Steps 1 and 4 (and the lock after too many failures) are the
:class:`~mfakit.service._gate.LoginGate`'s; step 2 is the throttle's.

Cost: each completion reads each thing once (the user's memberships with
their organizations in one query, the user's factors with the sign-in
counters in another) and writes the charge, the single-use mark, one counter
reset, one stamp per membership and its audit events in one append: a
bounded number of store calls whatever the size of the user's organizations.
"""

from __future__ import annotations

import dataclasses

from mfakit import backup_codes, webauthn
from mfakit.errors import (
    ConfigurationError,
    InvalidCodeError,
    NotFoundError,
    ReplayedCodeError,
)
from mfakit.policy import MethodKind
from mfakit.service._backup import BackupCodeFlow
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory
from mfakit.service._facts import credential_method_id
from mfakit.service._gate import LoginGate
from mfakit.service._results import SecondFactorChallenge, SecondFactorResult
from mfakit.service._settings import check_user_id
from mfakit.service._throttle import Throttle
from mfakit.service._totp import TotpFlow

__all__ = ["AUTHENTICATION_PURPOSE", "EXCLUDED_CREDENTIAL", "SecondFactorFlow"]

#: The purpose of the challenges issued by :meth:`SecondFactorFlow.begin_second_factor`.
AUTHENTICATION_PURPOSE = "webauthn.authentication"
#: The challenge context key naming the credential that was the first factor
#: (its policy method id): it cannot answer this challenge.
EXCLUDED_CREDENTIAL = "excluded_credential"


class SecondFactorFlow:
    """The second step of sign-in: begin it, complete it with TOTP or a backup code.

    Depends on the context, the directory, the throttle, the login gate, the
    TOTP flow (to read the user's authenticator) and the backup code flow (to
    warn when few codes are left). Completing with a passkey is the passkey
    flow's.
    """

    def __init__(
        self,
        *,
        context: ServiceContext,
        directory: Directory,
        throttle: Throttle,
        gate: LoginGate,
        totp: TotpFlow,
        backup: BackupCodeFlow,
    ) -> None:
        self._context = context
        self._directory = directory
        self._throttle = throttle
        self._gate = gate
        self._totp = totp
        self._backup = backup

    def begin_second_factor(
        self,
        user_id: str,
        *,
        org_id: str | None = None,
        first_factor_credential: bytes | None = None,
    ) -> SecondFactorChallenge:
        """See :meth:`MfaService.begin_second_factor`."""
        check_user_id(user_id)
        if first_factor_credential is not None and not isinstance(first_factor_credential, bytes):
            raise ConfigurationError("first_factor_credential must be bytes")
        context = self._context
        now = context.now()
        with self._gate.attempt(user_id, org_id, now) as attempt:
            factors = self._gate.factors(attempt)
        # The credential that was the first factor cannot be the second one too.
        used = (
            None
            if first_factor_credential is None
            else credential_method_id(first_factor_credential)
        )
        kinds = tuple(dict.fromkeys(m.kind for m in factors.methods if m.id != used))
        credentials = [
            c.credential_id
            for c in factors.credentials
            if c.credential_id != first_factor_credential
        ]
        if used is not None and not kinds:
            # Not "no second factor, sign in": the first factor alone is not enough here.
            raise NotFoundError("the user has no second factor besides the first")
        if not credentials:
            return SecondFactorChallenge(user_id=user_id, methods=kinds)
        options = webauthn.authentication_options(
            rp_id=context.rp.rp_id,
            allow_credentials=credentials,
            user_verification="required"
            if context.settings.require_user_verification
            else "preferred",
        )
        data = None if used is None else {EXCLUDED_CREDENTIAL: used}
        challenge = context.issue_challenge(
            AUTHENTICATION_PURPOSE, options.challenge, user_id=user_id, now=now, data=data
        )
        return SecondFactorChallenge(
            user_id=user_id,
            methods=kinds,
            challenge_id=challenge.challenge_id,
            webauthn_options=options.to_json(),
            expires_at=challenge.expires_at,
        )

    def verify_totp(
        self, user_id: str, code: str, *, org_id: str | None = None
    ) -> SecondFactorResult:
        """See :meth:`MfaService.verify_totp`."""
        check_user_id(user_id)
        context = self._context
        now = context.now()
        with self._gate.attempt(user_id, org_id, now) as attempt:
            devices = self._gate.factors(attempt).totp_devices
            if not devices:
                raise NotFoundError("the user has no TOTP")
            self._gate.charge(attempt, "totp")
            window = context.settings.totp_window
            matched: tuple[str, int] | None = None
            replay = False
            # One verify per device over the whole window (one HMAC per step),
            # every step tried: a match at or below the device's last step is a
            # replay on that device, and the other devices are still tried.
            for device in devices:
                step = self._totp.totp_of(device).verify(code, for_time=now, window=window)
                if step is None:
                    continue
                if device.last_step is not None and step <= device.last_step:
                    replay = True
                    continue
                matched = (device.totp_id, step)
                break
            if matched is None:
                self._gate.after_failure(attempt, "totp")
                raise ReplayedCodeError if replay else InvalidCodeError
            # The matching device's own step, compare-and-set: a concurrent
            # sign-in with the same code, or the device's deletion, wins.
            if not context.store.advance_totp_step(matched[0], matched[1], now=now):
                self._gate.after_failure(attempt, "totp")
                raise ReplayedCodeError
            return self._gate.after_success(attempt, MethodKind.TOTP)

    def verify_backup_code(
        self, user_id: str, code: str, *, org_id: str | None = None
    ) -> SecondFactorResult:
        """See :meth:`MfaService.verify_backup_code`."""
        check_user_id(user_id)
        context = self._context
        now = context.now()
        with self._gate.attempt(user_id, org_id, now) as attempt:
            self._gate.charge(attempt, "backup_code")
            records = [
                backup_codes.BackupCodeRecord(
                    code_id=c.code_id, hash=c.hash, consumed_at=c.consumed_at
                )
                for c in self._gate.factors(attempt).backup_codes
            ]
            code_id = backup_codes.verify(code, records, hasher=context.settings.backup_code_hasher)
            if code_id is None:
                self._gate.after_failure(attempt, "backup_code")
                raise InvalidCodeError
            # The consume and the "few codes left" notice commit together (outbox).
            with context.transaction():
                consumed = context.store.consume_backup_code(user_id, code_id, now=now)
                if consumed:
                    # Counted again after the atomic consume: codes used concurrently count too.
                    remaining = context.store.count_unused_backup_codes(user_id)
                    self._backup.warn_if_low(user_id, remaining, now)
            if not consumed:
                self._gate.after_failure(attempt, "backup_code")
                raise ReplayedCodeError
            result = self._gate.after_success(
                attempt, MethodKind.BACKUP_CODES, backup_codes_unused=remaining
            )
        return dataclasses.replace(result, backup_codes_remaining=remaining)
