"""Contract tests of the set-based reads and writes a sign-in makes in one call each.

``get_user_factors`` (factors and sign-in counters), ``list_user_memberships_with_orgs``
(memberships with their organizations and owner counts) and
``append_audit_events`` (several events, all or nothing).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from mfakit.errors import ConfigurationError, DuplicateError
from mfakit.repositories import MembershipContext, MfaStore, ThrottleState, UserFactors
from mfakit.testing.contracts._records import (
    MAX_DEVICES,
    NOW,
    audit_event,
    backup_codes,
    membership,
    new_id,
    organization,
    pending_totp,
    webauthn_credential,
)

__all__ = ["SignInContract"]


class _BoomError(Exception):
    """Raised inside a block to make it fail."""


class SignInContract:
    """Contract tests of the one-call sign-in ports. Mixed into :class:`StoreContract`."""

    # -- get_user_factors -------------------------------------------------------------

    def test_user_factors_of_unknown_user_are_empty(self, store: MfaStore) -> None:
        """A user with nothing stored: no TOTP, credential or code; counters at zero."""
        user, key = new_id("user"), new_id("key")
        factors = store.get_user_factors(user, throttle_keys=[key])
        assert factors == UserFactors(user_id=user, throttles={key: ThrottleState(key=key)})

    def test_user_factors_match_the_single_reads(self, store: MfaStore) -> None:
        """Each part equals what its own port method returns, the secret included."""
        user = new_id("user")
        first, second = pending_totp(user), pending_totp(user)
        store.put_pending_totp(first)
        store.activate_totp(user, first.totp_id, step=7, now=NOW, max_devices=MAX_DEVICES)
        store.put_pending_totp(second)
        store.activate_totp(user, second.totp_id, step=8, now=NOW, max_devices=MAX_DEVICES)
        store.put_pending_totp(pending_totp(user))  # an enrollment in progress is not returned
        store.add_webauthn_credential(webauthn_credential(user, created_offset=5))
        store.add_webauthn_credential(webauthn_credential(user, created_offset=1))
        store.add_webauthn_credential(webauthn_credential(new_id("other")))
        store.replace_backup_codes(user, backup_codes(user, 4))
        code = store.list_backup_codes(user)[1]
        assert store.consume_backup_code(user, code.code_id, now=NOW)
        factors = store.get_user_factors(user)
        assert factors.user_id == user
        assert factors.totp_devices == store.list_totp_devices(user)
        assert {d.secret for d in factors.totp_devices} == {first.secret, second.secret}
        assert factors.totp == factors.totp_devices[0]  # the deprecated alias: the oldest
        assert factors.credentials == store.list_webauthn_credentials(user)
        assert [c.created_at for c in factors.credentials] == sorted(
            c.created_at for c in factors.credentials
        )
        assert factors.backup_codes == store.list_backup_codes(user)
        assert sum(c.consumed_at is not None for c in factors.backup_codes) == 1
        assert factors.throttles == {}

    def test_user_factors_read_the_counters_asked_for(self, store: MfaStore) -> None:
        """Every key asked for is returned once, as ``get_throttles`` reads it."""
        counted, locked, quiet = new_id("k"), new_id("k"), new_id("k")
        store.record_failure(counted, NOW)
        store.record_failure(counted, NOW + timedelta(seconds=1))
        store.lock_throttle(locked, until=NOW + timedelta(minutes=5))
        keys = [counted, locked, quiet, counted]
        factors = store.get_user_factors(new_id("user"), throttle_keys=keys)
        assert dict(factors.throttles) == dict(store.get_throttles(keys))
        assert factors.throttles[counted].failures == 2
        assert factors.throttles[locked].locked_until == NOW + timedelta(minutes=5)
        assert factors.throttles[quiet] == ThrottleState(key=quiet)

    def test_user_factors_refuse_bad_keys(self, store: MfaStore) -> None:
        """A single string, or more than 1000 keys, is a configuration error."""
        with pytest.raises(ConfigurationError):
            store.get_user_factors("u", throttle_keys="mfa:totp:u")
        with pytest.raises(ConfigurationError):
            store.get_user_factors("u", throttle_keys=[f"k{i}" for i in range(1001)])

    def test_user_factors_see_the_blocks_own_writes(self, store: MfaStore) -> None:
        """Inside ``atomic()`` the read sees the block's writes; a rollback undoes them."""
        user = new_id("user")
        seen: list[int] = []

        def block() -> None:
            with store.atomic():
                store.replace_backup_codes(user, backup_codes(user, 2))
                seen.append(len(store.get_user_factors(user).backup_codes))
                raise _BoomError

        with pytest.raises(_BoomError):
            block()
        assert seen == [2]
        assert store.get_user_factors(user).backup_codes == ()

    # -- list_user_memberships_with_orgs ------------------------------------------------

    def test_memberships_with_orgs_of_unknown_user_are_empty(self, store: MfaStore) -> None:
        """A user in no organization has no membership context."""
        assert store.list_user_memberships_with_orgs(new_id("user")) == ()

    def test_memberships_with_orgs_match_the_single_reads(self, store: MfaStore) -> None:
        """Same memberships and order as ``list_user_memberships``, each with its org and owners."""
        user = new_id("user")
        orgs = [store.create_organization(organization()) for _ in range(3)]
        for org in orgs:
            store.add_membership(membership(org.org_id, user))
        # Owners: two active and one locked in the first, none in the others.
        first = orgs[0].org_id
        for status in ("active", "active", "locked"):
            store.add_membership(membership(first, kind="owner", status=status))
        store.add_membership(membership(orgs[1].org_id, kind="owner", status="removed"))
        removed = store.get_membership(orgs[2].org_id, user)
        assert removed is not None
        store.update_membership(dataclasses.replace(removed, status="removed"))
        contexts = store.list_user_memberships_with_orgs(user)
        assert [c.membership for c in contexts] == list(store.list_user_memberships(user))
        assert [c.membership.org_id for c in contexts] == sorted(o.org_id for o in orgs)
        for c in contexts:
            org_id = c.membership.org_id
            assert c == MembershipContext(
                membership=c.membership,
                organization=store.get_organization(org_id),  # type: ignore[arg-type]
                active_owners=store.count_active_owners(org_id),
            )
        by_org = {c.membership.org_id: c.active_owners for c in contexts}
        assert by_org == {first: 2, orgs[1].org_id: 0, orgs[2].org_id: 0}

    def test_memberships_with_orgs_follow_updates(self, store: MfaStore) -> None:
        """An organization's update and a new owner show in the next read."""
        user = new_id("user")
        org = store.create_organization(organization())
        store.add_membership(membership(org.org_id, user, kind="owner"))
        (before,) = store.list_user_memberships_with_orgs(user)
        assert before.active_owners == 1
        stored = store.update_organization(dataclasses.replace(before.organization, enforced=True))
        store.add_membership(membership(org.org_id, kind="owner"))
        (after,) = store.list_user_memberships_with_orgs(user)
        assert after.organization == stored
        assert after.active_owners == 2

    # -- append_audit_events ----------------------------------------------------------

    def test_audit_events_appended_in_order(self, store: MfaStore) -> None:
        """Several events in one call are listed as given, after earlier ones."""
        user = new_id("user")
        store.append_audit_event(audit_event(user_id=user))
        batch = [audit_event(user_id=user, offset=i) for i in range(3)]
        store.append_audit_events(batch)
        listed = store.list_audit_events(user_id=user).items
        assert [e.event_id for e in listed[1:]] == [e.event_id for e in batch]
        assert listed[1:] == tuple(batch)

    def test_no_audit_events_write_nothing(self, store: MfaStore) -> None:
        """An empty sequence is accepted and writes nothing."""
        store.append_audit_events([])

    def test_audit_events_with_a_taken_id_write_nothing(self, store: MfaStore) -> None:
        """One existing id, or one repeated in the call, refuses the whole call."""
        user = new_id("user")
        taken = audit_event(user_id=user)
        store.append_audit_event(taken)
        with pytest.raises(DuplicateError):
            store.append_audit_events([audit_event(user_id=user), taken])
        twin = audit_event(user_id=user)
        with pytest.raises(DuplicateError):
            store.append_audit_events([twin, audit_event(user_id=user), twin])
        assert store.list_audit_events(user_id=user).items == (taken,)

    def test_audit_events_invalid_write_nothing(self, store: MfaStore) -> None:
        """A naive datetime, or more than 1000 events, refuses the whole call."""
        user = new_id("user")
        naive = dataclasses.replace(audit_event(user_id=user), at=NOW.replace(tzinfo=None))
        with pytest.raises(ConfigurationError):
            store.append_audit_events([audit_event(user_id=user), naive])
        with pytest.raises(ConfigurationError):
            store.append_audit_events([audit_event(user_id=user) for _ in range(1001)])
        assert store.list_audit_events(user_id=user).items == ()

    def test_audit_events_roll_back_with_the_block(self, store: MfaStore) -> None:
        """Inside ``atomic()`` the events commit or roll back with the block."""
        user = new_id("user")

        def block() -> None:
            with store.atomic():
                store.append_audit_events([audit_event(user_id=user) for _ in range(2)])
                raise _BoomError

        with pytest.raises(_BoomError):
            block()
        assert store.list_audit_events(user_id=user).items == ()
        with store.atomic():
            store.append_audit_events([audit_event(user_id=user) for _ in range(2)])
        assert len(store.list_audit_events(user_id=user).items) == 2
