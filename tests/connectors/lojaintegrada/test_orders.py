"""Loja Integrada order mapping (orders.order_from_payload), on the documented example and
variations of it: every situação, money as strings, coupons, freight, local times."""

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from erpsync.connectors.lojaintegrada.emulator import wire
from erpsync.connectors.lojaintegrada.orders import (
    STATUSES,
    local_time,
    order_from_payload,
    since_param,
    version,
)
from erpsync.domain import OrderStatus

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "lojaintegrada" / "fixtures"


def fixture(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def mapped(payload):
    return order_from_payload(payload, connector="li")


def test_the_documented_example_maps_with_its_quirks():
    """requirement: GET /v1/pedido/{numero}'s example: numero as the key, "1.00" quantities,
    decimal strings, a cancelled situação, a naive local time read as Brasília."""
    order = mapped(fixture("order-165.json"))
    assert order.external_id == "165" and order.number == "165"
    assert order.status is OrderStatus.CANCELLED and order.channel_status == "pedido_cancelado"
    assert order.items_total == Decimal("11.10")
    assert order.shipping_cost == Decimal("21.38")
    assert order.discount == Decimal("0.00")
    assert order.total == Decimal("32.48")
    (item,) = order.items
    assert (item.sku, item.quantity, item.unit_price) == (
        "casaco-azul-tam-m666",
        1,
        Decimal("11.10"),
    )
    assert item.channel_item_id == "182904919"  # the child produto, from produto.resource_uri
    # 12:28:05 in São Paulo (UTC-3, no daylight saving since 2019) is 15:28:05 UTC
    assert order.created_at == datetime(2022, 10, 31, 15, 28, 5, 704751, tzinfo=UTC)
    assert order.updated_at == datetime(2022, 10, 31, 15, 28, 12, 653648, tzinfo=UTC)
    assert order.buyer.document == "52998224725" and order.buyer.name == "Comprador Exemplo"
    assert order.shipping_address.state == "SP" and order.shipping_address.zip == "01001000"
    assert order.shipping_address.country == "BR"  # "Brasil"
    assert order.extra["envios"] == [
        {"id": 69291055, "objeto": None, "forma_envio": "PAC", "valor": "21.38"}
    ]
    assert order.extra["payments"] == ["pagsegurov2"]
    assert order.notes == ()


def test_coupon_discount_freight_and_thousandths_quantities():
    """requirement: the coupon's discount is subtracted, freight added; "2.000" is 2."""
    order = mapped(fixture("order-1201.json"))
    assert order.status is OrderStatus.PAID
    assert [(i.sku, i.quantity, i.unit_price) for i in order.items] == [
        ("CAM-M", 2, Decimal("59.90")),
        ("CAN-300", 3, Decimal("29.97")),
    ]
    assert order.items_total == Decimal("209.71")
    assert (order.shipping_cost, order.discount) == (Decimal("15.90"), Decimal("10.00"))
    assert order.total == Decimal("215.61") == order.items_total + Decimal("15.90") - Decimal("10")
    assert order.extra["coupon"] == "BEMVINDO10"
    assert order.buyer.document == "11222333000181" and order.buyer.name == "Loja Parceira Ltda"
    assert (
        order.shipping_address.zip == "18010220" and order.shipping_address.complement == "Sala 3"
    )
    # 23:59:59.999999 local on the 20th is the 21st in UTC
    assert order.updated_at == datetime(2026, 11, 21, 2, 59, 59, 999999, tzinfo=UTC)


def test_the_webhook_shape_numbers_and_offsets():
    """requirement: the order webhook sends numbers and `Z` times; both are read exactly."""
    order = mapped(fixture("order-2001-webhook.json"))
    assert order.status is OrderStatus.PAID
    assert order.created_at == datetime(2024, 12, 11, 21, 9, 38, 888000, tzinfo=UTC)
    (item,) = order.items
    assert (item.quantity, item.unit_price, item.channel_item_id) == (
        2,
        Decimal("50.00"),
        "174389010",
    )
    assert (order.items_total, order.shipping_cost, order.discount, order.total) == (
        Decimal("100.00"),
        Decimal("12.50"),
        Decimal("5.00"),
        Decimal("107.50"),
    )
    assert order.buyer.phone == "1130000000"


#: every documented situação (the emulator's table, written from the docs) and what it means
EXPECTED = {
    "pedido_efetuado": OrderStatus.PENDING,
    "aguardando_pagamento": OrderStatus.PENDING,
    "pagamento_em_analise": OrderStatus.PENDING,
    "pedido_pago": OrderStatus.PAID,
    "pagamento_em_disputa": OrderStatus.PAID,
    "pedido_chargeback": OrderStatus.PAID,
    "pagamento_devolvido": OrderStatus.CANCELLED,
    "pedido_cancelado": OrderStatus.CANCELLED,
    "cancelamento_solicitado": OrderStatus.PENDING,
    "faturado": OrderStatus.INVOICED,
    "em_producao": OrderStatus.PAID,
    "pedido_em_separacao": OrderStatus.PAID,
    "pedido_enviado": OrderStatus.SHIPPED,
    "pronto_para_retirada": OrderStatus.SHIPPED,
    "pedido_entregue": OrderStatus.DELIVERED,
    "pagamento_devolvido_sem_retorno": OrderStatus.DELIVERED,
}


def test_the_table_covers_the_16_documented_codes():
    assert set(STATUSES) == set(EXPECTED) == {row[1] for row in wire.SITUACOES}
    assert len(STATUSES) == 16


@pytest.mark.parametrize("row", wire.SITUACOES, ids=[row[1] for row in wire.SITUACOES])
def test_every_documented_situacao(row):
    """requirement: mapped by codigo, never by the flags (chargeback is `aprovado`, a
    cancellation request is `cancelado` but not final)."""
    payload = fixture("order-165.json")
    payload["situacao"] = wire.situacao(row)
    order = mapped(payload)
    assert order.status is EXPECTED[row[1]]
    assert order.channel_status == row[1]


def test_refunded_without_return_keeps_the_stock_and_says_so():
    payload = fixture("order-165.json")
    payload["situacao"] = {"id": 1020, "codigo": "pagamento_devolvido_sem_retorno"}
    order = mapped(payload)
    assert order.status is OrderStatus.DELIVERED
    assert any("payment was returned" in note for note in order.notes)


@pytest.mark.parametrize(
    "situacao",
    [{"id": 99, "codigo": "status_da_loja"}, "/api/v1/situacao/4", None, {"id": 4}],
    ids=["unknown-code", "unresolved-uri", "missing", "no-code"],
)
def test_an_unknown_or_unresolved_situacao_goes_to_quarantine(situacao):
    payload = fixture("order-165.json")
    payload["situacao"] = situacao
    with pytest.raises(ValueError, match="situacao"):
        mapped(payload)


@pytest.mark.parametrize(
    ("raw", "value"), [("1.00", 1), ("2.000", 2), (3, 3), (" 4 ", 4), ("5", 5), (6.0, 6)]
)
def test_quantities_as_decimal_strings(raw, value):
    payload = fixture("order-165.json")
    payload["itens"][0]["quantidade"] = raw
    payload["valor_subtotal"] = None
    payload["valor_total"] = None
    assert mapped(payload).items[0].quantity == value


@pytest.mark.parametrize("raw", ["1.50", "0.000", "-1", "", None, "um", True])
def test_a_bad_quantity_sends_the_order_to_quarantine(raw):
    payload = fixture("order-165.json")
    payload["itens"][0]["quantidade"] = raw
    with pytest.raises(ValueError, match="quantity"):
        mapped(payload)


@pytest.mark.parametrize(
    "change",
    [
        {"numero": None},
        {"itens": []},
        {"itens": None},
        {"data_criacao": None},
        {"data_criacao": "ontem"},
        {"valor_total": "trinta"},
    ],
    ids=["no-numero", "no-lines", "null-lines", "no-created", "bad-created", "bad-total"],
)
def test_what_an_order_cannot_exist_without_quarantines_it(change):
    payload = {**fixture("order-165.json"), **change}
    with pytest.raises(ValueError):
        mapped(payload)


def test_a_line_without_unit_price_takes_its_subtotal_over_the_quantity():
    payload = fixture("order-1201.json")
    payload["itens"][1]["preco_venda"] = None
    assert mapped(payload).items[1].unit_price == Decimal("29.97")


def test_a_total_that_does_not_add_up_is_kept_with_a_note():
    payload = fixture("order-1201.json")
    payload["valor_total"] = "999.99"
    order = mapped(payload)
    assert order.total == Decimal("999.99")
    assert any("differs" in note for note in order.notes)


def test_no_totals_at_all_are_computed_from_the_lines():
    payload = fixture("order-1201.json")
    for key in ("valor_subtotal", "valor_total"):
        payload[key] = None
    order = mapped(payload)
    assert order.total == Decimal("215.61") and order.notes == ()


def test_money_with_more_places_rounds_half_even_once():
    payload = fixture("order-165.json")
    payload["itens"][0].update(preco_venda="11.105", preco_subtotal="11.105")
    payload.update(valor_subtotal=None, valor_total=None)
    assert mapped(payload).items[0].unit_price == Decimal("11.10")


def test_a_bad_document_is_an_empty_field_and_a_note():
    payload = copy.deepcopy(fixture("order-165.json"))
    payload["cliente"]["cpf"] = "12345678900"
    payload["endereco_entrega"]["cpf"] = None
    order = mapped(payload)
    assert order.buyer.document is None
    assert any("buyer document" in note for note in order.notes)
    assert "12345678900" not in " ".join(order.notes)


def test_without_the_cliente_the_delivery_address_carries_the_document():
    payload = fixture("order-165.json")
    payload["cliente"] = "/api/v1/cliente/34220641"  # a summary's URI
    order = mapped(payload)
    assert order.buyer.document == "52998224725" and order.buyer.name == "Comprador Exemplo"


def test_local_times_and_the_since_filter_are_brasilia():
    assert local_time("2026-11-02T12:00:00") == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    assert local_time("2026-11-02T12:00:00-03:00") == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    assert local_time("2026-11-02T15:00:00Z") == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    assert since_param(datetime(2026, 11, 2, 15, 0, 30, tzinfo=UTC)) == "2026-11-02T12:00:30"


def test_version_is_numero_and_local_data_modificacao():
    summary = {"numero": 164, "data_modificacao": "2022-10-31T12:17:58.949670"}
    assert version(summary) == ("164", datetime(2022, 10, 31, 15, 17, 58, 949670, tzinfo=UTC))
