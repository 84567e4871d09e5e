"""DjangoStore against mfakit's store contract, on SQLite and on PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext
from mfa_django.store import DjangoStore

from mfakit.errors import ConfigurationError
from mfakit.repositories import MfaStore
from mfakit.testing.contracts import (
    ProcessRaceContract,
    StateMachineContract,
    StoreContract,
    ThreadRaceContract,
)
from mfakit.testing.contracts._records import (
    MAX_DEVICES,
    NOW,
    backup_codes,
    membership,
    organization,
    pending_totp,
    webauthn_credential,
)
from tests.django._opener import open_store


class _DjangoStoreContract(
    StoreContract, ThreadRaceContract, ProcessRaceContract, StateMachineContract
):
    """The whole contract on one database alias, races of processes included."""

    needs_postgres: ClassVar[bool] = False

    @pytest.fixture(scope="class")
    @classmethod
    def alias(cls, request: pytest.FixtureRequest) -> str:
        """The database alias under test (the PostgreSQL cluster starts on demand)."""
        if cls.needs_postgres:
            return str(request.getfixturevalue("django_postgres"))
        return "default"

    @pytest.fixture
    def store(self, alias: str) -> Iterator[DjangoStore]:
        """A DjangoStore on the alias's shared database."""
        store = DjangoStore(using=alias)
        yield store
        store.close()

    def reopen(self, store: MfaStore) -> MfaStore:
        """A second store instance on the same database."""
        assert isinstance(store, DjangoStore)
        return DjangoStore(using=store.using)

    @pytest.fixture(scope="class")
    @classmethod
    def store_opener(cls, alias: str) -> Callable[[], MfaStore]:
        """Open the alias in this process or in a race worker (which configures Django)."""
        # Django needs a "default" database: in a worker it is the alias's too.
        database = dict(settings.DATABASES[alias])
        databases = {"default": database, alias: database}
        return functools.partial(open_store, databases, alias)


class TestDjangoStoreSQLite(_DjangoStoreContract):
    """DjangoStore on SQLite (WAL, ``transaction_mode = IMMEDIATE``)."""


class TestDjangoStorePostgres(_DjangoStoreContract):
    """DjangoStore on PostgreSQL 15 (psycopg 3), READ COMMITTED."""

    needs_postgres = True


def test_refuses_an_unknown_alias() -> None:
    """An alias missing from settings.DATABASES is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        DjangoStore(using="nowhere")


@pytest.mark.parametrize("listing", ["org", "all"])
def test_member_summaries_read_one_query_per_page(listing: str) -> None:
    """A page of member summaries is one query, however many factors its members have."""
    store = DjangoStore()
    org = store.create_organization(organization())
    for _ in range(4):
        m = store.add_membership(membership(org.org_id))
        rec = pending_totp(m.user_id)
        store.put_pending_totp(rec)
        store.activate_totp(m.user_id, rec.totp_id, step=1, now=NOW, max_devices=MAX_DEVICES)
        store.replace_backup_codes(m.user_id, backup_codes(m.user_id, 3))
        for i in range(2):
            store.add_webauthn_credential(webauthn_credential(m.user_id, created_offset=i))
        store.record_failure(f"totp:{m.user_id}", NOW)
    with CaptureQueriesContext(connections["default"]) as queries:
        if listing == "org":
            page = store.list_member_summaries(org.org_id, limit=3, throttle_prefixes=["totp:"])
        else:
            page = store.list_all_member_summaries(limit=3, throttle_prefixes=["totp:"])
    # Django may first probe the connection once (SQLite's JSON support); one query reads.
    reads = [q for q in queries.captured_queries if "mfa_django_" in q["sql"]]
    assert len(reads) == 1
    assert len(page.items) == 3
    if listing == "org":
        assert all(len(s.credentials) == 2 and s.failed_attempts == 1 for s in page.items)
