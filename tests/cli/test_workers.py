"""Several workers on one PostgreSQL database: each connector run by one worker at a time,
every worker making progress, the connectors of killed workers taken up again."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from itertools import pairwise

import pytest
from sqlalchemy import create_engine

from tests.backends import fresh_postgres
from tests.cli.test_subprocess import _env, erpsync, snapshot, write_config

pytestmark = pytest.mark.postgresql

CONNECTORS = tuple(f"shop-{n}" for n in range(1, 9))
LEASE = {"ERPSYNC_LEASE_SECONDS": "2"}


def prepare(folder, url, run, monkeypatch):
    """Products, stock and listings in place (in this process: cheaper than four starts)."""
    folder.mkdir()
    write_config(
        folder,
        120,
        0.25,
        database=url,
        connectors=CONNECTORS,
        page_size=30,
        listings=40,
        push_delay=0.25,
    )
    monkeypatch.chdir(folder)
    assert run("products", "import", "products.csv").exit_code == 0
    for sku in ("SKU-A", "SKU-B"):
        assert run("stock", "set", sku, "100000").exit_code == 0
    assert run("listings", "pull").exit_code == 0


def worker(folder):
    return subprocess.Popen(
        [sys.executable, "-m", "erpsync", "sync", "--parallel", "1"],
        cwd=folder,
        env=_env(LEASE),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def runs(url):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql(
                "SELECT connector, command, started_at, finished_at, outcome FROM sync_runs"
            ).all()
    finally:
        engine.dispose()


def test_four_workers_eight_connectors_two_killed_end_with_one_clean_runs_data(
    tmp_path, run, monkeypatch
):
    """requirement: 4 workers share 8 connectors on one database; two are SIGKILLed midway;
    the survivors and a re-run finish the work; the data equals one clean run's, and no
    connector was ever run by two workers at once."""
    clean, shared = tmp_path / "clean", tmp_path / "shared"
    with fresh_postgres() as clean_url, fresh_postgres() as shared_url:
        prepare(clean, clean_url, run, monkeypatch)
        monkeypatch.chdir(clean)
        assert run("sync").exit_code == 0
        prepare(shared, shared_url, run, monkeypatch)

        workers = [worker(shared) for _ in range(4)]
        time.sleep(2.5)  # every worker has started and taken connectors
        for victim in workers[:2]:
            assert victim.poll() is None, "the workers finished before the kill"
            victim.send_signal(signal.SIGKILL)
        survivors = [w.communicate(timeout=120) for w in workers[2:]]
        for w in workers:
            w.wait()
        assert [w.returncode for w in workers] == [-9, -9, 0, 0], survivors
        for _out, err in survivors:
            assert "fetched" in err, err  # each survivor ran connectors of its own

        time.sleep(2.2)  # the killed workers' leases expire
        monkeypatch.chdir(shared)
        status = run("status", "--json")
        outcomes = [r["outcome"] for r in status.json()["runs"]]
        assert "running" not in outcomes, outcomes  # expired leases: killed runs show died
        rerun = erpsync("sync", cwd=shared, env=LEASE)
        assert rerun.returncode == 0 and "skipped" not in rerun.stderr, rerun.stderr

        expected = snapshot(clean_url)
        assert len(expected["orders"]) == 8 * 120 and len(expected["pushed"]) == 8 * 40
        assert snapshot(shared_url) == expected
        finished = [r for r in runs(shared_url) if r.finished_at is not None]
        for connector in CONNECTORS:
            for command in ("pull-orders", "push-stock"):
                spans = sorted(
                    (r.started_at, r.finished_at)
                    for r in finished
                    if (r.connector, r.command) == (connector, command)
                )
                assert spans, (connector, command)
                for (_, end), (start, _) in pairwise(spans):
                    assert start >= end, f"{connector} {command} ran twice at once"
