"""Amazon tracking for seller-fulfilled (MFN) orders through Orders v0 `confirmShipment`,
against its emulator: the request as documented (one package holding the units not shipped
yet, the carrier by name, an ISO ship date), the order shipped here and at Amazon, a replay
harmless, a cancelled order refused with the reason, FBA and Easy Ship never sent; and the
emulator refuses what Amazon refuses, on the model's own published examples too."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from erpsync.connectors.amazon import shipping
from erpsync.domain import TrackingUpdate
from erpsync.emulation import EmulatorTransport
from erpsync.engine.tracking import record_tracking
from erpsync.engine.tracking_push import push_tracking, stuck_pushes
from erpsync.errors import AuthError, FatalError
from erpsync.store import orders, shipments
from tests.connectors.amazon.conftest import pulled as _pulled

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "amazon" / "fixtures"
BRAZIL = "A2Q3Y263D00KWC"
SHIPPED_AT = datetime(2026, 3, 3, 12, 30, tzinfo=UTC)


def _with_status(harness, ids, status, channel="MFN"):
    return next(
        i
        for i in ids
        if harness.emulator.orders[i].order["OrderStatus"] == status
        and harness.emulator.orders[i].order["FulfillmentChannel"] == channel
    )


def _track(harness, external_id, code="QB123456789BR", carrier="Correios"):
    with harness.store.session() as s:
        row = orders.get_order(s, "amz", external_id)
        record_tracking(s, row, code, carrier=carrier, shipped_at=SHIPPED_AT)


def _confirms(harness):
    return [
        r
        for r in harness.emulator.requests
        if r.method == "POST" and r.path.endswith("/shipmentConfirmation")
    ]


def _local_status(harness, external_id):
    with harness.store.session() as s:
        return orders.get_order(s, "amz", external_id).status


def test_confirms_the_package_as_documented_and_the_order_ships(harness):
    ids = _pulled(harness)
    ready = _with_status(harness, ids, "Unshipped")
    _track(harness, ready)
    report = push_tracking(harness.connector, harness.store)
    assert (report.sent, report.accepted, report.refused, report.failed) == (1, 1, 0, 0)
    [post] = _confirms(harness)
    assert post.path == f"/orders/v0/orders/{ready}/shipmentConfirmation"
    items = harness.emulator.orders[ready].items
    assert post.json() == {
        "marketplaceId": BRAZIL,
        "packageDetail": {
            "packageReferenceId": "1",
            # no Brazilian carrier is in Amazon's CarrierCode list: "Others" plus its name
            "carrierCode": "Others",
            "carrierName": "Correios",
            "trackingNumber": "QB123456789BR",
            "shipDate": "2026-03-03T12:30:00Z",
            "orderItems": [
                {"orderItemId": i["OrderItemId"], "quantity": i["QuantityOrdered"]} for i in items
            ],
        },
    }
    assert harness.emulator.orders[ready].order["OrderStatus"] == "Shipped"
    assert harness.emulator.tracking_code(ready) == "QB123456789BR"
    assert _local_status(harness, ready) == "shipped"
    assert push_tracking(harness.connector, harness.store).sent == 0


def test_a_partially_shipped_order_confirms_only_the_units_still_to_ship(harness):
    ids = _pulled(harness)
    partial = _with_status(harness, ids, "PartiallyShipped")
    [line, *_] = harness.emulator.orders[partial].items
    line["QuantityOrdered"], line["QuantityShipped"] = 3, 1  # one of three went already
    _track(harness, partial)
    report = push_tracking(harness.connector, harness.store)
    assert report.accepted == 1, report.errors
    [post] = _confirms(harness)
    sent = post.json()["packageDetail"]["orderItems"]
    assert {"orderItemId": line["OrderItemId"], "quantity": 2} in sent
    assert all(
        i["QuantityShipped"] == i["QuantityOrdered"] for i in harness.emulator.orders[partial].items
    )
    assert harness.emulator.orders[partial].order["OrderStatus"] == "Shipped"


def test_a_confirmation_whose_answer_was_lost_is_not_sent_twice(harness):
    ids = _pulled(harness)
    ready = _with_status(harness, ids, "Unshipped")
    _track(harness, ready)
    harness.emulator.faults.add("lost_answer", path=f"/orders/v0/orders/{ready}/ship")
    first = push_tracking(harness.connector, harness.store)
    assert first.failed == 1  # Amazon took it; we never heard
    second = push_tracking(harness.connector, harness.store)
    # Amazon now shows the order Shipped: the confirmation is there, nothing is resent
    assert (second.sent, second.accepted, second.failed) == (1, 1, 0), second.errors
    assert len(_confirms(harness)) == 1
    assert len(harness.emulator.packages[ready]) == 1
    assert _local_status(harness, ready) == "shipped"


def test_an_order_cancelled_at_amazon_is_refused_with_the_reason_and_nothing_sent(harness):
    ids = _pulled(harness)
    ready = _with_status(harness, ids, "Unshipped")
    _track(harness, ready)
    harness.emulator.cancel_order(ready)
    report = push_tracking(harness.connector, harness.store)
    assert report.refused == 1
    assert "Canceled at Amazon" in report.errors[0]
    assert _confirms(harness) == []
    with harness.store.session() as s:
        [stuck] = stuck_pushes(s)
    assert stuck["state"] == "refused" and "Canceled" in stuck["error"]


def test_amazons_400_on_the_confirmation_is_a_refusal_kept_with_its_words(harness):
    ids = _pulled(harness)
    ready = _with_status(harness, ids, "Unshipped")
    _track(harness, ready)
    harness.emulator.faults.add("status", status=400, path=f"/orders/v0/orders/{ready}/ship")
    report = push_tracking(harness.connector, harness.store)
    assert (report.refused, report.failed) == (1, 0)
    assert "HTTP 400" in report.errors[0]


def test_a_missing_role_fails_the_run_and_keeps_the_shipment_due(harness):
    ids = _pulled(harness)
    ready = _with_status(harness, ids, "Unshipped")
    _track(harness, ready)
    harness.emulator.denied_operations.add("confirmShipment")
    with pytest.raises(AuthError, match="Inventory and Order Tracking"):
        push_tracking(harness.connector, harness.store)
    harness.emulator.denied_operations.clear()
    assert push_tracking(harness.connector, harness.store).accepted == 1


def test_fba_orders_are_skipped_with_the_reason_not_failed(harness):
    ids = _pulled(harness)
    fba = _with_status(harness, ids, "Shipped", channel="AFN")
    with harness.store.session() as s:
        row = orders.get_order(s, "amz", fba)
        # record_tracking refuses FBA outright; a shipment row holding a code is skipped too
        shipments.set_tracking(s, row.id, "amz", fba, tracking_code="QB000000001BR")
    before = len(harness.emulator.requests)
    report = push_tracking(harness.connector, harness.store)
    assert (report.sent, report.skipped, report.refused, report.failed) == (0, 1, 0, 0)
    assert len(harness.emulator.requests) == before  # not even a getOrder


def test_easy_ship_orders_are_amazons_to_confirm_and_skipped(harness):
    now = harness.time.now()
    ids = harness.emulator.seed_orders(10, start=now - timedelta(days=2), end=now)
    easy = _with_status(harness, ids, "Unshipped")
    harness.emulator.make_easy_ship(easy)
    harness.time.advance(minutes=5)
    harness.pull()
    with harness.store.session() as s:
        row = orders.get_order(s, "amz", easy)
        [shipment] = shipments.shipments_of(s, row.id)
        assert shipment.logistic_type == "EasyShip"
        shipments.set_tracking(s, row.id, "amz", easy, tracking_code="QB000000002BR")
    report = push_tracking(harness.connector, harness.store)
    assert (report.sent, report.skipped) == (0, 1)
    assert _confirms(harness) == []


# -- the emulator refuses what Amazon refuses ---------------------------------------------------


def _body(harness, external_id, **package):
    items = harness.emulator.orders[external_id].items
    detail = {
        "packageReferenceId": "1",
        "carrierCode": "Others",
        "carrierName": "Correios",
        "trackingNumber": "QB123456789BR",
        "shipDate": "2026-03-03T12:30:00Z",
        "orderItems": [
            {"orderItemId": i["OrderItemId"], "quantity": i["QuantityOrdered"]} for i in items
        ],
    } | package
    return {"marketplaceId": BRAZIL, "packageDetail": detail}


def _post(harness, external_id, body):
    return harness.connector.request(
        "POST", f"/orders/v0/orders/{external_id}/shipmentConfirmation", json=body
    )


@pytest.mark.parametrize(
    ("package", "message"),
    [
        ({"carrierName": ""}, "carrierName is required when carrierCode is Others"),
        ({"packageReferenceId": "A1"}, "positive number"),
        ({"shipDate": "03/03/2026"}, "ISO 8601"),
        ({"trackingNumber": ""}, "trackingNumber is required"),
        ({"orderItems": [{"orderItemId": "00000000000000", "quantity": 1}]}, "orderItemId"),
        ({"orderItems": []}, "orderItems is required"),
    ],
    ids=["carrier-name", "reference", "ship-date", "tracking", "foreign-item", "no-items"],
)
def test_the_emulator_refuses_a_package_amazon_refuses(harness, package, message):
    ids = _pulled(harness)
    ready = _with_status(harness, ids, "Unshipped")
    with pytest.raises(FatalError, match=message):
        _post(harness, ready, _body(harness, ready, **package))
    assert harness.emulator.tracking_code(ready) is None


def test_the_emulator_refuses_more_units_than_are_left_to_ship(harness):
    ids = _pulled(harness)
    ready = _with_status(harness, ids, "Unshipped")
    body = _body(harness, ready)
    body["packageDetail"]["orderItems"][0]["quantity"] += 1
    with pytest.raises(FatalError, match="exceeds"):
        _post(harness, ready, body)


@pytest.mark.parametrize("status", ["Shipped", "Canceled", "Pending", "InvoiceUnconfirmed"])
def test_the_emulator_refuses_an_order_that_is_not_waiting_to_ship(harness, status):
    ids = _pulled(harness)
    order = _with_status(harness, ids, status)
    with pytest.raises(FatalError, match=f"Order status is {status}"):
        _post(harness, order, _body(harness, order))


def test_the_emulator_refuses_fba_unknown_orders_and_bad_tokens(harness):
    ids = _pulled(harness)
    fba = _with_status(harness, ids, "Shipped", channel="AFN")
    with pytest.raises(FatalError, match="fulfilled by Amazon"):
        _post(harness, fba, _body(harness, fba))
    with pytest.raises(FatalError, match="HTTP 404"):
        _post(harness, "701-0000000-0000000", _body(harness, fba))
    ready = _with_status(harness, ids, "Unshipped")
    raw = httpx.Client(transport=EmulatorTransport(harness.emulator.app), base_url="http://sp")
    answer = raw.post(
        f"/orders/v0/orders/{ready}/shipmentConfirmation",
        json=_body(harness, ready),
        headers={"x-amz-access-token": "Atza|forged"},
    )
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "Unauthorized"


def test_the_models_published_examples(harness):
    """ordersV0.json's confirmShipment sandbox examples: the 204 request is taken (on one of the
    emulator's orders, in Brazil) and the 400 one, whose shipDate is not ISO 8601, refused."""
    ids = _pulled(harness)
    ready = _with_status(harness, ids, "Unshipped")
    example = json.loads((FIXTURES / "doc-confirm-shipment-request.json").read_text())
    body = copy.deepcopy(example["body"]) | {"marketplaceId": BRAZIL}
    item = harness.emulator.orders[ready].items[0]
    body["packageDetail"]["orderItems"][0]["orderItemId"] = item["OrderItemId"]
    assert _post(harness, ready, body).status_code == 204
    assert harness.emulator.tracking_code(ready) == "112345678"
    refused = json.loads((FIXTURES / "doc-confirm-shipment-400.json").read_text())
    other = next(i for i in ids if i != ready and harness.emulator.tracking_ready(i))
    bad = copy.deepcopy(refused["body"]) | {"marketplaceId": BRAZIL}
    bad["packageDetail"]["orderItems"][0]["orderItemId"] = harness.emulator.orders[other].items[0][
        "OrderItemId"
    ]
    with pytest.raises(FatalError, match="HTTP 400"):
        _post(harness, other, bad)
    assert harness.emulator.tracking_code(other) is None


# -- what an order's state means, before any confirmShipment --------------------------------------


@pytest.mark.parametrize(
    ("order", "ok", "retry", "says"),
    [
        ({"OrderStatus": "Unshipped", "FulfillmentChannel": "MFN"}, None, None, None),
        ({"OrderStatus": "PartiallyShipped", "FulfillmentChannel": "MFN"}, None, None, None),
        ({"OrderStatus": "Shipped", "FulfillmentChannel": "MFN"}, True, False, None),
        ({"OrderStatus": "InvoiceUnconfirmed", "FulfillmentChannel": "MFN"}, True, False, None),
        ({"OrderStatus": "Pending", "FulfillmentChannel": "MFN"}, False, True, "not authorised"),
        ({"OrderStatus": "Canceled", "FulfillmentChannel": "MFN"}, False, False, "Canceled"),
        ({"OrderStatus": "Unfulfillable", "FulfillmentChannel": "MFN"}, False, False, "takes no"),
        ({"OrderStatus": "Unshipped", "FulfillmentChannel": "AFN"}, False, False, "FBA"),
        (
            {
                "OrderStatus": "Unshipped",
                "FulfillmentChannel": "MFN",
                "EasyShipShipmentStatus": "PendingPickUp",
            },
            False,
            False,
            "Easy Ship",
        ),
    ],
    ids=[
        "unshipped",
        "partial",
        "shipped",
        "invoice-unconfirmed",
        "pending",
        "canceled",
        "unfulfillable",
        "fba",
        "easy-ship",
    ],
)
def test_the_orders_state_decides_before_any_confirmation(order, ok, retry, says):
    update = TrackingUpdate(order_external_id="701-1234567-1234567", tracking_code="QB1BR")
    result = shipping.precheck(update, order)
    if ok is None:
        assert result is None  # confirmShipment goes out
        return
    assert (result.ok, result.retry) == (ok, retry)
    if says:
        assert says in result.error
