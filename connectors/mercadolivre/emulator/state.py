"""What ``MercadoLivreEmulator`` holds for the mixins that serve its resources (invoices,
labels, packs, seller notifications, items): declared once, so each mixin is type-checked
against the same state."""

from __future__ import annotations

import threading
from typing import Any

from starlette.requests import Request

from erpsync.emulation import Emulator


class MlState(Emulator):
    """Orders, shipments and the lock; ``caller`` is the seller a request's token names."""

    orders: dict[int, dict[str, Any]]
    shipments: dict[int, dict[str, Any]]
    shipment_orders: dict[int, list[int]]
    lock: threading.RLock

    def caller(self, request: Request) -> int | None:  # pragma: no cover - the emulator's
        raise NotImplementedError
