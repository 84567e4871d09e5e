"""Fixtures of the FastAPI example's tests: the app on a fresh SQLite file, and a client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi_helpers import CHEAP_PASSWORDS, ORIGIN, SETTINGS, START
from mfakit_demo_api import close, create_app
from tests.async_helpers import run_async

from mfakit.clock import FrozenClock

T = TypeVar("T")


@pytest.fixture
def clock() -> FrozenClock:
    """mfakit's clock in the app."""
    return FrozenClock(START)


@pytest.fixture
def app(tmp_path: Path, clock: FrozenClock) -> Iterator[Any]:
    """The example app over a fresh SQLite file; closed after the test."""
    made = create_app(
        data_dir=tmp_path / "data",
        origin=ORIGIN,
        settings=SETTINGS,
        clock=clock,
        password_hasher=CHEAP_PASSWORDS,
        max_workers=2,
    )
    yield made
    run_async(lambda: close(made))


Scenario = Callable[[httpx.AsyncClient], Awaitable[T]]


@pytest.fixture
def run(app: Any) -> Callable[[Scenario[Any]], Any]:
    """Run ``scenario(client)`` with an httpx client on the app (in memory, no server)."""

    def runner(scenario: Scenario[T]) -> T:
        async def main() -> T:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
                return await scenario(client)

        return run_async(main)

    return runner
