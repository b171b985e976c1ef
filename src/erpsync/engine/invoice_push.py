"""invoices push for one connector: hand each invoice of its orders to the channel, once.

The flow, its states and its records are every record push's (erpsync.engine.record_push):
each batch is recorded "sent" before it goes out, then moved to the channel's answer
(accepted, pending and read back next run, failed and sent again, refused and kept until
``--again``); sinks take an invoice they already hold as accepted.

Invoices of orders the channel fulfils (Full, FBA) are never sent: the channel invoices them.
Each invoice goes to its own order's connector.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlmodel import Session, col, select

from erpsync.connector import Connector, InvoiceSink
from erpsync.domain import Invoice, SendResult
from erpsync.engine.push_report import RecordPushReport
from erpsync.engine.record_push import Due, RecordPush
from erpsync.store import Store, invoices, pushes
from erpsync.store.tables import InvoiceRow, OrderRow, ShipmentRow

log = logging.getLogger("erpsync.invoices")


@dataclass
class InvoicePushReport(RecordPushReport):
    noun: ClassVar[str] = "invoice(s)"
    label: ClassVar[str] = "invoices"

    skipped_fulfilled: int = 0

    def counts(self) -> dict[str, int]:
        return {**super().counts(), "fulfilled_by_channel": self.skipped_fulfilled}


def push_invoices(
    connector: Connector,
    store: Store,
    *,
    again: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> InvoicePushReport:
    """Verify the invoices the channel is still processing, then send the ones due."""
    return _InvoicePush(InvoiceSink.of(connector)).run(store, again=again, on_batch=on_batch)


class _InvoicePush(RecordPush[Invoice, InvoicePushReport]):
    kind = pushes.INVOICES

    def __init__(self, sink: InvoiceSink) -> None:
        super().__init__(sink.name, InvoicePushReport(sink.name), sink.invoice_batch_size)
        self.sink = sink

    def load(self, session: Session, states: Sequence[str], *, unsent: bool) -> list[Due[Invoice]]:
        if unsent:
            self.report.skipped_fulfilled = _fulfilled_count(session, self.name)
        found: list[Due[Invoice]] = []
        for row, order, invoice in _rows(session, self.name, states, unsent=unsent):
            assert row.id is not None and order.id is not None
            found.append(Due(row.id, order.id, invoice, (invoice.access_key,), _ref(invoice)))
        return found

    def send(self, items: list[Invoice]) -> Sequence[SendResult]:
        return self.sink.push_invoices(items)

    def verify(self, items: list[Invoice]) -> Sequence[SendResult]:
        return self.sink.verify_invoices(items)


def _load(
    session: Session, connector: str, states: Sequence[str], *, unsent: bool = False
) -> list[Invoice]:
    """The connector's invoices whose push record is in ``states`` (and, with ``unsent``,
    those with none yet), for orders the channel does not fulfil, oldest first."""
    return [invoice for _, _, invoice in _rows(session, connector, states, unsent=unsent)]


def _rows(
    session: Session, connector: str, states: Sequence[str], *, unsent: bool
) -> list[tuple[InvoiceRow, OrderRow, Invoice]]:
    found = pushes.candidates(
        session,
        pushes.INVOICES,
        connector,
        states,
        unsent=unsent,
        where=[col(OrderRow.fulfilled_by_channel).is_(False)],
        order_by=[col(InvoiceRow.issued_at)],
    )
    return [(row, order, _invoice(session, row, order)) for row, order, _ in found]


def _invoice(session: Session, row: InvoiceRow, order: OrderRow) -> Invoice:
    shipment = session.get(ShipmentRow, row.shipment_id) if row.shipment_id else None
    return Invoice(
        access_key=row.access_key,
        model=row.model,
        number=row.number,
        series=row.series,
        issued_at=row.issued_at,
        authorised_at=row.authorised_at,
        issuer_document=row.issuer_document,
        recipient_document=row.recipient_document,
        total=row.total,
        products_total=row.products_total,
        freight=row.freight,
        discount=row.discount,
        protocol=row.protocol,
        status_code=row.status_code,
        environment=row.environment,
        order_refs=tuple(row.order_refs),
        connector=order.connector,
        order_external_id=order.external_id,
        shipment_ref=shipment.shipment_ref if shipment is not None else None,
        xml=invoices.xml_of(row),
    )


def _fulfilled_count(session: Session, connector: str) -> int:
    query = (
        select(InvoiceRow.id)
        .join(OrderRow, col(OrderRow.id) == col(InvoiceRow.order_id))
        .where(OrderRow.connector == connector, col(OrderRow.fulfilled_by_channel).is_(True))
    )
    return len(session.exec(query).all())


def _ref(invoice: Invoice) -> str:
    return f"{invoice.connector}:{invoice.order_external_id} NF-e {invoice.number}"
