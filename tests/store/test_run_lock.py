"""run_lock: one erpsync run per database, proven against a real second process."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager

import pytest

from erpsync.engine.lock import run_lock
from erpsync.errors import LockHeldError
from erpsync.store.urls import lock_path
from erpsync.testing import FakeTime

HOLDER = """
import sys
from erpsync.engine.lock import run_lock
with run_lock(sys.argv[1], wait_seconds=0):
    print("held", flush=True)
    sys.stdin.readline()
print("released", flush=True)
sys.stdin.readline()
"""


@contextmanager
def holder(url):
    """A second erpsync process holding the run lock until told to release."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        process.kill()
        process.wait()


def test_second_run_waits_then_gives_up_with_a_one_line_message(tmp_path):
    """requirement: a run finding the lock held polls until wait_seconds, then LockHeldError."""
    url = f"sqlite:///{tmp_path}/erpsync.db"
    fake = FakeTime()
    waiting = run_lock(url, wait_seconds=1.0, poll=0.25, clock=fake.monotonic, sleep=fake.sleep)
    with holder(url), pytest.raises(LockHeldError) as raised, waiting:
        pytest.fail("acquired a lock held by another process")
    assert (
        str(raised.value) == f"another erpsync run is using {tmp_path}/erpsync.db; try again later"
    )
    assert raised.value.exit_code == 75
    assert fake.slept == [0.25, 0.25, 0.25, 0.25]
    assert lock_path(url, ".lock") == tmp_path / "erpsync.db.lock"


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    """requirement: the kernel drops the flock of a killed process; the next run proceeds."""
    url = f"sqlite:///{tmp_path}/erpsync.db"
    with holder(url) as process:
        process.kill()
        process.wait()
        with run_lock(url, wait_seconds=0):
            pass


def test_a_waiting_run_gets_the_lock_once_the_holder_finishes(tmp_path):
    url = f"sqlite:///{tmp_path}/erpsync.db"
    fake = FakeTime()
    with holder(url) as process:

        def release_on_first_poll(seconds):
            if not fake.slept:
                process.stdin.write("\n")
                process.stdin.flush()
                assert process.stdout.readline().strip() == "released"
            fake.sleep(seconds)

        with run_lock(
            url, wait_seconds=5, poll=0.1, clock=fake.monotonic, sleep=release_on_first_poll
        ):
            acquired = True
    assert acquired and fake.slept == [0.1]


def test_one_process_cannot_take_the_lock_twice(tmp_path):
    """requirement: flock excludes a second open even in the same process (threads, nesting)."""
    url = f"sqlite:///{tmp_path}/erpsync.db"
    with run_lock(url), pytest.raises(LockHeldError), run_lock(url, wait_seconds=0):
        pass
    with run_lock(url, wait_seconds=0):
        pass


def test_errors_of_the_locked_block_pass_through_and_release_the_lock(tmp_path):
    url = f"sqlite:///{tmp_path}/erpsync.db"
    with pytest.raises(OSError, match="disk full"), run_lock(url):
        raise OSError("disk full")
    with run_lock(url, wait_seconds=0):
        pass


def test_non_file_databases_lock_a_hashed_file_in_the_temp_dir(tmp_path, monkeypatch):
    """requirement: other URLs (not SQLite, not PostgreSQL) lock a per-URL temp file whose name
    reveals no password."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    url = "mysql://erp:s3cret@db/erp"
    path = lock_path(url, ".lock")
    assert path.parent == tmp_path and path.name.startswith("erpsync-")
    assert "s3cret" not in path.name
    with run_lock(url), pytest.raises(LockHeldError) as raised, run_lock(url, wait_seconds=0):
        pass
    assert str(raised.value) == (
        "another erpsync run is using mysql://erp:***@db/erp; try again later"
    )


def test_postgresql_has_no_run_lock_file_leases_take_its_place(tmp_path, monkeypatch):
    """requirement: on PostgreSQL, runs on several machines share the database: run_lock holds
    nothing (the runner leases connectors, tests/store/test_leases.py) and makes no file."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    url = "postgresql+psycopg://erp:s3cret@db/erp"
    with run_lock(url, wait_seconds=0), run_lock(url, wait_seconds=0):
        pass
    assert list(tmp_path.iterdir()) == []
