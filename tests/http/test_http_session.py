"""HttpSession wiring: URLs, sandbox emulator, laziness, transports, headers and logging."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from erpsync.connector import ConnectorContext, ConnectorSettings
from erpsync.emulation import Emulator
from erpsync.errors import ConfigError, RetriableError
from erpsync.http.retry import RetryPolicy
from tests.http.conftest import Creds


class SandboxEmulator(Emulator):
    """Answers /me and a token endpoint at the platform's real token path."""

    def setup(self) -> None:
        self.orders: list[str] = []

    def routes(self):
        async def me(request: Request) -> JSONResponse:
            return JSONResponse({"host": request.headers["host"], "orders": len(self.orders)})

        async def token(request: Request) -> JSONResponse:
            return JSONResponse({"access_token": "sandbox-access", "expires_in": 600})

        return [Route("/me", me), Route("/oauth/token", token, methods=["POST"])]

    def seed_orders(self, count, *, start, end):
        self.orders = [f"o{n}" for n in range(count)]
        return self.orders


@pytest.fixture
def sandbox_class(connector_class):
    class SandboxShop(connector_class):
        emulator = f"{__name__}:SandboxEmulator"

    return SandboxShop


def settings(**kw) -> ConnectorSettings:
    kw.setdefault("credentials", Creds())
    return ConnectorSettings(name="x1", type="shop", **kw)


@pytest.mark.parametrize(
    ("kw", "base_url", "auth_url"),
    [
        ({}, "https://api.shop.test", "https://auth.shop.test/oauth/token"),
        ({"sandbox": True}, "http://shop.emulator", "http://shop.emulator/oauth/token"),
        (
            {"base_url": "http://x.test", "auth_url": "http://x.test/token"},
            "http://x.test",
            "http://x.test/token",
        ),
        (
            {"sandbox": True, "base_url": "http://x.test"},
            "http://x.test",
            "http://shop.emulator/oauth/token",
        ),
    ],
)
def test_urls(connector_class, kw, base_url, auth_url):
    """requirement: settings win; sandbox serves both API and token endpoint from the emulator."""
    connector = connector_class(settings(**kw))
    assert (connector.base_url, connector.auth_url) == (base_url, auth_url)


def test_missing_auth_url_is_a_config_error(connector_class, monkeypatch):
    """requirement: an OAuth connector without any token endpoint says so."""
    monkeypatch.setattr(connector_class, "default_auth_url", None)
    with pytest.raises(ConfigError, match=r"^connectors\.x1: no auth_url configured"):
        _ = connector_class(settings()).auth_url


def test_sandbox_runs_the_emulator_in_process(sandbox_class):
    """requirement: sandbox: true needs no network: the emulator class named by the connector
    is instantiated with its defaults (a seeded account) and reachable as
    connector.sandbox_emulator."""
    connector = sandbox_class(
        settings(sandbox=True, credentials=sandbox_class.Credentials()),
        ConnectorContext(retry_policy=RetryPolicy.instant()),
    )
    assert connector.sandbox_emulator is None  # nothing built before the first request
    assert connector.request("GET", "/me").json() == {"host": "shop.emulator", "orders": 10}
    emulator = connector.sandbox_emulator
    assert isinstance(emulator, SandboxEmulator)
    assert [r.path for r in emulator.requests] == ["/oauth/token", "/me"]
    connector.close()


def test_one_run_shares_one_emulator_per_connector_name(sandbox_class):
    """requirement: within one run (the CLI opens a scope per invocation) every connector
    object of a name talks to the same emulator, so what one step did there the next step
    sees; another name gets its own, and a connector outside any run builds a fresh one."""
    from erpsync.sandbox import current, sandbox_run

    def opened(name: str, context: ConnectorContext):
        connector = sandbox_class(
            ConnectorSettings(
                name=name, type="shop", sandbox=True, credentials=sandbox_class.Credentials()
            ),
            context,
        )
        connector.request("GET", "/me")
        connector.close()
        return connector.sandbox_emulator

    with sandbox_run() as emulators:
        step_one = opened("x1", ConnectorContext(sandboxes=current()))
        step_two = opened("x1", ConnectorContext(sandboxes=current()))
        other = opened("x2", ConnectorContext(sandboxes=current()))
        assert len(emulators) == 2
    assert current() is None  # the scope is over
    assert step_one is step_two
    assert other is not step_one
    assert [r.path for r in step_one.requests] == ["/oauth/token", "/me", "/oauth/token", "/me"]
    assert opened("x1", ConnectorContext()) is not step_one


def test_commands_hand_their_connectors_the_runs_emulators(tmp_path):
    """requirement: the context every command builds carries the open run's emulators (none
    outside a run)."""
    from erpsync.config import load_config
    from erpsync.engine.runner import build_context
    from erpsync.sandbox import sandbox_run
    from erpsync.store import open_store

    path = tmp_path / "erpsync.yaml"
    path.write_text(f"database: sqlite:///{tmp_path}/x.db\nconnectors: {{}}\n", encoding="utf-8")
    config = load_config(str(path))
    store = open_store(config.database)
    try:
        assert build_context(config, store).sandboxes is None
        with sandbox_run() as emulators:
            assert build_context(config, store).sandboxes is emulators
    finally:
        store.close()


def test_constructing_a_connector_builds_nothing(connector_class):
    """requirement: a connector costs nothing until its first request (CLI start-up)."""
    connector = connector_class(settings())
    assert connector.http._client is None and connector.http._transport is None


def test_closing_keeps_an_injected_transport_usable(make_connector, server):
    """requirement: an injected transport belongs to the caller: closing a connector keeps it."""
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={}))
    first = make_connector(transport_=transport, oauth=False)
    first.request("GET", "/a")
    first.close()
    first.close()  # idempotent
    second = make_connector(transport_=transport, oauth=False)
    assert second.request("GET", "/a").status_code == 200


def test_default_headers_and_user_agent(mock_connector, connector_class, monkeypatch):
    """requirement: the connector's default headers go on every request, with erpsync's UA."""
    monkeypatch.setattr(connector_class, "default_headers", {"api-version": "2"})
    seen = []
    connector = mock_connector(lambda r: seen.append(r) or httpx.Response(200, json={}))
    connector.request("GET", "/a")
    assert seen[0].headers["api-version"] == "2"
    assert seen[0].headers["user-agent"].startswith("erpsync/")


def test_log_lines(mock_connector, caplog):
    """requirement: one DEBUG line per exchange: METHOD redacted-url -> status (ms); a failed
    exchange is logged with its error type."""
    caplog.set_level(logging.DEBUG, logger="erpsync.http")
    answers = iter([httpx.ConnectError("refused"), httpx.Response(204)])

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    connector = mock_connector(handler, policy=RetryPolicy.instant())
    connector.request("DELETE", "/a/1?token=zzzz")
    lines = [r.getMessage() for r in caplog.records if r.name == "erpsync.http"]
    assert lines[0] == "DELETE https://api.shop.test/a/1?token=*** -> ConnectError: refused"
    assert lines[1].startswith("attempt 1 failed (x1 DELETE /a/1: connection failed")
    assert lines[2].startswith("DELETE https://api.shop.test/a/1?token=*** -> 204 (")
    assert lines[2].endswith(" ms)")


def test_timeout_setting_reaches_the_request(mock_connector, connector_class, monkeypatch):
    """requirement: the connector's timeout_seconds applies to each request."""
    monkeypatch.setattr(connector_class, "timeout_seconds", 7.5)
    seen = []
    connector = mock_connector(lambda r: seen.append(r) or httpx.Response(200, json={}))
    connector.request("GET", "/a")
    assert seen[0].extensions["timeout"]["read"] == 7.5


def test_without_a_policy_retries_sleep_with_the_context_sleep(connector_class):
    """requirement: without a retry policy, the default one sleeps with context.sleep."""
    slept: list[float] = []
    context = ConnectorContext(
        transport=httpx.MockTransport(lambda r: httpx.Response(500)), sleep=slept.append
    )
    connector = connector_class(settings(), context)
    connector.oauth = False
    with pytest.raises(RetriableError, match=r"gave up after 6 attempts\)$"):
        connector.request("GET", "/a")
    assert len(slept) == 5
    assert all(0 <= wait <= 8 for wait in slept)


def test_a_rate_limit_classifier_stops_a_429_that_retrying_cannot_clear():
    """requirement: a 429 the connector recognises as a used-up quota (Bling's daily one) is
    raised at once, not retried; other 429s are retried as usual."""
    from erpsync.errors import FatalError, RateLimitedError
    from erpsync.http.session import HttpSession

    answers = iter([429, 429, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        return httpx.Response(status, json={"quota": "daily" if request.url.path == "/d" else ""})

    def daily(response: httpx.Response) -> Exception | None:
        if response.json()["quota"] == "daily":
            return FatalError("daily quota used up")
        return None

    session = HttpSession(
        "https://erp.test",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy.instant(),
        classify_rate_limit=daily,
    )
    with pytest.raises(FatalError, match="daily quota used up"):
        session.request("GET", "/d")
    assert session.request("GET", "/s").status_code == 200  # a plain 429, retried
    assert not isinstance(FatalError("x"), RateLimitedError)
    session.close()


def test_a_cookie_the_platform_sets_is_sent_back_and_none_is_invented():
    """requirement: a Set-Cookie (a load balancer's sticky session) is stored and sent on the
    next requests, as httpx does; responses that set none leave the jar empty."""
    from erpsync.http.session import HttpSession

    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        if request.url.path == "/login":
            return httpx.Response(200, json={}, headers={"Set-Cookie": "lb=node-2; Path=/"})
        return httpx.Response(200, json={})

    session = HttpSession("https://api.shop.test", transport=httpx.MockTransport(handler))
    session.request("GET", "/orders")
    assert not session.client.cookies
    session.request("GET", "/login")
    session.request("GET", "/orders")
    assert seen == [None, None, "lb=node-2"]
    assert dict(session.client.cookies) == {"lb": "node-2"}


def test_a_read_response_is_freed_with_its_last_reference():
    """requirement: a response, its body and the payload parsed from it go as soon as the
    caller drops them, not at the cyclic collector's next pass (httpx binds a response's
    stream back to the response); the response reads as before: JSON, body, elapsed."""
    import gc
    import weakref

    from erpsync.http.session import HttpSession

    def handler(request: httpx.Request) -> httpx.Response:
        # a body streamed in, as over the network (a response built from content is read
        # and closed before the client sees it)
        body = httpx.ByteStream(b'{"orders":[1,2]}')
        return httpx.Response(200, headers={"content-type": "application/json"}, stream=body)

    session = HttpSession(
        "https://shop.test", transport=httpx.MockTransport(handler), retry=RetryPolicy.instant()
    )
    enabled = gc.isenabled()
    gc.disable()  # only reference counting may free the response
    try:
        response = session.request("GET", "/orders")
        assert response.json() == {"orders": [1, 2]}
        assert response.content == b'{"orders":[1,2]}'
        assert response.elapsed.total_seconds() >= 0
        assert list(response.iter_bytes()) == [response.content]
        gone = weakref.ref(response)
        del response
        assert gone() is None
    finally:
        if enabled:
            gc.enable()
        session.close()
