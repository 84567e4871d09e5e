"""What logging, slow-call timing and metrics add to a sign-in (a standalone script).

Three services over one store, each with its own user, sign in
with ``verify_totp`` in interleaved rounds (the order rotates each round, so a
noisy neighbour slows all of them alike):

* ``plain``: no store timing (``slow_store_call=None``), no metrics, and the
  security log silenced: the work of the service before observability;
* ``default``: the defaults: slow store calls timed (250 ms), security
  events logged (to a ``NullHandler``, the ``INFO`` records filtered out by
  the logger's level as in an application that configured nothing), no metrics;
* ``metrics``: the defaults with a :class:`~mfakit.observability.Metrics`
  that adds to a dict (the cost of the calls themselves, not of a backend).

Times are CPU seconds of this process (:func:`time.process_time`), so other
processes on a shared machine add less noise than to wall time. It prints
the median time per sign-in of each, and the median over the rounds of its
ratio to ``plain`` in the same round (paired, so a drift over the run, such
as the growing audit trail, cancels out).

    .venv/bin/python benchmarks/bench_observability.py [--store memory|sqlite] [--rounds 31]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from mfakit.backup_codes import CHEAP_FOR_TESTS, Hasher
from mfakit.clock import FrozenClock
from mfakit.otp import TOTP, decode_base32
from mfakit.repositories import MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import InMemoryOutbox, MfaService, RelyingParty, ServiceSettings, UserRef
from mfakit.stores.memory import MemoryStore
from mfakit.stores.sqlite import SQLiteStore

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


class DictMetrics:
    """Adds counts and timings to dicts: the cheapest real metrics backend."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self.seconds: Counter[str] = Counter()

    def increment(self, name: str, value: int = 1, *, tags: Mapping[str, str]) -> None:
        """Count."""
        self.counts[name, tuple(tags.items())] += value

    def timing(self, name: str, seconds: float, *, tags: Mapping[str, str]) -> None:
        """Sum."""
        self.seconds[name] += seconds


class _Silent:
    """Stands in for the security log: records nothing."""

    def record(self, events: object) -> None:
        """Do nothing."""


class SignIns:
    """One service and one enrolled user who signs in once per call."""

    def __init__(self, name: str, store: MfaStore, **options: object) -> None:
        self.name = name
        self.user_id = f"u-{name}"
        self.clock = FrozenClock(START)
        settings = ServiceSettings(
            backup_code_hasher=Hasher(profile=CHEAP_FOR_TESTS),
            **options.pop("settings", {}),  # type: ignore[arg-type]
        )
        self.service = MfaService(
            store=store,
            keys=KeyRing({"k1": generate_key()}, current="k1"),
            notifier=InMemoryOutbox(),
            clock=self.clock,
            relying_party=RelyingParty(
                rp_id="bench.example", rp_name="Bench", origins=("https://bench.example",)
            ),
            issuer="Bench",
            login_code_key=b"k" * 32,
            settings=settings,
            **options,  # type: ignore[arg-type]
        )
        enrollment = self.service.begin_totp_enrollment(
            UserRef(user_id=self.user_id, name=f"{self.user_id}@x")
        )
        self.totp = TOTP(decode_base32(enrollment.manual_key.replace(" ", "")))
        self.service.confirm_totp(self.user_id, enrollment.totp_id, self.code())

    def code(self) -> str:
        """The app's code after the clock moved one step (never a replay)."""
        self.clock.advance(30)
        return self.totp.at(self.clock.now())

    def sample(self, n: int) -> float:
        """Seconds per sign-in over ``n`` sign-ins."""
        first = self.clock.now()
        codes = [self.code() for _ in range(n)]
        self.clock.set(first)
        verify, clock, user_id = self.service.verify_totp, self.clock, self.user_id
        start = time.process_time()
        for code in codes:
            clock.advance(30)
            verify(user_id, code)
        return (time.process_time() - start) / n


def _store(kind: str, folder: Path) -> MfaStore:
    if kind == "memory":
        return MemoryStore()
    return SQLiteStore(folder / "bench.sqlite3")


def main() -> None:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("memory", "sqlite"), default="memory")
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--per-sample", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # One store for all: they share its growth (audit trail, WAL) alike.
        store = _store(args.store, Path(tmp))
        plain = SignIns("plain", store, settings={"slow_store_call": None})
        plain.service._context.security_log = _Silent()  # type: ignore[assignment]
        runs = [
            plain,
            SignIns("default", store),
            SignIns("metrics", store, metrics=DictMetrics()),
        ]
        for run in runs:  # warm-up
            run.sample(args.per_sample // 4 or 1)
        times: dict[str, list[float]] = {run.name: [] for run in runs}
        for r in range(args.rounds):
            order = runs[r % len(runs) :] + runs[: r % len(runs)]
            for run in order:
                times[run.name].append(run.sample(args.per_sample))
        store.close()
    base = times["plain"]
    print(f"verify_totp on {args.store}, {args.rounds} rounds of {args.per_sample}")
    print("| variant | median µs/sign-in | median ratio to plain |")
    print("|---|---:|---:|")
    for name, samples in times.items():
        ratio = statistics.median(t / b for t, b in zip(samples, base, strict=True))
        print(f"| {name} | {statistics.median(samples) * 1e6:.1f} | {ratio:.3f} |")


if __name__ == "__main__":
    main()
