"""Contract tests of the factor ports: TOTP, backup codes, WebAuthn credentials."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from mfakit.errors import ConfigurationError, DuplicateError, LimitReachedError, NotFoundError
from mfakit.repositories import MfaStore, TotpCredential
from mfakit.testing.contracts._records import (
    MAX_DEVICES,
    NOW,
    backup_codes,
    new_id,
    pending_totp,
    webauthn_credential,
)

__all__ = ["FactorContract"]

LATER = NOW + timedelta(hours=1)


def _activate(store: MfaStore, rec: TotpCredential, *, step: int = 1) -> TotpCredential:
    """Activate the pending ``rec`` at NOW under the suite's device limit."""
    return store.activate_totp(
        rec.user_id, rec.totp_id, step=step, now=NOW, max_devices=MAX_DEVICES
    )


class FactorContract:
    """Contract tests of the factor ports: TOTP, backup codes, WebAuthn credentials.

    Mixed into :class:`StoreContract`.
    """

    # -- TOTP -----------------------------------------------------------------------

    def test_pending_totp_round_trip(self, store: MfaStore) -> None:
        """A pending enrollment comes back field for field."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        assert store.get_pending_totp(rec.user_id, now=NOW) == rec

    def test_pending_totp_expires(self, store: MfaStore) -> None:
        """A pending enrollment is gone at its expiry instant."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        assert rec.expires_at is not None
        assert store.get_pending_totp(rec.user_id, now=rec.expires_at) is None

    def test_put_pending_totp_replaces_previous_pending(self, store: MfaStore) -> None:
        """Starting enrollment again replaces the earlier pending secret."""
        user = new_id("user")
        first, second = pending_totp(user), pending_totp(user)
        store.put_pending_totp(first)
        store.put_pending_totp(second)
        assert store.get_pending_totp(user, now=NOW) == second

    def test_put_pending_totp_refuses_active_record(self, store: MfaStore) -> None:
        """put_pending_totp only takes pending records."""
        rec = dataclasses.replace(pending_totp(new_id("user")), state="active")
        with pytest.raises(ConfigurationError):
            store.put_pending_totp(rec)

    def test_activate_totp(self, store: MfaStore) -> None:
        """Activation makes the pending secret an active device with the confirming step."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        active = _activate(store, rec, step=1000)
        assert active == dataclasses.replace(
            rec, state="active", expires_at=None, confirmed_at=NOW, last_step=1000
        )
        assert store.list_totp_devices(rec.user_id) == (active,)
        assert store.get_pending_totp(rec.user_id, now=NOW) is None

    def test_activate_totp_wrong_id_not_found(self, store: MfaStore) -> None:
        """Activating an enrollment that was replaced fails and keeps the pending one."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        with pytest.raises(NotFoundError):
            store.activate_totp(rec.user_id, "other", step=1, now=NOW, max_devices=MAX_DEVICES)
        assert store.get_pending_totp(rec.user_id, now=NOW) == rec

    def test_activate_totp_of_another_user_not_found(self, store: MfaStore) -> None:
        """A user cannot activate someone else's pending enrollment."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        with pytest.raises(NotFoundError):
            store.activate_totp(
                new_id("user"), rec.totp_id, step=1, now=NOW, max_devices=MAX_DEVICES
            )
        assert store.get_pending_totp(rec.user_id, now=NOW) == rec

    def test_activate_totp_expired_not_found(self, store: MfaStore) -> None:
        """An expired enrollment cannot be activated."""
        rec = pending_totp(new_id("user"), ttl=timedelta(seconds=1))
        store.put_pending_totp(rec)
        with pytest.raises(NotFoundError):
            store.activate_totp(rec.user_id, rec.totp_id, step=1, now=LATER, max_devices=1)
        assert store.list_totp_devices(rec.user_id) == ()

    def test_several_devices_kept_oldest_first(self, store: MfaStore) -> None:
        """Each confirmed enrollment is one more device; earlier ones keep working."""
        user = new_id("user")
        recs = [
            dataclasses.replace(pending_totp(user), created_at=NOW - timedelta(minutes=i))
            for i in range(3)
        ]
        for i, rec in enumerate(recs):
            store.put_pending_totp(rec)
            _activate(store, rec, step=i)
        devices = store.list_totp_devices(user)
        assert [d.totp_id for d in devices] == [r.totp_id for r in reversed(recs)]
        assert [d.last_step for d in devices] == [2, 1, 0]
        assert store.list_totp_devices(new_id("user")) == ()

    def test_activate_totp_refuses_beyond_the_limit(self, store: MfaStore) -> None:
        """At the limit an activation is LimitReachedError and changes nothing."""
        user = new_id("user")
        for _ in range(2):
            rec = pending_totp(user)
            store.put_pending_totp(rec)
            store.activate_totp(user, rec.totp_id, step=1, now=NOW, max_devices=2)
        extra = pending_totp(user)
        store.put_pending_totp(extra)
        with pytest.raises(LimitReachedError) as caught:
            store.activate_totp(user, extra.totp_id, step=1, now=NOW, max_devices=2)
        assert caught.value.limit == 2
        assert len(store.list_totp_devices(user)) == 2
        assert store.get_pending_totp(user, now=NOW) == extra
        _activate(store, extra, step=1)  # a higher limit lets it in
        assert len(store.list_totp_devices(user)) == 3

    @pytest.mark.parametrize("limit", [0, -1, True, 1.5, 1001])
    def test_activate_totp_refuses_a_bad_limit(self, store: MfaStore, limit: Any) -> None:
        """The limit is a positive int: anything else is a ConfigurationError."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        with pytest.raises(ConfigurationError):
            store.activate_totp(rec.user_id, rec.totp_id, step=1, now=NOW, max_devices=limit)
        assert store.get_pending_totp(rec.user_id, now=NOW) == rec

    def test_activate_totp_refuses_a_taken_name(self, store: MfaStore) -> None:
        """Names are unique among a user's active devices; other users may share them."""
        user, other = new_id("user"), new_id("user")
        first = pending_totp(user, name="Phone")
        store.put_pending_totp(first)
        _activate(store, first)
        same = pending_totp(user, name="Phone")
        store.put_pending_totp(same)
        with pytest.raises(DuplicateError):
            _activate(store, same)
        assert [d.totp_id for d in store.list_totp_devices(user)] == [first.totp_id]
        assert store.get_pending_totp(user, now=NOW) == same
        theirs = pending_totp(other, name="Phone")
        store.put_pending_totp(theirs)
        assert _activate(store, theirs).name == "Phone"

    def test_advance_totp_step_only_forward(self, store: MfaStore) -> None:
        """A step is accepted only if greater than the stored one; the use is recorded."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        _activate(store, rec, step=10)
        assert store.advance_totp_step(rec.totp_id, 10, now=LATER) is False
        assert store.advance_totp_step(rec.totp_id, 9, now=LATER) is False
        assert store.list_totp_devices(rec.user_id)[0].last_used_at is None
        assert store.advance_totp_step(rec.totp_id, 11, now=LATER) is True
        (active,) = store.list_totp_devices(rec.user_id)
        assert (active.last_step, active.last_used_at) == (11, LATER)

    def test_advance_totp_step_is_per_device(self, store: MfaStore) -> None:
        """Advancing one device leaves the user's other devices' steps alone."""
        user = new_id("user")
        a, b = pending_totp(user), pending_totp(user)
        store.put_pending_totp(a)
        _activate(store, a, step=10)
        store.put_pending_totp(b)
        _activate(store, b, step=10)
        assert store.advance_totp_step(a.totp_id, 20, now=LATER) is True
        steps = {d.totp_id: d.last_step for d in store.list_totp_devices(user)}
        assert steps == {a.totp_id: 20, b.totp_id: 10}
        assert store.advance_totp_step(b.totp_id, 11, now=LATER) is True

    def test_advance_totp_step_without_active(self, store: MfaStore) -> None:
        """A pending enrollment or an unknown id accepts no step."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        assert store.advance_totp_step(rec.totp_id, 1, now=NOW) is False
        assert store.advance_totp_step(new_id("totp"), 1, now=NOW) is False

    def test_rename_totp_device(self, store: MfaStore) -> None:
        """A device is renamed on its own; a taken name or a stranger's device is refused."""
        user = new_id("user")
        a, b = pending_totp(user, name="A"), pending_totp(user, name="B")
        for rec in (a, b):
            store.put_pending_totp(rec)
            _activate(store, rec)
        renamed = store.rename_totp_device(user, a.totp_id, "Work phone")
        assert renamed.name == "Work phone"
        assert {d.name for d in store.list_totp_devices(user)} == {"Work phone", "B"}
        with pytest.raises(DuplicateError):
            store.rename_totp_device(user, a.totp_id, "B")
        with pytest.raises(NotFoundError):
            store.rename_totp_device(new_id("user"), a.totp_id, "Stolen")
        with pytest.raises(NotFoundError):
            store.rename_totp_device(user, new_id("totp"), "C")
        assert store.rename_totp_device(user, a.totp_id, "Work phone").name == "Work phone"
        assert {d.name for d in store.list_totp_devices(user)} == {"Work phone", "B"}

    def test_rename_refuses_a_pending_enrollment(self, store: MfaStore) -> None:
        """Only active devices are renamed."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        with pytest.raises(NotFoundError):
            store.rename_totp_device(rec.user_id, rec.totp_id, "New")

    def test_delete_totp_device(self, store: MfaStore) -> None:
        """One device goes; the others, and other users' devices, stay."""
        user = new_id("user")
        a, b = pending_totp(user), pending_totp(user)
        for rec in (a, b):
            store.put_pending_totp(rec)
            _activate(store, rec)
        assert store.delete_totp_device(new_id("user"), a.totp_id) is False
        assert store.delete_totp_device(user, a.totp_id) is True
        assert [d.totp_id for d in store.list_totp_devices(user)] == [b.totp_id]
        assert store.delete_totp_device(user, a.totp_id) is False
        assert store.advance_totp_step(a.totp_id, 99, now=NOW) is False
        # A freed name and slot can be used again.
        again = pending_totp(user, name=a.name)
        store.put_pending_totp(again)
        store.activate_totp(user, again.totp_id, step=1, now=NOW, max_devices=2)

    def test_delete_totp_device_keeps_the_pending_enrollment(self, store: MfaStore) -> None:
        """Deleting a device never deletes an enrollment in progress."""
        user = new_id("user")
        a = pending_totp(user)
        store.put_pending_totp(a)
        _activate(store, a)
        pending = pending_totp(user)
        store.put_pending_totp(pending)
        assert store.delete_totp_device(user, pending.totp_id) is False
        assert store.delete_totp_device(user, a.totp_id) is True
        assert store.get_pending_totp(user, now=NOW) == pending

    def test_delete_totp(self, store: MfaStore) -> None:
        """Deleting removes every device and the pending enrollment; says whether any existed."""
        user = new_id("user")
        for _ in range(2):
            rec = pending_totp(user)
            store.put_pending_totp(rec)
            _activate(store, rec)
        store.put_pending_totp(pending_totp(user))
        assert store.delete_totp(user) is True
        assert store.list_totp_devices(user) == ()
        assert store.get_pending_totp(user, now=NOW) is None
        assert store.delete_totp(user) is False

    def test_totp_id_unique(self, store: MfaStore) -> None:
        """An enrollment id used by another user is DuplicateError; theirs is untouched."""
        first = pending_totp(new_id("user"))
        store.put_pending_totp(first)
        copy = dataclasses.replace(pending_totp(new_id("user")), totp_id=first.totp_id)
        with pytest.raises(DuplicateError):
            store.put_pending_totp(copy)
        assert store.get_pending_totp(first.user_id, now=NOW) == first
        assert store.get_pending_totp(copy.user_id, now=NOW) is None

    def test_list_totp_credentials_pages(self, store: MfaStore) -> None:
        """Paging through credentials yields pending and active ones, each once."""
        mine = set()
        for _ in range(5):
            rec = pending_totp(new_id("user"))
            store.put_pending_totp(rec)
            mine.add(rec.totp_id)
        _activate(store, rec)
        page = store.list_totp_credentials(limit=2)
        seen = [r.totp_id for r in page.items]
        while page.next_cursor is not None:
            page = store.list_totp_credentials(after=page.next_cursor, limit=2)
            seen.extend(r.totp_id for r in page.items)
        assert seen == sorted(seen)
        assert len(seen) == len(set(seen))
        assert mine <= set(seen)

    def test_rewrap_totp_secret_compare_and_set(self, store: MfaStore) -> None:
        """A re-encrypted secret replaces the old one only if it is still the stored one."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        _activate(store, rec)
        assert store.rewrap_totp_secret(rec.totp_id, expected=b"stale", new=b"x") is False
        assert store.rewrap_totp_secret(rec.totp_id, expected=rec.secret, new=b"new") is True
        (active,) = store.list_totp_devices(rec.user_id)
        assert active.secret == b"new"
        assert store.rewrap_totp_secret(new_id("totp"), expected=b"", new=b"x") is False

    def test_rewrap_pending_totp_secret(self, store: MfaStore) -> None:
        """A pending enrollment's secret can be re-encrypted too."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        assert store.rewrap_totp_secret(rec.totp_id, expected=rec.secret, new=b"new") is True
        pending = store.get_pending_totp(rec.user_id, now=NOW)
        assert pending is not None
        assert pending.secret == b"new"

    # -- backup codes ---------------------------------------------------------------

    def test_backup_codes_round_trip(self, store: MfaStore) -> None:
        """A stored set comes back ordered by code id, all unused."""
        user = new_id("user")
        codes = backup_codes(user)
        store.replace_backup_codes(user, codes)
        assert store.list_backup_codes(user) == tuple(sorted(codes, key=lambda c: c.code_id))
        assert store.count_unused_backup_codes(user) == 10

    def test_replace_backup_codes_drops_old_set(self, store: MfaStore) -> None:
        """Regenerating invalidates every old code."""
        user = new_id("user")
        old, new = backup_codes(user), backup_codes(user, 5)
        store.replace_backup_codes(user, old)
        store.replace_backup_codes(user, new)
        assert {c.code_id for c in store.list_backup_codes(user)} == {c.code_id for c in new}
        assert store.consume_backup_code(user, old[0].code_id, now=NOW) is False

    def test_consume_backup_code_once(self, store: MfaStore) -> None:
        """A code is consumed exactly once and marked with the time."""
        user = new_id("user")
        codes = backup_codes(user, 3)
        store.replace_backup_codes(user, codes)
        assert store.consume_backup_code(user, codes[1].code_id, now=NOW) is True
        assert store.consume_backup_code(user, codes[1].code_id, now=NOW) is False
        assert store.count_unused_backup_codes(user) == 2
        used = [c for c in store.list_backup_codes(user) if c.code_id == codes[1].code_id]
        assert used[0].consumed_at == NOW

    def test_consume_backup_code_of_another_user(self, store: MfaStore) -> None:
        """A code id only works for its own user."""
        alice, bob = new_id("user"), new_id("user")
        codes = backup_codes(alice, 2)
        store.replace_backup_codes(alice, codes)
        assert store.consume_backup_code(bob, codes[0].code_id, now=NOW) is False
        assert store.consume_backup_code(alice, "unknown", now=NOW) is False

    def test_replace_backup_codes_duplicate_ids(self, store: MfaStore) -> None:
        """Two codes with one id: DuplicateError, and the old set is untouched."""
        user = new_id("user")
        old = backup_codes(user, 2)
        store.replace_backup_codes(user, old)
        bad = backup_codes(user, 2)
        bad[1] = dataclasses.replace(bad[1], code_id=bad[0].code_id)
        with pytest.raises(DuplicateError):
            store.replace_backup_codes(user, bad)
        assert store.list_backup_codes(user) == tuple(sorted(old, key=lambda c: c.code_id))

    def test_replace_backup_codes_foreign_user(self, store: MfaStore) -> None:
        """A code of another user in the set is a ConfigurationError."""
        user = new_id("user")
        with pytest.raises(ConfigurationError):
            store.replace_backup_codes(user, backup_codes(new_id("user"), 1))

    def test_delete_backup_codes(self, store: MfaStore) -> None:
        """Deleting the set reports how many codes it had."""
        user = new_id("user")
        store.replace_backup_codes(user, backup_codes(user, 4))
        assert store.delete_backup_codes(user) == 4
        assert store.list_backup_codes(user) == ()
        assert store.delete_backup_codes(user) == 0

    # -- WebAuthn -------------------------------------------------------------------

    def test_webauthn_credential_round_trip(self, store: MfaStore) -> None:
        """A credential comes back field for field."""
        cred = webauthn_credential(new_id("user"))
        store.add_webauthn_credential(cred)
        assert store.get_webauthn_credential(cred.credential_id) == cred
        assert store.get_webauthn_credential(b"missing") is None

    @pytest.mark.parametrize(
        ("kind", "backup_eligible"), [("passkey", False), ("security_key", True)]
    )
    def test_webauthn_kind_kept_as_given(
        self, store: MfaStore, kind: str, backup_eligible: bool
    ) -> None:
        """The registered kind comes back as given, whatever the BE flag says."""
        cred = dataclasses.replace(
            webauthn_credential(new_id("user")),
            kind=kind,  # type: ignore[arg-type]
            backup_eligible=backup_eligible,
        )
        store.add_webauthn_credential(cred)
        got = store.get_webauthn_credential(cred.credential_id)
        assert got is not None
        assert got.kind == kind
        assert store.list_webauthn_credentials(cred.user_id) == (got,)

    def test_webauthn_kind_survives_updates(self, store: MfaStore) -> None:
        """Renaming and sign-count updates leave the kind alone."""
        cred = dataclasses.replace(webauthn_credential(new_id("user")), kind="security_key")
        store.add_webauthn_credential(cred)
        store.rename_webauthn_credential(cred.user_id, cred.credential_id, "Desk key")
        assert store.update_sign_count(cred.credential_id, 0, 5, now=LATER, backup_state=True)
        got = store.get_webauthn_credential(cred.credential_id)
        assert got is not None
        assert got.kind == "security_key"

    def test_webauthn_unknown_kind_refused(self, store: MfaStore) -> None:
        """A kind other than passkey or security_key is a ConfigurationError, not stored."""
        cred = dataclasses.replace(
            webauthn_credential(new_id("user")),
            kind="platform",  # type: ignore[arg-type]
        )
        with pytest.raises(ConfigurationError):
            store.add_webauthn_credential(cred)
        assert store.get_webauthn_credential(cred.credential_id) is None

    def test_webauthn_credential_id_registered_twice(self, store: MfaStore) -> None:
        """The same credential id again (even for another user): error, nothing overwritten."""
        cred = webauthn_credential(new_id("user"))
        store.add_webauthn_credential(cred)
        thief = dataclasses.replace(cred, user_id=new_id("user"), name="stolen")
        with pytest.raises(DuplicateError):
            store.add_webauthn_credential(thief)
        assert store.get_webauthn_credential(cred.credential_id) == cred

    def test_webauthn_name_unique_per_user(self, store: MfaStore) -> None:
        """A user cannot have two credentials with one name; another user can use it."""
        user = new_id("user")
        store.add_webauthn_credential(webauthn_credential(user, name="YubiKey"))
        with pytest.raises(DuplicateError):
            store.add_webauthn_credential(webauthn_credential(user, name="YubiKey"))
        store.add_webauthn_credential(webauthn_credential(new_id("user"), name="YubiKey"))
        assert len(store.list_webauthn_credentials(user)) == 1

    def test_list_webauthn_credentials_oldest_first(self, store: MfaStore) -> None:
        """A user's credentials are listed in registration order."""
        user = new_id("user")
        creds = [webauthn_credential(user, created_offset=i) for i in (3, 1, 2)]
        for cred in creds:
            store.add_webauthn_credential(cred)
        listed = store.list_webauthn_credentials(user)
        assert listed == tuple(sorted(creds, key=lambda c: c.created_at))

    def test_rename_webauthn_credential(self, store: MfaStore) -> None:
        """Renaming changes only the name."""
        cred = webauthn_credential(new_id("user"))
        store.add_webauthn_credential(cred)
        store.rename_webauthn_credential(cred.user_id, cred.credential_id, "Laptop")
        assert store.get_webauthn_credential(cred.credential_id) == dataclasses.replace(
            cred, name="Laptop"
        )

    def test_rename_webauthn_credential_to_same_name(self, store: MfaStore) -> None:
        """Renaming a credential to its current name changes nothing."""
        cred = webauthn_credential(new_id("user"), name="Phone")
        store.add_webauthn_credential(cred)
        store.rename_webauthn_credential(cred.user_id, cred.credential_id, "Phone")
        assert store.get_webauthn_credential(cred.credential_id) == cred

    def test_rename_webauthn_credential_to_taken_name(self, store: MfaStore) -> None:
        """Renaming to another credential's name: DuplicateError, nothing changed."""
        user = new_id("user")
        a, b = webauthn_credential(user, name="A"), webauthn_credential(user, name="B")
        store.add_webauthn_credential(a)
        store.add_webauthn_credential(b)
        with pytest.raises(DuplicateError):
            store.rename_webauthn_credential(user, b.credential_id, "A")
        assert store.get_webauthn_credential(b.credential_id) == b

    def test_rename_webauthn_credential_of_another_user(self, store: MfaStore) -> None:
        """Renaming someone else's credential is NotFoundError."""
        cred = webauthn_credential(new_id("user"))
        store.add_webauthn_credential(cred)
        with pytest.raises(NotFoundError):
            store.rename_webauthn_credential(new_id("user"), cred.credential_id, "mine")
        with pytest.raises(NotFoundError):
            store.rename_webauthn_credential(cred.user_id, b"missing", "x")

    def test_delete_webauthn_credential_scoped_to_user(self, store: MfaStore) -> None:
        """Only the owner can delete a credential."""
        cred = webauthn_credential(new_id("user"))
        store.add_webauthn_credential(cred)
        assert store.delete_webauthn_credential(new_id("user"), cred.credential_id) is False
        assert store.delete_webauthn_credential(cred.user_id, cred.credential_id) is True
        assert store.get_webauthn_credential(cred.credential_id) is None
        assert store.delete_webauthn_credential(cred.user_id, cred.credential_id) is False

    def test_update_sign_count_compare_and_set(self, store: MfaStore) -> None:
        """The counter moves only from the expected value, recording use time and BS."""
        cred = webauthn_credential(new_id("user"), sign_count=5)
        store.add_webauthn_credential(cred)
        assert store.update_sign_count(cred.credential_id, 4, 9, now=NOW) is False
        assert (
            store.update_sign_count(cred.credential_id, 5, 6, now=LATER, backup_state=True) is True
        )
        got = store.get_webauthn_credential(cred.credential_id)
        assert got == dataclasses.replace(cred, sign_count=6, last_used_at=LATER, backup_state=True)

    def test_update_sign_count_keeps_backup_state_when_not_given(self, store: MfaStore) -> None:
        """Without backup_state the stored BS flag is kept."""
        cred = dataclasses.replace(webauthn_credential(new_id("user")), backup_state=True)
        store.add_webauthn_credential(cred)
        assert store.update_sign_count(cred.credential_id, 0, 0, now=NOW) is True
        got = store.get_webauthn_credential(cred.credential_id)
        assert got is not None
        assert got.backup_state is True

    def test_update_sign_count_records_backup_eligibility(self, store: MfaStore) -> None:
        """backup_eligible=True sets BE and makes the credential a passkey, with the counter."""
        cred = dataclasses.replace(
            webauthn_credential(new_id("user"), sign_count=5),
            backup_eligible=False,
            kind="security_key",
        )
        store.add_webauthn_credential(cred)
        assert store.update_sign_count(
            cred.credential_id, 5, 6, now=LATER, backup_state=True, backup_eligible=True
        )
        assert store.get_webauthn_credential(cred.credential_id) == dataclasses.replace(
            cred,
            sign_count=6,
            last_used_at=LATER,
            backup_state=True,
            backup_eligible=True,
            kind="passkey",
        )

    def test_update_sign_count_lost_race_keeps_backup_eligibility(self, store: MfaStore) -> None:
        """A lost compare-and-set changes neither BE nor the kind (nor anything else)."""
        cred = dataclasses.replace(
            webauthn_credential(new_id("user"), sign_count=5),
            backup_eligible=False,
            kind="security_key",
        )
        store.add_webauthn_credential(cred)
        assert (
            store.update_sign_count(cred.credential_id, 4, 6, now=LATER, backup_eligible=True)
            is False
        )
        assert store.get_webauthn_credential(cred.credential_id) == cred

    def test_update_sign_count_keeps_backup_eligibility_when_not_given(
        self, store: MfaStore
    ) -> None:
        """Without backup_eligible the stored BE flag and kind are kept."""
        cred = dataclasses.replace(
            webauthn_credential(new_id("user")), backup_eligible=False, kind="security_key"
        )
        store.add_webauthn_credential(cred)
        assert store.update_sign_count(cred.credential_id, 0, 0, now=NOW, backup_state=False)
        got = store.get_webauthn_credential(cred.credential_id)
        assert got is not None
        assert (got.backup_eligible, got.kind) == (False, "security_key")

    def test_update_sign_count_backup_eligible_false_keeps_kind(self, store: MfaStore) -> None:
        """backup_eligible=False clears BE only: the kind stays what it was."""
        cred = webauthn_credential(new_id("user"))
        store.add_webauthn_credential(cred)
        assert store.update_sign_count(cred.credential_id, 0, 0, now=NOW, backup_eligible=False)
        got = store.get_webauthn_credential(cred.credential_id)
        assert got is not None
        assert (got.backup_eligible, got.kind) == (False, "passkey")

    @pytest.mark.parametrize("flag", ["backup_state", "backup_eligible"])
    def test_update_sign_count_flags_must_be_bools(self, store: MfaStore, flag: str) -> None:
        """A BS or BE flag that is not a bool or None is refused; nothing changes."""
        cred = dataclasses.replace(
            webauthn_credential(new_id("user")), backup_eligible=False, kind="security_key"
        )
        store.add_webauthn_credential(cred)
        # An int where a bool belongs, as an untyped caller might pass it.
        flags: dict[str, Any] = {flag: 1}
        with pytest.raises(ConfigurationError):
            store.update_sign_count(cred.credential_id, 0, 1, now=NOW, **flags)
        assert store.get_webauthn_credential(cred.credential_id) == cred

    def test_update_sign_count_unknown_credential(self, store: MfaStore) -> None:
        """Updating a credential that does not exist returns False."""
        assert store.update_sign_count(b"nope", 0, 1, now=NOW) is False
