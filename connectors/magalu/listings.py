"""Listings: a Magalu portfolio SKU -> canonical Listing. Pure, like orders.py.

ref: https://developers.magalu.com/docs/seller-produtos/get_skus_list/
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erpsync.domain import Listing


def listing_from_payload(
    payload: Mapping[str, Any], *, connector: str, quantity: int | None = None
) -> Listing:
    """One portfolio SKU is one listing: Magalu has no variation ids (variations are SKUs).

    ``quantity`` is the AVAILABLE stock read for it (``listing_stock: true``), else None.
    """
    group = payload.get("group") or {}
    return Listing(
        connector=connector,
        item_id=str(payload["sku"]),
        variation_id=None,
        sku=str(payload["sku"]),
        title=payload.get("title"),
        channel_quantity=quantity,
        extra={"status": payload.get("status"), "group_id": group.get("id")},
    )
