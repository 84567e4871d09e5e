"""Login-code HMAC keys with ids: a new key becomes current while codes in flight verify."""

from __future__ import annotations

import pytest
from service_helpers import ORIGIN, RP_ID, SETTINGS

from mfakit.clock import FrozenClock
from mfakit.errors import ConfigurationError, InvalidCodeError
from mfakit.repositories import DEFAULT_LOGIN_CODE_KEY_ID, MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import InMemoryOutbox, LoginCode, MfaService, RelyingParty
from mfakit.service._login_code_keys import LoginCodeKeys
from mfakit.service._login_codes import _subject
from mfakit.stores.memory import MemoryStore

ORG = "acme"
K1, K2 = b"1" * 32, b"2" * 32
RING = KeyRing({"k": generate_key()}, current="k")


def _service(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, **keys: object
) -> MfaService:
    """A service over ``store`` with the login-code keys given."""
    return MfaService(
        store=store,
        keys=RING,
        notifier=outbox,
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        settings=SETTINGS,
        **keys,  # type: ignore[arg-type]
    )


@pytest.fixture
def old(store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox) -> MfaService:
    """A service with the single key K1 (id "default"), and a member 'jane'."""
    service = _service(store, clock, outbox, login_code_key=K1)
    service.create_organization(ORG, name="Acme", owner_id="owner")
    service.add_member(ORG, "iam-1", username="jane")
    return service


def _mailed(service: MfaService, outbox: InMemoryOutbox) -> str:
    service.deliver_notifications()
    return outbox.of_type(LoginCode, user_id="iam-1")[-1].code


def test_single_key_codes_are_stored_under_the_default_id(old: MfaService, store: MfaStore) -> None:
    """login_code_key alone is the key "default"; codes record it."""
    old.send_login_code(ORG, "jane")
    stored = store.get_login_code(_subject(ORG, "jane"))
    assert stored is not None
    assert stored.key_id == DEFAULT_LOGIN_CODE_KEY_ID == "default"


def test_code_from_previous_key_verifies_after_rotation(
    old: MfaService, store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """A code issued under K1 still verifies once K2 is current and K1 kept."""
    old.send_login_code(ORG, "jane")
    code = _mailed(old, outbox)
    rotated = _service(
        store,
        clock,
        outbox,
        login_code_keys={"k2": K2, "default": K1},
        login_code_key_id="k2",
    )
    assert rotated.verify_login_code(ORG, "jane", code).user_id == "iam-1"


def test_code_from_removed_key_fails_closed(
    old: MfaService, store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """Once K1 is removed, its codes are wrong codes (a try is counted), audited."""
    old.send_login_code(ORG, "jane")
    code = _mailed(old, outbox)
    only_new = _service(store, clock, outbox, login_code_keys={"k2": K2}, login_code_key_id="k2")
    with pytest.raises(InvalidCodeError) as caught:
        only_new.verify_login_code(ORG, "jane", code)
    assert caught.value.attempts_remaining == SETTINGS.login_codes.max_attempts - 1
    actions = [e.action for e in store.list_audit_events(org_id=ORG).items]
    assert "login_code.unknown_key" in actions
    unknown = [e for e in store.list_audit_events(org_id=ORG).items if e.action.endswith("key")]
    assert unknown[0].details == {"key_id": "default"}


def test_new_codes_use_the_current_key(
    old: MfaService, store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """A code sent after the rotation is made under K2: K1 alone cannot verify it."""
    rotated = _service(
        store,
        clock,
        outbox,
        login_code_keys={"default": K1, "k2": K2},
        login_code_key_id="k2",
    )
    rotated.send_login_code(ORG, "jane")
    stored = store.get_login_code(_subject(ORG, "jane"))
    assert stored is not None
    assert stored.key_id == "k2"
    code = _mailed(rotated, outbox)
    with pytest.raises(InvalidCodeError):
        old.verify_login_code(ORG, "jane", code)  # K1 only: "k2" is unknown there
    assert rotated.verify_login_code(ORG, "jane", code).user_id == "iam-1"


def test_same_key_under_its_id_verifies(
    old: MfaService, store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """A code is checked with the key its record names, not with the current key."""
    old.send_login_code(ORG, "jane")
    code = _mailed(old, outbox)
    wrong_key_same_id = _service(
        store,
        clock,
        outbox,
        login_code_keys={"k2": K2, "default": b"3" * 32},
        login_code_key_id="k2",
    )
    with pytest.raises(InvalidCodeError):
        wrong_key_same_id.verify_login_code(ORG, "jane", code)


@pytest.mark.parametrize(
    "keys",
    [
        {},
        {"login_code_key": K1, "login_code_keys": {"a": K2}, "login_code_key_id": "a"},
        {"login_code_key": K1, "login_code_key_id": "default"},
        {"login_code_keys": {"a": K1}},
        {"login_code_keys": {"a": K1}, "login_code_key_id": "b"},
        {"login_code_keys": {"a": K1}, "login_code_key_id": ["a"]},
        {"login_code_keys": {}, "login_code_key_id": "a"},
        {"login_code_keys": [("a", K1)], "login_code_key_id": "a"},
        {"login_code_keys": {"-a": K1}, "login_code_key_id": "-a"},
        {"login_code_keys": {"a" * 33: K1}, "login_code_key_id": "a" * 33},
        {"login_code_keys": {"a": b"short"}, "login_code_key_id": "a"},
        {"login_code_keys": {"a": "x" * 32}, "login_code_key_id": "a"},
        {"login_code_keys": {"a": K1, "b": K1}, "login_code_key_id": "a"},
        {"login_code_key": b"short"},
    ],
)
def test_key_configuration_is_validated(keys: dict[str, object]) -> None:
    """Every wrong login-code key configuration is a ConfigurationError naming no key."""
    with pytest.raises(ConfigurationError) as caught:
        _service(MemoryStore(), FrozenClock(), InMemoryOutbox(), **keys)
    for key in (K1, K2):
        assert key.decode() not in str(caught.value)


def test_keys_repr_shows_ids_only() -> None:
    """The keys' repr lists the ids, current first, and never a key."""
    keys = LoginCodeKeys(key=None, keys={"old": K1, "new": K2}, current="new")
    assert repr(keys) == "LoginCodeKeys(current='new', key_ids=('new', 'old'))"
    assert keys.get("old") == K1
    assert keys.get("gone") is None
