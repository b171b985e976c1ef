"""shipments push for one connector: hand each shipment's tracking to the channel, once.

The same rules as invoices push (erpsync.engine.invoice_push): each batch's records are
committed as "sent" before the request goes out, then moved to the channel's answer. A run
killed in between leaves "sent", which the next run sends again; sinks take a tracking code
the channel already holds as accepted, so nothing is lost and nothing is sent twice:

    (none) ──▶ sent ──▶ accepted          (the order becomes "shipped")
                 ├───▶ pending ──verify──▶ accepted | refused | pending
                 ├───▶ failed   (transient or not ready yet: sent again next run)
                 └───▶ refused  (the channel said no: kept with its error; --again resends)

Shipments the channel fulfils (Full, FBA) are never sent, nor those whose logistic type the
sink does not take (``TrackingSink.tracking_logistic_types``: Mercado Livre ME2 has no call),
nor those of orders cancelled here (the seller learns it from ``status``, not from a refusal).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlmodel import Session, col, select

from erpsync.connector import Connector, TrackingSink
from erpsync.domain import OrderStatus, SendResult, TrackingUpdate
from erpsync.engine.push_report import RecordPushReport
from erpsync.errors import ErpsyncError
from erpsync.postsale.domain import PushState
from erpsync.store import Store, shipments
from erpsync.store.tables import OrderRow, ShipmentRow, TrackingPush

log = logging.getLogger("erpsync.shipments")

_DUE = (PushState.SENT.value, PushState.FAILED.value)
#: an accepted tracking moves these local statuses to "shipped"; later ones stay
_BEFORE_SHIPPED = frozenset({OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.INVOICED})


@dataclass
class TrackingPushReport(RecordPushReport):
    noun: ClassVar[str] = "tracking push(es)"

    skipped: int = 0  # fulfilled by the channel, a logistic type without a call, cancelled

    def counts(self) -> dict[str, int]:
        return {**super().counts(), "skipped": self.skipped}


@dataclass(frozen=True)
class _Due:
    shipment_id: int
    order_id: int
    update: TrackingUpdate


def push_tracking(
    connector: Connector,
    store: Store,
    *,
    again: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> TrackingPushReport:
    """Verify the tracking the channel is still processing, then send the shipments due."""
    sink = TrackingSink.of(connector)
    report = TrackingPushReport(connector.name)
    with store.session() as session:
        waiting = _load(session, sink, (PushState.PENDING.value,), report=None)
    if waiting:
        results = sink.verify_tracking([d.update for d in waiting])
        _record(store, connector.name, waiting, results, report, sent=False)
    states = (*_DUE, PushState.REFUSED.value) if again else _DUE
    with store.session() as session:
        due = _load(session, sink, states, report=report, unsent=True)
    size = max(1, sink.tracking_batch_size)
    for start in range(0, len(due), size):
        batch = due[start : start + size]
        with store.session() as session:
            for item in batch:
                shipments.record_tracking_push(
                    session, item.shipment_id, connector.name, PushState.SENT
                )
        try:
            results = sink.push_tracking([d.update for d in batch])
        except ErpsyncError as exc:
            # the whole batch failed (network, auth): sent again next run, then the run fails
            line = " ".join(str(exc).split())
            failed = [
                SendResult(ref=d.update.shipment_ref, ok=False, retry=True, error=line)
                for d in batch
            ]
            _record(store, connector.name, batch, failed, report)
            raise
        _record(store, connector.name, batch, results, report)
        if on_batch is not None:
            on_batch(len(batch))
    return report


def _load(
    session: Session,
    sink: TrackingSink,
    states: Sequence[str],
    *,
    report: TrackingPushReport | None,
    unsent: bool = False,
) -> list[_Due]:
    """The connector's shipments with tracking whose push record is in ``states`` (and, with
    ``unsent``, those with none yet), oldest shipped first. Shipments that never go out are
    counted in ``report.skipped``."""
    query = (
        select(ShipmentRow, OrderRow, TrackingPush)
        .join(OrderRow, col(OrderRow.id) == col(ShipmentRow.order_id))
        .outerjoin(
            TrackingPush,
            (col(TrackingPush.shipment_id) == col(ShipmentRow.id))
            & (col(TrackingPush.connector) == sink.name),
        )
        .where(OrderRow.connector == sink.name, col(ShipmentRow.tracking_code).is_not(None))
        .order_by(col(ShipmentRow.shipped_at), col(ShipmentRow.id))
    )
    found: list[_Due] = []
    types = sink.tracking_logistic_types
    for row, order, push in session.exec(query).all():
        if not ((push is None and unsent) or (push is not None and push.state in states)):
            continue
        if (
            row.fulfilled_by_channel
            or order.fulfilled_by_channel
            or order.status == OrderStatus.CANCELLED
            or (types is not None and row.logistic_type not in types)
        ):
            if report is not None and push is None:
                report.skipped += 1
            continue
        assert row.id is not None and order.id is not None and row.tracking_code is not None
        update = TrackingUpdate(
            order_external_id=order.external_id,
            shipment_ref=row.shipment_ref,
            carrier=row.carrier,
            tracking_code=row.tracking_code,
            tracking_url=row.tracking_url,
            shipped_at=row.shipped_at,
            logistic_type=row.logistic_type,
        )
        found.append(_Due(row.id, order.id, update))
    return found


def _record(
    store: Store,
    connector: str,
    batch: Sequence[_Due],
    results: Sequence[SendResult],
    report: TrackingPushReport,
    *,
    sent: bool = True,
) -> None:
    """Move each shipment's record to the channel's answer; one the sink did not answer for
    stays "sent" (sent again next run). An accepted one marks its order shipped."""
    by_ref = {r.ref: r for r in results}
    with store.session() as session:
        for item in batch:
            # a sink answering by order id (one shipment per order) is understood too
            result = by_ref.get(item.update.shipment_ref) or by_ref.get(
                item.update.order_external_id
            )
            if result is None:
                report.failed += 1
                report.errors.append(f"{_ref(item)}: no answer from the channel")
                continue
            state = _state(result)
            if sent:
                report.sent += 1
            setattr(report, state.value, getattr(report, state.value) + 1)
            if result.error and state is not PushState.ACCEPTED:
                report.errors.append(f"{_ref(item)}: {state.value}: {result.error}")
            shipments.record_tracking_push(
                session,
                item.shipment_id,
                connector,
                state,
                error=None if state is PushState.ACCEPTED else result.error,
                remote_ref=result.remote_id,
            )
            if state is PushState.ACCEPTED:
                _mark_shipped(session, item.order_id)


def _mark_shipped(session: Session, order_id: int) -> None:
    order = session.get(OrderRow, order_id)
    if order is not None and order.status in _BEFORE_SHIPPED:
        order.status = OrderStatus.SHIPPED.value
        session.add(order)


def _state(result: SendResult) -> PushState:
    if result.ok:
        return PushState.PENDING if result.pending else PushState.ACCEPTED
    if result.pending:
        return PushState.PENDING
    return PushState.FAILED if result.retry else PushState.REFUSED


def _ref(item: _Due) -> str:
    update = item.update
    where = f"{update.order_external_id}"
    if update.shipment_ref != update.order_external_id:
        where += f" shipment {update.shipment_ref}"
    return f"{where} tracking {update.tracking_code}"


def stuck_pushes(session: Session) -> list[dict[str, str | None]]:
    """Tracking pushes that did not end accepted: refused (fix by hand), failed or unconfirmed
    (retried by the next run), pending (the channel is still processing)."""
    query = (
        select(TrackingPush, ShipmentRow, OrderRow)
        .where(TrackingPush.shipment_id == ShipmentRow.id, ShipmentRow.order_id == OrderRow.id)
        .where(col(TrackingPush.state) != PushState.ACCEPTED.value)
        .order_by(col(TrackingPush.connector), col(ShipmentRow.id))
    )
    return [
        {
            "connector": push.connector,
            "order": f"{order.connector}:{order.external_id}",
            "shipment": shipment.shipment_ref,
            "tracking_code": shipment.tracking_code,
            "state": push.state,
            "error": push.error,
        }
        for push, shipment, order in session.exec(query).all()
    ]
