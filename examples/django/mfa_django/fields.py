"""A text key that sorts in byte order on every database."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


class KeyField(models.TextField):  # type: ignore[type-arg]
    """Text that listings page through: compared and sorted in code-point order.

    mfakit's keyset cursors compare keys the way Python compares ``str``. SQLite's
    default ``BINARY`` collation does; a PostgreSQL database created with a
    linguistic locale does not, so the column gets the ``"C"`` collation there
    (the SQL store's ``TEXT COLLATE "C"``). ``db_collation`` cannot say this: it
    names one collation for every database.
    """

    def db_parameters(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        params: dict[str, Any] = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
