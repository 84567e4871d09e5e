"""Store adapters: the repository ports implemented for real storage.

* :mod:`mfakit.stores.memory` -- :class:`~mfakit.stores.memory.MemoryStore`,
  thread-safe, in process memory (tests, small single-process apps).
* :mod:`mfakit.stores.sqlite` -- :class:`~mfakit.stores.sqlite.SQLiteStore`,
  the embedded default (stdlib ``sqlite3``).
* :mod:`mfakit.stores.postgres` -- :class:`~mfakit.stores.postgres.PostgresStore`,
  for many application servers sharing one database (``mfakit[postgres]``).

Each adapter is imported from its own module, so using SQLite never imports
the PostgreSQL driver.
"""

from __future__ import annotations

__all__: list[str] = []
