"""The two store backends the store, engine, ledger, lock and CLI tests run on.

SQLite always; PostgreSQL when ``ERPSYNC_TEST_POSTGRES_URL`` names a server (``.ci/run``
starts a throwaway one). Without it the PostgreSQL variants are skipped and say why; with
``ERPSYNC_REQUIRE_POSTGRES=1`` (CI) that skip is a failure instead, so CI cannot go green
without having run them.

Each PostgreSQL test gets a fresh schema of its own (``search_path`` set in the URL), dropped
at the end: cheaper than a database per test, and just as isolated for erpsync, which only
ever uses its connection's current schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from urllib.parse import quote

import pytest

PG_ENV = "ERPSYNC_TEST_POSTGRES_URL"
REQUIRE_ENV = "ERPSYNC_REQUIRE_POSTGRES"
SKIP_REASON = (
    f"set {PG_ENV} to a PostgreSQL URL (e.g. postgresql+psycopg://postgres@/postgres"
    "?host=/tmp/pg) to run the PostgreSQL variant; .ci/run starts a server and sets it"
)

#: the parameter every backend-parametrised fixture takes
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def server_url() -> str:
    """The PostgreSQL server URL, or skip (fail under ERPSYNC_REQUIRE_POSTGRES=1)."""
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {PG_ENV} is not set", pytrace=False)
        pytest.skip(SKIP_REASON)
    return url


def with_search_path(url: str, schema: str) -> str:
    """``url`` whose connections use ``schema`` (libpq ``options=-csearch_path=...``)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


def _admin_engine(url: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A URL on a new, empty schema of the test server; the schema is dropped afterwards."""
    base = server_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(base)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(base, schema)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@contextmanager
def database_url(backend: str, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh database of ``backend``: a SQLite file under ``tmp_path``, or a PG schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/erpsync.db"
        return
    with fresh_postgres() as url:
        yield url


@contextmanager
def opened_store(backend: str, sqlite_url: str = "sqlite://"):  # type: ignore[no-untyped-def]
    """An opened (migrated) store on ``backend``; in-memory SQLite unless told otherwise."""
    from erpsync.store import open_store

    with nullcontext(sqlite_url) if backend == "sqlite" else fresh_postgres() as url:
        store = open_store(url)
        try:
            yield store
        finally:
            store.close()
