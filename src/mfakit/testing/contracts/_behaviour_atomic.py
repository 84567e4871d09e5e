"""Contract tests of ``atomic()``: several port calls as one transaction."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from mfakit.errors import DuplicateError
from mfakit.repositories import MfaStore
from mfakit.testing.contracts._records import (
    MAX_DEVICES,
    NOW,
    audit_event,
    backup_codes,
    challenge,
    membership,
    new_id,
    organization,
    pending_totp,
    webauthn_credential,
)

__all__ = ["AtomicContract"]


class _BoomError(Exception):
    """Raised inside a block to make it fail."""


class AtomicContract:
    """Contract tests of ``atomic()``.

    Mixed into :class:`StoreContract`.
    """

    def test_atomic_commits_every_write(self, store: MfaStore) -> None:
        """An action and its policy effect are both stored when the block ends."""
        org = store.create_organization(organization())
        m = store.add_membership(membership(org.org_id))
        rec = pending_totp(m.user_id)
        store.put_pending_totp(rec)
        store.activate_totp(m.user_id, rec.totp_id, step=1, now=NOW, max_devices=MAX_DEVICES)
        with store.atomic():
            assert store.delete_totp(m.user_id) is True
            updated = store.update_membership(dataclasses.replace(m, grace_started_at=NOW))
            assert updated is not None
        assert store.list_totp_devices(m.user_id) == ()
        got = store.get_membership(org.org_id, m.user_id)
        assert got is not None
        assert got.grace_started_at == NOW

    def test_atomic_rolls_back_on_error(self, store: MfaStore) -> None:
        """If the block raises, none of its writes remain and the error propagates."""
        user = new_id("user")
        codes = backup_codes(user, 2)
        store.replace_backup_codes(user, codes)
        ch = challenge()

        def block() -> None:
            with store.atomic():
                assert store.consume_backup_code(user, codes[0].code_id, now=NOW) is True
                store.put_challenge(ch)
                store.append_audit_event(audit_event(user_id=user))
                raise _BoomError

        with pytest.raises(_BoomError):
            block()
        assert store.count_unused_backup_codes(user) == 2
        assert store.pop_challenge(ch.challenge_id, now=NOW) is None
        assert store.list_audit_events(user_id=user).items == ()

    def test_atomic_reads_its_own_writes(self, store: MfaStore) -> None:
        """Inside the block, a read sees the block's earlier writes."""
        cred = webauthn_credential(new_id("user"))
        with store.atomic():
            store.add_webauthn_credential(cred)
            assert store.get_webauthn_credential(cred.credential_id) == cred

    def test_nested_block_joins_outer(self, store: MfaStore) -> None:
        """An inner block is part of the outer one: the outer failure undoes it too."""
        key = new_id("key")

        def block() -> None:
            with store.atomic():
                with store.atomic():
                    store.record_failure(key, now=NOW)
                raise _BoomError

        with pytest.raises(_BoomError):
            block()
        assert store.get_throttle(key).failures == 0

    def test_failed_call_leaves_block_usable(self, store: MfaStore) -> None:
        """A DuplicateError inside the block is undone alone; later writes still commit."""
        cred = webauthn_credential(new_id("user"))
        store.add_webauthn_credential(cred)
        key = new_id("key")
        with store.atomic():
            with pytest.raises(DuplicateError):
                store.add_webauthn_credential(dataclasses.replace(cred, name="other"))
            store.record_failure(key, now=NOW)
        assert store.get_webauthn_credential(cred.credential_id) == cred
        assert store.get_throttle(key).failures == 1

    def test_atomic_blocks_race_one_winner(self, store: MfaStore) -> None:
        """16 threads each consume a code and log it in one block: one code use, one event."""
        user = new_id("user")
        codes = backup_codes(user, 1)
        store.replace_backup_codes(user, codes)
        barrier = threading.Barrier(16)

        def run(i: int) -> bool:
            barrier.wait(timeout=60)
            with store.atomic():
                won = store.consume_backup_code(user, codes[0].code_id, now=NOW)
                if won:
                    store.append_audit_event(audit_event(user_id=user))
                return won

        with ThreadPoolExecutor(max_workers=16) as pool:
            wins = list(pool.map(run, range(16)))
        assert wins.count(True) == 1
        assert len(store.list_audit_events(user_id=user).items) == 1
