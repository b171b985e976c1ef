"""Benchmark: threads with one sync httpx client each vs asyncio with AsyncClient.

    python bench/concurrency.py [--requests 4000]

Why it exists: the engine runs connectors concurrently, one thread and one synchronous
httpx.Client per connector. This measures the alternative (one event loop, one AsyncClient per
connector) at 1, 2, 4 and 8 concurrent connectors against an emulator served over loopback in
its own process, and prints requests/s and client CPU seconds for each. Each "connector" makes
its requests one after another, as a connector does (pages and detail calls are sequential).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EMULATOR = "erpsync.connectors.mercadolivre.emulator:MercadoLivreEmulator"
PATH = "/__bench/requests"  # served by bench/serve.py without auth: pure HTTP cost


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def with_threads(url: str, connectors: int, per_connector: int) -> None:
    def one() -> None:
        with httpx.Client(base_url=url) as client:
            for _ in range(per_connector):
                client.get(PATH).raise_for_status()

    threads = [threading.Thread(target=one) for _ in range(connectors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def with_asyncio(url: str, connectors: int, per_connector: int) -> None:
    async def one() -> None:
        async with httpx.AsyncClient(base_url=url) as client:
            for _ in range(per_connector):
                (await client.get(PATH)).raise_for_status()

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(connectors)))

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="per run, split over connectors")
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "serve.py"), EMULATOR, "--orders", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert server.stdout is not None
        url = json.loads(server.stdout.readline())["url"]
        print(f"{'connectors':>10} {'model':>8} {'requests/s':>11} {'CPU s':>7}")
        for connectors in (1, 2, 4, 8):
            per = args.requests // connectors
            for name, run in (("threads", with_threads), ("asyncio", with_asyncio)):
                started, cpu_before = time.perf_counter(), cpu()
                run(url, connectors, per)
                wall, spent = time.perf_counter() - started, cpu() - cpu_before
                print(f"{connectors:>10} {name:>8} {per * connectors / wall:>11.0f} {spent:>7.2f}")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
