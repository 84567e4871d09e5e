"""Contract tests of organizations, memberships, invitations and the audit log."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from mfakit.errors import ConfigurationError, DuplicateError, NotFoundError
from mfakit.repositories import MfaStore
from mfakit.testing.contracts._records import (
    NOW,
    audit_event,
    invitation,
    membership,
    new_id,
    organization,
)

__all__ = ["OrgContract"]

LATER = NOW + timedelta(hours=1)


class OrgContract:
    """Contract tests of organizations, memberships, invitations and the audit log.

    Mixed into :class:`StoreContract`.
    """

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

    def test_enforced_by_stored_updated_and_kept(self, store: MfaStore) -> None:
        """enforced_by round-trips, is changed by updates, and stays when enforcement stops."""
        org = store.create_organization(
            dataclasses.replace(organization(), enforced=True, enforced_at=NOW, enforced_by="o-1")
        )
        assert org.enforced_by == "o-1"
        by_other = store.update_organization(dataclasses.replace(org, enforced_by="o-2"))
        assert by_other is not None
        stopped = store.update_organization(
            dataclasses.replace(by_other, enforced=False, enforcement_stopped_at=LATER)
        )
        assert stopped is not None
        assert stopped.enforced_by == "o-2"
        assert store.get_organization(org.org_id) == stopped

    def test_enforced_by_can_be_cleared(self, store: MfaStore) -> None:
        """An update with enforced_by None clears it."""
        org = store.create_organization(dataclasses.replace(organization(), enforced_by="o-1"))
        cleared = store.update_organization(dataclasses.replace(org, enforced_by=None))
        assert cleared is not None
        assert store.get_organization(org.org_id) == cleared
        assert cleared.enforced_by is None

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
