"""Nuvemshop order mapping on the docs' own example payloads (fixtures/) and on every
documented status combination derived from them."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from erpsync.connectors.nuvemshop import orders
from erpsync.domain import OrderStatus

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "nuvemshop" / "fixtures"


def doc(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_the_v1_docs_example_maps_with_its_quirks():
    """requirement: the old docs' order (duplicate number, `price` as total, US address) maps."""
    order = orders.order_from_payload(doc("order-450789469.json"), connector="ns")
    assert order.external_id == "450789469"
    assert order.number == "101"  # "number" appears twice: JSON keeps the last
    assert order.status is OrderStatus.PENDING
    assert order.channel_status == "open/pending/unshipped"
    assert (order.items_total, order.shipping_cost, order.discount, order.total) == (
        Decimal("38.00"), Decimal("20.00"), Decimal("0.00"), Decimal("58.00"),
    )  # fmt: skip
    assert order.items[0].quantity == 2 and order.items[0].variation_id == "101"
    assert order.created_at.isoformat() == "2008-01-10T16:00:00+00:00"
    # a US address: state and ZIP are not a UF and a CEP: empty, with a note
    assert order.shipping_address.state is None and order.shipping_address.zip is None
    assert any("CEP" in n for n in order.notes)
    assert order.extra["coupons"] == ["SUPERDISCOUNT"]


def test_the_fulfill_answer_is_shipped():
    order = orders.order_from_payload(doc("order-450789469-fulfilled.json"), connector="ns")
    assert order.status is OrderStatus.SHIPPED
    assert order.extra["shipping_tracking_number"] == "ABC1234"


def test_the_2022_docs_example_strings_offsets_and_identification():
    """requirement: string quantity/variant_id, +0000 offsets, customer.identification."""
    order = orders.order_from_payload(doc("order-871254203.json"), connector="ns")
    assert order.items[0].quantity == 1
    assert order.items[0].variation_id == "426215948"
    assert order.items[0].sku == "12389012348124801234890"
    assert order.updated_at.isoformat() == "2022-11-15T19:37:08+00:00"
    assert order.buyer.document == "75839566500"
    assert order.discount == Decimal("600.00")  # coupon 0.00 + gateway 600.00
    assert order.total == Decimal("5400.00")
    assert order.currency == "ARS"
    assert not any("differs" in n for n in order.notes)


STATUSES = ["open", "closed", "cancelled"]
PAYMENTS = ["pending", "authorized", "paid", "voided", "refunded", "abandoned"]
SHIPPINGS = ["unpacked", "unfulfilled", "unshipped", "fulfilled", "shipped"]


def expected(status, payment, shipping):
    if status == "cancelled" or payment in {"voided", "refunded", "abandoned"}:
        return OrderStatus.CANCELLED
    if status == "closed":
        return OrderStatus.DELIVERED
    if shipping in {"fulfilled", "shipped"}:
        return OrderStatus.SHIPPED
    return OrderStatus.PAID if payment == "paid" else OrderStatus.PENDING


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("payment", PAYMENTS)
@pytest.mark.parametrize("shipping", SHIPPINGS)
def test_every_documented_status_combination(status, payment, shipping):
    """requirement: status x payment_status x shipping_status, both shipping spellings."""
    for name in ("order-450789469.json", "order-871254203.json"):
        payload = doc(name) | {
            "status": status, "payment_status": payment, "shipping_status": shipping,
        }  # fmt: skip
        assert orders.order_from_payload(payload, connector="ns").status is expected(
            status, payment, shipping
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "archived"), ("payment_status", "chargeback"), ("shipping_status", "lost")],
)
def test_an_undocumented_status_is_refused_for_the_quarantine(field, value):
    with pytest.raises(ValueError, match=value):
        orders.order_from_payload(doc("order-871254203.json") | {field: value}, connector="ns")


def test_money_discount_coupon_gateway_and_freight_as_strings():
    """requirement: discounts, freight, coupons as decimal strings, exactly."""
    payload = doc("order-871254203.json")
    payload["products"][0] |= {"price": "19.90", "quantity": "3"}
    payload |= {
        "subtotal": "59.70", "discount": "", "discount_coupon": "10.00",
        "discount_gateway": "2.99", "shipping_cost_customer": "15.90", "total": "62.61",
        "coupon": [{"code": "BEMVINDO10"}],
    }  # fmt: skip
    order = orders.order_from_payload(payload, connector="ns")
    assert order.items_total == Decimal("59.70")
    assert order.discount == Decimal("12.99")  # no `discount`: coupon + gateway
    assert order.shipping_cost == Decimal("15.90")
    assert order.total == Decimal("62.61")
    assert order.extra["coupons"] == ["BEMVINDO10"]
    assert not order.notes or not any("differs" in n for n in order.notes)


def test_a_total_that_does_not_add_up_is_kept_with_a_note():
    payload = doc("order-871254203.json") | {"total": "5399.00"}
    order = orders.order_from_payload(payload, connector="ns")
    assert order.total == Decimal("5399.00")
    assert any("differs" in n for n in order.notes)


def test_no_total_at_all_is_computed():
    payload = doc("order-871254203.json")
    del payload["total"]
    assert orders.order_from_payload(payload, connector="ns").total == Decimal("5400.00")


@pytest.mark.parametrize(("raw", "value"), [("2", 2), (" 3 ", 3), (4, 4), ("1.0", 1)])
def test_quantities_as_strings_are_read(raw, value):
    assert orders.quantity(raw) == value


@pytest.mark.parametrize("raw", ["", "abc", "1.5", "0", "-1", None, True])
def test_a_bad_quantity_sends_the_order_to_quarantine(raw):
    payload = doc("order-871254203.json")
    payload["products"][0]["quantity"] = raw
    with pytest.raises(ValueError):
        orders.order_from_payload(payload, connector="ns")


@pytest.mark.parametrize("change", [{"id": None}, {"products": []}, {"id": ""}])
def test_what_an_order_cannot_exist_without_quarantines_it(change):
    with pytest.raises(ValueError):
        orders.order_from_payload(doc("order-871254203.json") | change, connector="ns")


def test_a_bad_document_cep_or_phone_is_an_empty_field_and_a_note():
    """requirement: only id, lines and quantities may quarantine an order."""
    payload = doc("order-871254203.json")
    payload["customer"]["identification"] = "12.345.678-9"  # an RG
    payload["shipping_address"] |= {"zipcode": "1801", "province": "São Paulo", "country": "BR"}
    order = orders.order_from_payload(payload, connector="ns")
    assert order.buyer.document is None
    assert order.extra["buyer_document"]["number"] == "12.345.678-9"
    assert order.shipping_address.zip is None and order.shipping_address.state == "SP"
    assert any("CEP" in n for n in order.notes)
    assert all("12.345.678" not in n for n in order.notes)


def test_without_the_customers_scope_the_contact_fields_are_the_buyer():
    payload = doc("order-871254203.json")
    del payload["customer"]
    order = orders.order_from_payload(payload, connector="ns")
    assert order.buyer.name == "Maria Silva" and order.buyer.document == "75839566500"


def test_version_is_id_and_updated_at():
    key = orders.version({"id": "871254203", "updated_at": "2022-11-15T19:37:08+0000"})
    assert key[0] == "871254203" and key[1].isoformat() == "2022-11-15T19:37:08+00:00"
