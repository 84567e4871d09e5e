"""Properties of the policy that must hold for any facts, policy and time."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfakit.errors import ConfigurationError
from mfakit.policy import (
    ComplianceStatus,
    EffectKind,
    Exemption,
    GraceAnchor,
    GraceKind,
    LastMethodRemoval,
    Lock,
    LockReason,
    Method,
    MethodKind,
    OrgPolicy,
    OrgState,
    Outcome,
    PostDeadlineAction,
    Principal,
    PrincipalKind,
    PrincipalStatus,
    can_remove_method,
    evaluate_login,
    evaluate_sensitive_action,
    gradual_rollout,
    member_compliance,
    org_compliance_report,
    reference_console,
    remove_noncompliant,
    sweep,
)

from .helpers import NOW

PROFILE = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

offsets = st.integers(min_value=-60 * 86400, max_value=60 * 86400).map(
    lambda s: NOW + timedelta(seconds=s)
)
maybe_time = st.none() | offsets
# Long after every generated anchor: most principals without MFA are overdue by then.
late = st.integers(min_value=91 * 86400, max_value=150 * 86400).map(
    lambda s: NOW + timedelta(seconds=s)
)


@st.composite
def policies(draw: st.DrawFn) -> OrgPolicy:
    """A preset, with some durations and actions varied."""
    base = draw(
        st.sampled_from(
            [reference_console(), remove_noncompliant(), gradual_rollout(), OrgPolicy()]
        )
    )
    days = st.integers(min_value=0, max_value=30).map(lambda d: timedelta(days=d))
    return dataclasses.replace(
        base,
        grace_existing=draw(days),
        grace_lost_method=draw(days),
        after_deadline=draw(st.sampled_from(PostDeadlineAction)),
        last_method_removal=draw(st.sampled_from(LastMethodRemoval)),
        backup_codes_count=draw(st.booleans()),
        min_methods=draw(st.integers(min_value=1, max_value=2)),
    )


@st.composite
def methods(draw: st.DrawFn) -> tuple[Method, ...]:
    """Zero to three methods of any kind."""
    kinds = draw(st.lists(st.sampled_from(MethodKind), max_size=3))
    return tuple(
        Method(
            id=f"m{i}",
            kind=k,
            created_at=NOW - timedelta(days=90),
            confirmed=draw(st.sampled_from([True, True, True, False])),
        )
        for i, k in enumerate(kinds)
    )


@st.composite
def principals(
    draw: st.DrawFn, *, lock: bool | None = None, future_exemptions: bool = True
) -> Principal:
    """Any principal; ``lock`` forces a lock on (True) or off (False)."""
    has_lock = draw(st.booleans()) if lock is None else lock
    exemption = None
    if draw(st.booleans()):
        start = draw(offsets)
        if not future_exemptions:
            start = min(start, NOW - timedelta(days=61))
        length = timedelta(days=draw(st.integers(min_value=1, max_value=120)))
        exemption = Exemption(granted_by="o1", granted_at=start, expires_at=start + length)
    grace = None
    if draw(st.booleans()):
        grace = GraceAnchor(kind=draw(st.sampled_from(GraceKind)), started_at=draw(offsets))
    return Principal(
        id="p1",
        kind=draw(st.sampled_from(PrincipalKind)),
        status=draw(st.sampled_from([*[PrincipalStatus.ACTIVE] * 6, *PrincipalStatus])),
        methods=draw(methods()),
        joined_at=draw(maybe_time),
        grace=grace,
        last_reminder_at=draw(maybe_time),
        exemption=exemption,
        lock=Lock(reason=draw(st.sampled_from(LockReason)), locked_at=draw(offsets))
        if has_lock
        else None,
        failed_attempts=draw(st.integers(min_value=0, max_value=12)),
        last_mfa_at=draw(maybe_time),
    )


orgs = st.builds(
    OrgState,
    id=st.just("org-1"),
    enforced_since=maybe_time,
    owner_count=st.integers(min_value=0, max_value=3),
)


def _lock_in_force(policy: OrgPolicy, p: Principal, now: Any) -> bool:
    if p.lock is None:
        return False
    if p.lock.reason is LockReason.FAILED_ATTEMPTS and policy.failed_attempts_lockout is not None:
        return now < p.lock.locked_at + policy.failed_attempts_lockout
    return True


@PROFILE
@given(policy=policies(), org=orgs, p=principals(), now=offsets)
def test_locked_or_removed_principals_are_never_let_in(
    policy: OrgPolicy, org: OrgState, p: Principal, now: Any
) -> None:
    """A principal with a lock in force, or removed, never gets ALLOW at sign-in."""
    decision = evaluate_login(policy, org, principal=p, now=now)
    if p.status is PrincipalStatus.REMOVED or _lock_in_force(policy, p, now):
        assert decision.outcome is Outcome.DENY
        step = evaluate_sensitive_action(policy, org, principal=p, action="remove_method", now=now)
        assert step.outcome is Outcome.DENY


@PROFILE
@given(policy=policies(), org=orgs, p=principals(), now=offsets)
def test_decisions_are_deterministic(
    policy: OrgPolicy, org: OrgState, p: Principal, now: Any
) -> None:
    """The same facts, policy and time always give the same decisions (and valid JSON)."""
    first = evaluate_login(policy, org, principal=p, now=now)
    again = evaluate_login(
        policy, dataclasses.replace(org), principal=dataclasses.replace(p), now=now
    )
    assert first == again
    assert member_compliance(policy, org, principal=p, now=now) == member_compliance(
        policy, org, principal=p, now=now
    )
    assert list(sweep(policy, org, principals=[p], now=now)) == list(
        sweep(policy, org, principals=[p], now=now)
    )
    json.dumps(first.to_dict())


@PROFILE
@given(
    policy=policies(),
    org=orgs,
    p=principals(lock=False, future_exemptions=False),
    now=offsets | late,
    later=st.integers(min_value=0, max_value=400 * 86400),
)
def test_time_never_rescues_an_overdue_principal(
    policy: OrgPolicy, org: OrgState, p: Principal, now: Any, later: int
) -> None:
    """Once overdue, a principal stays overdue as time passes, until the facts change."""
    if member_compliance(policy, org, principal=p, now=now).status is ComplianceStatus.OVERDUE:
        after = now + timedelta(seconds=later)
        status = member_compliance(policy, org, principal=p, now=after)
        assert status.status is ComplianceStatus.OVERDUE
        assert evaluate_login(policy, org, principal=p, now=after).outcome is not Outcome.ALLOW


@PROFILE
@given(policy=policies(), org=orgs, p=principals(), now=offsets)
def test_compliant_principals_never_get_a_deadline_lock(
    policy: OrgPolicy, org: OrgState, p: Principal, now: Any
) -> None:
    """A compliant principal is never locked (nor removed) for a missed MFA deadline."""
    p = dataclasses.replace(
        p, failed_attempts=min(p.failed_attempts, policy.max_failed_attempts - 1)
    )
    if not member_compliance(policy, org, principal=p, now=now).has_mfa:
        return
    decisions = [
        evaluate_login(policy, org, principal=p, now=now),
        *sweep(policy, org, principals=[p], now=now),
    ]
    if len(p.methods) > 1:
        decisions.append(
            can_remove_method(
                policy,
                org,
                principal=p,
                method_id=p.methods[0].id,
                confirmation="DELETE",
                now=now,
            )
        )
    for decision in decisions:
        for effect in decision.effects:
            assert effect.kind is not EffectKind.LOCK or effect.lock_reason is not (
                LockReason.MFA_DEADLINE
            )
            assert effect.kind is not EffectKind.REMOVE_MEMBER
    assert all(e.kind is not EffectKind.LOCK for e in decisions[0].effects)


@PROFILE
@given(
    policy=policies(),
    org=orgs,
    people=st.lists(principals(), max_size=6),
    now=offsets | late,
)
def test_report_agrees_with_member_compliance(
    policy: OrgPolicy, org: OrgState, people: list[Principal], now: Any
) -> None:
    """The streaming report's counts and targets equal the per-principal statuses."""
    people = [dataclasses.replace(p, id=f"p{i}") for i, p in enumerate(people)]
    report = org_compliance_report(policy, org, principals=iter(people), now=now)
    statuses = [member_compliance(policy, org, principal=p, now=now) for p in people]
    for status in ComplianceStatus:
        assert report.counts[status] == sum(1 for s in statuses if s.status is status)
    assert report.satisfied + len(report.reminder_targets) == report.required
    assert all(not s.has_mfa for s in statuses if s.principal_id in report.reminder_targets)


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=5),
    st.text(max_size=5),
    st.sampled_from(["owner", "totp", "lock", "admin", "start_grace", "remove_method"]),
    st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=400)),
    offsets,
    st.lists(st.sampled_from(["owner", "totp", 3, None]), max_size=3),
    st.lists(st.lists(st.integers(), max_size=1), max_size=2),
    st.dictionaries(
        st.sampled_from(["owner", "member", "x"]), st.sampled_from([["totp"], 1, "totp"])
    ),
)
POLICY_FIELDS = [f.name for f in dataclasses.fields(OrgPolicy) if f.init]
PRINCIPAL_FIELDS = [f.name for f in dataclasses.fields(Principal) if f.name != "id"]


def _error(build: Callable[[], object]) -> str | None:
    try:
        build()
    except ConfigurationError as exc:
        return str(exc)
    return None


@PROFILE
@given(data=st.data())
def test_policy_and_facts_refuse_junk_with_configuration_error(data: st.DataObject) -> None:
    """Any field set to junk either builds or raises ConfigurationError naming a field."""
    fields = data.draw(st.lists(st.sampled_from(POLICY_FIELDS), min_size=1, max_size=3))
    values = {name: data.draw(junk) for name in fields}
    message = _error(lambda: OrgPolicy(**values))
    assert message is None or any(f"OrgPolicy.{name}" in message for name in fields)
    fields = data.draw(st.lists(st.sampled_from(PRINCIPAL_FIELDS), min_size=1, max_size=3))
    values = {name: data.draw(junk) for name in fields}
    message = _error(lambda: Principal(id="p", **values))
    assert message is None or any(f"Principal.{name}" in message for name in fields)
    a, b, c = data.draw(junk), data.draw(junk), data.draw(junk)
    _error(lambda: Method(id="m", kind=a, created_at=b, label=c))
    _error(lambda: Exemption(granted_by="o", granted_at=a, expires_at=b))
    _error(lambda: Lock(reason=a, locked_at=b, locked_by=c))
    _error(lambda: OrgState(id="o", enforced_since=a, owner_count=b))
