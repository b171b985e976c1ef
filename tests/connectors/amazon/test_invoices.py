"""Amazon (Brazil) NF-e through the Delivery by Amazon API against its emulator: the request
as documented (base64 content, Content-MD5, Outbound, the program, orderId), pending until
getInvoiceStatus says Accepted, Errored kept as a refusal, FBA never sent; and the emulator
refuses what Amazon refuses."""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal

import pytest

from erpsync.engine.invoice_push import push_invoices
from erpsync.engine.invoices import ALL_MODELS, attach, stuck_pushes
from erpsync.errors import FatalError
from erpsync.postsale.nfe import parse_nfe
from erpsync.postsale.nfe_builder import BUYER_CPF, build_nfe
from erpsync.store import orders
from tests.connectors.amazon.conftest import pulled as _pulled


def _attach(harness, external_id, *, number=1, off_by="0.00"):
    with harness.store.session() as s:
        row = orders.get_order(s, "amz", external_id)
        xml = build_nfe(
            number=number,
            items=[("SKU", "Item", 1, str(row.items_total))],
            freight=str(row.shipping_cost + Decimal(off_by)),
            discount=str(row.discount),
            recipient=row.buyer_document or BUYER_CPF,
        )
        attach(s, row, parse_nfe(xml), models=ALL_MODELS, force=True)
    return xml


def test_submitted_as_documented_then_accepted_on_the_next_run(harness):
    ids = _pulled(harness)
    ready = next(i for i in ids if harness.emulator.invoice_ready(i))
    xml = _attach(harness, ready)
    first = push_invoices(harness.connector, harness.store)
    assert (first.sent, first.pending) == (1, 1), first.errors
    [post] = harness.emulator.requests_to("/delivery/2022-07-01/invoice", "POST")
    assert post.params == {"orderId": ready}
    body = post.json()
    assert base64.b64decode(body["invoiceContent"]) == xml
    assert body["contentMD5Value"] == base64.b64encode(hashlib.md5(xml).digest()).decode()
    assert (body["invoiceType"], body["programType"]) == ("Outbound", "SelfShip")
    assert body["marketplaceId"] == "A2Q3Y263D00KWC"
    second = push_invoices(harness.connector, harness.store)  # reads the status back
    assert (second.sent, second.accepted) == (0, 1)
    assert harness.emulator.invoice_key(ready) == parse_nfe(xml).invoice.access_key
    assert push_invoices(harness.connector, harness.store).sent == 0


def test_an_errored_nfe_is_kept_as_refused_with_amazons_reason(harness):
    ids = _pulled(harness)
    ready = next(i for i in ids if harness.emulator.invoice_ready(i))
    _attach(harness, ready, off_by="1.00")
    push_invoices(harness.connector, harness.store)
    later = push_invoices(harness.connector, harness.store)
    assert later.refused == 1
    with harness.store.session() as s:
        [stuck] = stuck_pushes(s)
    assert stuck["state"] == "refused" and "differs from the order total" in stuck["error"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"marketplaceId": "ATVPDKIKX0DER"}, "Brazil marketplace"),
        ({"contentMD5Value": "AAAA"}, "contentMD5Value"),
        ({"invoiceType": "Inbound"}, "Outbound"),
        ({"invoiceContent": base64.b64encode(b"<x/>").decode()}, None),
    ],
    ids=["marketplace", "md5", "type", "not-nfe"],
)
def test_the_emulator_refuses_what_amazon_refuses(harness, change, message):
    ids = _pulled(harness)
    ready = next(i for i in ids if harness.emulator.invoice_ready(i))
    xml = _attach(harness, ready)
    body = {
        "invoiceContent": base64.b64encode(xml).decode(),
        "marketplaceId": "A2Q3Y263D00KWC",
        "contentMD5Value": base64.b64encode(hashlib.md5(xml).digest()).decode(),
        "invoiceType": "Outbound",
        "programType": "SelfShip",
    } | change
    if message is None:  # the MD5 must then match the new content to reach the XML check
        content = base64.b64decode(body["invoiceContent"])
        body["contentMD5Value"] = base64.b64encode(hashlib.md5(content).digest()).decode()
        message = "not an authorised NF-e"
    with pytest.raises(FatalError, match=message):
        harness.connector.request(
            "POST", "/delivery/2022-07-01/invoice", params={"orderId": ready}, json=body
        )


def test_fba_orders_are_refused_by_the_emulator(harness):
    ids = _pulled(harness)
    fba = next(i for i in ids if harness.emulator.orders[i].order["FulfillmentChannel"] == "AFN")
    xml = build_nfe(number=9)
    body = {
        "invoiceContent": base64.b64encode(xml).decode(),
        "marketplaceId": "A2Q3Y263D00KWC",
        "contentMD5Value": base64.b64encode(hashlib.md5(xml).digest()).decode(),
        "invoiceType": "Outbound",
        "programType": "SelfShip",
    }
    with pytest.raises(FatalError, match="FBA orders are invoiced by Amazon"):
        harness.connector.request(
            "POST", "/delivery/2022-07-01/invoice", params={"orderId": fba}, json=body
        )
