"""Stock: what one push sends for a StockUpdate, and how the answer reads. Pure planning only;
the connector's push_stock makes the requests."""

from __future__ import annotations

from typing import Any

from erpsync.domain import StockUpdate


def stock_body(update: StockUpdate) -> dict[str, Any]:
    """TODO: the platform's stock update body (ref: link to the doc page)."""
    return {"quantity": update.quantity}
