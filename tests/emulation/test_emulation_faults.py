"""Each fault kind, in-process and through a connector session."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel, SecretStr

from erpsync.connector import ConnectorContext, ConnectorSettings, HttpConnector
from erpsync.emulation import EmulatorTransport
from erpsync.http.auth import MemoryTokenStore, OAuth2RefreshAuth
from erpsync.http.retry import RetryPolicy


def test_status_fault(client, emulator):
    """requirement: "status" answers the given status once, then the route answers."""
    emulator.faults.add("status", status=503)
    assert client.get("/echo").status_code == 503
    assert client.get("/echo").status_code == 200
    assert [r.status for r in emulator.requests] == [503, 200]


@pytest.mark.parametrize(("retry_after", "header"), [(3, "3"), (None, None)])
def test_rate_limit_fault_uses_the_platform_shape(client, emulator, retry_after, header):
    """requirement: "rate_limit" answers 429 in the platform's body shape, Retry-After optional."""
    emulator.faults.add("rate_limit", retry_after=retry_after)
    response = client.get("/echo")
    assert response.status_code == 429
    assert response.json()["error"] == "local_rate_limited"
    assert response.headers.get("Retry-After") == header


def test_default_rate_limit_response(client, emulator, monkeypatch):
    """requirement: without an override the 429 is generic JSON with Retry-After."""
    from erpsync.emulation import Emulator

    monkeypatch.setattr(type(emulator), "rate_limit_response", Emulator.rate_limit_response)
    emulator.faults.add("rate_limit", retry_after=1.5)
    response = client.get("/echo")
    assert (response.status_code, response.headers["Retry-After"]) == (429, "1.5")
    assert response.json() == {"message": "Too Many Requests"}


def test_delay_fault_honours_the_client_timeout(client, emulator):
    """requirement: "delay" holds the answer; a shorter read timeout gives httpx.ReadTimeout."""
    emulator.faults.add("delay", delay=0.5)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/echo", timeout=0.05)
    emulator.faults.add("delay", delay=0.01)
    assert client.get("/echo").status_code == 200


def test_drop_fault_is_a_remote_protocol_error(client, emulator):
    """requirement: "drop" looks like a dropped connection to the client."""
    emulator.faults.add("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/echo")
    assert client.get("/echo").status_code == 200


def test_malformed_json_fault(client, emulator):
    """requirement: "malformed_json" is a 200 whose JSON body does not parse."""
    emulator.faults.add("malformed_json")
    response = client.get("/echo")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_expire_token_fault(client, emulator, access):
    """requirement: "expire_token" expires access tokens and lets the request through, so the
    platform's auth answers as it does for an expired token."""
    assert client.get("/orders", headers=access).status_code == 200
    emulator.faults.add("expire_token", path="/orders")
    response = client.get("/orders", headers=access)
    assert (response.status_code, response.json()) == (401, {"message": "invalid access token"})


def test_faults_filtered_by_path(client, emulator, access):
    """requirement: a fault with a path only hits requests under it."""
    emulator.faults.add("status", status=500, path="/oauth")
    assert client.get("/orders", headers=access).status_code == 200
    assert client.post("/oauth/token", data={}).status_code == 500


class KitCredentials(BaseModel):
    refresh_token: SecretStr


class KitConnector(HttpConnector):
    type = "kit"
    platform = "Kit"
    default_base_url = "https://api.kit.test"
    default_auth_url = "https://api.kit.test/oauth/token"
    emulator = "unused:Nothing"
    Credentials = KitCredentials

    def build_auth(self) -> httpx.Auth:
        return OAuth2RefreshAuth(
            token_url=self.auth_url,
            client_id="kit-app",
            refresh_token=self.credentials.refresh_token.get_secret_value(),
            token_store=self.context.token_store,
            key=self.name,
        )


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("status", {"status": 500}),
        ("status", {"status": 502, "times": 2}),
        ("rate_limit", {"retry_after": 2}),
        ("rate_limit", {}),
        ("drop", {}),
        ("malformed_json", {}),
        ("delay", {"delay": 0.3}),
        ("expire_token", {}),
    ],
)
def test_a_connector_survives_each_fault(emulator, clock, kind, options):
    """requirement: through the HTTP layer, every transient fault is survived: retried (with the
    server's Retry-After) or, for an expired token, refreshed once."""
    store = MemoryTokenStore()
    policy = RetryPolicy.instant()
    settings = ConnectorSettings(
        name="k1", type="kit", credentials=KitCredentials(**emulator.credentials())
    )
    context = ConnectorContext(
        token_store=store,
        transport=EmulatorTransport(emulator.app),
        retry_policy=policy,
        clock=clock,
    )
    connector = KitConnector(settings, context)
    connector.request("GET", "/orders")
    emulator.faults.add(kind, path="/orders", **options)
    kwargs = {"timeout": 0.05} if kind == "delay" else {}
    assert connector.request("GET", "/orders", **kwargs).json() == {"results": []}
    assert emulator.faults.pending == 0
    if kind == "rate_limit" and options:
        assert policy.waits == [2.0]
    if kind == "expire_token":
        assert len(emulator.requests_to("/oauth/token")) == 2
        assert store.saves["k1"] == 2
    connector.close()
    context.transport.close()


def test_lost_answer_fault_handles_the_request_then_drops(client, emulator):
    """requirement: "lost_answer" lets the platform do the work (a create is stored) and then
    drops the connection, so the client cannot tell whether it happened; ``method`` aims it
    at one method only."""
    emulator.faults.add("lost_answer", path="/echo", method="POST")
    assert client.get("/echo").status_code == 200  # a GET is not its target
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/echo")
    assert emulator.handled == 2  # the GET and the POST whose answer was lost
    assert client.post("/echo").status_code == 200
