"""A small interleaved benchmark harness.

Every workload has a *reference* (the unavoidable work, e.g. one HMAC) and a
list of implementations (mfakit and its peers). Before timing, each one's
``check`` runs: it must accept a valid input and reject a tampered one, so a
fast implementation that verifies nothing cannot win.

Timing is interleaved: in each round every implementation runs one sample (the
order rotates each round), so a noisy neighbour slows all of them alike. The
result is each implementation's median ops/s over the rounds and its ratio to
the reference's median from the same run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class Impl:
    """One implementation of a workload.

    Attributes:
        name: Shown in the table, e.g. ``"mfakit"`` or ``"pyotp"``.
        op: One operation on prepared inputs; its result is ignored.
        check: Raises ``AssertionError`` unless the implementation accepts a
            valid input and rejects a tampered one.
    """

    name: str
    op: Callable[[], object]
    check: Callable[[], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload:
    """A benchmark: a reference and the implementations compared with it.

    Attributes:
        name: Short identifier, used by ``--only``.
        description: One line shown above the table.
        reference: Does only the unavoidable work.
        impls: mfakit and its peers.
        targets: Minimum ratio to the reference per implementation name.
        peer_targets: ``{(impl, peer): min ratio of impl's ops/s to peer's}``.
    """

    name: str
    description: str
    reference: Impl
    impls: list[Impl]
    targets: dict[str, float] = field(default_factory=dict)
    peer_targets: dict[tuple[str, str], float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a result table."""

    name: str
    median_ops: float
    ratio: float
    target: str
    met: bool | None


def _calibrate(op: Callable[[], object], sample_seconds: float) -> int:
    """How many calls of ``op`` make one sample of about ``sample_seconds``."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            op()
        elapsed = time.perf_counter() - start
        if elapsed >= sample_seconds / 4 or n >= 1 << 24:
            return max(1, int(n * sample_seconds / max(elapsed, 1e-9)))
        n *= 2


def run_workload(workload: Workload, *, rounds: int, sample_seconds: float) -> list[Row]:
    """Check, then time ``workload`` interleaved; return one row per implementation."""
    everyone = [workload.reference, *workload.impls]
    for impl in everyone:
        impl.check()
    loops = {impl.name: _calibrate(impl.op, sample_seconds) for impl in everyone}
    samples: dict[str, list[float]] = {impl.name: [] for impl in everyone}
    for r in range(rounds):
        shift = r % len(everyone)
        for impl in everyone[shift:] + everyone[:shift]:
            n = loops[impl.name]
            op = impl.op
            start = time.perf_counter()
            for _ in range(n):
                op()
            samples[impl.name].append(n / (time.perf_counter() - start))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    ref = medians[workload.reference.name]
    rows = [Row(workload.reference.name + " (reference)", ref, 1.0, "", None)]
    for impl in workload.impls:
        ratio = medians[impl.name] / ref
        parts: list[str] = []
        met: bool | None = None
        if impl.name in workload.targets:
            want = workload.targets[impl.name]
            parts.append(f">= {want:.2f}x ref")
            met = ratio >= want
        for (who, peer), want in workload.peer_targets.items():
            if who == impl.name:
                vs = medians[peer] and medians[impl.name] / medians[peer]
                parts.append(f"{vs:.2f}x {peer} (want >= {want:.2f}x)")
                met = (met is not False) and vs >= want
        rows.append(Row(impl.name, medians[impl.name], ratio, "; ".join(parts), met))
    return rows


def format_table(workload: Workload, rows: list[Row]) -> str:
    """Render one workload's rows as a Markdown table."""
    lines = [
        f"### {workload.name}: {workload.description}",
        "",
        "| implementation | median ops/s | ratio to reference | target | met |",
        "|---|---:|---:|---|---|",
    ]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(
            f"| {row.name} | {row.median_ops:,.0f} | {row.ratio:.2f}x | {row.target} | {met} |"
        )
    return "\n".join(lines)
