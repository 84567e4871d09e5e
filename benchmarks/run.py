"""Run mfakit's benchmarks against its peers, interleaved, in one process.

Usage::

    python benchmarks/run.py                 # every workload
    python benchmarks/run.py --only totp     # workloads whose name contains "totp"
    python benchmarks/run.py --rounds 31 --sample-ms 50 --strict

Workloads live in ``benchmarks/wl_*.py``; each module defines
``workloads() -> list[Workload]``. Peers come from the ``bench`` extra:
``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _harness import Workload, format_table, run_workload  # noqa: E402


def _discover() -> list[Workload]:
    found: list[Workload] = []
    for path in sorted(HERE.glob("wl_*.py")):
        module = importlib.import_module(path.stem)
        found.extend(module.workloads())
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads and print one Markdown table each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="substring of workload names")
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds (odd)")
    parser.add_argument("--sample-ms", type=float, default=40.0, help="length of one sample")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    workloads = [w for w in _discover() if not args.only or any(s in w.name for s in args.only)]
    if not workloads:
        print("no workload matched", file=sys.stderr)
        return 2
    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{args.rounds} rounds of {args.sample_ms:.0f} ms samples\n"
    )
    missed = False
    for workload in workloads:
        rows = run_workload(workload, rounds=args.rounds, sample_seconds=args.sample_ms / 1000)
        print(format_table(workload, rows), end="\n\n", flush=True)
        missed |= any(row.met is False for row in rows)
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    raise SystemExit(main())
