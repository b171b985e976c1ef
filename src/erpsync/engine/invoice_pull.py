"""invoices pull for one ERP connector: the NF-e it issued for orders erpsync created in it.

Each invoice is read from its XML (``parse_nfe``: the document is the truth, not the ERP's
summary of it) and attached to its channel order as an invoice from the ERP, so ``invoices
push`` sends it on. The ERP issued it already: a total or recipient that differs from the
channel order's (freight edited in the ERP, say) is stored and reported, not refused. Orders
that have an invoice are not asked about again.

An ERP that lists its changes since a time (``InvoiceSource.lists_invoice_changes``) is asked
order by order only where a listing could miss an NF-e: on the first run (no watermark yet:
every order awaiting one) and for an order whose push was recorded since the last run but
whose ERP order may be older than this window (found after a lost answer, ``find_order``).
Every other order awaiting an NF-e is covered by one listing of the window [watermark -
overlap, now); a run with no order awaiting one asks nothing. The watermark (cursor
``invoices``) moves to the run's start only once what the run found is stored, and not at all
while an invoice was refused or an NF-e the listing showed is not ready yet (the next window
then covers it again).

That hold is bounded: a nota left pending or rejected for good would otherwise keep the
window growing forever. Each such order records since when its NF-e is stuck
(``erp_pushes.invoice_stuck_since``); once that is older than the connector's
``invoice_hold`` (``invoice_hold_hours``, default 72 h) it no longer holds the watermark,
and its order is asked one by one on every later run until it is settled (authorised,
cancelled, or its invoice attached), so it is neither lost nor listed in growing windows.
``erpsync status`` lists these orders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from erpsync.connector import (
    ConnectorCore,
    ErpOrderRef,
    InvoiceChanges,
    InvoiceSource,
    Window,
)
from erpsync.domain import Invoice
from erpsync.engine.invoices import ALL_MODELS, ModelsFor, attach
from erpsync.errors import InvoiceRefusedError
from erpsync.postsale.domain import InvoiceSource as Origin
from erpsync.postsale.nfe import parse_nfe
from erpsync.store import Store, cursors, orders
from erpsync.store import erp as erp_store

log = logging.getLogger("erpsync.engine.invoice_pull")

#: orders asked about per fetch_invoices call
BATCH = 50
#: the watermark of an ERP whose changes are listed (store.cursors)
CURSOR = "invoices"


@dataclass
class InvoicePullReport:
    connector: str
    asked: int = 0
    #: of ``asked``: asked one by one (the rest through the listing of ``window``)
    one_by_one: int = 0
    window: Window | None = None
    #: the watermark after the run (None: the ERP lists no changes, or none is set yet)
    cursor: datetime | None = None
    new: int = 0
    already: int = 0
    refused: int = 0
    #: of the orders whose NF-e is not ready (or refused): those past the hold, which no
    #: longer hold the watermark and are asked one by one until settled (``status``)
    stuck: int = 0
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "asked": self.asked,
            "one_by_one": self.one_by_one,
            "listed": self.asked - self.one_by_one,
            "new": self.new,
            "already": self.already,
            "refused": self.refused,
            "stuck": self.stuck,
        }

    def summary(self, when: Callable[[datetime], str] = datetime.isoformat) -> str:
        """The run's line for the CLI: how the orders awaiting an NF-e were asked (one by one,
        or by one listing of the window since ``when(window.start)``), then what came of it."""
        listed = self.asked - self.one_by_one
        ways = []
        if self.one_by_one:
            ways.append(f"{self.one_by_one} asked one by one")
        if listed and self.window is not None:
            rest = "the rest" if self.one_by_one else "all"
            ways.append(f"{rest} by one listing since {when(self.window.start)}")
        awaiting = f"{self.asked} order{'' if self.asked == 1 else 's'} awaiting an NF-e"
        stuck = f", {self.stuck} stuck (see status)" if self.stuck else ""
        return (
            f"{awaiting}{': ' + ', '.join(ways) if ways else ''}; "
            f"{self.new} new, {self.refused} refused{stuck}"
        )

    def shortfall(self) -> str | None:
        if not self.refused:
            return None
        return f"{self.refused} invoice{'' if self.refused == 1 else 's'} refused"


def pull_invoices(
    connector: ConnectorCore,
    store: Store,
    *,
    models_for: ModelsFor | None = None,
    dry_run: bool = False,
    recheck: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> InvoicePullReport:
    """Ask the ERP for the invoices of the orders erpsync created in it that have none yet.

    ``recheck``: the watermark is ignored for this run, as on the first one: every order
    awaiting an NF-e is asked one by one, and the watermark then moves to this run's start
    (it never moves back; a refused or unready NF-e leaves it where it was)."""
    source = InvoiceSource.of(connector)
    report = InvoicePullReport(source.name)
    started = source.now()
    hold = source.settings.invoice_hold
    with store.session() as session:
        watermark = None if recheck else cursors.get_cursor(session, source.name, CURSOR)
        awaiting = [
            _Awaiting(
                row.id,
                ErpOrderRef(
                    row.connector,
                    row.external_id,
                    row.number or row.external_id,
                    str(push.remote_id),
                ),
                push.first_sent_at,
                push.updated_at,
                push.invoice_stuck_since,
            )
            for row, push in erp_store.awaiting_invoices(session, source.name)
            if row.id is not None
        ]
    ids = {(o.ref.connector, o.ref.external_id): o.order_id for o in awaiting}
    listing = source.lists_invoice_changes and watermark is not None
    one_by_one: list[ErpOrderRef] = []
    listed: list[ErpOrderRef] = []
    if listing:
        assert watermark is not None
        report.window = Window(min(watermark - source.overlap, started), started)
        for order in awaiting:
            # recorded since the last run, for an ERP order that may be older than this
            # window: a listing could not show an NF-e issued before it
            late = order.recorded >= watermark and order.first_sent < report.window.start
            # stuck past the hold: the watermark went on without it, so only asking finds it
            expired = order.stuck_since is not None and order.stuck_since <= started - hold
            (one_by_one if late or expired else listed).append(order.ref)
    else:
        one_by_one = [order.ref for order in awaiting]
    report.asked = len(awaiting)
    report.one_by_one = len(one_by_one)
    #: orders (ids) whose NF-e is not settled: shown not ready by the ERP, or refused here
    unsettled: set[int] = set()
    #: refused invoices that name no order awaiting one: they hold the watermark, hold or not
    orphans = 0

    def unsettle(connector: str | None, external_id: str | None) -> None:
        nonlocal orphans
        order_id = ids.get((connector or "", external_id or ""))
        if order_id is None:
            orphans += 1
        else:
            unsettled.add(order_id)

    def store_all(changes: InvoiceChanges) -> None:
        for invoice in changes.invoices:
            refused = report.refused
            _store_one(store, source.name, invoice, models_for, dry_run, report)
            if report.refused > refused:
                unsettle(invoice.connector, invoice.order_external_id)
        for ref in changes.unsettled:
            unsettle(ref.connector, ref.external_id)

    for start in range(0, len(one_by_one), BATCH):
        batch = one_by_one[start : start + BATCH]
        for changes in source.look_up_invoices(batch):
            store_all(changes)
        if on_batch:
            on_batch(len(batch))
    if listed and report.window is not None:
        for changes in source.fetch_invoice_changes(report.window, listed):
            store_all(changes)
        if on_batch:
            on_batch(len(listed))
    if dry_run:
        return report
    with store.session() as session:
        since = erp_store.note_invoices_stuck(
            session,
            source.name,
            stuck=sorted(unsettled),
            settled=[
                o.order_id
                for o in awaiting
                if o.stuck_since is not None and o.order_id not in unsettled
            ],
            now=started,
        )
    # an unsettled NF-e holds the watermark only while it is younger than the hold
    holding = [order for order in unsettled if since.get(order, started) > started - hold]
    report.stuck = len(unsettled) - len(holding)
    if not source.lists_invoice_changes:
        return report
    if orphans or holding:
        log.info(
            "%s: the invoice watermark stays (%d NF-e not ready or refused for under %s, %d "
            "refused naming no order): the next run covers them again",
            source.name,
            len(holding),
            hold,
            orphans,
        )
        with store.session() as session:
            report.cursor = cursors.get_cursor(session, source.name, CURSOR)
        return report
    if unsettled:
        log.info(
            "%s: %d NF-e not ready for over %s: the watermark goes on, their orders are asked "
            "one by one until settled",
            source.name,
            len(unsettled),
            hold,
        )
    with store.session() as session:
        report.cursor = cursors.advance_cursor(session, source.name, CURSOR, started)
    return report


@dataclass(frozen=True)
class _Awaiting:
    """An order created in the ERP that has no invoice yet."""

    order_id: int
    ref: ErpOrderRef
    first_sent: datetime
    recorded: datetime
    stuck_since: datetime | None


def _store_one(
    store: Store,
    erp: str,
    invoice: Invoice,
    models_for: ModelsFor | None,
    dry_run: bool,
    report: InvoicePullReport,
) -> None:
    where = f"{invoice.connector}:{invoice.order_external_id}"
    if invoice.xml is None or invoice.connector is None or invoice.order_external_id is None:
        report.refused += 1
        report.errors.append(f"{erp}: NF-e {invoice.access_key} came without its XML or order")
        return
    try:
        parsed = parse_nfe(invoice.xml)
    except InvoiceRefusedError as exc:
        report.refused += 1
        report.errors.append(f"{where}: {exc}")
        return
    if parsed.invoice.access_key != invoice.access_key:
        report.refused += 1
        report.errors.append(
            f"{where}: the ERP says NF-e {invoice.access_key}, its XML is "
            f"{parsed.invoice.access_key}"
        )
        return
    with store.session() as session:
        row = orders.get_order(session, invoice.connector, invoice.order_external_id)
        if row is None:
            report.refused += 1
            report.errors.append(f"{where}: no such order in the store")
            return
        try:
            attached = attach(
                session,
                row,
                parsed,
                models=models_for(row) if models_for is not None else ALL_MODELS,
                force=True,
                source=Origin.ERP,
            )
        except InvoiceRefusedError as exc:
            session.rollback()
            report.refused += 1
            report.errors.append(f"{where}: {exc}")
            return
        if dry_run:
            session.rollback()
    if attached.already:
        report.already += 1
        return
    report.new += 1
    report.changes.append(
        f"{where}: NF-e {parsed.invoice.number}/{parsed.invoice.series} {parsed.invoice.access_key}"
    )
    report.warnings.extend(f"{where}: {w}" for w in attached.warnings)
