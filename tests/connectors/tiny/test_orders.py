"""Olist ERP mappings on the v3 schemas' shapes: the order body erpsync creates, the ERP's own
orders (Hub da Olist), stock and NF-e."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from erpsync.connector import ErpOrderRef
from erpsync.connectors.tiny import invoices, orders, stock
from erpsync.connectors.tiny.connector import _order_of
from erpsync.domain import Address, Buyer, Order, OrderItem, OrderStatus

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "tiny" / "fixtures"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def channel_order() -> Order:
    return Order(
        connector="ml-main",
        platform="Mercado Livre",
        external_id="2000001",
        number="2000001",
        status=OrderStatus.PAID,
        channel_status="paid",
        created_at=datetime(2026, 11, 2, 2, 30, tzinfo=UTC),  # 23:30 on the 1st in São Paulo
        updated_at=datetime(2026, 11, 2, 3, 0, tzinfo=UTC),
        items_total=Decimal("119.80"),
        shipping_cost=Decimal("19.90"),
        discount=Decimal("10.00"),
        total=Decimal("129.70"),
        buyer=Buyer(name="Maria", document="52998224725"),
        items=(OrderItem(sku="CAM-P", quantity=2, unit_price=Decimal("59.90")),),
    )


def test_the_order_body_follows_criar_pedido():
    """requirement: products and contact by id, the channel number twice, situacao 3
    (Aprovada, never 1 Faturada), money as numbers, the seller's local date."""
    body = orders.order_body(
        channel_order(),
        number="2000001",
        contact_id=9,
        product_ids={"CAM-P": 3001},
        ecommerce_id=102,
        deposito_id=4,
    )
    assert body["situacao"] == 3 and body["idContato"] == 9
    assert body["ecommerce"] == {"numeroPedidoEcommerce": "2000001", "id": 102}
    assert body["numeroOrdemCompra"] == "2000001"
    assert body["itens"] == [{"produto": {"id": 3001}, "quantidade": 2, "valorUnitario": 59.9}]
    assert (body["valorFrete"], body["valorDesconto"]) == (19.9, 10.0)
    assert body["data"] == "2026-11-01"
    assert body["deposito"] == {"id": 4}
    assert body["pagamento"]["parcelas"] == [{"dias": 0, "valor": 129.7}]


def test_an_unmapped_channel_sends_no_ecommerce_id():
    body = orders.order_body(
        channel_order(), number="N1", contact_id=1, product_ids={"CAM-P": 1}, ecommerce_id=None
    )
    assert body["ecommerce"] == {"numeroPedidoEcommerce": "N1"}


def test_a_hub_order_maps_read_only_with_its_marketplace():
    """requirement: an ERP order from Hub da Olist shows its marketplace and is read only."""
    order = orders.order_from_payload(load("order-812345678.json"), connector="erp")
    assert order.status is OrderStatus.PAID
    assert order.channel_status == "Mercado Livre: Aprovada"
    assert order.buyer.document == "52998224725"
    assert [(i.sku, i.quantity, i.unit_price) for i in order.items] == [
        ("CAM-P", 2, Decimal("59.90")),
        ("CANECA", 1, Decimal("60.00")),
    ]
    assert (order.total, order.shipping_cost) == (Decimal("198.30"), Decimal("18.50"))
    assert order.extra["read_only"] and order.extra["marketplace"] == "Mercado Livre"
    assert order.created_at == datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def test_situacao_2_is_cancelled_and_1_is_invoiced_not_open():
    payload = load("order-812345690.json")
    assert orders.order_from_payload(payload, connector="erp").status is OrderStatus.CANCELLED
    payload["situacao"] = 1
    assert orders.order_from_payload(payload, connector="erp").status is OrderStatus.INVOICED


def test_stock_takes_disponivel_per_product_and_depósito():
    """requirement: `disponivel` (right for kits) is the total; depósitos by id; no rounding up."""
    levels = stock.levels_from_payload("CAM-P", 3001, load("estoque-3001.json"))
    assert [(lv.location, lv.available, lv.on_hand, lv.reserved) for lv in levels] == [
        ("main", 37, 40, 3),
        ("1", 37, 40, 3),
        ("2", 5, 5, 0),
    ]


def test_only_authorised_invoices_are_taken():
    assert [s for s in range(1, 11) if invoices.authorised({"situacao": s})] == [6, 7]
    assert invoices.authorised({"situacao": "6"})


def test_an_invoice_maps_to_its_channel_order():
    ref = ErpOrderRef("ml-main", "2000001", "1001", "900001")
    invoice = invoices.invoice_from_nota(
        load("nota-7100001.json"), "<xml/>", ref, issuer_document=""
    )
    assert (invoice.number, invoice.series, invoice.total) == (123, 1, Decimal("112.30"))
    assert invoice.access_key == "35261111222333000181550010000001231123456787"
    assert invoice.issuer_document == "11222333000181"
    assert (invoice.connector, invoice.order_external_id) == ("ml-main", "2000001")


def test_the_contact_body_follows_criar_contato():
    """requirement: `POST /contatos` uses only CriarContatoModelRequest's fields (a misnamed
    one is silently dropped by the ERP): the buyer's name, tipoPessoa from the document (F for
    a CPF, J for a CNPJ), cpfCnpj, email, telefone, situacao B (Ativo; A is "com acesso ao
    sistema") and the address as an EnderecoModel."""
    schema = load("contato-request-schema.json")
    address = Address(
        street="Rua das Flores",
        number="10",
        complement="ap 3",
        district="Centro",
        city="Campinas",
        state="SP",
        zip="13010000",
    )
    buyer = Buyer(name="Maria", document="52998224725", email="m@example.com", phone="1199")
    body = orders.contact_body(buyer, address)
    assert set(body) <= set(schema["CriarContatoModelRequest"])
    assert set(body["endereco"]) <= set(schema["EnderecoModel"])
    assert body["tipoPessoa"] in schema["tipoPessoa"] and body["situacao"] in schema["situacao"]
    assert body == {
        "nome": "Maria",
        "tipoPessoa": "F",
        "situacao": "B",
        "cpfCnpj": "52998224725",
        "email": "m@example.com",
        "telefone": "1199",
        "endereco": {
            "endereco": "Rua das Flores",
            "numero": "10",
            "complemento": "ap 3",
            "bairro": "Centro",
            "municipio": "Campinas",
            "cep": "13010000",
            "uf": "SP",
        },
    }
    company = orders.contact_body(Buyer(name="Loja", document="27373722000148"), Address())
    assert (company["tipoPessoa"], "endereco" in company) == ("J", False)


def test_a_listed_nota_names_its_sale_and_maps_without_a_read():
    """requirement: a `GET /notas` item links to its order by `origem` (tipo venda only) and
    carries what the Invoice needs; a nota of a service order is nobody's."""
    first = ErpOrderRef("ml-main", "2000001", "1001", "900001")
    second = ErpOrderRef("ml-main", "2000002", "1002", "900002")
    by_id = {"900001": first, "900002": second, "400017": first}
    by_number = {"1001": first, "1002": second}
    authorised, pending, service = load("notas-listing.json")["itens"]
    assert _order_of(authorised, by_id, by_number) is first
    assert _order_of(pending, by_id, by_number) is second
    assert _order_of(service, by_id, by_number) is None
    assert not invoices.authorised(pending) and not invoices.final(pending)
    invoice = invoices.invoice_from_nota(authorised, "<xml/>", first, issuer_document="")
    assert (invoice.number, invoice.total) == (123, Decimal("112.30"))
    assert invoice.order_external_id == "2000001"
