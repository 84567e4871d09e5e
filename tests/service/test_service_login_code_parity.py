"""Asking a code for a known or an unknown username makes the same store calls, in order."""

from __future__ import annotations

import pytest
from service_helpers import ORIGIN, RP_ID, SETTINGS
from store_spy import spy_on

from mfakit.clock import FrozenClock
from mfakit.errors import ThrottledError
from mfakit.repositories import MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import InMemoryOutbox, MfaService, RelyingParty

ORG = "acme"


@pytest.fixture
def spied(store: MfaStore, clock: FrozenClock) -> tuple[MfaService, list[str], InMemoryOutbox]:
    """A service whose store records every call; an organization with the member 'jane'."""
    spy, calls = spy_on(store)
    outbox = InMemoryOutbox()
    service = MfaService(
        store=spy,
        keys=KeyRing({"k1": generate_key()}, current="k1"),
        notifier=outbox,
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=SETTINGS,
    )
    service.create_organization(ORG, name="Acme", owner_id="owner")
    service.add_member(ORG, "iam", username="jane")
    calls.clear()
    return service, calls, outbox


def _calls_of(service: MfaService, calls: list[str], username: str) -> list[str]:
    calls.clear()
    service.send_login_code(ORG, username)
    return list(calls)


def test_known_and_unknown_usernames_make_the_same_store_calls(
    spied: tuple[MfaService, list[str], InMemoryOutbox],
) -> None:
    """Same methods, same order: lookup, guarded write, one outbox row, one audit event."""
    service, calls, _ = spied
    known = _calls_of(service, calls, "jane")
    unknown = _calls_of(service, calls, "nobody")
    assert known == unknown
    assert known.count("enqueue_message") == 1
    assert "claim_messages" not in known


def test_throttled_requests_make_the_same_store_calls(
    spied: tuple[MfaService, list[str], InMemoryOutbox],
) -> None:
    """Within the cool-down, known and unknown usernames are refused with the same calls."""
    service, calls, _ = spied
    service.send_login_code(ORG, "jane")
    service.send_login_code(ORG, "nobody")
    seen = []
    for username in ("jane", "nobody"):
        calls.clear()
        with pytest.raises(ThrottledError):
            service.send_login_code(ORG, username)
        seen.append(list(calls))
    assert seen[0] == seen[1]
    assert "enqueue_message" not in seen[0]


def test_code_is_never_sent_inside_the_request(
    spied: tuple[MfaService, list[str], InMemoryOutbox],
) -> None:
    """Even with deliver_after_commit, the code waits in the outbox for the deliverer."""
    service, _, outbox = spied
    assert service.settings.deliver_after_commit
    service.send_login_code(ORG, "jane")
    assert len(outbox) == 0
    report = service.deliver_notifications()
    assert (report.delivered, len(outbox)) == (1, 1)


def test_unknown_username_row_is_dropped_unsent(
    spied: tuple[MfaService, list[str], InMemoryOutbox],
) -> None:
    """The placeholder of an unknown username (or organization) is marked delivered, never sent."""
    service, _, outbox = spied
    service.send_login_code(ORG, "nobody")
    service.send_login_code("no-such-org", "jane")
    report = service.deliver_notifications()
    assert (report.claimed, report.dropped, report.delivered) == (2, 2, 0)
    assert len(outbox) == 0
    assert service.deliver_notifications().claimed == 0
