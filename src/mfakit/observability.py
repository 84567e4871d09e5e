"""Logging and metrics: the logger names mfakit writes to, and the metrics port.

mfakit logs with the standard :mod:`logging` module under the ``mfakit``
logger, which has a :class:`logging.NullHandler` and nothing else: the
application decides where records go (mfakit never configures the root
logger). The loggers:

* ``mfakit.service.security`` (:data:`SECURITY_LOGGER`): one record per
  security event, from the same path that writes the audit event, with
  ``mfa_*`` fields in ``extra`` (see the observability guide).
* ``mfakit.store`` (:data:`STORE_LOGGER`): store calls slower than
  ``ServiceSettings.slow_store_call``.
* ``mfakit.metrics`` (:data:`METRICS_LOGGER`): a :class:`Metrics` backend
  that raised (the call it measured goes on).

Metrics go to a :class:`Metrics` object given to
:class:`~mfakit.service.MfaService` (``metrics=``); by default
:data:`NO_METRICS`, which does nothing and costs nothing. The names it
receives are the ``*_METRIC`` constants below; tags never hold user or
organization ids (their cardinality is unbounded).

This module imports nothing else of mfakit, so a store, the command line or
the core could use it without importing the service.

Example::

    class StatsdMetrics:
        def __init__(self, client):
            self._client = client

        def increment(self, name, value=1, *, tags):
            self._client.incr(name, value, tags=[f"{k}:{v}" for k, v in tags.items()])

        def timing(self, name, seconds, *, tags):
            self._client.timing(name, seconds * 1000, tags=[f"{k}:{v}" for k, v in tags.items()])

    service = MfaService(..., metrics=StatsdMetrics(statsd))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

__all__ = [
    "METRICS_LOGGER",
    "Metrics",
    "NO_METRICS",
    "NullMetrics",
    "SECURITY_EVENTS_METRIC",
    "SECURITY_LOGGER",
    "SERVICE_CALL_METRIC",
    "SLOW_STORE_CALLS_METRIC",
    "STORE_CALL_METRIC",
    "STORE_LOGGER",
]

#: The logger of security events (sign-ins, throttling, locks, method and policy changes).
SECURITY_LOGGER = "mfakit.service.security"
#: The logger of slow store calls.
STORE_LOGGER = "mfakit.store"
#: The logger of a failing :class:`Metrics` backend.
METRICS_LOGGER = "mfakit.metrics"

#: Counter, one per security event; tags ``action``, ``outcome``, ``factor``.
SECURITY_EVENTS_METRIC = "mfakit.security_events"
#: Timing of each public :class:`~mfakit.service.MfaService` call, in
#: seconds; tags ``operation`` (the method's name) and ``outcome``
#: (``success`` or the exception's class name).
SERVICE_CALL_METRIC = "mfakit.service.call"
#: Timing of each store call the service makes, in seconds; tags
#: ``operation`` (the port method's name) and ``outcome``.
STORE_CALL_METRIC = "mfakit.store.call"
#: Counter, one per store call slower than ``slow_store_call``; tag ``operation``.
SLOW_STORE_CALLS_METRIC = "mfakit.store.slow_calls"


@runtime_checkable
class Metrics(Protocol):
    """Where mfakit sends counters and timings: implement it over your metrics library.

    Both methods are called on the request path: keep them fast and
    non-blocking. An exception they raise is logged on ``mfakit.metrics``
    and otherwise ignored.
    """

    def increment(self, name: str, value: int = 1, *, tags: Mapping[str, str]) -> None:
        """Add ``value`` to the counter ``name`` with these tags."""
        ...

    def timing(self, name: str, seconds: float, *, tags: Mapping[str, str]) -> None:
        """Record one duration of ``seconds`` in the distribution ``name`` with these tags."""
        ...


class NullMetrics:
    """Metrics that go nowhere (the default).

    The service recognizes it and skips the timing work altogether.
    """

    __slots__ = ()

    def increment(self, name: str, value: int = 1, *, tags: Mapping[str, str]) -> None:
        """Do nothing."""

    def timing(self, name: str, seconds: float, *, tags: Mapping[str, str]) -> None:
        """Do nothing."""

    def __repr__(self) -> str:
        return "NullMetrics()"


#: The default :class:`Metrics`: records nothing.
NO_METRICS = NullMetrics()
