"""Benchmark: erpsync against a bare httpx + sqlite3 baseline, on a Mercado Livre emulator.

    python bench/pull_orders.py                 # 100k orders, 10k SKUs (several minutes)
    python bench/pull_orders.py --orders 10000 --skus 2000

Pull: the emulator (its own process, over loopback) serves N orders; `erpsync pull-orders` and
the baseline (bench/baseline.py: the same requests, rows written with plain sqlite3, no
validation, no stock ledger) each pull them into a fresh database. Printed per run: orders/s,
requests made, CPU seconds and peak RSS of the client process, and the CPU ratio erpsync/baseline.
Memory: the erpsync pull is repeated at N/10 orders, so flat memory shows as equal peak RSS.

Push: N SKUs listed on the emulator; after a first full push, 1% of the stock changes, and
`erpsync push-stock` runs again. Printed: requests made by that second push, against a baseline
that pushes every SKU (no record of what was pushed).
"""

from __future__ import annotations

import argparse
import json
import os
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


def measured(command: list[str], cwd: Path) -> tuple[float, float, int, str]:
    """Run a child; return (wall s, CPU s, peak RSS MiB, stderr) from its own rusage."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"},
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stderr = process.stderr.read() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[2:]} failed:\n{stderr}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, stderr


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


def bench_pull(orders: int) -> None:
    print(f"== pull-orders: {orders} orders over loopback")
    rows = []
    for label, count in (("erpsync", orders), ("baseline", orders), ("erpsync", orders // 10)):
        server = Server("--orders", str(count))
        try:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                before = server.requests()
                if label == "erpsync":
                    write_config(folder, server)
                    command = erpsync("pull-orders")
                else:
                    command = [
                        sys.executable,
                        str(ROOT / "bench" / "baseline.py"),
                        "pull",
                        server.url,
                        json.dumps(server.info),
                        str(folder / "base.db"),
                    ]
                wall, cpu, rss, _ = measured(command, folder)
                made = server.requests() - before
        finally:
            server.close()
        rows.append((label, count, wall, cpu, rss, made))
        print(
            f"{label:9s} {count:>7} orders  {count / wall:8.0f} orders/s  {made:>7} requests  "
            f"{cpu:7.2f} CPU s  {rss:5d} MiB peak RSS"
        )
    erp, base, small = rows
    print(f"CPU ratio erpsync/baseline: {erp[3] / base[3]:.2f}x (target <= 1.5x)")
    print(f"peak RSS {small[1]} vs {erp[1]} orders: {small[4]} vs {erp[4]} MiB (flat = similar)")


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
    args = parser.parse_args()
    bench_pull(args.orders)
    bench_push(args.skus)


if __name__ == "__main__":
    main()
