"""MagaluEmulator specs: its token endpoint and its deterministic sandbox account."""

from __future__ import annotations

import httpx
import pytest

from erpsync.connectors.magalu.emulator import MagaluEmulator
from erpsync.emulation import EmulatorTransport
from erpsync.testing import FakeTime


@pytest.mark.parametrize(
    ("body", "as_json", "status", "error"),
    [
        ({"grant_type": "authorization_code", "code": "CODE"}, True, 200, None),
        ({"grant_type": "refresh_token", "refresh_token": "sandbox-refresh"}, False, 200, None),
        ({"grant_type": "refresh_token", "refresh_token": "forged"}, False, 400, "invalid_grant"),
        ({"grant_type": "password"}, False, 400, "unsupported_grant_type"),
        ({"grant_type": "refresh_token", "client_secret": "wrong"}, False, 401, "invalid_client"),
    ],
)
def test_token_endpoint(
    emu: MagaluEmulator, body: dict[str, str], as_json: bool, status: int, error: str | None
) -> None:
    """requirement: ID Magalu's grants (JSON code exchange, form refresh) and OAuth errors."""
    fields = {"client_id": "sandbox-client", "client_secret": "sandbox-secret", **body}
    if fields.get("code") == "CODE":
        fields["code"] = emu.issue_authorization_code()
    transport = EmulatorTransport(emu.app)
    with httpx.Client(transport=transport, base_url="http://magalu.test") as client:
        sent = {"json": fields} if as_json else {"data": fields}
        response = client.post("/oauth/token", **sent)
    transport.close()
    assert response.status_code == status
    if error:
        assert response.json()["error"] == error
    else:
        assert set(response.json()) == {
            "access_token",
            "token_type",
            "expires_in",
            "refresh_token",
            "scope",
            "created_at",
        }
        assert response.json()["expires_in"] == 7200


def test_seeding_is_deterministic(time: FakeTime) -> None:
    """requirement: the same seed gives the same orders (ids, times, amounts)."""
    first = MagaluEmulator(seed=5, clock=time.now)
    second = MagaluEmulator(seed=5, clock=time.now)
    assert first.orders == second.orders
    assert len(first.orders) == 10


def test_sandbox_account_covers_every_status(time: FakeTime) -> None:
    """requirement: the sandbox has every order/delivery status, Full and multi-delivery."""
    emu = MagaluEmulator(clock=time.now)
    orders = list(emu.orders.values())
    assert {o["status"] for o in orders} == {"new", "approved", "cancelled", "finished"}
    deliveries = [d for o in orders for d in o["deliveries"]]
    assert {d["status"] for d in deliveries} == {
        "new",
        "approved",
        "invoiced",
        "shipped",
        "delivered",
        "cancelled",
        "frozen",
    }
    assert any(len(o["deliveries"]) > 1 for o in orders)
    assert any(o["amounts"]["normalizer"] == 1000 for o in orders)
    assert any(
        (d["shipping"]["logistic_network"] or {}).get("id") == "fulfillment" for d in deliveries
    )
