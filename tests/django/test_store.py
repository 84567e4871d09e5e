"""DjangoStore against mfakit's store contract, on SQLite and on PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest
from django.conf import settings
from mfa_django.store import DjangoStore

from mfakit.errors import ConfigurationError
from mfakit.repositories import MfaStore
from mfakit.testing.contracts import (
    ProcessRaceContract,
    StateMachineContract,
    StoreContract,
    ThreadRaceContract,
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
