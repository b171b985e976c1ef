"""Olist ERP (Tiny v3) orders: the body that creates one from a channel order, and the mapping
of the ERP's own orders (`options.import_orders`, e.g. Hub da Olist's) to canonical ones.

Field names and enums follow Tiny's v3 OpenAPI document (TINY_V3_OPENAPI.json, public copy in
Gvbpzoi/api-whatsapp.rocacapital.com.br): `CriarPedidoModelRequest` (idContato required,
`ecommerce{id, numeroPedidoEcommerce}`, `numeroOrdemCompra`, `itens[{produto{id}, quantidade,
valorUnitario}]`, `valorFrete`, `valorDesconto`, `deposito{id}`...), `ObterPedidoModelResponse`
and the integer `situacao` enum. Money goes as JSON numbers ("format: float"): a 2-place
Decimal converts to the float whose shortest repr is the same decimal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from erpsync import documents
from erpsync.domain import Address, Buyer, Order, OrderItem, OrderStatus, to_money

PLATFORM = "Olist ERP"
#: the ERP's dates are the seller's local dates (Brazil)
LOCAL = ZoneInfo("America/Sao_Paulo")

#: `situacao` of a sales order (ObterPedidoModelResponse; careful: 1 is Faturada, not open)
SITUACAO: dict[int, str] = {
    8: "Dados Incompletos",
    0: "Aberta",
    3: "Aprovada",
    4: "Preparando Envio",
    1: "Faturada",
    7: "Pronto Envio",
    5: "Enviada",
    6: "Entregue",
    2: "Cancelada",
    9: "Nao Entregue",
}
ABERTA, FATURADA, CANCELADA, APROVADA = 0, 1, 2, 3
STATUS: dict[int, OrderStatus] = {
    8: OrderStatus.PENDING,
    0: OrderStatus.PENDING,
    3: OrderStatus.PAID,
    4: OrderStatus.PAID,
    1: OrderStatus.INVOICED,
    7: OrderStatus.INVOICED,
    5: OrderStatus.SHIPPED,
    6: OrderStatus.DELIVERED,
    2: OrderStatus.CANCELLED,
    9: OrderStatus.SHIPPED,  # não entregue: the goods left; a return comes as its own move
}
#: situações the ERP no longer takes a cancellation in: the NF-e is issued (a cancellation
#: means cancelling the NF-e first, in the ERP, within SEFAZ's deadline)
NOT_CANCELLABLE = frozenset({FATURADA, 7, 5, 6, 9})


def money(value: Decimal) -> float:
    return float(value)


def local_date(moment: datetime) -> str:
    return moment.astimezone(LOCAL).date().isoformat()


def order_body(
    order: Order,
    *,
    number: str,
    contact_id: int,
    product_ids: Mapping[str, int],
    ecommerce_id: int | None,
    deposito_id: int | None = None,
    natureza_operacao_id: int | None = None,
    vendedor_id: int | None = None,
    forma_recebimento_id: int | None = None,
    meio_pagamento: int = 99,
) -> dict[str, Any]:
    """`POST /pedidos` for a channel order. It is created Aprovada (3), never Faturada (1:
    that is "invoiced" in v3, and would hide it from the ERP's invoicing queue)."""
    ecommerce: dict[str, Any] = {"numeroPedidoEcommerce": number}
    if ecommerce_id is not None:
        ecommerce["id"] = ecommerce_id
    address = order.shipping_address
    body: dict[str, Any] = {
        "data": local_date(order.created_at),
        "situacao": APROVADA,
        "idContato": contact_id,
        "numeroOrdemCompra": number,
        "ecommerce": ecommerce,
        "itens": [
            {
                "produto": {"id": product_ids[item.sku or ""]},
                "quantidade": item.quantity,
                "valorUnitario": money(item.unit_price),
                **({"infoAdicional": item.title} if item.title else {}),
            }
            for item in order.items
        ],
        "valorFrete": money(order.shipping_cost),
        "valorDesconto": money(order.discount),
        "enderecoEntrega": {
            k: v
            for k, v in {
                "endereco": address.street,
                "enderecoNro": address.number,
                "complemento": address.complement,
                "bairro": address.district,
                "municipio": address.city,
                "cep": address.zip,
                "uf": address.state,
                "nomeDestinatario": order.buyer.name,
                "cpfCnpj": order.buyer.document,
                "tipoPessoa": person_type(order.buyer.document),
            }.items()
            if v
        },
        "pagamento": {
            "meioPagamento": meio_pagamento,
            "parcelas": [{"dias": 0, "valor": money(order.total)}],
            **(
                {"formaRecebimento": {"id": forma_recebimento_id}}
                if forma_recebimento_id is not None
                else {}
            ),
        },
        "observacoesInternas": f"erpsync {order.connector}:{order.external_id} ({order.platform})",
    }
    for key, value in (
        ("deposito", deposito_id),
        ("naturezaOperacao", natureza_operacao_id),
        ("vendedor", vendedor_id),
    ):
        if value is not None:
            body[key] = {"id": value}
    return body


def person_type(document: str | None) -> str | None:
    """`tipoPessoa`: F (CPF) or J (CNPJ)."""
    if not document:
        return None
    return "J" if len(document) == 14 else "F"


def contact_body(buyer: Buyer, address: Address) -> dict[str, Any]:
    """`POST /contatos` for a buyer the ERP does not know yet."""
    body: dict[str, Any] = {
        "nome": buyer.name or "Consumidor",
        "tipoPessoa": person_type(buyer.document) or "F",
        "situacao": "B",  # B Ativo (A is "ativo com acesso ao sistema")
    }
    if buyer.document:
        body["cpfCnpj"] = buyer.document
    if buyer.email:
        body["email"] = buyer.email
    if buyer.phone:
        body["telefone"] = buyer.phone
    endereco = {
        k: v
        for k, v in {
            "endereco": address.street,
            "numero": address.number,
            "complemento": address.complement,
            "bairro": address.district,
            "municipio": address.city,
            "cep": address.zip,
            "uf": address.state,
        }.items()
        if v
    }
    if endereco:
        body["endereco"] = endereco
    return body


# -- the ERP's own orders (import_orders) --------------------------------------------------------


def order_from_payload(payload: Mapping[str, Any], *, connector: str) -> Order:
    """One `GET /pedidos/{id}` answer as a read-only canonical order. Pure.

    Its marketplace (Hub da Olist's orders carry it in `ecommerce`) is kept in ``extra`` and
    shown as the channel status's prefix; the ERP's id is the external id.
    """
    situacao = int(payload["situacao"])
    if situacao not in STATUS:
        raise ValueError(f"unknown situacao {situacao}")
    ecommerce = payload.get("ecommerce") or {}
    marketplace = ecommerce.get("canalVenda") or ecommerce.get("nome")
    items = tuple(
        OrderItem(
            sku=(line.get("produto") or {}).get("sku"),
            channel_item_id=str((line.get("produto") or {}).get("id") or "") or None,
            title=(line.get("produto") or {}).get("descricao") or line.get("infoAdicional"),
            quantity=_quantity(line["quantidade"]),
            unit_price=to_money(line["valorUnitario"]),
        )
        for line in payload.get("itens") or []
    )
    created = _local_datetime(payload["data"])
    cliente = payload.get("cliente") or {}
    entrega = payload.get("enderecoEntrega") or {}
    document = _digits(cliente.get("cpfCnpj"))
    items_total = sum((i.unit_price * i.quantity for i in items), Decimal("0"))
    return Order(
        connector=connector,
        platform=PLATFORM,
        external_id=str(payload["id"]),
        number=str(payload.get("numeroPedido") or payload["id"]),
        status=STATUS[situacao],
        channel_status=(f"{marketplace}: " if marketplace else "") + SITUACAO[situacao],
        created_at=created,
        updated_at=_updated(payload, created),
        items_total=to_money(payload.get("valorTotalProdutos") or items_total),
        shipping_cost=to_money(payload.get("valorFrete") or 0),
        discount=to_money(payload.get("valorDesconto") or 0),
        total=to_money(payload.get("valorTotalPedido") or 0),
        buyer=Buyer(
            name=cliente.get("nome"),
            document=document if document and documents_ok(document) else None,
            email=cliente.get("email"),
            phone=cliente.get("fone") or cliente.get("celular"),
        ),
        shipping_address=Address(
            street=entrega.get("endereco"),
            number=entrega.get("numero") or entrega.get("enderecoNro"),
            complement=entrega.get("complemento"),
            district=entrega.get("bairro"),
            city=entrega.get("municipio"),
            state=entrega.get("uf") or None,
            zip=_digits(entrega.get("cep")) or None,
        ),
        items=items,
        extra={
            "read_only": True,
            "marketplace": marketplace,
            "marketplace_order": ecommerce.get("numeroPedidoEcommerce")
            or ecommerce.get("numeroPedidoCanalVenda"),
            "id_nota_fiscal": payload.get("idNotaFiscal"),
        },
    )


def documents_ok(document: str) -> bool:
    try:
        documents.cpf_or_cnpj(document)
    except ValueError:
        return False
    return True


def _quantity(value: Any) -> int:
    number = Decimal(str(value))
    if number != number.to_integral_value() or number <= 0:
        raise ValueError(f"quantidade {value!r} is not a whole number of units")
    return int(number)


def _digits(value: Any) -> str | None:
    if not value:
        return None
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    return digits or None


def _local_datetime(text: str) -> datetime:
    """`data` ("2024-01-01") or a "2024-01-01 10:00:00" time, in the seller's zone, as UTC."""
    text = str(text).strip()
    if len(text) == 10:
        return datetime.combine(datetime.fromisoformat(text).date(), time(), LOCAL).astimezone(UTC)
    moment = datetime.fromisoformat(text.replace(" ", "T"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL)
    return moment.astimezone(UTC)


def _updated(payload: Mapping[str, Any], created: datetime) -> datetime:
    """The order's last change: `dataAtualizacao` when the ERP sends it (the list filter of
    that name exists; the detail schema does not name the field), else the latest date it has."""
    for key in ("dataAtualizacao", "dataAlteracao"):
        if payload.get(key):
            return _local_datetime(payload[key])
    dates = [created]
    for key in ("dataFaturamento", "dataEnvio", "dataEntrega"):
        if payload.get(key):
            dates.append(_local_datetime(payload[key]))
    return max(dates)
