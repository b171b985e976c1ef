"""The pure mappings, on the API reference's own examples (connectors/bling/fixtures/)."""

from __future__ import annotations

import json
from pathlib import Path

from erpsync.connectors.bling import errors, invoices, orders, stock
from erpsync.domain import Address, Buyer

from .conftest import make_order

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "bling" / "fixtures"


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_the_order_example_names_its_nfe():
    """requirement: an order points at its NF-e by notaFiscal.id (0 or absent: none yet)."""
    pedido = fixture("pedido-12345678.json")["data"]
    assert invoices.nfe_id(pedido) == 12345678
    assert invoices.nfe_id({**pedido, "notaFiscal": {"id": 0}}) is None
    assert invoices.nfe_id({"id": 1}) is None


def test_only_authorised_nfe_situacoes_count():
    """requirement: situação 5 Autorizada, 6 Emitida DANFE, 7 Registrada; the example (1,
    Pendente) is not an invoice yet."""
    nfe = fixture("nfe-12345678.json")["data"]
    assert not invoices.authorised(nfe)
    assert [s for s in range(1, 12) if invoices.authorised({**nfe, "situacao": s})] == [5, 6, 7]


def test_the_balance_example_maps_to_main_and_deposito_levels():
    """requirement: saldo virtual is what may be sold; decimal balances are floored."""
    levels = stock.levels(fixture("saldos.json")["data"], {12345678: "BLG-5"})
    assert [(lv.location, lv.available, lv.on_hand, lv.reserved) for lv in levels] == [
        ("main", 1500, 1500, 0),
        ("12345678", 1250, 1250, 0),
    ]
    assert all(lv.product_id == "12345678" and lv.sku == "BLG-5" for lv in levels)


def test_a_loose_code_search_answers_only_for_the_exact_code():
    """requirement: `codigos[]=CANECA-01` may also list CANECA-010: only the exact code counts."""
    found = fixture("produtos.json")["data"]
    assert stock.exact_codes(found, ["CANECA-01"]) == {"CANECA-01": 16000000001}
    assert stock.exact_codes(found, ["CANECA-0"]) == {}


def test_the_error_body_is_one_line_with_its_fields():
    body = fixture("error-validation.json")
    assert errors.error_message(body) == (
        "VALIDATION_ERROR: Não foi possível salvar a venda (contato: O contato informado não "
        "existe; itens: Produto inválido [item 0: Produto não encontrado])"
    )
    assert not errors.daily_limit(body)
    assert errors.error_message({"message": "other"}) == ""


def test_the_daily_quota_429_is_told_from_the_per_second_one():
    daily = {"error": {"type": "TOO_MANY_REQUESTS", "description": "limite de requisições diárias"}}
    second = {"error": {"type": "TOO_MANY_REQUESTS", "description": "por segundo"}}
    assert errors.daily_limit(daily) and not errors.daily_limit(second)


def test_an_order_becomes_a_sales_order_body():
    """requirement: the fields of POST /pedidos/vendas, amounts as numbers, Brasília dates."""
    order = make_order(items=(("CAM-AZ", 2, "59.90"),), number="2000001", external_id="99")
    body = orders.pedido_body(
        order,
        number="2000001",
        contato_id=7,
        loja_id=204,
        products={"CAM-AZ": 16},
        forma_pagamento_id=3,
    )
    assert body == {
        "numeroLoja": "2000001",
        "data": "2026-11-01",
        "dataSaida": "2026-11-01",
        "dataPrevista": "2026-11-01",
        "contato": {"id": 7},
        "loja": {"id": 204},
        "numeroPedidoCompra": "99",
        "itens": [
            {
                "codigo": "CAM-AZ",
                "unidade": "UN",
                "quantidade": 2,
                "valor": 59.9,
                "descricao": "Item CAM-AZ",
                "produto": {"id": 16},
            }
        ],
        "observacoes": "Mercado Livre order 2000001 (erpsync: ml-main)",
        "desconto": {"valor": 5.0, "unidade": "REAL"},
        "transporte": {
            "frete": 15.0,
            "etiqueta": {
                "nome": "Maria Souza",
                "endereco": "Rua das Flores",
                "numero": "10",
                "bairro": "Centro",
                "cep": "13010000",
                "municipio": "Campinas",
                "uf": "SP",
            },
        },
        "parcelas": [{"dataVencimento": "2026-11-01", "valor": 129.8, "formaPagamento": {"id": 3}}],
    }


def test_a_company_buyer_becomes_a_pessoa_juridica_contact():
    buyer = Buyer(name="ACME Ltda", document="11.222.333/0001-81", email="c@acme.com.br")
    body = orders.contato_body(buyer, Address(), orders.document_of(buyer))
    assert body == {
        "nome": "ACME Ltda",
        "situacao": "A",
        "tipo": "J",
        "numeroDocumento": "11222333000181",
        "email": "c@acme.com.br",
    }
