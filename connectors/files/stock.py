"""Stock: the outbox CSV (FORMAT.md; sku,item_id,variation_id,quantity), one file per push.

``stock_csv`` is the pure part; ``write_stock_file`` writes it under a fresh name, atomically.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from erpsync.connectors.files.folders import free_name, write_atomically
from erpsync.domain import PushResult, StockUpdate

STOCK_COLUMNS = ("sku", "item_id", "variation_id", "quantity")


def stock_csv(updates: Iterable[StockUpdate]) -> str:
    """The stock file's text: a header, then one RFC 4180 row per update."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(STOCK_COLUMNS)
    for update in updates:
        variation = update.variation_id or ""
        writer.writerow([update.sku or "", update.item_id, variation, update.quantity])
    return out.getvalue()


def write_stock_file(outbox: Path, updates: Sequence[StockUpdate], now: datetime) -> Path:
    """Write ``<outbox>/stock-<UTC time>.csv`` (``-2``, ``-3``... when taken); OSError if not."""
    name = f"stock-{now:%Y%m%dT%H%M%SZ}.csv"
    return write_atomically(free_name(outbox / name), stock_csv(updates).encode("utf-8"))


def results(updates: Sequence[StockUpdate], *, error: str | None = None) -> list[PushResult]:
    """One result per update: all sent, or all failed with ``error``."""
    return [
        PushResult(item_id=u.item_id, variation_id=u.variation_id, ok=error is None, error=error)
        for u in updates
    ]
