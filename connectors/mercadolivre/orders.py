"""Orders: Mercado Livre's order JSON (with its billing info and shipment) -> Order. Pure.

An order payload is self-contained, as the connector stores it for quarantine replay::

    {"order": <GET /orders/search result>, "billing_info": <GET /orders/billing-info/...>|None,
     "shipment": <GET /shipments/{id} with x-format-new: true>|None}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from erpsync import documents
from erpsync.domain import (
    MERCADO_LIVRE,
    Address,
    Buyer,
    Order,
    OrderItem,
    OrderStatus,
    sale_ref,
    to_money,
    to_utc,
)
from erpsync.lenient import NO_ADDRESS, Lenient

PLATFORM = "Mercado Livre"
#: Brasília time, as ML writes its dates and as its search filters take them
BRT = timezone(timedelta(hours=-3))

# Order statuses: developers.mercadolivre.com.br/pt_br/gerenciamento-de-vendas ("Status").
ORDER_STATUS: dict[str, OrderStatus] = {
    # the purchase exists but no payment has been attempted yet: nothing to ship
    "confirmed": OrderStatus.PENDING,
    # the buyer still has to pay (boleto/PIX not paid yet): nothing to ship
    "payment_required": OrderStatus.PENDING,
    # a payment is being processed (card review, PIX clearing): not money in hand yet
    "payment_in_process": OrderStatus.PENDING,
    # only part of the amount is paid: ML does not release the sale until it is fully paid
    "partially_paid": OrderStatus.PENDING,
    # fully paid: the sale is confirmed and must be shipped
    "paid": OrderStatus.PAID,
    # paid, then part of the money was refunded: the sale itself stands (goods still go out)
    "partially_refunded": OrderStatus.PAID,
    # cancelled while the refund to the buyer is still in progress: the sale is over
    "pending_cancel": OrderStatus.CANCELLED,
    # cancelled: stock comes back
    "cancelled": OrderStatus.CANCELLED,
    # legacy: ML invalidated the order (e.g. malicious buyer); it never becomes a sale
    "invalid": OrderStatus.CANCELLED,
}

#: order statuses whose goods are (being) sent, so the shipment can move them further
_SHIPPABLE = frozenset({"paid", "partially_refunded"})

# Logistic types for which ML only unlocks the label once the seller's NF-e is imported, so a
# shipment past `invoice_pending` proves the order was invoiced. ref:
# developers.mercadolivre.com.br/pt_br/importar-nota-fiscal (drop_off, xd_drop_off, xd_same_day,
# cross_docking). Full (fulfillment) is invoiced by ML's own "Faturador", Flex by the seller
# outside ML: neither tells us, so they stay PAID until shipped.
_INVOICE_GATED = frozenset({"drop_off", "xd_drop_off", "xd_same_day", "cross_docking"})
_LABEL_READY = frozenset({"ready_to_print", "printed", "ready_for_pickup", "ready_for_dropoff"})

#: ML hides the buyer's destination until the order is paid (ref: pt_br/gerenciamento-de-envios,
#: "O endereço do comprador em destination ficará ofuscado até que o pagamento do pedido seja
#: confirmado"); its template shows the hidden fields as "XXXXXXX"
_MASK = re.compile(r"^X+$", re.IGNORECASE)
MASKED_ADDRESS = (
    "shipping address partly hidden by Mercado Livre until the order is paid; "
    "filled when the paid order is read again"
)

#: payments whose shipping_cost never reached the seller
_VOID_PAYMENTS = frozenset({"rejected", "cancelled", "refunded", "charged_back"})


def order_status(order: Mapping[str, Any], shipment: Mapping[str, Any] | None) -> OrderStatus:
    """Our status from the order status, raised by what the shipment reports for paid orders.

    ML keeps `status=paid` for the rest of a sale's life; shipping progress lives on the
    shipment (`status` shipped/delivered) and in the order's `delivered` tag, so those decide
    shipped/delivered, and a label unlocked by an imported NF-e decides invoiced.
    """
    raw = str(order["status"])
    try:
        status = ORDER_STATUS[raw]
    except KeyError:
        raise ValueError(f"unknown Mercado Livre order status {raw!r}") from None
    if raw not in _SHIPPABLE:
        return status
    ship_status = (shipment or {}).get("status")
    if ship_status == "delivered" or "delivered" in (order.get("tags") or ()):
        return OrderStatus.DELIVERED
    if ship_status == "shipped":
        return OrderStatus.SHIPPED
    if (
        ship_status == "ready_to_ship"
        and logistic_type(shipment) in _INVOICE_GATED
        and (shipment or {}).get("substatus") in _LABEL_READY
    ):
        return OrderStatus.INVOICED
    return status


def ml_time(moment: datetime) -> str:
    """ML's ISO 8601 form: milliseconds and an offset, e.g. 2026-08-01T10:00:00.000-03:00."""
    return moment.astimezone(BRT).isoformat(timespec="milliseconds")


def logistic_type(shipment: Mapping[str, Any] | None) -> str | None:
    """`logistic.type` (x-format-new) or the flat `logistic_type` of the old format."""
    if not shipment:
        return None
    logistic = shipment.get("logistic") or {}
    value = logistic.get("type") or shipment.get("logistic_type")
    return str(value) if value else None


def order_version(order: Mapping[str, Any]) -> datetime:
    """The newer of `date_last_updated` and `last_updated`: the order's version.

    The search filters on `order.date_last_updated`, and its documented result carries both
    fields with different values (ref: pt_br/gerenciamento-de-vendas, search example:
    date_last_updated 2020-02-14T02:55:49.811Z, last_updated 2019-05-28T15:16:04-04:00). No
    page says which changes move which [U], so a change to either is a new version.
    """
    moments = [
        to_utc(order[key]) for key in ("date_last_updated", "last_updated") if order.get(key)
    ]
    return max(moments) if moments else to_utc(order["date_created"])


def order_from_payload(payload: Mapping[str, Any], *, connector: str) -> Order:
    """Map one stored payload ({"order", "billing_info", "shipment"}) to an Order.

    Only the id, the lines and their quantities may fail it (-> quarantine): the buyer's
    document and the address are read softly (erpsync.lenient), empty with a note when bad.
    """
    order = payload["order"]
    shipment = payload.get("shipment")
    billing = _billing_info(payload.get("billing_info"))
    soft = Lenient()
    if billing is None:
        soft.notes.append("buyer document not available: the order has no billing info")
    if shipment is None and (order.get("shipping") or {}).get("id"):
        soft.notes.append("shipping address not available: the shipment was not fetched")
    buyer = _buyer(order, billing, soft)
    address = _address(shipment, billing, soft)
    items_total = to_money(order["total_amount"])
    shipping_cost = _shipping_cost(order, shipment)
    discount = _discount(order)
    pack_id = order.get("pack_id")
    return Order(
        connector=connector,
        platform=PLATFORM,
        external_id=str(order["id"]),
        # the seller panel shows a cart purchase under its pack id ("Venda #...")
        number=str(pack_id or order["id"]),
        status=order_status(order, shipment),
        channel_status=str(order["status"]),
        created_at=order["date_created"],
        updated_at=order_version(order),
        currency=str(order.get("currency_id") or "BRL"),
        items_total=items_total,
        shipping_cost=shipping_cost,
        discount=discount,
        total=items_total + shipping_cost - discount,
        buyer=buyer,
        shipping_address=address,
        items=tuple(_item(line) for line in order["order_items"]),
        fulfilled_by_channel=logistic_type(shipment) == "fulfillment",
        extra={**_extra(order, shipment), **soft.extra},
        notes=tuple(soft.notes),
        # what a hub (Anymarket) relays as marketPlaceNumber: the number the seller sees [U]
        sale_ref=sale_ref(MERCADO_LIVRE, pack_id or order["id"]),
    )


def _item(line: Mapping[str, Any]) -> OrderItem:
    item = line["item"]
    variation = item.get("variation_id")
    return OrderItem(
        # seller_sku mirrors the SELLER_SKU attribute; seller_custom_field is the legacy field
        sku=item.get("seller_sku") or item.get("seller_custom_field"),
        channel_item_id=str(item["id"]),
        variation_id=str(variation) if variation else None,
        title=item.get("title"),
        quantity=int(line["quantity"]),
        unit_price=to_money(line["unit_price"]),
    )


def _shipping_cost(order: Mapping[str, Any], shipment: Mapping[str, Any] | None) -> Decimal:
    """What the buyer paid for shipping (total_amount excludes it).

    Payments carry `shipping_cost` per order, which is right for packs (one shipment shared by
    several orders, charged once); rejected or refunded payments count for nothing. An order
    without any payment yet falls back to the shipment's `lead_time.cost` (x-format-new), but
    only outside packs, where that cost is not shared.
    """
    payments = order.get("payments") or []
    if payments:
        live = [p for p in payments if p.get("status") not in _VOID_PAYMENTS]
        return sum((to_money(p.get("shipping_cost") or 0) for p in live), Decimal("0.00"))
    if shipment and not order.get("pack_id"):
        cost = (shipment.get("lead_time") or {}).get("cost")
        if cost is not None:
            return to_money(cost)
    return Decimal("0.00")


def _discount(order: Mapping[str, Any]) -> Decimal:
    coupon = order.get("coupon") or {}
    return to_money(coupon.get("amount") or 0)


def _billing_info(body: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    # ref: developers.mercadolivre.com.br/pt-br/faturamento: {"site_id", "buyer": {"cust_id",
    # "billing_info": {"name", "last_name", "identification": {"type", "number"}, "address"}}}.
    # identification.type for MLB: CPF or RG (individuals), CNPJ (businesses).
    if not body:
        return None
    info = (body.get("buyer") or {}).get("billing_info")
    return info or None


def _buyer(order: Mapping[str, Any], billing: Mapping[str, Any] | None, soft: Lenient) -> Buyer:
    ml_buyer = order.get("buyer") or {}
    identification = (billing or {}).get("identification") or {}
    name = _join((billing or {}).get("name"), (billing or {}).get("last_name"))
    name = name or _join(ml_buyer.get("first_name"), ml_buyer.get("last_name"))
    return soft.buyer(
        name=name or ml_buyer.get("nickname"),
        document=identification.get("number"),
        document_type=identification.get("type"),
    )


def _address(
    shipment: Mapping[str, Any] | None, billing: Mapping[str, Any] | None, soft: Lenient
) -> Address:
    """Delivery address from the shipment (new format); the billing address when there is none."""
    destination = (shipment or {}).get("destination") or {}
    # x-format-new's destination.shipping_address; `receiver_address` is its old-format twin
    ship = destination.get("shipping_address") or (shipment or {}).get("receiver_address")
    if ship:
        unmasked = {key: value for key, value in ship.items() if not _masked(value)}
        if len(unmasked) < len(ship):
            soft.notes.append(MASKED_ADDRESS)
        state = unmasked.get("state") or {}
        return soft.address(
            street=unmasked.get("street_name"),
            number=unmasked.get("street_number"),
            complement=unmasked.get("comment"),
            district=_name(unmasked.get("neighborhood")),
            city=_name(unmasked.get("city")),
            state=state.get("id") or state.get("name"),  # ISO 3166-2 "BR-SP"
            zip=unmasked.get("zip_code"),
            country=(unmasked.get("country") or {}).get("id"),
        )
    address = (billing or {}).get("address")
    if address:
        # the documented MLB billing address gives the state by name only (pt-br/faturamento)
        state = address.get("state") or {}
        return soft.address(
            "billing address",
            street=address.get("street_name"),
            number=address.get("street_number"),
            complement=address.get("comment"),
            district=address.get("neighborhood"),
            city=address.get("city_name"),
            state=_uf_or_name(state),
            zip=address.get("zip_code"),
            country=address.get("country_id"),
        )
    return NO_ADDRESS


def _uf_or_name(state: Mapping[str, Any]) -> Any:
    """`state.code` when it is a UF, else `state.name` (other sites' codes are not UFs)."""
    code = state.get("code")
    try:
        return documents.uf(str(code)) if code else state.get("name")
    except ValueError:
        return state.get("name") or code


def _masked(value: Any) -> bool:
    return isinstance(value, str) and bool(_MASK.match(value.strip()))


def _extra(order: Mapping[str, Any], shipment: Mapping[str, Any] | None) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "pack_id": _text(order.get("pack_id")),
        "shipment_id": _text((order.get("shipping") or {}).get("id")),
        "buyer_id": _text((order.get("buyer") or {}).get("id")),
        "tags": list(order.get("tags") or ()),
    }
    if shipment:
        extra["logistic_type"] = logistic_type(shipment)
        extra["shipment_status"] = shipment.get("status")
        extra["shipment_substatus"] = shipment.get("substatus")
    return {key: value for key, value in extra.items() if value not in (None, [])}


def _join(*parts: Any) -> str | None:
    text = " ".join(str(part).strip() for part in parts if part and str(part).strip())
    return text or None


def _name(value: Any) -> str | None:
    return value.get("name") if isinstance(value, Mapping) else None


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
