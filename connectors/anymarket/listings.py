"""Anymarket listings: every SKU of every product (`GET /v2/products`) with its `partnerId`.

ref: AnyMarket/anymarket-sdk-java `anymarket-sdk-product` (Product with `skus[]`, each SKU with
`id`, `title`, `partnerId`, `amount`) and the PHP SDK's `ResponseSamples/Product/ProductGet.json`.
The hub publishes each SKU to its marketplaces; erpsync sees one listing per ANYMARKET SKU, its
`partnerId` being the seller's (our) SKU. A SKU without `partnerId` is listed with no SKU, so
push-stock never writes to it. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erpsync.domain import Listing


def listings_from_payload(product: Mapping[str, Any], *, connector: str) -> list[Listing]:
    """One listing per SKU of a product."""
    skus = product.get("skus")
    return [
        listing_from_payload(sku, connector=connector, product=product)
        for sku in (skus if isinstance(skus, list) else [])
        if isinstance(sku, Mapping) and sku.get("id") not in (None, "")
    ]


def listing_from_payload(
    sku: Mapping[str, Any], *, connector: str, product: Mapping[str, Any] | None = None
) -> Listing:
    """One ANYMARKET SKU -> Listing (item id: the SKU's ANYMARKET id)."""
    partner = sku.get("partnerId")
    amount = sku.get("amount")
    return Listing(
        connector=connector,
        item_id=str(sku["id"]),
        variation_id=None,
        sku=str(partner).strip() if partner not in (None, "") else None,
        title=sku.get("title") or (product or {}).get("title"),
        channel_quantity=int(amount) if isinstance(amount, int | float) else None,
        extra={"product_id": (product or {}).get("id")},
    )
