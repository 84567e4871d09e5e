"""Contract tests of WebAuthn user handles and of passkey sign-in's per-credential facts.

Each user has one random user handle, stored by a get-or-create
(``webauthn_user_handle``) and found again by value
(``find_user_by_webauthn_handle``); each credential records the handle it was
registered with (``user_handle``) and whether it may sign in on its own
(``passwordless``).
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta
from typing import Any

import pytest

from mfakit.errors import ConfigurationError, DuplicateError, NotFoundError
from mfakit.repositories import MfaStore
from mfakit.testing.contracts._records import NOW, new_id, webauthn_credential

__all__ = ["WebAuthnHandleContract"]

LATER = NOW + timedelta(hours=1)


class WebAuthnHandleContract:
    """Contract tests of the user handles and credential facts of passkey sign-in.

    Mixed into :class:`StoreContract`.
    """

    # -- the users' handles ---------------------------------------------------------

    def test_user_handle_created_once(self, store: MfaStore) -> None:
        """The first call stores its handle; later calls return it, whatever they offer."""
        user, first = new_id("user"), secrets.token_bytes(32)
        assert store.webauthn_user_handle(user, create_with=first) == first
        assert store.webauthn_user_handle(user, create_with=secrets.token_bytes(32)) == first
        assert store.find_user_by_webauthn_handle(first) == user

    def test_user_handles_are_per_user(self, store: MfaStore) -> None:
        """Two users get their own handles; an unknown handle names nobody."""
        a, b = new_id("user"), new_id("user")
        ha = store.webauthn_user_handle(a, create_with=secrets.token_bytes(32))
        hb = store.webauthn_user_handle(b, create_with=secrets.token_bytes(32))
        assert ha != hb
        assert (store.find_user_by_webauthn_handle(ha), store.find_user_by_webauthn_handle(hb)) == (
            a,
            b,
        )
        assert store.find_user_by_webauthn_handle(secrets.token_bytes(32)) is None

    def test_user_handle_of_another_user_refused(self, store: MfaStore) -> None:
        """Offering another user's handle: DuplicateError, nothing written for the user."""
        owner, user = new_id("user"), new_id("user")
        taken = store.webauthn_user_handle(owner, create_with=secrets.token_bytes(32))
        with pytest.raises(DuplicateError):
            store.webauthn_user_handle(user, create_with=taken)
        assert store.find_user_by_webauthn_handle(taken) == owner
        fresh = secrets.token_bytes(32)
        assert store.webauthn_user_handle(user, create_with=fresh) == fresh

    def test_user_handle_outlives_the_credentials(self, store: MfaStore) -> None:
        """Deleting every credential of the user keeps the handle."""
        user = new_id("user")
        handle = store.webauthn_user_handle(user, create_with=secrets.token_bytes(32))
        cred = dataclasses.replace(webauthn_credential(user), user_handle=handle)
        store.add_webauthn_credential(cred)
        assert store.delete_webauthn_credential(user, cred.credential_id)
        assert store.webauthn_user_handle(user, create_with=secrets.token_bytes(32)) == handle

    @pytest.mark.parametrize(
        "bad", [b"", bytes(65), "handle", None, 7], ids=["empty", "65", "str", "none", "int"]
    )
    def test_user_handle_must_be_1_to_64_bytes(self, store: MfaStore, bad: Any) -> None:
        """A handle that is not 1 to 64 bytes is refused; nothing is stored."""
        user = new_id("user")
        with pytest.raises(ConfigurationError):
            store.webauthn_user_handle(user, create_with=bad)
        good = secrets.token_bytes(64)
        assert store.webauthn_user_handle(user, create_with=good) == good

    def test_find_user_by_handle_needs_bytes(self, store: MfaStore) -> None:
        """Looking a user up by something other than bytes is a ConfigurationError."""
        with pytest.raises(ConfigurationError):
            store.find_user_by_webauthn_handle("handle")  # type: ignore[arg-type]

    def test_user_handle_read_by_another_instance(self, store: MfaStore) -> None:
        """A handle one store instance stored, another instance on the same data returns."""
        user, handle = new_id("user"), secrets.token_bytes(32)
        store.webauthn_user_handle(user, create_with=handle)
        other = self.reopen(store)  # type: ignore[attr-defined]
        try:
            assert other.webauthn_user_handle(user, create_with=secrets.token_bytes(32)) == handle
            assert other.find_user_by_webauthn_handle(handle) == user
        finally:
            if other is not store:
                other.close()

    # -- the credentials' handle and flag -------------------------------------------

    @pytest.mark.parametrize(("kind", "passwordless"), [("passkey", True), ("security_key", False)])
    def test_passwordless_derived_from_the_kind(
        self, store: MfaStore, kind: str, passwordless: bool
    ) -> None:
        """Without a given flag a passkey may sign in on its own and a security key may not."""
        cred = dataclasses.replace(webauthn_credential(new_id("user")), kind=kind)  # type: ignore[arg-type]
        cred = dataclasses.replace(cred, passwordless=cred.kind == "passkey")
        store.add_webauthn_credential(cred)
        got = store.get_webauthn_credential(cred.credential_id)
        assert got is not None
        assert (got.passwordless, got.user_handle) == (passwordless, None)

    def test_credential_handle_and_flag_round_trip(self, store: MfaStore) -> None:
        """A credential's user handle and flag come back as given, in listings too."""
        user = new_id("user")
        cred = dataclasses.replace(
            webauthn_credential(user), user_handle=secrets.token_bytes(32), passwordless=False
        )
        store.add_webauthn_credential(cred)
        assert store.get_webauthn_credential(cred.credential_id) == cred
        assert store.list_webauthn_credentials(user) == (cred,)
        assert store.get_user_factors(user).credentials == (cred,)

    @pytest.mark.parametrize("bad", [b"", bytes(65), "handle"], ids=["empty", "65", "str"])
    def test_credential_handle_must_be_1_to_64_bytes(self, store: MfaStore, bad: Any) -> None:
        """A credential whose user handle is not 1 to 64 bytes is refused, not stored."""
        cred = dataclasses.replace(webauthn_credential(new_id("user")), user_handle=bad)
        with pytest.raises(ConfigurationError):
            store.add_webauthn_credential(cred)
        assert store.get_webauthn_credential(cred.credential_id) is None

    def test_credential_flag_must_be_a_bool(self, store: MfaStore) -> None:
        """A passwordless flag that is not a bool is refused, not stored."""
        cred = dataclasses.replace(webauthn_credential(new_id("user")), passwordless=1)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError):
            store.add_webauthn_credential(cred)
        assert store.get_webauthn_credential(cred.credential_id) is None

    def test_update_sign_count_records_a_first_handle(self, store: MfaStore) -> None:
        """A credential without a handle gets the one given, with the counter."""
        cred = webauthn_credential(new_id("user"), sign_count=5)
        store.add_webauthn_credential(cred)
        handle = cred.user_id.encode()
        assert store.update_sign_count(cred.credential_id, 5, 6, now=LATER, user_handle=handle)
        assert store.get_webauthn_credential(cred.credential_id) == dataclasses.replace(
            cred, sign_count=6, last_used_at=LATER, user_handle=handle
        )

    def test_update_sign_count_never_replaces_a_handle(self, store: MfaStore) -> None:
        """A credential's recorded handle stays, whatever handle the update carries."""
        handle = secrets.token_bytes(32)
        cred = dataclasses.replace(webauthn_credential(new_id("user")), user_handle=handle)
        store.add_webauthn_credential(cred)
        assert store.update_sign_count(cred.credential_id, 0, 1, now=NOW, user_handle=b"other")
        got = store.get_webauthn_credential(cred.credential_id)
        assert got is not None
        assert got.user_handle == handle

    def test_update_sign_count_lost_race_records_no_handle(self, store: MfaStore) -> None:
        """A lost compare-and-set records no handle (nor anything else)."""
        cred = webauthn_credential(new_id("user"), sign_count=5)
        store.add_webauthn_credential(cred)
        assert not store.update_sign_count(cred.credential_id, 4, 6, now=NOW, user_handle=b"h")
        assert store.get_webauthn_credential(cred.credential_id) == cred

    @pytest.mark.parametrize("bad", [b"", bytes(65), "handle"], ids=["empty", "65", "str"])
    def test_update_sign_count_handle_must_be_bytes(self, store: MfaStore, bad: Any) -> None:
        """A handle that is not 1 to 64 bytes is refused; the counter does not move."""
        cred = webauthn_credential(new_id("user"))
        store.add_webauthn_credential(cred)
        with pytest.raises(ConfigurationError):
            store.update_sign_count(cred.credential_id, 0, 1, now=NOW, user_handle=bad)
        assert store.get_webauthn_credential(cred.credential_id) == cred

    def test_set_passwordless(self, store: MfaStore) -> None:
        """The flag changes both ways and nothing else does; the updated record is returned."""
        cred = webauthn_credential(new_id("user"))
        store.add_webauthn_credential(cred)
        off = store.set_webauthn_passwordless(cred.user_id, cred.credential_id, False)
        assert off == dataclasses.replace(cred, passwordless=False)
        assert store.get_webauthn_credential(cred.credential_id) == off
        on = store.set_webauthn_passwordless(cred.user_id, cred.credential_id, True)
        assert on == dataclasses.replace(cred, passwordless=True)

    def test_set_passwordless_of_another_user(self, store: MfaStore) -> None:
        """Changing someone else's (or no) credential is NotFoundError; nothing changes."""
        cred = webauthn_credential(new_id("user"))
        store.add_webauthn_credential(cred)
        with pytest.raises(NotFoundError):
            store.set_webauthn_passwordless(new_id("user"), cred.credential_id, False)
        with pytest.raises(NotFoundError):
            store.set_webauthn_passwordless(cred.user_id, b"missing", False)
        assert store.get_webauthn_credential(cred.credential_id) == cred

    def test_set_passwordless_needs_a_bool(self, store: MfaStore) -> None:
        """A flag that is not a bool is refused; nothing changes."""
        cred = webauthn_credential(new_id("user"))
        store.add_webauthn_credential(cred)
        with pytest.raises(ConfigurationError):
            store.set_webauthn_passwordless(cred.user_id, cred.credential_id, 0)  # type: ignore[arg-type]
        assert store.get_webauthn_credential(cred.credential_id) == cred

    # -- the attested provider name ---------------------------------------------------

    def test_attested_provider_kept(self, store: MfaStore) -> None:
        """A credential's attested provider name reads back from get and list; None by default."""
        user = new_id("user")
        named = dataclasses.replace(
            webauthn_credential(user, name="Key"), attested_provider="Example Key 5 NFC"
        )
        plain = webauthn_credential(user, name="Phone", created_offset=1)
        store.add_webauthn_credential(named)
        store.add_webauthn_credential(plain)
        got = store.get_webauthn_credential(named.credential_id)
        assert got is not None
        assert got.attested_provider == "Example Key 5 NFC"
        listed = {c.name: c.attested_provider for c in store.list_webauthn_credentials(user)}
        assert listed == {"Key": "Example Key 5 NFC", "Phone": None}

    def test_attested_provider_with_nul_refused(self, store: MfaStore) -> None:
        """A NUL character in the name is refused by every store, and nothing is written."""
        cred = dataclasses.replace(
            webauthn_credential(new_id("user")), attested_provider="bad\x00name"
        )
        with pytest.raises(ConfigurationError):
            store.add_webauthn_credential(cred)
        assert store.get_webauthn_credential(cred.credential_id) is None
