"""push-stock for one connector: available per listing, diff against the last push, send, record.

Only listings whose available quantity differs from the last value the channel accepted are
sent (``full`` sends all). A failed push keeps the last accepted value, so the next run tries
again. Listings fulfilled by the channel (Full, FBA) are never pushed: their stock lives in the
channel's warehouse.

A channel that takes stock per location (``StockSink.stock_locations`` not empty) gets one
quantity per listing and location instead: each location's availability on its own (the same
computation, over that one location), diffed against that location's last push and recorded
apart. The single-location path does not change.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlmodel import Session

from erpsync.connector import Connector, ConnectorCore, StockSink
from erpsync.domain import PushResult, StockUpdate
from erpsync.engine import availability
from erpsync.errors import ConfigError
from erpsync.store import Store, listings, products
from erpsync.store.tables import ListingRow, PushedStock, PushedStockLocation

#: builds the on-hand source for a session (``availability.ErpOnHand`` with ``stock.source``)
OnHandFactory = Callable[[Session], availability.OnHandSource]

log = logging.getLogger("erpsync.push")


@dataclass(frozen=True)
class PlannedPush:
    listing_id: int
    ref: str
    sku: str
    old: int | None
    new: int
    explanation: str
    send: bool
    #: the erpsync location this quantity is for (per-location channels), else None
    location: str | None = None


@dataclass
class PushReport:
    connector: str
    plan: list[PlannedPush] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    pending: int = 0
    unchanged: int = 0
    skipped_fulfilled: int = 0
    listings_without_sku: list[str] = field(default_factory=list)
    skus_without_listing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "pending": self.pending,
            "unchanged": self.unchanged,
            "fulfilled_by_channel": self.skipped_fulfilled,
            "listings_without_sku": len(self.listings_without_sku),
            "skus_without_listing": len(self.skus_without_listing),
        }

    def shortfall(self) -> str | None:
        """The listings this run failed to update, or None: makes the run partial."""
        if not self.failed:
            return None
        return f"{self.failed} listing{'' if self.failed == 1 else 's'} failed"


def plan_push(
    connector: ConnectorCore,
    store: Store,
    *,
    safety_stock: int,
    full: bool = False,
    on_hand: OnHandFactory | None = None,
) -> PushReport:
    """Work out what each of the connector's listings should show, and which to send."""
    report = PushReport(connector.name)
    sink = StockSink.of(connector)
    places = location_map(sink)
    with store.session() as session:
        rows = listings.list_listings(session, connector.name)
        kits = products.kit_components(session)
        known = products.known_skus(session, {r.sku for r in rows if r.sku})
        all_skus = {p.sku for p in products.list_products(session)}
        source = on_hand(session) if on_hand is not None else None
        # None: the single-location path, one quantity over all the connector's locations
        groups: dict[str | None, Sequence[str]] = (
            {place: [place] for place in places} if places else {None: connector.settings.locations}
        )
        stock_of = {
            place: availability.compute(
                session, known, locations=over, kits=kits, safety_stock=safety_stock, source=source
            )
            for place, over in groups.items()
        }
        last = _last_pushes(session, [r.id for r in rows if r.id is not None], bool(places))
    linked: set[str] = set()
    candidates: list[PlannedPush] = []
    for row in rows:
        assert row.id is not None
        if row.sku:
            linked.add(row.sku)
        if row.fulfilled_by_channel:
            report.skipped_fulfilled += 1
            continue
        if not row.sku or row.sku not in known:
            report.listings_without_sku.append(f"{_ref(row)} ({row.sku or 'no SKU'})")
            continue
        for place, stocks in stock_of.items():
            stock = stocks[row.sku]
            previous = last.get((row.id, place))
            accepted = previous.quantity if previous is not None and previous.pushed_at else None
            retry = previous is not None and previous.last_error is not None
            send = full or accepted != stock.available or retry
            ref = f"{_ref(row)}@{place}" if place else _ref(row)
            candidates.append(
                PlannedPush(
                    row.id, ref, row.sku, accepted, stock.available, stock.explanation, send, place
                )
            )
    report.skus_without_listing = sorted(all_skus - linked)
    report.plan = _widen_to_items(sink, candidates, rows)
    report.unchanged = sum(1 for p in report.plan if not p.send)
    return report


def location_map(connector: StockSink) -> Mapping[str, str]:
    """The connector's erpsync location -> channel location id map, checked against the
    locations it sells from (empty: it takes one quantity per listing).

    Raises:
        ConfigError: a mapped location it does not sell from, or one it sells from unmapped
            (that location's stock would silently reach no channel location).
    """
    places = connector.stock_locations()
    if not places:
        return places
    sells = connector.settings.locations
    extra = [p for p in places if p not in sells]
    missing = [p for p in sells if p not in places]
    if extra or missing:
        problems = [f"{p!r} is not in its locations" for p in extra]
        problems += [f"{p!r} (in its locations) has no channel location" for p in missing]
        raise ConfigError(
            f"connectors.{connector.name}: stock location map: {'; '.join(problems)} "
            f"(locations: {', '.join(sells)})"
        )
    return places


def _last_pushes(
    session: Session, ids: list[int], per_location: bool
) -> Mapping[tuple[int, str | None], PushedStock | PushedStockLocation]:
    if per_location:
        return {key: row for key, row in listings.pushed_by_location(session, ids).items()}
    return {(listing_id, None): row for listing_id, row in listings.pushed(session, ids).items()}


def _widen_to_items(
    connector: StockSink, plan: list[PlannedPush], rows: Sequence[ListingRow]
) -> list[PlannedPush]:
    """For platforms that take all of an item's variations at once, send whole items."""
    if connector.stock_push_scope != "item":
        return plan
    item_of = {row.id: row.item_id for row in rows}
    dirty = {item_of[p.listing_id] for p in plan if p.send}
    return [p if p.send or item_of[p.listing_id] not in dirty else _replace_send(p) for p in plan]


def _replace_send(p: PlannedPush) -> PlannedPush:
    return replace(p, send=True)


def push_stock(
    connector: Connector,
    store: Store,
    *,
    safety_stock: int,
    full: bool = False,
    dry_run: bool = False,
    on_batch: Callable[[int], None] | None = None,
    on_hand: OnHandFactory | None = None,
) -> PushReport:
    """Plan, then send what changed and record each listing's outcome. ``on_hand``: where
    on-hand comes from (default: the ledger; ``stock.source``: an ERP, see availability)."""
    sink = StockSink.of(connector)
    if not dry_run:
        _verify_pending(sink, store)
    report = plan_push(sink, store, safety_stock=safety_stock, full=full, on_hand=on_hand)
    if dry_run:
        return report
    to_send = [p for p in report.plan if p.send]
    by_ref = {p.ref: p for p in to_send}
    rows = _rows_by_id(store, connector.name)
    size = sink.push_batch_size
    for start in range(0, len(to_send), size):
        batch = to_send[start : start + size]
        updates = [_update(rows[p.listing_id], p) for p in batch]
        results = sink.push_stock(updates)
        _record(store, connector, results, by_ref, report)
        if on_batch:
            on_batch(len(batch))
    return report


def _verify_pending(connector: StockSink, store: Store) -> None:
    """Read back pushes the channel accepted asynchronously; a push that never took effect
    is marked failed, so this run sends it again."""
    with store.session() as session:
        rows = {r.id: r for r in listings.list_listings(session, connector.name)}
        records: list[PushedStock | PushedStockLocation] = [
            *listings.pushed(session, list(rows)).values(),
            *listings.pushed_by_location(session, list(rows)).values(),
        ]
        pending = [p for p in records if p.pending]
    if not pending:
        return
    updates = [
        StockUpdate(
            item_id=rows[p.listing_id].item_id,
            variation_id=rows[p.listing_id].variation_id or None,
            sku=rows[p.listing_id].sku,
            quantity=p.quantity,
            location=_location_of(p),
        )
        for p in pending
        if p.quantity is not None
    ]
    results = connector.verify_pending(updates)
    ids = {
        (rows[p.listing_id].item_id, rows[p.listing_id].variation_id or None, _location_of(p)): p
        for p in pending
    }
    now = connector.now()
    with store.session() as session:
        # the records read in one query and written with the commit, as ``_record`` does
        known = listings.known_pushes(session, map(_push_key, pending))
        for result in results:
            entry = ids.get((result.item_id, result.variation_id, result.location))
            if entry is None:
                continue
            listings.record_push(
                session,
                entry.listing_id,
                entry.quantity,
                ok=result.ok,
                pending=False,
                error=result.error,
                at=now,
                location=_location_of(entry),
                known=known,
            )


def _push_key(record: PushedStock | PushedStockLocation) -> listings.PushKey:
    if isinstance(record, PushedStockLocation):
        return (record.listing_id, record.location)
    return record.listing_id


def _location_of(record: PushedStock | PushedStockLocation) -> str | None:
    return record.location if isinstance(record, PushedStockLocation) else None


def _rows_by_id(store: Store, connector: str) -> dict[int, ListingRow]:
    with store.session() as session:
        return {r.id: r for r in listings.list_listings(session, connector) if r.id is not None}


def _update(row: ListingRow, planned: PlannedPush) -> StockUpdate:
    return StockUpdate(
        item_id=row.item_id,
        variation_id=row.variation_id or None,
        sku=row.sku,
        quantity=planned.new,
        location=planned.location,
    )


def _record(
    store: Store,
    connector: ConnectorCore,
    results: Sequence[PushResult],
    by_ref: dict[str, PlannedPush],
    report: PushReport,
) -> None:
    now = connector.now()
    outcomes: dict[str, list[PushResult]] = defaultdict(list)
    for result in results:
        outcomes[result.ref].append(result)
    with store.session() as session:
        # the records these results update, read in one query (not one look-up and one flush
        # per listing), written together when the session commits
        known = listings.known_pushes(
            session,
            (
                p.listing_id if p.location is None else (p.listing_id, p.location)
                for p in (by_ref[ref] for ref in outcomes if ref in by_ref)
            ),
        )
        for ref, found in outcomes.items():
            planned = by_ref.get(ref)
            if planned is None:
                log.warning("%s: result for unknown listing %s ignored", connector.name, ref)
                continue
            result = found[-1]
            listings.record_push(
                session,
                planned.listing_id,
                planned.new,
                ok=result.ok,
                pending=result.pending,
                error=result.error,
                at=now,
                location=planned.location,
                known=known,
            )
            if result.ok:
                report.sent += 1
                report.pending += int(result.pending)
            else:
                report.failed += 1
                report.errors.append(f"{ref}: {result.error}")


def _ref(row: ListingRow) -> str:
    return f"{row.item_id}:{row.variation_id}" if row.variation_id else row.item_id
