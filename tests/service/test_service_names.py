"""Names are checked up front: refused before anything is stored or a ceremony starts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from service_helpers import enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import ConfigurationError, InvalidNameError
from mfakit.repositories import MfaStore
from mfakit.service import MfaService, UserRef
from mfakit.testing import SoftAuthenticator

ADA = UserRef(user_id="u-ada", name="ada@example.com")
BAD_NAMES = [
    "Mac\x00Book",
    "Mac\nBook",
    "Mac\x7fBook",
    "Mac\x85Book",
    "Mac\u2028Book",
    "Mac\u202eBook",
    "   ",
    "",
    "x" * 65,
    b"MacBook",
]


def _challenges_stored(store: MfaStore, clock: FrozenClock) -> int:
    """How many challenges exist (purging far in the future deletes them all)."""
    return store.purge_expired_challenges(now=clock.now() + timedelta(days=365))


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_passkey_name_refused_before_the_ceremony(
    service: MfaService, store: MfaStore, clock: FrozenClock, name: object
) -> None:
    """begin_passkey_registration refuses the name; no challenge, no options, no audit."""
    audit_before = len(store.list_audit_events().items)
    with pytest.raises(InvalidNameError) as caught:
        service.begin_passkey_registration(ADA, name=name)  # type: ignore[arg-type]
    assert caught.value.field == "name"
    assert isinstance(caught.value, ConfigurationError)
    assert isinstance(caught.value, ValueError)
    assert "MacBook" not in str(caught.value)
    assert _challenges_stored(store, clock) == 0
    assert len(store.list_audit_events().items) == audit_before


def test_nul_in_passkey_name_never_reaches_the_authenticator(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """The NUL that used to fail after the credential was made now fails first."""
    with pytest.raises(InvalidNameError, match="control"):
        service.begin_passkey_registration(ADA, name="Key\x00")
    assert _challenges_stored(store, clock) == 0
    assert service.list_passkeys("u-ada") == ()


def test_good_name_is_trimmed_and_kept(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    """Outer spaces are trimmed; letters of any script and emoji are fine."""
    started = service.begin_passkey_registration(ADA, name="  Téléphone 📱 ")
    passkey = service.finish_passkey_registration(
        "u-ada", started.challenge_id, authenticator.create(started.options)
    )
    assert passkey.name == "Téléphone 📱"


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_rename_refuses_bad_names(
    service: MfaService, authenticator: SoftAuthenticator, name: object
) -> None:
    """rename_passkey refuses the same names, and the stored name is unchanged."""
    started = service.begin_passkey_registration(ADA, name="Phone")
    passkey = service.finish_passkey_registration(
        "u-ada", started.challenge_id, authenticator.create(started.options)
    )
    with pytest.raises(InvalidNameError):
        service.rename_passkey("u-ada", passkey.credential_id, name)  # type: ignore[arg-type]
    assert [p.name for p in service.list_passkeys("u-ada")] == ["Phone"]


@pytest.mark.parametrize("field", ["name", "display_name"])
def test_user_names_refused(field: str) -> None:
    """A UserRef with a control character in a name is refused when it is built."""
    with pytest.raises(InvalidNameError):
        UserRef(user_id="u-1", **{"name": "ada", field: "ada\x00"})


def test_member_and_organization_names_refused_before_writing(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Organization names and usernames are checked before the store is touched."""
    enroll_totp(service, clock, "owner")
    with pytest.raises(InvalidNameError):
        service.create_organization("acme", name="Ac\x00me", owner_id="owner")
    with pytest.raises(InvalidNameError):
        service.create_organization("acme", name="Acme", owner_id="owner", owner_username="a\nb")
    assert store.get_organization("acme") is None
    service.create_organization("acme", name="Acme", owner_id="owner")
    with pytest.raises(InvalidNameError):
        service.add_member("acme", "u-2", username="jo\x00hn")
    assert store.get_membership("acme", "u-2") is None
