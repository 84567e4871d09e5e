"""Running asyncio code from tests that share a process with playwright's sync API.

playwright's sync API, used by the session's browser fixture, keeps an event
loop running on the main thread, where ``asyncio.run`` then refuses to start:
the tests run their loops on a new thread instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def in_fresh_thread(function: Callable[[], T]) -> T:
    """Call ``function`` on a new thread: free of an event loop the main thread may run."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(function).result()


def run_async(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())`` on a new thread (see :func:`in_fresh_thread`)."""
    return in_fresh_thread(lambda: asyncio.run(main()))
