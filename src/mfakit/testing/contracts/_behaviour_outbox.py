"""Contract tests of the transactional outbox."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from mfakit.errors import ConfigurationError, DuplicateError
from mfakit.repositories import MfaStore
from mfakit.testing.contracts._records import (
    NOW,
    membership,
    new_id,
    organization,
    outbox_message,
)

__all__ = ["OutboxContract"]

LEASE = timedelta(minutes=5)
# Purge tests deliver in an era no other test delivers in, so counts are exact
# even when the fixture shares one database.
PURGE_ERA = NOW - timedelta(days=7300)


class _BoomError(Exception):
    """Raised inside a block to make it fail."""


def _claim(store: MfaStore, kind: str, now: datetime = NOW, limit: int = 10) -> list[str]:
    """Claim due messages of one kind (tests use a fresh kind each); return their ids."""
    return [
        m.message_id for m in store.claim_messages(now=now, limit=limit, lease=LEASE, kinds=[kind])
    ]


class OutboxContract:
    """Contract tests of the transactional outbox.

    Mixed into :class:`StoreContract`. Each test uses its own message kind and
    claims only that kind, so tests sharing one database never see each
    other's messages.
    """

    def test_enqueue_round_trip(self, store: MfaStore) -> None:
        """An enqueued message comes back equal, its payload text untouched."""
        msg = dataclasses.replace(outbox_message(), payload='{"b": 1,  "a": [ ]}')
        store.enqueue_message(msg)
        assert store.get_message(msg.message_id) == msg
        assert store.get_message(new_id("msg")) is None

    def test_enqueue_duplicate_id(self, store: MfaStore) -> None:
        """A reused id is a DuplicateError and the first message is kept."""
        msg = outbox_message()
        store.enqueue_message(msg)
        with pytest.raises(DuplicateError):
            store.enqueue_message(dataclasses.replace(msg, payload="{}"))
        assert store.get_message(msg.message_id) == msg

    def test_enqueue_needs_next_attempt(self, store: MfaStore) -> None:
        """A new message without next_attempt_at is a ConfigurationError, not stored."""
        msg = dataclasses.replace(outbox_message(), next_attempt_at=None)
        with pytest.raises(ConfigurationError):
            store.enqueue_message(msg)
        assert store.get_message(msg.message_id) is None

    def test_enqueue_rolled_back_with_its_block(self, store: MfaStore) -> None:
        """A message enqueued in a block that raises is gone, like the change it announced."""
        org = store.create_organization(organization())
        m = membership(org.org_id)
        msg = outbox_message()

        def block() -> None:
            with store.atomic():
                store.add_membership(m)
                store.enqueue_message(msg)
                raise _BoomError

        with pytest.raises(_BoomError):
            block()
        assert store.get_message(msg.message_id) is None
        assert store.get_membership(org.org_id, m.user_id) is None
        assert _claim(store, msg.kind) == []

    def test_enqueue_committed_with_its_block(self, store: MfaStore) -> None:
        """A message enqueued with a change is stored when the block commits."""
        org = store.create_organization(organization())
        msg = outbox_message()
        with store.atomic():
            store.add_membership(membership(org.org_id))
            store.enqueue_message(msg)
        assert store.get_message(msg.message_id) == msg

    def test_claim_due_messages_in_order(self, store: MfaStore) -> None:
        """Only due messages are claimed, oldest next attempt first, then by creation and id."""
        kind = new_id("kind")
        late = outbox_message(kind=kind, at=NOW - timedelta(seconds=1))
        early = outbox_message(kind=kind, at=NOW - timedelta(seconds=2))
        tie_a = dataclasses.replace(outbox_message(kind=kind, at=NOW), message_id=f"a-{new_id()}")
        tie_b = dataclasses.replace(tie_a, message_id=f"b-{new_id()}")
        future = outbox_message(kind=kind, at=NOW + timedelta(microseconds=1))
        for msg in (tie_b, future, late, tie_a, early):
            store.enqueue_message(msg)
        claimed = store.claim_messages(now=NOW, limit=10, lease=LEASE, kinds=[kind])
        assert [m.message_id for m in claimed] == [
            early.message_id,
            late.message_id,
            tie_a.message_id,
            tie_b.message_id,
        ]
        assert all(m.claimed_until == NOW + LEASE and m.attempts == 1 for m in claimed)
        assert store.get_message(early.message_id) == claimed[0]

    def test_claim_respects_limit(self, store: MfaStore) -> None:
        """At most ``limit`` messages are claimed per call; the rest wait for the next."""
        kind = new_id("kind")
        msgs = [outbox_message(kind=kind, at=NOW - timedelta(seconds=5 - i)) for i in range(5)]
        for msg in msgs:
            store.enqueue_message(msg)
        assert _claim(store, kind, limit=2) == [m.message_id for m in msgs[:2]]
        assert _claim(store, kind, limit=10) == [m.message_id for m in msgs[2:]]

    def test_claim_filters_by_kind(self, store: MfaStore) -> None:
        """Given kinds, only messages of those kinds are claimed."""
        a, b = outbox_message(), outbox_message()
        store.enqueue_message(a)
        store.enqueue_message(b)
        claimed = store.claim_messages(now=NOW, limit=10, lease=LEASE, kinds=[b.kind])
        assert [m.message_id for m in claimed] == [b.message_id]
        assert store.claim_messages(now=NOW, limit=10, lease=LEASE, kinds=[]) == ()

    def test_claimed_message_waits_for_lease_end(self, store: MfaStore) -> None:
        """A claimed message is not claimed again before its lease ends, and is at its end."""
        msg = outbox_message()
        store.enqueue_message(msg)
        assert _claim(store, msg.kind) == [msg.message_id]
        assert _claim(store, msg.kind, now=NOW + LEASE - timedelta(microseconds=1)) == []
        assert _claim(store, msg.kind, now=NOW + LEASE) == [msg.message_id]
        got = store.get_message(msg.message_id)
        assert got is not None
        assert (got.attempts, got.claimed_until) == (2, NOW + 2 * LEASE)

    def test_mark_delivered_once(self, store: MfaStore) -> None:
        """Delivery is recorded once, releases the claim and ends the claims."""
        msg = outbox_message()
        store.enqueue_message(msg)
        _claim(store, msg.kind)
        assert store.mark_message_delivered(msg.message_id, now=NOW) is True
        assert store.mark_message_delivered(msg.message_id, now=NOW) is False
        got = store.get_message(msg.message_id)
        assert got is not None
        assert (got.delivered_at, got.claimed_until) == (NOW, None)
        assert _claim(store, msg.kind, now=NOW + 2 * LEASE) == []

    def test_mark_failed_schedules_retry(self, store: MfaStore) -> None:
        """A failure releases the claim, records the error, and the retry waits for its time."""
        msg = outbox_message()
        store.enqueue_message(msg)
        _claim(store, msg.kind)
        retry = NOW + timedelta(minutes=1)
        assert store.mark_message_failed(
            msg.message_id, now=NOW, error="smtp 451", next_attempt_at=retry
        )
        got = store.get_message(msg.message_id)
        assert got is not None
        assert (got.failed_at, got.last_error, got.next_attempt_at) == (NOW, "smtp 451", retry)
        assert got.claimed_until is None
        assert _claim(store, msg.kind, now=retry - timedelta(microseconds=1)) == []
        assert _claim(store, msg.kind, now=retry) == [msg.message_id]

    def test_mark_failed_gives_up(self, store: MfaStore) -> None:
        """Without a next attempt the message is never claimed again, nor pending, but kept."""
        msg = outbox_message()
        store.enqueue_message(msg)
        pending = store.count_pending_messages()
        assert store.mark_message_failed(
            msg.message_id, now=NOW, error="bounced", next_attempt_at=None
        )
        assert store.count_pending_messages() == pending - 1
        assert _claim(store, msg.kind, now=NOW + timedelta(days=365)) == []
        got = store.get_message(msg.message_id)
        assert got is not None
        assert (got.next_attempt_at, got.last_error) == (None, "bounced")

    def test_marks_on_unknown_or_delivered(self, store: MfaStore) -> None:
        """Marking an unknown message, or failing a delivered one, is False and changes nothing."""
        msg = outbox_message()
        store.enqueue_message(msg)
        store.mark_message_delivered(msg.message_id, now=NOW)
        delivered = store.get_message(msg.message_id)
        assert not store.mark_message_failed(
            msg.message_id, now=NOW, error="late", next_attempt_at=NOW
        )
        assert store.get_message(msg.message_id) == delivered
        unknown = new_id("msg")
        assert store.mark_message_delivered(unknown, now=NOW) is False
        assert not store.mark_message_failed(unknown, now=NOW, error="x", next_attempt_at=None)

    def test_count_pending_messages(self, store: MfaStore) -> None:
        """Pending counts undelivered messages not given up, claimed or not."""
        before = store.count_pending_messages()
        msgs = [outbox_message() for _ in range(3)]
        for msg in msgs:
            store.enqueue_message(msg)
        _claim(store, msgs[0].kind)
        assert store.count_pending_messages() == before + 3
        store.mark_message_delivered(msgs[1].message_id, now=NOW)
        assert store.count_pending_messages() == before + 2

    def test_purge_delivered_before(self, store: MfaStore) -> None:
        """Messages delivered strictly before the bound are deleted; others are kept."""
        old, edge, undelivered = (outbox_message(at=PURGE_ERA) for _ in range(3))
        for msg in (old, edge, undelivered):
            store.enqueue_message(msg)
        store.mark_message_delivered(old.message_id, now=PURGE_ERA - timedelta(seconds=1))
        store.mark_message_delivered(edge.message_id, now=PURGE_ERA)
        assert store.purge_delivered_messages(before=PURGE_ERA) == 1
        assert store.get_message(old.message_id) is None
        assert store.get_message(edge.message_id) is not None
        assert store.get_message(undelivered.message_id) is not None
        store.mark_message_delivered(undelivered.message_id, now=NOW)  # leave the era clean
        assert store.purge_delivered_messages(before=PURGE_ERA + timedelta(seconds=1)) == 1

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"limit": 0},
            {"limit": 1001},
            {"lease": timedelta(0)},
            {"kinds": "one-kind"},
            {"now": NOW.replace(tzinfo=None)},
        ],
    )
    def test_claim_arguments_validated(self, store: MfaStore, kwargs: dict[str, object]) -> None:
        """A bad limit, lease, kinds or naive now is a ConfigurationError."""
        args: dict[str, object] = {"now": NOW, "limit": 10, "lease": LEASE, **kwargs}
        with pytest.raises(ConfigurationError):
            store.claim_messages(**args)  # type: ignore[arg-type]
