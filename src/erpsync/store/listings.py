"""Channel listings and their SKU links, and what was last pushed to each listing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from erpsync.domain import Listing, utcnow
from erpsync.store.tables import ListingRow, Product, PushedStock, PushedStockLocation

CHUNK = 500


def get_listing(
    s: Session, connector: str, item_id: str, variation_id: str | None = None
) -> ListingRow | None:
    query = select(ListingRow).where(
        ListingRow.connector == connector,
        ListingRow.item_id == item_id,
        ListingRow.variation_id == (variation_id or ""),
    )
    return s.exec(query).first()


_LISTINGS: Table = ListingRow.__table__  # type: ignore[attr-defined]
_EXISTING = core_select(
    _LISTINGS.c.item_id,
    _LISTINGS.c.variation_id,
    _LISTINGS.c.id,
    _LISTINGS.c.sku,
    _LISTINGS.c.source,
).where(
    _LISTINGS.c.connector == bindparam("p_connector"),
    _LISTINGS.c.item_id.in_(bindparam("p_items", expanding=True)),
)
_INSERT = insert(_LISTINGS)
_UPDATE = update(_LISTINGS).where(_LISTINGS.c.id == bindparam("p_id"))


def _existing(
    s: Session, connector: str, item_ids: list[str]
) -> dict[tuple[str, str], tuple[int, str | None, str]]:
    """(item id, variation id) -> (row id, SKU, source) of the listings already stored."""
    found: dict[tuple[str, str], tuple[int, str | None, str]] = {}
    for start in range(0, len(item_ids), CHUNK):
        params = {"p_connector": connector, "p_items": item_ids[start : start + CHUNK]}
        for item_id, variation_id, row_id, sku, source in s.execute(_EXISTING, params):
            found[(item_id, variation_id)] = (row_id, sku, source)
    return found


def upsert_listings(
    s: Session, connector: str, listings: Sequence[Listing], *, at: datetime | None = None
) -> int:
    """Insert or update the channel's listings; return how many were written.

    A manual link (``source == "manual"``) wins over what the channel reports: its SKU is kept
    when the channel reports no SKU or another one, so a seller's fix survives the next pull.
    A listing reported twice in one batch is stored as last reported. The rows are written
    with one INSERT and one UPDATE executemany (a listings page costs this process's CPU
    while the next page is read; ORM objects made it 0.7 ms a listing).

    Raises:
        ValueError: a listing belongs to another connector.
    """
    now = at or utcnow()
    latest: dict[tuple[str, str], Listing] = {}
    for listing in listings:
        if listing.connector != connector:
            raise ValueError(
                f"listing {listing.ref} belongs to {listing.connector}, not {connector}"
            )
        latest[(listing.item_id, listing.variation_id or "")] = listing
    existing = _existing(s, connector, list(dict.fromkeys(item for item, _ in latest)))
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for (item_id, variation_id), listing in latest.items():
        values: dict[str, Any] = {
            "sku": listing.sku,
            "source": "channel",
            "title": listing.title,
            "fulfilled_by_channel": listing.fulfilled_by_channel,
            "channel_quantity": listing.channel_quantity,
            "updated_at": now,
        }
        found = existing.get((item_id, variation_id))
        if found is None:
            inserts.append(
                {"connector": connector, "item_id": item_id, "variation_id": variation_id} | values
            )
            continue
        row_id, sku, source = found
        if source == "manual" and sku:
            values |= {"sku": sku, "source": source}
        updates.append({"p_id": row_id} | values)
    if inserts:
        s.execute(_INSERT, inserts)
    if updates:
        s.execute(_UPDATE, updates)
    return len(listings)


def link(
    s: Session,
    connector: str,
    item_id: str,
    variation_id: str | None,
    sku: str,
    *,
    at: datetime | None = None,
) -> ListingRow:
    """Link a listing to a SKU by hand (source "manual"), creating the listing if unknown."""
    row = get_listing(s, connector, item_id, variation_id)
    if row is None:
        row = ListingRow(connector=connector, item_id=item_id, variation_id=variation_id or "")
    row.sku = sku
    row.source = "manual"
    row.updated_at = at or utcnow()
    s.add(row)
    s.flush()
    return row


def sku_links(s: Session, connector: str) -> dict[tuple[str, str], str]:
    """(item id, variation id or "") -> SKU, for the connector's listings linked to a product."""
    query = (
        select(ListingRow.item_id, ListingRow.variation_id, ListingRow.sku)
        .join(Product, col(Product.sku) == col(ListingRow.sku))
        .where(ListingRow.connector == connector)
    )
    return {(item, variation): sku for item, variation, sku in s.exec(query).all() if sku}


def list_listings(s: Session, connector: str | None = None) -> list[ListingRow]:
    """Listings ordered by connector, item and variation."""
    query = select(ListingRow)
    if connector is not None:
        query = query.where(ListingRow.connector == connector)
    query = query.order_by(
        col(ListingRow.connector), col(ListingRow.item_id), col(ListingRow.variation_id)
    )
    return list(s.exec(query).all())


def pushed(s: Session, listing_ids: Iterable[int | None]) -> dict[int, PushedStock]:
    """listing id -> its push record, for those of ``listing_ids`` ever attempted.

    None ids (rows never flushed) are ignored, so ``[row.id for row in rows]`` can be passed.
    """
    ids = [i for i in dict.fromkeys(listing_ids) if i is not None]
    found: dict[int, PushedStock] = {}
    for start in range(0, len(ids), CHUNK):
        query = select(PushedStock).where(
            col(PushedStock.listing_id).in_(ids[start : start + CHUNK])
        )
        found.update({row.listing_id: row for row in s.exec(query).all()})
    return found


def pushed_by_location(
    s: Session, listing_ids: Iterable[int | None]
) -> dict[tuple[int, str], PushedStockLocation]:
    """(listing id, location) -> its push record, for a channel that takes stock per location."""
    ids = [i for i in dict.fromkeys(listing_ids) if i is not None]
    found: dict[tuple[int, str], PushedStockLocation] = {}
    for start in range(0, len(ids), CHUNK):
        query = select(PushedStockLocation).where(
            col(PushedStockLocation.listing_id).in_(ids[start : start + CHUNK])
        )
        found.update({(row.listing_id, row.location): row for row in s.exec(query).all()})
    return found


#: a push record's key: the listing id, or (listing id, location) for a per-location record
PushKey = int | tuple[int, str]


def known_pushes(
    s: Session, keys: Iterable[PushKey]
) -> dict[PushKey, PushedStock | PushedStockLocation]:
    """The push records of ``keys`` that exist, in two queries: for ``record_push(known=)``."""
    keys = list(keys)
    found: dict[PushKey, PushedStock | PushedStockLocation] = {}
    for listing_id, row in pushed(s, [k for k in keys if isinstance(k, int)]).items():
        found[listing_id] = row
    located = [k for k in keys if isinstance(k, tuple)]
    for located_key, located_row in pushed_by_location(s, [k[0] for k in located]).items():
        found[located_key] = located_row
    return found


def record_push(
    s: Session,
    listing_id: int,
    quantity: int | None,
    *,
    ok: bool,
    pending: bool = False,
    error: str | None = None,
    at: datetime,
    location: str | None = None,
    known: Mapping[PushKey, PushedStock | PushedStockLocation] | None = None,
) -> PushedStock | PushedStockLocation:
    """Record one push attempt (``location``: of one location's quantity, kept apart).

    A success stores ``quantity`` as the accepted value and clears the error (``pending``: the
    channel accepted it asynchronously). A failure keeps the last accepted quantity, so the
    next run sees a difference and sends again, stores the error, and clears ``pending``.

    ``known``: a batch's records loaded beforehand (``known_pushes``): a record not in it is
    new, and the row is written by the session's commit with the batch's others, instead of
    a look-up and a flush for each record.
    """
    row: PushedStock | PushedStockLocation | None
    key: PushKey = listing_id if location is None else (listing_id, location)
    if known is not None:
        row = known.get(key)
    elif location is None:
        row = s.get(PushedStock, listing_id)
    else:
        row = s.get(PushedStockLocation, (listing_id, location))
    if row is None and location is None:
        row = PushedStock(listing_id=listing_id, last_attempt_at=at)
    elif row is None:
        assert location is not None
        row = PushedStockLocation(listing_id=listing_id, location=location, last_attempt_at=at)
    row.last_attempt_at = at
    if ok:
        row.quantity = quantity
        row.pushed_at = at
        row.pending = pending
        row.last_error = None
    else:
        # a failed attempt is settled, not awaiting the channel: only the error remains
        row.pending = False
        row.last_error = error or "push failed (no message)"
    s.add(row)
    if known is None:
        s.flush()
    return row
