"""Attach NF-e XMLs to orders: the checks against the order, matching files to orders, storing.

``parse_nfe`` (erpsync.postsale.nfe) checks what the XML says about itself; this module checks
it against the order it is for, and stores it in the caller's transaction:

- the order must be paid (or later) and not cancelled;
- the order's channel must take the model (Mercado Livre, Amazon and Magalu: NF-e 55 only);
- vNF must equal the order total, and the recipient CPF/CNPJ the order's buyer document;
  ``force`` overrides these two, and the invoice records which ones it overrode. An order with
  several shipments (Magalu deliveries) may be invoiced in parts: each part passes while the
  invoices together do not exceed the order total. A cart (Mercado Livre's pack: orders of one
  sale, ``sale_ref``, on one connector) takes one NF-e for all its orders: attached to one of
  them, its vNF may equal the cart's total, and the cart's other orders become invoiced too.

On success a ``paid`` order becomes ``invoiced`` (see erpsync.postsale.status for how that
meets the next pull). The same key attached again to the same order changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from erpsync.domain import Invoice, InvoiceModel, OrderStatus
from erpsync.errors import InvoiceRefusedError
from erpsync.postsale.domain import InvoiceSource, cancellation_advice
from erpsync.postsale.domain import PushState as PushState  # tests read engine.PushState
from erpsync.postsale.nfe import ParsedNfe, parse_nfe
from erpsync.store import invoices, orders, pushes, shipments
from erpsync.store.tables import InvoiceRow, OrderRow

if TYPE_CHECKING:
    from erpsync.config import Config

#: what each channel type takes. NFC-e (65) is for sales at the counter; the marketplaces
#: require an NF-e (55) for goods they ship (ref: ML "importar nota fiscal": modelo 55 only).
#: A connector class may declare ``invoice_models`` itself; other types take both.
CHANNEL_MODELS: dict[str, frozenset[str]] = {
    "mercadolivre": frozenset({"55"}),
    "amazon": frozenset({"55"}),
    "magalu": frozenset({"55"}),
}
ALL_MODELS = frozenset(m.value for m in InvoiceModel)
#: for an order whose connector is no longer configured: go by the platform it came from
PLATFORM_TYPES = {"Mercado Livre": "mercadolivre", "Amazon": "amazon", "Magalu": "magalu"}
#: an order matched by buyer + total must have been created within this time before the NF-e
MATCH_WINDOW = timedelta(days=60)

ModelsFor = Callable[[OrderRow], frozenset[str]]


def models_for_type(
    connector_type: str | None, declared: Iterable[str] | None = None
) -> frozenset[str]:
    if declared is not None:
        return frozenset(declared)
    return CHANNEL_MODELS.get(connector_type or "", ALL_MODELS)


def models_for_config(config: Config) -> ModelsFor:
    """OrderRow -> the NF-e models its channel takes: from its connector's type, or for a
    connector no longer configured from the platform the order came from."""

    def models(order: OrderRow) -> frozenset[str]:
        cls = config.connector_classes.get(order.connector)
        if cls is None:
            return models_for_type(PLATFORM_TYPES.get(order.platform))
        return models_for_type(cls.type, getattr(cls, "invoice_models", None))

    return models


@dataclass
class Attached:
    order: str  # CONNECTOR:EXTERNAL_ID
    access_key: str
    already: bool = False
    forced_checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    status: str | None = None  # the order's status afterwards


def order_ref(row: OrderRow) -> str:
    return f"{row.connector}:{row.external_id}"


def attach(
    s: Session,
    order: OrderRow,
    parsed: ParsedNfe,
    *,
    models: frozenset[str],
    force: bool = False,
    source: InvoiceSource = InvoiceSource.MANUAL,
    file_name: str | None = None,
) -> Attached:
    """Check ``parsed`` against ``order`` and store it; InvoiceRefusedError says why not."""
    invoice = parsed.invoice
    ref = order_ref(order)
    assert order.id is not None
    existing = invoices.by_key(s, invoice.access_key)
    if existing is not None:
        if existing.order_id == order.id:
            return Attached(ref, invoice.access_key, already=True, status=order.status)
        other = s.get(OrderRow, existing.order_id)
        where = order_ref(other) if other is not None else f"order #{existing.order_id}"
        raise InvoiceRefusedError(f"NF-e {invoice.access_key} is already attached to {where}")
    _check_order_state(order, ref)
    if invoice.model.value not in models:
        allowed = " or ".join(sorted(models))
        raise InvoiceRefusedError(
            f"{ref}: {order.platform} takes modelo {allowed} only; this XML is modelo "
            f"{invoice.model.value} ({'NFC-e' if invoice.model is InvoiceModel.NFCE else 'NF-e'})"
        )
    result = Attached(ref, invoice.access_key)
    mates = _cart_mates(s, order, invoice)  # before it is stored: no mate holds an NF-e
    for check, problem in _mismatches(s, order, invoice):
        if not force:
            raise InvoiceRefusedError(f"{ref}: {problem} (--force attaches it anyway)")
        result.forced_checks.append(check)
        result.warnings.append(f"forced: {problem}")
    if order.buyer_document is None:
        result.warnings.append("the order has no buyer document: the recipient was not checked")
    if invoice.environment != 1:
        result.warnings.append("homologation NF-e (tpAmb 2, no fiscal value): channels refuse it")
    invoices.add_invoice(
        s,
        order.id,
        invoice,
        parsed.xml,
        source=source,
        forced_checks=result.forced_checks,
        shipment_id=_shipment_for(s, order.id),
        file_name=file_name,
    )
    if order.status == OrderStatus.PAID:
        order.status = OrderStatus.INVOICED.value
        s.add(order)
    if mates:
        for mate in mates:
            if mate.status == OrderStatus.PAID:
                mate.status = OrderStatus.INVOICED.value
                s.add(mate)
        refs = ", ".join(order_ref(row) for row in mates)
        result.warnings.append(f"one NF-e for the whole cart: {refs} invoiced by it too")
    result.status = order.status
    return result


def cart_orders(s: Session, order: OrderRow) -> list[OrderRow]:
    """The orders of the cart ``order`` belongs to (itself included, by id): the same sale
    (``sale_ref``) on the same connector, as Mercado Livre's pack orders are; just ``order``
    when it was bought alone."""
    if not order.sale_ref:
        return [order]
    query = select(OrderRow).where(
        OrderRow.connector == order.connector, OrderRow.sale_ref == order.sale_ref
    )
    rows = list(s.exec(query.order_by(col(OrderRow.id))).all())
    return rows if len(rows) > 1 else [order]


def _cart(s: Session, order: OrderRow) -> list[OrderRow]:
    """The cart's orders an NF-e may cover: those not cancelled."""
    return [row for row in cart_orders(s, order) if row.status != OrderStatus.CANCELLED]


def _cart_mates(s: Session, order: OrderRow, invoice: Invoice) -> list[OrderRow]:
    """The cart's other orders when ``invoice`` is the NF-e of the whole cart (its vNF is the
    cart's total, not the order's, and no other order of the cart has an NF-e); else []."""
    cart = _cart(s, order)
    if len(cart) < 2 or invoice.total == order.total or invoice.total != _total(cart):
        return []
    mates = [row for row in cart if row.id != order.id]
    if any(invoices.invoices_of(s, row.id) for row in mates if row.id is not None):
        return []
    return mates


def _total(rows: Iterable[OrderRow]) -> Decimal:
    return sum((row.total for row in rows), Decimal("0.00"))


def _check_order_state(order: OrderRow, ref: str) -> None:
    if order.status == OrderStatus.CANCELLED:
        raise InvoiceRefusedError(f"{ref} is cancelled: an NF-e is not attached to it")
    if order.status == OrderStatus.PENDING:
        raise InvoiceRefusedError(f"{ref} is not paid yet (pending): invoice it once it is paid")


def _mismatches(s: Session, order: OrderRow, invoice: Invoice) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    assert order.id is not None
    if invoice.total != order.total:
        several = len(shipments.shipments_of(s, order.id)) > 1
        together = invoices.invoiced_total(s, order.id) + invoice.total
        cart = _cart(s, order)
        if not ((several and together <= order.total) or _cart_mates(s, order, invoice)):
            problem = f"vNF {invoice.total} differs from the order total {order.total}"
            if len(cart) > 1:
                problem += f" and from its cart's {_total(cart)} ({len(cart)} orders)"
            found.append(("total", problem))
    if order.buyer_document is not None and invoice.recipient_document != order.buyer_document:
        what = "names no recipient" if invoice.recipient_document is None else "has a recipient"
        # never the documents themselves: they are personal data and this line is printed
        found.append(
            (
                "recipient",
                f"the NF-e {what} CPF/CNPJ other than the order's buyer document"
                if invoice.recipient_document is not None
                else f"the NF-e {what}, the order has a buyer document",
            )
        )
    return found


def _shipment_for(s: Session, order_id: int) -> int | None:
    """The shipment an invoice belongs to: the order's only one, or with several (Magalu
    deliveries) the first one that has no invoice yet."""
    rows = shipments.shipments_of(s, order_id)
    if len(rows) == 1:
        return rows[0].id
    taken = {row.shipment_id for row in invoices.invoices_of(s, order_id)}
    return next((row.id for row in rows if row.id not in taken), None)


# --- matching files to orders --------------------------------------------------------------


def match_order(s: Session, invoice: Invoice) -> tuple[OrderRow | None, str]:
    """The order an NF-e is for: by a channel order number the XML names (xPed, compra,
    infAdic), or a cart's number (the files connector's `cart`: its first order, as a Mercado
    Livre pack's), else by recipient document + total + date. Returns (order, how) or
    (None, why)."""
    by_number: dict[int, OrderRow] = {}
    for ref in invoice.order_refs:
        for row in [*orders.find_orders(s, ref), *orders.carts_numbered(s, ref)]:
            if row.id is not None:
                by_number[row.id] = row
    if len(by_number) == 1:
        return next(iter(by_number.values())), "order number"
    if len(by_number) > 1:
        rows = sorted(by_number.values(), key=lambda r: r.id or 0)
        carts = {(r.connector, r.sale_ref) for r in rows}
        if len(carts) == 1 and rows[0].sale_ref:
            # a cart's orders share its number (ML's pack id): one NF-e for all, on the first
            # one not cancelled
            live = [r for r in rows if r.status != OrderStatus.CANCELLED] or rows
            return live[0], f"order number (a cart of {len(rows)} orders)"
        refs = ", ".join(sorted(order_ref(r) for r in rows))
        return None, f"the order numbers in the XML match several orders ({refs})"
    if invoice.recipient_document is None:
        return None, "no order number in the XML and no recipient to match by"
    query = select(OrderRow).where(
        OrderRow.buyer_document == invoice.recipient_document,
        col(OrderRow.created_at) <= invoice.issued_at,
        col(OrderRow.created_at) >= invoice.issued_at - MATCH_WINDOW,
        OrderRow.status != OrderStatus.CANCELLED.value,
    )
    candidates = [row for row in s.exec(query).all() if row.total == invoice.total]
    if len(candidates) == 1:
        return candidates[0], "recipient, total and date"
    if candidates:
        refs = ", ".join(sorted(order_ref(r) for r in candidates))
        return None, f"recipient, total and date match several orders ({refs})"
    return None, "no order has its order number, nor its recipient, total and date"


@dataclass
class ImportReport:
    attached: list[tuple[str, Attached]] = field(default_factory=list)
    already: list[tuple[str, Attached]] = field(default_factory=list)
    #: file name -> why it was not attached (refused or unmatched); the file stays where it is
    left: list[tuple[str, str]] = field(default_factory=list)


def xml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".xml")


def import_file(s: Session, path: Path, models_for: ModelsFor, report: ImportReport) -> None:
    """Parse, match and attach one file, recording the outcome in ``report``."""
    name = path.name
    try:
        parsed = parse_nfe(path.read_bytes())
    except InvoiceRefusedError as exc:
        report.left.append((name, str(exc)))
        return
    order, how = match_order(s, parsed.invoice)
    if order is None:
        report.left.append((name, f"unmatched: {how}"))
        return
    try:
        result = attach(
            s,
            order,
            parsed,
            models=models_for(order),
            source=InvoiceSource.IMPORT,
            file_name=name,
        )
    except InvoiceRefusedError as exc:
        report.left.append((name, str(exc)))
        return
    (report.already if result.already else report.attached).append((name, result))


# --- cancellations after the invoice ----------------------------------------------------------


def cancelled_after_invoice(
    s: Session, now: datetime, order_id: int | None = None
) -> list[dict[str, str]]:
    """One line per NF-e whose order the channel cancelled: what the seller must do with it
    (cancel it within 24 h of its authorisation, else issue a return NF-e). A cart's NF-e
    counts for each of its orders: one of them cancelled needs the same (and, within the
    window, a new NF-e for the orders left)."""
    query = select(InvoiceRow, OrderRow).where(
        InvoiceRow.order_id == OrderRow.id, OrderRow.status == OrderStatus.CANCELLED.value
    )
    if order_id is not None:
        query = query.where(OrderRow.id == order_id)
    flagged = [
        (invoice, order, False) for invoice, order in s.exec(query.order_by(col(InvoiceRow.id)))
    ]
    in_carts = select(OrderRow).where(
        OrderRow.status == OrderStatus.CANCELLED.value, col(OrderRow.sale_ref).is_not(None)
    )
    if order_id is not None:
        in_carts = in_carts.where(OrderRow.id == order_id)
    for order in s.exec(in_carts.order_by(col(OrderRow.id))).all():
        assert order.id is not None
        if not invoices.invoices_of(s, order.id):
            flagged += [(invoice, order, True) for invoice in cart_invoices(s, order)]
    return [
        {
            "order": order_ref(order),
            "access_key": invoice.access_key,
            "action": cancellation_advice(invoice.authorised_at or invoice.issued_at, now)
            + (" (the NF-e covers the whole cart)" if whole_cart else ""),
        }
        for invoice, order, whole_cart in flagged
    ]


def covering_invoices(s: Session, order: OrderRow) -> list[InvoiceRow]:
    """The NF-e that cover ``order``: its own, else its cart's (see ``cart_invoices``)."""
    assert order.id is not None
    return invoices.invoices_of(s, order.id) or cart_invoices(s, order)


def cart_invoices(s: Session, order: OrderRow) -> list[InvoiceRow]:
    """The NF-e attached to another order of ``order``'s cart for the whole cart: its vNF is
    more than that order's own total (``attach`` takes a cart's NF-e at the cart's total on
    one of its orders, and invoices the others by it)."""
    found = []
    for mate in cart_orders(s, order):
        if mate.id is not None and mate.id != order.id:
            found += [i for i in invoices.invoices_of(s, mate.id) if i.total > mate.total]
    return found


def stuck_pushes(s: Session) -> list[dict[str, str | None]]:
    """Invoice pushes that did not end accepted: refused (fix by hand), failed or unconfirmed
    (retried by the next run), pending (the channel is still processing)."""
    return [
        {
            "connector": push.connector,
            "order": order_ref(order),
            "access_key": invoice.access_key,
            "state": push.state,
            "error": push.error,
        }
        for push, invoice, order in pushes.stuck(s, pushes.INVOICES)
    ]
