"""NF-e keys as order metafields and fulfilment with tracking, against the emulator."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from erpsync.connectors.nuvemshop import NuvemshopConnector
from erpsync.connectors.nuvemshop.emulator import NuvemshopEmulator
from erpsync.connectors.nuvemshop.emulator.app import STORE_ID
from erpsync.domain import Invoice, TrackingUpdate
from erpsync.testing import FakeTime, build_harness

KEY = "35240612345678000195550010000000011000000017"


def valid_key(number: int) -> str:
    from erpsync.documents import _nfe_check_digit

    first = f"352406123456780001955500100{number:09d}1{number:07d}"[:43]
    return first + _nfe_check_digit(first)


@pytest.fixture
def harness():
    time = FakeTime()
    emulator = NuvemshopEmulator(seed=5, clock=time.now, sandbox_orders=0)
    h = build_harness(NuvemshopConnector, emulator, time, name="ns")
    now = time.now()
    emulator.seed_orders(12, start=now - timedelta(days=1), end=now)
    yield h
    h.connector.close()


def invoice_for(h, order, number=1, total=None):
    return Invoice(
        access_key=valid_key(number),
        model="55",
        number=number,
        series=1,
        issued_at=datetime(2026, 11, 2, tzinfo=UTC),
        issuer_document="12345678000195",
        total=Decimal(order["total"]) if total is None else total,
        products_total=Decimal(order["subtotal"]),
        connector="ns",
        order_external_id=str(order["id"]),
    )


def paid(h):
    return next(o for o in h.emulator.orders.values() if h.emulator.invoice_ready(str(o["id"])))


def posted(h):
    return [r.json() for r in h.emulator.requests_to(f"/{STORE_ID}/metafields", "POST")]


def test_the_nfe_lands_in_the_order_list_and_as_the_older_key_metafield_once(harness):
    """requirement: the preferred `nfe`/`list` (a JSON-encoded string of {key, link}) and the
    older `nfe`/`key` both carry the NF-e; sending it again writes nothing."""
    order = paid(harness)
    invoice = invoice_for(harness, order)
    [result] = harness.connector.push_invoices([invoice])
    assert result.ok, result.error
    assert harness.emulator.invoice_key(str(order["id"])) == invoice.access_key
    first, second = posted(harness)
    assert first == {
        "namespace": "nfe", "key": "list", "value": f'[{{"key": "{invoice.access_key}"}}]',
        "owner_resource": "Order", "owner_id": order["id"], "description": "Lista de NFes",
    }  # fmt: skip
    assert second | {"description": None} == {
        "namespace": "nfe", "key": "key", "value": invoice.access_key,
        "owner_resource": "Order", "owner_id": order["id"], "description": None,
    }  # fmt: skip
    [again] = harness.connector.push_invoices([invoice])
    assert again.ok
    assert len(posted(harness)) == 2
    assert not harness.emulator.requests_to(f"/{STORE_ID}/metafields/", "PUT")


def test_with_nfe_link_the_xml_url_goes_in_the_list_and_as_the_link_metafield(harness):
    order = paid(harness)
    invoice = invoice_for(harness, order)
    connector = harness.connector
    connector.settings = type(connector.settings)(
        **{
            **connector.settings.__dict__,
            "options": connector.options.model_copy(
                update={"nfe_link": "https://erp.loja.com.br/nfe/{key}.xml"}
            ),
        }
    )
    [result] = connector.push_invoices([invoice])
    assert result.ok, result.error
    url = f"https://erp.loja.com.br/nfe/{invoice.access_key}.xml"
    assert harness.emulator.nfe_list(str(order["id"])) == [{"key": invoice.access_key, "link": url}]
    link = harness.emulator.order_metafield(str(order["id"]), "nfe", "link")
    assert link["value"] == url


def test_another_nfe_of_the_order_is_appended_to_the_list(harness):
    """requirement: an order may carry several NF-es; the list keeps those already there
    (another app's, or an earlier one) and the older `key` metafield holds the newest."""
    order = paid(harness)
    harness.connector.push_invoices([invoice_for(harness, order, 1)])
    [result] = harness.connector.push_invoices([invoice_for(harness, order, 2)])
    assert result.ok
    entries = harness.emulator.nfe_list(str(order["id"]))
    assert [e["key"] for e in entries] == [valid_key(1), valid_key(2)]
    assert harness.emulator.order_metafield(str(order["id"]), "nfe", "key")["value"] == (
        valid_key(2)
    )


def test_a_list_metafield_that_is_not_a_json_list_is_left_alone(harness):
    order = paid(harness)
    harness.emulator.metafields[1] = {
        "id": 1, "namespace": "nfe", "key": "list", "value": "NF 123 emitida",
        "owner_resource": "Order", "owner_id": order["id"], "description": None,
    }  # fmt: skip
    [result] = harness.connector.push_invoices([invoice_for(harness, order)])
    assert not result.ok and "not a JSON list" in result.error
    assert harness.emulator.metafields[1]["value"] == "NF 123 emitida"
    assert not posted(harness)


def test_the_emulator_refuses_a_metafield_value_that_is_not_a_string(harness):
    order = paid(harness)
    with pytest.raises(Exception, match="must be a string"):
        harness.connector.request(
            "POST",
            f"/{STORE_ID}/metafields",
            json={
                "namespace": "nfe",
                "key": "list",
                "value": [{"key": KEY}],
                "owner_resource": "Order",
                "owner_id": order["id"],
            },
        )


def test_a_total_that_differs_is_refused_and_nothing_lands(harness):
    order = paid(harness)
    [result] = harness.connector.push_invoices(
        [invoice_for(harness, order, total=Decimal(order["total"]) + 1)]
    )
    assert not result.ok and not result.retry and "differs" in result.error
    assert harness.emulator.invoice_key(str(order["id"])) is None


def test_a_cancelled_or_unknown_order_is_refused(harness):
    order = paid(harness)
    harness.emulator.cancel_order(str(order["id"]))
    [cancelled] = harness.connector.push_invoices([invoice_for(harness, order)])
    assert "cancelled" in cancelled.error
    ghost = invoice_for(harness, order).model_copy(update={"order_external_id": "999"})
    [unknown] = harness.connector.push_invoices([ghost])
    assert "not on Nuvemshop" in unknown.error


def test_tracking_fulfils_the_order_once(harness):
    order = paid(harness)
    update = TrackingUpdate(order_external_id=str(order["id"]), tracking_code="AA123456789BR")
    [result] = harness.connector.push_tracking([update])
    assert result.ok
    assert order["shipping_status"] == "shipped"
    assert order["shipping_tracking_number"] == "AA123456789BR"
    body = harness.emulator.requests_to(f"/{STORE_ID}/orders/{order['id']}/fulfill")[0].json()
    assert body == {"shipping_tracking_number": "AA123456789BR", "notify_customer": True}
    [again] = harness.connector.push_tracking([update])
    assert again.ok
    assert len(harness.emulator.requests_to(f"/{STORE_ID}/orders/{order['id']}/fulfill")) == 1


def ready(h, count):
    orders = [o for o in h.emulator.orders.values() if h.emulator.invoice_ready(str(o["id"]))]
    assert len(orders) >= count
    return orders[:count]


def test_a_failed_request_is_its_records_result_not_the_batchs(harness):
    """requirement: each NF-e and each tracking code is its own result: a request that keeps
    failing (5xx) is sent again next run (retry), one Nuvemshop refuses (4xx) is refused with
    its message, and the others still go."""
    busy, refusing, fine = ready(harness, 3)
    harness.emulator.faults.add(
        "status", status=503, times=6, path=f"/{STORE_ID}/orders/{busy['id']}"
    )
    harness.emulator.faults.add("status", status=422, path=f"/{STORE_ID}/orders/{refusing['id']}")
    invoices = [invoice_for(harness, o, number=n) for n, o in enumerate((busy, refusing, fine), 1)]

    results = harness.connector.push_invoices(invoices)

    assert [(r.ref, r.ok, r.retry) for r in results] == [
        (invoices[0].access_key, False, True),
        (invoices[1].access_key, False, False),
        (invoices[2].access_key, True, False),
    ]
    assert "HTTP 503" in results[0].error and "HTTP 422" in results[1].error
    assert harness.emulator.invoice_key(str(fine["id"])) == invoices[2].access_key

    harness.emulator.faults.add(
        "status", status=503, times=6, path=f"/{STORE_ID}/orders/{busy['id']}/fulfill"
    )
    harness.emulator.faults.add(
        "status", status=422, path=f"/{STORE_ID}/orders/{refusing['id']}/fulfill"
    )
    updates = [
        TrackingUpdate(
            order_external_id=str(o["id"]), shipment_ref=str(o["id"]), tracking_code="AA1BR"
        )
        for o in (busy, refusing, fine)
    ]

    shipped = harness.connector.push_tracking(updates)

    assert [(r.ref, r.ok, r.retry) for r in shipped] == [
        (str(busy["id"]), False, True),
        (str(refusing["id"]), False, False),
        (str(fine["id"]), True, False),
    ]
    assert fine["shipping_tracking_number"] == "AA1BR"


@pytest.mark.parametrize(
    "template", ["https://erp.loja.com.br/nfe.xml", "erp.loja.com.br/{key}", "https://x/{id}/{key}"]
)
def test_an_nfe_link_without_exactly_the_key_placeholder_is_refused(template):
    from pydantic import ValidationError

    from erpsync.connectors.nuvemshop.settings import NuvemshopOptions

    with pytest.raises(ValidationError):
        NuvemshopOptions(store_id=1, user_agent="erp (ti@x.com)", nfe_link=template)
