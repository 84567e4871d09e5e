"""Backup codes: issue with a TOTP, regenerate, count, warn when few are left."""

from __future__ import annotations

from datetime import datetime

from mfakit import backup_codes
from mfakit.errors import NotFoundError
from mfakit.policy import MethodKind, SensitiveAction, evaluate_sensitive_action
from mfakit.repositories import BackupCode
from mfakit.service._facts import BACKUP_METHOD_ID, principal_of
from mfakit.service._methods import MethodPolicy
from mfakit.service._notify import BackupCodesLow, MethodAdded
from mfakit.service._results import Advice, BackupCodeSet, BackupCodeStatus
from mfakit.service._settings import check_user_id

__all__ = ["BackupCodeFlows"]


class BackupCodeFlows(MethodPolicy):
    """Backup code sets: generated here, consumed at sign-in (see the login flows)."""

    def _generate_backup_codes(self) -> backup_codes.GeneratedCodes:
        # Hashing is slow by design: done before any transaction opens.
        return backup_codes.generate(
            self._settings.backup_code_count, hasher=self._settings.backup_code_hasher
        )

    def _store_backup_codes(
        self, user_id: str, fresh: backup_codes.GeneratedCodes, now: datetime
    ) -> BackupCodeSet:
        self._store.replace_backup_codes(
            user_id,
            [
                BackupCode(user_id=user_id, code_id=r.code_id, hash=r.hash, created_at=now)
                for r in fresh.records
            ],
        )
        self._audit(
            "backup_codes.generated", at=now, user_id=user_id, details={"count": len(fresh.codes)}
        )
        return BackupCodeSet(codes=fresh.codes, created_at=now)

    def _primary_count(self, user_id: str) -> int:
        return sum(1 for m in self._methods(user_id) if m.id != BACKUP_METHOD_ID)

    def _drop_backup_codes_if_alone(self, user_id: str) -> int:
        """Delete the backup codes when no other factor is left; return the factors left."""
        left = self._primary_count(user_id)
        if left == 0:
            self._store.delete_backup_codes(user_id)
        return left

    def _advice(self, user_id: str) -> tuple[Advice, ...]:
        advice: list[Advice] = []
        if self._primary_count(user_id) == 1:
            advice.append(Advice.ADD_SECOND_METHOD)
        codes = self._store.list_backup_codes(user_id)
        if codes and self._low(sum(1 for c in codes if c.consumed_at is None)):
            advice.append(Advice.BACKUP_CODES_LOW)
        return tuple(advice)

    def _low(self, remaining: int) -> bool:
        return remaining <= self._settings.backup_codes_low

    def regenerate_backup_codes(self, user_id: str) -> BackupCodeSet:
        """Replace the user's backup codes with a new set; every old code stops working.

        Raises:
            NotFoundError: the user has no second factor (backup codes back one up).
            PolicyDeniedError: an organization requires a recent second-factor
                check first (step-up).
        """
        check_user_id(user_id)
        now = self._now()
        if self._primary_count(user_id) == 0:
            raise NotFoundError("set up a second factor before generating backup codes")
        for ctx, m in self._member_contexts(user_id):
            evaluate_sensitive_action(
                ctx.policy,
                ctx.state,
                principal=principal_of(m, self._methods(user_id)),
                action=SensitiveAction.REGENERATE_BACKUP_CODES,
                now=now,
            ).require_allowed()
        codes = self._store_backup_codes(user_id, self._generate_backup_codes(), now)
        self._send(MethodAdded(user_id=user_id, method=MethodKind.BACKUP_CODES.value), at=now)
        return codes

    def backup_code_status(self, user_id: str) -> BackupCodeStatus:
        """How many backup codes the user has, and whether they are running low."""
        check_user_id(user_id)
        codes = self._store.list_backup_codes(user_id)
        remaining = sum(1 for c in codes if c.consumed_at is None)
        return BackupCodeStatus(
            total=len(codes), remaining=remaining, low=bool(codes) and self._low(remaining)
        )

    def _warn_if_low(self, user_id: str, remaining: int, now: datetime) -> None:
        if self._low(remaining):
            self._send(BackupCodesLow(user_id=user_id, remaining=remaining), at=now)
