"""Contract tests of the per-user state: ``record_second_factor`` and where its stamp is read.

The stamp (the user's last second-factor check) is read back with the user's
factors (``get_user_factors``) and with member summaries.
"""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from mfakit.errors import ConfigurationError
from mfakit.repositories import MfaStore
from mfakit.testing.contracts._records import NOW, membership, new_id, organization

__all__ = ["UserStateContract"]

EARLIER = NOW - timedelta(minutes=5)
LATER = NOW + timedelta(minutes=5)


class _BoomError(Exception):
    """Raised inside a block to make it fail."""


class UserStateContract:
    """Contract tests of :class:`~mfakit.repositories.UserStateRepository`.

    Mixed into :class:`StoreContract`.
    """

    def test_second_factor_stamp_read_with_factors(self, store: MfaStore) -> None:
        """The recorded time is returned and read back with the user's factors."""
        user = new_id("user")
        assert store.get_user_factors(user).last_mfa_at is None
        assert store.record_second_factor(user, at=NOW) == NOW
        assert store.get_user_factors(user).last_mfa_at == NOW

    def test_second_factor_stamp_moves_forward(self, store: MfaStore) -> None:
        """A later check replaces the stamp."""
        user = new_id("user")
        store.record_second_factor(user, at=NOW)
        assert store.record_second_factor(user, at=LATER) == LATER
        assert store.get_user_factors(user).last_mfa_at == LATER

    def test_second_factor_stamp_never_goes_backwards(self, store: MfaStore) -> None:
        """An earlier check (a slow racer, a clock stepped back) keeps the later stamp."""
        user = new_id("user")
        store.record_second_factor(user, at=NOW)
        assert store.record_second_factor(user, at=EARLIER) == NOW
        assert store.record_second_factor(user, at=NOW) == NOW
        assert store.get_user_factors(user).last_mfa_at == NOW

    def test_second_factor_stamp_is_per_user(self, store: MfaStore) -> None:
        """Recording one user's check leaves every other user's stamp alone."""
        user, other = new_id("user"), new_id("user")
        store.record_second_factor(other, at=EARLIER)
        store.record_second_factor(user, at=NOW)
        assert store.get_user_factors(other).last_mfa_at == EARLIER
        assert store.get_user_factors(new_id("user")).last_mfa_at is None

    def test_second_factor_stamp_comes_back_in_utc(self, store: MfaStore) -> None:
        """A time given in another zone is the same instant, returned and read in UTC."""
        user = new_id("user")
        returned = store.record_second_factor(
            user, at=NOW.astimezone(timezone(timedelta(hours=-5)))
        )
        read = store.get_user_factors(user).last_mfa_at
        assert returned == read == NOW
        assert read is not None
        assert (returned.utcoffset(), read.utcoffset()) == (timedelta(0), timedelta(0))

    def test_second_factor_resets_only_the_given_keys(self, store: MfaStore) -> None:
        """The keys given lose their failures and locks; other keys keep theirs."""
        user = new_id("user")
        failed, locked, kept = new_id("k"), new_id("k"), new_id("k")
        for key in (failed, kept):
            store.record_failure(key, NOW)
        store.lock_throttle(locked, until=LATER)
        store.record_second_factor(user, at=NOW, reset_keys=[failed, locked, new_id("unknown")])
        states = store.get_throttles([failed, locked, kept])
        assert (states[failed].failures, states[locked].locked_until) == (0, None)
        assert states[kept].failures == 1

    def test_second_factor_without_keys_only_stamps(self, store: MfaStore) -> None:
        """With no keys, no counter changes."""
        key = new_id("k")
        store.record_failure(key, NOW)
        store.record_second_factor(new_id("user"), at=NOW)
        assert store.get_throttle(key).failures == 1

    def test_second_factor_bad_arguments_write_nothing(self, store: MfaStore) -> None:
        """A naive time, one string or too many keys is refused with nothing written."""
        user, key = new_id("user"), new_id("k")
        store.record_failure(key, NOW)
        with pytest.raises(ConfigurationError):
            store.record_second_factor(user, at=NOW.replace(tzinfo=None), reset_keys=[key])
        with pytest.raises(ConfigurationError):
            store.record_second_factor(user, at=NOW, reset_keys=key)
        with pytest.raises(ConfigurationError):
            store.record_second_factor(
                user, at=NOW, reset_keys=[key, *(f"k{i}" for i in range(1000))]
            )
        assert store.get_throttle(key).failures == 1
        assert store.get_user_factors(user).last_mfa_at is None

    def test_second_factor_rolls_back_with_the_block(self, store: MfaStore) -> None:
        """Inside ``atomic()`` the reset and the stamp commit or roll back with the block."""
        user, key = new_id("user"), new_id("k")
        store.record_failure(key, NOW)

        def block() -> None:
            with store.atomic():
                store.record_second_factor(user, at=NOW, reset_keys=[key])
                assert store.get_user_factors(user, throttle_keys=[key]).last_mfa_at == NOW
                raise _BoomError

        with pytest.raises(_BoomError):
            block()
        assert store.get_user_factors(user).last_mfa_at is None
        assert store.get_throttle(key).failures == 1

    def test_member_summaries_carry_the_users_stamp(self, store: MfaStore) -> None:
        """Each membership of a user is summarized with the one stamp of that user."""
        user, fresh = new_id("user"), new_id("user")
        orgs = [store.create_organization(organization()).org_id for _ in range(2)]
        for org_id in orgs:
            store.add_membership(membership(org_id, user))
            store.add_membership(membership(org_id, fresh))
        store.record_second_factor(user, at=NOW)
        for org_id in orgs:
            page = store.list_member_summaries(org_id, throttle_prefixes=["mfa:totp:"])
            stamps = {s.membership.user_id: s.last_mfa_at for s in page.items}
            assert stamps == {user: NOW, fresh: None}
        listed: set[tuple[str, object]] = set()
        after: str | None = None
        while True:  # other tests' members may be there too
            page = store.list_all_member_summaries(after=after, limit=1000)
            listed.update(
                (s.membership.user_id, s.last_mfa_at)
                for s in page.items
                if s.membership.org_id in orgs
            )
            if page.next_cursor is None:
                break
            after = page.next_cursor
        assert listed == {(user, NOW), (fresh, None)}
