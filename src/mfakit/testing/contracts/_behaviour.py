"""The behaviour half of the contract: every port method, one behaviour per test."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta, timezone

import pytest

from mfakit.errors import ConfigurationError, DuplicateError, NotFoundError, StoreError
from mfakit.repositories import MfaStore
from mfakit.testing.contracts._records import (
    NOW,
    audit_event,
    backup_codes,
    challenge,
    invitation,
    login_code,
    membership,
    new_id,
    organization,
    pending_totp,
    webauthn_credential,
)

__all__ = ["StoreContract"]

LATER = NOW + timedelta(hours=1)


class StoreContract:
    """Every port's behaviour. Subclass it and override the :meth:`store` fixture.

    Each test uses fresh random ids, so the fixture may hand out one shared
    database to every test.
    """

    @pytest.fixture
    def store(self) -> Iterator[MfaStore]:
        """The store under test. Override this fixture in the subclass."""
        raise NotImplementedError

    def reopen(self, store: MfaStore) -> MfaStore:
        """Back door: a new store instance on the same data (default: the same one).

        Persistent stores override it to prove that data outlives the instance.
        """
        return store

    # -- common ---------------------------------------------------------------------

    def test_implements_every_port(self, store: MfaStore) -> None:
        """The store satisfies the MfaStore protocol."""
        assert isinstance(store, MfaStore)

    def test_naive_datetime_refused(self, store: MfaStore) -> None:
        """A naive datetime is a ConfigurationError, never stored."""
        with pytest.raises(ConfigurationError):
            store.pop_challenge("x", now=NOW.replace(tzinfo=None))

    def test_datetimes_come_back_in_utc(self, store: MfaStore) -> None:
        """A datetime given in another zone comes back as the same instant in UTC."""
        paris = timezone(timedelta(hours=1))
        ch = dataclasses.replace(challenge(), created_at=NOW.astimezone(paris))
        store.put_challenge(ch)
        got = store.pop_challenge(ch.challenge_id, now=NOW)
        assert got is not None
        assert got.created_at == NOW
        assert got.created_at.utcoffset() == timedelta(0)

    def test_data_outlives_the_instance(self, store: MfaStore) -> None:
        """What one store instance wrote, another instance on the same data reads."""
        user = new_id("user")
        store.replace_backup_codes(user, backup_codes(user, 3))
        other = self.reopen(store)
        try:
            assert other.count_unused_backup_codes(user) == 3
        finally:
            if other is not store:
                other.close()

    def test_closed_store_refuses_calls(self, store: MfaStore) -> None:
        """After close(), every call raises StoreError."""
        other = self.reopen(store)
        if other is store:
            other = type(store)()  # stores without persistence: a fresh one
        other.close()
        with pytest.raises(StoreError):
            other.get_throttle("k")

    def test_unknown_literal_refused(self, store: MfaStore) -> None:
        """A principal kind outside owner/member/guest is a ConfigurationError, not stored."""
        org = store.create_organization(organization())
        bad = membership(org.org_id, kind="admin")
        with pytest.raises(ConfigurationError):
            store.add_membership(bad)
        assert store.get_membership(org.org_id, bad.user_id) is None

    def test_negative_counter_refused(self, store: MfaStore) -> None:
        """A negative signature counter is a ConfigurationError."""
        cred = dataclasses.replace(webauthn_credential(new_id("user")), sign_count=-1)
        with pytest.raises(ConfigurationError):
            store.add_webauthn_credential(cred)

    def test_nul_in_text_refused(self, store: MfaStore) -> None:
        """A NUL character in a record's text is a ConfigurationError in every store."""
        with pytest.raises(ConfigurationError):
            store.put_challenge(dataclasses.replace(challenge(), purpose="a\x00b"))

    @pytest.mark.parametrize("step", [2**64, -(2**64), True])
    def test_step_out_of_range_refused(self, store: MfaStore, step: int) -> None:
        """A step no store can hold (or a bool) is a ConfigurationError, never a stray error."""
        with pytest.raises(ConfigurationError):
            store.advance_totp_step(new_id("user"), step)

    def test_sign_count_out_of_range_refused(self, store: MfaStore) -> None:
        """Counters beyond 64 bits are refused before reaching the database."""
        with pytest.raises(ConfigurationError):
            store.update_sign_count(b"x", 0, 2**64, now=NOW)

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
        """Activation makes the pending secret active with the confirming step."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        active = store.activate_totp(rec.user_id, rec.totp_id, step=1000, now=NOW)
        assert active == dataclasses.replace(
            rec, state="active", expires_at=None, confirmed_at=NOW, last_step=1000
        )
        assert store.get_active_totp(rec.user_id) == active
        assert store.get_pending_totp(rec.user_id, now=NOW) is None

    def test_activate_totp_wrong_id_not_found(self, store: MfaStore) -> None:
        """Activating an enrollment that was replaced fails and keeps the pending one."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        with pytest.raises(NotFoundError):
            store.activate_totp(rec.user_id, "other", step=1, now=NOW)
        assert store.get_pending_totp(rec.user_id, now=NOW) == rec

    def test_activate_totp_expired_not_found(self, store: MfaStore) -> None:
        """An expired enrollment cannot be activated."""
        rec = pending_totp(new_id("user"), ttl=timedelta(seconds=1))
        store.put_pending_totp(rec)
        with pytest.raises(NotFoundError):
            store.activate_totp(rec.user_id, rec.totp_id, step=1, now=LATER)
        assert store.get_active_totp(rec.user_id) is None

    def test_reenrollment_keeps_active_until_confirmed(self, store: MfaStore) -> None:
        """The old active secret works until the new one is confirmed, then is replaced."""
        user = new_id("user")
        old, new = pending_totp(user), pending_totp(user)
        store.put_pending_totp(old)
        old_active = store.activate_totp(user, old.totp_id, step=5, now=NOW)
        store.put_pending_totp(new)
        assert store.get_active_totp(user) == old_active
        store.activate_totp(user, new.totp_id, step=7, now=NOW)
        active = store.get_active_totp(user)
        assert active is not None
        assert active.totp_id == new.totp_id

    def test_advance_totp_step_only_forward(self, store: MfaStore) -> None:
        """A step is accepted only if greater than the stored one."""
        rec = pending_totp(new_id("user"))
        store.put_pending_totp(rec)
        store.activate_totp(rec.user_id, rec.totp_id, step=10, now=NOW)
        assert store.advance_totp_step(rec.user_id, 10) is False
        assert store.advance_totp_step(rec.user_id, 9) is False
        assert store.advance_totp_step(rec.user_id, 11) is True
        active = store.get_active_totp(rec.user_id)
        assert active is not None
        assert active.last_step == 11

    def test_advance_totp_step_without_active(self, store: MfaStore) -> None:
        """Without an active credential no step is accepted."""
        user = new_id("user")
        store.put_pending_totp(pending_totp(user))
        assert store.advance_totp_step(user, 1) is False

    def test_delete_totp(self, store: MfaStore) -> None:
        """Deleting removes the active and pending secrets and reports whether any existed."""
        user = new_id("user")
        first = pending_totp(user)
        store.put_pending_totp(first)
        store.activate_totp(user, first.totp_id, step=1, now=NOW)
        store.put_pending_totp(pending_totp(user))
        assert store.delete_totp(user) is True
        assert store.get_active_totp(user) is None
        assert store.get_pending_totp(user, now=NOW) is None
        assert store.delete_totp(user) is False

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

    def test_update_sign_count_unknown_credential(self, store: MfaStore) -> None:
        """Updating a credential that does not exist returns False."""
        assert store.update_sign_count(b"nope", 0, 1, now=NOW) is False

    # -- challenges -----------------------------------------------------------------

    def test_pop_challenge_once(self, store: MfaStore) -> None:
        """A challenge pops once, with its context intact."""
        ch = challenge(user_id=new_id("user"))
        store.put_challenge(ch)
        assert store.pop_challenge(ch.challenge_id, now=NOW) == ch
        assert store.pop_challenge(ch.challenge_id, now=NOW) is None

    def test_pop_expired_challenge(self, store: MfaStore) -> None:
        """An expired challenge pops as None and is gone."""
        ch = challenge()
        store.put_challenge(ch)
        assert store.pop_challenge(ch.challenge_id, now=ch.expires_at) is None
        assert store.pop_challenge(ch.challenge_id, now=NOW) is None

    def test_put_challenge_duplicate(self, store: MfaStore) -> None:
        """A challenge id used twice: DuplicateError, the first one kept."""
        ch = challenge()
        store.put_challenge(ch)
        with pytest.raises(DuplicateError):
            store.put_challenge(dataclasses.replace(ch, challenge=b"other"))
        assert store.pop_challenge(ch.challenge_id, now=NOW) == ch

    def test_challenge_context_must_be_json(self, store: MfaStore) -> None:
        """A context that is not JSON-able is refused."""
        with pytest.raises(ConfigurationError):
            store.put_challenge(dataclasses.replace(challenge(), context={"x": object()}))

    def test_purge_expired_challenges(self, store: MfaStore) -> None:
        """Purging removes expired challenges and keeps live ones."""
        short, long = challenge(ttl=timedelta(seconds=1)), challenge(ttl=timedelta(days=400))
        store.put_challenge(short)
        store.put_challenge(long)
        assert store.purge_expired_challenges(now=LATER) >= 1
        assert store.pop_challenge(short.challenge_id, now=NOW) is None
        assert store.pop_challenge(long.challenge_id, now=NOW) == long

    # -- login codes ----------------------------------------------------------------

    def test_login_code_round_trip_and_replace(self, store: MfaStore) -> None:
        """A subject keeps one code; a new one replaces the old."""
        subject = new_id("subject")
        first, second = login_code(subject), login_code(subject)
        store.put_login_code(first)
        assert store.get_login_code(subject) == first
        store.put_login_code(second)
        assert store.get_login_code(subject) == second
        assert store.get_login_code(new_id("subject")) is None

    def test_login_code_attempts_are_limited(self, store: MfaStore) -> None:
        """Attempts count up to max_attempts, then no more attempt is allowed."""
        code = login_code(new_id("subject"), max_attempts=3)
        store.put_login_code(code)
        counts = [
            store.record_login_code_attempt(code.subject, code.code_id, now=NOW) for _ in range(4)
        ]
        assert [c.attempts if c else None for c in counts] == [1, 2, 3, None]

    def test_login_code_attempt_on_replaced_code(self, store: MfaStore) -> None:
        """An attempt against a replaced code is refused."""
        code = login_code(new_id("subject"))
        store.put_login_code(code)
        assert store.record_login_code_attempt(code.subject, "old", now=NOW) is None

    def test_login_code_attempt_after_expiry(self, store: MfaStore) -> None:
        """An attempt at the expiry instant is refused."""
        code = login_code(new_id("subject"))
        store.put_login_code(code)
        assert (
            store.record_login_code_attempt(code.subject, code.code_id, now=code.expires_at) is None
        )

    def test_consume_login_code_once(self, store: MfaStore) -> None:
        """A code is consumed once; afterwards no attempt or consumption succeeds."""
        code = login_code(new_id("subject"))
        store.put_login_code(code)
        assert store.consume_login_code(code.subject, code.code_id, now=NOW) is True
        assert store.consume_login_code(code.subject, code.code_id, now=NOW) is False
        assert store.record_login_code_attempt(code.subject, code.code_id, now=NOW) is None
        got = store.get_login_code(code.subject)
        assert got is not None
        assert got.consumed_at == NOW

    def test_consume_expired_login_code(self, store: MfaStore) -> None:
        """An expired code cannot be consumed."""
        code = login_code(new_id("subject"))
        store.put_login_code(code)
        assert store.consume_login_code(code.subject, code.code_id, now=code.expires_at) is False

    def test_delete_login_code(self, store: MfaStore) -> None:
        """Deleting reports whether a code existed."""
        code = login_code(new_id("subject"))
        store.put_login_code(code)
        assert store.delete_login_code(code.subject) is True
        assert store.delete_login_code(code.subject) is False

    # -- throttle -------------------------------------------------------------------

    def test_throttle_unknown_key(self, store: MfaStore) -> None:
        """An unknown key has no failures and no lock."""
        key = new_id("key")
        assert store.get_throttle(key).failures == 0
        assert store.get_throttle(key).locked_until is None

    def test_record_failure_counts(self, store: MfaStore) -> None:
        """Each failure increments the count and moves last_failure_at."""
        key = new_id("key")
        store.record_failure(key, now=NOW)
        state = store.record_failure(key, now=LATER)
        assert (state.failures, state.first_failure_at, state.last_failure_at) == (2, NOW, LATER)
        assert store.get_throttle(key) == state

    def test_record_failure_window_restarts_count(self, store: MfaStore) -> None:
        """A failure after the window restarts the count at one."""
        key = new_id("key")
        store.record_failure(key, now=NOW, window=timedelta(minutes=5))
        store.record_failure(key, now=NOW, window=timedelta(minutes=5))
        state = store.record_failure(key, now=LATER, window=timedelta(minutes=5))
        assert (state.failures, state.first_failure_at) == (1, LATER)

    def test_lock_throttle_never_shortened(self, store: MfaStore) -> None:
        """A shorter lock does not shorten a longer one."""
        key = new_id("key")
        store.lock_throttle(key, until=LATER)
        state = store.lock_throttle(key, until=NOW)
        assert state.locked_until == LATER
        assert store.lock_throttle(key, until=LATER + timedelta(hours=1)).locked_until == (
            LATER + timedelta(hours=1)
        )

    def test_reset_throttle(self, store: MfaStore) -> None:
        """Reset forgets failures and the lock."""
        key = new_id("key")
        store.record_failure(key, now=NOW)
        store.lock_throttle(key, until=LATER)
        store.reset_throttle(key)
        assert store.get_throttle(key).failures == 0
        assert store.get_throttle(key).locked_until is None

    # -- organizations --------------------------------------------------------------

    def test_organization_round_trip(self, store: MfaStore) -> None:
        """A created organization has version 1 and comes back equal."""
        org = organization()
        created = store.create_organization(org)
        assert created == dataclasses.replace(org, version=1)
        assert store.get_organization(org.org_id) == created
        assert store.get_organization(new_id("org")) is None

    def test_create_organization_duplicate(self, store: MfaStore) -> None:
        """An organization id used twice: DuplicateError, the first one kept."""
        org = store.create_organization(organization())
        with pytest.raises(DuplicateError):
            store.create_organization(dataclasses.replace(org, name="Other"))
        assert store.get_organization(org.org_id) == org

    def test_organization_policy_must_be_a_json_object(self, store: MfaStore) -> None:
        """A policy that is not a JSON object is a ConfigurationError; nothing is stored."""
        org = dataclasses.replace(organization(), policy=["not", "a", "mapping"])  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError):
            store.create_organization(org)
        assert store.get_organization(org.org_id) is None

    def test_update_organization_compare_and_set(self, store: MfaStore) -> None:
        """An update from the current version wins; one from a stale version returns None."""
        org = store.create_organization(organization())
        on = dataclasses.replace(org, enforced=True, enforced_at=NOW, policy={"grace_days": 3})
        updated = store.update_organization(on)
        assert updated == dataclasses.replace(on, version=2)
        assert store.update_organization(dataclasses.replace(on, enforced=False)) is None
        assert store.get_organization(org.org_id) == updated

    def test_update_missing_organization(self, store: MfaStore) -> None:
        """Updating an organization that does not exist is NotFoundError."""
        with pytest.raises(NotFoundError):
            store.update_organization(dataclasses.replace(organization(), version=1))

    def test_list_organizations_pages(self, store: MfaStore) -> None:
        """Paging through organizations yields each one once, in id order."""
        prefix = new_id("org")
        ids = [f"{prefix}-{i:02d}" for i in range(7)]
        for org_id in reversed(ids):
            store.create_organization(organization(org_id))
        seen: list[str] = []
        after = f"{prefix}-"
        while True:
            page = store.list_organizations(after=after, limit=3)
            seen.extend(o.org_id for o in page.items if o.org_id.startswith(prefix))
            if page.next_cursor is None or not page.items[-1].org_id.startswith(prefix):
                break
            after = page.next_cursor
        assert seen == ids

    def test_listing_limit_validated(self, store: MfaStore) -> None:
        """A page size outside 1..1000 is a ConfigurationError."""
        for bad in (0, 1001):
            with pytest.raises(ConfigurationError):
                store.list_organizations(limit=bad)

    # -- memberships ----------------------------------------------------------------

    def test_membership_round_trip(self, store: MfaStore) -> None:
        """A membership with every anchor set comes back equal, version 1."""
        org = store.create_organization(organization())
        m = membership(
            org.org_id,
            kind="owner",
            status="locked",
            username="alice",
            grace_started_at=NOW,
            grace_reason="lost_method",
            locked_at=LATER,
            lock_reason="mfa_deadline",
            last_mfa_at=NOW,
            last_reminder_at=NOW,
            exempt_until=LATER,
            attributes={"reminders": [1, 3]},
        )
        added = store.add_membership(m)
        assert added == dataclasses.replace(m, version=1)
        assert store.get_membership(org.org_id, m.user_id) == added
        assert store.get_membership_by_username(org.org_id, "alice") == added
        assert store.get_membership_by_username(org.org_id, "bob") is None

    def test_add_membership_missing_org(self, store: MfaStore) -> None:
        """A membership in an organization that does not exist is NotFoundError."""
        with pytest.raises(NotFoundError):
            store.add_membership(membership(new_id("org")))

    def test_add_membership_duplicate(self, store: MfaStore) -> None:
        """The same user twice, or a taken username: DuplicateError, nothing overwritten."""
        org = store.create_organization(organization())
        first = store.add_membership(membership(org.org_id, username="alice"))
        with pytest.raises(DuplicateError):
            store.add_membership(membership(org.org_id, first.user_id, kind="owner"))
        with pytest.raises(DuplicateError):
            store.add_membership(membership(org.org_id, username="alice"))
        assert store.get_membership(org.org_id, first.user_id) == first
        assert store.count_memberships(org.org_id) == 1

    def test_update_membership_compare_and_set(self, store: MfaStore) -> None:
        """An update from the current version wins; a stale one returns None."""
        org = store.create_organization(organization())
        m = store.add_membership(membership(org.org_id))
        locked = dataclasses.replace(m, status="locked", locked_at=NOW, lock_reason="admin")
        updated = store.update_membership(locked)
        assert updated == dataclasses.replace(locked, version=2)
        assert store.update_membership(dataclasses.replace(locked, status="active")) is None

    def test_update_membership_missing(self, store: MfaStore) -> None:
        """Updating a membership that does not exist is NotFoundError."""
        org = store.create_organization(organization())
        with pytest.raises(NotFoundError):
            store.update_membership(membership(org.org_id, version=1))

    def test_update_membership_username_taken(self, store: MfaStore) -> None:
        """Taking another member's username is DuplicateError."""
        org = store.create_organization(organization())
        store.add_membership(membership(org.org_id, username="alice"))
        bob = store.add_membership(membership(org.org_id, username="bob"))
        with pytest.raises(DuplicateError):
            store.update_membership(dataclasses.replace(bob, username="alice"))
        assert store.get_membership(org.org_id, bob.user_id) == bob

    def test_delete_membership(self, store: MfaStore) -> None:
        """Deleting reports whether the membership existed."""
        org = store.create_organization(organization())
        m = store.add_membership(membership(org.org_id))
        assert store.delete_membership(org.org_id, m.user_id) is True
        assert store.get_membership(org.org_id, m.user_id) is None
        assert store.delete_membership(org.org_id, m.user_id) is False

    def test_list_memberships_pages(self, store: MfaStore) -> None:
        """Paging through members yields each one once, in user id order, and nobody else's."""
        org = store.create_organization(organization())
        other = store.create_organization(organization())
        users = sorted(new_id("user") for _ in range(12))
        for user in users:
            store.add_membership(membership(org.org_id, user))
        store.add_membership(membership(other.org_id))
        page = store.list_memberships(org.org_id, limit=5)
        seen = [m.user_id for m in page.items]
        while page.next_cursor is not None:
            page = store.list_memberships(org.org_id, after=page.next_cursor, limit=5)
            seen.extend(m.user_id for m in page.items)
        assert seen == users
        assert store.count_memberships(org.org_id) == 12

    def test_list_user_memberships(self, store: MfaStore) -> None:
        """A user's memberships across organizations, ordered by org id."""
        user = new_id("user")
        orgs = sorted(store.create_organization(organization()).org_id for _ in range(3))
        for org_id in reversed(orgs):
            store.add_membership(membership(org_id, user))
        assert [m.org_id for m in store.list_user_memberships(user)] == orgs

    # -- invitations ----------------------------------------------------------------

    def test_invitation_round_trip(self, store: MfaStore) -> None:
        """An invitation comes back equal; an unknown id is None."""
        org = store.create_organization(organization())
        inv = invitation(org.org_id)
        store.create_invitation(inv)
        assert store.get_invitation(inv.invitation_id) == inv
        assert store.get_invitation(new_id("inv")) is None

    def test_create_invitation_missing_org_or_duplicate(self, store: MfaStore) -> None:
        """No organization: NotFoundError; the same id twice: DuplicateError."""
        with pytest.raises(NotFoundError):
            store.create_invitation(invitation(new_id("org")))
        org = store.create_organization(organization())
        inv = invitation(org.org_id)
        store.create_invitation(inv)
        with pytest.raises(DuplicateError):
            store.create_invitation(dataclasses.replace(inv, email="other@example.com"))
        assert store.get_invitation(inv.invitation_id) == inv

    def test_accept_invitation_once(self, store: MfaStore) -> None:
        """Accepting adds the membership; a second acceptance gets None."""
        org = store.create_organization(organization())
        inv = invitation(org.org_id)
        store.create_invitation(inv)
        m = membership(org.org_id)
        accepted = store.accept_invitation(inv.invitation_id, m, now=NOW)
        assert accepted == dataclasses.replace(inv, accepted_at=NOW, accepted_by=m.user_id)
        assert store.get_membership(org.org_id, m.user_id) == dataclasses.replace(m, version=1)
        assert store.accept_invitation(inv.invitation_id, membership(org.org_id), now=NOW) is None
        assert store.count_memberships(org.org_id) == 1

    def test_accept_expired_or_revoked_invitation(self, store: MfaStore) -> None:
        """An expired or revoked invitation cannot be accepted, and adds nobody."""
        org = store.create_organization(organization())
        expired, revoked = invitation(org.org_id), invitation(org.org_id)
        store.create_invitation(expired)
        store.create_invitation(revoked)
        assert store.revoke_invitation(revoked.invitation_id, now=NOW) is True
        assert store.revoke_invitation(revoked.invitation_id, now=NOW) is False
        late = expired.expires_at
        assert (
            store.accept_invitation(expired.invitation_id, membership(org.org_id), now=late) is None
        )
        assert (
            store.accept_invitation(revoked.invitation_id, membership(org.org_id), now=NOW) is None
        )
        assert store.accept_invitation(new_id("inv"), membership(org.org_id), now=NOW) is None
        assert store.count_memberships(org.org_id) == 0

    def test_accept_invitation_already_member(self, store: MfaStore) -> None:
        """An existing member accepting: DuplicateError, and the invitation stays pending."""
        org = store.create_organization(organization())
        m = store.add_membership(membership(org.org_id))
        inv = invitation(org.org_id)
        store.create_invitation(inv)
        with pytest.raises(DuplicateError):
            store.accept_invitation(inv.invitation_id, membership(org.org_id, m.user_id), now=NOW)
        assert store.get_invitation(inv.invitation_id) == inv

    def test_accept_invitation_membership_for_other_org(self, store: MfaStore) -> None:
        """A membership for another organization is a ConfigurationError; nothing is written."""
        org = store.create_organization(organization())
        inv = invitation(org.org_id)
        store.create_invitation(inv)
        with pytest.raises(ConfigurationError):
            store.accept_invitation(inv.invitation_id, membership(new_id("org")), now=NOW)
        assert store.get_invitation(inv.invitation_id) == inv

    def test_list_invitations_pages(self, store: MfaStore) -> None:
        """Paging through invitations yields each one once, in id order."""
        org = store.create_organization(organization())
        invs = [invitation(org.org_id) for _ in range(5)]
        for inv in invs:
            store.create_invitation(inv)
        first = store.list_invitations(org.org_id, limit=3)
        assert first.next_cursor is not None
        second = store.list_invitations(org.org_id, after=first.next_cursor, limit=3)
        assert second.next_cursor is None
        assert [i.invitation_id for i in first.items + second.items] == sorted(
            i.invitation_id for i in invs
        )

    # -- audit ----------------------------------------------------------------------

    def test_audit_events_in_append_order(self, store: MfaStore) -> None:
        """Events list in append order, filtered, across pages."""
        org, user = new_id("org"), new_id("user")
        events = [audit_event(org_id=org, user_id=user, offset=-i) for i in range(5)]
        for e in events:
            store.append_audit_event(e)
        store.append_audit_event(audit_event(org_id=new_id("org"), user_id=user))
        first = store.list_audit_events(org_id=org, limit=3)
        assert first.next_cursor is not None
        rest = store.list_audit_events(org_id=org, after=first.next_cursor, limit=3)
        assert rest.next_cursor is None
        assert first.items + rest.items == tuple(events)
        assert len(store.list_audit_events(user_id=user).items) == 6

    def test_audit_event_duplicate(self, store: MfaStore) -> None:
        """An event id appended twice: DuplicateError, the first kept."""
        user = new_id("user")
        e = audit_event(user_id=user)
        store.append_audit_event(e)
        with pytest.raises(DuplicateError):
            store.append_audit_event(dataclasses.replace(e, action="other"))
        assert store.list_audit_events(user_id=user).items == (e,)

    def test_audit_bad_cursor(self, store: MfaStore) -> None:
        """A cursor that this listing did not produce is a ConfigurationError."""
        with pytest.raises(ConfigurationError):
            store.list_audit_events(after="not-a-cursor")
