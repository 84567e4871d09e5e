"""What the service's calls cost at organization scale (a standalone script).

For SQLite (a temporary file) and PostgreSQL (a throwaway local cluster, when
its server programs are installed) in the same run, this measures:

* **store calls per TOTP sign-in**: a counting proxy around the store counts
  the port calls of one successful ``verify_totp``, for a user in no
  organization and for a member of a large organization;
* **``verify_totp`` time** of a member of a large organization against a user
  in no organization (median of interleaved sign-ins);
* **``send_reminders`` growth** from a small to a four-times larger
  organization whose members have no MFA (linear is 4x);
* **``compliance_report``** time on a large organization, then the report
  taken apart (its parts timed in interleaved rounds, medians): the store's
  pages, the summary statement on the raw connection, the membership rows
  alone, the policy objects, the policy's own report, and the floor they
  give for any report whose policy takes validated ``Principal`` objects;
* with ``--sweep``, on PostgreSQL only: **``sweep``** over many organizations,
  its time per member at a small and a large total, and a second sweep right
  after each (nothing left to lock), which shows what the locks cost.

Setup, not measured: large organizations are written with bulk ``INSERT``
statements on a separate connection to the same database (memberships, active
TOTP rows with placeholder ciphertext, a few backup code sets and security
keys), because creating 1,000,000 members through the service would take
hours. The users who sign in enroll through the service itself.

    .venv/bin/python benchmarks/bench_service.py [--quick] [--no-postgres] [--sweep]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mfakit.backup_codes import CHEAP_FOR_TESTS, Hasher
from mfakit.clock import FrozenClock
from mfakit.otp import TOTP, decode_base32
from mfakit.policy import Method, Principal, org_compliance_report, reference_console
from mfakit.repositories import MemberSummary, MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import (
    InMemoryOutbox,
    MfaService,
    RelyingParty,
    ServiceSettings,
    UserRef,
    decode_policy,
    encode_policy,
)

# Internals, to take the report apart (the benchmark's instrumentation only).
from mfakit.service._directory import SUMMARY_PAGE
from mfakit.service._facts import org_state_of, principal_of_summary
from mfakit.stores._sql_summaries import summary_statement
from mfakit.stores.sqlite import SQLiteStore

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- counting the store's calls -------------------------------------------------------------


class CountingStore:
    """Forwards every port call to a store and counts it by name (``atomic`` apart)."""

    def __init__(self, inner: MfaStore) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.transactions = 0

    def atomic(self) -> contextlib.AbstractContextManager[None]:
        """The inner store's transaction, counted apart from the port calls."""
        self.transactions += 1
        return self.inner.atomic()

    def close(self) -> None:
        """Close the inner store."""
        self.inner.close()

    def total(self) -> int:
        """Port calls counted so far."""
        return sum(self.calls.values())


def _forward(name: str) -> Callable[..., Any]:
    def call(self: CountingStore, *args: Any, **kwargs: Any) -> Any:
        self.calls[name] += 1
        return getattr(self.inner, name)(*args, **kwargs)

    call.__name__ = name
    return call


for _name in dir(MfaStore):
    if not _name.startswith("_") and _name not in ("atomic", "close"):
        setattr(CountingStore, _name, _forward(_name))


# -- bulk setup on a separate connection ------------------------------------------------------


def _us(when: datetime) -> int:
    return (when - _EPOCH) // timedelta(microseconds=1)


@dataclass
class Database:
    """A raw connection to the store's database, for bulk setup only."""

    conn: Any
    placeholder: str

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Insert ``rows`` in one transaction."""
        if not rows:
            return
        marks = ", ".join([self.placeholder] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - constants
        cursor = self.conn.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()
        self.conn.commit()

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load.

        A running PostgreSQL does this itself (autovacuum) soon after a load; a
        benchmark that measures right away must, or the planner guesses table
        sizes from nothing (and may JIT-compile each page's query).
        """
        cursor = self.conn.cursor()
        try:
            cursor.execute("ANALYZE")
        finally:
            cursor.close()
        self.conn.commit()


_ORG_COLUMNS = (
    "org_id",
    "name",
    "policy",
    "enforced",
    "enforced_at",
    "enforcement_stopped_at",
    "created_at",
    "version",
    "enforced_by",
)
_MEMBER_COLUMNS = (
    "org_id",
    "user_id",
    "kind",
    "status",
    "username",
    "joined_at",
    "grace_started_at",
    "grace_reason",
    "locked_at",
    "lock_reason",
    "last_reminder_at",
    "exempt_until",
    "attributes",
    "version",
)
_TOTP_COLUMNS = (
    "user_id",
    "state",
    "totp_id",
    "secret",
    "algorithm",
    "digits",
    "period",
    "created_at",
    "expires_at",
    "confirmed_at",
    "last_step",
    "name",
)


def populate(
    db: Database,
    org_ids: Sequence[str],
    members_per_org: int,
    *,
    with_mfa: float,
    overdue: float = 0.0,
    create_orgs: bool = True,
    enforced: bool = False,
) -> None:
    """Add organizations of ``members_per_org`` members each, in bulk (setup only).

    A fraction ``with_mfa`` of the members has an active TOTP (one in ten of
    those also a backup code set, one in fifty a security key); a fraction
    ``overdue`` lost their last method long ago (a lock is due under
    enforcement); the rest have no method.
    """
    joined = _us(START - timedelta(days=90))
    policy = json.dumps(encode_policy(reference_console()), sort_keys=True)
    if create_orgs:
        db.insert(
            "mfa_organizations",
            _ORG_COLUMNS,
            [
                (
                    org,
                    org,
                    policy,
                    int(enforced),
                    joined if enforced else None,
                    None,
                    joined,
                    1,
                    None,
                )
                for org in org_ids
            ],
        )
    lost = _us(START - timedelta(days=30))
    chunk = 20_000
    members: list[tuple[Any, ...]] = []
    totps: list[tuple[Any, ...]] = []
    sets: list[tuple[Any, ...]] = []
    codes: list[tuple[Any, ...]] = []
    keys: list[tuple[Any, ...]] = []
    n_mfa = round(members_per_org * with_mfa)
    n_overdue = round(members_per_org * overdue)

    def flush() -> None:
        db.insert("mfa_memberships", _MEMBER_COLUMNS, members)
        db.insert("mfa_totp", _TOTP_COLUMNS, totps)
        db.insert("mfa_backup_code_sets", ("user_id", "replaced"), sets)
        db.insert(
            "mfa_backup_codes", ("user_id", "code_id", "hash", "created_at", "consumed_at"), codes
        )
        db.insert(
            "mfa_webauthn_credentials",
            (
                "credential_id",
                "user_id",
                "name",
                "public_key",
                "sign_count",
                "transports",
                "aaguid",
                "backup_eligible",
                "backup_state",
                "created_at",
                "last_used_at",
                "kind",
            ),
            keys,
        )
        for batch in (members, totps, sets, codes, keys):
            batch.clear()

    for org in org_ids:
        for i in range(members_per_org):
            user = f"{org}-u{i:07d}"
            owner = i == 0
            late = not owner and n_mfa <= i < n_mfa + n_overdue
            members.append(
                (
                    org,
                    user,
                    "owner" if owner else "member",
                    "active",
                    None,
                    joined,
                    lost if late else None,
                    "lost_method" if late else None,
                    None,
                    None,
                    None,
                    None,
                    "{}",
                    1,
                )
            )
            if owner or i < n_mfa:
                totps.append(
                    (
                        user,
                        "active",
                        f"t-{user}",
                        b"placeholder",
                        "sha1",
                        6,
                        30,
                        joined,
                        None,
                        joined,
                        0,
                        "Authenticator app",
                    )
                )
                if i % 10 == 1:
                    sets.append((user, 0))
                    codes.extend((user, f"c{k}", "x", joined, None) for k in range(10))
                if i % 50 == 2:
                    keys.append(
                        (
                            user.encode(),
                            user,
                            "key",
                            b"k",
                            0,
                            "[]",
                            bytes(16),
                            0,
                            0,
                            joined,
                            None,
                            "security_key",
                        )
                    )
            if len(members) >= chunk:
                flush()
    flush()
    db.analyze()


# -- the service -----------------------------------------------------------------------------


def make_service(store: Any, clock: FrozenClock) -> MfaService:
    """A service over ``store`` (cheap Argon2: no backup code is checked here)."""
    return MfaService(
        store=store,
        keys=KeyRing({"k1": generate_key()}, current="k1"),
        notifier=InMemoryOutbox(),
        clock=clock,
        relying_party=RelyingParty(
            rp_id="console.example", rp_name="Console", origins=("https://console.example",)
        ),
        issuer="Console",
        login_code_key=bytes(32),
        settings=ServiceSettings(backup_code_hasher=Hasher(profile=CHEAP_FOR_TESTS)),
    )


@dataclass
class Bench:
    """One store under test: the counting proxy, its service, the clock, the raw connection."""

    name: str
    store: CountingStore
    service: MfaService
    clock: FrozenClock
    db: Database


def enroll(bench: Bench, user_id: str) -> TOTP:
    """Enroll ``user_id`` in TOTP through the service; return their app."""
    enrollment = bench.service.begin_totp_enrollment(UserRef(user_id=user_id, name=user_id))
    app = TOTP(decode_base32(enrollment.manual_key.replace(" ", "")))
    bench.service.confirm_totp(user_id, enrollment.totp_id, app.at(bench.clock.now()))
    bench.clock.advance(30)
    return app


def sign_in(bench: Bench, user_id: str, app: TOTP) -> int:
    """One successful ``verify_totp``; return the port calls it made."""
    bench.clock.advance(30)
    before = bench.store.total()
    bench.service.verify_totp(user_id, app.at(bench.clock.now()))
    return bench.store.total() - before


def big_org(bench: Bench, org_id: str, members: int, *, with_mfa: float = 0.9) -> str:
    """An organization of ``members`` members (the owner enrolled through the service)."""
    owner = f"{org_id}-owner"
    enroll(bench, owner)
    bench.service.create_organization(org_id, name=org_id, owner_id=owner)
    populate(bench.db, [org_id], members - 1, with_mfa=with_mfa, create_orgs=False)
    # populate() made its first member an owner: one more active owner, as in real orgs.
    return owner


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# -- the measures ----------------------------------------------------------------------------


@dataclass
class Sizes:
    """How large each measure's organizations are."""

    calls_org: int
    timing_org: int
    reminders: tuple[int, int]
    report_org: int
    sweep: tuple[int, int]
    sweep_org: int
    signins: int


FULL = Sizes(
    calls_org=100_000,
    timing_org=20_000,
    reminders=(500, 2_000),
    report_org=100_000,
    sweep=(10_000, 1_000_000),
    sweep_org=100,
    signins=41,
)
QUICK = Sizes(
    calls_org=10_000,
    timing_org=2_000,
    reminders=(250, 1_000),
    report_org=10_000,
    sweep=(1_000, 20_000),
    sweep_org=100,
    signins=21,
)


def measure_calls(bench: Bench, sizes: Sizes) -> dict[str, Any]:
    """Port calls of a successful TOTP sign-in: no organization, then a large one."""
    solo = "solo-user"
    solo_app = enroll(bench, solo)
    sign_in(bench, solo, solo_app)  # warm up (first-time rows)
    bench.store.calls.clear()
    solo_calls = sign_in(bench, solo, solo_app)
    solo_detail = dict(bench.store.calls)
    owner = big_org(bench, "calls-org", sizes.calls_org)
    owner_app_member = "calls-org-member"
    app = enroll(bench, owner_app_member)
    bench.service.add_member("calls-org", owner_app_member)
    sign_in(bench, owner_app_member, app)
    bench.store.calls.clear()
    member_calls = sign_in(bench, owner_app_member, app)
    member_detail = dict(bench.store.calls)
    del owner
    return {
        "solo": solo_calls,
        "member": member_calls,
        "solo_detail": solo_detail,
        "member_detail": member_detail,
    }


def measure_signin_time(bench: Bench, sizes: Sizes) -> tuple[float, float]:
    """Median ``verify_totp`` seconds: a user in no organization, a member of a large one."""
    solo = "time-solo"
    solo_app = enroll(bench, solo)
    big_org(bench, "time-org", sizes.timing_org)
    member = "time-member"
    member_app = enroll(bench, member)
    bench.service.add_member("time-org", member)
    solo_times: list[float] = []
    member_times: list[float] = []
    for _ in range(sizes.signins):
        for user, app, times in ((solo, solo_app, solo_times), (member, member_app, member_times)):
            bench.clock.advance(30)
            code = app.at(bench.clock.now())
            times.append(_timed(lambda u=user, c=code: bench.service.verify_totp(u, c)))
    return statistics.median(solo_times), statistics.median(member_times)


def measure_reminders(bench: Bench, sizes: Sizes) -> tuple[float, float, int, int]:
    """``send_reminders`` seconds and port calls at two sizes; members have no MFA."""
    results: list[tuple[float, int]] = []
    for n in sizes.reminders:
        org = f"remind-{n}"
        owner = big_org(bench, org, n, with_mfa=0.0)
        before = bench.store.total()
        seconds = _timed(lambda o=org, a=owner: bench.service.send_reminders(o, actor_id=a))
        results.append((seconds, bench.store.total() - before))
    (t_small, c_small), (t_big, c_big) = results
    return t_small, t_big, c_small, c_big


def measure_report(bench: Bench, sizes: Sizes) -> tuple[float, int]:
    """``compliance_report`` seconds and port calls on a large organization."""
    big_org(bench, "report-org", sizes.report_org)
    bench.service.compliance_report("report-org")  # warm the database's cache
    before = bench.store.total()
    seconds = min(_timed(lambda: bench.service.compliance_report("report-org")) for _ in range(3))
    return seconds, (bench.store.total() - before) // 3


#: The membership columns the policy reads (what a report cannot avoid fetching).
_POLICY_MEMBER_COLS = (
    "user_id, kind, status, joined_at, grace_started_at, grace_reason, locked_at, "
    "lock_reason, last_reminder_at, exempt_until, attributes"
)


def _raw_pages(bench: Bench, statement: str, org_id: str, *, key: int) -> None:
    """Run ``statement`` page by page on the raw connection.

    Its parameters are the organization, the last user id of the previous page
    (column ``key`` of the rows) and the page size plus one. Nothing is
    decoded: the driver's own rows, as a lower bound for the store.
    """
    sql = statement.replace("?", bench.db.placeholder)
    after = ""
    conn = bench.db.conn
    while True:
        cursor = conn.execute(sql, [org_id, after, SUMMARY_PAGE + 1])
        rows = cursor.fetchall()
        cursor.close()
        if len(rows) <= SUMMARY_PAGE:
            break
        after = rows[SUMMARY_PAGE - 1][key]
    conn.commit()  # PostgreSQL: end the read transaction


def measure_report_parts(bench: Bench, org_id: str, rounds: int = 3) -> dict[str, float]:
    """Where ``compliance_report``'s time goes on one organization (median seconds).

    Each part runs once per round, interleaved with the others and with the
    report itself, on the same organization:

    * ``report``: the whole ``compliance_report``;
    * ``pages``: the store's summary pages (records built, no policy object);
    * ``statement``: the store's summary statement on the raw connection (no record);
    * ``rows``: only the membership columns the policy reads, on the raw connection;
    * ``principals``: the service's ``Principal`` (with its ``Method`` facts) for
      each summary, from summaries read beforehand;
    * ``constructors``: the ``Principal`` and ``Method`` constructors alone, with
      the same fields;
    * ``policy``: the policy's streaming report over principals built beforehand.

    ``rows + constructors + policy`` is a floor for any report whose policy
    takes validated ``Principal`` objects: the rows must be read, the objects
    built, and the policy run, even with every factor fact free.
    """
    store = bench.store.inner
    org = store.get_organization(org_id)
    assert org is not None  # noqa: S101 - made by the caller
    policy = decode_policy(org.policy)
    state = org_state_of(org, store.count_active_owners(org_id))
    now = bench.clock.now()

    def pages() -> list[MemberSummary]:
        out: list[MemberSummary] = []
        after: str | None = None
        while True:
            page = store.list_member_summaries(org_id, after=after, limit=SUMMARY_PAGE)
            out.extend(page.items)
            if page.next_cursor is None:
                return out
            after = page.next_cursor

    summaries = pages()
    principals = [principal_of_summary(s) for s in summaries]
    statement = summary_statement("org_id = ? AND user_id > ?", ["user_id"], 0)
    rows = (
        f"SELECT {_POLICY_MEMBER_COLS} FROM mfa_memberships "  # noqa: S608 - constants
        "WHERE org_id = ? AND user_id > ? ORDER BY user_id LIMIT ?"
    )

    # Each principal's fields and its methods' fields, read before the timing.
    prepared = [
        (
            {f.name: getattr(p, f.name) for f in fields(p) if f.name != "methods"},
            [{f.name: getattr(m, f.name) for f in fields(m)} for m in p.methods],
        )
        for p in principals
    ]

    def rebuild() -> None:
        for given, methods in prepared:
            Principal(**given, methods=tuple(Method(**m) for m in methods))

    parts: dict[str, Callable[[], object]] = {
        "report": lambda: bench.service.compliance_report(org_id),
        "pages": pages,
        # The summary statement starts with org_id, user_id; the rows with user_id.
        "statement": lambda: _raw_pages(bench, statement, org_id, key=1),
        "rows": lambda: _raw_pages(bench, rows, org_id, key=0),
        "principals": lambda: [principal_of_summary(s) for s in summaries],
        "constructors": rebuild,
        "policy": lambda: org_compliance_report(policy, state, principals=principals, now=now),
    }
    times: dict[str, list[float]] = {name: [] for name in parts}
    for _ in range(rounds):
        for name, fn in parts.items():
            times[name].append(_timed(fn))
    return {name: statistics.median(ts) for name, ts in times.items()}


@dataclass
class SweepRun:
    """One measured sweep: members, seconds, port calls, members locked, and a second sweep."""

    members: int
    seconds: float
    calls: int
    locked: int
    again: float


def measure_sweep(bench: Bench, sizes: Sizes) -> list[SweepRun]:
    """``sweep`` over ``sizes.sweep`` members in organizations of ``sizes.sweep_org``.

    The organizations enforce MFA; 98 % of the members have TOTP, 1 % lost
    their last method long ago and 1 % never enrolled (the sweep locks both,
    2 % in all, once). Right after each sweep, a second one finds nothing
    left to lock: the difference is what the locks cost.
    """
    out: list[SweepRun] = []
    made = 0
    for total in sizes.sweep:
        orgs = total // sizes.sweep_org
        new = [f"sw{i:06d}" for i in range(made, orgs)]
        populate(bench.db, new, sizes.sweep_org, with_mfa=0.98, overdue=0.01, enforced=True)
        made = orgs
        before = bench.store.total()
        start = time.perf_counter()
        report = bench.service.sweep()
        seconds = time.perf_counter() - start
        calls = bench.store.total() - before
        again = _timed(bench.service.sweep)
        out.append(SweepRun(total, seconds, calls, len(report.locked), again))
    return out


# -- stores and the table --------------------------------------------------------------------


@contextlib.contextmanager
def benches(with_postgres: bool) -> Iterator[list[Bench]]:
    """A fresh SQLite store and, when possible, a PostgreSQL one, each with a service."""
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        out: list[Bench] = []
        path = tmp / "bench.sqlite3"
        sqlite_store = SQLiteStore(path)
        stack.callback(sqlite_store.close)
        raw = sqlite3.connect(path)
        stack.callback(raw.close)
        clock = FrozenClock(START)
        counted = CountingStore(sqlite_store)
        out.append(
            Bench("sqlite", counted, make_service(counted, clock), clock, Database(raw, "?"))
        )
        if with_postgres:
            from mfakit.testing.postgres import TemporaryPostgres, find_postgres_bin

            if find_postgres_bin() is None:
                print("PostgreSQL not installed: skipping it", file=sys.stderr)
            else:
                import psycopg

                from mfakit.stores.postgres import PostgresStore

                pg = stack.enter_context(TemporaryPostgres(database="bench"))
                pg_store = PostgresStore(pg.dsn)
                stack.callback(pg_store.close)
                conn = psycopg.connect(pg.dsn)
                stack.callback(conn.close)
                clock = FrozenClock(START)
                counted = CountingStore(pg_store)
                out.append(
                    Bench(
                        "postgres",
                        counted,
                        make_service(counted, clock),
                        clock,
                        Database(conn, "%s"),
                    )
                )
        yield out


_PART_NAMES = {
    "report": "`compliance_report` (the whole call)",
    "pages": "the store's summary pages (records, no policy object)",
    "statement": "the summary statement on the raw connection (no record)",
    "rows": "the membership columns the policy reads, raw connection",
    "principals": "the service's `Principal`s from summaries read before",
    "constructors": "`Principal` and `Method` constructors alone",
    "policy": "the policy's report over principals built before",
}


def print_report_parts(parts: dict[str, float], members: int) -> None:
    """Print where the report's time goes, and the floor, as a Markdown table."""
    print(f"\nWhere `compliance_report` spends its time ({members:,} members; medians):\n")
    print("| part | seconds | us per member |")
    print("|---|---:|---:|")
    for name, label in _PART_NAMES.items():
        print(f"| {label} | {parts[name]:.3f} | {parts[name] / members * 1e6:.1f} |")
    floor = parts["rows"] + parts["constructors"] + parts["policy"]
    print(f"| floor: rows + constructors + policy | {floor:.3f} | {floor / members * 1e6:.1f} |")


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def main(argv: list[str] | None = None) -> int:
    """Run the measures and print a Markdown table per store."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller organizations")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--sweep", action="store_true", help="also the sweep (PostgreSQL)")
    parser.add_argument("--only-sweep", action="store_true", help="only the sweep (PostgreSQL)")
    parser.add_argument("--report-org", type=int, help="override the compliance_report size")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.report_org:
        sizes.report_org = args.report_org
    with benches(not args.no_postgres) as all_benches:
        for bench in all_benches:
            rows: list[tuple[str, str, str, str]] = []
            parts: dict[str, float] = {}
            if not args.only_sweep:
                calls = measure_calls(bench, sizes)
                rows.append(
                    (
                        (
                            "store calls per TOTP sign-in (no org / "
                            f"member of a {sizes.calls_org:,}-member org)"
                        ),
                        f"{calls['solo']} / {calls['member']}",
                        "<= 6, the same",
                        _met(calls["member"] <= 6 and calls["solo"] <= 6),
                    )
                )
                print(f"[{bench.name}] calls, no org: {calls['solo_detail']}", file=sys.stderr)
                print(f"[{bench.name}] calls, member: {calls['member_detail']}", file=sys.stderr)
                solo_t, member_t = measure_signin_time(bench, sizes)
                rows.append(
                    (
                        f"`verify_totp` median, member of {sizes.timing_org:,} / no org",
                        (
                            f"{member_t * 1e3:.2f} ms / {solo_t * 1e3:.2f} ms = "
                            f"{member_t / solo_t:.2f}x"
                        ),
                        "<= 1.5x",
                        _met(member_t / solo_t <= 1.5),
                    )
                )
                t_small, t_big, c_small, c_big = measure_reminders(bench, sizes)
                small, big = sizes.reminders
                rows.append(
                    (
                        f"`send_reminders` {small:,} -> {big:,} members",
                        (
                            f"{t_small:.3f} s -> {t_big:.3f} s = {t_big / t_small:.2f}x "
                            f"({c_small} -> {c_big} store calls)"
                        ),
                        "<= 5x",
                        _met(t_big / t_small <= 5),
                    )
                )
                seconds, report_calls = measure_report(bench, sizes)
                rows.append(
                    (
                        f"`compliance_report`, {sizes.report_org:,} members",
                        f"{seconds:.3f} s ({report_calls} store calls)",
                        "<= 1.5 s",
                        _met(seconds <= 1.5),
                    )
                )
                parts = measure_report_parts(bench, "report-org")
            if (args.sweep or args.only_sweep) and bench.name == "postgres":
                sw_small, sw_large = measure_sweep(bench, sizes)
                per1 = sw_small.seconds / sw_small.members
                per2 = sw_large.seconds / sw_large.members
                rows.append(
                    (
                        (
                            f"`sweep`, {sw_small.members:,} -> {sw_large.members:,} members "
                            f"({sizes.sweep_org} per org)"
                        ),
                        (
                            f"{sw_small.seconds:.2f} s ({per1 * 1e6:.1f} us/member, "
                            f"{sw_small.calls} calls) -> {sw_large.seconds:.2f} s "
                            f"({per2 * 1e6:.1f} us/member, {sw_large.calls} calls) = "
                            f"{per2 / per1:.2f}x per member"
                        ),
                        "<= 1.5x per member, < 60 s",
                        _met(per2 / per1 <= 1.5 and sw_large.seconds < 60),
                    )
                )
                lock_ms = (sw_large.seconds - sw_large.again) / max(sw_large.locked, 1) * 1e3
                rows.append(
                    (
                        f"the same {sw_large.members:,} again at once (nothing left to lock)",
                        (
                            f"{sw_large.again:.2f} s "
                            f"({sw_large.again / sw_large.members * 1e6:.1f} us/member); "
                            f"the first one locked {sw_large.locked:,} members, "
                            f"about {lock_ms:.1f} ms each"
                        ),
                        "",
                        "",
                    )
                )
            print(f"\n### {bench.name}\n")
            print("| measure | result | target | met |")
            print("|---|---|---|---|")
            for row in rows:
                print("| " + " | ".join(row) + " |")
            if parts:
                print_report_parts(parts, sizes.report_org)
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
