"""Listings: the listings file (FORMAT.md; columns item_id, variation_id, sku, title) ->
canonical Listings. Pure, like orders.py."""

from __future__ import annotations

from collections.abc import Mapping

from erpsync.connectors.files.orders import FileRejected, csv_table
from erpsync.domain import Listing

LISTING_COLUMNS = ("item_id", "variation_id", "sku", "title")
LISTING_REQUIRED = ("item_id", "sku")


def listing_from_payload(payload: Mapping[str, str], *, connector: str) -> Listing:
    """One row of the listings file (stripped cells by column) -> its Listing."""
    return Listing(
        connector=connector,
        item_id=payload["item_id"],
        variation_id=payload.get("variation_id") or None,
        sku=payload["sku"],
        title=payload.get("title"),
    )


def listings_from_csv(data: bytes, *, connector: str) -> list[Listing]:
    """Read a listings file; FileRejected if bad."""
    header, records, _ = csv_table(data, known=LISTING_COLUMNS, required=LISTING_REQUIRED)
    listings = []
    for line, cells in records:
        if len(cells) != len(header):
            raise FileRejected(f"line {line} has {len(cells)} cells, the header has {len(header)}")
        values = {column: cell.strip() for column, cell in zip(header, cells, strict=True)}
        if not values["item_id"]:
            raise FileRejected(f"line {line}: item_id is empty")
        listings.append(listing_from_payload(values, connector=connector))
    return listings
