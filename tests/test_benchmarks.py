"""The benchmark scripts still run and every implementation passes its self-check.

Speed is never asserted here (that is the benchmark's job); this guards against a
benchmark that silently measures something that no longer verifies anything.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

from _harness import Impl, Workload, format_table, run_workload  # noqa: E402


def _discover() -> list[Workload]:
    import run

    return run._discover()


def test_harness_runs_checks_first() -> None:
    """A failing self-check stops the run before anything is timed."""

    def bad_check() -> None:
        raise AssertionError("accepts tampered input")

    ref = Impl(name="ref", op=lambda: None, check=lambda: None)
    broken = Impl(name="broken", op=lambda: None, check=bad_check)
    with pytest.raises(AssertionError, match="tampered"):
        run_workload(
            Workload(name="w", description="d", reference=ref, impls=[broken]),
            rounds=1,
            sample_seconds=0.001,
        )


def test_harness_reports_ratios_and_targets() -> None:
    """Ratios are relative to the reference, and targets are judged."""
    ref = Impl(name="ref", op=lambda: sum(range(50)), check=lambda: None)
    fast = Impl(name="fast", op=lambda: None, check=lambda: None)
    slow = Impl(name="slow", op=lambda: sum(range(500)), check=lambda: None)
    workload = Workload(
        name="w",
        description="d",
        reference=ref,
        impls=[fast, slow],
        targets={"fast": 1.0, "slow": 1.0},
        peer_targets={("fast", "slow"): 1.0},
    )
    rows = run_workload(workload, rounds=3, sample_seconds=0.002)
    by_name = {row.name: row for row in rows}
    assert by_name["ref (reference)"].ratio == 1.0
    assert by_name["fast"].met is True
    assert by_name["slow"].met is False
    table = format_table(workload, rows)
    assert "| fast |" in table
    assert "**no**" in table


@pytest.mark.parametrize("workload", _discover(), ids=lambda w: w.name)
def test_workload_self_checks_pass(workload: Workload) -> None:
    """Every implementation of every workload accepts valid and rejects tampered input."""
    for impl in [workload.reference, *workload.impls]:
        impl.check()
        impl.op()


def test_service_benchmark_runs_on_tiny_organizations() -> None:
    """bench_service's bulk setup matches the schema and every measure runs (SQLite, tiny)."""
    import bench_service as bs

    tiny = bs.Sizes(
        calls_org=20,
        timing_org=20,
        reminders=(5, 20),
        report_org=30,
        sweep=(200, 400),
        sweep_org=100,
        signins=3,
    )
    with bs.benches(with_postgres=False) as (bench,):
        calls = bs.measure_calls(bench, tiny)
        assert calls["solo"] == calls["member"] == 6
        solo, member = bs.measure_signin_time(bench, tiny)
        assert solo > 0
        assert member > 0
        _, _, small, big = bs.measure_reminders(bench, tiny)
        assert big > small
        seconds, report_calls = bs.measure_report(bench, tiny)
        assert seconds > 0
        assert report_calls >= 1
        parts = bs.measure_report_parts(bench, "report-org", rounds=1)
        assert set(parts) == set(bs._PART_NAMES)
        assert all(seconds > 0 for seconds in parts.values())
        swept = bs.measure_sweep(bench, tiny)
        assert [run.members for run in swept] == [200, 400]
        # Two members of each organization of 100 are locked, once each: the
        # one who lost their method long ago and the one who never enrolled.
        assert [run.locked for run in swept] == [4, 4]
        assert all(run.again > 0 for run in swept)
