"""Engine creation, SQLite pragmas and transaction mode, the Store handle, and migrations.

SQLite specifics, and why:
- WAL: readers never block the writer, so the status command works during a sync.
- busy_timeout: connector threads (and other processes) queue for the write lock instead of
  failing with "database is locked".
- foreign_keys=ON: SQLite leaves foreign keys off unless each connection asks.
- BEGIN IMMEDIATE: pysqlite's deferred transactions take the write lock only at the first
  write, and a read-then-write transaction that loses the race fails at once (busy_timeout
  cannot help a lock upgrade). Taking the write lock at BEGIN makes writers queue in
  busy_timeout instead. ``Store.session(readonly=True)`` uses a plain deferred BEGIN.

PostgreSQL specifics, and why:
- One writer at a time, as on SQLite: a write transaction takes a transaction-level advisory
  lock (``pg_advisory_xact_lock``) at its start, so code written for SQLite's BEGIN IMMEDIATE
  (read, decide, write) stays correct under READ COMMITTED without retry loops. Transactions
  are short (one page), so several workers on one database still overlap their network time,
  which is where a sync spends it. Readers (``readonly=True``, ``reader()``) take no lock.
- No file locks: they would exclude only processes on one machine. The run lock is a lease
  per connector (erpsync.store.leases) and the token refresh lock a row lock (store.tokens).
- Migrations take the same advisory lock, so workers starting together migrate once.

Alembic is imported only when the schema is behind, so opening an up-to-date store is cheap.
An empty database is not migrated revision by revision: its schema is made from the models
(``create_all``) and stamped at the head, as Alembic's documentation recommends for a fresh
database ("Building an Up to Date Database from Scratch"), without importing Alembic (12-15 MiB
and 0.7 s per first run). ``tests/store/test_migrations.py`` proves the two schemas equal on both
backends (columns, types, defaults, keys, indexes, constraints), so they cannot drift.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from erpsync.errors import DatabaseBusyError, DatabaseError, DatabaseMissingError, StoreError
from erpsync.store import urls

#: the newest Alembic revision; a test checks it against the migration scripts
HEAD_REVISION = "0013_erp_invoice_stuck"
BUSY_TIMEOUT_SECONDS = 10.0
#: SQLite's page cache per connection, in KiB (its default is 2,000). A pull fills the default
#: cache within its first pages and keeps it: 2 MiB of its peak RSS, about 1.8 of it measured
#: (bench/pull_orders.py, 2,000 orders). At 512 KiB the pull's CPU was within the noise of
#: interleaved runs: its pages' rows and the index pages they touch fit, and a page read again
#: comes from the OS's file cache (README, Memory and start-up).
CACHE_KIB = 512
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_BEGIN_OPTION = "erpsync_begin"
#: the advisory lock key PostgreSQL write transactions hold (any fixed bigint; "erpsync" in hex)
PG_WRITE_LOCK = 0x657270_73796E63


def make_engine(url: str) -> Engine:
    """An Engine for ``url``; SQLite gets pragmas, explicit BEGIN and thread-safe pooling."""
    if urls.is_postgresql(url):
        # connector threads, lease and token-lock connections and the lease heartbeat share it
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        _install_postgresql_hooks(engine)
        return engine
    if not urls.is_sqlite(url):
        return create_engine(url, pool_pre_ping=True)
    path = urls.sqlite_path(url)
    connect_args: dict[str, Any] = {
        "check_same_thread": False,
        "timeout": BUSY_TIMEOUT_SECONDS,
    }
    if path is None:
        # one shared connection, or every session would see its own empty in-memory database
        engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool)
    else:
        _create_private_file(path)
        # the file SQLite opens is the one the lock files sit beside (``~`` expanded)
        file_url = make_url(url)
        if not str(file_url.database).startswith("file:"):  # a URI names its file itself
            file_url = file_url.set(database=str(path))
        engine = create_engine(file_url, connect_args=connect_args)
    _install_sqlite_hooks(engine, wal=path is not None)
    return engine


def _create_private_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does: it holds OAuth tokens.

    SQLite gives its -wal and -shm files the main file's permissions.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _install_sqlite_hooks(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # hand transaction control to the "begin" hook below (pysqlite's own is incomplete)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
            # FULL: a rotated refresh token must survive a power cut once save() returned
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # negative: KiB, not pages
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _install_postgresql_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # the driver opens the transaction with this first statement: writers queue here
        if connection.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE") == "IMMEDIATE":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")


class Store:
    """An opened database: its URL, its Engine, and transaction-scoped sessions.

    Threads share one Store (and Engine) and each opens its own sessions.
    """

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine

    @property
    def display_url(self) -> str:
        """The URL as messages may show it (a file path, or the URL without password)."""
        return urls.display(self.url)

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """One transaction: commit on normal exit, roll back on an exception.

        Objects stay usable after the block (expire_on_commit=False). On SQLite a session
        holds the write lock from its start to its end, so keep it short and never open one
        across network calls; ``readonly=True`` takes no write lock (for status and reports).
        """
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                if readonly:
                    session.connection(execution_options={_BEGIN_OPTION: "DEFERRED"})
                yield session
                session.commit()
            except BaseException as exc:
                # a damaged or vanished database may fail the rollback too: the first error
                # says more
                with suppress(SQLAlchemyError):
                    session.rollback()
                failure = database_failure(exc, self.url)
                if failure is not None:
                    raise failure from exc
                raise

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        """A bare connection without the write lock: look-ups on hot paths, and on PostgreSQL
        the lease and token-lock transactions, which lock rows of their own and must not hold
        the write lock while they wait or while a token request is out."""
        try:
            with self.engine.connect() as connection:
                yield connection.execution_options(**{_BEGIN_OPTION: "DEFERRED"})
        except SQLAlchemyError as exc:
            failure = database_failure(exc, self.url)
            if failure is not None:
                raise failure from exc
            raise

    @property
    def dialect(self) -> str:
        """The backend: "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"


def current_revision(connection: Connection) -> str | None:
    """The Alembic revision recorded in the database, or None for an empty database."""
    if "alembic_version" not in _table_names(connection):
        return None
    row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def _table_names(connection: Connection) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(connection).get_table_names())


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Any:
    """An Alembic Config without alembic.ini: the scripts live in this package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # revisions are named by hand (rev_id="0002_what_changed"): the file carries that name
    config.set_main_option("file_template", "%%(rev)s")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` in one transaction; a no-op when it is already there.

    Raises:
        StoreError: the database is at a revision this erpsync does not know (a newer
            version migrated it), or a migration failed.
    """
    with engine.begin() as connection:
        if revision == "head":
            if current_revision(connection) == HEAD_REVISION:
                return
            if not _table_names(connection):
                create_schema(connection)
                return
        from alembic import command
        from alembic.util.exc import CommandError

        try:
            command.upgrade(alembic_config(connection), revision)
        except CommandError as exc:
            reason = _one_line(exc)
            if "Can't locate revision" in reason:
                reason += " (was it written by a newer erpsync?)"
            where = urls.display(str(engine.url))
            raise StoreError(f"cannot migrate the database {where}: {reason}") from exc


#: what ``alembic stamp`` writes into a fresh database (alembic.ddl.impl.version_table_impl: the
#: table and its primary key's name): a later ``alembic upgrade`` reads it as its own
_ALEMBIC_VERSION_TABLE = (
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
)


def create_schema(connection: Connection) -> None:
    """Make the newest schema in an empty database from the models and stamp it at the head.

    The same schema every revision in turn would make (a test compares them), in one
    transaction (the caller's), without Alembic.
    """
    from sqlmodel import SQLModel

    import erpsync.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

    SQLModel.metadata.create_all(connection)
    connection.execute(text(_ALEMBIC_VERSION_TABLE))
    connection.execute(
        text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": HEAD_REVISION}
    )


def open_store(url: str, *, migrate: bool = True, create: bool = True) -> Store:
    """Open (creating if needed) the database at ``url`` and bring its schema up to date.

    ``create=False`` (read commands): a SQLite file that does not exist is an error, and
    neither the file nor its folder is created.

    Raises:
        StoreError: one line saying which database and why it cannot be opened
            (DatabaseError when it is read-only or damaged).
        DatabaseMissingError: ``create=False`` and the SQLite file does not exist.
    """
    where = urls.display(url)
    path = urls.sqlite_path(url)
    if not create and path is not None and not path.is_file():
        raise DatabaseMissingError(
            f"the database {where} does not exist (check --db, ERPSYNC_DB or the config's "
            "`database`; the first pull-orders or import creates it)"
        )
    try:
        engine = make_engine(url)
    except (SQLAlchemyError, OSError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot open the database {where}: {_one_line(exc)}") from exc
    try:
        # a deferred read: opening an up-to-date store never waits for another run's writes
        with engine.connect().execution_options(**{_BEGIN_OPTION: "DEFERRED"}) as connection:
            revision = current_revision(connection)
        if migrate and revision != HEAD_REVISION:
            upgrade(engine)
    except BaseException as exc:
        engine.dispose()
        failure = database_failure(exc, url)
        if failure is not None:
            raise failure from exc
        if isinstance(exc, SQLAlchemyError | OSError):
            raise StoreError(f"cannot open the database {where}: {_one_line(exc)}") from exc
        raise
    return Store(url, engine)


_BUSY = ("database is locked", "database table is locked", "database is busy")
_READONLY = ("readonly database", "read-only database")
_DAMAGED = ("malformed", "file is not a database", "disk i/o error", "corrupt")


def database_failure(exc: BaseException, url: str) -> DatabaseError | None:
    """One line for a database that failed under us, with what to do; None for other errors.

    Busy: another program held the write lock past busy_timeout. Read-only: the file, its
    folder, or the URL (``mode=ro``) forbids writing. Damaged: ``PRAGMA quick_check`` is run
    on the file and its first finding quoted.
    """
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    driver: BaseException
    if isinstance(exc, DBAPIError):
        driver = exc.orig if exc.orig is not None else exc
    elif isinstance(exc, sqlite3.Error):
        driver = exc
    else:
        return None
    reason = _one_line(driver).lower()
    where = urls.display(url)
    if any(text in reason for text in _BUSY):
        return DatabaseBusyError(
            f"the database {where} is busy: another program held its write lock for over "
            f"{BUSY_TIMEOUT_SECONDS:.0f} s (a long erpsync write, or a sqlite3 shell in a "
            "transaction); try again later"
        )
    if any(text in reason for text in _READONLY):
        path = urls.sqlite_path(url)
        beside = (
            f" (SQLite also writes {path.name}-wal and {path.name}-shm beside it)" if path else ""
        )
        return DatabaseError(
            f"the database {where} is read-only for this user: make the file and its folder "
            f"writable{beside}, or point --db at a writable copy"
        )
    if any(text in reason for text in _DAMAGED):
        path = urls.sqlite_path(url)
        check = f"; PRAGMA quick_check: {quick_check(path)}" if path is not None else ""
        salvage = (
            f", or salvage what is readable: sqlite3 {path} .recover | sqlite3 recovered.db"
            if path is not None
            else ""
        )
        return DatabaseError(
            f"the database {where} is damaged ({_one_line(driver)}{check}): restore it from a "
            f"backup{salvage}"
        )
    return None


def quick_check(path: Path) -> str:
    """The first problem ``PRAGMA quick_check`` finds in a SQLite file ("ok" when sound)."""
    import sqlite3

    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
        try:
            rows = connection.execute("PRAGMA quick_check(1)").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        return str(exc)
    lines = [line for row in rows for line in str(row[0]).splitlines()]
    found = [line for line in lines if not line.startswith("*** in database")]
    return (found[0] if found else "no answer")[:200]


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)  # DBAPIError: the driver's message, without the SQL
    message = str(orig if orig is not None else exc).strip().splitlines()
    return (message[0] if message else type(exc).__name__)[:300]
