"""What the service's calls cost in store calls: constant sign-in, one query per page org-wide."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from counting import PAGE_CALLS, CountingStore
from service_helpers import ORIGIN, RP_ID, SETTINGS, App, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import InvalidCodeError, PolicyDeniedError
from mfakit.repositories import Membership, MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import InMemoryOutbox, MfaService, RelyingParty, UserRef, _directory
from mfakit.testing import SoftAuthenticator

#: Members per summary page in these tests, so that small organizations span pages.
PAGE = 10
#: Port calls of a successful TOTP sign-in, by a user in no organization or a
#: member of any number of organizations of any size: memberships, factors,
#: the charge, the step, the reset with the step-up stamp, the audit.
TOTP_SIGN_IN = 6
#: ... of a member with a backup code (the consume, and a recount of the codes left).
MEMBER_BACKUP_CODE_SIGN_IN = 7
#: ... of an owner with a passkey for one organization (challenge, credential, counter).
OWNER_PASSKEY_SIGN_IN = 8
#: ... of an owner signing in with a passkey and no username, for one organization:
#: the challenge, the credential found by id, then a passkey second factor's calls.
OWNER_PASSKEY_SIGN_IN_WITHOUT_USERNAME = 8
#: What a successful TOTP sign-in calls, whoever signs in (``append_audit_event``
#: when one event is written, ``append_audit_events`` for several).
TOTP_SIGN_IN_CALLS = {
    "list_user_memberships_with_orgs",
    "get_user_factors",
    "record_failure",
    "advance_totp_step",
    "record_second_factor",
}


@pytest.fixture
def counted(store: MfaStore) -> CountingStore:
    """The test's store behind a counting proxy."""
    return CountingStore(store)


@pytest.fixture
def service(
    counted: CountingStore,
    clock: FrozenClock,
    outbox: InMemoryOutbox,
    monkeypatch: pytest.MonkeyPatch,
) -> MfaService:
    """A service over the counting proxy, with small summary pages."""
    monkeypatch.setattr(_directory, "SUMMARY_PAGE", PAGE)
    return MfaService(
        store=counted,  # type: ignore[arg-type]
        keys=KeyRing({"k1": generate_key()}, current="k1"),
        notifier=outbox,
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=SETTINGS,
    )


def _org(
    service: MfaService, store: CountingStore, clock: FrozenClock, org_id: str, members: int
) -> None:
    """An organization of an owner with TOTP and ``members`` members added straight to the store."""
    enroll_totp(service, clock, f"{org_id}-owner")
    service.create_organization(org_id, name=org_id, owner_id=f"{org_id}-owner")
    for i in range(members):
        store.inner.add_membership(
            Membership(org_id=org_id, user_id=f"{org_id}-m{i:04d}", joined_at=clock.now())
        )


def _member(service: MfaService, clock: FrozenClock, org_id: str, user_id: str) -> App:
    app, _ = enroll_totp(service, clock, user_id)
    service.add_member(org_id, user_id)
    return app


def _sign_in(
    service: MfaService, store: CountingStore, clock: FrozenClock, user: str, app: App
) -> int:
    clock.advance(30)
    store.reset()
    service.verify_totp(user, app.code())
    return store.total


def test_totp_sign_in_costs_the_same_in_a_small_and_a_big_organization(
    service: MfaService, counted: CountingStore, clock: FrozenClock
) -> None:
    """A member's TOTP sign-in makes as many store calls in a 60-member org as in a 1-member one."""
    _org(service, counted, clock, "small", 0)
    _org(service, counted, clock, "big", 60)
    small = _sign_in(service, counted, clock, "s", _member(service, clock, "small", "s"))
    big = _sign_in(service, counted, clock, "b", _member(service, clock, "big", "b"))
    assert small == big == TOTP_SIGN_IN


def test_totp_sign_in_outside_any_organization_is_bounded(
    service: MfaService, counted: CountingStore, clock: FrozenClock
) -> None:
    """A user in no organization signs in with TOTP in a fixed, small number of store calls."""
    app, _ = enroll_totp(service, clock, "solo")
    assert _sign_in(service, counted, clock, "solo", app) == TOTP_SIGN_IN


def _audit_free(calls: Counter[str]) -> dict[str, int]:
    """The calls without the audit write (one or several events, one call either way)."""
    audit = calls["append_audit_event"] + calls["append_audit_events"]
    assert audit == 1
    return {name: n for name, n in calls.items() if not name.startswith("append_audit_event")}


def test_member_of_two_orgs_signs_in_like_a_user_in_none(
    service: MfaService, counted: CountingStore, clock: FrozenClock
) -> None:
    """A member of two organizations makes the very calls of a no-org user: no membership write."""
    _org(service, counted, clock, "one", 5)
    _org(service, counted, clock, "two", 5)
    app, _ = enroll_totp(service, clock, "solo")
    _sign_in(service, counted, clock, "solo", app)
    solo = _audit_free(counted.calls)
    app = _member(service, clock, "one", "both")
    service.add_member("two", "both")
    _sign_in(service, counted, clock, "both", app)
    both = _audit_free(counted.calls)
    assert solo == both == dict.fromkeys(TOTP_SIGN_IN_CALLS, 1)
    assert counted.calls["update_membership"] == 0


def test_sign_in_stamps_the_user_once_whatever_the_orgs(
    service: MfaService, counted: CountingStore, clock: FrozenClock
) -> None:
    """The step-up stamp is the user's: one record, read back for each organization."""
    _org(service, counted, clock, "one", 0)
    _org(service, counted, clock, "two", 0)
    app = _member(service, clock, "one", "both")
    service.add_member("two", "both")
    _sign_in(service, counted, clock, "both", app)
    assert counted.inner.get_user_factors("both").last_mfa_at == clock.now()
    summaries = [
        s for org in ("one", "two") for s in counted.inner.list_member_summaries(org).items
    ]
    assert [s.last_mfa_at for s in summaries if s.membership.user_id == "both"] == [clock.now()] * 2


def test_sign_in_reads_the_counters_once_and_resets_them_once(
    service: MfaService, counted: CountingStore, clock: FrozenClock
) -> None:
    """A member's sign-in reads its counters with its factors in one call and resets them in one."""
    _org(service, counted, clock, "acme", 3)
    _sign_in(service, counted, clock, "u", _member(service, clock, "acme", "u"))
    calls = counted.calls
    assert (calls["get_user_factors"], calls["record_second_factor"]) == (1, 1)
    assert calls["get_throttle"] == calls["get_throttles"] == calls["reset_throttle"] == 0
    assert calls["reset_throttles"] == 0
    assert calls["list_totp_devices"] == calls["list_backup_codes"] == 0
    assert calls["list_webauthn_credentials"] == 0


def test_sign_in_reads_no_member_list(
    service: MfaService, counted: CountingStore, clock: FrozenClock
) -> None:
    """Owners are counted with the user's memberships, in one query: a sign-in lists no members."""
    _org(service, counted, clock, "acme", 30)
    _sign_in(service, counted, clock, "u", _member(service, clock, "acme", "u"))
    assert counted.calls["list_user_memberships_with_orgs"] == 1
    assert counted.calls["count_active_owners"] == counted.calls["get_organization"] == 0
    assert counted.calls["list_memberships"] == 0
    assert not PAGE_CALLS & set(counted.calls)


def test_failed_sign_in_cost_does_not_depend_on_organization_size(
    service: MfaService, counted: CountingStore, clock: FrozenClock
) -> None:
    """A refused TOTP code costs the same store calls in a small and a big organization."""
    _org(service, counted, clock, "small", 0)
    _org(service, counted, clock, "big", 60)
    totals = []
    for org_id, user in (("small", "s"), ("big", "b")):
        _member(service, clock, org_id, user)
        clock.advance(30)
        counted.reset()
        with pytest.raises(InvalidCodeError):
            service.verify_totp(user, "000000")
        totals.append(counted.total)
    assert totals[0] == totals[1]


def test_backup_code_sign_in_cost_does_not_depend_on_organization_size(
    service: MfaService, counted: CountingStore, clock: FrozenClock
) -> None:
    """A backup code sign-in costs the same store calls in a small and a big organization."""
    _org(service, counted, clock, "small", 0)
    _org(service, counted, clock, "big", 60)
    totals = []
    for org_id, user in (("small", "s"), ("big", "b")):
        _, activation = enroll_totp(service, clock, user)
        service.add_member(org_id, user)
        counted.reset()
        service.verify_backup_code(user, activation.backup_codes.codes[0])
        totals.append(counted.total)
    assert totals[0] == totals[1] == MEMBER_BACKUP_CODE_SIGN_IN
    assert counted.calls["get_user_factors"] == 1
    assert counted.calls["list_backup_codes"] == 0


def _passkey(service: MfaService, owner: str) -> SoftAuthenticator:
    """A new authenticator holding a passkey registered for ``owner``."""
    device = SoftAuthenticator(origin=ORIGIN)
    ref = service.begin_passkey_registration(UserRef(user_id=owner, name=owner), name="Key")
    service.finish_passkey_registration(owner, ref.challenge_id, device.create(ref.options))
    return device


def _as_second_factor(
    service: MfaService, device: SoftAuthenticator, owner: str, org_id: str
) -> Callable[[], object]:
    """A started passkey second factor of ``owner``: call the result to complete it."""
    start = service.begin_second_factor(owner, org_id=org_id)
    assert start.challenge_id is not None
    assertion = device.get(start.webauthn_options)  # type: ignore[arg-type]
    return lambda: service.verify_passkey(owner, start.challenge_id, assertion, org_id=org_id)  # type: ignore[arg-type]


def _without_username(
    service: MfaService, device: SoftAuthenticator, owner: str, org_id: str
) -> Callable[[], object]:
    """A started passkey sign-in without a username: call the result to finish it."""
    start = service.begin_passkey_sign_in(org_id=org_id)
    assertion = device.get(start.options)
    return lambda: service.finish_passkey_sign_in(start.challenge_id, assertion, org_id=org_id)


@pytest.mark.parametrize(
    ("started", "expected"),
    [
        (_as_second_factor, OWNER_PASSKEY_SIGN_IN),
        (_without_username, OWNER_PASSKEY_SIGN_IN_WITHOUT_USERNAME),
    ],
    ids=["second_factor", "without_username"],
)
def test_passkey_sign_in_cost_does_not_depend_on_organization_size(
    service: MfaService,
    counted: CountingStore,
    clock: FrozenClock,
    started: Callable[[MfaService, SoftAuthenticator, str, str], Callable[[], object]],
    expected: int,
) -> None:
    """A passkey sign-in costs the same store calls in a small and a big organization."""
    _org(service, counted, clock, "small", 0)
    _org(service, counted, clock, "big", 60)
    totals = []
    for org_id, owner in (("small", "small-owner"), ("big", "big-owner")):
        finish = started(service, _passkey(service, owner), owner, org_id)
        counted.reset()
        finish()
        totals.append(counted.total)
    assert totals[0] == totals[1] == expected
    assert counted.calls["list_webauthn_credentials"] == 0


def _pages(members: int) -> int:
    return math.ceil(members / PAGE)


@pytest.mark.parametrize("members", [5, 45])
def test_compliance_report_reads_one_query_per_page(
    service: MfaService, counted: CountingStore, clock: FrozenClock, members: int
) -> None:
    """The report reads the organization, its owner count, and one summary page per query."""
    _org(service, counted, clock, "acme", members)
    counted.reset()
    report = service.compliance_report("acme")
    assert report.total == members + 1
    assert counted.calls == {
        "get_organization": 1,
        "count_active_owners": 1,
        "list_member_summaries": _pages(members + 1),
    }


def test_send_reminders_reads_pages_and_writes_once_per_reminded_member(
    service: MfaService, counted: CountingStore, clock: FrozenClock
) -> None:
    """Reminders read summary pages (two passes) and write one stamp per reminded member."""
    _org(service, counted, clock, "acme", 45)
    counted.reset()
    reminded = service.send_reminders("acme", actor_id="acme-owner")
    assert len(reminded) == 45
    assert counted.calls["list_member_summaries"] == 2 * _pages(46)
    assert counted.calls["update_membership"] == 45
    per_member = {"get_membership", "list_backup_codes", "list_totp_devices", "get_organization"}
    assert all(counted.calls[name] <= 2 for name in per_member)


def test_enforcement_check_reads_summaries_not_members(
    service: MfaService, counted: CountingStore, clock: FrozenClock
) -> None:
    """Whether enforcement may start is decided from summary pages, nothing read per member."""
    _org(service, counted, clock, "acme", 45)
    counted.reset()
    with pytest.raises(PolicyDeniedError):  # refused: the members lack MFA
        service.enforce_mfa("acme", actor_id="acme-owner", confirmation="ENFORCE")
    assert counted.calls["list_member_summaries"] == _pages(46)
    assert counted.calls["list_backup_codes"] <= 1  # the actor's own principal


def test_sweep_reads_pages_and_writes_only_what_changes(
    service: MfaService, counted: CountingStore, clock: FrozenClock
) -> None:
    """The sweep reads every member by pages and writes only the members it locks."""
    _org(service, counted, clock, "acme", 45)
    org = counted.inner.get_organization("acme")
    assert org is not None
    counted.inner.update_organization(
        dataclasses.replace(org, enforced=True, enforced_at=clock.now())
    )
    for i in range(3):
        m = counted.inner.get_membership("acme", f"acme-m{i:04d}")
        assert m is not None
        counted.inner.update_membership(
            dataclasses.replace(m, grace_started_at=clock.now(), grace_reason="lost_method")
        )
    clock.advance(timedelta(days=400).total_seconds())
    counted.reset()
    report = service.sweep()
    assert len(report.locked) + len(report.removed) > 0
    changed = len(report.locked) + len(report.removed) + len(report.reminded)
    assert counted.calls["list_all_member_summaries"] == _pages(46)
    assert counted.calls["update_membership"] == changed
    assert counted.calls["get_membership"] == 0
    assert counted.calls["list_backup_codes"] == 0
