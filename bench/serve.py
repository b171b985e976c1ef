"""Serve a platform emulator over loopback for the benchmarks, in its own process.

    python bench/serve.py erpsync.connectors.mercadolivre.emulator:MercadoLivreEmulator \
        --orders 10000

Prints one JSON line {"url", "credentials", "options"} when ready, then serves until killed.
GET /__bench/requests answers how many requests the emulator has served (by path family);
POST /__bench/change?every=N changes the seeded orders for a second pull (``change_orders``).
Running the emulator in another process keeps its CPU out of the client's figures.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import threading
from collections import Counter
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import uvicorn

from erpsync.domain import utcnow


def load(dotted: str) -> Any:
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)


def change_orders(emulator: Any, ids: list[str], every: int) -> dict[str, int]:
    """Of every ``every`` seeded orders: one cancelled, one edited (its first line one unit
    more, the total to match: Mercado Livre's emulator); and every other order awaiting
    payment paid: what a later pull finds changed. Returns how many of each."""
    done = {"cancelled": 0, "edited": 0, "paid": 0}
    for index, order_id in enumerate(ids):
        if index % every == 0:
            emulator.cancel_order(order_id)
            done["cancelled"] += 1
        elif index % every == every // 2 and hasattr(emulator, "orders"):
            order = emulator.orders[int(order_id)]
            lines = [dict(line) for line in order["order_items"]]
            lines[0]["quantity"] += 1
            total = round(order["total_amount"] + lines[0]["unit_price"], 2)
            emulator.update_order(order_id, order_items=lines, total_amount=total)
            done["edited"] += 1
        elif (
            index % 2
            and hasattr(emulator, "pay_order")
            and emulator.orders[int(order_id)]["status"] == "payment_required"
        ):
            emulator.pay_order(order_id)
            done["paid"] += 1
    return done


class Counting:
    """ASGI wrapper: counts requests per first path segment, and serves the counts (and
    changes the orders on ``/__bench/change``)."""

    def __init__(self, app: Any, change: Any = None) -> None:
        self.app = app
        self.change = change
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in ("/__bench/requests", "/__bench/change"):
            if scope["path"] == "/__bench/change":
                every = int(dict(parse_qsl(scope["query_string"].decode())).get("every", 10))
                body = json.dumps(self.change(every)).encode()
            else:
                body = json.dumps(dict(self.counts)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] == "http":
            with self.lock:
                self.counts["/".join(scope["path"].split("/")[:3])] += 1
        await self.app(scope, receive, send)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("emulator")
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--days", type=float, default=10.0)
    parser.add_argument("--items", type=int, default=0, help="extra listings (SKU BULK-n)")
    parser.add_argument("--time-scale", type=float, default=None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    kwargs: dict[str, Any] = {"seed": 1, "sandbox_orders": 0}
    if args.time_scale:
        kwargs["time_scale"] = args.time_scale
    emulator = load(args.emulator)(**kwargs)
    now = utcnow()
    ids = emulator.seed_orders(
        args.orders, start=now - timedelta(days=args.days), end=now - timedelta(minutes=10)
    )
    if args.items:
        emulator.add_items(args.items)
    emulator.record_requests = False  # memory stays flat at 100k orders

    config = uvicorn.Config(
        Counting(emulator.app, lambda every: change_orders(emulator, ids, every)),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    print(
        json.dumps(
            {
                "url": f"http://127.0.0.1:{port}",
                "credentials": emulator.credentials(),
                "options": emulator.options(),
                # what the orders sell: the catalogue a --stocked pull imports first
                "skus": sorted({sku for _, _, sku in emulator.listing_refs() if sku}),
            }
        ),
        flush=True,
    )
    thread.join()


if __name__ == "__main__":
    sys.exit(main())
