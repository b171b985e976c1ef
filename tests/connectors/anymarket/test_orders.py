"""Anymarket order mapping on the SDK samples' shape (fixtures/): every documented status,
fulfillment, money edge cases and numbers sent as strings."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from erpsync.connectors.anymarket import orders
from erpsync.domain import OrderStatus

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "anymarket" / "fixtures"


def doc(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("order-710001.json", OrderStatus.PENDING),
        ("order-710002.json", OrderStatus.PAID),
        ("order-710003.json", OrderStatus.INVOICED),
        ("order-710004.json", OrderStatus.SHIPPED),
        ("order-710005.json", OrderStatus.DELIVERED),
        ("order-710006.json", OrderStatus.CANCELLED),
    ],
)
def test_every_documented_status_maps(fixture, status):
    order = orders.order_from_payload(doc(fixture), connector="any")
    assert order.status is status
    assert order.channel_status == doc(fixture)["status"]


def test_the_status_table_covers_the_sdk_enum_and_nothing_else():
    assert set(orders.STATUSES) == {
        "PENDING", "PAID_WAITING_SHIP", "INVOICED", "PAID_WAITING_DELIVERY", "CONCLUDED",
        "CANCELED",
    }  # fmt: skip


def test_an_unknown_status_is_a_mapping_error():
    payload = {**doc("order-710001.json"), "status": "WHATEVER"}
    with pytest.raises(ValueError, match="unknown Anymarket order status 'WHATEVER'"):
        orders.order_from_payload(payload, connector="any")


def test_the_sku_partner_id_is_our_sku_and_the_marketplace_is_kept():
    order = orders.order_from_payload(doc("order-710002.json"), connector="any")
    assert [i.sku for i in order.items] == ["CAN-300", "MOC-CINZA"]
    assert [i.channel_item_id for i in order.items] == ["190021", "190031"]
    assert order.number == "701-1234567-7654321"
    assert order.extra["marketplace"] == "AMAZON"
    assert order.extra["marketplace_number"] == "701-1234567-7654321"
    assert orders.marketplace_ref(doc("order-710002.json")) == ("AMAZON", "701-1234567-7654321")


def test_money_freight_and_discount():
    order = orders.order_from_payload(doc("order-710002.json"), connector="any")
    assert (order.items_total, order.shipping_cost, order.discount, order.total) == (
        Decimal("228.90"), Decimal("23.45"), Decimal("10.00"), Decimal("242.35"),
    )  # fmt: skip
    assert not any("differs" in n for n in order.notes)


def test_numbers_sent_as_strings_coupon_and_interest():
    """requirement: "19.90", "1", "189.00" read exactly; interest counts in the total."""
    order = orders.order_from_payload(doc("order-710008.json"), connector="any")
    assert order.items[0].quantity == 1 and order.items[0].unit_price == Decimal("189.00")
    assert (order.shipping_cost, order.discount, order.total) == (
        Decimal("19.90"), Decimal("18.90"), Decimal("197.35"),
    )  # fmt: skip
    assert order.extra["interest"] == "7.35"
    assert not any("differs" in n for n in order.notes)


def test_a_total_that_does_not_add_up_is_kept_with_a_note():
    payload = {**doc("order-710001.json"), "total": 999.99}
    order = orders.order_from_payload(payload, connector="any")
    assert order.total == Decimal("999.99")
    assert any("differs" in n for n in order.notes)


def test_float_money_is_read_through_its_decimal_text():
    payload = doc("order-710001.json")
    payload["items"][0]["unit"] = 0.1
    payload["items"][0]["amount"] = 3
    order = orders.order_from_payload(payload, connector="any")
    assert order.items[0].unit_price == Decimal("0.10")


def test_fulfillment_orders_never_touch_stock():
    full = orders.order_from_payload(doc("order-710007.json"), connector="any")
    own = orders.order_from_payload(doc("order-710002.json"), connector="any")
    assert full.fulfilled_by_channel and not own.fulfilled_by_channel


def test_buyer_address_and_an_rg_left_empty_with_a_note():
    paid = orders.order_from_payload(doc("order-710002.json"), connector="any")
    assert paid.buyer.document == "52998224725"
    assert paid.shipping_address.zip == "01310200" and paid.shipping_address.state == "SP"
    assert paid.shipping_address.street == "Avenida Paulista"
    cancelled = orders.order_from_payload(doc("order-710006.json"), connector="any")
    assert cancelled.buyer.document is None
    assert cancelled.extra["buyer_document"]["type"] == "RG"
    assert any("buyer document left empty" in n for n in cancelled.notes)


def test_the_version_is_the_fetch_time_when_wrapped_else_the_newest_date():
    bare = orders.order_from_payload(doc("order-710002.json"), connector="any")
    assert bare.updated_at.isoformat() == "2026-11-01T13:22:41+00:00"  # paymentDate
    wrapped = {"order": doc("order-710002.json"), "fetched_at": "2026-11-03T10:00:00+00:00"}
    assert orders.order_from_payload(wrapped, connector="any").updated_at.isoformat() == (
        "2026-11-03T10:00:00+00:00"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"items": []}, "without items"),
        ({"id": None}, "usable id"),
    ],
)
def test_what_an_order_cannot_exist_without_is_a_mapping_error(change, message):
    with pytest.raises(ValueError, match=message):
        orders.order_from_payload({**doc("order-710001.json"), **change}, connector="any")


def test_a_zero_or_fractional_amount_is_a_mapping_error():
    payload = doc("order-710001.json")
    payload["items"][0]["amount"] = 1.5
    with pytest.raises(ValueError, match="whole positive"):
        orders.order_from_payload(payload, connector="any")
