"""The post-sale state meets the next pull: status rule, shipments, cancellation after the NF-e."""

from datetime import UTC, datetime, timedelta

from erpsync.connector import ConnectorSettings
from erpsync.domain import OrderStatus
from erpsync.engine import invoices as engine
from erpsync.engine.invoices import ALL_MODELS
from erpsync.engine.pull import PullReport, apply_order, load_catalogue
from erpsync.postsale.domain import cancellation_advice
from erpsync.postsale.nfe import parse_nfe
from erpsync.postsale.nfe_builder import build_nfe
from erpsync.postsale.shipments import logistic_family, shipments_from_order
from erpsync.postsale.status import merge_status
from erpsync.store import ledger, orders, products, shipments
from tests.engine.fakes import FakeConnector, FakeOptions
from tests.postsale.conftest import CREATED, make_order

ML_EXTRA = {
    "shipment_id": "44001",
    "logistic_type": "drop_off",
    "shipment_status": "ready_to_ship",
    "shipment_substatus": "invoice_pending",
}


def _pull(store, order):
    connector = FakeConnector(
        ConnectorSettings(name=order.connector, type="fake", options=FakeOptions())
    )
    report = PullReport(order.connector)
    with store.session() as s:
        catalogue = load_catalogue(s, order.connector)
        catalogue.known.add("SKU-A")
        apply_order(s, connector, order, {}, report, catalogue)
    return report


def _stored(store, order):
    with store.session() as s:
        return orders.get_order(s, order.connector, order.external_id)


def _on_hand(store):
    with store.session() as s:
        return ledger.levels(s, ["main"])["SKU-A"].on_hand


def _attach(store, order):
    with store.session() as s:
        row = orders.get_order(s, order.connector, order.external_id)
        engine.attach(s, row, parse_nfe(build_nfe()), models=ALL_MODELS)


def _setup(store):
    with store.session() as s:
        products.upsert_product(s, "SKU-A", name="Caneca")
        ledger.set_on_hand(s, "SKU-A", "main", 10)


def test_merge_status_keeps_invoiced_until_the_channel_moves_on():
    assert merge_status("invoiced", OrderStatus.PAID) is OrderStatus.INVOICED
    assert merge_status("invoiced", OrderStatus.PENDING) is OrderStatus.INVOICED
    for later in (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED):
        assert merge_status("invoiced", later) is later
    assert merge_status("paid", OrderStatus.PENDING) is OrderStatus.PENDING


def test_a_pull_keeps_invoiced_then_takes_shipped(store):
    _setup(store)
    order = make_order(connector="ml", platform="Mercado Livre", extra=ML_EXTRA)
    _pull(store, order)
    _attach(store, order)
    later = order.updated_at + timedelta(hours=1)
    report = _pull(store, order.model_copy(update={"updated_at": later}))
    assert _stored(store, order).status == "invoiced" and report.updated == 1
    # the same snapshot again is unchanged, not an endless "invoiced -> paid" update
    assert _pull(store, order.model_copy(update={"updated_at": later})).unchanged == 1
    shipped = order.model_copy(
        update={"updated_at": later + timedelta(hours=1), "status": OrderStatus.SHIPPED}
    )
    _pull(store, shipped)
    assert _stored(store, order).status == "shipped"


def test_a_cancellation_after_the_invoice_returns_stock_once_and_is_flagged(store):
    _setup(store)
    order = make_order()
    _pull(store, order)
    assert _on_hand(store) == 8
    _attach(store, order)
    cancelled = order.model_copy(
        update={
            "updated_at": order.updated_at + timedelta(hours=2),
            "status": OrderStatus.CANCELLED,
            "channel_status": "cancelled",
        }
    )
    _pull(store, cancelled)
    _pull(store, cancelled.model_copy(update={"updated_at": cancelled.updated_at + timedelta(1)}))
    assert _on_hand(store) == 10  # returned once
    authorised = datetime(2026, 11, 2, 13, 0, 5, tzinfo=UTC)
    with store.session() as s:
        soon = engine.cancelled_after_invoice(s, authorised + timedelta(hours=3))
        late = engine.cancelled_after_invoice(s, authorised + timedelta(hours=25))
    assert soon == [
        {
            "order": "shop:2000001234",
            "access_key": parse_nfe(build_nfe()).invoice.access_key,
            "action": "cancel the NF-e (allowed until 2026-11-03T13:00+00:00)",
        }
    ]
    assert late[0]["action"].startswith("issue a return NF-e (devolução)")


def test_cancellation_advice_at_the_window_edge():
    at = datetime(2026, 11, 2, 13, 0, tzinfo=UTC)
    assert cancellation_advice(at, at + timedelta(hours=24)).startswith("cancel the NF-e")
    assert cancellation_advice(at, at + timedelta(hours=24, seconds=1)).startswith("issue a return")


def test_shipments_follow_the_pulled_order(store):
    _setup(store)
    order = make_order(connector="ml", platform="Mercado Livre", extra=ML_EXTRA)
    _pull(store, order)
    moved = order.model_copy(
        update={
            "updated_at": CREATED + timedelta(hours=1),
            "extra": {**ML_EXTRA, "shipment_substatus": "ready_to_print"},
        }
    )
    _pull(store, moved)
    with store.session() as s:
        (row,) = shipments.shipments_of(s, _stored(store, order).id)
    assert (row.shipment_ref, row.logistic_type, row.status, row.substatus, row.label_state) == (
        "44001",
        "drop_off",
        "ready_to_ship",
        "ready_to_print",
        "none",
    )


def test_shipments_from_each_platform_extra():
    full = make_order(
        platform="Mercado Livre",
        fulfilled_by_channel=True,
        extra={"shipment_id": "1", "logistic_type": "fulfillment"},
    )
    (ml,) = shipments_from_order(full)
    assert (ml.fulfilled_by_channel, ml.label_state.value) == (True, "not_applicable")
    assert logistic_family("Mercado Livre", "fulfillment") == "Full"
    assert logistic_family("Mercado Livre", "self_service") == "Flex"
    assert logistic_family("Mercado Livre", "drop_off") == "ME2"
    amazon = make_order(
        platform="Amazon", external_id="702-1", extra={"fulfillment_channel": "MFN"}
    )
    (az,) = shipments_from_order(amazon)
    assert (az.shipment_ref, az.logistic_type, az.fulfilled_by_channel) == ("702-1", "MFN", False)
    magalu = make_order(
        platform="Magalu",
        extra={
            "deliveries": [
                {"id": "D1", "status": "approved", "fulfillment": False},
                {"id": "D2", "status": "approved", "fulfillment": True},
            ]
        },
    )
    assert [(m.shipment_ref, m.fulfilled_by_channel) for m in shipments_from_order(magalu)] == [
        ("D1", False),
        ("D2", True),
    ]
    assert shipments_from_order(make_order()) == []
