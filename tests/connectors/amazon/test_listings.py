"""listings.listing_from_payload on a recorded searchListingsItems page: SKUs, FBA, quantities."""

from __future__ import annotations

import json
from pathlib import Path

from erpsync.connectors.amazon import listings
from erpsync.domain import Listing

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "amazon" / "fixtures"


def test_listings_page_maps_skus_and_fba() -> None:
    """requirement: SKU is the item id (no variation ids); FBA = a channel code not DEFAULT."""
    page = json.loads((FIXTURES / "listings-page.json").read_text(encoding="utf-8"))
    found = [
        listings.listing_from_payload(item, connector="amz", marketplace_id="A2Q3Y263D00KWC")
        for item in page["items"]
    ]
    assert found == [
        Listing(
            connector="amz",
            item_id="CAMISETA-P-AZUL",
            sku="CAMISETA-P-AZUL",
            title="Camiseta azul P",
            channel_quantity=12,
            extra={
                "asin": "B0CAMP0001",
                "product_type": "SHIRT",
                "status": ["BUYABLE", "DISCOVERABLE"],
                "fulfillment_channel_codes": ["DEFAULT"],
            },
        ),
        Listing(
            connector="amz",
            item_id="FONE-BT-FBA",
            sku="FONE-BT-FBA",
            title="Fone Bluetooth",
            fulfilled_by_channel=True,
            channel_quantity=40,
            extra={
                "asin": "B0FONE0001",
                "product_type": "PRODUCT",
                "status": ["BUYABLE", "DISCOVERABLE"],
                "fulfillment_channel_codes": ["AMAZON_NA"],
            },
        ),
        Listing(
            connector="amz",
            item_id="CANECA-AZUL",
            sku="CANECA-AZUL",
            title="Caneca azul 300 ml",
            channel_quantity=None,
            extra={
                "asin": "B0CANECA01",
                "product_type": "PRODUCT",
                "status": ["BUYABLE", "DISCOVERABLE"],
                "fulfillment_channel_codes": ["DEFAULT"],
            },
        ),
    ]
