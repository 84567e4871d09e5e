"""Shared by the FastAPI example's tests: the app's settings and how to import it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from argon2 import PasswordHasher

from mfakit.backup_codes import CHEAP_FOR_TESTS, Hasher
from mfakit.service import ServiceSettings

# The example is a package named apart from ``fastapi`` itself, in examples/fastapi.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "fastapi"))

ORIGIN = "http://localhost:8000"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
CHEAP_PASSWORDS = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
SETTINGS = ServiceSettings(backup_code_hasher=Hasher(profile=CHEAP_FOR_TESTS))
T = TypeVar("T")


def in_fresh_thread(function: Callable[[], T]) -> T:
    """Call ``function`` on a new thread: free of an event loop the main thread may run.

    (playwright's sync API, used by the session's browser tests, keeps a loop
    running on the main thread, where ``asyncio.run`` then refuses to start.)
    """
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(function).result()


def run_async(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())`` on a new thread (see :func:`in_fresh_thread`)."""
    return in_fresh_thread(lambda: asyncio.run(main()))
