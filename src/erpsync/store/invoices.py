"""Invoices in the store: insert one read from its XML, look-ups, push records per channel.

The XML is kept zlib-compressed (an NF-e is 5-20 KB of repetitive text; it shrinks ~4x) and
byte-for-byte as it was read, because channels want the authorised document unchanged.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select

from erpsync.domain import Invoice, utcnow
from erpsync.postsale.domain import InvoiceSource, PushState
from erpsync.store import pushes
from erpsync.store.tables import InvoicePush, InvoiceRow, OrderRow


def add_invoice(
    s: Session,
    order_id: int,
    invoice: Invoice,
    xml: bytes,
    *,
    source: InvoiceSource,
    forced_checks: Sequence[str] = (),
    shipment_id: int | None = None,
    file_name: str | None = None,
) -> InvoiceRow:
    row = InvoiceRow(
        order_id=order_id,
        shipment_id=shipment_id,
        access_key=invoice.access_key,
        model=invoice.model.value,
        number=invoice.number,
        series=invoice.series,
        issued_at=invoice.issued_at,
        authorised_at=invoice.authorised_at,
        issuer_document=invoice.issuer_document,
        recipient_document=invoice.recipient_document,
        total=invoice.total,
        products_total=invoice.products_total,
        freight=invoice.freight,
        discount=invoice.discount,
        protocol=invoice.protocol,
        status_code=invoice.status_code,
        environment=invoice.environment,
        source=source.value,
        forced=bool(forced_checks),
        forced_checks=list(forced_checks),
        order_refs=list(invoice.order_refs),
        file_name=file_name,
        xml_zlib=zlib.compress(xml, 9),
        created_at=utcnow(),
    )
    s.add(row)
    s.flush()
    return row


def xml_of(row: InvoiceRow) -> bytes:
    return zlib.decompress(row.xml_zlib)


def by_key(s: Session, access_key: str) -> InvoiceRow | None:
    return s.exec(select(InvoiceRow).where(InvoiceRow.access_key == access_key)).first()


def invoices_of(s: Session, order_id: int) -> list[InvoiceRow]:
    query = select(InvoiceRow).where(InvoiceRow.order_id == order_id)
    return list(s.exec(query.order_by(col(InvoiceRow.issued_at), col(InvoiceRow.id))).all())


def invoiced_total(s: Session, order_id: int) -> Decimal:
    """The sum of vNF over the order's invoices (Decimal: summed here, not in SQL text)."""
    return sum((row.total for row in invoices_of(s, order_id)), Decimal("0.00"))


def list_invoices(s: Session, *, limit: int = 500) -> list[tuple[InvoiceRow, OrderRow]]:
    """Invoices with their orders, newest issued first."""
    query = (
        select(InvoiceRow, OrderRow)
        .where(InvoiceRow.order_id == OrderRow.id)
        .order_by(col(InvoiceRow.issued_at).desc(), col(InvoiceRow.id).desc())
        .limit(limit)
    )
    return [(invoice, order) for invoice, order in s.exec(query).all()]


def pushes_of(s: Session, invoice_ids: Iterable[int]) -> dict[int, dict[str, InvoicePush]]:
    """invoice id -> connector -> its push record."""
    return pushes.of(s, pushes.INVOICES, invoice_ids)


def orders_with_invoices(s: Session, order_ids: Iterable[int]) -> dict[int, datetime]:
    """order id -> the earliest authorisation (or issue) time among its invoices."""
    ids = list(order_ids)
    if not ids:
        return {}
    query = (
        select(
            InvoiceRow.order_id,
            func.min(func.coalesce(InvoiceRow.authorised_at, InvoiceRow.issued_at)),
        )
        .where(col(InvoiceRow.order_id).in_(ids))
        .group_by(col(InvoiceRow.order_id))
    )
    return {order_id: _aware(first) for order_id, first in s.exec(query).all()}


def _aware(value: object) -> datetime:
    # func.min over a UtcDateTime column returns the stored text, not a datetime
    from erpsync.store.types import UtcDateTime

    parsed = UtcDateTime().process_result_value(value, None)  # type: ignore[arg-type]
    assert parsed is not None
    return parsed


def record_push(
    s: Session,
    invoice_id: int,
    connector: str,
    state: PushState,
    *,
    error: str | None = None,
    remote_ref: str | None = None,
) -> InvoicePush:
    """Create or move one invoice's push record on one channel (one attempt more if "sent")."""
    return pushes.record(
        s, pushes.INVOICES, invoice_id, connector, state, error=error, remote_ref=remote_ref
    )
