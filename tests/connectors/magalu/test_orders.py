"""Magalu orders.py specs: fixture payloads (Open API shapes) -> exact canonical orders."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from erpsync.connectors.magalu import orders
from erpsync.domain import Address, Buyer, Order, OrderItem, OrderStatus

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "magalu" / "fixtures"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def map_fixture(name: str) -> Order:
    return orders.order_from_payload({"order": load(name)}, connector="mg")


@pytest.mark.parametrize(
    ("fixture", "status", "channel_status"),
    [
        ("order-new", OrderStatus.PENDING, "new"),
        ("order-approved-multi-item", OrderStatus.PAID, "approved"),
        ("order-frozen", OrderStatus.PAID, "approved"),
        ("order-invoiced", OrderStatus.INVOICED, "approved"),
        ("order-shipped", OrderStatus.SHIPPED, "approved"),
        ("order-finished", OrderStatus.DELIVERED, "finished"),
        ("order-cancelled", OrderStatus.CANCELLED, "cancelled"),
        ("order-multi-delivery", OrderStatus.INVOICED, "approved"),
        ("order-fulfillment", OrderStatus.SHIPPED, "approved"),
    ],
)
def test_every_status_maps(fixture: str, status: OrderStatus, channel_status: str) -> None:
    """requirement: order status + delivery statuses give our status; the raw one is kept."""
    order = map_fixture(fixture)
    assert (order.status, order.channel_status) == (status, channel_status)


@pytest.mark.parametrize(
    ("order_status", "delivery_statuses", "expected"),
    [
        ("new", ["new"], OrderStatus.PENDING),
        ("approved", ["approved"], OrderStatus.PAID),
        ("approved", ["new"], OrderStatus.PAID),
        ("approved", ["frozen"], OrderStatus.PAID),
        ("approved", ["invoiced", "shipped"], OrderStatus.INVOICED),
        ("approved", ["shipped", "delivered"], OrderStatus.SHIPPED),
        ("approved", ["delivered", "delivered"], OrderStatus.DELIVERED),
        ("approved", ["delivered", "cancelled"], OrderStatus.DELIVERED),
        ("approved", ["cancelled", "cancelled"], OrderStatus.CANCELLED),
        ("approved", [], OrderStatus.PAID),
        ("finished", ["delivered"], OrderStatus.DELIVERED),
        ("finished", ["cancelled"], OrderStatus.CANCELLED),
        ("cancelled", ["approved"], OrderStatus.CANCELLED),
    ],
)
def test_status_table(
    order_status: str, delivery_statuses: list[str], expected: OrderStatus
) -> None:
    """requirement: an order is as far as its least advanced live delivery, at least paid."""
    order = {"status": order_status, "deliveries": [{"status": s} for s in delivery_statuses]}
    assert orders.order_status(order) == expected


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "paid"}, "unknown Magalu order status 'paid'"),
        ({"deliveries": [{"status": "lost"}]}, "unknown Magalu delivery status 'lost'"),
    ],
)
def test_unknown_status_fails_for_quarantine(change: dict[str, Any], message: str) -> None:
    """requirement: a status we do not know is an error (quarantine), never a silent guess."""
    order = {"status": "approved", "deliveries": [{"status": "approved"}]} | change
    with pytest.raises(ValueError, match=message):
        orders.order_status(order)


def test_new_order_maps_exactly() -> None:
    """requirement: buyer (CPF, phone), address, items, money and delivery extra are mapped."""
    assert map_fixture("order-new") == Order(
        connector="mg",
        platform="Magalu",
        external_id="a1b2c3d4-0001-4e5f-8a9b-000000000001",
        number="1500170942837801",
        sale_ref="MAGAZINE_LUIZA:1500170942837801",
        status=OrderStatus.PENDING,
        channel_status="new",
        created_at=datetime(2026, 9, 10, 13, 5, tzinfo=UTC),
        updated_at=datetime(2026, 9, 10, 15, 20, 11, 482000, tzinfo=UTC),
        items_total=Decimal("99.80"),
        shipping_cost=Decimal("15.90"),
        discount=Decimal("0.00"),
        total=Decimal("115.70"),
        buyer=Buyer(
            name="Maria Souza",
            document="52601815906",
            email="maria.souza@example.com",
            phone="+5511991232233",
        ),
        shipping_address=Address(
            street="Avenida Paulista",
            number="1578",
            complement="Conjunto 41",
            district="Bela Vista",
            city="São Paulo",
            state="SP",
            zip="01310200",
        ),
        items=(
            OrderItem(
                sku="CAMISETA-AZ-M",
                channel_item_id="0c1f0001-5b7e-4c2a-9d1e-002972681700",
                title="Camiseta Azul M",
                quantity=2,
                unit_price=Decimal("49.90"),
            ),
        ),
        extra={
            "code": "1500170942837801",
            "channel_id": "9fe0d853-732b-4e4a-a0b0-cff988ed043d",
            "approved_at": None,
            "delivery_ids": ["6c764401-436d-4659-8cec-170942837801"],
            "deliveries": [
                {
                    "id": "6c764401-436d-4659-8cec-170942837801",
                    "code": "1500170942837801-1",
                    "status": "new",
                    "fulfillment": False,
                    "logistic_type": "magalu_entregas",
                }
            ],
            # one shipment per delivery, declared with its logistic type
            "shipments": [
                {
                    "shipment_ref": "6c764401-436d-4659-8cec-170942837801",
                    "logistic_type": "magalu_entregas",
                    "fulfilled_by_channel": False,
                    "status": "new",
                    "label_state": "none",
                }
            ],
        },
    )


def test_multi_item_with_discount_freight_and_cnpj_buyer() -> None:
    """requirement: several items, order discount and freight, a CNPJ buyer."""
    order = map_fixture("order-approved-multi-item")
    assert [(i.sku, i.quantity, i.unit_price) for i in order.items] == [
        ("CAMISETA-AZ-M", 1, Decimal("49.90")),
        ("CANECA-300", 3, Decimal("29.99")),
        ("LIVRO-PY-01", 1, Decimal("199.80")),
    ]
    assert (order.items_total, order.shipping_cost, order.discount, order.total) == (
        Decimal("339.67"),
        Decimal("22.90"),
        Decimal("10.00"),
        Decimal("352.57"),
    )
    assert order.buyer.document == "75749118000116"
    assert (order.shipping_address.city, order.shipping_address.state) == ("Rio de Janeiro", "RJ")


def test_multi_delivery_keeps_every_delivery_and_drops_cancelled_items() -> None:
    """requirement: delivery ids/codes/statuses are kept; a cancelled delivery reserves nothing."""
    order = map_fixture("order-multi-delivery")
    assert order.extra["delivery_ids"] == [
        "6c764401-436d-4659-8cec-170942837807",
        "6c764402-436d-4659-8cec-170942837807",
        "6c764403-436d-4659-8cec-170942837807",
    ]
    assert [(d["code"], d["status"]) for d in order.extra["deliveries"]] == [
        ("1500170942837807-1", "shipped"),
        ("1500170942837807-2", "invoiced"),
        ("1500170942837807-3", "cancelled"),
    ]
    assert [i.sku for i in order.items] == ["CAMISETA-AZ-M", "CANECA-300"]
    assert order.notes == ("delivery 1500170942837807-3 cancelled: its items are left out",)
    # the platform's own total is kept as Magalu reports it
    assert (order.items_total, order.shipping_cost, order.total) == (
        Decimal("79.89"),
        Decimal("18.90"),
        Decimal("298.59"),
    )


def test_cancelled_order_keeps_its_items() -> None:
    """requirement: a cancelled order still lists what was sold (the engine returns stock)."""
    order = map_fixture("order-cancelled")
    assert (order.status, [i.sku for i in order.items]) == (OrderStatus.CANCELLED, ["LIVRO-PY-01"])


def test_normalizer_1000_and_odd_cents() -> None:
    """requirement: amount / normalizer is exact Decimal, then half-even to cents (never float)."""
    order = map_fixture("order-normalizer-1000")
    assert [i.unit_price for i in order.items] == [Decimal("130.00"), Decimal("19.98")]
    assert (order.items_total, order.shipping_cost, order.discount, order.total) == (
        Decimal("169.96"),
        Decimal("15.00"),
        Decimal("5.00"),
        Decimal("179.96"),
    )


def test_missing_normalizer_defaults_to_100() -> None:
    """requirement: without a normalizer, amounts are centavos (the only value the docs show)."""
    order = map_fixture("order-no-normalizer")
    assert (order.items[0].unit_price, order.shipping_cost, order.total) == (
        Decimal("19.99"),
        Decimal("10.01"),
        Decimal("69.98"),
    )


@pytest.mark.parametrize(
    ("node", "normalizer", "expected"),
    [
        (19980, 100, Decimal("199.80")),
        ({"total": 19980, "normalizer": 100}, 100, Decimal("199.80")),
        ({"value": 12345, "normalizer": 1000}, 100, Decimal("12.34")),
        ({"value": 12355, "normalizer": 1000}, 100, Decimal("12.36")),
        ({"amount": 1}, 100, Decimal("0.01")),
        ({"total": 7}, None, Decimal("0.07")),
        (None, 100, Decimal("0.00")),
        ("250", 100, Decimal("2.50")),
    ],
)
def test_money_nodes(node: Any, normalizer: Any, expected: Decimal) -> None:
    """requirement: money nodes are integers over a normalizer, inherited from the parent."""
    assert orders.money(node, normalizer) == expected


@pytest.mark.parametrize(
    ("value", "normalizer", "message"),
    [
        (19.98, 100, "not an integer amount: 19.98"),
        (100, 0, "invalid money normalizer: 0"),
        (100, "100", "invalid money normalizer: '100'"),
    ],
)
def test_bad_money_is_refused(value: Any, normalizer: Any, message: str) -> None:
    """requirement: floats and broken normalizers are mapping errors, not guesses."""
    with pytest.raises(ValueError, match=message):
        orders.amount(value, normalizer)


def test_fulfillment_delivery_is_fulfilled_by_channel() -> None:
    """requirement: Magalu Fulfillment deliveries (logistic_network fulfillment) are flagged."""
    order = map_fixture("order-fulfillment")
    assert order.fulfilled_by_channel is True
    delivery = order.extra["deliveries"][0]
    assert (delivery["fulfillment"], delivery["logistic_type"]) == (True, "fulfillment")
    # its shipment says the same, and no label is ever asked for it
    shipment = order.extra["shipments"][0]
    assert shipment["logistic_type"] == "fulfillment"
    assert (shipment["fulfilled_by_channel"], shipment["label_state"]) == (True, "not_applicable")
    assert map_fixture("order-shipped").fulfilled_by_channel is False


@pytest.mark.parametrize(
    ("document", "note"),
    [
        ("75749118000116", "buyer document left empty: invalid CPF"),  # a CNPJ typed cpf
        ("52601815900", "buyer document left empty: invalid CPF *********00"),
    ],
)
def test_a_bad_buyer_document_is_left_empty_with_a_note_not_quarantined(
    document: str, note: str
) -> None:
    """requirement: a document that does not match its customer_type, or has bad check digits,
    never holds the order (issue 12): empty, kept as given with its type, a masked note."""
    payload = load("order-new")
    payload["customer"]["document_number"] = document
    order = orders.order_from_payload({"order": payload}, connector="mg")
    assert order.buyer.document is None
    assert order.extra["buyer_document"] == {"type": "CPF", "number": document}
    assert any(n.startswith(note) for n in order.notes)
    assert all(document not in n for n in order.notes)


@pytest.mark.parametrize(
    ("field", "value", "attribute"), [("zipcode", "0131", "zip"), ("state", "XX", "state")]
)
def test_a_bad_cep_or_state_is_an_empty_field_and_a_note(
    field: str, value: str, attribute: str
) -> None:
    """requirement: only id, lines and quantities may quarantine an order."""
    payload = load("order-new")
    payload["deliveries"][0]["shipping"]["recipient"]["address"][field] = value
    order = orders.order_from_payload({"order": payload}, connector="mg")
    assert getattr(order.shipping_address, attribute) is None
    assert any(f"{value!r}" in n and "left empty" in n for n in order.notes)


def test_differing_delivery_addresses_are_noted() -> None:
    """requirement: an order shipping to several addresses says which one was kept."""
    payload = copy.deepcopy(load("order-multi-delivery"))
    payload["deliveries"][1]["shipping"]["recipient"]["address"]["zipcode"] = "01311000"
    order = orders.order_from_payload({"order": payload}, connector="mg")
    assert order.shipping_address.zip == "01310200"
    assert "deliveries ship to 2 addresses; kept the first delivery's" in order.notes


def test_deliveries_to_one_address_are_one_address_with_its_notes_once() -> None:
    """requirement: deliveries shipping to the same address (spelled alike or with other
    spacing) are one address, not noted as several; a bad CEP they share is noted once, after
    the count of addresses when there are several."""
    payload = copy.deepcopy(load("order-multi-delivery"))
    first, *others = (d["shipping"]["recipient"]["address"] for d in payload["deliveries"])
    for other in others:
        other.update(first, city=f"  {first['city']} ")
    second = others[0]
    order = orders.order_from_payload({"order": copy.deepcopy(payload)}, connector="mg")
    assert not any("addresses; kept" in n for n in order.notes)
    for address in (first, *others):
        address["zipcode"] = "0131"
    order = orders.order_from_payload({"order": copy.deepcopy(payload)}, connector="mg")
    assert order.shipping_address.zip is None
    assert [n for n in order.notes if "'0131'" in n] == [
        "shipping address: CEP '0131' is not 8 digits; left empty"
    ]
    second["zipcode"] = "01311000"
    order = orders.order_from_payload({"order": payload}, connector="mg")
    notes = [n for n in order.notes if "addresses; kept" in n or "'0131'" in n]
    assert notes == [
        "deliveries ship to 2 addresses; kept the first delivery's",
        "shipping address: CEP '0131' is not 8 digits; left empty",
    ]


def test_bare_order_payload_is_accepted() -> None:
    """requirement: quarantine replay may hold the bare order JSON."""
    assert orders.order_from_payload(load("order-shipped"), connector="mg") == map_fixture(
        "order-shipped"
    )
