"""The bare baseline the benchmarks compare erpsync with: httpx + sqlite3, nothing else.

    python bench/baseline.py pull URL INFO_JSON DB      # same requests as erpsync's ML pull
    python bench/baseline.py push URL INFO_JSON DB      # push every listing in erpsync's DB

It does what erpsync's Mercado Livre pull does on the wire (token, order search by window with
the same offset-cap split, both the default and the cancelled pass, billing info and shipment
per order) and stores each order as JSON with its items, one transaction per page. It skips
everything erpsync adds: validation, mapping, the stock ledger, quarantine, retries, limits.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

CAP = 10_000
LIMIT = 50


def token(client: httpx.Client, info: dict[str, Any]) -> str:
    creds = info["credentials"]
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "refresh_token": creds["refresh_token"],
        },
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def search(client: httpx.Client, seller: int, start: datetime, end: datetime, status: str | None):
    def page(offset: int) -> dict[str, Any]:
        params: dict[str, Any] = {
            "seller": seller,
            "sort": "date_asc",
            "offset": offset,
            "limit": LIMIT,
            "order.date_last_updated.from": start.isoformat(timespec="milliseconds"),
            "order.date_last_updated.to": end.isoformat(timespec="milliseconds"),
        }
        if status:
            params["order.status"] = status
        response = client.get("/orders/search", params=params)
        response.raise_for_status()
        return dict(response.json())

    first = page(0)
    total = first["paging"]["total"]
    if total > CAP:
        middle = start + (end - start) / 2
        yield from search(client, seller, start, middle, status)
        yield from search(client, seller, middle, end, status)
        return
    yield first["results"]
    for offset in range(LIMIT, total, LIMIT):
        yield page(offset)["results"]


def pull(url: str, info: dict[str, Any], db: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE orders (id TEXT PRIMARY KEY, status TEXT, total TEXT, updated TEXT, raw TEXT)"
    )
    conn.execute("CREATE TABLE items (order_id TEXT, sku TEXT, quantity INT, price TEXT)")
    conn.execute("CREATE INDEX items_order ON items (order_id)")  # replacing an order's items
    seller = info["options"]["seller_id"]
    with httpx.Client(base_url=url, timeout=30) as client:
        client.headers["Authorization"] = f"Bearer {token(client, info)}"
        end = datetime.now(UTC)
        start = end - timedelta(days=30)
        for status in (None, "cancelled"):
            for results in search(client, seller, start, end, status):
                for order in results:
                    billing = (order.get("buyer") or {}).get("billing_info") or {}
                    details = {}
                    if billing.get("id"):
                        details["billing"] = client.get(
                            f"/orders/billing-info/MLB/{billing['id']}"
                        ).json()
                    shipping = (order.get("shipping") or {}).get("id")
                    if shipping:
                        details["shipment"] = client.get(
                            f"/shipments/{shipping}", headers={"x-format-new": "true"}
                        ).json()
                    conn.execute(
                        "INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?, ?)",
                        (
                            str(order["id"]),
                            order["status"],
                            str(order["total_amount"]),
                            order["last_updated"],
                            json.dumps({"order": order, **details}),
                        ),
                    )
                    conn.execute("DELETE FROM items WHERE order_id = ?", (str(order["id"]),))
                    conn.executemany(
                        "INSERT INTO items VALUES (?, ?, ?, ?)",
                        [
                            (
                                str(order["id"]),
                                i["item"].get("seller_sku"),
                                i["quantity"],
                                str(i["unit_price"]),
                            )
                            for i in order["order_items"]
                        ],
                    )
                conn.commit()
    conn.close()


def push(url: str, info: dict[str, Any], db: str) -> None:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT l.item_id, coalesce(sum(m.quantity), 0) FROM listings l "
        "LEFT JOIN stock_movements m ON m.sku = l.sku AND m.bucket = 'on_hand' "
        "WHERE l.variation_id = '' AND l.sku IS NOT NULL GROUP BY l.item_id"
    ).fetchall()
    # ML refresh tokens are single-use: take the one erpsync rotated to last
    [(refresh,)] = conn.execute("SELECT refresh_token FROM credentials").fetchall()
    info = {**info, "credentials": {**info["credentials"], "refresh_token": refresh}}
    with httpx.Client(base_url=url, timeout=30) as client:
        client.headers["Authorization"] = f"Bearer {token(client, info)}"
        for item_id, quantity in rows:
            client.put(f"/items/{item_id}", json={"available_quantity": max(int(quantity), 0)})
    conn.close()


if __name__ == "__main__":
    command, url, info, db = sys.argv[1:5]
    {"pull": pull, "push": push}[command](url, json.loads(info), db)
