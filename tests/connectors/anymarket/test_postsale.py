"""NF-e and tracking back to Anymarket, against the emulator: INVOICED with the invoice, the XML
to /nfe, PAID_WAITING_DELIVERY with tracking, and what the hub's lifecycle refuses."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from erpsync.connectors.anymarket import AnymarketConnector
from erpsync.connectors.anymarket.emulator import AnymarketEmulator
from erpsync.connectors.anymarket.emulator.app import SANDBOX_TOKEN
from erpsync.documents import _nfe_check_digit
from erpsync.domain import Invoice, TrackingUpdate
from erpsync.emulation import EmulatorTransport
from erpsync.testing import FakeTime, build_harness


def valid_key(number: int) -> str:
    first = f"352611123456780001905500100{number:09d}1{number:07d}"[:43]
    return first + _nfe_check_digit(first)


@pytest.fixture
def harness():
    time = FakeTime()
    emulator = AnymarketEmulator(seed=5, clock=time.now, sandbox_orders=0)
    h = build_harness(AnymarketConnector, emulator, time, name="any")
    now = time.now()
    emulator.seed_orders(12, start=now - timedelta(days=1), end=now)
    yield h
    h.connector.close()


def status_puts(h, order):
    """PUT /v2/orders/{id} exactly (not /nfe)."""
    path = f"/v2/orders/{order['id']}"
    return [r for r in h.emulator.requests_to(path, "PUT") if r.path == path]


def in_status(h, status, *, fulfillment=False):
    return next(
        o
        for o in h.emulator.orders.values()
        if o["status"] == status and bool(o["fulfillment"]) is fulfillment
    )


def invoice_for(order, number=1, total=None, xml=True):
    key = valid_key(number)
    return Invoice(
        access_key=key,
        model="55",
        number=number,
        series=1,
        issued_at=datetime(2026, 11, 2, 12, tzinfo=UTC),
        issuer_document="12345678000190",
        total=Decimal(str(order["total"])) if total is None else total,
        products_total=Decimal(str(order["productGross"])),
        connector="any",
        order_external_id=str(order["id"]),
        xml=f"<nfeProc><NFe><infNFe Id='NFe{key}'/></NFe></nfeProc>".encode() if xml else None,
    )


def test_an_nfe_sets_invoiced_with_its_data_then_uploads_the_xml(harness):
    order = in_status(harness, "PAID_WAITING_SHIP")
    invoice = invoice_for(order)
    [result] = harness.connector.push_invoices([invoice])
    assert result.ok, result.error
    put = status_puts(harness, order)[0].json()
    assert put == {
        "status": "INVOICED",
        "invoice": {
            "accessKey": invoice.access_key,
            "series": "1",
            "number": "1",
            "date": "2026-11-02T12:00:00+00:00",
        },
    }
    nfe = harness.emulator.requests_to(f"/v2/orders/{order['id']}/nfe", "PUT")
    assert nfe[0].headers["content-type"] == "application/xml"
    assert harness.emulator.nfe[order["id"]] == invoice.xml
    assert order["status"] == "INVOICED"


def test_pushing_the_same_nfe_again_is_a_replay(harness):
    order = in_status(harness, "PAID_WAITING_SHIP")
    invoice = invoice_for(order)
    harness.connector.push_invoices([invoice])
    [again] = harness.connector.push_invoices([invoice])
    assert again.ok
    assert len(status_puts(harness, order)) == 1


@pytest.mark.parametrize(
    ("status", "retry", "message"),
    [
        ("CANCELED", False, "cancelled"),
        ("PENDING", True, "once paid"),
    ],
)
def test_an_order_not_ready_for_an_nfe(harness, status, retry, message):
    order = in_status(harness, status)
    [result] = harness.connector.push_invoices([invoice_for(order)])
    assert not result.ok and result.retry is retry and message in result.error
    assert not status_puts(harness, order)


def test_an_order_holding_another_nfe_refuses_a_second(harness):
    order = in_status(harness, "PAID_WAITING_SHIP")
    harness.connector.push_invoices([invoice_for(order, number=1)])
    [result] = harness.connector.push_invoices([invoice_for(order, number=2)])
    assert not result.ok and "already holds another NF-e" in result.error


def test_tracking_after_the_invoice_sets_paid_waiting_delivery(harness):
    order = in_status(harness, "PAID_WAITING_SHIP")
    harness.connector.push_invoices([invoice_for(order)])
    update = TrackingUpdate(
        order_external_id=str(order["id"]), carrier="Correios", tracking_code="QB123456789BR",
        shipped_at=datetime(2026, 11, 3, 15, tzinfo=UTC),
    )  # fmt: skip
    [result] = harness.connector.push_tracking([update])
    assert result.ok, result.error
    assert order["status"] == "PAID_WAITING_DELIVERY"
    assert order["tracking"] == {
        "number": "QB123456789BR",
        "carrier": "Correios",
        "date": "2026-11-03T15:00:00+00:00",
        "shippedDate": "2026-11-03T15:00:00+00:00",
    }
    [again] = harness.connector.push_tracking([update])
    assert again.ok
    assert len(status_puts(harness, order)) == 2


def test_tracking_before_the_invoice_waits(harness):
    order = in_status(harness, "PAID_WAITING_SHIP")
    update = TrackingUpdate(order_external_id=str(order["id"]), tracking_code="QB1BR")
    [result] = harness.connector.push_tracking([update])
    assert not result.ok and result.retry and "invoice it first" in result.error


def test_the_emulator_refuses_a_status_out_of_the_lifecycle(harness):
    order = in_status(harness, "PENDING")
    with httpx.Client(transport=EmulatorTransport(harness.emulator.app), base_url="http://x") as c:
        answer = c.put(
            f"/v2/orders/{order['id']}", json={"status": "PAID_WAITING_DELIVERY"},
            headers={"gumgaToken": SANDBOX_TOKEN},
        )  # fmt: skip
    assert answer.status_code == 422
    assert "PENDING para PAID_WAITING_DELIVERY" in answer.json()["message"]


def test_an_invoiced_order_comes_back_through_the_feed_as_invoiced(harness):
    harness.pull()
    order = in_status(harness, "PAID_WAITING_SHIP")
    harness.connector.push_invoices([invoice_for(order)])
    harness.time.advance(minutes=5)
    report = harness.pull()
    assert report.updated == 1
    [stored] = [o for o in harness.stored_orders() if o.external_id == str(order["id"])]
    assert stored.status.value == "invoiced"
