"""Mercado Livre orders: recorded-shape payloads (fixtures/) -> canonical Orders."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from erpsync.connectors.mercadolivre import orders
from erpsync.domain import Address, Buyer, Order, OrderItem, OrderStatus

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "mercadolivre" / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def order(order_id: int) -> dict[str, Any]:
    return load(f"order-{order_id}.json")


def mapped(order_id: int) -> Order:
    return orders.order_from_payload(order(order_id), connector="ml")


def test_paid_order_maps_field_by_field() -> None:
    """requirement: a paid drop-off order becomes one exact canonical Order."""
    assert mapped(2000009000000101) == Order(
        connector="ml",
        platform="Mercado Livre",
        external_id="2000009000000101",
        number="2000009000000101",
        sale_ref="MERCADO_LIVRE:2000009000000101",
        status=OrderStatus.PAID,
        channel_status="paid",
        created_at=datetime(2026, 8, 9, 14, 0, tzinfo=UTC),
        updated_at=datetime(2026, 8, 10, 14, 0, tzinfo=UTC),
        currency="BRL",
        items_total=Decimal("69.80"),
        shipping_cost=Decimal("22.90"),
        discount=Decimal("0.00"),
        total=Decimal("92.70"),
        buyer=Buyer(name="Bruno Souza", document="43321819643"),
        shipping_address=Address(
            street="Avenida Paulista",
            number="131",
            complement=None,
            district="Bela Vista",
            city="São Paulo",
            state="SP",
            zip="01310100",
            country="BR",
        ),
        items=(
            OrderItem(
                sku="CAN-350",
                channel_item_id="MLB3100000002",
                variation_id=None,
                title="Caneca Cerâmica 350ml",
                quantity=2,
                unit_price=Decimal("34.90"),
            ),
        ),
        fulfilled_by_channel=False,
        extra={
            "shipment_id": "44000000101",
            "buyer_id": "700000000",
            "tags": ["paid", "not_delivered"],
            "logistic_type": "drop_off",
            "shipment_status": "ready_to_ship",
            "shipment_substatus": "invoice_pending",
        },
    )


# fmt: off
ORDERS = [
    # id, ML status, ours, items_total, shipping, discount, total, Full
    (101, "paid", OrderStatus.PAID, "69.80", "22.90", "0.00", "92.70", False),  # invoice_pending
    (102, "paid", OrderStatus.INVOICED, "69.80", "22.90", "0.00", "92.70", False),  # label printed
    (103, "paid", OrderStatus.SHIPPED, "89.90", "0.00", "0.00", "89.90", False),
    (104, "paid", OrderStatus.DELIVERED, "69.80", "18.50", "0.00", "88.30", False),
    (105, "confirmed", OrderStatus.PENDING, "69.80", "22.90", "0.00", "92.70", False),  # no payment
    (106, "payment_required", OrderStatus.PENDING, "69.80", "22.90", "0.00", "92.70", False),
    (107, "payment_in_process", OrderStatus.PENDING, "89.90", "0.00", "0.00", "89.90", False),
    (108, "partially_paid", OrderStatus.PENDING, "89.90", "0.00", "0.00", "89.90", False),
    (109, "partially_refunded", OrderStatus.PAID, "69.80", "22.90", "0.00", "92.70", False),
    (110, "pending_cancel", OrderStatus.CANCELLED, "69.80", "22.90", "0.00", "92.70", False),
    (111, "cancelled", OrderStatus.CANCELLED, "69.80", "0.00", "0.00", "69.80", False),  # refunded
    (112, "invalid", OrderStatus.CANCELLED, "89.90", "0.00", "0.00", "89.90", False),  # rejected
    (113, "paid", OrderStatus.SHIPPED, "129.90", "0.00", "0.00", "129.90", True),  # Full
    (114, "paid", OrderStatus.INVOICED, "49.90", "19.90", "0.00", "69.80", False),  # pack, 1st
    (115, "paid", OrderStatus.INVOICED, "34.90", "0.00", "0.00", "34.90", False),  # pack, 2nd
    (116, "paid", OrderStatus.PAID, "10.30", "7.10", "0.20", "17.20", False),  # money edges
    (117, "paid", OrderStatus.PAID, "159.70", "25.00", "0.00", "184.70", False),  # CNPJ buyer
    (118, "paid", OrderStatus.PAID, "69.80", "0.00", "0.00", "69.80", False),  # no details
]
# fmt: on


@pytest.mark.parametrize(
    ("suffix", "raw", "status", "items_total", "shipping", "discount", "total", "full"), ORDERS
)
def test_every_fixture_maps_status_money_and_full(
    suffix: int,
    raw: str,
    status: OrderStatus,
    items_total: str,
    shipping: str,
    discount: str,
    total: str,
    full: bool,
) -> None:
    """requirement: every ML status maps to ours; money is exact Decimal; Full is flagged."""
    result = mapped(2000009000000000 + suffix)
    assert (result.channel_status, result.status) == (raw, status)
    assert (result.items_total, result.shipping_cost, result.discount, result.total) == (
        Decimal(items_total),
        Decimal(shipping),
        Decimal(discount),
        Decimal(total),
    )
    assert result.fulfilled_by_channel is full


def test_status_table_covers_every_documented_ml_status() -> None:
    """requirement: each order status ML documents has a row in the table."""
    assert set(orders.ORDER_STATUS) == {
        "confirmed",
        "payment_required",
        "payment_in_process",
        "partially_paid",
        "paid",
        "partially_refunded",
        "pending_cancel",
        "cancelled",
        "invalid",
    }


def test_unknown_status_is_a_mapping_error_for_quarantine() -> None:
    """requirement: a status we do not know fails mapping (-> quarantine), never guesses."""
    payload = order(2000009000000101)
    payload["order"]["status"] = "under_review"
    with pytest.raises(ValueError, match="unknown Mercado Livre order status 'under_review'"):
        orders.order_from_payload(payload, connector="ml")


def test_pack_orders_share_number_and_pack_id_and_charge_shipping_once() -> None:
    """requirement: a cart purchase (pack) keeps pack_id; the shared shipment is paid once."""
    first, second = mapped(2000009000000114), mapped(2000009000000115)
    assert first.number == second.number == "2000004000000214"
    assert first.extra["pack_id"] == second.extra["pack_id"] == "2000004000000214"
    assert first.extra["shipment_id"] == second.extra["shipment_id"] == "44000000214"
    assert first.shipping_cost + second.shipping_cost == Decimal("19.90")
    assert first.items[0].variation_id == "180000000012"
    assert first.items[0].sku == "CAM-PRETO-M"


def test_money_edge_cases_are_exact() -> None:
    """requirement: 0.1 + 0.2 stays 0.30 and 3-decimal inputs round half-even to cents."""
    result = mapped(2000009000000116)
    assert [item.unit_price for item in result.items] == [
        Decimal("0.10"),
        Decimal("0.20"),
        Decimal("10.00"),  # 10.005 -> half-even -> 10.00
    ]
    assert sum(item.unit_price for item in result.items[:2]) == Decimal("0.30")
    assert result.items_total == Decimal("10.30")  # total_amount 10.305 -> 10.30
    assert result.total == result.items_total + result.shipping_cost - result.discount


def test_multi_item_order_with_cnpj_buyer_and_legacy_sku() -> None:
    """requirement: every order_items line maps; a CNPJ is kept; seller_custom_field is the
    fallback SKU."""
    result = mapped(2000009000000117)
    assert result.buyer == Buyer(name="Tech Norte Eireli", document="49593103000100")
    assert [(item.sku, item.quantity) for item in result.items] == [("GAR-1L", 1), ("CAN-350", 2)]
    assert result.shipping_address.state == "RS"


def test_order_without_billing_info_or_shipment_notes_what_is_missing() -> None:
    """requirement: withheld fields are empty and explained in notes."""
    result = mapped(2000009000000118)
    assert result.buyer == Buyer(name="Felipe Souza", document=None)
    assert result.shipping_address == Address(country=None)  # nothing received, not even "BR"
    assert result.notes == ("buyer document not available: the order has no billing info",)


def test_billing_address_is_the_fallback_when_the_shipment_was_not_fetched() -> None:
    """requirement: without a shipment, the billing address fills the address; notes say why."""
    payload = order(2000009000000117)
    payload["shipment"] = None
    result = orders.order_from_payload(payload, connector="ml")
    assert result.shipping_address == Address(
        street="Rua dos Andradas",
        number="1186",
        district="Centro Histórico",
        city="Porto Alegre",
        state="RS",
        zip="90010150",
    )
    assert result.notes == ("shipping address not available: the shipment was not fetched",)
    assert result.fulfilled_by_channel is False


def test_old_shipment_format_logistic_type_still_flags_full() -> None:
    """requirement: the flat `logistic_type` of the old /shipments format is understood."""
    payload = copy.deepcopy(order(2000009000000113))
    del payload["shipment"]["logistic"]
    payload["shipment"]["logistic_type"] = "fulfillment"
    assert orders.order_from_payload(payload, connector="ml").fulfilled_by_channel is True


def test_old_shipment_format_receiver_address_is_read_too() -> None:
    """requirement: a shipment fetched without x-format-new still yields the address."""
    payload = copy.deepcopy(order(2000009000000101))
    shipment = payload["shipment"]
    shipment["receiver_address"] = shipment.pop("destination")["shipping_address"]
    assert (
        orders.order_from_payload(payload, connector="ml").shipping_address
        == mapped(2000009000000101).shipping_address
    )


def test_invalid_buyer_document_is_left_empty_with_a_note_not_quarantined() -> None:
    """requirement: a bad CPF never holds the order (issue 12): the document is empty, kept as
    given in extra with its type, and a note (masked) says why."""
    payload = order(2000009000000101)
    payload["billing_info"]["buyer"]["billing_info"]["identification"]["number"] = "12345678900"
    result = orders.order_from_payload(payload, connector="ml")
    assert result.buyer.document is None
    assert result.extra["buyer_document"] == {"type": "CPF", "number": "12345678900"}
    (note,) = result.notes
    assert note.startswith("buyer document left empty: invalid CPF *********00")
