"""Contract tests of the set-based reads and writes for organizations at scale.

Member summaries, the owner count, batched throttles and the atomic resend
cool-down of login codes.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from mfakit.errors import ConfigurationError
from mfakit.repositories import CredentialSummary, MemberSummary, MfaStore
from mfakit.testing.contracts._records import (
    MAX_DEVICES,
    NOW,
    backup_codes,
    login_code,
    membership,
    new_id,
    organization,
    pending_totp,
    webauthn_credential,
)

__all__ = ["ScaleContract"]

LATER = NOW + timedelta(hours=1)
COOLDOWN = timedelta(seconds=60)
PREFIXES = ("mfa:totp:", "mfa:passkey:")


class _BoomError(Exception):
    """Raised inside a block to make it fail."""


def _only(store: MfaStore, org_id: str, **kwargs: object) -> MemberSummary:
    """The single summary of a one-member organization."""
    page = store.list_member_summaries(org_id, **kwargs)  # type: ignore[arg-type]
    assert len(page.items) == 1
    return page.items[0]


def _member(store: MfaStore) -> tuple[str, str]:
    """A fresh organization with one member; return (org_id, user_id)."""
    org = store.create_organization(organization())
    m = store.add_membership(membership(org.org_id))
    return org.org_id, m.user_id


class ScaleContract:
    """Contract tests of member summaries, owner counts, batched throttles and cool-downs.

    Mixed into :class:`StoreContract`.
    """

    # -- member summaries -------------------------------------------------------------

    def test_summary_of_member_without_factors(self, store: MfaStore) -> None:
        """A member with no factor: the stored membership, no TOTP, no credential, no codes."""
        org_id, user = _member(store)
        summary = _only(store, org_id)
        assert summary == MemberSummary(membership=store.get_membership(org_id, user))  # type: ignore[arg-type]
        assert summary.has_totp is False

    def test_summary_counts_only_active_totp(self, store: MfaStore) -> None:
        """A pending enrollment is not a method; the active one brings its dates."""
        org_id, user = _member(store)
        first = pending_totp(user)
        store.put_pending_totp(first)
        assert _only(store, org_id).totp_created_at is None
        confirmed = NOW + timedelta(minutes=1)
        store.activate_totp(user, first.totp_id, step=1, now=confirmed, max_devices=MAX_DEVICES)
        store.put_pending_totp(pending_totp(user))  # a re-enrollment in progress
        summary = _only(store, org_id)
        assert (summary.totp_created_at, summary.totp_confirmed_at) == (NOW, confirmed)
        assert summary.totp_devices == 1
        assert summary.has_totp is True

    def test_summary_aggregates_several_totp_devices(self, store: MfaStore) -> None:
        """Several devices: one summary (no row per device), counted, with the earliest dates."""
        org_id, user = _member(store)
        other = store.add_membership(membership(org_id)).user_id
        for i in range(3):
            rec = dataclasses.replace(
                pending_totp(user, ttl=timedelta(days=1)), created_at=NOW + timedelta(minutes=i)
            )
            store.put_pending_totp(rec)
            store.activate_totp(
                user,
                rec.totp_id,
                step=1,
                now=NOW + timedelta(hours=i + 1),
                max_devices=MAX_DEVICES,
            )
        store.add_webauthn_credential(webauthn_credential(user))
        store.add_webauthn_credential(webauthn_credential(user))
        page = store.list_member_summaries(org_id)
        assert [s.membership.user_id for s in page.items] == sorted([user, other])
        mine = next(s for s in page.items if s.membership.user_id == user)
        assert mine.totp_devices == 3
        assert (mine.totp_created_at, mine.totp_confirmed_at) == (NOW, NOW + timedelta(hours=1))
        assert len(mine.credentials) == 2
        theirs = next(s for s in page.items if s.membership.user_id == other)
        assert theirs.totp_devices == 0

    def test_summary_lists_credentials_oldest_first(self, store: MfaStore) -> None:
        """Credentials come oldest first with their label, kind and dates, no key material."""
        org_id, user = _member(store)
        newer = webauthn_credential(user, created_offset=10)
        older = dataclasses.replace(webauthn_credential(user), backup_eligible=False)
        older = dataclasses.replace(older, kind="security_key")
        store.add_webauthn_credential(newer)
        store.add_webauthn_credential(older)
        store.update_sign_count(newer.credential_id, 0, 1, now=LATER)
        assert _only(store, org_id).credentials == (
            CredentialSummary(
                credential_id=older.credential_id,
                name=older.name,
                kind="security_key",
                created_at=older.created_at,
            ),
            CredentialSummary(
                credential_id=newer.credential_id,
                name=newer.name,
                kind="passkey",
                created_at=newer.created_at,
                last_used_at=LATER,
            ),
        )

    def test_summary_counts_unused_backup_codes(self, store: MfaStore) -> None:
        """Unused codes are counted; the set's creation time is kept even when all are used."""
        org_id, user = _member(store)
        codes = backup_codes(user, 2)
        store.replace_backup_codes(user, codes)
        store.consume_backup_code(user, codes[0].code_id, now=LATER)
        summary = _only(store, org_id)
        assert (summary.backup_codes_unused, summary.backup_codes_created_at) == (1, NOW)
        store.consume_backup_code(user, codes[1].code_id, now=LATER)
        summary = _only(store, org_id)
        assert (summary.backup_codes_unused, summary.backup_codes_created_at) == (0, NOW)

    def test_summary_sums_failures_of_prefixed_keys(self, store: MfaStore) -> None:
        """failed_attempts sums the keys prefix + user id, each prefix once; none asked, 0."""
        org_id, user = _member(store)
        store.record_failure(f"mfa:totp:{user}", now=NOW)
        store.record_failure(f"mfa:totp:{user}", now=NOW)
        store.record_failure(f"mfa:passkey:{user}", now=NOW)
        store.record_failure(f"mfa:other:{user}", now=NOW)
        store.record_failure(f"mfa:totp:{user}x", now=NOW)
        assert _only(store, org_id, throttle_prefixes=[*PREFIXES, PREFIXES[0]]).failed_attempts == 3
        assert _only(store, org_id).failed_attempts == 0

    def test_summaries_page_like_list_memberships(self, store: MfaStore) -> None:
        """Summaries come in the memberships' order and pages, with the same cursors."""
        org = store.create_organization(organization())
        for i in range(12):
            store.add_membership(membership(org.org_id, f"user-{i:02d}-{new_id()}"))
        members: list[str] = []
        summaries: list[str] = []
        after: str | None = None
        while True:
            page = store.list_memberships(org.org_id, after=after, limit=5)
            spage = store.list_member_summaries(org.org_id, after=after, limit=5)
            assert [s.membership for s in spage.items] == list(page.items)
            assert spage.next_cursor == page.next_cursor
            members += [m.user_id for m in page.items]
            summaries += [s.membership.user_id for s in spage.items]
            if page.next_cursor is None:
                break
            after = page.next_cursor
        assert summaries == members == sorted(members)
        assert len(members) == 12

    def test_summary_page_holds_every_member_with_many_credentials(self, store: MfaStore) -> None:
        """A full page counts members, not credential rows: nothing is cut or repeated."""
        org = store.create_organization(organization())
        users = sorted(new_id("user") for _ in range(3))
        for user in users:
            store.add_membership(membership(org.org_id, user))
            for k in range(3):
                store.add_webauthn_credential(webauthn_credential(user, created_offset=k))
        page = store.list_member_summaries(org.org_id, limit=2)
        assert [s.membership.user_id for s in page.items] == users[:2]
        assert [len(s.credentials) for s in page.items] == [3, 3]
        rest = store.list_member_summaries(org.org_id, after=page.next_cursor, limit=2)
        assert [s.membership.user_id for s in rest.items] == users[2:]
        assert rest.next_cursor is None

    def test_summaries_of_unknown_or_empty_org(self, store: MfaStore) -> None:
        """An organization without members, or unknown, gives one empty last page."""
        org = store.create_organization(organization())
        for org_id in (org.org_id, new_id("org")):
            page = store.list_member_summaries(org_id)
            assert (page.items, page.next_cursor) == ((), None)

    def test_summary_of_user_in_two_orgs(self, store: MfaStore) -> None:
        """A user's factors show in each organization, with that organization's membership."""
        user = new_id("user")
        orgs = [store.create_organization(organization()) for _ in range(2)]
        for org in orgs:
            store.add_membership(membership(org.org_id, user, kind="owner"))
        store.add_webauthn_credential(webauthn_credential(user))
        for org in orgs:
            summary = _only(store, org.org_id)
            assert summary.membership.org_id == org.org_id
            assert len(summary.credentials) == 1

    def test_deleted_member_leaves_summaries_and_counts(self, store: MfaStore) -> None:
        """After delete_membership the member is in no listing, count or username lookup."""
        org = store.create_organization(organization())
        kept = store.add_membership(membership(org.org_id, username="kept"))
        gone = store.add_membership(membership(org.org_id, username="gone", kind="owner"))
        assert store.delete_membership(org.org_id, gone.user_id) is True
        assert [s.membership for s in store.list_member_summaries(org.org_id).items] == [kept]
        assert store.count_memberships(org.org_id) == 1
        assert store.count_active_owners(org.org_id) == 0
        assert store.get_membership_by_username(org.org_id, "gone") is None
        assert store.list_user_memberships(gone.user_id) == ()
        store.add_membership(membership(org.org_id, username="gone"))  # the name is free

    def test_renamed_member_frees_old_username(self, store: MfaStore) -> None:
        """After a username change, lookups follow the new name and the old one is free."""
        org = store.create_organization(organization())
        m = store.add_membership(membership(org.org_id, username="before"))
        renamed = store.update_membership(dataclasses.replace(m, username="after"))
        assert store.get_membership_by_username(org.org_id, "after") == renamed
        assert store.get_membership_by_username(org.org_id, "before") is None
        store.add_membership(membership(org.org_id, username="before"))

    def test_rolled_back_members_are_not_listed(self, store: MfaStore) -> None:
        """Memberships added in a block that raises are in no listing, count or lookup."""
        org = store.create_organization(organization())
        m = membership(org.org_id, username="ghost", kind="owner")

        def block() -> None:
            with store.atomic():
                store.add_membership(m)
                raise _BoomError

        with pytest.raises(_BoomError):
            block()
        assert store.list_member_summaries(org.org_id).items == ()
        assert store.list_memberships(org.org_id).items == ()
        assert (store.count_memberships(org.org_id), store.count_active_owners(org.org_id)) == (
            0,
            0,
        )
        assert store.get_membership_by_username(org.org_id, "ghost") is None
        assert store.list_user_memberships(m.user_id) == ()

    @pytest.mark.parametrize("limit", [0, 1001])
    def test_summary_limit_validated(self, store: MfaStore, limit: int) -> None:
        """A page size outside 1..1000 is a ConfigurationError in both listings."""
        with pytest.raises(ConfigurationError):
            store.list_member_summaries("org", limit=limit)
        with pytest.raises(ConfigurationError):
            store.list_all_member_summaries(limit=limit)

    @pytest.mark.parametrize("prefixes", ["mfa:totp:", [f"p{i}:" for i in range(17)]])
    def test_summary_prefixes_validated(self, store: MfaStore, prefixes: object) -> None:
        """A lone string, or more than 16 prefixes, is a ConfigurationError."""
        with pytest.raises(ConfigurationError):
            store.list_member_summaries("org", throttle_prefixes=prefixes)  # type: ignore[arg-type]

    def test_all_member_summaries_in_org_then_user_order(self, store: MfaStore) -> None:
        """Across organizations, pages follow (org_id, user_id) without gaps or repeats."""
        orgs = sorted(store.create_organization(organization()).org_id for _ in range(3))
        expected = [
            (org_id, store.add_membership(membership(org_id)).user_id)
            for org_id in orgs
            for _ in range(3)
        ]
        store.add_webauthn_credential(webauthn_credential(expected[4][1]))
        seen: list[tuple[str, str]] = []
        creds: dict[tuple[str, str], int] = {}
        after: str | None = None
        while True:
            page = store.list_all_member_summaries(after=after, limit=4)
            for s in page.items:
                key = (s.membership.org_id, s.membership.user_id)
                seen.append(key)
                creds[key] = len(s.credentials)
            if page.next_cursor is None:
                break
            after = page.next_cursor
        assert seen == sorted(set(seen))  # other tests' members may be there too
        assert [k for k in seen if k[0] in orgs] == sorted(expected)
        assert creds[expected[4]] == 1

    def test_all_member_summaries_bad_cursor(self, store: MfaStore) -> None:
        """A cursor this listing did not make is a ConfigurationError."""
        for bad in ("not json", "[1, 2]", '["only-one"]', "{}"):
            with pytest.raises(ConfigurationError):
                store.list_all_member_summaries(after=bad)

    # -- owner count ----------------------------------------------------------------

    def test_count_active_owners(self, store: MfaStore) -> None:
        """Only owners with status active count, following updates and deletes."""
        org = store.create_organization(organization())
        a = store.add_membership(membership(org.org_id, kind="owner"))
        b = store.add_membership(membership(org.org_id, kind="owner"))
        store.add_membership(membership(org.org_id, kind="owner", status="locked"))
        store.add_membership(membership(org.org_id, kind="owner", status="removed"))
        store.add_membership(membership(org.org_id, kind="member"))
        assert store.count_active_owners(org.org_id) == 2
        store.update_membership(dataclasses.replace(a, kind="member"))
        assert store.count_active_owners(org.org_id) == 1
        store.update_membership(dataclasses.replace(b, status="locked"))
        assert store.count_active_owners(org.org_id) == 0
        assert store.count_memberships(org.org_id) == 5

    def test_count_active_owners_unknown_org(self, store: MfaStore) -> None:
        """An unknown organization has no owners."""
        assert store.count_active_owners(new_id("org")) == 0

    # -- batched throttles ----------------------------------------------------------

    def test_get_throttles_reads_every_key(self, store: MfaStore) -> None:
        """Each key asked for is in the result once; unknown keys read as zero failures."""
        known, unknown = new_id("key"), new_id("key")
        state = store.record_failure(known, now=NOW)
        got = store.get_throttles([known, unknown, known])
        assert dict(got) == {known: state, unknown: store.get_throttle(unknown)}
        assert got[unknown].failures == 0

    def test_get_throttles_of_no_keys(self, store: MfaStore) -> None:
        """No keys, an empty mapping."""
        assert dict(store.get_throttles([])) == {}

    @pytest.mark.parametrize("keys", ["one-key", [f"k{i}" for i in range(1001)]])
    def test_batched_throttle_keys_validated(self, store: MfaStore, keys: object) -> None:
        """A lone string, or more than 1000 keys, is a ConfigurationError for reads and resets."""
        with pytest.raises(ConfigurationError):
            store.get_throttles(keys)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError):
            store.reset_throttles(keys)  # type: ignore[arg-type]

    def test_reset_throttles_resets_only_those_keys(self, store: MfaStore) -> None:
        """The listed keys lose their failures and locks; others keep theirs."""
        a, b, kept = new_id("key"), new_id("key"), new_id("key")
        for key in (a, b, kept):
            store.record_failure(key, now=NOW)
        store.lock_throttle(a, until=LATER)
        store.reset_throttles([a, b, new_id("unknown")])
        states = store.get_throttles([a, b, kept])
        assert [states[k].failures for k in (a, b, kept)] == [0, 0, 1]
        assert states[a].locked_until is None

    # -- login code cool-down -------------------------------------------------------

    def test_cooled_put_stores_first_code(self, store: MfaStore) -> None:
        """A subject without a code gets it."""
        code = login_code(new_id("subject"))
        assert store.put_login_code_if_cooled_down(code, cooldown=COOLDOWN) is True
        assert store.get_login_code(code.subject) == code

    def test_cooled_put_refused_within_cooldown(self, store: MfaStore) -> None:
        """A code issued less than the cool-down after the last one is refused; the old stays."""
        first = login_code(new_id("subject"))
        store.put_login_code(first)
        early = dataclasses.replace(
            login_code(first.subject), created_at=NOW + COOLDOWN - timedelta(microseconds=1)
        )
        assert store.put_login_code_if_cooled_down(early, cooldown=COOLDOWN) is False
        assert store.get_login_code(first.subject) == first

    def test_cooled_put_replaces_at_cooldown(self, store: MfaStore) -> None:
        """Exactly one cool-down later the new code replaces the old one whole."""
        first = dataclasses.replace(login_code(new_id("subject")), attempts=2)
        store.put_login_code(first)
        second = dataclasses.replace(login_code(first.subject), created_at=NOW + COOLDOWN)
        assert store.put_login_code_if_cooled_down(second, cooldown=COOLDOWN) is True
        assert store.get_login_code(first.subject) == second

    def test_cooled_put_counts_dead_codes(self, store: MfaStore) -> None:
        """A used or expired last code still holds the cool-down (it counts from the issue)."""
        first = login_code(new_id("subject"), ttl=timedelta(seconds=1))
        store.put_login_code(first)
        assert store.consume_login_code(first.subject, first.code_id, now=NOW) is True
        early = dataclasses.replace(
            login_code(first.subject), created_at=NOW + timedelta(seconds=30)
        )
        assert store.put_login_code_if_cooled_down(early, cooldown=COOLDOWN) is False

    def test_cooled_put_zero_cooldown_always_stores(self, store: MfaStore) -> None:
        """With no cool-down, each code replaces the last."""
        first = login_code(new_id("subject"))
        store.put_login_code(first)
        again = login_code(first.subject)
        assert store.put_login_code_if_cooled_down(again, cooldown=timedelta(0)) is True
        assert store.get_login_code(first.subject) == again

    @pytest.mark.parametrize("cooldown", [timedelta(seconds=-1), 60])
    def test_cooled_put_cooldown_validated(self, store: MfaStore, cooldown: object) -> None:
        """A negative or non-timedelta cool-down is a ConfigurationError; nothing is stored."""
        code = login_code(new_id("subject"))
        with pytest.raises(ConfigurationError):
            store.put_login_code_if_cooled_down(code, cooldown=cooldown)  # type: ignore[arg-type]
        assert store.get_login_code(code.subject) is None
