"""Vnda products as listings: one listing per variant, keyed by the variant's SKU.

The SKU is what Vnda's stock endpoints take (`/api/v2/variants/{sku}/quantity`), so it is
the listing's variation id; the product id is its item. Variant fields from the API
reference's Variant model (POST /api/v2/products/{product_id}/variants answer): `sku`,
`quantity` (what the stock endpoints set), `stock` ("quantidade de itens disponíveis"),
`available`, `available_quantity`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erpsync.domain import Listing


def variant_ref(variant: Mapping[str, Any]) -> str:
    """The variation id: the SKU, or `#<id>` for a variant without one (never written)."""
    sku = sku_of(variant)
    return sku if sku is not None else f"#{variant.get('id')}"


def sku_of(variant: Mapping[str, Any]) -> str | None:
    sku = variant.get("sku")
    return str(sku).strip() if sku not in (None, "") and str(sku).strip() else None


def channel_quantity(variant: Mapping[str, Any]) -> int | None:
    """What the store holds for sale: `quantity` (what a stock push sets), else `stock`."""
    for key in ("quantity", "stock"):
        value = variant.get(key)
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            try:
                return int(float(value))
            except ValueError:
                continue
    return None


def listing_from_payload(
    payload: Mapping[str, Any], *, connector: str, product: Mapping[str, Any]
) -> Listing:
    """One variant (``payload``) of ``product``."""
    name, variant_name = product.get("name"), payload.get("name")
    if name and variant_name and variant_name != name:
        title: str | None = f"{name} - {variant_name}"
    else:
        title = str(name or variant_name) if (name or variant_name) else None
    return Listing(
        connector=connector,
        item_id=str(product["id"]),
        variation_id=variant_ref(payload),
        sku=sku_of(payload),
        title=title,
        channel_quantity=channel_quantity(payload),
        extra={"variant_id": payload.get("id"), "available": payload.get("available")},
    )


def listings_from_payload(payload: Mapping[str, Any], *, connector: str) -> list[Listing]:
    """Every variant of one product of GET /api/v2/products."""
    return [
        listing_from_payload(variant, connector=connector, product=payload)
        for variant in payload.get("variants") or []
        if isinstance(variant, Mapping)
    ]
