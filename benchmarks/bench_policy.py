"""Time the organization-wide policy functions over 100,000 principals.

Usage::

    python benchmarks/bench_policy.py [--principals 100000] [--repeat 7]

The principals are built once (building frozen, validated facts is the loader's
cost, timed separately), then fed to ``org_compliance_report`` and ``sweep`` as
a generator, so both stream. Before timing, a self-check proves each function
does its job on this data: the report finds exactly the principals without MFA,
and the sweep locks exactly the overdue ones and reminds the ones due.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from mfakit.policy import (
    ComplianceStatus,
    EffectKind,
    Exemption,
    GraceAnchor,
    GraceKind,
    Lock,
    LockReason,
    Method,
    MethodKind,
    OrgState,
    Principal,
    PrincipalKind,
    member_compliance,
    org_compliance_report,
    reference_console,
    sweep,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def build(n: int) -> list[Principal]:
    """A realistic mix: most compliant, some in grace, overdue, exempt or locked."""
    totp = Method(id="totp", kind=MethodKind.TOTP, created_at=NOW - 90 * DAY)
    passkey = Method(id="pk", kind=MethodKind.PASSKEY, created_at=NOW - 90 * DAY)
    people: list[Principal] = []
    for i in range(n):
        pid = f"p{i:06d}"
        bucket = i % 100
        if bucket == 0:
            p = Principal(id=pid, kind=PrincipalKind.OWNER, methods=(totp, passkey))
        elif bucket < 88:
            p = Principal(id=pid, methods=(totp,))
        elif bucket < 94:
            # In grace: lost their method 1 to 6 days ago (7-day grace).
            started = NOW - (1 + i % 6) * DAY
            p = Principal(id=pid, grace=GraceAnchor(kind=GraceKind.LOST_METHOD, started_at=started))
        elif bucket < 97:
            p = Principal(
                id=pid, grace=GraceAnchor(kind=GraceKind.LOST_METHOD, started_at=NOW - 9 * DAY)
            )
        elif bucket < 98:
            p = Principal(
                id=pid,
                exemption=Exemption(
                    granted_by="p000000", granted_at=NOW - DAY, expires_at=NOW + DAY
                ),
            )
        else:
            p = Principal(
                id=pid,
                methods=(totp,),
                lock=Lock(reason=LockReason.FAILED_ATTEMPTS, locked_at=NOW - 60 * DAY),
            )
        people.append(p)
    return people


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(f"self-check failed: {what}")


def _feed(people: list[Principal]) -> Iterator[Principal]:
    yield from people


def _time(fn: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each run (a busy shared box distorts CPU time least)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    """Build the principals, check the results, then time both functions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--principals", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    policy = reference_console()
    org = OrgState(id="org", enforced_since=NOW - 60 * DAY, owner_count=1)

    start = time.perf_counter()
    people = build(args.principals)
    built = time.perf_counter() - start

    # Self-check against the per-principal function, so the fast paths cannot cheat.
    statuses = [member_compliance(policy, org, principal=p, now=NOW) for p in people]
    report = org_compliance_report(policy, org, principals=_feed(people), now=NOW)
    _check(report.total == len(people), "the report must see every principal")
    lacking = [
        s.principal_id
        for s in statuses
        if not s.has_mfa and s.status is not (ComplianceStatus.EXEMPT)
    ]
    _check(list(report.reminder_targets) == lacking, "the report must list who lacks MFA")
    overdue = {s.principal_id for s in statuses if s.status is ComplianceStatus.OVERDUE}
    reminded = {s.principal_id for s in statuses if s.reminder_due}
    decisions = list(sweep(policy, org, principals=_feed(people), now=NOW))
    locked = {d.subject for d in decisions if any(e.kind is EffectKind.LOCK for e in d.effects)}
    sent = {
        d.subject for d in decisions if any(e.kind is EffectKind.RECORD_REMINDER for e in d.effects)
    }
    _check(bool(overdue) and locked == overdue, "the sweep must lock exactly the overdue")
    _check(bool(reminded) and sent == reminded, "the sweep must remind exactly the due")

    report_times = _time(
        lambda: org_compliance_report(policy, org, principals=_feed(people), now=NOW), args.repeat
    )
    sweep_times = _time(
        lambda: sum(1 for _ in sweep(policy, org, principals=_feed(people), now=NOW)), args.repeat
    )

    print(f"Python {platform.python_version()} on {platform.machine()}")
    print(f"{len(people):,} principals built in {built:.3f} s (the loader's cost, not timed below)")
    print(
        f"report: {report.percent_compliant:.1f} % compliant, "
        f"{len(report.reminder_targets):,} reminder targets; "
        f"sweep: {len(locked):,} locks, {len(sent):,} reminders, {len(decisions):,} decisions"
    )
    print()
    print("| function | wall median (s) | wall min (s) | CPU median (s) | principals/s (CPU) |")
    print("|---|---:|---:|---:|---:|")
    for name, (wall, cpu) in (("org_compliance_report", report_times), ("sweep", sweep_times)):
        med = statistics.median(cpu)
        print(
            f"| `{name}` | {statistics.median(wall):.3f} | {min(wall):.3f} | {med:.3f} "
            f"| {len(people) / med:,.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
