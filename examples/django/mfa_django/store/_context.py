"""What every part of :class:`~mfa_django.store.DjangoStore` shares: its database and transactions.

Each port call runs through :meth:`DjangoContext.run`: writes in
``transaction.atomic()`` (a savepoint inside an open block, so a failed call
leaves the block usable), reads as they come, and Django's database errors
become mfakit's (a unique violation :class:`~mfakit.errors.DuplicateError`,
anything else :class:`~mfakit.errors.StoreError`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db import DatabaseError, IntegrityError, connections, transaction

from mfakit.errors import DuplicateError, MfaError, StoreError

__all__ = ["DjangoContext"]

#: How often an upsert retries after losing its insert to a concurrent one.
_UPSERT_TRIES = 5

T = TypeVar("T")


class DjangoContext:
    """The database alias of a store, its transactions and its error translation.

    Args:
        using: The alias in ``settings.DATABASES``.
    """

    __slots__ = ("closed", "using")

    def __init__(self, using: str) -> None:
        self.using = using
        self.closed = False

    @property
    def vendor(self) -> str:
        """``"postgresql"``, ``"sqlite"``...: the few queries that differ ask it."""
        return str(connections[self.using].vendor)

    def _check_open(self) -> None:
        if self.closed:
            raise StoreError("the store is closed")

    def run(self, fn: Callable[[], T], *, write: bool = False, snapshot: bool = False) -> T:
        """Run one port call: ``write`` in ``atomic()``, ``snapshot`` in one read transaction.

        A snapshot outside a block is a ``REPEATABLE READ`` transaction on
        PostgreSQL (its default, ``READ COMMITTED``, gives each query its own
        snapshot); SQLite's transactions always read one snapshot.
        """
        self._check_open()
        try:
            if not (write or snapshot):
                return fn()
            outermost = not connections[self.using].in_atomic_block
            with transaction.atomic(using=self.using):
                if snapshot and outermost and self.vendor == "postgresql":
                    with connections[self.using].cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                return fn()
        except MfaError:
            raise
        except IntegrityError as exc:
            raise DuplicateError("the record already exists; nothing was written") from exc
        except DatabaseError as exc:
            raise StoreError("the database failed") from exc

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """See :meth:`mfakit.repositories.MfaStore.atomic`: ``transaction.atomic()`` itself."""
        self._check_open()
        try:
            with transaction.atomic(using=self.using):
                yield
        except IntegrityError as exc:
            raise DuplicateError("the record already exists; nothing was written") from exc
        except DatabaseError as exc:
            raise StoreError("the database failed") from exc

    def upsert(self, update: Callable[[], int], insert: Callable[[], object]) -> None:
        """Update a row, or insert it if there is none: an upsert whose update the ORM can guard.

        ``update`` is a ``QuerySet.update()`` whose row count says whether the
        row exists; ``insert`` creates it. When a concurrent caller inserts
        first, the unique violation is undone by the insert's own savepoint
        and the update runs again, on that row. Call it inside ``atomic()``.
        (``bulk_create(update_conflicts=True)`` is an upsert too, but its
        update cannot say ``CASE`` or ``WHERE``.)
        """
        for _ in range(_UPSERT_TRIES):
            if update():
                return
            try:
                with transaction.atomic(using=self.using):
                    insert()
            except IntegrityError:
                continue
            return
        raise StoreError("the row changed under every attempt")  # pragma: no cover - livelock

    def close(self) -> None:
        """Refuse further calls. Django owns the connections and closes them itself."""
        self.closed = True
