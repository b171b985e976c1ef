"""The platform's JSON shapes, as its docs show them (TODO: ref: links)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def order_json(order_id: str, *, sku: str, updated_at: datetime) -> dict[str, Any]:
    return {
        "id": order_id,
        "status": "paid",
        "created_at": updated_at.isoformat(),
        "updated_at": updated_at.isoformat(),
        "total": "10.00",
        "items": [{"id": f"{order_id}-1", "sku": sku, "quantity": 1, "unit_price": "10.00"}],
    }
