"""NF-e data and tracking codes on the order's package, against the emulator."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from erpsync.connectors.vnda import VndaConnector
from erpsync.connectors.vnda.emulator import VndaEmulator
from erpsync.documents import _nfe_check_digit
from erpsync.domain import Invoice, TrackingUpdate
from erpsync.testing import FakeTime, build_harness


def valid_key(number: int) -> str:
    first = f"352406123456780001955500100{number:09d}1{number:07d}"[:43]
    return first + _nfe_check_digit(first)


@pytest.fixture
def harness():
    time = FakeTime()
    emulator = VndaEmulator(seed=5, clock=time.now, sandbox_orders=0)
    h = build_harness(VndaConnector, emulator, time, name="vnda")
    now = time.now()
    emulator.seed_orders(16, start=now - timedelta(days=1), end=now)
    yield h
    h.connector.close()


def invoice_for(order, number=1, total=None, code=None):
    return Invoice(
        access_key=valid_key(number),
        model="55",
        number=number,
        series=1,
        issued_at=datetime(2026, 11, 2, tzinfo=UTC),
        issuer_document="12345678000195",
        total=Decimal(str(order["total"])).quantize(Decimal("0.01")) if total is None else total,
        products_total=Decimal(str(order["subtotal"])),
        connector="vnda",
        order_external_id=code or order["code"],
    )


def ready(h):
    return next(o for o in h.emulator.orders.values() if h.emulator.invoice_ready(o["code"]))


def invoices_path(order):
    return f"/api/v2/orders/{order['code']}/packages/{order['code']}-01/invoices"


def test_the_nfe_lands_on_the_package_once(harness):
    order = ready(harness)
    invoice = invoice_for(order)
    [result] = harness.connector.push_invoices([invoice])
    assert result.ok, result.error
    assert result.remote_id == f"{order['code']}-01"
    assert harness.emulator.invoice_key(order["code"]) == invoice.access_key
    [posted] = harness.emulator.requests_to(invoices_path(order), "POST")
    assert posted.json() == {
        "number": 1, "series": 1, "issued_at": "2026-11-02T00:00:00+00:00",
        "key": invoice.access_key,
    }  # fmt: skip
    [again] = harness.connector.push_invoices([invoice])
    assert again.ok
    assert len(harness.emulator.requests_to(invoices_path(order), "POST")) == 1


def test_a_total_that_differs_is_refused_and_nothing_lands(harness):
    order = ready(harness)
    [result] = harness.connector.push_invoices(
        [invoice_for(order, total=Decimal(str(order["total"])) + 1)]
    )
    assert not result.ok and not result.retry and "differs" in result.error
    assert harness.emulator.invoice_key(order["code"]) is None


def test_a_canceled_order_is_refused_and_an_unknown_one_named(harness):
    order = ready(harness)
    harness.emulator.cancel_order(order["code"])
    [canceled] = harness.connector.push_invoices([invoice_for(order)])
    assert "canceled" in canceled.error and not canceled.retry
    [unknown] = harness.connector.push_invoices([invoice_for(order, code="0000000000")])
    assert "not on Vnda" in unknown.error


def test_an_order_not_confirmed_yet_is_retried_later(harness):
    order = next(o for o in harness.emulator.orders.values() if o["status"] == "received")
    [result] = harness.connector.push_invoices([invoice_for(order)])
    assert not result.ok and result.retry and "not confirmed" in result.error


def test_an_order_without_a_package_is_retried_later(harness):
    order = ready(harness)
    harness.emulator.packages[order["code"]] = []
    [result] = harness.connector.push_invoices([invoice_for(order)])
    assert not result.ok and result.retry and "package" in result.error


def test_tracking_goes_on_the_package_once_and_the_order_shows_it(harness):
    order = ready(harness)
    update = TrackingUpdate(
        order_external_id=order["code"], carrier="Correios", tracking_code="AA123456789BR"
    )
    [result] = harness.connector.push_tracking([update])
    assert result.ok
    path = f"/api/v2/orders/{order['code']}/packages/{order['code']}-01/trackings"
    [posted] = harness.emulator.requests_to(path, "POST")
    assert posted.json() == {"code": "AA123456789BR", "company": "Correios"}
    assert order["tracking_code"] == "AA123456789BR"
    [again] = harness.connector.push_tracking([update])
    assert again.ok and len(harness.emulator.requests_to(path, "POST")) == 1
    harness.pull()
    stored = {o.external_id: o for o in harness.stored_orders()}
    assert stored[order["code"]].status.value == "shipped"


def test_tracking_on_a_canceled_order_is_refused_and_nothing_lands(harness):
    order = ready(harness)
    harness.emulator.cancel_order(order["code"])
    update = TrackingUpdate(order_external_id=order["code"], tracking_code="AA123456789BR")
    [result] = harness.connector.push_tracking([update])
    assert not result.ok and not result.retry and "canceled" in result.error
    assert harness.emulator.tracking_code(order["code"]) is None
