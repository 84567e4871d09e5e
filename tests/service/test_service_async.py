"""AsyncMfaService: the same surface as MfaService, a bounded pool, and its cancellation."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from service_helpers import START, App, build_service, enroll_totp
from store_spy import StoreSpy
from tests.async_helpers import in_fresh_thread, run_async

from mfakit.clock import FrozenClock
from mfakit.errors import ConfigurationError, InvalidCodeError, ReplayedCodeError
from mfakit.service import AsyncMfaService, InMemoryOutbox, MfaService, UserRef
from mfakit.stores.memory import MemoryStore

T = TypeVar("T")

# Public names of AsyncMfaService that MfaService has no counterpart of.
ASYNC_ONLY = {"aclose", "service"}


def _public(cls: type) -> dict[str, Any]:
    return {name: value for name, value in vars(cls).items() if not name.startswith("_")}


def _sync_service(store: Any = None) -> tuple[MfaService, FrozenClock]:
    clock = FrozenClock(START)
    return build_service(MemoryStore() if store is None else store, clock, InMemoryOutbox()), clock


class _BlockingStore(StoreSpy):
    """A memory store whose ``advance_totp_step`` waits for ``release`` (after ``entered``)."""

    def __init__(self) -> None:
        super().__init__(MemoryStore())
        self.entered = threading.Event()
        self.release = threading.Event()
        self.threads: set[int] = set()

    def advance_totp_step(self, *args: Any, **kwargs: Any) -> Any:
        self.threads.add(threading.get_ident())
        self.entered.set()
        assert self.release.wait(10)
        return super().advance_totp_step(*args, **kwargs)


def _enrolled_behind_a_blocking_store() -> tuple[_BlockingStore, MfaService, FrozenClock, App]:
    """A user "u-1" with TOTP; the store's next ``advance_totp_step`` waits for ``release``."""
    store = _BlockingStore()
    service, clock = _sync_service(store)
    store.release.set()
    app, _ = enroll_totp(service, clock, "u-1")
    store.release.clear()
    store.entered.clear()
    return store, service, clock, app


def test_public_methods_match_the_sync_service() -> None:
    """Every public name of MfaService exists on AsyncMfaService, and nothing else but two."""
    sync_names = set(_public(MfaService))
    async_names = set(_public(AsyncMfaService))
    assert async_names - sync_names == ASYNC_ONLY
    assert sync_names - async_names == set()


@pytest.mark.parametrize(
    "name",
    sorted(n for n, v in _public(MfaService).items() if inspect.isfunction(v)),
)
def test_method_is_a_coroutine_with_the_same_signature(name: str) -> None:
    """Each method is ``async def`` with exactly the sync method's parameters and result."""
    sync_method = getattr(MfaService, name)
    async_method = getattr(AsyncMfaService, name)
    assert inspect.iscoroutinefunction(async_method)
    assert inspect.signature(async_method) == inspect.signature(sync_method)
    assert f":meth:`MfaService.{name}`" in (async_method.__doc__ or "")


def test_properties_mirror_the_sync_service() -> None:
    """``settings`` is a property on both, returning the same object."""
    assert isinstance(vars(AsyncMfaService)["settings"], property)
    assert isinstance(vars(MfaService)["settings"], property)
    service, _ = _sync_service()
    facade = AsyncMfaService(service)
    assert facade.settings is service.settings
    assert facade.service is service
    run_async(facade.aclose)


def test_a_call_returns_the_sync_result_and_raises_its_errors() -> None:
    """Results come back unchanged; a typed MfaError propagates as is."""
    service, clock = _sync_service()
    app, _ = enroll_totp(service, clock, "u-1")

    async def main() -> None:
        async with AsyncMfaService(service) as facade:
            result = await facade.verify_totp("u-1", app.code())
            assert result.user_id == "u-1"
            with pytest.raises(ReplayedCodeError):
                await facade.verify_totp("u-1", app.code())
            with pytest.raises(InvalidCodeError):
                await facade.verify_totp("u-1", "000000" if app.code() != "000000" else "111111")
            devices = await facade.list_totp_devices("u-1")
            assert [d.name for d in devices] == ["Authenticator app"]

    run_async(main)


def test_calls_run_off_the_event_loop_thread_with_the_callers_context() -> None:
    """The store is called from a pool thread, which sees the caller's context variables."""
    store = _BlockingStore()
    store.release.set()
    service, clock = _sync_service(store)
    app, _ = enroll_totp(service, clock, "u-1")
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")
    seen: list[str] = []
    original = store.advance_totp_step

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(request_id.get("unset"))
        return original(*args, **kwargs)

    store.advance_totp_step = recording

    async def main() -> int:
        request_id.set("req-7")
        async with AsyncMfaService(service) as facade:
            await facade.verify_totp("u-1", app.code())
        return threading.get_ident()

    loop_thread = run_async(main)
    assert store.threads
    assert loop_thread not in store.threads
    assert seen == ["req-7"]


def test_at_most_max_workers_calls_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``max_workers=2``, twenty concurrent calls run two at a time, never more."""
    service, _ = _sync_service()
    running = 0
    peak = 0
    lock = threading.Lock()
    first_two = threading.Barrier(2, timeout=10)
    original = service.backup_code_status

    def counted_status(user_id: str) -> Any:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            if user_id in {"u-0", "u-1"}:
                first_two.wait()  # breaks (fails the test) unless two run together
            return original(user_id)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(service, "backup_code_status", counted_status)

    async def main() -> None:
        async with AsyncMfaService(service, max_workers=2) as facade:
            await asyncio.gather(*(facade.backup_code_status(f"u-{i}") for i in range(20)))

    run_async(main)
    assert peak == 2


def test_a_call_cancelled_while_queued_never_runs() -> None:
    """A call queued behind a busy one-worker pool, then cancelled, never runs."""
    service, clock = _sync_service()
    app, _ = enroll_totp(service, clock, "u-1")
    pool = ThreadPoolExecutor(max_workers=1)
    gate = threading.Event()
    blocker = pool.submit(gate.wait, 10)

    async def main() -> None:
        facade = AsyncMfaService(service, executor=pool)
        task = asyncio.create_task(facade.verify_totp("u-1", app.code()))
        await asyncio.sleep(0)  # the task submits its job, which queues behind the blocker
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gate.set()
        await facade.aclose()

    run_async(main)
    assert blocker.result() is True
    pool.shutdown(wait=True)
    # Never ran: the code was not consumed, and no failure was counted.
    assert service.verify_totp("u-1", app.code()).user_id == "u-1"


def test_a_call_cancelled_while_running_completes_in_the_store_first() -> None:
    """A started call runs to its end; the caller's CancelledError comes after it committed."""
    store, service, _, app = _enrolled_behind_a_blocking_store()
    confirmed_step = store.wrapped.list_totp_devices("u-1")[0].last_step

    async def main() -> None:
        async with AsyncMfaService(service, max_workers=1) as facade:
            task = asyncio.create_task(facade.verify_totp("u-1", app.code()))
            assert await asyncio.to_thread(store.entered.wait, 10)
            task.cancel()
            for _ in range(5):
                await asyncio.sleep(0)
            assert not task.done()  # held until the job in the thread has ended
            store.release.set()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The sign-in committed before the cancellation was delivered.
            assert store.wrapped.list_totp_devices("u-1")[0].last_step == confirmed_step + 1

    run_async(main)
    with pytest.raises(ReplayedCodeError):
        service.verify_totp("u-1", app.code())


def test_a_running_call_survives_repeated_cancellation_and_timeouts_still_fire() -> None:
    """Cancelled twice, the call still completes; ``asyncio.timeout`` then raises TimeoutError."""
    store, service, clock, app = _enrolled_behind_a_blocking_store()

    async def cancel_twice(task: asyncio.Task[Any]) -> None:
        assert await asyncio.to_thread(store.entered.wait, 10)
        task.cancel()
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.sleep(0)
        assert not task.done()
        store.release.set()

    async def main() -> None:
        async with AsyncMfaService(service, max_workers=1) as facade:
            task = asyncio.create_task(facade.verify_totp("u-1", app.code()))
            await cancel_twice(task)
            with pytest.raises(asyncio.CancelledError):
                await task
            store.release.clear()
            store.entered.clear()
            clock.advance(30)
            deadline: list[asyncio.Timeout] = []

            async def timed() -> None:
                async with asyncio.timeout(3600) as timeout:
                    deadline.append(timeout)
                    await facade.verify_totp("u-1", app.code())

            timing = asyncio.create_task(timed())
            assert await asyncio.to_thread(store.entered.wait, 10)
            deadline[0].reschedule(asyncio.get_running_loop().time())  # expires mid-call
            await asyncio.sleep(0)
            assert not timing.done()
            store.release.set()
            with pytest.raises(TimeoutError):
                await timing

    run_async(main)
    # Both sign-ins committed: each code is now a replay.
    with pytest.raises(ReplayedCodeError):
        service.verify_totp("u-1", app.code())


def test_aclose_shuts_an_owned_pool_and_refuses_later_calls() -> None:
    """After aclose (or the ``async with`` block) calls raise ConfigurationError."""
    service, _ = _sync_service()

    async def main() -> AsyncMfaService:
        async with AsyncMfaService(service, max_workers=1) as facade:
            assert "open" in repr(facade)
        await facade.aclose()  # a second close does nothing
        with pytest.raises(ConfigurationError, match="closed"):
            await facade.backup_code_status("u-1")
        return facade

    facade = run_async(main)
    assert "closed" in repr(facade)
    pool = facade._runner._executor  # the pool it made is shut down
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)


def test_aclose_leaves_a_host_executor_running() -> None:
    """A host's executor is not shut down; a shut-down host executor is a ConfigurationError."""
    service, _ = _sync_service()
    pool = ThreadPoolExecutor(max_workers=1)

    async def main() -> None:
        async with AsyncMfaService(service, executor=pool):
            pass
        assert pool.submit(lambda: 7).result() == 7
        pool.shutdown()
        other = AsyncMfaService(service, executor=pool)
        with pytest.raises(ConfigurationError, match="shut down"):
            await other.backup_code_status("u-1")

    run_async(main)


@pytest.mark.parametrize(
    "make",
    [
        lambda s: AsyncMfaService(s, max_workers=0),
        lambda s: AsyncMfaService(s, max_workers=1025),
        lambda s: AsyncMfaService(s, max_workers=True),
        lambda s: AsyncMfaService(s, max_workers=2.0),
        lambda s: AsyncMfaService(s, max_workers=2, executor=ThreadPoolExecutor(1)),
        lambda s: AsyncMfaService(s, executor=object()),
        lambda s: AsyncMfaService(object()),
    ],
)
def test_bad_arguments_are_configuration_errors(
    make: Callable[[MfaService], AsyncMfaService],
) -> None:
    """Pool sizes out of range, both pool options, or a non-service are refused."""
    service, _ = _sync_service()
    with pytest.raises(ConfigurationError):
        make(service)


def test_every_method_delegates_with_its_arguments() -> None:
    """Each coroutine calls the sync method of its name with the arguments it was given."""
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    class Recorder:
        def __getattr__(self, name: str) -> Callable[..., str]:
            def record(*args: Any, **kwargs: Any) -> str:
                calls.append((name, args, kwargs))
                return name

            return record

    service, _ = _sync_service()
    facade = AsyncMfaService(service, max_workers=1)
    facade._service = Recorder()
    names = sorted(n for n, v in _public(MfaService).items() if inspect.isfunction(v))

    async def main() -> None:
        for name in names:
            signature = inspect.signature(getattr(MfaService, name))
            args: list[Any] = []
            kwargs: dict[str, Any] = {}
            for parameter in list(signature.parameters.values())[1:]:
                marker = f"{name}:{parameter.name}"
                if parameter.kind is parameter.KEYWORD_ONLY:
                    kwargs[parameter.name] = marker
                else:
                    args.append(marker)
            result = await getattr(facade, name)(*args, **kwargs)
            expected = None if name == "require_recent_second_factor" else name
            assert result == expected
            assert calls[-1] == (name, tuple(args), kwargs)
        await facade.aclose()

    run_async(main)
    assert len(calls) == len(names)


def test_user_refs_reach_the_service_unchanged() -> None:
    """A begin_totp_enrollment through the facade stores a pending enrollment."""
    service, _ = _sync_service()

    async def main() -> str:
        async with AsyncMfaService(service) as facade:
            enrollment = await facade.begin_totp_enrollment(UserRef(user_id="u-9", name="nine"))
            return enrollment.uri

    assert "nine" in run_async(main)


def test_async_guide_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The async guide's example runs as written and prints what the guide says."""
    guide = Path(__file__).resolve().parents[2] / "docs" / "guides" / "async.md"
    text = guide.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    code = compile(blocks[0], str(guide), "exec")
    in_fresh_thread(lambda: exec(code, {"__name__": "guide"}))  # noqa: S102
    printed = capsys.readouterr().out
    assert printed == "['ReplayedCodeError', 'SecondFactorResult']\n"
    assert f"This prints `{printed.strip()}`" in text
