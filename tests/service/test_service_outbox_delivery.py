"""Delivery from the transactional outbox: after commit, by a worker, retries and give-up."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from service_helpers import ORIGIN, RP_ID, SETTINGS

from mfakit.clock import FrozenClock
from mfakit.errors import ConfigurationError
from mfakit.repositories import MfaStore, OutboxMessage
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import (
    AccountLocked,
    DeliveryReport,
    InMemoryOutbox,
    Message,
    MfaService,
    RelyingParty,
    ServiceSettings,
)

ORG = "acme"


class Flaky:
    """A notifier that fails its first ``failures`` sends, then keeps what it is sent."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("smtp://user:secret@mail.example down")
        self.sent.append(message)


def _service(
    store: MfaStore, clock: FrozenClock, notifier: object, **settings: object
) -> MfaService:
    return MfaService(
        store=store,
        keys=KeyRing({"k1": generate_key()}, current="k1"),
        notifier=notifier,  # type: ignore[arg-type]
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=dataclasses.replace(SETTINGS, **settings),  # type: ignore[arg-type]
    )


def _lock(service: MfaService) -> None:
    """An action that commits one message (AccountLocked to 'mia')."""
    service.create_organization(ORG, name="Acme", owner_id="owner")
    service.add_member(ORG, "mia")
    service.lock_member(ORG, "mia", actor_id="owner")


def test_message_delivered_after_commit_carries_its_outbox_id(
    service: MfaService, store: MfaStore, outbox: InMemoryOutbox
) -> None:
    """By default the committed message is sent at once, with the id of its outbox row."""
    _lock(service)
    (message,) = outbox.messages
    assert message == AccountLocked(user_id="mia", org_id=ORG, reason="admin")
    row = store.get_message(message.message_id)
    assert row is not None
    assert row.kind == "member.locked"
    assert row.delivered_at is not None
    assert store.count_pending_messages() == 0


def test_without_after_commit_delivery_the_worker_sends(
    store: MfaStore, clock: FrozenClock
) -> None:
    """With deliver_after_commit off, the message waits until deliver_notifications()."""
    notifier = Flaky()
    service = _service(store, clock, notifier, deliver_after_commit=False)
    _lock(service)
    assert notifier.sent == []
    assert store.count_pending_messages() == 1
    assert service.deliver_notifications() == DeliveryReport(claimed=1, delivered=1)
    assert [type(m) for m in notifier.sent] == [AccountLocked]
    assert service.deliver_notifications() == DeliveryReport()


def test_rolled_back_change_leaves_no_message(service: MfaService, store: MfaStore) -> None:
    """A message written in a transaction that fails is undone with it."""
    context = service._context
    now = context.now()

    def failing_change() -> None:
        with context.transaction():
            context.send(AccountLocked(user_id="mia", org_id=ORG, reason="admin"), at=now)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    assert store.count_pending_messages() == 0


def test_failed_delivery_is_retried_with_backoff(store: MfaStore, clock: FrozenClock) -> None:
    """Each failure schedules the next attempt base * factor ** (attempt - 1) later."""
    notifier = Flaky(failures=2)
    service = _service(store, clock, notifier, deliver_after_commit=False)
    _lock(service)
    base = service.settings.delivery_backoff_base
    assert service.deliver_notifications().failed == 1
    assert service.deliver_notifications().claimed == 0  # not due yet
    clock.advance(base)
    assert service.deliver_notifications().failed == 1
    clock.advance(base * 2 - timedelta(seconds=1))
    assert service.deliver_notifications().claimed == 0
    clock.advance(timedelta(seconds=1))
    assert service.deliver_notifications().delivered == 1
    assert len(notifier.sent) == 1


def test_backoff_is_capped() -> None:
    """The wait grows by the factor and stops at the cap."""
    settings = ServiceSettings(
        delivery_backoff_base=timedelta(seconds=10),
        delivery_backoff_factor=3,
        delivery_backoff_cap=timedelta(minutes=2),
    )
    waits = [settings.delivery_backoff(n).total_seconds() for n in (1, 2, 3, 4, 99)]
    assert waits == [10, 30, 90, 120, 120]


def test_last_failure_gives_up_and_is_audited(store: MfaStore, clock: FrozenClock) -> None:
    """After the last attempt the message is kept, never retried, and audited log-safely."""
    notifier = Flaky(failures=100)
    service = _service(store, clock, notifier, deliver_after_commit=False, delivery_max_attempts=2)
    _lock(service)
    assert service.deliver_notifications().failed == 1
    clock.advance(timedelta(hours=1))
    assert service.deliver_notifications().given_up == 1
    clock.advance(timedelta(days=30))
    assert service.deliver_notifications().claimed == 0
    assert store.count_pending_messages() == 0
    events = [
        e for e in store.list_audit_events(user_id="mia").items if e.action == "notification.failed"
    ]
    assert [e.details["gave_up"] for e in events] == [False, True]
    assert events[-1].details["error"] == "RuntimeError"
    assert "secret" not in repr(events)


def test_failure_does_not_undo_the_action(store: MfaStore, clock: FrozenClock) -> None:
    """A notifier that raises after the commit leaves the change and the message stored."""
    service = _service(store, clock, Flaky(failures=1))
    _lock(service)
    member = store.get_membership(ORG, "mia")
    assert member is not None
    assert member.status == "locked"
    assert store.count_pending_messages() == 1


def test_claimed_message_waits_for_its_lease(store: MfaStore, clock: FrozenClock) -> None:
    """A message held by another deliverer is sent again only after its lease, same id."""
    notifier = Flaky()
    service = _service(store, clock, notifier, deliver_after_commit=False)
    _lock(service)
    lease = timedelta(minutes=1)
    (held,) = store.claim_messages(now=clock.now(), limit=10, lease=lease)  # a deliverer died
    assert service.deliver_notifications().claimed == 0
    clock.advance(lease)
    assert service.deliver_notifications().delivered == 1
    assert [m.message_id for m in notifier.sent] == [held.message_id]


def test_undecodable_row_is_a_failed_attempt(store: MfaStore, clock: FrozenClock) -> None:
    """A row of an unknown kind (say, from a newer version) fails without stopping the others."""
    notifier = Flaky()
    service = _service(store, clock, notifier, deliver_after_commit=False)
    store.enqueue_message(
        OutboxMessage(
            message_id="future",
            kind="mfa.from_the_future",
            payload="{}",
            created_at=clock.now(),
            next_attempt_at=clock.now(),
        )
    )
    _lock(service)
    report = service.deliver_notifications()
    assert (report.claimed, report.failed, report.delivered) == (2, 1, 1)
    row = store.get_message("future")
    assert row is not None
    assert row.last_error == "MalformedDataError"


@pytest.mark.parametrize(
    ("limit", "lease"),
    [(0, None), (1001, None), (True, None), (10, timedelta(0)), (10, 5)],
)
def test_delivery_arguments_are_checked(service: MfaService, limit: object, lease: object) -> None:
    """limit is 1 to 1000 and lease a positive timedelta."""
    with pytest.raises(ConfigurationError):
        service.deliver_notifications(limit=limit, lease=lease)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "settings",
    [
        {"delivery_backoff_factor": 0.5},
        {"delivery_backoff_factor": True},
        {"delivery_backoff_cap": timedelta(0), "delivery_backoff_base": timedelta(seconds=1)},
        {"delivery_max_attempts": 0},
        {"delivery_lease": timedelta(0)},
        {"deliver_after_commit": 1},
    ],
)
def test_delivery_settings_are_checked(settings: dict[str, object]) -> None:
    """Invalid delivery settings are refused when the settings are built."""
    with pytest.raises(ConfigurationError):
        ServiceSettings(**settings)  # type: ignore[arg-type]
