"""rewrap_secrets: TOTP secrets move to the current secret-box key, in resumable batches."""

from __future__ import annotations

from typing import Any

import pytest
from service_helpers import ORIGIN, RP_ID, SETTINGS, App, app_for, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import ConfigurationError
from mfakit.repositories import MfaStore
from mfakit.secretbox import KeyRing, generate_key, parse_envelope
from mfakit.service import InMemoryOutbox, MfaService, RelyingParty, RewrapProgress, UserRef
from mfakit.service._rotation import SecretRewrap

OLD, NEW = generate_key(), generate_key()
BEFORE = KeyRing({"old": OLD}, current="old")
DURING = KeyRing({"new": NEW, "old": OLD}, current="new")
AFTER = KeyRing({"new": NEW}, current="new")


def _service(store: MfaStore, clock: FrozenClock, ring: KeyRing) -> MfaService:
    return MfaService(
        store=store,
        keys=ring,
        notifier=InMemoryOutbox(),
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=SETTINGS,
    )


def _run(service: MfaService, batch: int) -> list[RewrapProgress]:
    """Every batch of one full run."""
    batches, after = [], None
    while True:
        progress = service.rewrap_secrets(batch=batch, after=after)
        batches.append(progress)
        if progress.done:
            return batches
        after = progress.next_cursor


def _key_ids(store: MfaStore) -> list[str]:
    return [parse_envelope(c.secret).key_id for c in store.list_totp_credentials(limit=1000).items]


@pytest.fixture
def apps(store: MfaStore, clock: FrozenClock) -> dict[str, App]:
    """Five users with TOTP enrolled under the old key."""
    before = _service(store, clock, BEFORE)
    return {user: enroll_totp(before, clock, user)[0] for user in ("u1", "u2", "u3", "u4", "u5")}


def test_rewrap_moves_every_secret_to_the_current_key(
    store: MfaStore, clock: FrozenClock, apps: dict[str, App]
) -> None:
    """Batches of two cover all five secrets; then the old key can go."""
    batches = _run(_service(store, clock, DURING), batch=2)
    assert [b.scanned for b in batches] == [2, 2, 1]
    assert sum(b.rewrapped for b in batches) == 5
    assert {b.key_id for b in batches} == {"new"}
    assert _key_ids(store) == ["new"] * 5
    after = _service(store, clock, AFTER)
    for user, app in apps.items():
        assert after.verify_totp(user, app.code()).user_id == user


def test_a_second_run_writes_nothing(
    store: MfaStore, clock: FrozenClock, apps: dict[str, App]
) -> None:
    """Run again (or resumed from the start), every row is already current."""
    service = _service(store, clock, DURING)
    _run(service, batch=500)
    (again,) = _run(service, batch=500)
    assert (again.scanned, again.rewrapped, again.already_current, again.raced) == (5, 0, 5, 0)


def test_resume_from_a_cursor(store: MfaStore, clock: FrozenClock, apps: dict[str, App]) -> None:
    """A run stopped after one batch resumes from its cursor and finishes the rest."""
    service = _service(store, clock, DURING)
    first = service.rewrap_secrets(batch=3)
    assert (first.rewrapped, first.done) == (3, False)
    rest = service.rewrap_secrets(batch=3, after=first.next_cursor)
    assert (rest.rewrapped, rest.done) == (2, True)
    assert _key_ids(store) == ["new"] * 5


def test_pending_enrollments_are_rewrapped(store: MfaStore, clock: FrozenClock) -> None:
    """A pending enrollment's secret moves too, and can be confirmed with the new key only."""
    enrollment = _service(store, clock, BEFORE).begin_totp_enrollment(
        UserRef(user_id="u-p", name="p@x")
    )
    (progress,) = _run(_service(store, clock, DURING), batch=10)
    assert progress.rewrapped == 1
    app = app_for(enrollment, clock)
    activation = _service(store, clock, AFTER).confirm_totp("u-p", enrollment.totp_id, app.code())
    assert activation.backup_codes.codes


def test_damaged_envelope_is_reported_and_left(
    store: MfaStore, clock: FrozenClock, apps: dict[str, App]
) -> None:
    """An envelope that does not open is listed in failed; the others are rewrapped."""
    (victim,) = store.list_totp_devices("u3")
    garbage = BEFORE.encrypt(b"x" * 20, owner="someone-else", purpose="mfakit.totp-secret")
    assert store.rewrap_totp_secret(victim.totp_id, expected=victim.secret, new=garbage)
    (progress,) = _run(_service(store, clock, DURING), batch=10)
    assert (progress.rewrapped, progress.failed) == (4, (victim.totp_id,))
    (stored,) = store.list_totp_devices("u3")
    assert stored.secret == garbage
    event = store.list_audit_events(user_id=None).items[-1]
    assert (event.action, event.outcome) == ("secretbox.rewrap", "failure")
    assert event.details["failed"] == [victim.totp_id]


def test_audit_summary_has_counts_and_no_secret(
    store: MfaStore, clock: FrozenClock, apps: dict[str, App]
) -> None:
    """Each batch appends one secretbox.rewrap event with its counts, never a secret."""
    _run(_service(store, clock, DURING), batch=500)
    events = [e for e in store.list_audit_events().items if e.action == "secretbox.rewrap"]
    assert [e.details for e in events] == [
        {
            "key_id": "new",
            "scanned": 5,
            "rewrapped": 5,
            "already_current": 0,
            "raced": 0,
            "failed": [],
            "done": True,
        }
    ]


class _Recorder:
    """A store proxy that records which methods were called, and can race a row."""

    def __init__(self, store: MfaStore, before_cas: Any = None) -> None:
        self.store = store
        self.calls: list[str] = []
        self.before_cas = before_cas

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.store, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if name == "rewrap_totp_secret" and self.before_cas is not None:
                hook, self.before_cas = self.before_cas, None
                hook(args[0])
            return target(*args, **kwargs)

        return call


def test_one_query_per_batch_and_one_write_per_row(
    store: MfaStore, clock: FrozenClock, apps: dict[str, App]
) -> None:
    """A batch is one listing, a compare-and-set per row to move, and one audit write."""
    recorder = _Recorder(store)
    flow = SecretRewrap(store=recorder, keys=DURING, now=clock.now)  # type: ignore[arg-type]
    flow.rewrap_secrets(batch=500)
    assert recorder.calls == [
        "list_totp_credentials",
        *["rewrap_totp_secret"] * 5,
        "append_audit_event",
    ]


def test_a_row_changed_meanwhile_is_skipped_not_overwritten(
    store: MfaStore, clock: FrozenClock, apps: dict[str, App]
) -> None:
    """Another server's write between the read and the CAS wins; this run counts a race."""

    def other_server(totp_id: str) -> None:
        row = next(c for c in store.list_totp_credentials(limit=1000).items if c.totp_id == totp_id)
        rotated = DURING.rotate(row.secret, owner=row.user_id, purpose="mfakit.totp-secret")
        assert store.rewrap_totp_secret(totp_id, expected=row.secret, new=rotated)

    recorder = _Recorder(store, before_cas=other_server)
    flow = SecretRewrap(store=recorder, keys=DURING, now=clock.now)  # type: ignore[arg-type]
    progress = flow.rewrap_secrets(batch=500)
    assert (progress.rewrapped, progress.raced) == (4, 1)
    assert _key_ids(store) == ["new"] * 5


@pytest.mark.parametrize(
    ("batch", "after"),
    [(0, None), (1001, None), (True, None), ("5", None), (5, ""), (5, 7), (5, "x" * 1025)],
)
def test_arguments_are_validated(
    store: MfaStore, clock: FrozenClock, batch: object, after: object
) -> None:
    """A bad batch size or cursor is a ConfigurationError, before anything is read."""
    recorder = _Recorder(store)
    flow = SecretRewrap(store=recorder, keys=DURING, now=clock.now)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        flow.rewrap_secrets(batch=batch, after=after)  # type: ignore[arg-type]
    assert recorder.calls == []
