"""TemplateEmulator: the routes, state and contract-suite API (see erpsync.emulation.Emulator)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from erpsync.connectors._template.emulator import seed
from erpsync.emulation import Emulator


class TemplateEmulator(Emulator):
    def setup(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.stock: dict[str, int] = {}

    def routes(self) -> Sequence[BaseRoute]:
        async def list_orders(request: Request) -> JSONResponse:
            offset = int(request.query_params.get("offset", 0))
            limit = int(request.query_params.get("limit", 50))
            found = sorted(self.orders.values(), key=lambda o: o["updated_at"])
            return JSONResponse({"results": found[offset : offset + limit]})

        return [Route("/orders", list_orders)]

    # -- the contract-suite API ---------------------------------------------------------------

    def credentials(self) -> dict[str, Any]:
        return {"client_id": "sandbox-app", "client_secret": "sandbox-secret"}

    def seed_orders(self, count: int, *, start: datetime, end: datetime) -> list[str]:
        made = seed.orders(self.random, count, start=start, end=end)
        self.orders.update({o["id"]: o for o in made})
        return [o["id"] for o in made]

    def stock_of(self, item_id: str, variation_id: str | None = None) -> int | None:
        return self.stock.get(item_id)
