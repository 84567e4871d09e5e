"""The parts of the per-user state and of trusted browsers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Case, F, Q, Value, When

from mfa_django.models import StoredTrustedBrowser, Throttle, UserState, utc_of
from mfa_django.store._context import DjangoContext
from mfakit.repositories import TrustedBrowser
from mfakit.stores._common import check_keys, check_trusted_browser, utc

__all__ = ["DjangoTrustedBrowsers", "DjangoUserState"]


class DjangoUserState:
    """:class:`~mfakit.repositories.UserStateRepository` on the ORM."""

    def __init__(self, ctx: DjangoContext) -> None:
        self._ctx = ctx

    def _stamp(self, user_id: str, field: str, at: datetime) -> None:
        """Move ``field`` of the user's row to ``at``, never backwards (creating the row)."""
        rows = UserState.objects.using(self._ctx.using).filter(user_id=user_id)
        later = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": at})
        self._ctx.upsert(
            lambda: rows.update(**{field: Case(When(later, then=Value(at)), default=F(field))}),
            lambda: UserState.objects.using(self._ctx.using).create(user_id=user_id, **{field: at}),
        )

    def record_second_factor(
        self, user_id: str, *, at: datetime, reset_keys: Sequence[str] = ()
    ) -> datetime:
        """See :meth:`mfakit.repositories.UserStateRepository.record_second_factor`.

        One write transaction: the counters' ``delete()`` and the stamp's upsert.
        """
        when = utc(at)
        unique = check_keys(reset_keys)

        def record() -> datetime:
            if unique:
                Throttle.objects.using(self._ctx.using).filter(key__in=unique).delete()
            self._stamp(user_id, "last_mfa_at", when)
            row = UserState.objects.using(self._ctx.using).get(user_id=user_id)
            return utc_of(row.last_mfa_at)

        return self._ctx.run(record, write=True)

    def record_factor_change(self, user_id: str, *, at: datetime) -> int:
        """See :meth:`mfakit.repositories.UserStateRepository.record_factor_change`.

        One write transaction: the time's upsert and the trusted browsers' ``delete()``.
        """
        when = utc(at)

        def record() -> int:
            self._stamp(user_id, "factors_changed_at", when)
            browsers = StoredTrustedBrowser.objects.using(self._ctx.using)
            deleted, _ = browsers.filter(user_id=user_id).delete()
            return int(deleted)

        return self._ctx.run(record, write=True)


class DjangoTrustedBrowsers:
    """:class:`~mfakit.repositories.TrustedBrowserRepository` on the ORM."""

    def __init__(self, ctx: DjangoContext) -> None:
        self._ctx = ctx

    def _rows(self) -> Any:
        return StoredTrustedBrowser.objects.using(self._ctx.using)

    def add_trusted_browser(self, browser: TrustedBrowser) -> None:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.add_trusted_browser`."""
        row = StoredTrustedBrowser.from_record(check_trusted_browser(browser))
        self._ctx.run(lambda: row.save(using=self._ctx.using, force_insert=True), write=True)

    def get_trusted_browser(self, token_hash: bytes) -> TrustedBrowser | None:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.get_trusted_browser`."""
        row = self._ctx.run(lambda: self._rows().filter(token_hash=bytes(token_hash)).first())
        return None if row is None else row.to_record()

    def touch_trusted_browser(self, token_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.touch_trusted_browser`."""
        at = utc(now)
        later = Q(last_used_at__isnull=True) | Q(last_used_at__lt=at)
        changed = self._ctx.run(
            lambda: (
                self._rows()
                .filter(token_id=token_id)
                .update(last_used_at=Case(When(later, then=Value(at)), default=F("last_used_at")))
            ),
            write=True,
        )
        return bool(changed > 0)

    def list_trusted_browsers(self, user_id: str) -> tuple[TrustedBrowser, ...]:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.list_trusted_browsers`."""
        rows = self._ctx.run(
            lambda: list(self._rows().filter(user_id=user_id).order_by("created_at", "token_id"))
        )
        return tuple(r.to_record() for r in rows)

    def revoke_trusted_browser(self, user_id: str, token_id: str) -> bool:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.revoke_trusted_browser`."""
        deleted, _ = self._ctx.run(
            lambda: self._rows().filter(user_id=user_id, token_id=token_id).delete(), write=True
        )
        return bool(deleted > 0)

    def revoke_trusted_browsers(self, user_id: str) -> int:
        """See :meth:`mfakit.repositories.TrustedBrowserRepository.revoke_trusted_browsers`."""
        deleted, _ = self._ctx.run(
            lambda: self._rows().filter(user_id=user_id).delete(), write=True
        )
        return int(deleted)

    def purge_expired_trusted_browsers(self, *, now: datetime) -> int:
        """See
        :meth:`mfakit.repositories.TrustedBrowserRepository.purge_expired_trusted_browsers`.
        """
        at = utc(now)
        deleted, _ = self._ctx.run(
            lambda: self._rows().filter(expires_at__lte=at).delete(), write=True
        )
        return int(deleted)
