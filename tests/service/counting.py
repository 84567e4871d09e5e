"""A store proxy that counts the port calls the service makes (for the cost tests)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from mfakit.repositories import MfaStore

#: Port methods that read or write one page of members (a per-page cost).
PAGE_CALLS = frozenset({"list_member_summaries", "list_all_member_summaries"})


class CountingStore:
    """Forwards every port call to ``inner`` and counts it by name.

    ``atomic()`` opens the inner store's transaction and is not counted as a
    port call (it is a scope, not a query).
    """

    def __init__(self, inner: MfaStore) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def atomic(self) -> AbstractContextManager[None]:
        """The inner store's transaction."""
        return self.inner.atomic()

    def close(self) -> None:
        """Close the inner store."""
        self.inner.close()

    def reset(self) -> None:
        """Forget the calls counted so far."""
        self.calls.clear()

    @property
    def total(self) -> int:
        """Port calls counted since the last :meth:`reset`."""
        return sum(self.calls.values())


def _forward(name: str) -> Callable[..., Any]:
    def call(self: CountingStore, *args: Any, **kwargs: Any) -> Any:
        self.calls[name] += 1
        return getattr(self.inner, name)(*args, **kwargs)

    call.__name__ = name
    return call


# Explicit methods rather than __getattr__: runtime protocol checks look at the class.
for _name in dir(MfaStore):
    if not _name.startswith("_") and _name not in {"atomic", "close"}:
        setattr(CountingStore, _name, _forward(_name))
