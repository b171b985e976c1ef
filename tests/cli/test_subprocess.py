"""erpsync as a real process: entry points, lazy imports, SIGKILL mid-pull, two runs at once."""

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.backends import database_url

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


def write_config(
    folder,
    generate,
    page_delay=0.0,
    *,
    database="sqlite:///store.db",
    connectors=("shop",),
    page_size=50,
    listings=0,
    push_delay=0.0,
    announce_total=False,
):
    lines = [f"database: '{database}'", "connectors:"]
    for name in connectors:
        lines += [
            f"  {name}:",
            "    type: tests.engine.fakes:FakeConnector",
            "    initial_lookback_days: 36500",
            "    options:",
            f"      generate: {generate}",
            f"      page_size: {page_size}",
            f"      page_delay: {page_delay}",
            f"      listings: {listings}",
            "      push_batch: 20",
            f"      push_delay: {push_delay}",
            f"      announce_total: {str(announce_total).lower()}",
        ]
    (folder / "erpsync.yaml").write_text("\n".join(lines) + "\n")
    (folder / "products.csv").write_text("sku,name,gtin,components\nSKU-A,A,,\nSKU-B,B,,\n")


def start_slow_pull(folder: Path) -> subprocess.Popen[str]:
    """A pull-orders process that is known to hold the run lock and to run for a long while
    (60 pages, 0.5 s each): tests signal or race it without relying on a fixed sleep, which a
    loaded machine outlasts.

    SIGINT is reset to its default in the child: a test run started in the background (`&` in
    a script, as CI runners and landing scripts do) inherits SIGINT ignored, and Python then
    never raises KeyboardInterrupt, so Ctrl-C could not be tested."""
    write_config(folder, generate=3000, page_delay=0.5)
    process = subprocess.Popen(
        [sys.executable, "-m", "erpsync", "pull-orders"],
        cwd=folder,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 60
    while not _run_recorded(folder):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "pull-orders did not start within 60 s"
        time.sleep(0.2)
    return process


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run_recorded(folder: Path) -> bool:
    if not (folder / "store.db").exists():
        return False
    result = erpsync("status", "--json", cwd=folder)
    return result.returncode == 0 and bool(json.loads(result.stdout)["runs"])


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


#: runs the CLI as `python -m erpsync` would, then writes the top-level names of the modules
#: it imported (those loaded for real: a ``None`` entry only blocks an import) to argv[1]
IMPORTS_PROBE = """\
import json, runpy, sys
out, sys.argv = sys.argv[1], ["erpsync", *sys.argv[2:]]
try:
    runpy.run_module("erpsync", run_name="__main__")
except SystemExit as exc:
    assert not exc.code, exc.code
finally:
    with open(out, "w") as f:
        json.dump(sorted({m for m, v in sys.modules.items() if v is not None}), f)
"""


def imported_by(*args, cwd):
    """The modules a CLI run imported (it must succeed)."""
    out = cwd / "imported.json"
    result = subprocess.run(
        [sys.executable, "-c", IMPORTS_PROBE, str(out), *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(out.read_text()))


def _packages(modules):
    return {m.split(".")[0] for m in modules}


def _write_ml_sandbox_config(directory: Path) -> None:
    """A config of one Mercado Livre connector against its sandbox."""
    (directory / "erpsync.yaml").write_text(
        "database: sqlite:///store.db\n"
        "connectors:\n"
        "  ml:\n"
        "    type: mercadolivre\n"
        "    sandbox: true\n"
        "    credentials:\n"
        "      client_id: sandbox-app\n"
        "      client_secret: sandbox-secret\n"
        "      refresh_token: TG-sandbox-refresh\n"
    )


def test_a_pull_imports_neither_alembic_nor_httpx_command_line(tmp_path):
    """requirement: a pull loads httpx but not httpx's own CLI (click, pygments, rich.syntax:
    3 MiB and 40-70 ms per process): erpsync.http keeps httpx._main out. And no Alembic
    (12-15 MiB, 0.7 s): a fresh database is made from the models, one at the head needs
    nothing."""
    _write_ml_sandbox_config(tmp_path)
    for database in ("fresh", "at the head"):
        modules = imported_by("pull-orders", cwd=tmp_path)
        assert {"httpx", "erpsync.http.session", "sqlalchemy"} <= modules, database
        assert not {"httpx._main", "rich.syntax"} & modules, database
        assert not {"click", "pygments", "alembic", "mako"} & _packages(modules), database


def test_a_pull_outside_a_terminal_imports_neither_rich_nor_other_connectors(tmp_path):
    """requirement (issue 11 section 2, peak RSS): a cron or CI pull (output not a terminal)
    writes plain lines without loading Rich (46 modules, about 2 MiB of the peak); a pull
    imports the connector its config names and no other, and no emulator (starlette,
    uvicorn, erpsync.emulation) when no connector is a sandbox."""
    write_config(tmp_path, generate=120)
    modules = imported_by("pull-orders", cwd=tmp_path)
    assert "erpsync.engine.pull" in modules and "tests.engine.fakes" in modules
    assert not {"rich", "starlette", "uvicorn"} & _packages(modules)
    assert not {m for m in modules if m.startswith(("erpsync.connectors.", "erpsync.emulation"))}
    _write_ml_sandbox_config(tmp_path)
    modules = imported_by("pull-orders", cwd=tmp_path)
    connectors = {m.split(".")[2] for m in modules if m.startswith("erpsync.connectors.")}
    assert connectors == {"mercadolivre"}
    assert "rich" not in _packages(modules)


def test_a_pull_whose_requests_all_succeed_at_once_imports_no_tenacity(tmp_path):
    """requirement (issue 11 section 2, peak RSS): tenacity (11 modules, 0.4 MiB of the peak)
    is loaded only when a request needs a retry; a pull whose requests all succeed at once,
    the seller's token refresh included, never needs it."""
    _write_ml_sandbox_config(tmp_path)  # its emulator injects no fault unless told to
    modules = imported_by("pull-orders", cwd=tmp_path)
    assert {"erpsync.http.retry", "erpsync.connectors.mercadolivre"} <= modules
    assert "tenacity" not in _packages(modules)


def test_help_and_errors_read_the_same_without_rich(tmp_path):
    """requirement: with Rich left unloaded outside a terminal, --help still lists the commands
    and a user error is still one line on stderr with its exit code."""
    result = erpsync("--help", cwd=tmp_path)
    assert result.returncode == 0 and "pull-orders" in result.stdout
    sub = erpsync("orders", "--help", cwd=tmp_path)
    assert sub.returncode == 0 and "list" in sub.stdout
    missing = erpsync("-c", "nowhere.yaml", "pull-orders", cwd=tmp_path)
    assert missing.returncode != 0
    assert len(missing.stderr.splitlines()) == 1 and missing.stderr.startswith("erpsync: error:")


def snapshot(url):
    """What a run leaves behind, without its timestamps: orders, lines, ledger, cursors, and
    each listing's last pushed quantity and outcome."""
    engine = create_engine(url)
    queries = {
        "orders": "SELECT connector, external_id, status, stock_effect, updated_at FROM orders",
        "items": "SELECT count(*) FROM order_items",
        "ledger": "SELECT sku, bucket, sum(quantity), count(*) FROM stock_movements "
        "GROUP BY sku, bucket",
        "cursors": "SELECT connector, resource FROM sync_cursors",  # value: the run's time
        "pushed": "SELECT l.connector, l.item_id, p.quantity, p.pending, p.last_error "
        "FROM listings l LEFT JOIN pushed_stock p ON p.listing_id = l.id",
    }
    try:
        with engine.connect() as connection:
            return {
                name: sorted(tuple(row) for row in connection.exec_driver_sql(sql))
                for name, sql in queries.items()
            }
    finally:
        engine.dispose()


#: PostgreSQL: a killed run's connector lease must expire before the next run may take it
LEASE = {"ERPSYNC_LEASE_SECONDS": "1"}


def kill_runs(command, folder, rng, rounds, earliest, latest, env=None):
    """Start ``command`` ``rounds`` times, SIGKILL each at a random moment; how many died."""
    kills = 0
    for _ in range(rounds):
        if env:
            time.sleep(1.2)  # the last killed run's lease expires
        process = subprocess.Popen(
            [sys.executable, "-m", "erpsync", command],
            cwd=folder,
            env=_env(env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(earliest, latest))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    return kills


def test_sigkill_at_random_points_loses_and_duplicates_nothing(backend, tmp_path, run, monkeypatch):
    """requirement: kill the process mid-pull and mid-push, re-run: same final DB as one clean
    run, on SQLite and on PostgreSQL."""
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    with ExitStack() as stack:
        urls = {}
        for folder in (clean, crashed):
            folder.mkdir()
            url = stack.enter_context(database_url(backend, folder))
            urls[folder] = url
            config_url = "sqlite:///store.db" if backend == "sqlite" else url
            write_config(folder, 1500, 0.01, database=config_url, listings=400, push_delay=0.05)
            # the setup and the clean run in this process: only the killed runs need their own
            monkeypatch.chdir(folder)
            assert run("products", "import", "products.csv").exit_code == 0
            for sku in ("SKU-A", "SKU-B"):
                assert run("stock", "set", sku, "100000").exit_code == 0
            assert run("listings", "pull").exit_code == 0
        if backend == "sqlite":
            urls = {folder: f"sqlite:///{folder}/store.db" for folder in urls}
        monkeypatch.chdir(clean)
        assert run("pull-orders").exit_code == 0
        assert run("push-stock").exit_code == 0

        rng = random.Random(20261127)
        env = LEASE if backend == "postgresql" else None
        pull_kills = kill_runs("pull-orders", crashed, rng, 4, 0.4, 2.0, env)
        time.sleep(1.2 if env else 0)
        status = erpsync("status", "--json", cwd=crashed)
        outcomes = [r["outcome"] for r in json.loads(status.stdout)["runs"]]
        # a run killed after it recorded itself shows as died (a kill during start-up records
        # nothing, so "died" itself depends on the machine's speed)
        assert "running" not in outcomes, outcomes
        final = erpsync("pull-orders", cwd=crashed, env=env)
        assert final.returncode == 0 and "skipped" not in final.stderr, final.stderr
        push_kills = kill_runs("push-stock", crashed, rng, 3, 0.5, 1.8, env)
        time.sleep(1.2 if env else 0)
        final = erpsync("push-stock", cwd=crashed, env=env)
        assert final.returncode == 0 and "skipped" not in final.stderr, final.stderr

        assert pull_kills >= 2, "the pull finished too fast to be killed mid-way"
        assert push_kills >= 2, "the push finished too fast to be killed mid-way"
        expected = snapshot(urls[clean])
        assert len(expected["orders"]) == 1500 and len(expected["pushed"]) == 400
        assert all(row[2] is not None for row in expected["pushed"])
        assert snapshot(urls[crashed]) == expected


def test_a_second_run_waits_then_exits_with_a_distinct_code(tmp_path):
    """requirement: two runs at once on SQLite: the second waits briefly, then a clear message,
    exit 75 (on PostgreSQL runs share the database: tests/cli/test_workers.py)."""
    first = start_slow_pull(tmp_path)
    try:
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


HEAP_PROBE = """\
import gc
from erpsync.engine import heap
heap.start()
assert gc.get_freeze_count() == 0, "froze a heap that is not erpsync's"
heap.enable()
heap.start()
frozen = gc.get_freeze_count()
assert frozen > 0
heap.start()
assert gc.get_freeze_count() == frozen, "froze twice"
print("ok")
"""


def test_a_cli_process_freezes_its_start_up_heap_once():
    """requirement: a long pull's collections stay cheap: in erpsync's own process the
    start-up heap is frozen once, when the first pull starts, so the collector scans only
    what the pull made; a process that only imports erpsync (a library caller, a test run)
    keeps its collector as it was. (A page's responses are freed by reference counting:
    tests/http/test_http_session.py.)"""
    probe = subprocess.run(
        [sys.executable, "-c", HEAP_PROBE], capture_output=True, text=True, env=_env()
    )
    assert probe.stdout.strip() == "ok", probe.stderr
