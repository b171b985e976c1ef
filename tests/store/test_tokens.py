"""SqlTokenStore: tokens persist across stores; refresh_lock is single-flight across
threads and processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import pytest

from erpsync.errors import StoreError
from erpsync.http.auth import Tokens
from erpsync.store import open_store
from erpsync.store.tokens import SqlTokenStore

EXPIRES = datetime(2024, 5, 1, 18, 0, tzinfo=UTC)

HOLDER = """
import sys
from erpsync.store import open_store
from erpsync.store.tokens import SqlTokenStore
tokens = SqlTokenStore(open_store(sys.argv[1]))
with tokens.refresh_lock("ml"):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_saved_tokens_survive_a_new_store_instance(db_url):
    """requirement: a rotated refresh token is durable: the next process reads it back."""
    url = db_url
    first = open_store(url)
    SqlTokenStore(first).save("ml", Tokens("AT-1", "RT-1", EXPIRES), seed="seed-a")
    SqlTokenStore(first).save("ml", Tokens("AT-2", "RT-2", EXPIRES), seed="seed-a")
    first.close()
    second = open_store(url)
    store = SqlTokenStore(second)
    loaded = store.load("ml")
    assert store.load("amz") is None
    assert loaded == Tokens("AT-2", "RT-2", EXPIRES, seed="seed-a")
    assert loaded.expires_at.tzinfo is UTC
    assert store.forget("ml") is True and store.load("ml") is None
    second.close()


def test_tokens_without_refresh_token_or_seed_round_trip(store):
    tokens = SqlTokenStore(store)
    tokens.save("amz", Tokens("AT", None, None), seed=None)
    assert tokens.load("amz") == Tokens("AT", None, None, seed=None)


def test_the_account_the_tokens_belong_to_is_stored_with_them(db_url):
    """requirement (issue 11): the account a token response named persists beside the tokens
    (a later process reads it back), and a save without one clears it."""
    first = open_store(db_url)
    SqlTokenStore(first).save("ml", Tokens("AT-1", "RT-1", EXPIRES, account="241910555"), seed="s")
    first.close()
    second = open_store(db_url)
    store = SqlTokenStore(second)
    assert store.load("ml") == Tokens("AT-1", "RT-1", EXPIRES, seed="s", account="241910555")
    store.save("ml", Tokens("AT-2", "RT-2", EXPIRES), seed="s")
    assert store.load("ml").account is None
    second.close()


def test_refresh_lock_excludes_a_second_process(db_url, backend, tmp_path):
    """requirement: while another process refreshes, this one waits (here: gives up); an
    flock on SQLite, a row lock shared by every machine on PostgreSQL."""
    store = open_store(db_url)
    tokens = SqlTokenStore(store, lock_wait_seconds=0.05)
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "held"
        with pytest.raises(StoreError) as raised, tokens.refresh_lock("ml"):
            pytest.fail("two processes refreshing at once")
        assert str(raised.value) == (
            f"timed out waiting for the token refresh lock {tmp_path}/erpsync.db.tokens.lock"
            if backend == "sqlite"
            else "timed out waiting for the token refresh lock of ml in " + store.display_url
        )
        process.stdin.write("\n")
        process.stdin.flush()
        process.wait(timeout=10)
        with tokens.refresh_lock("ml"):
            pass
    finally:
        process.kill()
        process.wait()
        store.close()


def test_refresh_lock_serialises_threads(db_url):
    """requirement: two threads (even with separate SqlTokenStore objects) never overlap."""
    inside = 0
    overlaps = []

    def refresh(tokens: SqlTokenStore) -> None:
        nonlocal inside
        for _ in range(5):
            with tokens.refresh_lock("ml"):
                inside += 1
                overlaps.append(inside)
                time.sleep(0.001)
                inside -= 1

    store = open_store(db_url)
    threads = [threading.Thread(target=refresh, args=(SqlTokenStore(store),)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert overlaps == [1] * 20
