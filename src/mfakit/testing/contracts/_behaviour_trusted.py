"""Contract tests of trusted browsers and of the factor-change time that voids them."""

from __future__ import annotations

import dataclasses
from datetime import timedelta, timezone

import pytest

from mfakit.errors import ConfigurationError, DuplicateError
from mfakit.repositories import MfaStore
from mfakit.testing.contracts._records import NOW, new_id, trusted_browser

__all__ = ["TrustedBrowserContract"]

EARLIER = NOW - timedelta(minutes=5)
LATER = NOW + timedelta(minutes=5)


class _BoomError(Exception):
    """Raised inside a block to make it fail."""


class TrustedBrowserContract:
    """Contract tests of :class:`~mfakit.repositories.TrustedBrowserRepository` and of
    :meth:`~mfakit.repositories.UserStateRepository.record_factor_change`.

    Mixed into :class:`StoreContract`.
    """

    def test_trusted_browser_round_trip_by_hash(self, store: MfaStore) -> None:
        """A stored browser is found by its token hash, every field as stored."""
        browser = trusted_browser(new_id("user"))
        store.add_trusted_browser(browser)
        assert store.get_trusted_browser(browser.token_hash) == browser

    def test_unknown_hash_finds_nothing(self, store: MfaStore) -> None:
        """A hash no browser has returns None."""
        store.add_trusted_browser(trusted_browser(new_id("user")))
        assert store.get_trusted_browser(bytes(32)) is None

    def test_trusted_browser_times_come_back_in_utc(self, store: MfaStore) -> None:
        """Times given in another zone come back as the same instants in UTC."""
        zone = timezone(timedelta(hours=2))
        browser = trusted_browser(new_id("user"))
        store.add_trusted_browser(
            dataclasses.replace(
                browser,
                created_at=browser.created_at.astimezone(zone),
                expires_at=browser.expires_at.astimezone(zone),
            )
        )
        got = store.get_trusted_browser(browser.token_hash)
        assert got is not None
        assert (got.created_at, got.expires_at) == (browser.created_at, browser.expires_at)
        assert got.created_at.utcoffset() == timedelta(0)

    def test_duplicate_hash_or_id_refused(self, store: MfaStore) -> None:
        """A second browser with a taken hash or id is refused, the first one kept."""
        first = trusted_browser(new_id("user"))
        store.add_trusted_browser(first)
        same_hash = dataclasses.replace(
            trusted_browser(new_id("user")), token_hash=first.token_hash
        )
        same_id = dataclasses.replace(trusted_browser(new_id("user")), token_id=first.token_id)
        for duplicate in (same_hash, same_id):
            with pytest.raises(DuplicateError):
                store.add_trusted_browser(duplicate)
        assert store.get_trusted_browser(first.token_hash) == first
        assert store.list_trusted_browsers(same_hash.user_id) == ()

    @pytest.mark.parametrize(
        "change",
        [
            {"token_hash": b"short"},
            {"expires_at": NOW},
            {"created_at": NOW.replace(tzinfo=None)},
            {"label": "a\x00b"},
            {"label": 3},
            {"token_hash": "0" * 32},
        ],
    )
    def test_invalid_trusted_browser_refused(
        self, store: MfaStore, change: dict[str, object]
    ) -> None:
        """A short hash, an expiry not after creation, a naive time or a NUL is refused."""
        browser = dataclasses.replace(trusted_browser(new_id("user")), **change)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError):
            store.add_trusted_browser(browser)
        assert store.list_trusted_browsers(browser.user_id) == ()

    def test_not_a_trusted_browser_refused(self, store: MfaStore) -> None:
        """Only a TrustedBrowser record is stored."""
        with pytest.raises(ConfigurationError):
            store.add_trusted_browser(object())  # type: ignore[arg-type]

    def test_list_is_the_users_oldest_first(self, store: MfaStore) -> None:
        """Listing returns only the user's browsers, by creation time."""
        user, other = new_id("user"), new_id("user")
        late = trusted_browser(user, created_at=LATER)
        early = trusted_browser(user, created_at=EARLIER)
        for browser in (late, early, trusted_browser(other)):
            store.add_trusted_browser(browser)
        assert store.list_trusted_browsers(user) == (early, late)

    def test_touch_moves_last_used_forward_only(self, store: MfaStore) -> None:
        """last_used_at takes a later time, keeps a later stored one, and says if it exists."""
        browser = trusted_browser(new_id("user"))
        store.add_trusted_browser(browser)
        assert store.touch_trusted_browser(browser.token_id, now=LATER)
        assert store.touch_trusted_browser(browser.token_id, now=NOW)
        got = store.get_trusted_browser(browser.token_hash)
        assert got is not None
        assert got.last_used_at == LATER
        assert not store.touch_trusted_browser(new_id("tb"), now=NOW)

    def test_revoke_one_only_for_its_user(self, store: MfaStore) -> None:
        """Revoking with another user's id does nothing; with the owner's, it deletes."""
        user = new_id("user")
        browser, kept = trusted_browser(user), trusted_browser(user)
        store.add_trusted_browser(browser)
        store.add_trusted_browser(kept)
        assert not store.revoke_trusted_browser(new_id("user"), browser.token_id)
        assert store.get_trusted_browser(browser.token_hash) is not None
        assert store.revoke_trusted_browser(user, browser.token_id)
        assert not store.revoke_trusted_browser(user, browser.token_id)
        assert store.get_trusted_browser(browser.token_hash) is None
        assert store.list_trusted_browsers(user) == (kept,)

    def test_revoke_all_of_one_user(self, store: MfaStore) -> None:
        """Revoking a user's browsers deletes them all and leaves other users' alone."""
        user, other = new_id("user"), new_id("user")
        theirs = trusted_browser(other)
        for browser in (trusted_browser(user), trusted_browser(user), theirs):
            store.add_trusted_browser(browser)
        assert store.revoke_trusted_browsers(user) == 2
        assert store.revoke_trusted_browsers(user) == 0
        assert store.list_trusted_browsers(user) == ()
        assert store.list_trusted_browsers(other) == (theirs,)

    def test_purge_deletes_only_expired(self, store: MfaStore) -> None:
        """Browsers expired at ``now`` (inclusive) go; live ones stay."""
        user = new_id("user")
        dead = trusted_browser(user, created_at=NOW - timedelta(days=2), days=1)
        edge = trusted_browser(user, created_at=NOW - timedelta(days=1), days=1)
        live = trusted_browser(user, created_at=NOW, days=1)
        for browser in (dead, edge, live):
            store.add_trusted_browser(browser)
        assert store.purge_expired_trusted_browsers(now=NOW) >= 2
        assert store.list_trusted_browsers(user) == (live,)

    def test_factor_change_read_with_factors_and_never_backwards(self, store: MfaStore) -> None:
        """The change time is read with the factors, and an earlier one keeps the later."""
        user = new_id("user")
        assert store.get_user_factors(user).factors_changed_at is None
        store.record_factor_change(user, at=NOW)
        store.record_factor_change(user, at=EARLIER)
        factors = store.get_user_factors(user)
        assert factors.factors_changed_at == NOW
        assert factors.last_mfa_at is None
        store.record_factor_change(user, at=LATER)
        assert store.get_user_factors(user).factors_changed_at == LATER

    def test_factor_change_and_second_factor_share_the_users_record(self, store: MfaStore) -> None:
        """Each write keeps the other's time: one record per user."""
        user = new_id("user")
        store.record_second_factor(user, at=NOW)
        store.record_factor_change(user, at=EARLIER)
        store.record_second_factor(user, at=LATER)
        factors = store.get_user_factors(user)
        assert (factors.last_mfa_at, factors.factors_changed_at) == (LATER, EARLIER)

    def test_factor_change_deletes_the_users_browsers(self, store: MfaStore) -> None:
        """A factor change revokes every browser of the user, and only theirs."""
        user, other = new_id("user"), new_id("user")
        theirs = trusted_browser(other)
        mine = [trusted_browser(user), trusted_browser(user)]
        for browser in (*mine, theirs):
            store.add_trusted_browser(browser)
        assert store.record_factor_change(user, at=NOW) == 2
        assert store.list_trusted_browsers(user) == ()
        assert store.get_trusted_browser(mine[0].token_hash) is None
        assert store.list_trusted_browsers(other) == (theirs,)
        assert store.record_factor_change(user, at=NOW) == 0

    def test_factor_change_naive_time_writes_nothing(self, store: MfaStore) -> None:
        """A naive time is refused before anything is deleted."""
        user = new_id("user")
        browser = trusted_browser(user)
        store.add_trusted_browser(browser)
        with pytest.raises(ConfigurationError):
            store.record_factor_change(user, at=NOW.replace(tzinfo=None))
        assert store.list_trusted_browsers(user) == (browser,)
        assert store.get_user_factors(user).factors_changed_at is None

    def test_trusted_browsers_roll_back_with_the_block(self, store: MfaStore) -> None:
        """Inside ``atomic()`` adds, change times and deletions roll back together."""
        user = new_id("user")
        kept, added = trusted_browser(user), trusted_browser(user)
        store.add_trusted_browser(kept)

        def block() -> None:
            with store.atomic():
                store.add_trusted_browser(added)
                assert store.record_factor_change(user, at=NOW) == 2
                raise _BoomError

        with pytest.raises(_BoomError):
            block()
        assert store.list_trusted_browsers(user) == (kept,)
        assert store.get_trusted_browser(kept.token_hash) == kept
        assert store.get_trusted_browser(added.token_hash) is None
        assert store.get_user_factors(user).factors_changed_at is None
