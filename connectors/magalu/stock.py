"""Stock: the PATCH body of one push, the quantity a stock read shows, and what a read-back
says about a push Magalu accepted (202) to apply later. Pure planning only; the connector's
push_stock / verify_pending make the requests.

ref: PATCH/GET /seller/v1/portfolios/stocks/{sku} (portfolio stocks, developers.magalu.com;
the official page was not captured, so the body follows integrator code [R]).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from erpsync.domain import PushResult, StockUpdate

STOCK_PATH = "/seller/v1/portfolios/stocks/{sku}"
#: Stock PATCH body `type`: the sellable quantity (ref: integrator code consistent across
#: codebases; `{"quantity": N, "type": "AVAILABLE"}` plus `channel.id` when the seller has one).
STOCK_TYPE = "AVAILABLE"


def stock_path(sku: str) -> str:
    """A seller SKU is one path segment, whatever characters it has."""
    return STOCK_PATH.format(sku=quote(sku, safe=""))


def stock_sku(update: StockUpdate) -> str:
    """The SKU a push addresses: Magalu's item id is the SKU itself."""
    return update.sku or update.item_id


def stock_body(update: StockUpdate, channel_id: str | None) -> dict[str, Any]:
    """`{"quantity": N, "type": "AVAILABLE"}`, plus `channel.id` when the seller set one."""
    body: dict[str, Any] = {"quantity": update.quantity, "type": STOCK_TYPE}
    if channel_id:
        body["channel"] = {"id": channel_id}
    return body


def available_quantity(stocks: Mapping[str, Any], channel_id: str | None = None) -> int | None:
    """AVAILABLE quantity from GET /portfolios/stocks/{sku}; None when no stock is registered.

    The response lists one entry per (type, channel). We keep the configured channel, or the
    first channel seen, so one channel's quantity is never added to another's.
    """
    entries = [e for e in stocks.get("results") or [] if e.get("type", "AVAILABLE") == "AVAILABLE"]
    if not entries:
        return None
    wanted = channel_id or (entries[0].get("channel") or {}).get("id")
    chosen = [e for e in entries if (e.get("channel") or {}).get("id") in (wanted, None)]
    if not chosen:
        return None
    return sum(int(e.get("quantity") or 0) for e in chosen)


def verified(update: StockUpdate, shown: int | None) -> PushResult:
    """A push accepted earlier, read back: ok when the channel shows it, else why not."""
    if shown == update.quantity:
        return PushResult(item_id=update.item_id, ok=True)
    what = "no stock entry" if shown is None else str(shown)
    error = f"push of {update.quantity} not applied (channel shows {what})"
    return PushResult(item_id=update.item_id, ok=False, error=error)
