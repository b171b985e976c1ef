"""orders.order_from_payload on recorded-shape fixtures: statuses, FBA, PII, money edge cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from erpsync.connectors.amazon import orders
from erpsync.domain import Address, Buyer, Order, OrderItem, OrderStatus

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "amazon" / "fixtures"


def load(name: str) -> dict[str, Any]:
    """The recorded order payload ``fixtures/order-<name>.json``."""
    path = FIXTURES / f"order-{name.replace('_', '-')}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def mapped(name: str) -> Order:
    return orders.order_from_payload(load(name), connector="amz")


D = Decimal
WHEN_CREATED = datetime(2026, 3, 2, 13, 15, tzinfo=UTC)
WHEN_UPDATED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
PARTIAL_ADDRESS = Address(city="São Paulo", state="SP", zip="01310100", country="BR")


@pytest.mark.parametrize(
    ("fixture", "status", "channel_status"),
    [
        ("pending_availability", OrderStatus.PENDING, "PendingAvailability"),
        ("pending", OrderStatus.PENDING, "Pending"),
        ("unshipped_multi_rdt", OrderStatus.PAID, "Unshipped"),
        ("partially_shipped", OrderStatus.PAID, "PartiallyShipped"),
        ("shipped_indivisible", OrderStatus.SHIPPED, "Shipped"),
        ("invoice_unconfirmed", OrderStatus.SHIPPED, "InvoiceUnconfirmed"),
        ("canceled_zero_qty", OrderStatus.CANCELLED, "Canceled"),
        ("unfulfillable", OrderStatus.CANCELLED, "Unfulfillable"),
        ("afn_shipped", OrderStatus.SHIPPED, "Shipped"),
    ],
)
def test_every_order_status_maps(fixture: str, status: OrderStatus, channel_status: str) -> None:
    """requirement: every Orders v0 OrderStatus maps to ours; the raw value is kept."""
    order = mapped(fixture)
    assert (order.status, order.channel_status) == (status, channel_status)
    assert order.platform == "Amazon"
    assert order.connector == "amz"


def test_status_table_covers_the_model_enum() -> None:
    """requirement: the table has exactly the eight values the ordersV0 model documents."""
    assert set(orders.STATUSES) == {
        "PendingAvailability",
        "Pending",
        "Unshipped",
        "PartiallyShipped",
        "Shipped",
        "InvoiceUnconfirmed",
        "Canceled",
        "Unfulfillable",
    }


def test_unknown_status_is_a_mapping_failure() -> None:
    """requirement: an unknown status raises (the engine quarantines the payload)."""
    payload = load("pending")
    payload["order"]["OrderStatus"] = "Teleported"
    with pytest.raises(KeyError, match="Teleported"):
        orders.order_from_payload(payload, connector="amz")


def test_multi_item_order_with_rdt_maps_exactly() -> None:
    """requirement: multi-item Unshipped order read with an RDT -> exact Order (buyer CPF,
    BR ExtendedFields address, shipping, promotion discount, OrderItemIds kept)."""
    assert mapped("unshipped_multi_rdt") == Order(
        connector="amz",
        platform="Amazon",
        external_id="701-0000003-0000003",
        number="701-0000003-0000003",
        status=OrderStatus.PAID,
        channel_status="Unshipped",
        created_at=WHEN_CREATED,
        updated_at=WHEN_UPDATED,
        currency="BRL",
        items_total=D("309.80"),
        shipping_cost=D("19.90"),
        discount=D("10.00"),
        total=D("319.70"),
        buyer=Buyer(
            name="Maria da Silva",
            document="12345678909",
            email="x7k2p9q4r1@marketplace.amazon.com.br",
            phone="+55 11 98765-4321",
        ),
        shipping_address=Address(
            street="Avenida Paulista",
            number="1578",
            complement="Apto 42",
            district="Bela Vista",
            city="São Paulo",
            state="SP",
            zip="01310100",
            country="BR",
        ),
        items=(
            OrderItem(
                sku="CAMISETA-P-AZUL",
                channel_item_id="B0CAMP0001",
                title="Camiseta azul P",
                quantity=2,
                unit_price=D("79.90"),
            ),
            OrderItem(
                sku="CAMISETA-M-PRETA",
                channel_item_id="B0CAMM0002",
                title="Camiseta preta M",
                quantity=1,
                unit_price=D("150.00"),
            ),
        ),
        fulfilled_by_channel=False,
        extra={
            "marketplace_id": "A2Q3Y263D00KWC",
            "sales_channel": "Amazon.com.br",
            "fulfillment_channel": "MFN",
            "order_type": "StandardOrder",
            "seller_order_id": "701-0000003-0000003",
            "ship_service_level": "Std BR Dom",
            "latest_ship_date": "2026-03-05T02:59:59Z",
            "electronic_invoice_status": "NotFound",
            "is_prime": False,
            "is_business_order": False,
            "order_item_ids": {
                "CAMISETA-P-AZUL": "10000000000003",
                "CAMISETA-M-PRETA": "10000000000004",
            },
            "promotion_ids": ["PROMO-10OFF"],
        },
        notes=(),
        sale_ref="AMAZON:701-0000003-0000003",
    )


def test_without_rdt_buyer_and_address_are_withheld_with_the_reason() -> None:
    """requirement: restricted_data off -> order imports, buyer empty, the non-PII part of the
    address kept, and the reason in notes."""
    order = mapped("invoice_unconfirmed")
    assert order.buyer == Buyer()
    assert order.shipping_address == PARTIAL_ADDRESS
    assert order.notes == ("buyer and address withheld: restricted_data is off",)


def test_item_price_is_the_line_total() -> None:
    """requirement: unit price = ItemPrice / QuantityOrdered (ItemPrice is unit x qty)."""
    order = mapped("unshipped_multi_rdt")
    assert [(i.quantity, i.unit_price) for i in order.items] == [(2, D("79.90")), (1, D("150.00"))]
    assert "line_totals" not in order.extra


def test_indivisible_line_keeps_money_exact() -> None:
    """requirement: 100.00 for 3 units: unit price rounds to 33.33, items_total stays the sum of
    ItemPrice (100.00) and the exact line total is kept per OrderItemId."""
    order = mapped("shipped_indivisible")
    assert [(i.quantity, i.unit_price) for i in order.items] == [(3, D("33.33"))]
    assert order.items_total == D("100.00")
    assert order.shipping_cost == D("15.00")
    assert order.total == D("115.00")
    assert order.extra["line_totals"] == {"10000000000007": "100.00"}


@pytest.mark.parametrize(
    ("line", "quantity", "expected"),
    [
        (D("159.80"), 2, (D("79.90"), True)),
        (D("100.00"), 3, (D("33.33"), False)),
        (D("200.00"), 3, (D("66.67"), False)),
        (D("0.05"), 2, (D("0.02"), False)),  # half-even: 0.025 -> 0.02
        (D("1050.00"), 30, (D("35.00"), True)),
    ],
)
def test_unit_price_table(line: Decimal, quantity: int, expected: tuple[Decimal, bool]) -> None:
    """requirement: unit price is exact Decimal arithmetic, rounded half-even only when needed."""
    assert orders.unit_price(line, quantity) == expected


def test_shipping_discount_and_business_buyer() -> None:
    """requirement: ShippingDiscount counts as discount; a CNPJ in BuyerTaxInfo becomes the
    document; a state given by name becomes its UF; AddressLine1 is the flat street fallback."""
    order = mapped("business_cnpj_state_name")
    assert (order.items_total, order.shipping_cost, order.discount, order.total) == (
        D("1050.00"),
        D("30.00"),
        D("30.00"),
        D("1050.00"),
    )
    assert order.buyer.document == "11222333000181"
    assert order.buyer.name == "Padaria Pão Quente Ltda"
    assert order.shipping_address.street == "Rua Augusta, 500"
    assert order.shipping_address.district == "Consolação"
    assert order.shipping_address.state == "SP"
    assert order.extra["is_business_order"] is True


def test_fba_order_is_flagged() -> None:
    """requirement: FulfillmentChannel AFN (FBA) orders import flagged fulfilled_by_channel."""
    order = mapped("afn_shipped")
    assert order.fulfilled_by_channel is True
    assert order.extra["fulfillment_channel"] == "AFN"
    assert mapped("shipped_indivisible").fulfilled_by_channel is False


def test_cancelled_order_with_zero_quantities_keeps_its_lines() -> None:
    """requirement: a Canceled order without OrderTotal and with QuantityOrdered 0 still maps:
    lines kept (quantity 1, price 0.00), totals 0.00, no 'prices pending' note."""
    order = mapped("canceled_zero_qty")
    assert order.status is OrderStatus.CANCELLED
    assert [(i.sku, i.quantity, i.unit_price) for i in order.items] == [
        ("CAMISETA-P-AZUL", 1, D("0.00"))
    ]
    assert (order.items_total, order.total) == (D("0.00"), D("0.00"))
    assert order.notes == ("buyer and address withheld: restricted_data is off",)


def test_pending_order_without_prices_says_so() -> None:
    """requirement: a Pending order without ItemPrice/OrderTotal maps with 0.00 and a note."""
    order = mapped("pending")
    assert [(i.quantity, i.unit_price) for i in order.items] == [(2, D("0.00"))]
    assert order.total == D("0.00")
    assert order.notes == (orders.NO_PRICES, orders.WITHHELD_NO_RDT)


def test_zero_quantity_lines_are_dropped_when_others_remain() -> None:
    """requirement: a line cancelled down to 0 units does not become an OrderItem."""
    payload = load("partially_shipped")
    payload["items"][1]["QuantityOrdered"] = 0
    order = orders.order_from_payload(payload, connector="amz")
    assert [i.sku for i in order.items] == ["CANECA-AZUL"]


def test_rdt_order_without_street_notes_address_not_released() -> None:
    """requirement: with an RDT but before Unshipped, the address gap is explained."""
    payload = load("pending_availability")
    payload["restricted_data"] = True
    order = orders.order_from_payload(payload, connector="amz")
    assert order.notes == (orders.WITHHELD_NOT_YET,)


def test_invalid_buyer_document_is_left_empty_with_a_note_not_quarantined() -> None:
    """requirement: a bad CPF never holds the order (issue 12): empty document, the value kept
    as given with its type in extra, a masked note; the order (and its stock effect) goes on."""
    payload = load("unshipped_multi_rdt")
    tax = payload["order"]["BuyerInfo"]["BuyerTaxInfo"]["TaxClassifications"]
    tax[0]["Value"] = "123.456.789-00"
    order = orders.order_from_payload(payload, connector="amz")
    assert order.status is OrderStatus.PAID
    assert order.buyer.document is None
    assert order.extra["buyer_document"] == {"type": tax[0]["Name"], "number": "123.456.789-00"}
    assert [n for n in order.notes if "123" in n] == []
    assert any(n.startswith("buyer document left empty: invalid CPF") for n in order.notes)


@pytest.mark.parametrize(
    ("field", "value", "note"),
    [
        ("PostalCode", "0131-010", "shipping address: CEP '0131-010' is not 8 digits; left empty"),
        ("StateOrRegion", "Ontario", "shipping address: state 'Ontario' is not a Brazilian state"),
    ],
)
def test_a_bad_cep_or_state_is_an_empty_field_and_a_note(field: str, value: str, note: str) -> None:
    """requirement: only id, lines and quantities may quarantine an order."""
    payload = load("unshipped_multi_rdt")
    payload["order"]["ShippingAddress"][field] = value
    order = orders.order_from_payload(payload, connector="amz")
    assert any(n.startswith(note) for n in order.notes)
    assert getattr(order.shipping_address, "zip" if field == "PostalCode" else "state") is None


@pytest.mark.parametrize(
    ("status", "note"),
    [
        ("Pending", orders.WITHHELD_NOT_YET),
        ("PendingAvailability", orders.WITHHELD_NOT_YET),
        (
            "Unshipped",
            "shipping address not received: Amazon sent none for this Unshipped order, "
            "though it was read with a Restricted Data Token",
        ),
        (
            "Shipped",
            "shipping address not received: Amazon sent none for this Shipped order, "
            "though it was read with a Restricted Data Token",
        ),
        ("Canceled", "no shipping address: Amazon does not share it for a Canceled order"),
    ],
)
def test_with_restricted_data_and_no_address_the_note_follows_the_order_state(
    status: str, note: str
) -> None:
    """requirement: "shares it from Unshipped on" only for orders not Unshipped yet; nothing
    received means no country either (not "BR")."""
    payload = load("unshipped_multi_rdt")
    payload["order"]["OrderStatus"] = status
    del payload["order"]["ShippingAddress"]
    order = orders.order_from_payload(payload, connector="amz")
    assert note in order.notes
    assert order.shipping_address == Address(country=None)
