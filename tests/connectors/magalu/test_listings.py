"""Magalu listings.py specs: a portfolio SKU -> its Listing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from erpsync.connectors.magalu import listings
from erpsync.domain import Listing

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "magalu" / "fixtures"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def test_sku_is_a_listing() -> None:
    """requirement: each SKU is its own listing (item_id = sku, no variation id)."""
    sku = load("skus-page")["results"][0]
    assert listings.listing_from_payload(sku, connector="mg", quantity=17) == Listing(
        connector="mg",
        item_id="CAMISETA-AZ-M",
        variation_id=None,
        sku="CAMISETA-AZ-M",
        title="Camiseta Azul M",
        channel_quantity=17,
        extra={"status": "PUBLISHED", "group_id": "CAMISETA-AZ"},
    )
