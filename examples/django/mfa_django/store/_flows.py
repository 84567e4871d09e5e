"""The parts of short-lived state: challenges, login codes, throttling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When

from mfa_django.models import StoredChallenge, StoredLoginCode, Throttle
from mfa_django.store._context import DjangoContext
from mfakit.repositories import Challenge, LoginCode, ThrottleState
from mfakit.stores._common import check_cooldown, check_keys, normalize, utc

__all__ = ["DjangoChallenges", "DjangoLoginCodes", "DjangoThrottles"]

_LOGIN_FIELDS = [
    "code_id",
    "code_hash",
    "created_at",
    "expires_at",
    "max_attempts",
    "attempts",
    "consumed_at",
    "key_id",
]


class DjangoChallenges:
    """:class:`~mfakit.repositories.ChallengeRepository` on the ORM."""

    def __init__(self, ctx: DjangoContext) -> None:
        self._ctx = ctx

    def _rows(self) -> Any:
        return StoredChallenge.objects.using(self._ctx.using)

    def put_challenge(self, challenge: Challenge) -> None:
        """See :meth:`mfakit.repositories.ChallengeRepository.put_challenge`."""
        row = StoredChallenge.from_record(normalize(challenge))
        self._ctx.run(lambda: row.save(using=self._ctx.using, force_insert=True), write=True)

    def pop_challenge(self, challenge_id: str, now: datetime) -> Challenge | None:
        """See :meth:`mfakit.repositories.ChallengeRepository.pop_challenge`.

        No ``DELETE ... RETURNING`` in the ORM: read the row, then delete it;
        of concurrent callers only the one whose ``delete()`` counts the row
        gets it (compare-and-delete, no lock).
        """
        at = utc(now)

        def pop() -> StoredChallenge | None:
            rows = self._rows().filter(challenge_id=challenge_id)
            row = rows.first()
            if row is None or rows.delete()[0] != 1:
                return None
            return row  # type: ignore[no-any-return]

        row = self._ctx.run(pop, write=True)
        if row is None or utc(row.expires_at) <= at:
            return None
        return row.to_record()

    def purge_expired_challenges(self, *, now: datetime) -> int:
        """See :meth:`mfakit.repositories.ChallengeRepository.purge_expired_challenges`."""
        at = utc(now)
        deleted, _ = self._ctx.run(
            lambda: self._rows().filter(expires_at__lte=at).delete(), write=True
        )
        return int(deleted)


class DjangoLoginCodes:
    """:class:`~mfakit.repositories.LoginCodeRepository` on the ORM."""

    def __init__(self, ctx: DjangoContext) -> None:
        self._ctx = ctx

    def _rows(self) -> Any:
        return StoredLoginCode.objects.using(self._ctx.using)

    def put_login_code(self, code: LoginCode) -> None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.put_login_code`.

        ``bulk_create(update_conflicts=True)``: one ``INSERT ... ON CONFLICT
        DO UPDATE`` on both databases.
        """
        row = StoredLoginCode.from_record(normalize(code))
        self._ctx.run(
            lambda: self._rows().bulk_create(
                [row], update_conflicts=True, unique_fields=["subject"], update_fields=_LOGIN_FIELDS
            ),
            write=True,
        )

    def put_login_code_if_cooled_down(self, code: LoginCode, *, cooldown: timedelta) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.put_login_code_if_cooled_down`.

        The ORM's upsert cannot guard its update (``ON CONFLICT DO UPDATE ...
        WHERE``), so: a guarded ``update()`` of an old enough code, else an
        insert that a unique violation refuses. Of concurrent callers the
        first update locks the row and changes ``created_at``; the others'
        updates then match nothing (PostgreSQL re-checks the guard on the new
        row) and their inserts collide.
        """
        check_cooldown(cooldown)
        record = normalize(code)
        row = StoredLoginCode.from_record(record)
        bound = record.created_at - cooldown
        values = {f: getattr(row, f) for f in _LOGIN_FIELDS}

        def put() -> bool:
            if self._rows().filter(subject=record.subject, created_at__lte=bound).update(**values):
                return True
            try:
                with transaction.atomic(using=self._ctx.using):
                    row.save(using=self._ctx.using, force_insert=True)
            except IntegrityError:
                return False
            return True

        return self._ctx.run(put, write=True)

    def get_login_code(self, subject: str) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.get_login_code`."""
        row = self._ctx.run(lambda: self._rows().filter(subject=subject).first())
        return None if row is None else row.to_record()

    def record_login_code_attempt(
        self, subject: str, code_id: str, *, now: datetime
    ) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.record_login_code_attempt`.

        A guarded ``update()`` counts the attempt; the row it locked is read
        back in the same transaction (no ``RETURNING`` in the ORM).
        """
        at = utc(now)

        def attempt() -> LoginCode | None:
            rows = self._rows().filter(subject=subject, code_id=code_id)
            counted = rows.filter(
                consumed_at__isnull=True, expires_at__gt=at, attempts__lt=F("max_attempts")
            ).update(attempts=F("attempts") + 1)
            return rows.get().to_record() if counted == 1 else None

        return self._ctx.run(attempt, write=True)

    def consume_login_code(self, subject: str, code_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.consume_login_code`."""
        at = utc(now)
        changed = self._ctx.run(
            lambda: (
                self._rows()
                .filter(
                    subject=subject, code_id=code_id, consumed_at__isnull=True, expires_at__gt=at
                )
                .update(consumed_at=at)
            ),
            write=True,
        )
        return bool(changed == 1)

    def delete_login_code(self, subject: str) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.delete_login_code`."""
        deleted, _ = self._ctx.run(
            lambda: self._rows().filter(subject=subject).delete(), write=True
        )
        return bool(deleted == 1)

    def purge_expired_login_codes(self, *, now: datetime) -> int:
        """See :meth:`mfakit.repositories.LoginCodeRepository.purge_expired_login_codes`."""
        at = utc(now)
        deleted, _ = self._ctx.run(
            lambda: self._rows().filter(Q(expires_at__lte=at) | Q(consumed_at__lte=at)).delete(),
            write=True,
        )
        return int(deleted)


class DjangoThrottles:
    """:class:`~mfakit.repositories.ThrottleRepository` on the ORM."""

    def __init__(self, ctx: DjangoContext) -> None:
        self._ctx = ctx

    def _rows(self) -> Any:
        return Throttle.objects.using(self._ctx.using)

    def get_throttle(self, key: str) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.get_throttle`."""
        row = self._ctx.run(lambda: self._rows().filter(key=key).first())
        return ThrottleState(key=key) if row is None else row.to_record()

    def get_throttles(self, keys: Sequence[str]) -> Mapping[str, ThrottleState]:
        """See :meth:`mfakit.repositories.ThrottleRepository.get_throttles`."""
        unique = check_keys(keys)
        if not unique:
            return {}
        rows = self._ctx.run(lambda: list(self._rows().filter(key__in=unique)))
        found = {r.key: r.to_record() for r in rows}
        return {k: found.get(k) or ThrottleState(key=k) for k in unique}

    def record_failure(
        self, key: str, now: datetime, *, window: timedelta | None = None
    ) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.record_failure`.

        An ``update()`` whose ``CASE`` restarts an old window, else an insert
        (see ``DjangoContext.upsert``); then the row it locked is read back.
        """
        at = utc(now)
        # A window restarts the count when the first failure is older than it.
        restart = Q(first_failure_at__isnull=True)
        if window is not None:
            restart |= Q(first_failure_at__lt=at - window)
        rows = self._rows().filter(key=key)

        def record() -> ThrottleState:
            self._ctx.upsert(
                lambda: rows.update(
                    failures=Case(When(restart, then=Value(1)), default=F("failures") + 1),
                    first_failure_at=Case(
                        When(restart, then=Value(at)), default=F("first_failure_at")
                    ),
                    last_failure_at=at,
                ),
                lambda: self._rows().create(
                    key=key, failures=1, first_failure_at=at, last_failure_at=at
                ),
            )
            return rows.get().to_record()  # type: ignore[no-any-return]

        return self._ctx.run(record, write=True)

    def lock_throttle(self, key: str, *, until: datetime) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.lock_throttle`."""
        end = utc(until)
        rows = self._rows().filter(key=key)
        longer = Q(locked_until__isnull=True) | Q(locked_until__lt=end)

        def lock() -> ThrottleState:
            self._ctx.upsert(
                lambda: rows.update(
                    locked_until=Case(When(longer, then=Value(end)), default=F("locked_until"))
                ),
                lambda: self._rows().create(key=key, failures=0, locked_until=end),
            )
            return rows.get().to_record()  # type: ignore[no-any-return]

        return self._ctx.run(lock, write=True)

    def reset_throttle(self, key: str) -> None:
        """See :meth:`mfakit.repositories.ThrottleRepository.reset_throttle`."""
        self._ctx.run(lambda: self._rows().filter(key=key).delete(), write=True)

    def reset_throttles(self, keys: Sequence[str]) -> None:
        """See :meth:`mfakit.repositories.ThrottleRepository.reset_throttles`."""
        unique = check_keys(keys)
        if unique:
            self._ctx.run(lambda: self._rows().filter(key__in=unique).delete(), write=True)
