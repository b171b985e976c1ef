"""Opening the store: pragmas, transactions, one-line errors, cheap imports, column types."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, Table, create_engine, select

from erpsync.errors import StoreError
from erpsync.store import open_store, products
from erpsync.store.types import DecimalText, JsonText, UtcDateTime, dump_json
from erpsync.store.urls import display, lock_path, sqlite_path


def _pragma(store, name):
    with store.engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_file_store_creates_its_directory_and_sets_pragmas(tmp_path):
    """requirement: WAL, busy_timeout and foreign_keys on every connection; parent dir made;
    a page cache of 512 KiB, not SQLite's 2 MiB (issue 11 section 2: a pull's peak RSS)."""
    store = open_store(f"sqlite:///{tmp_path}/a/b/erpsync.db")
    try:
        assert (tmp_path / "a" / "b" / "erpsync.db").is_file()
        assert _pragma(store, "journal_mode") == "wal"
        assert _pragma(store, "busy_timeout") == 10000
        assert _pragma(store, "foreign_keys") == 1
        assert _pragma(store, "cache_size") == -512
    finally:
        store.close()


def test_session_commits_on_exit_and_rolls_back_on_error(store):
    with store.session() as s:
        products.upsert_product(s, "A")
    with pytest.raises(RuntimeError), store.session() as s:
        products.upsert_product(s, "B")
        raise RuntimeError("boom")
    with store.session(readonly=True) as s:
        assert [p.sku for p in products.list_products(s)] == ["A"]


def test_objects_stay_readable_after_the_session(store):
    """requirement: expire_on_commit=False, rows are usable after the block."""
    with store.session() as s:
        product = products.upsert_product(s, "A", "Nome")
    assert product.name == "Nome"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "nosuchdb://x",
            "cannot open the database nosuchdb://x: Can't load plugin: "
            "sqlalchemy.dialects:nosuchdb",
        ),
        (
            "not a url",
            "cannot open the database not a url: Could not parse SQLAlchemy URL "
            "from given URL string",
        ),
    ],
)
def test_unopenable_url_is_one_line_store_error(url, message):
    with pytest.raises(StoreError) as raised:
        open_store(url)
    assert str(raised.value) == message


def test_directory_in_place_of_the_database_is_a_store_error(tmp_path):
    (tmp_path / "db").mkdir()
    with pytest.raises(StoreError) as raised:
        open_store(f"sqlite:///{tmp_path}/db")
    assert (
        str(raised.value) == f"cannot open the database {tmp_path}/db: unable to open database file"
    )


def test_importing_the_store_does_not_import_alembic_or_sqlalchemy():
    """requirement: `import erpsync.store` stays cheap (CLI --help speed)."""
    code = (
        "import sys, erpsync.store\n"
        "print(sorted(m for m in ('alembic', 'sqlalchemy', 'sqlmodel') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_opening_an_up_to_date_store_does_not_import_alembic(tmp_path):
    url = f"sqlite:///{tmp_path}/x.db"
    open_store(url).close()
    code = (
        f"import sys\nfrom erpsync.store import open_store\nopen_store({url!r}).close()\n"
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("url", "path", "shown"),
    [
        ("sqlite:///rel/x.db", "rel/x.db", "rel/x.db"),
        ("sqlite:////abs/x.db", "/abs/x.db", "/abs/x.db"),
        ("sqlite+pysqlite:////abs/x.db?timeout=3", "/abs/x.db", "/abs/x.db"),
        ("sqlite://", None, "sqlite:// (in memory)"),
        ("sqlite:///:memory:", None, "sqlite:// (in memory)"),
        (
            "postgresql://u:s3cret@db:5432/erp?sslmode=require",
            None,
            "postgresql://u:***@db:5432/erp",
        ),
    ],
)
def test_url_paths_and_redacted_display(url, path, shown):
    """requirement: messages show a path or a URL without its password."""
    assert sqlite_path(url) == (None if path is None else Path(path))
    assert display(url) == shown
    assert "s3cret" not in str(lock_path(url, ".lock"))


@pytest.fixture
def roundtrip(db_url):
    """Write one value through a column type and read it back raw and typed, on the backend."""
    engine = create_engine(db_url)

    def write_and_read(column_type, value):
        table = Table("t", MetaData(), Column("v", column_type))
        table.metadata.drop_all(engine)
        table.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(table.insert(), {"v": value})
            raw = connection.exec_driver_sql("SELECT v FROM t").scalar()
            back = connection.execute(select(table.c.v)).scalar()
        return raw, back

    yield write_and_read
    engine.dispose()


@pytest.mark.parametrize(
    ("value", "raw"),
    [(Decimal("129.90"), "129.90"), (Decimal("-0.01"), "-0.01"), (Decimal("1E+3"), "1E+3")],
)
def test_decimal_text_is_exact(roundtrip, value, raw):
    stored, back = roundtrip(DecimalText(), value)
    assert (stored, back, str(back)) == (raw, value, str(value))


def test_decimal_text_refuses_floats(roundtrip):
    with pytest.raises(Exception, match="DecimalText takes Decimal values, not float"):
        roundtrip(DecimalText(), 1.5)


def test_utc_datetime_stores_fixed_width_utc_and_reads_back_aware(roundtrip):
    brt = datetime(2024, 5, 1, 9, 0, tzinfo=timezone(timedelta(hours=-3)))
    stored, back = roundtrip(UtcDateTime(), brt)
    assert stored == "2024-05-01T12:00:00.000000+00:00"
    assert back == brt and back.tzinfo is UTC


def test_utc_datetime_refuses_naive_times(roundtrip):
    with pytest.raises(Exception, match=r"naive datetime refused \(no UTC offset\): 2024-05-01"):
        roundtrip(UtcDateTime(), datetime(2024, 5, 1))


def test_database_file_is_private_and_tilde_is_expanded(tmp_path, monkeypatch):
    """requirement: the file holding OAuth tokens is created 0600; ``~`` means home."""
    monkeypatch.setenv("HOME", str(tmp_path))
    store = open_store("sqlite:///~/erp/erpsync.db")
    with store.session() as s:
        products.upsert_product(s, "A")
    store.close()
    assert (tmp_path / "erp" / "erpsync.db").stat().st_mode & 0o777 == 0o600
    assert not (Path.cwd() / "~").exists()


def test_odd_characters_in_the_path_open_the_named_file(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/my data #1/erp sync.db")
    store.close()
    assert (tmp_path / "my data #1" / "erp sync.db").stat().st_size > 0


def test_readonly_session_reads_while_another_session_writes(file_store):
    """requirement: readonly sessions take no write lock (WAL readers see the last commit)."""
    with file_store.session() as s:
        products.upsert_product(s, "OLD")
    started = time.monotonic()
    with file_store.session() as writer:
        products.upsert_product(writer, "NEW")  # holds the write lock until the block ends
        with file_store.session(readonly=True) as reader:
            seen = [p.sku for p in products.list_products(reader)]
    assert seen == ["OLD"]
    assert time.monotonic() - started < 2  # did not sit in busy_timeout


def test_json_text_round_trips_unicode_decimals_and_times(roundtrip):
    """requirement: JSON payloads come back equal on every backend (accents, cents, times)."""
    value = {"cidade": "São Paulo", "total": Decimal("129.90"), "at": datetime(2024, 5, 1)}
    stored, back = roundtrip(JsonText(), value)
    assert stored == '{"cidade":"São Paulo","total":"129.90","at":"2024-05-01T00:00:00"}'
    assert back == {"cidade": "São Paulo", "total": "129.90", "at": "2024-05-01T00:00:00"}


def test_json_text_writes_sets_sorted_tuples_as_lists_and_refuses_the_rest():
    """requirement: the store's one JSON encoding is compact and keeps key order; sets come out
    sorted, tuples as lists; anything else it cannot encode is refused, not guessed."""
    assert (
        dump_json({"b": (1, 2), "a": {"z", "y"}, "ç": None}) == '{"b":[1,2],"a":["y","z"],"ç":null}'
    )
    assert dump_json([]) == "[]"
    with pytest.raises(TypeError, match="not JSON serialisable: object"):
        dump_json({"x": object()})


@pytest.mark.postgresql
def test_postgresql_write_transactions_queue_like_sqlite_immediate(pg_url):
    """requirement: one writer at a time on PostgreSQL too (advisory lock at BEGIN); readonly
    sessions take no lock and see the last commit."""
    store = open_store(pg_url)
    order: list[str] = []
    try:
        with store.session() as writer:
            products.upsert_product(writer, "FIRST")

            def second() -> None:
                with store.session() as s:
                    products.upsert_product(s, "SECOND")  # its first statement waits
                    order.append("second wrote")

            thread = threading.Thread(target=second)
            thread.start()
            time.sleep(0.3)
            with store.session(readonly=True) as reader:
                assert products.list_products(reader) == []
            order.append("first commits")
        thread.join(timeout=10)
        with store.session(readonly=True) as reader:
            assert [p.sku for p in products.list_products(reader)] == ["FIRST", "SECOND"]
    finally:
        store.close()
    assert order == ["first commits", "second wrote"]
