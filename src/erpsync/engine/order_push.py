"""push-orders for one ERP connector: every channel order created in the ERP exactly once.

The rules, in the order a run applies them to each candidate (``store.erp.candidates``):

- an order never seen by this ERP that is already cancelled is recorded "skipped" and never
  created, as is one the channel fulfils from its own warehouse (Full/FBA: no stock of the
  seller's moves); one still pending (not paid) waits until it is paid;
- before each create the intent is committed ("sending"), so a run killed mid-request leaves
  a trace: the next attempt looks the order up by its channel number (``find_order``) first;
- a create whose answer is lost (``RetriableError`` from an ``idempotent=False`` request) is
  looked up at once; only when the ERP has no order with that number is it sent again, at
  most ``CREATE_ATTEMPTS`` times per run, then left "sending" for the next run;
- a refusal (unknown SKU, the ERP's validation) is recorded with its one-line error and tried
  again next run (the seller may register the product meanwhile);
- an order created and later cancelled on its channel gets its ERP order cancelled; a
  cancellation the ERP cannot take (already invoiced) is recorded and reported, never forced.

Orders of ERP connectors themselves (``exclude``: the ERP's own orders, e.g. Hub da Olist's
that ``import_orders`` pulls) are never candidates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from erpsync.connector import ConnectorCore, ErpOrderRef, OrderSink
from erpsync.domain import Order, OrderStatus, SendResult
from erpsync.engine.product_ids import remembered
from erpsync.errors import AuthError, FatalError, RetriableError
from erpsync.store import Store, orders
from erpsync.store import erp as erp_store
from erpsync.store.erp import ErpPushState
from erpsync.store.tables import ErpPush, OrderRow

log = logging.getLogger("erpsync.push_orders")

#: creates sent for one order in one run (the first and the retries after lost answers)
CREATE_ATTEMPTS = 3
#: change lines a report keeps; counts are always complete
MAX_CHANGES = 1000


@dataclass
class OrderPushReport:
    connector: str
    created: int = 0
    #: lost answers (or killed runs) whose order the ERP turned out to have
    found: int = 0
    cancelled: int = 0
    #: cancelled before they were ever created: not created
    skipped: int = 0
    #: not paid yet: created once paid
    waiting: int = 0
    refused: int = 0
    cancel_refused: int = 0
    #: still unknown after this run's attempts: looked up first next run
    unresolved: int = 0
    errors: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def note(self, line: str) -> None:
        if len(self.changes) < MAX_CHANGES:
            self.changes.append(line)

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "found": self.found,
            "cancelled": self.cancelled,
            "skipped": self.skipped,
            "waiting": self.waiting,
            "refused": self.refused,
            "cancel_refused": self.cancel_refused,
            "unresolved": self.unresolved,
        }

    def shortfall(self) -> str | None:
        """What this run could not do, or None: makes the run partial."""
        failed = self.refused + self.cancel_refused + self.unresolved
        if not failed:
            return None
        return f"{failed} order{'' if failed == 1 else 's'} not in the ERP as they should be"


def push_erp_orders(
    connector: ConnectorCore,
    store: Store,
    *,
    exclude: Collection[str] = (),
    dry_run: bool = False,
    limit: int | None = None,
    on_order: Callable[[int], None] | None = None,
) -> OrderPushReport:
    """Create, find or cancel each candidate order in ``connector`` (an OrderSink)."""
    sink = OrderSink.of(connector)
    report = OrderPushReport(sink.name)
    excluded = {*exclude, sink.name}
    with store.session() as session:
        rows = erp_store.candidates(session, sink.name, excluded, limit=limit)
        work = [
            (
                row,
                orders.load_order(session, row.connector, row.external_id),
                erp_store.push_of(session, _id(row), sink.name),
            )
            for row in rows
        ]
    if dry_run:
        for _row, order, push in work:
            if order is not None:
                report.note(_planned(order, push))
        return report
    with remembered(sink, store):
        for row, order, push in work:
            if order is None:
                continue
            _one(sink, store, row, order, push, report)
            if on_order:
                on_order(1)
    return report


def _one(
    sink: OrderSink,
    store: Store,
    row: OrderRow,
    order: Order,
    push: ErpPush | None,
    report: OrderPushReport,
) -> None:
    ref = _ref(order)
    order_id = _id(row)
    if push is not None and push.state == ErpPushState.CREATED:
        assert push.remote_id is not None
        _cancel(sink, store, order, order_id, push.remote_id, report)
        return
    if push is None and order.status is OrderStatus.CANCELLED:
        with store.session() as session:
            erp_store.record(session, order_id, sink.name, ErpPushState.SKIPPED)
        report.skipped += 1
        report.note(f"skip {ref}: cancelled before it reached the ERP")
        return
    if push is None and order.fulfilled_by_channel:
        # Full/FBA: the channel ships from its own warehouse; an ERP order would reserve and
        # deduct stock the seller's depósito never held
        with store.session() as session:
            erp_store.record(
                session,
                order_id,
                sink.name,
                ErpPushState.SKIPPED,
                error="fulfilled by the channel (Full/FBA): not created in the ERP",
            )
        report.skipped += 1
        report.note(f"skip {ref}: fulfilled by the channel")
        return
    if order.status is OrderStatus.PENDING:
        report.waiting += 1
        return
    unknown = push is not None and push.state == ErpPushState.SENDING
    error = "the answer to the create was lost"
    for attempt in range(CREATE_ATTEMPTS + 1):
        if unknown:
            try:
                remote = sink.find_order(order)
            except RetriableError as exc:
                error = f"the ERP could not be searched ({exc})"
                break
            if remote is not None:
                with store.session() as session:
                    erp_store.record(
                        session, order_id, sink.name, ErpPushState.CREATED, remote_id=remote
                    )
                report.found += 1
                report.note(f"found {ref} in the ERP as {remote} (an earlier answer was lost)")
                if order.status is OrderStatus.CANCELLED:
                    _cancel(sink, store, order, order_id, remote, report)
                return
        if attempt == CREATE_ATTEMPTS:
            break
        with store.session() as session:  # the intent, committed before the request
            erp_store.record(session, order_id, sink.name, ErpPushState.SENDING, attempt=True)
        try:
            result = sink.create_order(order)
        except RetriableError as exc:
            log.warning("%s: %s: answer lost (%s); looking it up", sink.name, ref, exc)
            unknown, error = True, str(exc)
            continue
        except FatalError as exc:
            result = SendResult(ref=ref, ok=False, error=str(exc))
        _settle(sink, store, order, order_id, result, report)
        return
    _unresolved(store, order_id, sink.name, ref, error, report)


def _settle(
    sink: OrderSink,
    store: Store,
    order: Order,
    order_id: int,
    result: SendResult,
    report: OrderPushReport,
) -> None:
    ref = _ref(order)
    if result.ok and result.remote_id:
        with store.session() as session:
            erp_store.record(
                session, order_id, sink.name, ErpPushState.CREATED, remote_id=result.remote_id
            )
        report.created += 1
        report.note(f"create {ref} -> {result.remote_id}")
        return
    error = result.error or "refused without a reason"
    with store.session() as session:
        erp_store.record(session, order_id, sink.name, ErpPushState.REFUSED, error=error)
    report.refused += 1
    report.errors.append(f"{ref}: {error}")
    report.note(f"refused {ref}: {error}")


def _unresolved(
    store: Store, order_id: int, name: str, ref: str, error: str, report: OrderPushReport
) -> None:
    with store.session() as session:
        push = erp_store.push_of(session, order_id, name)
        if push is not None:
            push.error = f"outcome unknown: {error}"
            session.add(push)
    report.unresolved += 1
    report.errors.append(f"{ref}: outcome unknown ({error}); looked up again next run")


def _cancel(
    sink: OrderSink,
    store: Store,
    order: Order,
    order_id: int,
    remote_id: str,
    report: OrderPushReport,
) -> None:
    ref = _ref(order)
    target = ErpOrderRef(
        order.connector, order.external_id, OrderSink.channel_number(order), remote_id
    )
    try:
        result = sink.cancel_order(target)
    except (RetriableError, AuthError) as exc:
        report.errors.append(f"{ref}: cancellation not sent ({exc}); tried again next run")
        return
    with store.session() as session:
        if result.ok:
            erp_store.record(session, order_id, sink.name, ErpPushState.CANCELLED)
            report.cancelled += 1
            report.note(f"cancel {ref} ({remote_id})")
            return
        error = result.error or "the ERP refused the cancellation"
        erp_store.record(session, order_id, sink.name, ErpPushState.CANCEL_REFUSED, error=error)
    report.cancel_refused += 1
    report.errors.append(f"{ref}: cancelled on the channel, but {error}: cancel it in the ERP")


def _planned(order: Order, push: ErpPush | None) -> str:
    ref = _ref(order)
    if push is not None and push.state == ErpPushState.CREATED:
        return f"would cancel {ref} ({push.remote_id})"
    if push is None and order.status is OrderStatus.CANCELLED:
        return f"would skip {ref}: cancelled before it reached the ERP"
    if order.status is OrderStatus.PENDING:
        return f"waits {ref}: not paid yet"
    if push is not None and push.state == ErpPushState.SENDING:
        return f"would look up {ref} (an earlier answer was lost), then create it if missing"
    return f"would create {ref}"


def _id(row: OrderRow) -> int:
    assert row.id is not None
    return row.id


def _ref(order: Order) -> str:
    return f"{order.connector}:{order.external_id}"
