"""Backup codes waiting to be shown once, kept in the console's SQLite file.

After a set-up or a new set, the page that posted is answered with a
redirect (post/redirect/get), so a reload never posts again. The codes wait
here for that redirect's page, which takes them: a second display finds
nothing. They wait a few minutes at most (:data:`TTL`): every keep and take
first deletes the codes that waited longer, whoever they were for, so that
codes whose page was never opened do not stay in the file. mfakit itself
keeps only their hashes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS console_codes_to_show (
    user_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    codes TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""
#: How long codes wait for their page, in seconds.
TTL = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CodesToShow:
    """A set of backup codes and the page's title."""

    title: str
    codes: tuple[str, ...]


class ShownOnce:
    """Each user's backup codes waiting for their one display."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._clock = clock
        with self._connect() as db, db:
            db.executescript(_SCHEMA)

    def _connect(self) -> closing[sqlite3.Connection]:
        # Used as `with self._connect() as db, db:` - closed after the commit (or rollback).
        return closing(sqlite3.connect(self._path, timeout=10.0))

    def _purge(self, db: sqlite3.Connection) -> float:
        """Delete every set that waited longer than :data:`TTL` (one statement); the time now."""
        now = self._clock()
        db.execute("DELETE FROM console_codes_to_show WHERE created_at < ?", (now - TTL,))
        return now

    def keep(self, user_id: str, *, title: str, codes: tuple[str, ...]) -> None:
        """Keep the codes for their display (replacing codes not shown yet)."""
        with self._connect() as db, db:
            now = self._purge(db)
            db.execute(
                "INSERT INTO console_codes_to_show VALUES (?, ?, ?, ?) ON CONFLICT(user_id) "
                "DO UPDATE SET title = excluded.title, codes = excluded.codes, "
                "created_at = excluded.created_at",
                (user_id, title, json.dumps(list(codes)), now),
            )

    def take(self, user_id: str) -> CodesToShow | None:
        """The user's codes, removed in the same statement: only one caller ever gets them."""
        with self._connect() as db, db:
            self._purge(db)
            row = db.execute(
                "DELETE FROM console_codes_to_show WHERE user_id = ? RETURNING title, codes",
                (user_id,),
            ).fetchone()
        if row is None:
            return None
        return CodesToShow(title=row[0], codes=tuple(json.loads(row[1])))
