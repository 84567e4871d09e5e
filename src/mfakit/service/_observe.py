"""What the service tells the host's logs and metrics, from one place.

* :class:`SecurityLog` turns each audit event the service writes into one
  log record on ``mfakit.service.security`` and one count of
  ``mfakit.security_events``. The context calls it from the one path that
  writes audit events (after the transaction that wrote them commits), so
  the audit trail, the log and the counter never disagree.
* :func:`timed_store` wraps the store in a :class:`TimedStore`: each port
  call is timed; slow ones are logged on ``mfakit.store`` (method name and
  duration, never the arguments); with metrics, each is a timing. ``atomic``
  and ``close`` are passed through untouched.
* :func:`timed_calls` makes each public method of the facade report its
  duration to the metrics, and does nothing more when there are none.

Nothing here reads the event's data beyond its codes, ids and the details
that :class:`~mfakit.repositories.AuditEvent` documents as log-safe.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from time import perf_counter
from typing import Any, TypeVar, cast

from mfakit.observability import (
    METRICS_LOGGER,
    SECURITY_EVENTS_METRIC,
    SECURITY_LOGGER,
    SERVICE_CALL_METRIC,
    SLOW_STORE_CALLS_METRIC,
    STORE_CALL_METRIC,
    STORE_LOGGER,
    Metrics,
    NullMetrics,
)
from mfakit.repositories import AuditEvent, MfaStore

__all__ = [
    "PORT_METHODS",
    "SecurityLog",
    "TimedStore",
    "active_metrics",
    "factor_of",
    "level_of",
    "timed_calls",
    "timed_store",
]

_security = logging.getLogger(SECURITY_LOGGER)
_store = logging.getLogger(STORE_LOGGER)
_metrics = logging.getLogger(METRICS_LOGGER)

# Outcomes that are logged as warnings: a refused factor, a refused action, a throttle.
_WARNING_OUTCOMES = frozenset({"failure", "denied", "deny", "throttled"})
# The factor named by an action's prefix ("totp.verify" -> "totp").
_FACTORS = {
    "totp": "totp",
    "backup_code": "backup_code",
    "backup_codes": "backup_code",
    "passkey": "passkey",
    "login_code": "login_code",
    "trusted_browser": "trusted_browser",
}
# Actions of a factor other than their prefix's.
_ACTION_FACTORS = {"passkey.sign_in": "passkey_sign_in"}


def active_metrics(metrics: Metrics) -> Metrics | None:
    """``metrics``, or ``None`` when it records nothing (so timing can be skipped)."""
    return None if isinstance(metrics, NullMetrics) else metrics


def factor_of(action: str) -> str | None:
    """The sign-in factor an audit action is about, or ``None``.

    >>> factor_of("backup_code.verify"), factor_of("passkey.sign_in"), factor_of("member.added")
    ('backup_code', 'passkey_sign_in', None)
    """
    if (factor := _ACTION_FACTORS.get(action)) is not None:
        return factor
    return _FACTORS.get(action.partition(".")[0])


def level_of(event: AuditEvent) -> int:
    """The log level of an event: ``WARNING`` for failures, refusals, throttles and locks.

    Everything else (successes, decisions that allow or ask for more) is ``INFO``.
    """
    if event.outcome in _WARNING_OUTCOMES or event.action.endswith(".locked"):
        return logging.WARNING
    if "effects" in event.details:
        effects = event.details["effects"]
        if isinstance(effects, list | tuple) and "lock" in effects:
            return logging.WARNING
    return logging.INFO


def _report_failure(what: str) -> None:
    _metrics.exception("metrics backend failed in %s", what)


class SecurityLog:
    """Logs and counts audit events, one record and one count each.

    Args:
        metrics: Where the counts go, ``None`` for nowhere.
    """

    __slots__ = ("_metrics",)

    def __init__(self, metrics: Metrics | None) -> None:
        self._metrics = metrics

    def record(self, events: Iterable[AuditEvent]) -> None:
        """Log and count each of ``events``, in order (they are written already)."""
        metrics = self._metrics
        for event in events:
            level = level_of(event)
            logged = _security.isEnabledFor(level)
            if not logged and metrics is None:
                continue
            factor = factor_of(event.action)
            if logged:
                _security.log(
                    level,
                    "mfa %s %s",
                    event.action,
                    event.outcome,
                    extra={
                        "mfa_event_id": event.event_id,
                        "mfa_action": event.action,
                        "mfa_outcome": event.outcome,
                        "mfa_factor": factor,
                        "mfa_user_id": event.user_id,
                        "mfa_org_id": event.org_id,
                        "mfa_actor_id": event.actor_id,
                        "mfa_details": dict(event.details),
                    },
                )
            if metrics is not None:
                tags = {
                    "action": event.action,
                    "outcome": event.outcome,
                    "factor": factor or "none",
                }
                try:
                    metrics.increment(SECURITY_EVENTS_METRIC, 1, tags=tags)
                except Exception:  # noqa: BLE001 - a failing metrics backend never fails a call
                    _report_failure("increment")


class TimedStore:
    """A store that times each port call; built by :func:`timed_store`.

    Every port method is a real method of the class (so it is an
    :class:`~mfakit.repositories.MfaStore` to runtime checks). Each instance
    also holds, per port method, a closure that the attribute lookup finds
    first: a call is one extra frame, two clock reads and the lookup of the
    inner store's method, at each call (so a method patched on the inner
    store later, as tests do, is the one called). Either way the inner
    store's method is called once, with the same arguments.
    """

    def __init__(self, inner: MfaStore, *, metrics: Metrics | None, slow: float) -> None:
        self.inner = inner
        self._metrics = metrics
        self._slow = slow
        for name in PORT_METHODS:
            setattr(self, name, self._timed(name))

    def atomic(self) -> AbstractContextManager[None]:
        """The inner store's transaction (a scope, not timed)."""
        return self.inner.atomic()

    def close(self) -> None:
        """Close the inner store."""
        self.inner.close()

    def __repr__(self) -> str:
        return f"TimedStore({self.inner!r})"

    def _timed(self, name: str) -> Callable[..., Any]:
        inner, done, slow, timing = self.inner, self._done, self._slow, self._metrics is not None
        clock = perf_counter

        def call(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                result = getattr(inner, name)(*args, **kwargs)
            except BaseException as exc:
                done(name, clock() - start, type(exc).__name__)
                raise
            seconds = clock() - start
            # The usual case (fast, no metrics) costs the two clock reads and this test.
            if timing or seconds >= slow:
                done(name, seconds, "success")
            return result

        call.__name__ = call.__qualname__ = name
        return call

    def _done(self, name: str, seconds: float, outcome: str) -> None:
        """Report one call that took ``seconds`` (slow, or timed for the metrics)."""
        metrics = self._metrics
        slow = seconds >= self._slow
        if slow:
            ms = round(seconds * 1000.0, 3)
            _store.warning(
                "slow store call %s: %.1f ms",
                name,
                ms,
                extra={"mfa_store_method": name, "mfa_duration_ms": ms, "mfa_outcome": outcome},
            )
        if metrics is None:
            return
        try:
            metrics.timing(STORE_CALL_METRIC, seconds, tags={"operation": name, "outcome": outcome})
            if slow:
                metrics.increment(SLOW_STORE_CALLS_METRIC, 1, tags={"operation": name})
        except Exception:  # noqa: BLE001 - a failing metrics backend never fails a call
            _report_failure("store timing")


def _forward(name: str) -> Callable[..., Any]:
    def call(self: TimedStore, *args: Any, **kwargs: Any) -> Any:
        return self.__dict__[name](*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"The inner store's ``{name}``, timed."
    return call


#: The port methods a :class:`TimedStore` times (every method but ``atomic`` and ``close``).
PORT_METHODS = tuple(
    name for name in dir(MfaStore) if not name.startswith("_") and name not in {"atomic", "close"}
)
# Class methods too (they defer to the instance's closures): runtime protocol
# checks look at the class.
for _name in PORT_METHODS:
    setattr(TimedStore, _name, _forward(_name))


def timed_store(store: MfaStore, *, metrics: Metrics | None, slow: float | None) -> MfaStore:
    """``store`` timed (see :class:`TimedStore`), or itself when nothing would use the times.

    Args:
        store: The host's store.
        metrics: Where the timings go, ``None`` for nowhere.
        slow: Calls taking this many seconds or more are logged; ``None``: none are.
    """
    if metrics is None and slow is None:
        return store
    return cast(
        MfaStore, TimedStore(store, metrics=metrics, slow=math.inf if slow is None else slow)
    )


_C = TypeVar("_C", bound=type)


def _timed_call(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        metrics: Metrics | None = self._context.metrics
        if metrics is None:
            return method(self, *args, **kwargs)
        start = perf_counter()
        outcome = "success"
        try:
            return method(self, *args, **kwargs)
        except BaseException as exc:
            outcome = type(exc).__name__
            raise
        finally:
            tags: Mapping[str, str] = {"operation": name, "outcome": outcome}
            try:
                metrics.timing(SERVICE_CALL_METRIC, perf_counter() - start, tags=tags)
            except Exception:  # noqa: BLE001 - a failing metrics backend never fails a call
                _report_failure("service timing")

    return call


def timed_calls(cls: _C) -> _C:
    """Class decorator: each public method reports its duration to ``self._context.metrics``.

    The instances must have a ``_context`` whose ``metrics`` is a
    :class:`~mfakit.observability.Metrics` or ``None`` (then the method runs
    as it is, after one attribute test).
    """
    for name, value in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(value):
            setattr(cls, name, _timed_call(name, value))
    return cls
