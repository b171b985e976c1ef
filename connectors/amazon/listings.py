"""Listings: a Listings Items 2021-08-01 item -> canonical Listing. Pure, like orders.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from erpsync.domain import Listing

#: the merchant's own channel code in Listings fulfillmentAvailability; anything else
#: (AMAZON_NA, AMAZON_EU, ...) is an Amazon fulfilment network
MERCHANT_CHANNEL_CODE = "DEFAULT"
#: searchListingsItems' largest page (listingsItems_2021-08-01.json)
PAGE_SIZE = 20


def listing_from_payload(
    payload: Mapping[str, Any], *, connector: str, marketplace_id: str
) -> Listing:
    """One searchListingsItems item (summaries, attributes, fulfillmentAvailability) -> Listing.

    The seller SKU is both the item id and our SKU: Amazon has no variation ids, every child
    variation is its own SKU.
    """
    sku = str(payload["sku"])
    summaries: Sequence[Mapping[str, Any]] = payload.get("summaries") or []
    summary = next(
        (s for s in summaries if s.get("marketplaceId") == marketplace_id),
        summaries[0] if summaries else {},
    )
    availability: Sequence[Mapping[str, Any]] = payload.get("fulfillmentAvailability") or []
    codes = [str(a.get("fulfillmentChannelCode")) for a in availability]
    fba = any(code != MERCHANT_CHANNEL_CODE for code in codes)
    # FBA listings report the Amazon channel's quantity, merchant ones the DEFAULT channel's
    own = [
        a
        for a, code in zip(availability, codes, strict=True)
        if fba == (code != MERCHANT_CHANNEL_CODE)
    ]
    quantity = next((a["quantity"] for a in own if a.get("quantity") is not None), None)
    extra: dict[str, Any] = {
        "asin": summary.get("asin"),
        "product_type": summary.get("productType"),
        "status": list(summary.get("status") or []),
        "fulfillment_channel_codes": codes,
    }
    return Listing(
        connector=connector,
        item_id=sku,
        variation_id=None,
        sku=sku,
        title=summary.get("itemName"),
        fulfilled_by_channel=fba,
        channel_quantity=int(quantity) if quantity is not None else None,
        extra={k: v for k, v in extra.items() if v not in (None, [])},
    )
