"""Loja Integrada orders: the status table and the pure mapping of a pedido to erpsync's Order.

The pedido is the full object of `GET /v1/pedido/{numero}` (ref: API Loja Integrada v2,
tag Pedidos; its published example is fixtures/order-165.json), with `situacao` as the
connector resolved it through `GET /v1/situacao`. The order webhook's shape (numbers instead
of decimal strings, `produto_id` on the lines, times with an offset) maps too. No I/O here:
the engine also maps stored payloads (quarantine replay).

Awkward parts, as documented or reported:
- money and quantities are decimal strings in GET answers ("32.48", "1.00", "1.000");
- `data_criacao`/`data_modificacao` carry no offset: they are the store's local time
  (America/Sao_Paulo) [R: the public notes compare the webhook's `Z` stamps with GET's];
- the order's key in the API is `numero`, not the internal `id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from erpsync.domain import Address, Buyer, Order, OrderItem, OrderStatus, to_money
from erpsync.domain import to_quantity as quantity
from erpsync.lenient import Lenient

PLATFORM = "Loja Integrada"

#: the store's clock when a time has no offset
DEFAULT_ZONE = "America/Sao_Paulo"

#: every situação `codigo` the API documents (tag "Situações do pedido": 16 codes; the ids in
#: the comments are those of `GET /v1/situacao`'s example and public clients). Mapped by
#: `codigo`, never by the `aprovado`/`cancelado` flags: chargeback and dispute are
#: `aprovado: true`, a cancellation *request* is `cancelado: true` but not final.
STATUSES: Mapping[str, OrderStatus] = {
    # 9, the default (`padrao: true`): placed, nothing paid yet: reserve, do not deduct
    "pedido_efetuado": OrderStatus.PENDING,
    # 2: boleto or pix issued, waiting for the money
    "aguardando_pagamento": OrderStatus.PENDING,
    # 3: the gateway is still analysing the payment (anti-fraud): not firm
    "pagamento_em_analise": OrderStatus.PENDING,
    # 4: paid: the sale is firm
    "pedido_pago": OrderStatus.PAID,
    # 17: made to order after payment (`aprovado: true`): paid, not shipped
    "em_producao": OrderStatus.PAID,
    # 15: being picked and packed after payment
    "pedido_em_separacao": OrderStatus.PAID,
    # 1018 (newer): the NF-e was issued
    "faturado": OrderStatus.INVOICED,
    # 11: handed to the carrier
    "pedido_enviado": OrderStatus.SHIPPED,
    # 13: a pickup order set aside for the buyer (`final: true`): it left the shelf, as shipped
    "pronto_para_retirada": OrderStatus.SHIPPED,
    # 14: delivered: the end of the lifecycle
    "pedido_entregue": OrderStatus.DELIVERED,
    # 8: cancelled by the seller or expired unpaid: the stock comes back
    "pedido_cancelado": OrderStatus.CANCELLED,
    # 7 (`cancelado: true`, final): the money went back, and with it the sale; Loja Integrada
    # puts the items back in its own stock
    "pagamento_devolvido": OrderStatus.CANCELLED,
    # 6: the buyer disputes the payment; Loja Integrada keeps it approved until decided
    "pagamento_em_disputa": OrderStatus.PAID,
    # 16: chargeback: still `aprovado: true, cancelado: false`; the money is lost but nothing
    # says the goods came back (Loja Integrada does not restock): the stock stays deducted
    "pedido_chargeback": OrderStatus.PAID,
    # 1019 (newer): the buyer *asked* to cancel (`cancelado: true`, not final); the seller has
    # not decided: hold the goods (an order already deducted stays so: effects never go back)
    "cancelamento_solicitado": OrderStatus.PENDING,
    # 1020 (newer; id from public clients, missing from the spec's example): refunded "sem
    # retorno" — Loja Integrada counts it as cancelled but the item does not return to stock
    # (help article 924633). For stock it is a sale whose goods are gone for good: mapping it
    # to cancelled would put back units that never come back, so it ends as delivered
    # (channel_status keeps the code, a note says the money was refunded).
    "pagamento_devolvido_sem_retorno": OrderStatus.DELIVERED,
}

#: the situações whose money went back although erpsync keeps the stock booked
REFUNDED_KEPT = frozenset({"pagamento_devolvido_sem_retorno", "pedido_chargeback"})


def situacao_codigo(order: Mapping[str, Any]) -> str:
    """The order's situação `codigo`.

    Raises:
        ValueError: no readable situação (not resolved through /v1/situacao), or a code the
            docs do not list (the order goes to quarantine with it).
    """
    node = order.get("situacao")
    codigo = node.get("codigo") if isinstance(node, Mapping) else None
    if not isinstance(codigo, str) or not codigo.strip():
        raise ValueError(f"order without a readable situacao: {node!r}")
    codigo = codigo.strip()
    if codigo not in STATUSES:
        raise ValueError(f"unknown Loja Integrada situacao {codigo!r}")
    return codigo


def local_time(value: Any, zone: str = DEFAULT_ZONE) -> datetime:
    """A Loja Integrada time in UTC: offset-less ones ("2022-10-31T12:28:05.704751") are the
    store's local time; the webhook's `Z` and `-03:00` stamps keep their offset."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value or "").strip()
        if not text:
            raise ValueError("time missing")
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def since_param(moment: datetime, zone: str = DEFAULT_ZONE) -> str:
    """A `since_atualizado` value: the store's local time, `YYYY-MM-DDTHH:MM:SS`, no offset
    (the format public clients send; the spec lists the filter in prose only)."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M:%S")


def version(summary: Mapping[str, Any], zone: str = DEFAULT_ZONE) -> tuple[str, datetime | None]:
    """(numero, data_modificacao) of a search summary: the pull dedupes on it."""
    numero = _id(summary.get("numero"), "numero")
    modified = summary.get("data_modificacao")
    return numero, local_time(modified, zone) if modified else None


def order_from_payload(
    payload: Mapping[str, Any], *, connector: str, zone: str = DEFAULT_ZONE
) -> Order:
    """Map one pedido (GET /v1/pedido/{numero}, situação resolved)."""
    soft = Lenient()
    codigo = situacao_codigo(payload)
    items = tuple(_item(line) for line in _lines(payload))
    items_total = sum((i.unit_price * i.quantity for i in items), Decimal("0.00"))
    subtotal = _money(payload, "valor_subtotal", default=items_total)
    if subtotal != items_total:
        soft.notes.append(
            f"valor_subtotal {subtotal} differs from the lines' {items_total} (kept the lines')"
        )
    shipping = _money(payload, "valor_envio")
    discount = _money(payload, "valor_desconto")
    computed = items_total + shipping - discount
    total = _money(payload, "valor_total", default=computed)
    if total != computed:
        soft.notes.append(
            f"valor_total {total} differs from items {items_total} + freight {shipping} - "
            f"discount {discount} = {computed} (kept Loja Integrada's total)"
        )
    if codigo in REFUNDED_KEPT:
        soft.notes.append(
            f"situacao {codigo}: the payment was returned, but the goods are not back in stock"
        )
    created = local_time(payload.get("data_criacao"), zone)
    modified = payload.get("data_modificacao")
    return Order(
        connector=connector,
        platform=PLATFORM,
        external_id=_id(payload.get("numero"), "numero"),
        number=_id(payload.get("numero"), "numero"),
        status=STATUSES[codigo],
        channel_status=codigo,
        created_at=created,
        updated_at=local_time(modified, zone) if modified else created,
        currency="BRL",
        items_total=items_total,
        shipping_cost=shipping,
        discount=discount,
        total=total,
        buyer=_buyer(payload, soft),
        shipping_address=_address(payload.get("endereco_entrega"), soft),
        items=items,
        extra={**_extra(payload), **soft.extra},
        notes=tuple(soft.notes),
    )


def _id(value: Any, what: str) -> str:
    if value is None or isinstance(value, bool | dict | list) or not str(value).strip():
        raise ValueError(f"order without a usable {what}: {value!r}")
    return str(value).strip()


def _lines(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    lines = payload.get("itens")
    if not isinstance(lines, list) or not lines:
        raise ValueError("order without itens (its lines)")
    if not all(isinstance(line, Mapping) for line in lines):
        raise ValueError("an order line is not an object")
    return lines


def _item(line: Mapping[str, Any]) -> OrderItem:
    count = quantity(line.get("quantidade"))
    unit = line.get("preco_venda")
    if unit in (None, ""):
        # without the unit price, the line's subtotal over its quantity
        unit_price = to_money(_decimal(line.get("preco_subtotal"), "preco_subtotal") / count)
    else:
        unit_price = to_money(_decimal(unit, "preco_venda"))
    sku = line.get("sku")
    return OrderItem(
        sku=str(sku).strip() if sku not in (None, "") else None,
        channel_item_id=_produto_id(line),
        title=line.get("nome") if isinstance(line.get("nome"), str) else None,
        quantity=count,
        unit_price=unit_price,
    )


def _produto_id(line: Mapping[str, Any]) -> str | None:
    """The produto sold (the child of a variation): `produto` is a URI
    ("/api/v1/produto/123") in the old API, an object with `resource_uri` in v2; the
    webhook carries `produto_id`."""
    if line.get("produto_id") not in (None, ""):
        return str(line["produto_id"]).strip()
    node = line.get("produto")
    uri = node.get("resource_uri") if isinstance(node, Mapping) else node
    return uri_id(uri)


def uri_id(uri: Any) -> str | None:
    """The trailing id of a Tastypie resource URI ("/api/v1/produto/123" -> "123")."""
    if not isinstance(uri, str) or not uri.strip():
        return None
    last = uri.strip().rstrip("/").rsplit("/", 1)[-1]
    return last if last.isdigit() else None


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or value in (None, ""):
        raise ValueError(f"{what} missing or not an amount: {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{what} is not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{what} is not an amount: {value!r}")
    return amount


def _money(payload: Mapping[str, Any], key: str, default: Decimal | None = None) -> Decimal:
    """A decimal string ("21.38") or, in the webhook, a number; absent or empty: ``default``
    (zero when none is given)."""
    value = payload.get(key)
    if value in (None, ""):
        return default if default is not None else Decimal("0.00")
    return to_money(_decimal(value, key))


def _buyer(payload: Mapping[str, Any], soft: Lenient) -> Buyer:
    """`cliente` is an object in GET /v1/pedido/{numero} (a URI in search summaries); its
    `cpf` or `cnpj` is the buyer document, else the delivery address's."""
    node, address = payload.get("cliente"), payload.get("endereco_entrega")
    cliente: Mapping[str, Any] = node if isinstance(node, Mapping) else {}
    entrega: Mapping[str, Any] = address if isinstance(address, Mapping) else {}
    document, kind = None, None
    for source in (cliente, entrega):
        if source.get("cnpj"):
            document, kind = source["cnpj"], "CNPJ"
            break
        if source.get("cpf"):
            document, kind = source["cpf"], "CPF"
            break
    name = cliente.get("razao_social") if kind == "CNPJ" else None
    return soft.buyer(
        name=name or cliente.get("nome") or entrega.get("razao_social") or entrega.get("nome"),
        document=document,
        document_type=kind,
        email=cliente.get("email"),
        phone=cliente.get("telefone_celular") or cliente.get("telefone_principal"),
    )


def _address(node: Any, soft: Lenient) -> Address:
    """`endereco_entrega`: `bairro`, `estado` (the UF), `cep`; `referencia` is a landmark
    kept in extra, not part of the street address."""
    if not isinstance(node, Mapping):
        soft.notes.append("no delivery address (endereco_entrega)")
        return soft.address()
    country = node.get("pais")
    return soft.address(
        street=node.get("endereco"),
        number=node.get("numero"),
        complement=node.get("complemento"),
        district=node.get("bairro"),
        city=node.get("cidade"),
        state=node.get("estado"),
        zip=node.get("cep"),
        country="BR" if str(country or "").strip().lower() in ("", "brasil", "br") else country,
    )


def _extra(payload: Mapping[str, Any]) -> dict[str, Any]:
    envios = [e for e in payload.get("envios") or [] if isinstance(e, Mapping)]
    pagamentos = [p for p in payload.get("pagamentos") or [] if isinstance(p, Mapping)]
    situacao = payload.get("situacao")
    return {
        "id": payload.get("id"),
        "id_externo": payload.get("id_externo"),
        "situacao_id": situacao.get("id") if isinstance(situacao, Mapping) else None,
        "coupon": _coupon(payload.get("cupom_desconto")),
        "envios": [
            {
                "id": e.get("id"),
                "objeto": e.get("objeto"),
                "forma_envio": _forma(e.get("forma_envio"), "code"),
                "valor": e.get("valor"),
            }
            for e in envios
        ],
        "payments": [_forma(p.get("forma_pagamento"), "codigo") for p in pagamentos],
        "cliente_obs": payload.get("cliente_obs"),
    }


def _coupon(node: Any) -> str | None:
    """`cupom_desconto`: null, or the coupon (an object with `codigo`, or its code)."""
    if isinstance(node, Mapping):
        code = node.get("codigo") or node.get("code")
        return str(code) if code else None
    return str(node).strip() or None if node not in (None, "") else None


def _forma(node: Any, key: str) -> str | None:
    """A shipping or payment method's code: GET says `code` for envios, the webhook
    `codigo`; both are read."""
    if not isinstance(node, Mapping):
        return None
    code = node.get(key) or node.get("codigo") or node.get("code")
    return str(code).strip() if code else None
