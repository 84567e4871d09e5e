"""Backup codes waiting for their one display (examples/console/reveal.py): expired sets are
purged on every keep and take, a fresh set is shown exactly once."""

from __future__ import annotations

import re
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from console.reveal import TTL, CodesToShow, ShownOnce
from console_http_helpers import BASE, post, set_up_totp, sign_up

CODES = ("AAAA-BBBB", "CCCC-DDDD")


class Clock:
    """A clock the test moves by hand, in seconds."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _waiting(path: Path) -> list[str]:
    """The users whose codes are still in the table, read straight from the file."""
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT user_id FROM console_codes_to_show ORDER BY user_id")
        return [row[0] for row in rows]


@pytest.fixture
def clock() -> Clock:
    """The time the store sees."""
    return Clock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """The SQLite file."""
    return tmp_path / "codes.sqlite3"


def test_keep_purges_sets_older_than_the_ttl(path: Path, clock: Clock) -> None:
    """A set nobody took is deleted by the next keep once it is older than the TTL."""
    shown = ShownOnce(path, clock=clock)
    shown.keep("u-abandoned", title="TOTP is now enabled", codes=CODES)
    clock.now += TTL / 2
    shown.keep("u-half", title="New backup codes", codes=CODES)
    assert _waiting(path) == ["u-abandoned", "u-half"]
    clock.now += TTL / 2 + 1
    shown.keep("u-fresh", title="New backup codes", codes=CODES)
    assert _waiting(path) == ["u-fresh", "u-half"]


def test_take_purges_sets_older_than_the_ttl(path: Path, clock: Clock) -> None:
    """A take, even of another user's codes (or of none), deletes the expired sets."""
    shown = ShownOnce(path, clock=clock)
    shown.keep("u-abandoned", title="TOTP is now enabled", codes=CODES)
    clock.now += TTL + 1
    assert shown.take("u-nobody") is None
    assert _waiting(path) == []


def test_expired_set_is_not_shown(path: Path, clock: Clock) -> None:
    """Its own user's take finds nothing once the set waited longer than the TTL."""
    shown = ShownOnce(path, clock=clock)
    shown.keep("u-late", title="TOTP is now enabled", codes=CODES)
    clock.now += TTL + 1
    assert shown.take("u-late") is None


def test_fresh_set_is_shown_exactly_once(path: Path, clock: Clock) -> None:
    """A set within the TTL is taken once, with its title and codes; then it is gone."""
    shown = ShownOnce(path, clock=clock)
    shown.keep("u-old", title="TOTP is now enabled", codes=CODES)
    clock.now += TTL + 1
    shown.keep("u-ada", title="New backup codes", codes=CODES)
    clock.now += TTL - 1
    assert shown.take("u-ada") == CodesToShow(title="New backup codes", codes=CODES)
    assert shown.take("u-ada") is None
    assert _waiting(path) == []


def test_codes_never_shown_leave_the_console_file(app: Any, tmp_path: Path) -> None:
    """Through the console: codes whose page was never opened are gone from its file once
    older than the TTL; another user's fresh codes are shown once."""
    database = tmp_path / "console.sqlite3"
    olivia = app.test_client()
    sign_up(olivia, "olivia@example.com", "Olivia")
    set_up_totp(olivia)  # the redirect to the codes is not followed
    (abandoned,) = _waiting(database)
    with closing(sqlite3.connect(database)) as db, db:
        db.execute("UPDATE console_codes_to_show SET created_at = ?", (time.time() - TTL - 1,))

    ada = app.test_client()
    sign_up(ada, "ada@example.com", "Ada")
    set_up_totp(ada)
    waiting = _waiting(database)
    assert abandoned not in waiting
    assert len(waiting) == 1
    shown = ada.get(BASE + "/account/backup-codes/new")
    assert shown.status_code == 200
    assert len(re.findall(r"<li><code>[^<]+</code></li>", shown.text)) == 10
    again = ada.get(BASE + "/account/backup-codes/new")
    assert again.status_code == 302
    assert _waiting(database) == []
    # A new set for Olivia is hers to see again (her old one expired unseen).
    regenerated = post(olivia, "/account/backup-codes", page="/account/security")
    assert regenerated.headers["Location"] == "/account/backup-codes/new"
    assert olivia.get(BASE + "/account/backup-codes/new").status_code == 200
