"""shipments push for one connector: hand each shipment's tracking to the channel, once.

The flow, its states and its records are every record push's (erpsync.engine.record_push),
as for invoices: each batch is recorded "sent" before it goes out, then moved to the
channel's answer; sinks take a tracking code the channel already holds as accepted. An
accepted tracking makes its order "shipped".

Shipments the channel fulfils (Full, FBA) are never sent, nor those whose logistic type the
sink does not take (``TrackingSink.tracking_logistic_types``: Mercado Livre ME2 has no call),
nor those of orders cancelled here (the seller learns it from ``status``, not from a refusal).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlmodel import Session, col

from erpsync.connector import Connector, TrackingSink
from erpsync.domain import OrderStatus, SendResult, TrackingUpdate
from erpsync.engine.push_report import RecordPushReport
from erpsync.engine.record_push import Due, RecordPush
from erpsync.store import Store, pushes
from erpsync.store.tables import OrderRow, ShipmentRow

log = logging.getLogger("erpsync.shipments")

#: an accepted tracking moves these local statuses to "shipped"; later ones stay
_BEFORE_SHIPPED = frozenset({OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.INVOICED})


@dataclass
class TrackingPushReport(RecordPushReport):
    noun: ClassVar[str] = "tracking push(es)"
    label: ClassVar[str] = "tracking"

    skipped: int = 0  # fulfilled by the channel, a logistic type without a call, cancelled

    def counts(self) -> dict[str, int]:
        return {**super().counts(), "skipped": self.skipped}

    def summary(self) -> str:
        extra = f", {self.skipped} not sent (the channel ships them)" if self.skipped else ""
        return super().summary() + extra


def push_tracking(
    connector: Connector,
    store: Store,
    *,
    again: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> TrackingPushReport:
    """Verify the tracking the channel is still processing, then send the shipments due."""
    return _TrackingPush(TrackingSink.of(connector)).run(store, again=again, on_batch=on_batch)


class _TrackingPush(RecordPush[TrackingUpdate, TrackingPushReport]):
    kind = pushes.TRACKING

    def __init__(self, sink: TrackingSink) -> None:
        super().__init__(sink.name, TrackingPushReport(sink.name), sink.tracking_batch_size)
        self.sink = sink

    def load(
        self, session: Session, states: Sequence[str], *, unsent: bool
    ) -> list[Due[TrackingUpdate]]:
        """Shipments with tracking, oldest shipped first; those that never go out are counted
        in ``report.skipped`` (once: when never sent)."""
        found: list[Due[TrackingUpdate]] = []
        types = self.sink.tracking_logistic_types
        for row, order, push in pushes.candidates(
            session,
            pushes.TRACKING,
            self.name,
            states,
            unsent=unsent,
            where=[col(ShipmentRow.tracking_code).is_not(None)],
            order_by=[col(ShipmentRow.shipped_at)],
        ):
            if (
                row.fulfilled_by_channel
                or order.fulfilled_by_channel
                or order.status == OrderStatus.CANCELLED
                or (types is not None and row.logistic_type not in types)
            ):
                if unsent and push is None:
                    self.report.skipped += 1
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
            # a sink answering by order id (one shipment per order) is understood too
            refs = (update.shipment_ref, update.order_external_id)
            found.append(Due(row.id, order.id, update, refs, _ref(update)))
        return found

    def send(self, items: list[TrackingUpdate]) -> Sequence[SendResult]:
        return self.sink.push_tracking(items)

    def verify(self, items: list[TrackingUpdate]) -> Sequence[SendResult]:
        return self.sink.verify_tracking(items)

    def accepted(self, session: Session, due: Due[TrackingUpdate]) -> None:
        _mark_shipped(session, due.order_id)


def _mark_shipped(session: Session, order_id: int) -> None:
    order = session.get(OrderRow, order_id)
    if order is not None and order.status in _BEFORE_SHIPPED:
        order.status = OrderStatus.SHIPPED.value
        session.add(order)


def _ref(update: TrackingUpdate) -> str:
    where = f"{update.order_external_id}"
    if update.shipment_ref != update.order_external_id:
        where += f" shipment {update.shipment_ref}"
    return f"{where} tracking {update.tracking_code}"


def stuck_pushes(session: Session) -> list[dict[str, str | None]]:
    """Tracking pushes that did not end accepted: refused (fix by hand), failed or unconfirmed
    (retried by the next run), pending (the channel is still processing)."""
    return [
        {
            "connector": push.connector,
            "order": f"{order.connector}:{order.external_id}",
            "shipment": shipment.shipment_ref,
            "tracking_code": shipment.tracking_code,
            "state": push.state,
            "error": push.error,
        }
        for push, shipment, order in pushes.stuck(session, pushes.TRACKING)
    ]
