"""Run leases and row locks on PostgreSQL: several workers, on several machines, one database."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from erpsync.errors import ConfigError
from erpsync.store import open_store
from erpsync.store.leases import (
    LockTimeout,
    RunLeases,
    held_connectors,
    lease_seconds,
    row_locked,
)

pytestmark = pytest.mark.postgresql


@pytest.fixture
def store(pg_url):
    opened = open_store(pg_url)
    yield opened
    opened.close()


def test_two_workers_claim_different_connectors_and_a_released_one_is_free_again(store):
    """requirement: SKIP LOCKED hands each worker a connector nobody holds; none twice."""
    a, b = RunLeases(store, "pull", holder="a"), RunLeases(store, "pull", holder="b")
    try:
        assert a.claim_next(["ml-1", "ml-2"]) == "ml-1"
        assert b.claim_next(["ml-1", "ml-2"]) == "ml-2"
        assert a.claim_next(["ml-1", "ml-2"]) is None
        assert held_connectors(store) == {"ml-1": "a", "ml-2": "b"}
        a.release("ml-1")
        assert held_connectors(store) == {"ml-2": "b"}
    finally:
        a.close()
        b.close()


def test_a_connector_another_worker_finished_since_this_run_began_is_not_run_again(store):
    """requirement: workers share the connectors, not each run all of them: a pull finished
    by another worker after this run began is done; a later run, or another command, runs."""
    early = RunLeases(store, "pull-orders", holder="early")
    other = RunLeases(store, "pull-orders", holder="other")
    try:
        assert other.claim_next(["ml-1"]) == "ml-1"
        other.release("ml-1")
        assert early.claim_next(["ml-1"]) is None
        late = RunLeases(store, "pull-orders", holder="late")
        push = RunLeases(store, "push-stock", holder="push")
        assert late.claim_next(["ml-1"]) == "ml-1"
        late.release("ml-1")
        assert push.claim_next(["ml-1"]) == "ml-1"
        late.close()
        push.close()
    finally:
        early.close()
        other.close()


def test_a_dead_workers_lease_expires_and_a_live_one_is_renewed(store):
    """requirement: leases of a worker that stopped renewing expire; the heartbeat keeps the
    leases of a live worker past their length."""
    dead, live, other = (
        RunLeases(store, "pull", seconds=1, holder=h) for h in ("dead", "live", "x")
    )
    try:
        assert dead.claim_next(["a"]) == "a"
        dead.close()  # stops its heartbeat, as a SIGKILL would
        assert live.claim_next(["b"]) == "b"
        assert other.claim_next(["a", "b"]) is None
        time.sleep(1.6)
        assert held_connectors(store) == {"b": "live"}
        assert other.claim_next(["a", "b"]) == "a"
        assert live.renew() == []
    finally:
        live.close()
        other.close()


def test_a_worker_notices_a_lease_it_lost(store, caplog):
    slow, thief = (
        RunLeases(store, "pull", seconds=1, holder="slow"),
        RunLeases(store, "pull", holder="thief"),
    )
    try:
        assert slow.claim_next(["a"]) == "a"
        slow.close()
        time.sleep(1.2)
        assert thief.claim_next(["a"]) == "a"
        assert slow.renew() == ["a"]
        assert slow.renew() == []  # reported once
    finally:
        thief.close()
    assert "a: lease lost" in caplog.text


ROW_HOLDER = """
import sys
from erpsync.store import open_store
from erpsync.store.leases import row_locked
with row_locked(open_store(sys.argv[1]), "token:ml", wait_seconds=1):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_row_lock_excludes_another_process_until_it_ends_or_dies(store, pg_url):
    """requirement: the token refresh lock holds across processes (and machines: it is a row
    lock on the shared database); a killed holder's lock goes with its connection."""
    process = subprocess.Popen(
        [sys.executable, "-c", ROW_HOLDER, pg_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(LockTimeout), row_locked(store, "token:ml", wait_seconds=0.2):
            pytest.fail("two processes refreshing at once")
        assert time.monotonic() - started < 2
        with row_locked(store, "token:other", wait_seconds=0):
            pass  # other keys are not held up
        process.kill()
        process.wait()
        with row_locked(store, "token:ml", wait_seconds=5):
            pass
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 60.0), ("", 60.0), ("2.5", 2.5), ("3600", 3600.0), ("0.5", None), ("soon", None)],
)
def test_lease_length_comes_from_the_environment(value, expected):
    environ = {} if value is None else {"ERPSYNC_LEASE_SECONDS": value}
    if expected is None:
        with pytest.raises(ConfigError, match=r"ERPSYNC_LEASE_SECONDS: .* is not a number"):
            lease_seconds(environ)
    else:
        assert lease_seconds(environ) == expected


LEASE_HOLDER = """
import sys
from erpsync.store import open_store
from erpsync.store.leases import RunLeases
leases = RunLeases(open_store(sys.argv[1]), "pull-orders", holder="doomed")
print(leases.claim_next(["ml-9"]), flush=True)
sys.stdin.readline()
"""


def test_a_killed_workers_lease_is_not_a_live_run_even_before_it_expires(store, pg_url):
    """requirement (issue 7, item 8, on PostgreSQL): a worker killed mid-run shows as dead at
    once (status: "died"), not "running" until its 60 s lease expires; its lease still keeps
    other workers off the connector until then, as a stalled worker may yet write."""
    process = subprocess.Popen(
        [sys.executable, "-c", LEASE_HOLDER, pg_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    other = RunLeases(store, "pull-orders", holder="other")
    try:
        assert process.stdout.readline().strip() == "ml-9"
        assert held_connectors(store) == {"ml-9": "doomed"}
        process.kill()
        process.wait()
        deadline = time.monotonic() + 10
        while held_connectors(store) and time.monotonic() < deadline:
            time.sleep(0.05)  # the server notices the closed socket at once; allow a beat
        assert held_connectors(store) == {}
        assert other.claim_next(["ml-9"]) is None  # the lease itself runs its course
    finally:
        process.kill()
        process.wait()
        other.close()
