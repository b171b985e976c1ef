"""erpsync as a real process: entry points, lazy imports, SIGKILL mid-pull, two runs at once."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def erpsync(*args, cwd, env=None, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "erpsync", *args],
        cwd=cwd,
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def _env(extra=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    env.pop("ERPSYNC_CONFIG", None)
    env.pop("ERPSYNC_DB", None)
    return {**env, **(extra or {})}


def write_config(folder, generate, page_delay=0.0):
    (folder / "erpsync.yaml").write_text(
        textwrap.dedent(
            f"""\
            database: sqlite:///store.db
            connectors:
              shop:
                type: tests.engine.fakes:FakeConnector
                initial_lookback_days: 36500
                options:
                  generate: {generate}
                  page_size: 50
                  page_delay: {page_delay}
            """
        )
    )
    (folder / "products.csv").write_text("sku,name,gtin,components\nSKU-A,A,,\nSKU-B,B,,\n")


def test_help_runs_as_a_module_without_importing_heavy_modules(tmp_path):
    """requirement: `erpsync --help` stays fast: the store, HTTP and connectors load lazily."""
    result = erpsync("--help", cwd=tmp_path)
    assert result.returncode == 0 and "pull-orders" in result.stdout
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, erpsync.cli; print(sorted({m.split('.')[0] for m in sys.modules} & {"
            "'sqlalchemy', 'sqlmodel', 'httpx', 'alembic', 'starlette', 'uvicorn', 'connectors'}))",
        ],
        capture_output=True,
        text=True,
        env=_env(),
        check=True,
    )
    assert probe.stdout.strip() == "[]"


def snapshot(db):
    with sqlite3.connect(db) as conn:
        orders = conn.execute(
            "SELECT external_id, status, stock_effect, updated_at FROM orders ORDER BY external_id"
        ).fetchall()
        items = conn.execute("SELECT count(*) FROM order_items").fetchone()
        ledger = conn.execute(
            "SELECT sku, bucket, sum(quantity), count(*) FROM stock_movements "
            "GROUP BY sku, bucket ORDER BY sku, bucket"
        ).fetchall()
        cursor = conn.execute("SELECT count(*) FROM sync_cursors").fetchone()
    return orders, items, ledger, cursor


def test_sigkill_at_random_points_loses_and_duplicates_nothing(tmp_path):
    """requirement: kill the process mid-pull, re-run: same final DB as one clean run."""
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    for folder in (clean, crashed):
        folder.mkdir()
        write_config(folder, generate=1500, page_delay=0.01)
        assert erpsync("products", "import", "products.csv", cwd=folder).returncode == 0
        assert erpsync("stock", "set", "SKU-A", "100000", cwd=folder).returncode == 0
    assert erpsync("pull-orders", cwd=clean).returncode == 0

    rng = random.Random(20261127)
    kills = 0
    for _ in range(6):
        process = subprocess.Popen(
            [sys.executable, "-m", "erpsync", "pull-orders"],
            cwd=crashed,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.4, 2.0))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    final = erpsync("pull-orders", cwd=crashed)
    assert final.returncode == 0, final.stderr
    assert kills >= 3, "the pull finished too fast to be killed mid-way"
    assert snapshot(crashed / "store.db") == snapshot(clean / "store.db")


def test_a_second_run_waits_then_exits_with_a_distinct_code(tmp_path):
    """requirement: two runs at once: the second waits briefly, then a clear message, exit 75."""
    write_config(tmp_path, generate=3000, page_delay=0.05)
    first = subprocess.Popen(
        [sys.executable, "-m", "erpsync", "pull-orders"],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)
        assert first.poll() is None
        second = erpsync("pull-orders", cwd=tmp_path, env={"ERPSYNC_LOCK_WAIT": "0.5"})
        assert second.returncode == 75
        assert "another erpsync run" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        first.kill()
        first.wait()


@pytest.mark.parametrize("entry", [["erpsync"], [sys.executable, "-m", "erpsync"]])
def test_entry_points(entry, tmp_path):
    script = Path(sys.executable).parent / "erpsync"
    command = [str(script)] if entry == ["erpsync"] else entry
    result = subprocess.run([*command, "--help"], capture_output=True, text=True, env=_env())
    assert result.returncode == 0


def test_stock_commands_refuse_kits_duplicates_and_misspelt_locations(tmp_path):
    """requirement (issue 7, items 3-4): as a real process, each refusal is one line and exit 2,
    and nothing is written."""
    write_config(tmp_path, generate=0)
    (tmp_path / "products.csv").write_text("sku,name,gtin,components\nSKU-A,A,,\nKIT,K,,SKU-A*2\n")
    assert erpsync("products", "import", "products.csv", cwd=tmp_path).returncode == 0
    (tmp_path / "stock.csv").write_text("sku;quantity;location\nSKU-A;4;main\nSKU-A;5;main\n")
    refusals = {
        ("stock", "set", "KIT", "3"): "KIT is a kit: its stock is its components' (set those "
        "instead)",
        ("stock", "set", "SKU-A", "3", "-l", "mian"): "--location: unknown location 'mian' "
        "(known: main; --new-location adds one)",
        ("stock", "import", "stock.csv"): "stock.csv: line 3: duplicate sku 'SKU-A' at main "
        "(first on line 2)",
    }
    for args, message in refusals.items():
        result = erpsync(*args, cwd=tmp_path)
        assert (result.returncode, result.stderr) == (2, f"erpsync: error: {message}\n"), args
    with sqlite3.connect(tmp_path / "store.db") as conn:
        assert conn.execute("SELECT count(*) FROM stock_movements").fetchone() == (0,)
