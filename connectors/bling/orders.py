"""Canonical orders as Bling sales orders (`/pedidos/vendas`) and buyers as contatos: pure.

ref: developer.bling.com.br/referencia#/Pedidos%20-%20Vendas (POST /pedidos/vendas), and
#/Contatos (POST /contatos), as the SDK generated from the reference carries them
(AlexandreBellas/bling-erp-api-js `src/entities/pedidosVendas/interfaces/create.interface.ts`,
`src/entities/contatos/interfaces/create.interface.ts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from erpsync import documents
from erpsync.domain import Address, Buyer, Order

PLATFORM = "Bling"
#: Bling's dates (`data`, `dataSaida`, `dataVencimento`) are calendar dates of the seller,
#: in Brasília time
BRAZIL = ZoneInfo("America/Sao_Paulo")
#: `tipo`/`tipoPessoa`: F física (CPF), J jurídica (CNPJ)
PERSON_TYPES = {11: "F", 14: "J"}
#: the name Bling shows on contacts of buyers who gave none
ANONYMOUS = "Consumidor final"


def local_date(moment: datetime) -> str:
    return moment.astimezone(BRAZIL).date().isoformat()


def amount(value: Decimal) -> float:
    """A JSON number for Bling (it takes amounts as numbers, not strings). Decimals with two
    places convert exactly enough: their float repr reads back as the same two places."""
    return float(value)


def document_of(buyer: Buyer) -> str | None:
    """The buyer's CPF/CNPJ, digits only and check digits valid, or None when absent.

    Raises:
        ValueError: a document that is not a valid CPF or CNPJ.
    """
    if not buyer.document:
        return None
    return documents.cpf_or_cnpj(buyer.document)


def contato_body(buyer: Buyer, address: Address, document: str | None) -> dict[str, Any]:
    """POST /contatos: the buyer as a client contact (situação A, ativo)."""
    body: dict[str, Any] = {
        "nome": (buyer.name or ANONYMOUS)[:120],
        "situacao": "A",
        "tipo": PERSON_TYPES.get(len(document or ""), "F"),
    }
    if document:
        body["numeroDocumento"] = document
    if buyer.email:
        body["email"] = buyer.email
    if buyer.phone:
        body["celular"] = buyer.phone
    general = _address(address)
    if general:
        body["endereco"] = {"geral": general}
    return body


def pedido_body(
    order: Order,
    *,
    number: str,
    contato_id: int,
    loja_id: int | None,
    products: Mapping[str, int],
    unidade: str = "UN",
    forma_pagamento_id: int | None = None,
    intermediador: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """POST /pedidos/vendas for a channel order.

    ``number`` (the channel's order number) goes to `numeroLoja`, which, with `loja`, is how
    the order is found again (`GET /pedidos/vendas?numerosLojas[]=`); the channel's own id
    goes to `numeroPedidoCompra` when it differs. Items name the product by id (resolved from
    the SKU, ``products``) and keep the SKU as `codigo`. ``intermediador`` (CNPJ, the seller's
    user name there): the marketplace of a marketplace sale, for its NF-e.
    """
    day = local_date(order.created_at)
    body: dict[str, Any] = {
        "numeroLoja": number,
        "data": day,
        "dataSaida": day,
        "dataPrevista": day,
        "contato": {"id": contato_id},
        "itens": [
            {
                "codigo": item.sku,
                "unidade": unidade,
                "quantidade": item.quantity,
                "valor": amount(item.unit_price),
                "descricao": (item.title or item.sku or "")[:120],
                "produto": {"id": products[item.sku or ""]},
            }
            for item in order.items
        ],
        "observacoes": f"{order.platform} order {number} (erpsync: {order.connector})",
    }
    if loja_id is not None:
        body["loja"] = {"id": loja_id}
    if order.external_id != number:
        body["numeroPedidoCompra"] = order.external_id
    if order.discount:
        body["desconto"] = {"valor": amount(order.discount), "unidade": "REAL"}
    transport: dict[str, Any] = {"frete": amount(order.shipping_cost)}
    label = _address(order.shipping_address)
    if label:
        transport["etiqueta"] = {
            "nome": order.buyer.name or ANONYMOUS,
            **label,
        }
    body["transporte"] = transport
    if intermediador is not None:
        body["intermediador"] = {"cnpj": intermediador[0], "nomeUsuario": intermediador[1]}
    if forma_pagamento_id is not None:
        body["parcelas"] = [
            {
                "dataVencimento": day,
                "valor": amount(order.total),
                "formaPagamento": {"id": forma_pagamento_id},
            }
        ]
    return body


def same_number(found: Any, number: str) -> bool:
    """Whether a listed order's `numeroLoja` is exactly ``number`` (a search may be looser)."""
    return str(found if found is not None else "").strip() == number.strip()


def _address(address: Address) -> dict[str, str]:
    fields = {
        "endereco": address.street,
        "numero": address.number,
        "complemento": address.complement,
        "bairro": address.district,
        "cep": address.zip,
        "municipio": address.city,
        "uf": address.state,
    }
    return {k: v for k, v in fields.items() if v}
