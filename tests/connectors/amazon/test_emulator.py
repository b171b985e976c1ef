"""AmazonEmulator's own fidelity: SP-API's throttling, query checks, auth errors and tokens."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from erpsync.connectors.amazon.emulator import AmazonEmulator
from erpsync.emulation import EmulatorTransport

ORDERS = "/orders/v0/orders"
TOKEN = "/auth/o2/token"
MARKETPLACE = "A2Q3Y263D00KWC"


@pytest.fixture
def transport(emu: AmazonEmulator) -> Iterator[EmulatorTransport]:
    transport = EmulatorTransport(emu.app)
    yield transport
    transport.close()


@pytest.fixture
def client(emu: AmazonEmulator, transport: EmulatorTransport) -> Iterator[httpx.Client]:
    with httpx.Client(transport=transport, base_url="http://amazon.test") as http:
        token = http.post(TOKEN, data={"grant_type": "refresh_token", **emu.credentials()})
        http.headers["x-amz-access-token"] = token.json()["access_token"]
        yield http


def test_emulator_throttles_with_quota_exceeded_and_no_retry_after(emu, time, client) -> None:
    """requirement: each operation has its bucket; over it -> 429 QuotaExceeded, no
    Retry-After; successes carry x-amzn-RateLimit-Limit."""
    query = {"MarketplaceIds": MARKETPLACE, "LastUpdatedAfter": "2026-11-01T00:00:00Z"}
    answers = [client.get(ORDERS, params=query) for _ in range(21)]
    assert [a.status_code for a in answers].count(200) == 20
    assert answers[0].headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert answers[-1].status_code == 429
    assert answers[-1].json() == {
        "errors": [
            {
                "code": "QuotaExceeded",
                "message": "You exceeded your quota for the requested resource.",
                "details": "",
            }
        ]
    }
    assert "retry-after" not in answers[-1].headers
    time.advance(seconds=60)
    assert client.get(ORDERS, params=query).status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {
                "LastUpdatedAfter": "2026-11-01T00:00:00Z",
                "LastUpdatedBefore": "2026-11-02T14:59:00Z",
            },
            "LastUpdatedBefore must be at least 2 minutes before the current time.",
        ),
        (
            {"CreatedAfter": "2026-11-01T00:00:00Z", "LastUpdatedAfter": "2026-11-01T00:00:00Z"},
            "Only one of CreatedAfter or LastUpdatedAfter may be specified.",
        ),
        ({"NextToken": "+/bogus=="}, "Invalid Input"),
    ],
)
def test_emulator_refuses_bad_order_queries(client, query, message) -> None:
    """requirement: 400 InvalidInput for a too-late LastUpdatedBefore, both CreatedAfter and
    LastUpdatedAfter, and a NextToken it did not issue."""
    answer = client.get(ORDERS, params={"MarketplaceIds": MARKETPLACE, **query})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "InvalidInput"
    assert answer.json()["errors"][0]["message"] == message


def test_emulator_expired_token_is_403_with_expired_details(emu, client) -> None:
    """requirement: an expired access token answers 403 Unauthorized "...has expired."."""
    emu.expire_access_tokens()
    query = {"MarketplaceIds": MARKETPLACE, "LastUpdatedAfter": "2026-11-01T00:00:00Z"}
    answer = client.get(ORDERS, params=query)
    assert (answer.status_code, answer.json()) == (
        403,
        {
            "errors": [
                {
                    "code": "Unauthorized",
                    "message": "Access to requested resource is denied.",
                    "details": "The access token you provided has expired.",
                }
            ]
        },
    )


def test_emulator_lwa_errors_have_lwa_shape(emu, transport) -> None:
    """requirement: LWA answers {"error", "error_description"}: invalid_client (401),
    invalid_grant (400)."""
    with httpx.Client(transport=transport, base_url="http://amazon.test") as http:
        bad_secret = {**emu.credentials(), "client_secret": "wrong"}
        first = http.post(TOKEN, data={"grant_type": "refresh_token", **bad_secret})
        bad_grant = {**emu.credentials(), "refresh_token": "Atzr|nope"}
        second = http.post(TOKEN, data={"grant_type": "refresh_token", **bad_grant})
    assert (first.status_code, first.json()) == (
        401,
        {"error_description": "Client authentication failed", "error": "invalid_client"},
    )
    assert (second.status_code, second.json()["error"]) == (400, "invalid_grant")


def test_emulator_page_tokens_need_url_encoding(emu, time, client) -> None:
    """requirement: NextToken is standard base64 with + / =; sent unencoded it breaks."""
    now = time.now()
    emu.seed_orders(5, start=now - timedelta(days=3), end=now - timedelta(hours=1))
    query = {"MarketplaceIds": MARKETPLACE, "LastUpdatedAfter": "2026-10-01T00:00:00Z"}
    first = client.get(ORDERS, params={**query, "MaxResultsPerPage": 2}).json()["payload"]
    token = first["NextToken"]
    assert base64.b64decode(token)  # standard alphabet, padded
    raw = client.get(f"{ORDERS}?NextToken={token}")  # "+" arrives as a space
    encoded = client.get(ORDERS, params={"NextToken": token})
    assert (raw.status_code, encoded.status_code) == (400, 200)
