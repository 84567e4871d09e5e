"""A store proxy that records which port methods the service calls, in order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mfakit.repositories import MfaStore

# Every method of the store protocol (the ports, ``atomic`` and ``close``).
PORT_METHODS = tuple(
    sorted(
        name
        for name in dir(MfaStore)
        if not name.startswith("_") and callable(getattr(MfaStore, name, None))
    )
)


class _Spy:
    """Forwards every port call to the wrapped store and appends its name to ``calls``."""

    def __init__(self, store: MfaStore) -> None:
        self.wrapped = store
        self.calls: list[str] = []


def _forward(name: str) -> Callable[..., Any]:
    def method(self: _Spy, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(name)
        return getattr(self.wrapped, name)(*args, **kwargs)

    method.__name__ = name
    return method


# Real methods on the class, so ``isinstance(spy, MfaStore)`` holds on every Python.
StoreSpy: type[_Spy] = type("StoreSpy", (_Spy,), {n: _forward(n) for n in PORT_METHODS})


def spy_on(store: MfaStore) -> tuple[MfaStore, list[str]]:
    """Wrap ``store``; return the proxy (a store) and the list its calls are recorded in."""
    spy = StoreSpy(store)
    assert isinstance(spy, MfaStore)
    return spy, spy.calls
