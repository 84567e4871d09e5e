"""The behaviour half of the contract: every port method, one behaviour per test."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta, timezone

import pytest

from mfakit.errors import ConfigurationError, StoreError
from mfakit.repositories import MfaStore
from mfakit.testing.contracts._behaviour_atomic import AtomicContract
from mfakit.testing.contracts._behaviour_factors import FactorContract
from mfakit.testing.contracts._behaviour_flows import FlowContract
from mfakit.testing.contracts._behaviour_handles import WebAuthnHandleContract
from mfakit.testing.contracts._behaviour_orgs import OrgContract
from mfakit.testing.contracts._behaviour_outbox import OutboxContract
from mfakit.testing.contracts._behaviour_scale import ScaleContract
from mfakit.testing.contracts._behaviour_signin import SignInContract
from mfakit.testing.contracts._behaviour_trusted import TrustedBrowserContract
from mfakit.testing.contracts._behaviour_users import UserStateContract
from mfakit.testing.contracts._records import (
    NOW,
    backup_codes,
    challenge,
    membership,
    new_id,
    organization,
    webauthn_credential,
)

__all__ = ["StoreContract"]


class StoreContract(
    FactorContract,
    WebAuthnHandleContract,
    FlowContract,
    OrgContract,
    ScaleContract,
    SignInContract,
    UserStateContract,
    TrustedBrowserContract,
    OutboxContract,
    AtomicContract,
):
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
            store.advance_totp_step(new_id("totp"), step, now=NOW)

    def test_sign_count_out_of_range_refused(self, store: MfaStore) -> None:
        """Counters beyond 64 bits are refused before reaching the database."""
        with pytest.raises(ConfigurationError):
            store.update_sign_count(b"x", 0, 2**64, now=NOW)
