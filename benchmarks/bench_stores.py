"""Throughput of the stores' atomic operations (a standalone script).

For each store -- memory, SQLite on a temporary file, and PostgreSQL on a
throwaway local cluster when its server programs are installed -- this measures
operations per second of the three operations on every login's hot path:

* ``consume_backup_code``: mark one unused code of a user's set used;
* ``advance_totp_step``: the replay-protection compare-and-set;
* ``pop_challenge``: take a WebAuthn challenge exactly once.

Each operation runs on distinct prepared records, so every call does the real
write (and the script checks that every call won, then that a repeat loses).
Runs are interleaved across stores and the median of the rounds is printed.

    .venv/bin/python benchmarks/bench_stores.py [--ops 2000] [--rounds 3] [--no-postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

from mfakit.repositories import MfaStore
from mfakit.stores.memory import MemoryStore
from mfakit.stores.sqlite import SQLiteStore
from mfakit.testing.contracts._records import (
    NOW,
    backup_codes,
    challenge,
    new_id,
    pending_totp,
)

Op = Callable[[], object]


def _consume(store: MfaStore, n: int) -> tuple[list[Op], Op]:
    ops: list[Op] = []
    for _ in range(n // 10):
        user = new_id("user")
        codes = backup_codes(user, 10)
        store.replace_backup_codes(user, codes)
        ops.extend(
            lambda u=user, c=c.code_id: store.consume_backup_code(u, c, now=NOW) for c in codes
        )
    return ops, ops[0]


def _advance(store: MfaStore, n: int) -> tuple[list[Op], Op]:
    user = new_id("user")
    rec = pending_totp(user)
    store.put_pending_totp(rec)
    store.activate_totp(user, rec.totp_id, step=0, now=NOW, max_devices=5)
    ops: list[Op] = [
        lambda s=s: store.advance_totp_step(rec.totp_id, s, now=NOW) for s in range(1, n + 1)
    ]
    return ops, ops[-1]


def _pop(store: MfaStore, n: int) -> tuple[list[Op], Op]:
    ids = []
    for _ in range(n):
        ch = challenge(ttl=timedelta(days=1))
        store.put_challenge(ch)
        ids.append(ch.challenge_id)
    ops: list[Op] = [lambda i=i: store.pop_challenge(i, now=NOW) is not None for i in ids]
    return ops, ops[0]


WORKLOADS = {
    "consume_backup_code": _consume,
    "advance_totp_step": _advance,
    "pop_challenge": _pop,
}


def _run_once(store: MfaStore, workload: str, n: int) -> float:
    ops, repeat = WORKLOADS[workload](store, n)
    start = time.perf_counter()
    results = [op() for op in ops]
    elapsed = time.perf_counter() - start
    # Self-check: every prepared operation won, and doing one again loses.
    if not all(results) or repeat():
        raise AssertionError(f"{workload}: the store did not honour single use")
    return len(ops) / elapsed


@contextlib.contextmanager
def _stores(with_postgres: bool) -> Iterator[dict[str, MfaStore]]:
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        stores: dict[str, MfaStore] = {
            "memory": MemoryStore(),
            "sqlite": SQLiteStore(tmp / "bench.sqlite3"),
        }
        if with_postgres:
            from mfakit.testing.postgres import TemporaryPostgres, find_postgres_bin

            if find_postgres_bin() is None:
                print("PostgreSQL not installed: skipping it", file=sys.stderr)
            else:
                from mfakit.stores.postgres import PostgresStore

                pg = stack.enter_context(TemporaryPostgres(database="bench"))
                # Durable commits, as a real deployment would run.
                stores["postgres"] = PostgresStore(pg.dsn + " options='-c synchronous_commit=on'")
        try:
            yield stores
        finally:
            for store in stores.values():
                store.close()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table of median ops/s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=2000, help="operations per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    with _stores(not args.no_postgres) as stores:
        samples: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for workload in WORKLOADS:
                for name, store in stores.items():
                    rate = _run_once(store, workload, args.ops)
                    samples.setdefault((workload, name), []).append(rate)
        names = list(stores)
        print("| operation | " + " | ".join(f"{n} (ops/s)" for n in names) + " |")
        print("|---|" + "---:|" * len(names))
        for workload in WORKLOADS:
            cells = [f"{statistics.median(samples[workload, n]):,.0f}" for n in names]
            print(f"| `{workload}` | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
