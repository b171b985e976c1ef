"""Nuvemshop products as listings: one listing per variant, the pure mapping.

Stock and the SKU live on the variant; the parent product has no SKU (TiendaNube/api-docs
#47, #50; resources/product_variant.md). Names are per language (`{"pt": ...}`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from erpsync.domain import Listing


def title(name: Any) -> str | None:
    if isinstance(name, Mapping):
        for language in ("pt", "es", "en"):
            if name.get(language):
                return str(name[language])
        return next((str(v) for v in name.values() if v), None)
    return str(name) if name else None


def variant_quantity(
    variant: Mapping[str, Any], location_ids: Collection[str] | None = None
) -> int | None:
    """What Nuvemshop shows as available: under multi-inventory, the sum of the configured
    locations' levels (None when one is missing or unlimited), else `stock` (null:
    unlimited, not managed)."""
    if location_ids:
        levels = _levels(variant)
        known = [levels.get(i) for i in location_ids]
        return None if None in known else sum(q for q in known if q is not None)
    stock = variant.get("stock")
    return int(stock) if stock is not None else None


def _levels(variant: Mapping[str, Any]) -> dict[str, int | None]:
    """Nuvemshop location id -> the variant's stock there (None: unlimited)."""
    return {
        str(level.get("location_id")): (
            int(level["stock"]) if level.get("stock") is not None else None
        )
        for level in variant.get("inventory_levels") or []
        if isinstance(level, Mapping)
    }


def listing_from_payload(
    payload: Mapping[str, Any],
    *,
    connector: str,
    product: Mapping[str, Any],
    location_id: str | None = None,
    locations: Mapping[str, str] | None = None,
) -> Listing:
    """One variant (``payload``) of ``product``; a variant without SKU is listed with none
    (never written to until a SKU links it). ``location_id``: the one inventory level read;
    ``locations`` (erpsync location -> Nuvemshop location id): the levels summed, each kept
    in ``extra["inventory_levels"]`` under its erpsync location."""
    sku = payload.get("sku")
    extra: dict[str, Any] = {
        "stock_management": payload.get("stock_management"),
        "published": product.get("published"),
    }
    ids: Collection[str] | None = [location_id] if location_id is not None else None
    if locations:
        ids = list(locations.values())
        levels = _levels(payload)
        extra["inventory_levels"] = {place: levels.get(i) for place, i in locations.items()}
    return Listing(
        connector=connector,
        item_id=str(product["id"]),
        variation_id=str(payload["id"]),
        sku=str(sku).strip() if sku not in (None, "") else None,
        title=title(product.get("name")),
        channel_quantity=variant_quantity(payload, ids),
        extra=extra,
    )


def listings_from_payload(
    payload: Mapping[str, Any],
    *,
    connector: str,
    location_id: str | None = None,
    locations: Mapping[str, str] | None = None,
) -> list[Listing]:
    """Every variant of one product of GET /products."""
    return [
        listing_from_payload(
            variant,
            connector=connector,
            product=payload,
            location_id=location_id,
            locations=locations,
        )
        for variant in payload.get("variants") or []
    ]
