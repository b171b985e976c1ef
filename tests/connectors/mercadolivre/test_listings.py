"""Mercado Livre listings: multiget item bodies (fixtures/) -> one Listing per variation."""

from __future__ import annotations

import json
from pathlib import Path

from erpsync.connectors.mercadolivre.listings import listings_from_payload
from erpsync.domain import Listing

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "mercadolivre" / "fixtures"


def test_items_map_to_listings_per_variation_with_seller_sku() -> None:
    """requirement: variations get their own listing and SELLER_SKU; Full is flagged."""
    multiget = json.loads((FIXTURES / "items-multiget.json").read_text(encoding="utf-8"))
    bodies = [entry["body"] for entry in multiget if entry["code"] == 200]
    listings = [x for body in bodies for x in listings_from_payload(body, connector="ml")]
    assert [(x.ref, x.sku, x.fulfilled_by_channel, x.channel_quantity) for x in listings] == [
        ("MLB3100000001:180000000011", "CAM-PRETO-P", False, 12),
        ("MLB3100000001:180000000012", "CAM-PRETO-M", False, 8),
        ("MLB3100000001:180000000013", "CAM-BRANCO-G", False, 5),
        ("MLB3100000002", "CAN-350", False, 20),
        ("MLB3100000003", "FONE-BT", True, 40),
        ("MLB3100000004", "GAR-1L", False, 15),  # legacy seller_custom_field
    ]
    assert listings[0] == Listing(
        connector="ml",
        item_id="MLB3100000001",
        variation_id="180000000011",
        sku="CAM-PRETO-P",
        title="Camiseta Básica Algodão (Preto / P)",
        channel_quantity=12,
        extra={"status": "active"},
    )
