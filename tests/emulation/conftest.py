"""A tiny emulator (not a platform) that exercises the kit, and clients wired to it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from erpsync.emulation import Emulator, EmulatorTransport, bearer_token, read_form
from erpsync.testing import FakeTime

T0 = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


class KitEmulator(Emulator):
    """Orders behind a bearer token; a token endpoint with single-use refresh tokens."""

    def setup(self) -> None:
        self.orders: dict[str, datetime] = {}

    def routes(self) -> list[Route]:
        return [
            Route("/orders", self.list_orders),
            Route("/oauth/token", self.token, methods=["POST"]),
            Route("/echo", self.echo, methods=["GET", "POST", "PUT"]),
        ]

    def rate_limit_response(self, retry_after: float | None) -> Response:
        # the platform's own 429 shape (here: Mercado Livre's)
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        body = {"message": "slow down", "error": "local_rate_limited", "status": 429, "cause": []}
        return JSONResponse(body, status_code=429, headers=headers)

    def credentials(self) -> dict[str, Any]:
        return {"refresh_token": self.issue_token("refresh", {"user": 1})}

    def seed_orders(self, count: int, *, start: datetime, end: datetime) -> list[str]:
        step = (end - start) / count
        ids = [f"O{len(self.orders) + n}" for n in range(count)]
        for n, order_id in enumerate(ids):
            self.orders[order_id] = start + step * n
        return ids

    def update_order(self, external_id: str, **changes: Any) -> None:
        self.orders[external_id] = self.clock()

    def cancel_order(self, external_id: str) -> None:
        self.update_order(external_id)

    async def list_orders(self, request: Request) -> Response:
        if self.read_token("access", bearer_token(request)) is None:
            return JSONResponse({"message": "invalid access token"}, status_code=401)
        return JSONResponse({"results": sorted(self.orders)})

    async def token(self, request: Request) -> Response:
        form = await read_form(request)
        token = form.get("refresh_token", "")
        payload = self.read_token("refresh", token)
        if payload is None or not self.use_once(token):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        return JSONResponse(
            {
                "access_token": self.issue_token("access", payload, timedelta(hours=6)),
                "refresh_token": self.issue_token("refresh", payload),
                "expires_in": 21600,
            }
        )

    async def echo(self, request: Request) -> Response:
        self.handled = getattr(self, "handled", 0) + 1
        return JSONResponse({"ok": True})


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime(T0)


@pytest.fixture
def emulator(clock: FakeTime) -> KitEmulator:
    return KitEmulator(seed=3, clock=clock, sandbox_orders=0)


@pytest.fixture
def emulator_class() -> type[KitEmulator]:
    return KitEmulator


@pytest.fixture
def client(emulator: KitEmulator) -> Iterator[httpx.Client]:
    """An httpx client reaching the emulator in-process."""
    transport = EmulatorTransport(emulator.app)
    with httpx.Client(base_url="http://kit.test", transport=transport) as http:
        yield http


@pytest.fixture
def access(emulator: KitEmulator) -> dict[str, str]:
    """Headers with a valid access token."""
    return {"Authorization": f"Bearer {emulator.issue_token('access', {'user': 1})}"}
