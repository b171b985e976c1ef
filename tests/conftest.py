"""Fixtures every test layer shares: the store backends (SQLite, and PostgreSQL when set up)."""

from __future__ import annotations

import pytest

from tests.backends import BACKENDS, database_url


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "postgresql: runs on the PostgreSQL test server (ERPSYNC_TEST_POSTGRES_URL)"
    )


@pytest.fixture(autouse=True)
def _idle_platforms():
    """Every test starts with idle platforms: the process keeps each connector account's
    rate-limit buckets for every step of a run (``SHARED_LIMITERS``), not from one test to
    the next, whose emulators are new."""
    from erpsync.http.ratelimit import SHARED_LIMITERS

    yield
    SHARED_LIMITERS.clear()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Each test using it runs twice: on SQLite and on PostgreSQL (skipped when not set up)."""
    if request.param == "postgresql":
        from tests.backends import server_url

        server_url()  # skip (or fail in CI) before any work
    return request.param


@pytest.fixture
def db_url(backend, tmp_path):
    """A fresh, empty database URL of the test's backend."""
    with database_url(backend, tmp_path) as url:
        yield url


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL schema URL, for what only PostgreSQL does (leases, row locks)."""
    from tests.backends import fresh_postgres

    with fresh_postgres() as url:
        yield url
