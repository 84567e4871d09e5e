"""Running synchronous service calls on a bounded thread pool, from asyncio.

:class:`ServiceExecutor` is what :class:`~mfakit.service.AsyncMfaService` awaits:
each call is one job on a :class:`~concurrent.futures.ThreadPoolExecutor`, so
store I/O and Argon2 never run on the event loop, and at most ``max_workers``
calls run at once (the rest wait in the executor's queue).

Cancellation never leaves a call half-done. A job is either never started
or run to its end:

* cancelled while it waits in the queue, the job is withdrawn and never runs;
* cancelled once a worker has started it, the job runs to completion (its
  store transaction commits or rolls back as a whole), and the caller's
  :class:`asyncio.CancelledError` is raised when it has finished. Its result
  or error is dropped.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from mfakit.errors import ConfigurationError

__all__ = ["DEFAULT_MAX_WORKERS", "ServiceExecutor"]

P = ParamSpec("P")
T = TypeVar("T")

#: Worker threads of an executor the async service makes itself.
DEFAULT_MAX_WORKERS = 8
_MAX_WORKERS_LIMIT = 1024


class ServiceExecutor:
    """A bounded thread pool that runs synchronous calls for coroutines.

    Args:
        executor: The host's own thread pool; it is not shut down by
            :meth:`aclose`. By default a pool is made, and owned.
        max_workers: The size of the pool made here (1 to 1024, default
            :data:`DEFAULT_MAX_WORKERS`); not with ``executor``.

    Raises:
        ConfigurationError: ``max_workers`` is out of range, given with
            ``executor``, or ``executor`` is not a thread pool.
    """

    __slots__ = ("_closed", "_executor", "_owned")

    def __init__(
        self, *, executor: ThreadPoolExecutor | None = None, max_workers: int | None = None
    ) -> None:
        if executor is not None:
            if max_workers is not None:
                raise ConfigurationError("give either executor or max_workers, not both")
            if not isinstance(executor, ThreadPoolExecutor):
                raise ConfigurationError("executor must be a concurrent.futures.ThreadPoolExecutor")
            self._executor = executor
            self._owned = False
        else:
            size = DEFAULT_MAX_WORKERS if max_workers is None else max_workers
            if (
                isinstance(size, bool)
                or not isinstance(size, int)
                or not 1 <= size <= _MAX_WORKERS_LIMIT
            ):
                raise ConfigurationError(
                    f"max_workers must be an int from 1 to {_MAX_WORKERS_LIMIT}"
                )
            self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="mfakit-async")
            self._owned = True
        self._closed = False

    @property
    def owned(self) -> bool:
        """Whether the pool was made here (and is shut down by :meth:`aclose`)."""
        return self._owned

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on a worker thread and return its result.

        The caller's context variables are copied to the worker, as
        :func:`asyncio.to_thread` does.

        Raises:
            ConfigurationError: :meth:`aclose` was called, or the host's
                executor was shut down.
            asyncio.CancelledError: the caller was cancelled; the job either
                never started or has finished (see the module docstring).
            Exception: whatever ``fn`` raises.
        """
        if self._closed:
            raise ConfigurationError("the async service is closed")
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        try:
            job: Future[T] = self._executor.submit(call)
        except RuntimeError as exc:  # the host shut its executor down
            raise ConfigurationError("the executor is shut down") from exc
        waiter = asyncio.wrap_future(job)
        try:
            # Shielded: cancelling the caller must not cancel the waiter, whose
            # cancellation would be passed on to a job that may already run.
            return await asyncio.shield(waiter)
        except asyncio.CancelledError:
            # Succeeds only while the job is queued: a worker then never starts it.
            if job.cancel():
                raise
            await _run_to_completion(waiter)
            raise

    async def aclose(self) -> None:
        """Refuse new calls; shut an owned pool down once its queued and running jobs are done.

        A host's executor is left running. Calling it again does nothing.
        """
        if self._closed:
            return
        self._closed = True
        if self._owned:
            # shutdown(wait=True) blocks until the jobs end: not on the event loop.
            await asyncio.to_thread(self._executor.shutdown, wait=True)


async def _run_to_completion(waiter: asyncio.Future[T]) -> None:
    """Wait until a started job ends, through any further cancellation; drop its outcome."""
    while not waiter.done():
        try:
            await asyncio.wait((waiter,))
        except asyncio.CancelledError:
            # Cancelled again: the job still runs. The caller's first
            # cancellation is raised once it has ended.
            continue
    if not waiter.cancelled():
        waiter.exception()  # retrieved, so asyncio does not log it as lost
