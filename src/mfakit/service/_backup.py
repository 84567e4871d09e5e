"""Backup codes: issue with a TOTP, regenerate, count, warn when few are left."""

from __future__ import annotations

from datetime import datetime

from mfakit import backup_codes
from mfakit.errors import NotFoundError
from mfakit.policy import MethodKind, SensitiveAction, evaluate_sensitive_action
from mfakit.repositories import BackupCode
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory, UserFactors
from mfakit.service._factor_changes import FactorChanges
from mfakit.service._facts import BACKUP_METHOD_ID, principal_of
from mfakit.service._notify import BackupCodesLow, MethodAdded
from mfakit.service._results import Advice, BackupCodeSet, BackupCodeStatus
from mfakit.service._settings import check_user_id
from mfakit.service._step_up import StepUp

__all__ = ["BackupCodeFlow"]


class BackupCodeFlow:
    """Backup code sets: generated here, consumed at sign-in (see the second-factor flow).

    Depends on the context, the directory, the step-up (new codes replace a
    method) and the factor changes.
    """

    def __init__(
        self,
        *,
        context: ServiceContext,
        directory: Directory,
        step_up: StepUp,
        factor_changes: FactorChanges,
    ) -> None:
        self._context = context
        self._directory = directory
        self._step_up = step_up
        self._factor_changes = factor_changes

    def generate(self) -> backup_codes.GeneratedCodes:
        """A fresh set, hashed; call it before any transaction opens."""
        # Hashing is slow by design: done before any transaction opens.
        settings = self._context.settings
        return backup_codes.generate(settings.backup_code_count, hasher=settings.backup_code_hasher)

    def store(
        self, user_id: str, fresh: backup_codes.GeneratedCodes, now: datetime
    ) -> BackupCodeSet:
        """Replace the user's stored set with ``fresh``; return the codes to show once."""
        context = self._context
        context.store.replace_backup_codes(
            user_id,
            [
                BackupCode(user_id=user_id, code_id=r.code_id, hash=r.hash, created_at=now)
                for r in fresh.records
            ],
        )
        context.audit(
            "backup_codes.generated", at=now, user_id=user_id, details={"count": len(fresh.codes)}
        )
        return BackupCodeSet(codes=fresh.codes, created_at=now)

    def _primary_count(self, user_id: str, factors: UserFactors | None = None) -> int:
        if factors is None:
            factors = self._directory.factors(user_id)
        return sum(1 for m in factors.methods if m.id != BACKUP_METHOD_ID)

    def drop_if_alone(self, user_id: str) -> int:
        """Delete the backup codes when no other factor is left; return the factors left."""
        left = self._primary_count(user_id)
        if left == 0:
            self._context.store.delete_backup_codes(user_id)
        return left

    def advice(
        self, user_id: str, factors: UserFactors | None = None, *, unused: int | None = None
    ) -> tuple[Advice, ...]:
        """What the user should do next: add a second method, renew their codes.

        Args:
            user_id: The user.
            factors: The user's factors if the caller read them (else read here, once).
            unused: The unused backup codes if they changed since ``factors`` was read.
        """
        if factors is None:
            factors = self._directory.factors(user_id)
        advice: list[Advice] = []
        if self._primary_count(user_id, factors) == 1:
            advice.append(Advice.ADD_SECOND_METHOD)
        remaining = factors.unused_backup_codes if unused is None else unused
        if factors.backup_codes and self._low(remaining):
            advice.append(Advice.BACKUP_CODES_LOW)
        return tuple(advice)

    def _low(self, remaining: int) -> bool:
        return remaining <= self._context.settings.backup_codes_low

    def warn_if_low(self, user_id: str, remaining: int, now: datetime) -> None:
        """Send :class:`BackupCodesLow` when ``remaining`` is at or under the threshold."""
        if self._low(remaining):
            self._context.send(BackupCodesLow(user_id=user_id, remaining=remaining), at=now)

    def regenerate_backup_codes(self, user_id: str) -> BackupCodeSet:
        """See :meth:`MfaService.regenerate_backup_codes`."""
        check_user_id(user_id)
        context = self._context
        now = context.now()
        factors = self._directory.factors(user_id)
        methods = factors.methods
        if not any(m.id != BACKUP_METHOD_ID for m in methods):
            raise NotFoundError("set up a second factor before generating backup codes")
        action = SensitiveAction.REGENERATE_BACKUP_CODES
        self._step_up.require_for_method_change(user_id, action, factors, now)
        # Each organization also judges the member (a locked member is refused).
        for ctx, m in self._directory.member_contexts(user_id):
            evaluate_sensitive_action(
                ctx.policy,
                ctx.state,
                principal=principal_of(m, methods, last_mfa_at=factors.last_mfa_at),
                action=action,
                now=now,
            ).require_allowed()
        fresh = self.generate()
        # The new codes, the factor change and the notice commit together (outbox).
        with context.transaction():
            codes = self.store(user_id, fresh, now)
            self._factor_changes.record(user_id, at=now, reason="backup_codes.regenerated")
            context.send(MethodAdded(user_id=user_id, method=MethodKind.BACKUP_CODES.value), at=now)
        return codes

    def backup_code_status(self, user_id: str) -> BackupCodeStatus:
        """See :meth:`MfaService.backup_code_status`."""
        check_user_id(user_id)
        codes = self._context.store.list_backup_codes(user_id)
        remaining = sum(1 for c in codes if c.consumed_at is None)
        return BackupCodeStatus(
            total=len(codes), remaining=remaining, low=bool(codes) and self._low(remaining)
        )
