"""Invitations are bound to the address they were sent to (a forwarded link is refused)."""

from __future__ import annotations

import pytest
from service_helpers import ORIGIN, RP_ID, SETTINGS
from store_spy import spy_on

from mfakit.clock import FrozenClock
from mfakit.errors import ConfigurationError, InvitationAddressError, VerificationError
from mfakit.repositories import MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import InMemoryOutbox, MfaService, RelyingParty
from mfakit.service._members import same_address

ORG = "acme"


def _invite(service: MfaService, email: str = "Neo@Example.com") -> str:
    service.create_organization(ORG, name="Acme", owner_id="owner")
    return service.invite(ORG, actor_id="owner", email=email).invitation_id


def _spied(store: MfaStore, clock: FrozenClock) -> tuple[MfaService, list[str]]:
    spy, calls = spy_on(store)
    service = MfaService(
        store=spy,
        keys=KeyRing({"k1": generate_key()}, current="k1"),
        notifier=InMemoryOutbox(),
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=SETTINGS,
    )
    return service, calls


def test_forwarded_link_is_refused(service: MfaService) -> None:
    """Another account, with another verified address, cannot accept the invitation."""
    invitation_id = _invite(service)
    with pytest.raises(InvitationAddressError) as caught:
        service.accept_invitation(invitation_id, "mallory", email="mallory@example.com")
    assert isinstance(caught.value, VerificationError)
    assert caught.value.code == "invitation_address_mismatch"


def test_refusal_is_log_safe(service: MfaService) -> None:
    """Neither address appears in the error's message or repr."""
    invitation_id = _invite(service)
    with pytest.raises(InvitationAddressError) as caught:
        service.accept_invitation(invitation_id, "mallory", email="mallory@example.com")
    shown = str(caught.value) + repr(caught.value)
    assert "example.com" not in shown.lower()
    assert "mallory" not in shown.lower()


def test_refusal_writes_nothing(store: MfaStore, clock: FrozenClock) -> None:
    """The mismatch is refused after one read, before anything is written."""
    service, calls = _spied(store, clock)
    invitation_id = _invite(service)
    audit_before = len(store.list_audit_events(org_id=ORG, limit=1000).items)
    calls.clear()
    with pytest.raises(InvitationAddressError):
        service.accept_invitation(invitation_id, "mallory", email="mallory@example.com")
    assert calls == ["get_invitation"]
    assert store.get_membership(ORG, "mallory") is None
    invitation = store.get_invitation(invitation_id)
    assert invitation is not None
    assert invitation.accepted_at is None
    assert len(store.list_audit_events(org_id=ORG, limit=1000).items) == audit_before


def test_invitation_stays_usable_by_the_invitee(service: MfaService) -> None:
    """After a refused forwarded link, the invited person still joins."""
    invitation_id = _invite(service)
    with pytest.raises(InvitationAddressError):
        service.accept_invitation(invitation_id, "mallory", email="mallory@example.com")
    member = service.accept_invitation(invitation_id, "neo", email="Neo@Example.com")
    assert member.user_id == "neo"


def test_address_compared_trimmed_and_caseless(service: MfaService) -> None:
    """Surrounding spaces and letter case do not matter."""
    invitation_id = _invite(service, email=" Neo@Example.COM ")
    member = service.accept_invitation(invitation_id, "neo", email="neo@example.com\n")
    assert member.org_id == ORG


def test_address_rule_folds_unicode_case() -> None:
    """Case folding is Unicode's (ß matches SS), and nothing else is normalized."""
    assert same_address("STRASSE@example.com", "straße@example.com")
    assert not same_address("neo+mfa@example.com", "neo@example.com")
    assert not same_address("n.eo@example.com", "neo@example.com")


def test_email_must_be_an_address(service: MfaService) -> None:
    """A missing or malformed address is a configuration error of the host."""
    invitation_id = _invite(service)
    with pytest.raises(ConfigurationError):
        service.accept_invitation(invitation_id, "neo", email="")
    with pytest.raises(TypeError):
        service.accept_invitation(invitation_id, "neo")  # type: ignore[call-arg]
