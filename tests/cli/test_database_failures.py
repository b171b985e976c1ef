"""A database that is busy, read-only, damaged or not there: one line with what to do, never a
traceback; read commands neither wait for the write lock nor create a database (issue 7,
items 7 and 10)."""

import sqlite3

import pytest

from erpsync.store import db
from tests.cli.test_subprocess import erpsync, write_config


@pytest.fixture
def backend():
    """SQLite only: these failures are a SQLite file's (its lock, its mode, its pages)."""
    return "sqlite"


@pytest.fixture
def pulled(tmp_path):
    write_config(tmp_path, generate=20)
    assert erpsync("products", "import", "products.csv", cwd=tmp_path).returncode == 0
    assert erpsync("pull-orders", cwd=tmp_path).returncode == 0
    return tmp_path


def test_read_commands_do_not_wait_for_a_writer(pulled):
    """requirement: while another program holds the write lock, reads still answer (WAL).

    A reader that took the write lock would wait out the busy timeout and fail with exit 75,
    so the exit code proves it; no wall-clock bound (this machine's load is not the behaviour)."""
    writer = sqlite3.connect(pulled / "store.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        for command in (["status"], ["orders", "list"], ["stock", "list"], ["products", "list"]):
            result = erpsync(*command, cwd=pulled)
            assert result.returncode == 0, (command, result.stderr)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_busy_database_is_one_line_and_exit_75(run, workdir, monkeypatch):
    assert run("products", "import", "products.csv").exit_code == 0
    monkeypatch.setattr(db, "BUSY_TIMEOUT_SECONDS", 0.2)
    writer = sqlite3.connect(workdir / "store.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        result = run("stock", "set", "SKU-A", "3")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 75
    assert result.stderr.startswith("erpsync: error: the database ")
    assert "is busy: another program held its write lock" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_read_only_database_is_one_line(pulled):
    url = f"sqlite:///file:{pulled / 'store.db'}?mode=ro&uri=true"
    assert erpsync("--db", url, "status", cwd=pulled).returncode == 0  # reading is fine
    result = erpsync("--db", url, "stock", "set", "SKU-A", "1", cwd=pulled)
    assert result.returncode == 1
    assert "is read-only for this user: make the file and its folder writable" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_damaged_database_is_one_line_with_quick_check(pulled):
    path = pulled / "store.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with path.open("r+b") as f:  # garbage over every page but the first (the schema)
        f.seek(4096)
        f.write(b"garbage!" * (512 * (pages - 1)))
    for command in (["status"], ["stock", "list"], ["pull-orders"], ["push-stock"]):
        result = erpsync(*command, cwd=pulled)
        assert result.returncode == 1, (command, result.stderr)
        assert "Traceback" not in result.stderr
        [line] = [x for x in result.stderr.splitlines() if x.startswith("erpsync: error:")]
        assert f"the database {path} is damaged" in line
        assert "PRAGMA quick_check: " in line and "restore it from a backup" in line


def test_a_mistyped_db_for_a_read_command_creates_nothing(tmp_path):
    """requirement: read commands never create a database, nor its folders: exit 2."""
    write_config(tmp_path, generate=0)
    missing = tmp_path / "typo" / "stroe.db"
    for command in (["status"], ["orders", "list"], ["stock", "list"], ["listings", "list"]):
        result = erpsync("--db", f"sqlite:///{missing}", *command, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr == (
            f"erpsync: error: the database {missing} does not exist (check --db, ERPSYNC_DB or "
            "the config's `database`; the first pull-orders or import creates it)\n"
        )
    assert not (tmp_path / "typo").exists()
