"""Fixtures for the HTTP layer tests: a tiny HttpConnector and a token server with rotation."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import anyio
import httpx
import pytest
from pydantic import BaseModel, SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from erpsync.connector import ConnectorContext, ConnectorSettings, HttpConnector, RateLimit
from erpsync.emulation import Emulator, EmulatorTransport, bearer_token, read_form
from erpsync.http.auth import MemoryTokenStore, OAuth2RefreshAuth
from erpsync.http.retry import RetryPolicy
from erpsync.testing import FakeTime

CLIENT_ID = "app-123"
CLIENT_SECRET = "client-secret-value"
REFRESH = "TG-refresh-initial"
T0 = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


class Creds(BaseModel):
    client_id: str = CLIENT_ID
    client_secret: SecretStr = SecretStr(CLIENT_SECRET)
    refresh_token: SecretStr | None = SecretStr(REFRESH)


class ShopConnector(HttpConnector):
    """A minimal HTTP connector: bearer OAuth2 with refresh against TokenServer."""

    type = "shop"
    platform = "Shop"
    default_base_url = "https://api.shop.test"
    default_auth_url = "https://auth.shop.test/oauth/token"
    emulator = "not-used:Nothing"
    rate_limits: ClassVar = {"default": RateLimit(rate=1000, burst=1000)}
    Credentials = Creds
    auth_options: ClassVar[dict[str, Any]] = {}
    classify: Callable[[httpx.Response], Exception | None] | None = None

    oauth = True

    def build_auth(self) -> httpx.Auth | None:
        if not self.oauth:
            return None
        refresh = self.credentials.refresh_token
        return OAuth2RefreshAuth(
            token_url=self.auth_url,
            client_id=self.credentials.client_id,
            client_secret=self.credentials.client_secret.get_secret_value(),
            refresh_token=refresh.get_secret_value() if refresh else None,
            token_store=self.context.token_store,
            key=self.name,
            **self.auth_options,
        )

    def classify_error(self, response: httpx.Response) -> Exception | None:
        return type(self).classify(response) if type(self).classify else None


class TokenServer(Emulator):
    """A token endpoint that rotates refresh tokens on every use, and one protected resource."""

    def setup(self) -> None:
        self.refresh_tokens = {REFRESH}
        self.access_tokens: set[str] = set()
        self.token_calls: list[dict[str, str]] = []
        self.rotate = True
        self.expires_in = 3600
        self.token_delay = 0.0
        self.token_status: int | None = None
        self.reject_all = False
        self.store: MemoryTokenStore | None = None
        self.seen_in_store: list[bool] = []
        self.counter = 0
        self.lock = threading.Lock()

    def routes(self) -> list[Route]:
        return [
            Route("/oauth/token", self.token, methods=["POST"]),
            Route("/me", self.me, methods=["GET"]),
        ]

    def credentials(self) -> dict[str, Any]:
        return {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": REFRESH}

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def _issue(self, prefix: str) -> str:
        with self.lock:
            self.counter += 1
            return f"{prefix}-{self.counter:04d}"

    async def token(self, request: Request) -> Response:
        if request.headers.get("content-type", "").startswith("application/json"):
            form = dict(await request.json())
        else:
            form = await read_form(request)
        self.token_calls.append(form)
        if self.token_delay:
            await anyio.sleep(self.token_delay)
        if self.token_status:
            return JSONResponse({"message": "unavailable"}, status_code=self.token_status)
        if form.get("client_secret", CLIENT_SECRET) != CLIENT_SECRET:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            if form.get("code") != "TG-code":
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
        elif grant == "refresh_token":
            token = form.get("refresh_token", "")
            with self.lock:
                valid = token in self.refresh_tokens
                if valid and self.rotate:
                    self.refresh_tokens.discard(token)
            if not valid:
                # real platforms echo the offending token; the client must not
                return JSONResponse(
                    {"error": "invalid_grant", "error_description": f"bad token {token}"},
                    status_code=400,
                )
        else:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        access = self._issue("APP_USR-access")
        self.access_tokens.add(access)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.expires_in,
        }
        if self.rotate or grant == "authorization_code":
            refresh = self._issue("TG-refresh")
            self.refresh_tokens.add(refresh)
            body["refresh_token"] = refresh
        return JSONResponse(body)

    async def me(self, request: Request) -> Response:
        token = bearer_token(request) or request.headers.get("x-amz-access-token")
        if self.store is not None:
            stored = self.store.load("x1")
            self.seen_in_store.append(stored is not None and stored.access_token == token)
        if self.reject_all or token not in self.access_tokens:
            return JSONResponse({"message": "invalid access token"}, status_code=401)
        return JSONResponse({"id": 42})


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime(T0)


@pytest.fixture
def server(clock: FakeTime) -> TokenServer:
    return TokenServer(clock=clock, sandbox_orders=0)


@pytest.fixture
def store() -> MemoryTokenStore:
    return MemoryTokenStore()


@pytest.fixture
def make_connector(
    server: TokenServer, store: MemoryTokenStore, clock: FakeTime
) -> Iterator[Callable[..., ShopConnector]]:
    """Build ShopConnectors wired to the token server in-process."""
    transport = EmulatorTransport(server.app)
    made: list[ShopConnector] = []

    def make(
        *,
        name: str = "x1",
        refresh_token: str | None = REFRESH,
        policy: RetryPolicy | None = None,
        transport_: httpx.BaseTransport | None = None,
        oauth: bool = True,
        **context: Any,
    ) -> ShopConnector:
        creds = Creds(refresh_token=SecretStr(refresh_token) if refresh_token else None)
        settings = ConnectorSettings(name=name, type="shop", credentials=creds)
        ctx = ConnectorContext(
            token_store=store,
            transport=transport_ or transport,
            retry_policy=policy or RetryPolicy.instant(),
            clock=clock,
            **context,
        )
        connector = ShopConnector(settings, ctx)
        connector.oauth = oauth
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()
    transport.close()


@pytest.fixture
def mock_connector(make_connector: Callable[..., ShopConnector]) -> Callable[..., ShopConnector]:
    """A connector without auth whose requests go to ``handler`` (an httpx.MockTransport)."""

    def make(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> ShopConnector:
        return make_connector(transport_=httpx.MockTransport(handler), oauth=False, **kw)

    return make


@pytest.fixture
def connector_class() -> type[ShopConnector]:
    return ShopConnector
