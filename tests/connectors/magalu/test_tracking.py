"""Magalu tracking for the seller's own logistics (`POST /seller/v1/deliveries/{id}/shippings`)
and the NF-e's validation read back (`GET /seller/v1/deliveries/{id}/invoices`), against its
emulator: the request as the doc writes it, the delivery shipped there and the order here, a
replay harmless, a delivery not invoiced yet retried, a cancelled one refused, Magalu Entregas
never sent; the NF-e pending until Magalu approves it, an invalid one refused; and the emulator
refuses what Magalu refuses, on the doc's own examples too."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from erpsync.connectors.magalu import orders as magalu_orders
from erpsync.connectors.magalu import postsale
from erpsync.domain import Invoice
from erpsync.emulation import EmulatorTransport
from erpsync.engine.invoice_push import push_invoices
from erpsync.engine.invoices import ALL_MODELS, attach
from erpsync.engine.invoices import stuck_pushes as stuck_invoices
from erpsync.engine.tracking import record_tracking
from erpsync.engine.tracking_push import push_tracking, stuck_pushes
from erpsync.errors import FatalError
from erpsync.postsale.nfe import parse_nfe
from erpsync.postsale.nfe_builder import BUYER_CPF, build_nfe
from erpsync.store import orders, shipments

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "magalu" / "fixtures"
SHIPPED_AT = datetime(2026, 9, 15, 10, 30, tzinfo=UTC)
URL = "https://rastreamento.correios.com.br/app/index.php?objeto=QB123456789BR"


def _pulled(harness, count=20):
    now = harness.time.now()
    ids = harness.emulator.seed_orders(count, start=now - timedelta(days=2), end=now)
    harness.time.advance(minutes=5)
    harness.pull()
    return ids


def _delivery(harness, external_id):
    return harness.emulator.orders[external_id]["deliveries"][0]


def _own(harness, ids, status="invoiced"):
    return next(
        i
        for i in ids
        if len(harness.emulator.orders[i]["deliveries"]) == 1
        and _delivery(harness, i)["shipping"]["provider"]["id"] == "seller"
        and _delivery(harness, i)["status"] == status
    )


def _entregas(harness, ids, status="invoiced"):
    return next(
        i
        for i in ids
        if len(harness.emulator.orders[i]["deliveries"]) == 1
        and _delivery(harness, i)["shipping"]["provider"]["id"] == "magalu_entregas"
        and _delivery(harness, i)["status"] == status
        and not _delivery(harness, i)["shipping"].get("logistic_network")
    )


def _track(harness, external_id, code="QB123456789BR"):
    with harness.store.session() as s:
        row = orders.get_order(s, "mg", external_id)
        record_tracking(s, row, code, carrier="Correios", tracking_url=URL, shipped_at=SHIPPED_AT)


def _shippings(harness):
    return [
        r for r in harness.emulator.requests if r.method == "POST" and r.path.endswith("/shippings")
    ]


def test_own_logistics_tracking_goes_on_its_delivery_as_documented(harness):
    ids = _pulled(harness)
    own = _own(harness, ids)
    _track(harness, own)
    report = push_tracking(harness.connector, harness.store)
    assert (report.sent, report.accepted, report.refused, report.failed) == (1, 1, 0, 0)
    delivery = _delivery(harness, own)
    [post] = _shippings(harness)
    assert post.path == f"/seller/v1/deliveries/{delivery['id']}/shippings"
    assert post.json() == {
        "protocol": "QB123456789BR",  # the tracking code
        "tracking_url": URL,
        "dates": {"shipped_at": "2026-09-15T10:30:00.000Z"},
        "carrier": {"name": "Correios"},
        "channel": {"id": harness.emulator.channel_id},
    }
    assert delivery["status"] == "shipped"
    assert harness.emulator.tracking_code(own) == "QB123456789BR"
    with harness.store.session() as s:
        assert orders.get_order(s, "mg", own).status == "shipped"
    assert push_tracking(harness.connector, harness.store).sent == 0


def test_magalu_entregas_deliveries_are_skipped_with_the_reason(harness):
    ids = _pulled(harness)
    entregas = _entregas(harness, ids)
    with harness.store.session() as s:
        row = orders.get_order(s, "mg", entregas)
        [shipment] = shipments.shipments_of(s, row.id)
        assert shipment.logistic_type == "magalu_entregas"
    _track(harness, entregas)
    before = len(harness.emulator.requests)
    report = push_tracking(harness.connector, harness.store)
    assert (report.sent, report.skipped, report.refused, report.failed) == (0, 1, 0, 0)
    assert len(harness.emulator.requests) == before


def test_a_delivery_without_its_nfe_yet_is_retried_not_refused(harness):
    ids = _pulled(harness)
    own = _own(harness, ids, status="approved")
    _track(harness, own)
    first = push_tracking(harness.connector, harness.store)
    assert (first.failed, first.refused) == (1, 0)
    assert "ships once its NF-e is in" in first.errors[0]
    assert _shippings(harness) == []
    _delivery(harness, own)["status"] = "invoiced"  # the NF-e went in
    second = push_tracking(harness.connector, harness.store)
    assert second.accepted == 1, second.errors


def test_a_delivery_cancelled_at_magalu_is_refused_with_the_reason(harness):
    ids = _pulled(harness)
    own = _own(harness, ids)
    _track(harness, own)
    harness.emulator.cancel_order(own)
    report = push_tracking(harness.connector, harness.store)
    assert report.refused == 1 and "cancelled at Magalu" in report.errors[0]
    with harness.store.session() as s:
        [stuck] = stuck_pushes(s)
    assert stuck["state"] == "refused"


def test_a_shipping_whose_answer_was_lost_is_not_sent_twice(harness):
    ids = _pulled(harness)
    own = _own(harness, ids)
    _track(harness, own)
    delivery_id = _delivery(harness, own)["id"]
    harness.emulator.faults.add(
        "lost_answer", path=f"/seller/v1/deliveries/{delivery_id}/shippings"
    )
    assert push_tracking(harness.connector, harness.store).failed == 1
    second = push_tracking(harness.connector, harness.store)
    assert (second.accepted, second.failed) == (1, 0), second.errors
    assert len(_shippings(harness)) == 1


# -- the NF-e's validation, read back ------------------------------------------------------------


def _attach(harness, external_id, recipient=None):
    with harness.store.session() as s:
        row = orders.get_order(s, "mg", external_id)
        xml = build_nfe(
            number=7,
            items=[("SKU", "Item", 1, str(row.items_total))],
            freight=str(row.shipping_cost),
            discount=str(row.discount),
            recipient=recipient or row.buyer_document or BUYER_CPF,
        )
        parsed = parse_nfe(xml)
        attach(s, row, parsed, models=ALL_MODELS, force=True)
    return parsed.invoice


def test_an_nfe_awaiting_validation_is_pending_until_magalu_approves_it(harness):
    ids = _pulled(harness)
    ready = next(i for i in ids if harness.emulator.invoice_ready(i))
    invoice = _attach(harness, ready)
    first = push_invoices(harness.connector, harness.store)
    assert first.pending == 1
    with harness.store.session() as s:
        [stuck] = stuck_invoices(s)
    assert stuck["state"] == "pending"
    second = push_invoices(harness.connector, harness.store)
    assert (second.sent, second.accepted) == (0, 1), second.errors
    assert harness.emulator.invoice_key(ready) == invoice.access_key


def test_an_nfe_magalu_finds_invalid_is_refused_and_the_delivery_takes_another(harness):
    ids = _pulled(harness)
    ready = next(i for i in ids if harness.emulator.invoice_ready(i))
    _attach(harness, ready, recipient="11144477735")  # not the delivery's recipient
    assert push_invoices(harness.connector, harness.store).pending == 1
    later = push_invoices(harness.connector, harness.store)
    assert later.refused == 1 and "invalid" in later.errors[0]
    assert harness.emulator.invoice_key(ready) is None
    assert _delivery(harness, ready)["status"] == "approved"


def _invoice(key: str, delivery: str = "d-1") -> Invoice:
    # the doc's sample key fails the mod-11 check (an illustration), so the model is built
    # without validation: the mapping reads the key and the delivery only
    return Invoice.model_construct(access_key=key, shipment_ref=delivery)


@pytest.mark.parametrize(
    ("status", "ok", "pending", "retry"),
    [
        ("approved", True, False, False),
        ("validating", True, True, False),
        ("awaiting_validation", True, True, False),
        ("invalid", False, False, False),
    ],
)
def test_the_docs_invoice_list_example_maps_each_status(status, ok, pending, retry):
    """get_invoice.en's example lists the statuses as "approved|validating|invalid"."""
    example = json.loads((FIXTURES / "doc-delivery-invoices.json").read_text())
    assert example["results"][0]["status"] == "approved|validating|invalid"
    example["results"][0]["status"] = status
    key = example["results"][0]["key"]
    result = postsale.invoice_status(_invoice(key), example)
    assert (result.ok, result.pending, result.retry) == (ok, pending, retry)
    missing = postsale.invoice_status(_invoice("5" * 44), example)
    assert (missing.ok, missing.retry) == (False, True)  # Magalu holds no such key: resend


def test_the_docs_add_invoice_answer_is_awaiting_validation():
    answer = json.loads((FIXTURES / "doc-add-invoice-response.json").read_text())
    assert answer["status"] in postsale.INVOICE_PENDING


# -- the emulator refuses what Magalu refuses ---------------------------------------------------


def _post(harness, delivery_id, body):
    return harness.connector.request(
        "POST", f"/seller/v1/deliveries/{delivery_id}/shippings", json=body
    )


def _body(harness, **change):
    return {
        "protocol": "QB123456789BR",
        "carrier": {"name": "Correios"},
        "dates": {"shipped_at": "2026-09-15T10:30:00.000Z"},
        "channel": {"id": harness.emulator.channel_id},
    } | change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"protocol": ""}, "protocol"),
        ({"carrier": {}}, "carrier.name"),
        ({"tracking_url": "ftp://x"}, "tracking_url"),
        ({"dates": {"shipped_at": "15/09/2026"}}, "dates.shipped_at"),
        ({"channel": {"id": "00000000-0000-0000-0000-000000000000"}}, "unknown channel"),
    ],
    ids=["protocol", "carrier", "url", "date", "channel"],
)
def test_the_emulator_refuses_a_body_magalu_refuses(harness, change, message):
    ids = _pulled(harness)
    own = _own(harness, ids)
    with pytest.raises(FatalError, match=message):
        _post(harness, _delivery(harness, own)["id"], _body(harness, **change))
    assert harness.emulator.tracking_code(own) is None


def test_the_emulator_refuses_deliveries_that_do_not_take_a_shipping(harness):
    ids = _pulled(harness)
    entregas = _entregas(harness, ids)
    with pytest.raises(FatalError, match="ships with Magalu"):
        _post(harness, _delivery(harness, entregas)["id"], _body(harness))
    approved = _own(harness, ids, status="approved")
    with pytest.raises(FatalError, match="only invoiced deliveries ship"):
        _post(harness, _delivery(harness, approved)["id"], _body(harness))
    with pytest.raises(FatalError, match="HTTP 404"):
        _post(harness, "6c764444-0000-0000-0000-000000000000", _body(harness))
    own = _own(harness, ids)
    raw = httpx.Client(transport=EmulatorTransport(harness.emulator.app), base_url="http://mg")
    answer = raw.post(
        f"/seller/v1/deliveries/{_delivery(harness, own)['id']}/shippings",
        json=_body(harness),
        headers={"Authorization": "Bearer forged"},
    )
    assert answer.status_code == 401
    assert _delivery(harness, own)["status"] == "invoiced"


def test_the_docs_ship_delivery_example_is_taken_and_answered_as_documented(harness):
    ids = _pulled(harness)
    own = _own(harness, ids)
    body = json.loads((FIXTURES / "doc-ship-delivery-request.json").read_text())
    body["channel"]["id"] = harness.emulator.channel_id  # the doc's is another seller's
    answer = _post(harness, _delivery(harness, own)["id"], body)
    assert answer.status_code == 201
    documented = json.loads((FIXTURES / "doc-ship-delivery-response.json").read_text())
    assert set(answer.json()) == set(documented)
    assert harness.emulator.tracking_code(own) == "000111222"


def test_a_delivery_is_magalu_entregas_only_when_its_provider_says_so():
    fixture = json.loads((FIXTURES / "order-approved-multi-item.json").read_text())
    [delivery] = fixture["deliveries"]
    assert magalu_orders.logistic_type(delivery) == "magalu_entregas"
    other = {**delivery, "shipping": {**delivery["shipping"], "provider": {"id": "jadlog"}}}
    assert magalu_orders.logistic_type(other) == "own"
    assert (
        magalu_orders.logistic_type(
            json.loads((FIXTURES / "order-fulfillment.json").read_text())["deliveries"][0]
        )
        == "fulfillment"
    )
