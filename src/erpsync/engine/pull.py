"""pull-orders for one connector: window, pages, mapping, upsert, stock effects, cursor.

Crash safety comes from one rule: every page is committed in one transaction together with the
stock movements it causes, and the cursor moves only after the data it covers is committed.
A process killed anywhere re-reads at most the current window on the next run, and the upsert
plus the ledger's idempotency keys make that re-read change nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlmodel import Session

from erpsync.connector import (
    Connector,
    ConnectorCore,
    OrderPage,
    OrderSource,
    RawOrder,
    SeenOrders,
    Window,
)
from erpsync.domain import Order
from erpsync.engine import heap
from erpsync.engine.effects import Action, Effect, decide
from erpsync.engine.parked import book_parked
from erpsync.engine.stock import (
    Applied,
    Catalogue,
    LineStock,
    apply_transition,
    holding_bucket,
    line_key,
    order_reference,
    unknown_skus,
)
from erpsync.errors import RetriableError
from erpsync.http.pagination import PaginationCapReached
from erpsync.http.session import HttpSession
from erpsync.postsale.shipments import shipments_from_order
from erpsync.postsale.status import merge_status
from erpsync.store import (
    Store,
    cursors,
    ledger,
    listings,
    orders,
    products,
    quarantine,
    shipments,
)
from erpsync.store import erp as erp_store

if TYPE_CHECKING:
    from erpsync.store.tables import OrderItemRow, ShipmentRow

#: ``on_page(listed, total)``: see ``pull_orders``
Progress = Callable[[int, int | None], None]

log = logging.getLogger("erpsync.pull")

CURSOR = "orders"
#: extra passes over a window whose paging may skip records (see _WindowReader)
CONFIRMATION_PASSES = 2
#: the narrowest window split further when a platform caps paging
MIN_SPLIT = timedelta(seconds=1)
#: change lines a report keeps (for --dry-run and --json); counts are always complete
MAX_CHANGES = 1000
#: what a mapping may raise on a payload it cannot read; anything else is a bug and propagates
MAPPING_ERRORS = (ValueError, ValidationError, KeyError, TypeError, LookupError, ArithmeticError)


@dataclass
class PullReport:
    connector: str
    window: Window | None = None
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    quarantined: int = 0
    #: orders quarantined by this run that were not quarantined before it
    newly_quarantined: int = 0
    #: orders a transient failure of their own requests left to the next run
    deferred: int = 0
    #: inputs the connector refused as a whole (a files connector's unreadable file)
    rejected: list[str] = field(default_factory=list)
    unknown_skus: set[str] = field(default_factory=set)
    changes: list[str] = field(default_factory=list)
    cursor: datetime | None = None

    def note(self, change: str) -> None:
        """Keep a line about one change; past MAX_CHANGES only count it (memory stays flat)."""
        if len(self.changes) < MAX_CHANGES:
            self.changes.append(change)
        elif len(self.changes) == MAX_CHANGES:
            self.changes.append("... (more changes not listed)")

    def counts(self) -> dict[str, int]:
        return {
            "fetched": self.fetched,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "stale": self.stale,
            "quarantined": self.quarantined,
            "newly_quarantined": self.newly_quarantined,
            "deferred": self.deferred,
            "rejected": len(self.rejected),
            "unknown_skus": len(self.unknown_skus),
        }

    def shortfall(self) -> str | None:
        """What this run could not take in (new to this run), or None: makes the run partial."""
        parts = []
        if self.newly_quarantined:
            parts.append(f"{_plural(self.newly_quarantined, 'order')} quarantined")
        if self.deferred:
            parts.append(f"{_plural(self.deferred, 'order')} left for the next run")
        if self.rejected:
            parts.append(f"{_plural(len(self.rejected), 'file')} rejected")
        return ", ".join(parts) or None


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


class StoreSeen(SeenOrders):
    """SeenOrders backed by the store. Asked for every order the platform lists, so it uses
    a plain read connection rather than an ORM session (which costs more than the query)."""

    def __init__(self, store: Store, connector: str) -> None:
        self.store = store
        self.connector = connector
        self._created: set[str] | None = None

    def is_current(self, external_id: str, updated_at: datetime | None) -> bool:
        return bool(self.current_of({external_id: updated_at}))

    def current_of(self, versions: Mapping[str, datetime | None]) -> set[str]:
        with self.store.reader() as connection:
            stored = orders.stored_versions(connection, self.connector, list(versions))
        return {i for i, updated_at in versions.items() if stored.get(i) == updated_at}

    def created_here(self, external_ids: Iterable[str]) -> set[str]:
        if self._created is None:
            with self.store.session() as session:
                self._created = erp_store.remote_ids(session, self.connector)
        return self._created & set(external_ids)


def pull_window(connector: ConnectorCore, store: Store, since: datetime | None) -> Window:
    """[cursor - overlap, now), or [since, now) for a re-pull, or the first-run lookback."""
    now = connector.now()
    if since is not None:
        return Window(since, now)
    with store.session() as session:
        cursor = cursors.get_cursor(session, connector.name, CURSOR)
    if cursor is None:
        return Window(now - connector.settings.initial_lookback, now)
    return Window(min(cursor - connector.overlap, now), now)


def pull_orders(
    connector: Connector,
    store: Store,
    *,
    since: datetime | None = None,
    dry_run: bool = False,
    on_page: Progress | None = None,
    stock_effects: bool = True,
) -> PullReport:
    """Pull one connector's changed orders into the store. See the module docstring.

    ``on_page(listed, total)`` after each page: records the platform listed since the last
    call, and the total the platform announced for the run's listings so far (None when it
    gives none).

    ``stock_effects=False``: the orders move no stock here (the connector is the ERP that is
    the stock source: its orders are in its stock already)."""
    source = OrderSource.of(connector)
    window = pull_window(source, store, since)
    report = PullReport(connector.name, window=window)
    heap.start()
    with store.session() as session:
        if not dry_run:  # lines parked by an earlier pull whose SKU has become known since
            location = {connector.name: connector.settings.locations[0]}
            book_parked(session, locations=location, default_location="", connector=connector.name)
        catalogue = load_catalogue(session, connector.name)
        catalogue.stock_effects = stock_effects
    run = _WindowReader(source, store, report, catalogue, dry_run, on_page)
    complete = run.read_until_stable(window)
    if dry_run:
        return report
    if not complete:
        log.warning(
            "%s: orders kept moving between pages; the cursor stays so the next run reads "
            "this window again",
            connector.name,
        )
        return report
    if run.held:
        log.warning(
            "%s: %s failed for now; the cursor stays so the next run reads them again",
            connector.name,
            _plural(report.deferred, "order"),
        )
        return report
    final = run.checkpoint if run.checkpoint is not None else window.end
    with store.session() as session:
        report.cursor = cursors.advance_cursor(session, connector.name, CURSOR, final)
    return report


class _WindowReader:
    """Reads a window page by page, one transaction per page; splits windows a platform will
    not page through, and re-reads windows whose paging may skip records."""

    def __init__(
        self,
        connector: OrderSource,
        store: Store,
        report: PullReport,
        catalogue: Catalogue,
        dry_run: bool,
        on_page: Progress | None,
    ) -> None:
        self.connector = connector
        self.store = store
        self.report = report
        self.catalogue = catalogue
        self.dry_run = dry_run
        self.on_page = on_page
        #: what the platform said its listings hold, summed as each listing starts: each
        #: confirmation pass and window half is a listing of its own, and adds its records
        #: to both sides of "listed of total"
        self.announced: int | None = None
        self.seen = StoreSeen(store, connector.name)
        self.checkpoint: datetime | None = None
        #: an order was left to the next run: the cursor moves no further in this run
        self.held = False

    def read_until_stable(self, window: Window) -> bool:
        """Read ``window``; for offset-paged platforms, read it again until a pass finds
        nothing new. An order updated while we page leaves the filtered result and shifts
        every later record back by one, so the record at a page boundary is skipped; the
        next pass finds it (unchanged orders cost no detail calls). False: still moving.

        "Nothing new" counts orders stored or changed by the pass: an unmappable order comes
        back in every pass (it is quarantined, not stored) and must not hold the cursor.

        A pass needs no other when no record can have shifted across a page boundary: every
        listing of it fit in one page, or its paginator proved each boundary intact (pages
        that overlap by a record, ``OffsetPaginator(overlap=...)``); the HTTP session counts
        the listings for which neither holds (``HttpSession.unproven_listings``)."""
        unproven = _unproven_listings(self.connector)
        self.read(window)
        if not self.connector.reread_until_stable or self.dry_run:
            return True
        if unproven is not None and _unproven_listings(self.connector) == unproven:
            # nothing skipped: a quiet pull, or a first pull, costs one pass, not two
            return True
        for _ in range(CONFIRMATION_PASSES):
            before = self.report.new + self.report.updated
            unproven = _unproven_listings(self.connector)
            self.read(window)
            if self.report.new + self.report.updated == before:
                return True
            if unproven is not None and _unproven_listings(self.connector) == unproven:
                return True  # this pass read everything that stayed in the window
            log.info("%s: orders shifted between pages; reading the window again", self.name)
        return False

    @property
    def name(self) -> str:
        return self.connector.name

    def read(self, window: Window) -> int:
        """Commit every page of ``window``; return how many orders came."""
        try:
            count = 0
            for page in self.connector.fetch_orders(window, self.seen):
                count += self._commit(page)
                del page  # committed: its payloads are freed before the next page is read
            return count
        except PaginationCapReached:
            # the platform will not page this far: read each half (pages already committed
            # stay; their orders are current now, so the halves skip them)
            if window.end - window.start <= MIN_SPLIT:
                raise
            log.info("%s: too many orders in one window; splitting it", self.name)
            first, second = window.split()
            return self.read(first) + self.read(second)

    def _commit(self, page: OrderPage) -> int:
        if page.listing_total is not None:
            self.announced = (self.announced or 0) + page.listing_total
        if page.orders or page.rejected or page.checkpoint or page.after_commit:
            self._store(page)
        if self.on_page:
            listed = page.listed if page.listed is not None else len(page.orders)
            self.on_page(listed, self.announced)
        return len(page.orders)

    def _store(self, page: OrderPage) -> None:
        with self.store.session() as session:
            before = self.report.deferred
            _apply_page(session, self.connector, page, self.report, self.catalogue)
            self.held = self.held or self.report.deferred > before
            if page.checkpoint is not None and not self.held:
                self.checkpoint = page.checkpoint
                if not self.dry_run:
                    cursors.advance_cursor(session, self.name, CURSOR, page.checkpoint)
            if self.dry_run:
                session.rollback()
        if page.after_commit is not None and not self.dry_run:
            page.after_commit()  # the page is committed: now the platform may forget it


def _unproven_listings(connector: OrderSource) -> int | None:
    """How many listings of an HTTP connector so far had a page boundary a record could
    have shifted across (None: the connector does not page over HTTP, so every
    confirmation pass is made)."""
    http = getattr(connector, "http", None)
    return http.unproven_listings if isinstance(http, HttpSession) else None


def _apply_page(
    session: Session,
    connector: OrderSource,
    page: OrderPage,
    report: PullReport,
    catalogue: Catalogue,
) -> None:
    # a later version of a quarantined order that maps fine closes its quarantine item
    page_ids = [raw.external_id for raw in page.orders]
    quarantined = quarantine.open_ids(session, connector.name, page_ids)
    # the page's stored states in one query, read inside this write transaction
    states = orders.order_states(session, connector.name, page_ids)
    report.rejected.extend(page.rejected)
    # mapping is pure: done first, so one query finds the stock holders of the page's new
    # sales, and the new orders are written together when the page ends (orders.NewOrders)
    mapped = [_mapped(connector, raw) for raw in page.orders]
    sales = {
        order.sale_ref
        for order in mapped
        if isinstance(order, Order) and order.sale_ref and order.external_id not in states
    }
    holders = orders.stock_holders(session, sales, connector.name) if sales else {}
    # which of the page's SKUs are products: one query for the page, not one per order
    unchecked = {
        item.sku
        for order in mapped
        if isinstance(order, Order)
        for item in order.items
        if item.sku and item.sku not in catalogue.known
    }
    if unchecked:
        catalogue.known |= products.known_skus(session, unchecked)
    new_orders = orders.NewOrders(session)
    # the page's changed orders are written together too, and what updating them reads (the
    # lines of those holding stock, their shipments) is read for the whole page at once
    updates = orders.OrderUpdates(session)
    stored = [state.id for state in states.values()]
    page_shipments: dict[int, Sequence[ShipmentRow]] = dict(
        shipments.by_order(session, stored) if stored else {}
    )
    holding = [s.id for s in states.values() if holding_bucket(s.stock_effect) is not None]
    page_lines: dict[int, Sequence[OrderItemRow]] = dict(
        orders.items_of(session, holding) if holding else {}
    )
    # and the stock movements they cause: the ledger rows of the page's orders read in one
    # query, the new movements written together when the page ends (ledger.PageMovements)
    movements = ledger.PageMovements(
        session, {order_reference(order) for order in mapped if isinstance(order, Order)}
    )
    for raw, result in zip(page.orders, mapped, strict=True):
        report.fetched += 1
        if isinstance(raw.failure, RetriableError):
            # a transient failure of this order's own request: nothing of it is stored, and
            # the cursor stays before it (the neighbours are current by then and cost nothing)
            report.deferred += 1
            report.note(f"retry {raw.external_id} next run: {raw.failure}")
            log.warning(
                "%s: order %s left for the next run: %s",
                connector.name,
                raw.external_id,
                raw.failure,
            )
            continue
        if not isinstance(result, Order):
            assert result is not None  # None only for the transient failures above
            reason = _one_line(result)
            quarantine.add(session, connector.name, raw.external_id, raw.payload, reason)
            report.quarantined += 1
            if raw.external_id not in quarantined:
                report.newly_quarantined += 1
                quarantined.add(raw.external_id)
            report.note(f"quarantine {raw.external_id}: {reason}")
            log.warning("%s: order %s quarantined: %s", connector.name, raw.external_id, reason)
            continue
        order = result
        if order.external_id in new_orders:  # the same order twice in one page: its row first
            for external_id, order_id in new_orders.flush().items():
                states[external_id] = replace(states[external_id], id=order_id)
        if order.external_id in updates:  # written, and its lines and shipments read again
            updates.flush()
            page_shipments.pop(states[order.external_id].id, None)
            page_lines.pop(states[order.external_id].id, None)
        state = states.get(order.external_id)
        saved = apply_order(
            session,
            connector,
            order,
            raw.payload,
            report,
            catalogue,
            state,
            new_orders=new_orders,
            holders=holders,
            updates=updates,
            page_shipments=page_shipments,
            page_lines=page_lines,
            movements=movements,
        )
        if saved is not None:
            states[order.external_id] = saved
        if raw.external_id in quarantined:
            quarantine.resolve_order(session, connector.name, raw.external_id)
    new_orders.flush()
    updates.flush()
    movements.flush()


def _mapped(connector: OrderSource, raw: RawOrder) -> Order | Exception | None:
    """The order ``raw`` maps to, or what failed it (a mapping error, or a refused request
    of its own); None when a transient failure of its requests leaves it to the next run."""
    if isinstance(raw.failure, RetriableError):
        return None
    try:
        if raw.failure is not None:  # refused: retrying the same request cannot succeed
            raise ValueError(f"a request for this order failed: {raw.failure}")
        return connector.map_order(raw.payload)
    except MAPPING_ERRORS as exc:
        return exc


def apply_order(
    session: Session,
    connector: ConnectorCore,
    order: Order,
    raw: dict[str, Any],
    report: PullReport,
    catalogue: Catalogue,
    row: orders.OrderState | bool | None = True,
    *,
    new_orders: orders.NewOrders | None = None,
    holders: Mapping[str, int] | None = None,
    updates: orders.OrderUpdates | None = None,
    page_shipments: Mapping[int, Sequence[ShipmentRow]] | None = None,
    page_lines: Mapping[int, Sequence[OrderItemRow]] | None = None,
    movements: ledger.PageMovements | None = None,
) -> orders.OrderState | None:
    """Upsert one mapped order and apply its stock transition, exactly once.

    ``row`` is the order's stored state when the caller read it already (None: not stored);
    left at True it is read here. Returns the new state, or None when nothing was written.
    ``new_orders``: a new order is queued there (its state's id is 0 until that is flushed)
    instead of written now. ``holders``: the caller's ``orders.stock_holders`` for the new
    orders' sales, instead of a look-up here. ``updates``: a changed order is queued there
    instead of written now; ``page_shipments`` / ``page_lines``: stored orders' shipment rows
    and item rows (of those holding stock) as the caller read them, by order id, instead of
    a look-up here (an id missing from them is looked up). ``movements``: the page's stock
    movements are queued there (``ledger.PageMovements``, its references the page's orders')
    instead of written now.
    """
    if row is True:
        row = orders.order_state(session, order.connector, order.external_id)
    assert row is None or isinstance(row, orders.OrderState)
    if row is not None and row.updated_at > order.updated_at:
        report.stale += 1  # an older snapshot (overlap, replay, out-of-order): never go back
        return None
    if row is not None:
        status = merge_status(row.status, order.status)
        if status is not order.status:
            order = order.model_copy(update={"status": status})
    if row is not None and row.updated_at == order.updated_at and row.status == order.status:
        report.unchanged += 1
        return None
    previous = Effect(row.stock_effect) if row is not None else Effect.NONE
    # the same sale already stored from another connector (a marketplace pulled directly and
    # through a hub): the first copy moves its stock, this one never does
    copy_of = row.stock_copy_of if row is not None else None
    if row is None and order.sale_ref:
        if holders is not None:
            copy_of = holders.get(order.sale_ref)
        else:
            copy_of = orders.stock_holder(session, order.sale_ref, order.connector)
    transition = decide(
        previous,
        order.status,
        fulfilled_by_channel=order.fulfilled_by_channel
        or copy_of is not None
        or not catalogue.stock_effects,
    )
    if transition.reinstated and row is not None and row.updated_at == order.updated_at:
        # same version, other status: no telling which came last, and a cancellation stands
        report.stale += 1
        return None
    previous_lines: dict[str, str] = {}
    if row is not None and holding_bucket(row.stock_effect) is not None:
        lines = page_lines.get(row.id) if page_lines is not None else None
        if lines is None:
            lines = orders.order_items(session, row.id)
        previous_lines = {line_key(i): i.stock for i in lines}
    applied = apply_transition(
        session,
        order,
        transition,
        location=connector.settings.locations[0],
        catalogue=catalogue,
        previous_lines=previous_lines,
        movements=movements,
    )
    report.unknown_skus.update(unknown_skus(order, catalogue))
    if row is None and new_orders is not None:
        new_orders.add(
            order,
            raw,
            transition.effect.value,
            line_stock=applied.lines,
            stock_copy_of=copy_of,
            shipments=shipments.new_rows(order.connector, shipments_from_order(order)),
        )
        order_id = 0  # the row is written with the page's others (NewOrders.flush)
    elif row is not None and updates is not None:
        order_id = updates.add(
            order,
            raw,
            transition.effect.value,
            state=row,
            line_stock=applied.lines,
            stock_copy_of=copy_of,
        )
        shipments.sync_shipments(
            session,
            order_id,
            order.connector,
            shipments_from_order(order),
            stored=page_shipments.get(order_id) if page_shipments is not None else None,
        )
    else:
        order_id = orders.save_order(
            session,
            order,
            raw,
            transition.effect.value,
            state=row,
            line_stock=applied.lines,
            stock_copy_of=copy_of,
        )
        shipments.sync_shipments(
            session, order_id, order.connector, shipments_from_order(order), new_order=row is None
        )
    stock = _stock_note(order, transition.action, applied)
    if copy_of is not None and row is None:
        stock += f" (sale {order.sale_ref} seen before: its stock moves with the first copy)"
    if row is None:
        report.new += 1
        report.note(f"new {order.external_id} {order.status.value}{stock}")
    else:
        report.updated += 1
        report.note(f"update {order.external_id} {row.status} -> {order.status.value}{stock}")
    return orders.OrderState(
        order_id, order.status.value, order.updated_at, transition.effect.value, copy_of
    )


def load_catalogue(session: Session, connector: str) -> Catalogue:
    """Kits and the connector's listing links (which make their SKUs known) for a pull."""
    links = listings.sku_links(session, connector)
    return Catalogue(products.kit_components(session), set(links.values()), links)


def _stock_note(order: Order, action: Action | None, applied: Applied) -> str:
    """What a change line says about stock: only what was booked, and which lines wait."""
    notes = []
    if action is not None and applied.moved:
        notes.append(f"stock: {action.value}")
    parked = [
        item.sku or f"item {item.channel_item_id}"
        for item, state in zip(order.items, applied.lines, strict=True)
        if state is LineStock.PARKED
    ]
    if parked:
        notes.append(f"parked until known: {', '.join(parked)}")
    return f" ({'; '.join(notes)})" if notes else ""


def _one_line(exc: BaseException) -> str:
    """The mapping error as one line, without the offending values: pydantic's own text
    repeats each input (a buyer's CPF, say), and this line goes to logs and the quarantine."""
    if isinstance(exc, ValidationError):
        text = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'order'}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False, include_context=False)
        )
    else:
        text = str(exc)
    return f"{type(exc).__name__}: {' '.join(text.split())}"[:500]
