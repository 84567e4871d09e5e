"""A change and the message it causes commit together: no message written, no change."""

from __future__ import annotations

from typing import Any

import pytest
from counting import CountingStore
from service_helpers import ORIGIN, RP_ID, SETTINGS, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import StoreError
from mfakit.repositories import MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import InMemoryOutbox, MfaService, RelyingParty

ORG = "org-1"


class FailingOutboxStore(CountingStore):
    """The test's store, except that writing to the outbox fails once armed."""

    armed = False

    def enqueue_message(self, message: Any) -> None:
        """Fail like a database would, once armed; otherwise store the message."""
        if self.armed:
            raise StoreError("the outbox write failed")
        self.inner.enqueue_message(message)


@pytest.fixture
def failing(store: MfaStore) -> FailingOutboxStore:
    """The test's store behind a proxy whose outbox writes can be made to fail."""
    return FailingOutboxStore(store)


@pytest.fixture
def service(failing: FailingOutboxStore, clock: FrozenClock, outbox: InMemoryOutbox) -> MfaService:
    """A service over the failing proxy."""
    return MfaService(
        store=failing,  # type: ignore[arg-type]
        keys=KeyRing({"k1": generate_key()}, current="k1"),
        notifier=outbox,
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=SETTINGS,
    )


def test_reminder_stamp_rolls_back_with_its_message(
    service: MfaService, failing: FailingOutboxStore, clock: FrozenClock
) -> None:
    """send_reminders: when the reminder cannot be queued, the member is not stamped as reminded."""
    enroll_totp(service, clock, "owner")
    service.create_organization(ORG, name="Acme", owner_id="owner")
    service.add_member(ORG, "mia")
    failing.armed = True
    with pytest.raises(StoreError):
        service.send_reminders(ORG, actor_id="owner")
    membership = failing.inner.get_membership(ORG, "mia")
    assert membership is not None
    assert membership.last_reminder_at is None


def test_regenerated_codes_roll_back_with_their_notice(
    service: MfaService, failing: FailingOutboxStore, clock: FrozenClock
) -> None:
    """regenerate_backup_codes: when the notice cannot be queued, the old codes stay."""
    enroll_totp(service, clock, "ada")
    before = failing.inner.list_backup_codes("ada")
    failing.armed = True
    with pytest.raises(StoreError):
        service.regenerate_backup_codes("ada")
    assert failing.inner.list_backup_codes("ada") == before
