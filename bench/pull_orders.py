"""Benchmark: erpsync against a bare httpx + sqlite3 baseline, on a Mercado Livre emulator.

    python bench/pull_orders.py                 # 100k orders, 10k SKUs (several minutes)
    python bench/pull_orders.py --orders 10000 --skus 2000
    python bench/pull_orders.py --orders 20000 --trials 3 --skip-push   # min / median / max
    python bench/pull_orders.py --orders 10000 --profile                 # where the CPU goes
    python bench/pull_orders.py --orders 5000 --trials 3 --skip-push --against /tmp/old
                                        # also an older checkout's erpsync, interleaved
    python bench/pull_orders.py --orders 5000 --skip-push --migrated    # schema made first
    python bench/pull_orders.py --orders 2000 --trials 3 --skip-push --stocked --against /tmp/old
                                        # the SKUs catalogued: the ledger moves; then a re-pull

Pull: the emulator (its own process, over loopback) serves N orders; `erpsync pull-orders` and
the baseline (bench/baseline.py: the same requests, rows written with plain sqlite3, no
validation, no stock ledger) each pull them into a fresh database. Printed per run: orders/s,
requests made, CPU seconds and peak RSS of the client process, and the CPU ratio erpsync/baseline.
Memory: the erpsync pull is repeated at N/10 orders, so flat memory shows as equal peak RSS.
--trials K repeats each run K times (this machine is shared: figures are min / median / max).
Children run with bytecode caching on (as a pip-installed erpsync; PYTHONDONTWRITEBYTECODE
would charge every run for compiling erpsync's own modules). --profile runs one erpsync pull
under cProfile and prints where its CPU goes, by package and by function.
--stocked: the orders' SKUs are erpsync products with stock before the pull (imported, not
measured), so every order moves the stock ledger (reserve, sale); then every tenth order is
cancelled, every tenth edited (a line one unit more), some awaiting payment paid, and a second
pull ("re-pull") is measured too: releases, returns, conversions and edits of the ledger.
Without it no SKU is known, every line is parked and the ledger is never written.

Push: N SKUs listed on the emulator; after a first full push, 1% of the stock changes, and
`erpsync push-stock` runs again. Printed: requests made by that second push, against a baseline
that pushes every SKU (no record of what was pushed).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
EMULATOR = "erpsync.connectors.mercadolivre.emulator:MercadoLivreEmulator"


class Server:
    """bench/serve.py in a child process."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "serve.py"), EMULATOR, *args],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self.process.stdout is not None
        self.info: dict[str, Any] = json.loads(self.process.stdout.readline())
        self.url: str = self.info["url"]

    def requests(self) -> int:
        return sum(httpx.get(f"{self.url}/__bench/requests").json().values())

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


#: another checkout whose erpsync runs as "before" (--against), interleaved with this one
AGAINST: Path | None = None
#: --migrated: erpsync's database is migrated before the measured pull (Alembic's one-off
#: first run left out)
MIGRATED = False
#: --stocked: the orders' SKUs catalogued with stock (the ledger moves), and a re-pull
STOCKED = False
#: --stocked: one order in this many cancelled, one edited, before the re-pull
CHANGE_EVERY = 10


def child_env(source: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # the checkout's src first on the path: it shadows whichever erpsync the venv installed
    # (editable, perhaps from another worktree), so the bench measures this checkout's code
    path = f"{(source or ROOT) / 'src'}{os.pathsep}{ROOT}"
    return {**env, "PYTHONPATH": path, "NO_COLOR": "1"}


def measured(
    command: list[str], cwd: Path, source: Path | None = None
) -> tuple[float, float, int, str]:
    """Run a child; return (wall s, CPU s, peak RSS MiB, stderr) from its own rusage."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(source),
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stderr = process.stderr.read() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[2:]} failed:\n{stderr}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, stderr


#: connectors.ml.max_concurrency for the erpsync runs (None: the connector's default)
CONCURRENCY: int | None = None


def write_config(folder: Path, server: Server) -> None:
    creds = server.info["credentials"]
    options = server.info["options"]
    (folder / "erpsync.yaml").write_text(
        textwrap.dedent(
            f"""\
            database: sqlite:///{folder}/erpsync.db
            connectors:
              ml:
                type: mercadolivre
                base_url: {server.url}
                auth_url: {server.url}/oauth/token
                initial_lookback_days: 30
                {f"max_concurrency: {CONCURRENCY}" if CONCURRENCY else ""}
                credentials:
                  client_id: "{creds["client_id"]}"
                  client_secret: "{creds["client_secret"]}"
                  refresh_token: "{creds["refresh_token"]}"
                options:
                  seller_id: {options["seller_id"]}
                  requests_per_second: 100000    # the emulator enforces no limit: measure CPU
            """
        )
    )


def erpsync(*args: str) -> list[str]:
    return [sys.executable, "-m", "erpsync", *args]


Figures = tuple[float, float, int, int]


def stock_catalogue(folder: Path, server: Server, source: Path | None) -> None:
    """--stocked: the emulator's SKUs as products with 1000 units each (not measured)."""
    skus: list[str] = server.info["skus"]
    products = folder / "products.csv"
    stock = folder / "stock.csv"
    products.write_text("sku,name,gtin,components\n" + "".join(f"{s},{s},,\n" for s in skus))
    stock.write_text("sku,quantity\n" + "".join(f"{s},1000\n" for s in skus))
    for command in (
        erpsync("products", "import", str(products)),
        erpsync("stock", "import", str(stock)),
    ):
        subprocess.run(command, cwd=folder, check=True, env=child_env(source), capture_output=True)


def pull_once(label: str, count: int) -> list[Figures]:
    """One pull of ``count`` orders from a fresh emulator: [(wall s, CPU s, peak RSS MiB,
    requests)]; with --stocked (not for the baseline), a second entry: the re-pull after
    the emulator changed some orders."""
    server = Server("--orders", str(count))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            before = server.requests()
            source = AGAINST if label == "before" else None
            if label in ("erpsync", "before"):
                write_config(folder, server)
                command = erpsync("pull-orders")
                if STOCKED:  # migrates the database too
                    stock_catalogue(folder, server, source)
                elif MIGRATED:  # the schema made beforehand, as for every run after the first
                    url = f"sqlite:///{folder}/erpsync.db"
                    migrate = f"from erpsync.store import open_store; open_store({url!r}).close()"
                    subprocess.run(
                        [sys.executable, "-c", migrate], check=True, env=child_env(source)
                    )
            else:
                command = [
                    sys.executable,
                    str(ROOT / "bench" / "baseline.py"),
                    "pull",
                    server.url,
                    json.dumps(server.info),
                    str(folder / "base.db"),
                ]
            wall, cpu, rss, _ = measured(command, folder, source)
            found = [(wall, cpu, rss, server.requests() - before)]
            if STOCKED and label != "baseline":
                httpx.post(f"{server.url}/__bench/change", params={"every": CHANGE_EVERY})
                before = server.requests()
                wall, cpu, rss, _ = measured(command, folder, source)
                found.append((wall, cpu, rss, server.requests() - before))
            return found
    finally:
        server.close()


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """min / median / max (a single value alone)."""
    if len(values) == 1:
        return fmt.format(values[0])
    parts = (min(values), statistics.median(values), max(values))
    return " / ".join(fmt.format(v) for v in parts)


def bench_pull(orders: int, trials: int) -> None:
    print(f"== pull-orders: {orders} orders over loopback ({trials} trial(s) each, interleaved)")
    runs: tuple[tuple[str, int], ...] = (
        ("erpsync", orders),
        ("baseline", orders),
        ("erpsync", orders // 10),
    )
    if AGAINST is not None:
        runs += (("before", orders),)
    found: dict[tuple[str, int], list[Figures]] = {r: [] for r in runs}
    again: dict[tuple[str, int], list[Figures]] = {r: [] for r in runs}
    for _ in range(trials):  # interleaved, so a busy spell on the machine hits every run
        for label, count in runs:
            first, *rest = pull_once(label, count)
            found[(label, count)].append(first)
            again[(label, count)] += rest
    for label, count in runs:
        _print_runs(label, count, found[(label, count)])
    if STOCKED:
        print(f"re-pull: 1 order in {CHANGE_EVERY} cancelled, 1 edited, some paid")
        for label, count in runs:
            if again[(label, count)]:
                _print_runs(f"{label} re", count, again[(label, count)])
    if AGAINST is not None:
        for name, table in (("pull", found), ("re-pull", again)):
            mine, old = table[("erpsync", orders)], table[("before", orders)]
            if mine and old:
                ratios = [m[1] / b[1] for m, b in zip(mine, old, strict=True)]
                print(f"CPU ratio {name} erpsync/before: {spread(ratios)}x")
    erp, base, small = (found[r] for r in runs[:3])
    ratios = [e[1] / b[1] for e, b in zip(erp, base, strict=True)]
    print(f"CPU ratio erpsync/baseline: {spread(ratios)}x (target <= 1.3x)")
    if AGAINST is not None:
        old = found[("before", orders)]
        ratios = [e[1] / b[1] for e, b in zip(old, base, strict=True)]
        print(f"CPU ratio before ({AGAINST})/baseline: {spread(ratios)}x")
    rss = statistics.median(r[2] for r in erp) / statistics.median(r[2] for r in base)
    print(f"peak RSS ratio erpsync/baseline: {rss:.2f}x (target <= 2x)")
    print(
        f"peak RSS {orders // 10} vs {orders} orders: "
        f"{statistics.median(r[2] for r in small):.0f} vs "
        f"{statistics.median(r[2] for r in erp):.0f} MiB (flat = similar)"
    )


def _print_runs(label: str, count: int, rows: list[Figures]) -> None:
    print(
        f"{label:11s} {count:>7} orders  "
        f"{spread([count / r[0] for r in rows], '{:.0f}')} orders/s  {rows[0][3]:>7} requests  "
        f"{spread([r[1] for r in rows])} CPU s  {spread([r[2] for r in rows], '{:.0f}')} MiB "
        "peak RSS"
    )


PROFILER = """\
import cProfile, runpy, sys, time
sys.argv = ["erpsync", *sys.argv[1:]]
profile = cProfile.Profile(time.process_time)
try:
    profile.runcall(runpy.run_module, "erpsync", run_name="__main__")
except SystemExit as exc:
    if exc.code:
        raise
finally:
    profile.dump_stats({out!r})
"""


def profile_pull(orders: int, top: int = 25) -> None:
    """One erpsync pull under cProfile: CPU by package, then the costliest functions."""
    print(f"== profile: erpsync pull-orders, {orders} orders")
    server = Server("--orders", str(orders))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_config(folder, server)
            out = folder / "pull.prof"
            # timed by the process's CPU clock, not the wall: on a shared machine the wall
            # charges a function for the time the process waited for a core
            command = [sys.executable, "-c", PROFILER.format(out=str(out)), "pull-orders"]
            measured(command, folder)
            stats = pstats.Stats(str(out))
    finally:
        server.close()
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values())
    by_package: dict[str, float] = {}
    for (filename, _, _), entry in raw.items():
        by_package[_package(filename)] = by_package.get(_package(filename), 0.0) + entry[2]
    print(f"own CPU time by package (main thread; {total:.1f} s profiled):")
    for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {100 * seconds / total:5.1f}%  {seconds:6.2f} s  {package}")
    print(f"top {top} functions by own time:")
    stats.sort_stats("tottime").print_stats(top)
    print(f"top {top} functions by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)


def _package(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    for marker in ("site-packages/", "/src/", "/connectors/"):
        if marker in filename:
            rest = filename.split(marker, 1)[1]
            head = rest.split("/")[0]
            if head == "erpsync" or marker == "/connectors/":
                parts = rest.split("/")
                return "erpsync." + ".".join(p.removesuffix(".py") for p in parts[1:3] if p)
            return head.removesuffix(".py")
    return "stdlib: " + Path(filename).stem


def bench_push(skus: int) -> None:
    print(f"== push-stock: {skus} SKUs, 1% changed after a first push")
    server = Server("--orders", "0", "--items", str(skus))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_config(folder, server)
            listed = measured(erpsync("listings", "pull"), folder)
            skus_file = folder / "products.csv"
            stock_file = folder / "stock.csv"
            codes = [f"BULK-{5000 + n}" for n in range(skus)]
            skus_file.write_text(
                "sku,name,gtin,components\n" + "".join(f"{c},{c},,\n" for c in codes)
            )
            stock_file.write_text(
                "sku,quantity\n" + "".join(f"{c},{n % 50}\n" for n, c in enumerate(codes))
            )
            measured(erpsync("products", "import", str(skus_file)), folder)
            measured(erpsync("stock", "import", str(stock_file)), folder)
            measured(erpsync("push-stock"), folder)
            changed = codes[::100]
            stock_file.write_text("sku,quantity\n" + "".join(f"{c},999\n" for c in changed))
            measured(erpsync("stock", "import", str(stock_file)), folder)
            before = server.requests()
            wall, cpu, rss, _ = measured(erpsync("push-stock"), folder)
            made = server.requests() - before
            print(
                f"erpsync   {len(changed)} changed of {skus}: {made} requests, {wall:.1f} s, "
                f"{cpu:.2f} CPU s, {rss} MiB (listings pull took {listed[0]:.1f} s)"
            )
            before = server.requests()
            _, cpu, rss, _ = measured(
                [
                    sys.executable,
                    str(ROOT / "bench" / "baseline.py"),
                    "push",
                    server.url,
                    json.dumps(server.info),
                    str(folder / "erpsync.db"),
                ],
                folder,
            )
            made = server.requests() - before
            print(f"baseline  pushes every SKU: {made} requests, {cpu:.2f} CPU s, {rss} MiB")
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--trials", type=int, default=1, help="runs of each pull (spread)")
    parser.add_argument("--skip-push", action="store_true", help="pull only")
    parser.add_argument("--profile", action="store_true", help="profile one erpsync pull")
    parser.add_argument("--concurrency", type=int, default=None, help="erpsync's cap in flight")
    parser.add_argument(
        "--against", type=Path, default=None, help="an older checkout, run as 'before' too"
    )
    parser.add_argument(
        "--migrated", action="store_true", help="erpsync's database migrated before the pull"
    )
    parser.add_argument(
        "--stocked",
        action="store_true",
        help="the SKUs catalogued with stock (the ledger moves); then changes and a re-pull",
    )
    parser.add_argument(
        "--change-every", type=int, default=10, help="--stocked: 1 in N orders cancelled, 1 edited"
    )
    args = parser.parse_args()
    global CONCURRENCY, AGAINST, MIGRATED, STOCKED, CHANGE_EVERY
    CONCURRENCY = args.concurrency
    MIGRATED = args.migrated
    STOCKED = args.stocked
    CHANGE_EVERY = max(2, args.change_every)
    AGAINST = args.against.resolve() if args.against else None
    if AGAINST is not None:
        compileall.compile_dir(AGAINST / "src", quiet=1)
        compileall.compile_dir(AGAINST / "connectors", quiet=1)
    # bytecode cached once, as an installed erpsync has it (see the module docstring)
    compileall.compile_dir(ROOT / "src", quiet=1)
    compileall.compile_dir(ROOT / "connectors", quiet=1)
    if args.profile:
        profile_pull(args.orders)
        return
    bench_pull(args.orders, max(1, args.trials))
    if not args.skip_push:
        bench_push(args.skus)


if __name__ == "__main__":
    main()
