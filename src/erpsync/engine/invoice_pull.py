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

An invoice refused here that names no order awaiting one (no order named, one not in the
store, one already settled) has no order to be asked about again: it goes to the quarantine
(connector: the ERP, id ``nfe:<access key>``, its XML kept byte for byte), where ``quarantine
list`` shows why and ``quarantine replay`` attaches it once its order is there. It holds the
watermark under the same bound, while its quarantine row is younger than the hold, so the
next windows read it again meanwhile; a later run that stores it closes the row.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from erpsync.connector import (
    ConnectorCore,
    ErpOrderRef,
    InvoiceChanges,
    InvoiceSource,
    Window,
)
from erpsync.domain import Invoice
from erpsync.engine.invoices import ALL_MODELS, ModelsFor, attach, match_order
from erpsync.errors import InvoiceRefusedError
from erpsync.postsale.domain import InvoiceSource as Origin
from erpsync.postsale.nfe import parse_nfe
from erpsync.store import Store, cursors, orders, quarantine
from erpsync.store import erp as erp_store
from erpsync.store.tables import QuarantineRow

log = logging.getLogger("erpsync.engine.invoice_pull")

#: orders asked about per fetch_invoices call
BATCH = 50
#: the watermark of an ERP whose changes are listed (store.cursors)
CURSOR = "invoices"
#: ``payload["kind"]`` of a quarantined ERP invoice (an order payload has none)
QUARANTINE_KIND = "erp_invoice"


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
    #: of ``refused``: invoices naming no order awaiting one, kept in the quarantine
    quarantined: int = 0
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
            "quarantined": self.quarantined,
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
        kept = f", {self.quarantined} quarantined" if self.quarantined else ""
        return (
            f"{awaiting}{': ' + ', '.join(ways) if ways else ''}; "
            f"{self.new} new, {self.refused} refused{stuck}{kept}"
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
    #: refused invoices that name no order awaiting one, with why (quarantined)
    orphans: dict[str, tuple[Invoice, str]] = {}

    def store_all(changes: InvoiceChanges) -> None:
        for invoice in changes.invoices:
            refusal = _store_one(store, source.name, invoice, models_for, dry_run, report)
            if refusal is None:
                continue
            order_id = ids.get((invoice.connector or "", invoice.order_external_id or ""))
            if order_id is None:
                orphans[invoice.access_key] = (invoice, refusal)
            else:
                unsettled.add(order_id)
        for ref in changes.unsettled:
            order_id = ids.get((ref.connector, ref.external_id))
            if order_id is not None:
                unsettled.add(order_id)
            else:  # no order of ours awaits an NF-e there: nothing to wait for
                log.warning(
                    "%s: an NF-e not ready was reported for %s:%s, which awaits none",
                    source.name,
                    ref.connector,
                    ref.external_id,
                )

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
        kept = [
            _quarantine(session, source.name, invoice, why, started)
            for invoice, why in orphans.values()
        ]
    report.quarantined = len(kept)
    # an unsettled NF-e holds the watermark only while it is younger than the hold, and so
    # does an orphan while its quarantine row is
    holding = [order for order in unsettled if since.get(order, started) > started - hold]
    held_orphans = [row for row in kept if row.created_at > started - hold]
    report.stuck = len(unsettled) - len(holding)
    if not source.lists_invoice_changes:
        return report
    if held_orphans or holding:
        log.info(
            "%s: the invoice watermark stays (%d NF-e not ready or refused for under %s, %d "
            "refused naming no order awaiting one, quarantined): the next run covers them again",
            source.name,
            len(holding),
            hold,
            len(held_orphans),
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
    if kept:
        log.warning(
            "%s: %d refused NF-e naming no order awaiting one, quarantined for over %s: the "
            "watermark goes on; `erpsync quarantine list` shows them, `replay` attaches them",
            source.name,
            len(kept),
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
) -> str | None:
    """Store one invoice from the ERP on its channel order; the reason when it is refused."""
    where = f"{invoice.connector}:{invoice.order_external_id}"

    def refuse(why: str) -> str:
        report.refused += 1
        report.errors.append(why)
        return why

    if invoice.xml is None or invoice.connector is None or invoice.order_external_id is None:
        return refuse(f"{erp}: NF-e {invoice.access_key} came without its XML or order")
    try:
        parsed = parse_nfe(invoice.xml)
    except InvoiceRefusedError as exc:
        return refuse(f"{where}: {exc}")
    if parsed.invoice.access_key != invoice.access_key:
        return refuse(
            f"{where}: the ERP says NF-e {invoice.access_key}, its XML is "
            f"{parsed.invoice.access_key}"
        )
    with store.session() as session:
        row = orders.get_order(session, invoice.connector, invoice.order_external_id)
        if row is None:
            return refuse(f"{where}: no such order in the store")
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
            return refuse(f"{where}: {exc}")
        if dry_run:
            session.rollback()
        else:
            # refused before (naming no order awaiting one) and quarantined: settled now
            quarantine.resolve_order(session, erp, _quarantine_id(invoice.access_key))
    if attached.already:
        report.already += 1
        return None
    report.new += 1
    report.changes.append(
        f"{where}: NF-e {parsed.invoice.number}/{parsed.invoice.series} {parsed.invoice.access_key}"
    )
    report.warnings.extend(f"{where}: {w}" for w in attached.warnings)
    return None


def _quarantine_id(access_key: str) -> str:
    return f"nfe:{access_key}"


def _quarantine(
    session: Session, erp: str, invoice: Invoice, why: str, now: datetime
) -> QuarantineRow:
    """Keep a refused ERP invoice that names no order awaiting one (its XML byte for byte, as
    base64) in the quarantine; one open row per NF-e, its first sighting kept."""
    payload: dict[str, Any] = {
        "kind": QUARANTINE_KIND,
        "access_key": invoice.access_key,
        "number": invoice.number,
        "series": invoice.series,
        "connector": invoice.connector,
        "order_external_id": invoice.order_external_id,
        "xml_base64": base64.b64encode(invoice.xml).decode("ascii") if invoice.xml else None,
    }
    row_id = quarantine.add(session, erp, _quarantine_id(invoice.access_key), payload, why, at=now)
    row = quarantine.get_item(session, row_id)
    assert row is not None
    return row


def replay_invoice(session: Session, item: QuarantineRow, models_for: ModelsFor) -> str | None:
    """Attach a quarantined ERP invoice (``quarantine replay``): to the order it names, else
    to the order its XML matches (order number, or recipient, total and date). Resolves the
    row and returns None once attached; else refreshes the row's reason and returns it."""
    payload = item.payload if isinstance(item.payload, dict) else {}
    encoded = payload.get("xml_base64")
    why: str
    if not encoded:
        why = "the ERP sent no XML: ask it again (`invoices pull --recheck`) or attach it by hand"
    else:
        try:
            parsed = parse_nfe(base64.b64decode(encoded))
        except InvoiceRefusedError as exc:
            why = str(exc)
        else:
            row = None
            if payload.get("connector") and payload.get("order_external_id"):
                row = orders.get_order(
                    session, str(payload["connector"]), str(payload["order_external_id"])
                )
            how = ""
            if row is None:
                row, how = match_order(session, parsed.invoice)
            if row is None:
                why = f"no order to attach it to: {how}"
            else:
                try:
                    with session.begin_nested():
                        attach(
                            session,
                            row,
                            parsed,
                            models=models_for(row),
                            force=True,
                            source=Origin.ERP,
                        )
                except InvoiceRefusedError as exc:
                    why = f"{row.connector}:{row.external_id}: {exc}"
                else:
                    assert item.id is not None
                    quarantine.resolve(session, item.id)
                    return None
    quarantine.add(session, item.connector, item.external_id, item.payload, why)
    return why
