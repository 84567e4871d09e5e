"""Builders of policy facts for the tests: short to write, valid by default."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from mfakit.policy import (
    GraceAnchor,
    GraceKind,
    Method,
    MethodKind,
    OrgState,
    Principal,
    PrincipalKind,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ENFORCED_AT = NOW - timedelta(days=30)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def method(mid: str = "totp-1", kind: MethodKind | str = MethodKind.TOTP, **kw: Any) -> Method:
    """A confirmed method created 60 days before NOW."""
    kw.setdefault("created_at", NOW - timedelta(days=60))
    return Method(id=mid, kind=MethodKind(kind), **kw)


def methods(*kinds: MethodKind | str) -> tuple[Method, ...]:
    """One method per kind, with ids ``<kind>-<n>``."""
    return tuple(method(f"{MethodKind(k).value}-{i}", k) for i, k in enumerate(kinds))


def person(
    pid: str = "m1",
    *,
    kind: PrincipalKind | str = PrincipalKind.MEMBER,
    with_methods: Iterable[MethodKind | str] = (MethodKind.TOTP,),
    **kw: Any,
) -> Principal:
    """A principal whose methods are given as kinds (default: one TOTP)."""
    kw.setdefault("methods", methods(*with_methods))
    kw.setdefault("last_mfa_at", NOW - timedelta(minutes=1))
    return Principal(id=pid, kind=PrincipalKind(kind), **kw)


def owner(pid: str = "o1", **kw: Any) -> Principal:
    """An owner with one TOTP and a fresh MFA verification."""
    return person(pid, kind=PrincipalKind.OWNER, **kw)


def bare(pid: str = "m2", **kw: Any) -> Principal:
    """A principal with no methods at all."""
    return person(pid, with_methods=(), **kw)


def org(*, enforced: bool = True, owners: int = 2, since: datetime = ENFORCED_AT) -> OrgState:
    """An organization, enforcing since ENFORCED_AT by default."""
    return OrgState(
        id="org-1",
        enforced_since=since if enforced else None,
        enforced_by="o1" if enforced else None,
        owner_count=owners,
    )


def anchor(kind: GraceKind, started_at: datetime) -> GraceAnchor:
    """A stored grace anchor."""
    return GraceAnchor(kind=kind, started_at=started_at)
