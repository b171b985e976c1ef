"""Deterministic data: the sandbox account's catalogue and generated orders."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from erpsync.connectors._template.emulator.wire import order_json

SKUS = ("SKU-1", "SKU-2", "SKU-3")


def orders(
    rng: random.Random, count: int, *, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    span = (end - start).total_seconds()
    return [
        order_json(
            f"T{n:06d}",
            sku=rng.choice(SKUS),
            updated_at=start + (end - start) * (rng.random() * 0.999 if span else 0),
        )
        for n in range(count)
    ]
