"""Fixtures for the store tests: a throwaway PostgreSQL cluster for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mfakit.testing.postgres import TemporaryPostgres


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[TemporaryPostgres]:
    """A private PostgreSQL server on a Unix socket, deleted after the session.

    Never skipped: without the server programs this fails and says how to
    install them (``bash scripts/system-deps``).
    """
    with TemporaryPostgres(database="mfakit_test") as pg:
        yield pg


@pytest.fixture(scope="session")
def postgres_dsn(postgres_cluster: TemporaryPostgres) -> str:
    """The DSN of the session's shared test database."""
    return postgres_cluster.dsn
