"""Benchmark: the CPU erpsync spends storing a pull's pages, per order, without the HTTP.

    python bench/store_pages.py --platform magalu --orders 2000 --trials 5
    python bench/store_pages.py --platform mercadolivre --orders 2000 --trials 5 --against /tmp/old

A pull's pages are fetched once from the platform's emulator (in-process, not measured) and
kept in memory; then each trial stores them all in a fresh SQLite file, page by page as the
engine does (`erpsync.engine.pull._apply_page` in one session per page: the mapping, the
page's look-ups, the upsert, the ledger, the commit). Printed: the CPU (process time) of the
mapping alone and of storing, per order, min / median; storing also for the first and last
tenth of the pages (flat = the store's growth costs nothing per order). --against runs an
older checkout's erpsync the same way, each trial in fresh processes, interleaved with this
one's, so a busy spell on the shared machine hits both.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: orders per slice of the window fetched: no listing passes a platform's offset cap
SLICE = 2000


def fetch(platform: str, count: int) -> tuple[Any, list[Any]]:
    """The connector (as an order source) and its pages of ``count`` new orders."""
    from erpsync.connector import OrderSource, SeenOrders, Window
    from erpsync.http.pagination import PaginationCapReached
    from erpsync.testing import START, FakeTime, build_harness

    if platform == "magalu":
        from erpsync.connectors.magalu.connector import MagaluConnector as connector_class
        from erpsync.connectors.magalu.emulator import MagaluEmulator as emulator_class
    else:
        from erpsync.connectors.mercadolivre.connector import (
            MercadoLivreConnector as connector_class,
        )
        from erpsync.connectors.mercadolivre.emulator import (
            MercadoLivreEmulator as emulator_class,
        )

    class NoneStored(SeenOrders):
        def is_current(self, external_id: str, updated_at: Any) -> bool:
            return False

        def current_of(self, versions: Any) -> set[str]:
            return set()

        def created_here(self, external_ids: Any) -> set[str]:
            return set()

    clock = FakeTime()
    emulator = emulator_class(clock=clock.now, sandbox_orders=0)
    emulator.seed_orders(count, start=START - timedelta(days=5), end=START - timedelta(hours=1))
    harness = build_harness(connector_class, emulator, clock, name="bench")
    source = OrderSource.of(harness.connector)

    def read(window: Window) -> list[Any]:
        try:
            return [p for p in source.fetch_orders(window, NoneStored()) if p.orders]
        except PaginationCapReached:  # as the engine does: each half (none stored yet)
            first, second = window.split()
            return read(first) + read(second)

    pages = []
    slices = max(1, -(-count // SLICE))
    step = timedelta(days=6) / slices
    for index in range(slices):
        pages += read(Window(START - step * (slices - index), START - step * (slices - index - 1)))
    return source, pages


def child(platform: str, count: int, trials: int) -> None:
    """Measure in this process (this checkout's erpsync on the path); print JSON."""
    import gc

    from erpsync.engine.pull import PullReport, _apply_page, load_catalogue
    from erpsync.store import open_store

    source, pages = fetch(platform, count)
    orders = sum(len(p.orders) for p in pages)
    gc.freeze()  # as the CLI does (erpsync.engine.heap): the start-up heap is not rescanned
    mapping: list[float] = []
    storing: list[float] = []
    head: list[float] = []
    tail: list[float] = []
    tenth = max(1, len(pages) // 10)
    for _ in range(trials):
        started = time.process_time()
        for page in pages:
            for raw in page.orders:
                source.map_order(raw.payload)
        mapping.append(time.process_time() - started)
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(f"sqlite:///{tmp}/erpsync.db")
            report = PullReport("bench")
            with store.session() as session:
                catalogue = load_catalogue(session, "bench")
            spent = []
            for page in pages:
                started = time.process_time()
                with store.session() as session:
                    _apply_page(session, source, page, report, catalogue)
                spent.append(time.process_time() - started)
            store.close()
            # an order on a slice's boundary comes twice: stored, then unchanged
            assert report.new + report.unchanged == orders, report.counts()
        storing.append(sum(spent))
        head.append(sum(spent[:tenth]) / sum(len(p.orders) for p in pages[:tenth]))
        tail.append(sum(spent[-tenth:]) / sum(len(p.orders) for p in pages[-tenth:]))
    print(
        json.dumps(
            {
                "orders": orders,
                "pages": len(pages),
                "mapping": [m / orders for m in mapping],
                "storing": [s / orders for s in storing],
                "head": head,
                "tail": tail,
            }
        )
    )


def run(source: Path, platform: str, count: int, trials: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": f"{source / 'src'}{os.pathsep}{ROOT}"}
    command = [sys.executable, __file__, "--child", "--platform", platform]
    command += ["--orders", str(count), "--trials", str(trials)]
    done = subprocess.run(command, env=env, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{source}: the measuring process failed:\n{done.stderr}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def spread(values: list[float]) -> str:
    micro = sorted(v * 1e6 for v in values)
    return f"{micro[0]:.0f} / {statistics.median(micro):.0f} / {micro[-1]:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=("magalu", "mercadolivre"), default="magalu")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--trials", type=int, default=5, help="processes per checkout")
    parser.add_argument("--against", type=Path, default=None, help="an older checkout")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.platform, args.orders, 3)
        return
    sides = [("erpsync", ROOT)] + ([("before", args.against.resolve())] if args.against else [])
    found: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in sides}
    for _ in range(args.trials):  # interleaved
        for label, source in sides:
            found[label].append(run(source, args.platform, args.orders, args.trials))
    print(f"== storing {args.platform} pages, µs of CPU per order, min / median / max")
    for label, runs in found.items():
        first = runs[0]
        print(f"{label}: {first['orders']} orders in {first['pages']} pages")

        def each(key: str, runs: list[dict[str, Any]] = runs) -> list[float]:
            # each process's best of its three passes (the others pay for warming up)
            return [min(r[key]) for r in runs]

        print(f"  mapping alone          {spread(each('mapping'))}")
        print(f"  storing (with mapping) {spread(each('storing'))}")
        print(f"  first / last tenth     {spread(each('head'))}  |  {spread(each('tail'))}")


if __name__ == "__main__":
    main()
