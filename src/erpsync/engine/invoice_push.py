"""invoices push for one connector: hand each invoice of its orders to the channel, once.

Record before send: each batch's push records are committed as "sent" before the request
goes out, then moved to the channel's answer. A run killed in between leaves "sent", which
the next run sends again; sinks take an invoice they already hold as accepted, so nothing is
lost and nothing is attached twice. The states (erpsync.postsale.domain.PushState):

    (none) ──▶ sent ──▶ accepted
                 ├───▶ pending ──verify──▶ accepted | refused | pending
                 ├───▶ failed   (transient or not ready yet: sent again next run)
                 └───▶ refused  (the channel said no: kept with its error; --again resends)

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
from erpsync.errors import ErpsyncError
from erpsync.postsale.domain import PushState
from erpsync.store import Store, invoices
from erpsync.store.tables import InvoicePush, InvoiceRow, OrderRow, ShipmentRow

log = logging.getLogger("erpsync.invoices")

_DUE = (PushState.SENT.value, PushState.FAILED.value)


@dataclass
class InvoicePushReport(RecordPushReport):
    noun: ClassVar[str] = "invoice(s)"

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
    sink = InvoiceSink.of(connector)
    report = InvoicePushReport(connector.name)
    with store.session() as session:
        waiting = _load(session, connector.name, (PushState.PENDING.value,))
    if waiting:
        _record(store, connector.name, waiting, sink.verify_invoices(waiting), report, sent=False)
    states = (*_DUE, PushState.REFUSED.value) if again else _DUE
    with store.session() as session:
        due = _load(session, connector.name, states, unsent=True)
        report.skipped_fulfilled = _fulfilled_count(session, connector.name)
    size = max(1, sink.invoice_batch_size)
    for start in range(0, len(due), size):
        batch = due[start : start + size]
        with store.session() as session:
            for invoice in batch:
                invoices.record_push(session, _id(session, invoice), connector.name, PushState.SENT)
        try:
            results = sink.push_invoices(batch)
        except ErpsyncError as exc:
            # the whole batch failed (network, auth): sent again next run, then the run fails
            line = " ".join(str(exc).split())
            failed = [SendResult(ref=i.access_key, ok=False, retry=True, error=line) for i in batch]
            _record(store, connector.name, batch, failed, report)
            raise
        _record(store, connector.name, batch, results, report)
        if on_batch is not None:
            on_batch(len(batch))
    return report


def _load(
    session: Session, connector: str, states: Sequence[str], *, unsent: bool = False
) -> list[Invoice]:
    """The connector's invoices whose push record is in ``states`` (and, with ``unsent``,
    those with none yet), for orders the channel does not fulfil, oldest first."""
    query = (
        select(InvoiceRow, OrderRow, InvoicePush)
        .join(OrderRow, col(OrderRow.id) == col(InvoiceRow.order_id))
        .outerjoin(
            InvoicePush,
            (col(InvoicePush.invoice_id) == col(InvoiceRow.id))
            & (col(InvoicePush.connector) == connector),
        )
        .where(OrderRow.connector == connector, col(OrderRow.fulfilled_by_channel).is_(False))
        .order_by(col(InvoiceRow.issued_at), col(InvoiceRow.id))
    )
    found: list[Invoice] = []
    for row, order, push in session.exec(query).all():
        if (push is None and unsent) or (push is not None and push.state in states):
            found.append(_invoice(session, row, order))
    return found


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


def _id(session: Session, invoice: Invoice) -> int:
    row = invoices.by_key(session, invoice.access_key)
    assert row is not None and row.id is not None
    return row.id


def _record(
    store: Store,
    connector: str,
    batch: Sequence[Invoice],
    results: Sequence[SendResult],
    report: InvoicePushReport,
    *,
    sent: bool = True,
) -> None:
    """Move each invoice's record to the channel's answer; an invoice the sink did not answer
    for stays "sent" (sent again next run)."""
    by_key = {r.ref: r for r in results}
    with store.session() as session:
        for invoice in batch:
            result = by_key.get(invoice.access_key)
            if result is None:
                report.failed += 1
                report.errors.append(f"{_ref(invoice)}: no answer from the channel")
                continue
            state = _state(result)
            if sent:
                report.sent += 1
            setattr(report, state.value, getattr(report, state.value) + 1)
            if result.error and state is not PushState.ACCEPTED:
                report.errors.append(f"{_ref(invoice)}: {state.value}: {result.error}")
            invoices.record_push(
                session,
                _id(session, invoice),
                connector,
                state,
                error=None if state is PushState.ACCEPTED else result.error,
                remote_ref=result.remote_id,
            )


def _state(result: SendResult) -> PushState:
    if result.ok:
        return PushState.PENDING if result.pending else PushState.ACCEPTED
    if result.pending:
        return PushState.PENDING
    return PushState.FAILED if result.retry else PushState.REFUSED


def _ref(invoice: Invoice) -> str:
    return f"{invoice.connector}:{invoice.order_external_id} NF-e {invoice.number}"
