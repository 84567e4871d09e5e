"""Passkeys registered before random user handles, in a database migrated from version 8."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from service_helpers import ORIGIN, RP_ID, SETTINGS, START
from tests.stores._migrations import write_old_credential

from mfakit import webauthn
from mfakit.clock import FrozenClock
from mfakit.repositories import MfaStore, WebAuthnCredential
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import InMemoryOutbox, MfaService, RelyingParty
from mfakit.stores import _sql
from mfakit.stores._schema import MIGRATIONS
from mfakit.stores.postgres import PostgresStore
from mfakit.stores.sqlite import SQLiteStore
from mfakit.testing import SoftAuthenticator
from mfakit.testing.contracts._records import new_id
from mfakit.testing.postgres import TemporaryPostgres

USER = "u-ada"
#: The schema version before user handles were stored.
BEFORE_HANDLES = 8


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], MfaStore]:
    """Opens stores on a fresh database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "mfa.sqlite3"
        return lambda: SQLiteStore(path)
    cluster: TemporaryPostgres = request.getfixturevalue("service_postgres")
    dsn = cluster.create_database(new_id("db").replace("-", "_"))
    return lambda: PostgresStore(dsn)


def _registered_the_old_way(device: SoftAuthenticator) -> WebAuthnCredential:
    """A discoverable passkey whose user handle is the user id's bytes, as mfakit made them."""
    options = webauthn.registration_options(
        rp_id=RP_ID,
        rp_name="Console",
        user_id=USER.encode("utf-8"),
        user_name="ada",
        user_display_name="Ada",
        resident_key="required",
    )
    verified = webauthn.verify_registration(
        device.create(options),
        expected_challenge=options.challenge,
        expected_origins=ORIGIN,
        expected_rp_id=RP_ID,
    )
    return WebAuthnCredential(
        credential_id=verified.credential_id,
        user_id=USER,
        name="Laptop",
        public_key=verified.public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid.bytes,
        created_at=START,
        kind="passkey",
    )


@pytest.fixture
def migrated(
    opener: Callable[[], MfaStore], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[MfaStore, SoftAuthenticator, bytes]]:
    """A version-8 database with an old passkey, opened (and migrated) by this mfakit."""
    device = SoftAuthenticator(origin=ORIGIN)
    with monkeypatch.context() as patch:
        patch.setattr(_sql, "MIGRATIONS", MIGRATIONS[:BEFORE_HANDLES])
        old = opener()
        credential = _registered_the_old_way(device)
        write_old_credential(old, credential)
        old.close()
    store = opener()
    assert store.schema_version() == len(MIGRATIONS) > BEFORE_HANDLES  # type: ignore[attr-defined]
    yield store, device, credential.credential_id
    store.close()


def _service(store: MfaStore) -> MfaService:
    return MfaService(
        store=store,
        keys=KeyRing({"k1": generate_key()}, current="k1"),
        notifier=InMemoryOutbox(),
        clock=FrozenClock(START),
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=SETTINGS,
    )


def _second_factor(service: MfaService, device: SoftAuthenticator) -> str:
    start = service.begin_second_factor(USER)
    assert start.challenge_id is not None
    assert start.webauthn_options is not None
    return service.verify_passkey(
        USER, start.challenge_id, device.get(start.webauthn_options)
    ).user_id


def _usernameless(service: MfaService, device: SoftAuthenticator) -> str:
    start = service.begin_passkey_sign_in()
    return service.finish_passkey_sign_in(start.challenge_id, device.get(start.options)).user_id


@pytest.mark.parametrize("first", [_second_factor, _usernameless], ids=["second", "usernameless"])
def test_old_passkey_signs_in_and_gets_its_handle_recorded(
    migrated: tuple[MfaStore, SoftAuthenticator, bytes],
    first: Callable[[MfaService, SoftAuthenticator], str],
) -> None:
    """The migrated passkey works both ways; its first use records the user id as its handle."""
    store, device, credential_id = migrated
    stored = store.get_webauthn_credential(credential_id)
    assert stored is not None
    assert (stored.user_handle, stored.passwordless) == (None, True)
    service = _service(store)
    assert first(service, device) == USER
    recorded = store.get_webauthn_credential(credential_id)
    assert recorded is not None
    assert recorded.user_handle == USER.encode("utf-8")
    assert _usernameless(service, device) == _second_factor(service, device) == USER
