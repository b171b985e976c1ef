"""Listings: the platform's product/SKU payload -> canonical Listing. Pure, like orders.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erpsync.domain import Listing


def listing_from_payload(payload: Mapping[str, Any], *, connector: str) -> Listing:
    """One listing (item, or one variation of it) with the seller's SKU."""
    return Listing(
        connector=connector,
        item_id=str(payload["id"]),
        variation_id=None,
        sku=payload.get("sku"),
        title=payload.get("title"),
    )
