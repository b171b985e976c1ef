"""Nuvemshop products as listings: one listing per variant, the pure mapping.

Stock and the SKU live on the variant; the parent product has no SKU (TiendaNube/api-docs
#47, #50; resources/product_variant.md). Names are per language (`{"pt": ...}`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erpsync.domain import Listing


def title(name: Any) -> str | None:
    if isinstance(name, Mapping):
        for language in ("pt", "es", "en"):
            if name.get(language):
                return str(name[language])
        return next((str(v) for v in name.values() if v), None)
    return str(name) if name else None


def variant_quantity(variant: Mapping[str, Any], location_id: str | None) -> int | None:
    """What Nuvemshop shows as available: the configured location's level under
    multi-inventory, else `stock` (null: unlimited, not managed)."""
    if location_id is not None:
        for level in variant.get("inventory_levels") or []:
            if str(level.get("location_id")) == location_id:
                stock = level.get("stock")
                return int(stock) if stock is not None else None
        return None
    stock = variant.get("stock")
    return int(stock) if stock is not None else None


def listing_from_payload(
    payload: Mapping[str, Any],
    *,
    connector: str,
    product: Mapping[str, Any],
    location_id: str | None = None,
) -> Listing:
    """One variant (``payload``) of ``product``; a variant without SKU is listed with none
    (never written to until a SKU links it)."""
    sku = payload.get("sku")
    return Listing(
        connector=connector,
        item_id=str(product["id"]),
        variation_id=str(payload["id"]),
        sku=str(sku).strip() if sku not in (None, "") else None,
        title=title(product.get("name")),
        channel_quantity=variant_quantity(payload, location_id),
        extra={
            "stock_management": payload.get("stock_management"),
            "published": product.get("published"),
        },
    )


def listings_from_payload(
    payload: Mapping[str, Any], *, connector: str, location_id: str | None = None
) -> list[Listing]:
    """Every variant of one product of GET /products."""
    return [
        listing_from_payload(variant, connector=connector, product=payload, location_id=location_id)
        for variant in payload.get("variants") or []
    ]
