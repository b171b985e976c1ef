"""Magalu post-sale against its emulator: the NF-e per delivery (body, replay, refusals, its
validation read back on the next run) and
Magalu Entregas labels (only once invoiced, the signed URL downloaded without the API token,
expired URLs refused)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from erpsync.engine.invoice_push import push_invoices
from erpsync.engine.invoices import ALL_MODELS, attach
from erpsync.engine.labels import fetch_labels
from erpsync.postsale.nfe import parse_nfe
from erpsync.postsale.nfe_builder import BUYER_CPF, build_nfe
from erpsync.store import orders


def _pulled(harness, kinds=10):
    now = harness.time.now()
    ids = harness.emulator.seed_orders(kinds, start=now - timedelta(days=2), end=now)
    harness.time.advance(minutes=5)
    harness.pull()
    return ids


def _attach(harness, external_id, off_by="0.00", number=7):
    with harness.store.session() as s:
        row = orders.get_order(s, "mg", external_id)
        xml = build_nfe(
            number=number,
            items=[("SKU", "Item", 1, str(row.items_total))],
            freight=str(row.shipping_cost + Decimal(off_by)),
            discount=str(row.discount),
            recipient=row.buyer_document or BUYER_CPF,
        )
        parsed = parse_nfe(xml)
        attach(s, row, parsed, models=ALL_MODELS, force=True)
    return parsed.invoice


def test_the_nfe_goes_on_its_delivery_once(harness):
    ids = _pulled(harness)
    approved = next(i for i in ids if harness.emulator.invoice_ready(i))
    invoice = _attach(harness, approved)
    report = push_invoices(harness.connector, harness.store)
    # Magalu answers awaiting_validation: pending until the next run reads it back
    assert (report.sent, report.pending) == (1, 1), report.errors
    delivery = harness.emulator.orders[approved]["deliveries"][0]
    [post] = harness.emulator.requests_to(f"/seller/v1/deliveries/{delivery['id']}/invoices")
    body = post.json()
    assert body["key"] == invoice.access_key
    assert body["xml"].startswith("<") and "nfeProc" in body["xml"]
    assert body["channel"] == {"id": harness.emulator.channel_id}
    assert delivery["status"] == "invoiced"
    assert delivery["invoice"]["status"] == "awaiting_validation"
    later = push_invoices(harness.connector, harness.store)
    assert (later.sent, later.accepted) == (0, 1), later.errors
    assert harness.emulator.requests_to(f"/seller/v1/deliveries/{delivery['id']}/invoices", "GET")
    assert push_invoices(harness.connector, harness.store).sent == 0


def test_a_replay_is_accepted_and_a_wrong_total_refused(harness):
    ids = _pulled(harness, 20)
    ready = [i for i in ids if harness.emulator.invoice_ready(i)]
    first = _attach(harness, ready[0])
    push_invoices(harness.connector, harness.store)
    [replay] = harness.connector.push_invoices([_with_delivery(harness, first, ready[0])])
    assert replay.ok  # Magalu's 409 for the key it holds
    _attach(harness, ready[1], off_by="1.00", number=8)
    report = push_invoices(harness.connector, harness.store)
    assert report.refused == 1 and "differs from the order total" in report.errors[0]


def _with_delivery(harness, invoice, external_id):
    delivery = harness.emulator.orders[external_id]["deliveries"][0]["id"]
    with harness.store.session() as s:
        from erpsync.store import invoices

        xml = invoices.xml_of(invoices.by_key(s, invoice.access_key))
    return invoice.model_copy(update={"shipment_ref": delivery, "xml": xml})


def test_labels_only_once_invoiced_downloaded_without_the_token(harness, tmp_path):
    ids = _pulled(harness)
    approved = next(i for i in ids if harness.emulator.invoice_ready(i))
    first = fetch_labels(harness.connector, harness.store, tmp_path)
    waiting = dict(first.waiting)
    assert "the label needs its invoice first" in waiting[f"mg:{approved}"]
    _attach(harness, approved)
    push_invoices(harness.connector, harness.store)
    second = fetch_labels(harness.connector, harness.store, tmp_path, format="zpl")
    assert (f"mg:{approved}", tmp_path / f"mg-{approved}.zpl") in second.written
    assert (tmp_path / f"mg-{approved}.zpl").read_bytes().startswith(b"^XA")
    assert harness.emulator.label_downloads
    assert all("authorization" not in h for h in harness.emulator.label_downloads)


def test_fulfillment_deliveries_never_get_a_label(harness, tmp_path):
    _pulled(harness)
    report = fetch_labels(harness.connector, harness.store, tmp_path)
    written = {order for order, _ in report.written}
    for external_id, order in harness.emulator.orders.items():
        network = (order["deliveries"][0]["shipping"].get("logistic_network") or {}).get("id")
        if network == "fulfillment":
            assert f"mg:{external_id}" not in written


@pytest.mark.parametrize("late", [False, True], ids=["fresh", "expired"])
def test_the_signed_url_expires(harness, late):
    ids = _pulled(harness)
    invoiced = next(i for i in ids if harness.emulator.label_ready(i))
    delivery = harness.emulator.orders[invoiced]["deliveries"][0]["id"]
    answer = harness.connector.request(
        "POST",
        "/seller/v1/logistics/shipping-labels",
        json={"deliveries": [{"id": delivery}], "label": {"format": "pdf", "type": "full"}},
    ).json()
    if late:
        harness.time.advance(minutes=16)
    import httpx

    from erpsync.emulation import EmulatorTransport

    with httpx.Client(transport=EmulatorTransport(harness.emulator.app)) as plain:
        response = plain.get(answer["label"]["signed_url"])
    assert response.status_code == (403 if late else 200)
