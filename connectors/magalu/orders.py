"""Orders: Magalu Open API order JSON -> canonical Order. Pure: no I/O, no connector import.

Order JSON: ref https://developers.magalu.com/docs/plataforma-do-seller-pedidos/get_order.en/
(deliveries, items and shipping: .../get_delivery.en/). No I/O here: the engine calls
``order_from_payload`` on stored payloads too (quarantine replay).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from erpsync.domain import (
    MAGAZINE_LUIZA,
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

PLATFORM = "Magalu"

#: Money is an integer plus a `normalizer` (19980 / 100 = R$ 199,80). Every example in the docs
#: carries `normalizer: 100`; when a node omits it we inherit the enclosing node's, and at the top
#: we fall back to 100 (centavos), the only value the docs show.
DEFAULT_NORMALIZER = 100

#: What the whole order says about its lifecycle. `approved` is refined by the deliveries below.
ORDER_STATUS: dict[str, OrderStatus | None] = {
    # placed, payment not confirmed yet: nothing is owed to the buyer
    "new": OrderStatus.PENDING,
    # payment approved; Magalu keeps `approved` while deliveries are invoiced/shipped/delivered,
    # so the real progress is read from the deliveries (None = "ask the deliveries")
    "approved": None,
    # the buyer or Magalu cancelled the whole order
    "cancelled": OrderStatus.CANCELLED,
    # the order's lifecycle is closed: every live delivery reached the buyer
    "finished": OrderStatus.DELIVERED,
}

#: Progress of one delivery (shipping unit). Invoices, shipping and delivery are per delivery.
DELIVERY_STATUS: dict[str, OrderStatus | None] = {
    # created with the order, payment still pending
    "new": OrderStatus.PENDING,
    # paid, waiting for the seller's NF-e
    "approved": OrderStatus.PAID,
    # held by Magalu (anti-fraud/SAC) with no defined next step: stays at "paid" until it moves
    "frozen": OrderStatus.PAID,
    # the seller's NF-e was attached (POST /deliveries/{id}/invoices)
    "invoiced": OrderStatus.INVOICED,
    # handed to the carrier (POST /deliveries/{id}/shippings)
    "shipped": OrderStatus.SHIPPED,
    # received by the buyer (POST /deliveries/{id}/finishing)
    "delivered": OrderStatus.DELIVERED,
    # this delivery will not happen; it does not hold the order back (None = ignored)
    "cancelled": None,
}

_PROGRESS = [
    OrderStatus.PENDING,
    OrderStatus.PAID,
    OrderStatus.INVOICED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
]

#: `shipping.logistic_network.id` of deliveries shipped from Magalu's own warehouse (Magalu
#: Fulfillment). Source [R]: integrator notes reading orders.openapi.yaml, whose example is
#: `{"id": "fulfillment", "description": "malha-fulfillment"}`; no `is_fulfillment` flag exists.
FULFILLMENT_NETWORK = "fulfillment"
#: The shipment logistic types erpsync gives Magalu deliveries (the channel's words where it has
#: them): "fulfillment" (Magalu's warehouse ships it), "magalu_entregas" (Magalu's carrier
#: collects it and prints the label: no tracking goes back) and "own" (the seller's own carrier:
#: the seller sends the tracking, POST /deliveries/{id}/shippings). The doc examples and every
#: fixture name Magalu Entregas `shipping.provider` {"id": "magalu_entregas", "description":
#: "Magalu Entregas"}; what the provider of a seller-shipped delivery is called is not in the
#: pages read [U], so any other provider is the seller's own.
MAGALU_ENTREGAS = "magalu_entregas"
OWN_LOGISTICS = "own"


def amount(value: Any, normalizer: Any = DEFAULT_NORMALIZER) -> Decimal:
    """Integer minor units / normalizer, exactly (Decimal), rounded half-even to cents."""
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ValueError(f"not an integer amount: {value!r}")
    norm = DEFAULT_NORMALIZER if normalizer is None else normalizer
    if isinstance(norm, bool) or not isinstance(norm, int) or norm <= 0:
        raise ValueError(f"invalid money normalizer: {normalizer!r}")
    return to_money(Decimal(str(value)) / Decimal(norm))


def money(node: Any, normalizer: Any = DEFAULT_NORMALIZER) -> Decimal:
    """A money node: a bare integer (parent's normalizer) or {total|value|amount, normalizer}."""
    if node is None:
        return Decimal("0.00")
    if isinstance(node, Mapping):
        norm = node.get("normalizer", normalizer)
        for key in ("total", "value", "amount"):
            if key in node:
                return amount(node[key], norm)
        raise ValueError(f"money node without total/value/amount: {sorted(node)}")
    return amount(node, normalizer)


def order_status(order: Mapping[str, Any]) -> OrderStatus:
    """Order status, using delivery statuses to reach invoiced/shipped/delivered."""
    raw = order.get("status")
    if raw not in ORDER_STATUS:
        raise ValueError(f"unknown Magalu order status {raw!r}")
    deliveries = _deliveries(order)
    for delivery in deliveries:
        if delivery.get("status") not in DELIVERY_STATUS:
            raise ValueError(f"unknown Magalu delivery status {delivery.get('status')!r}")
    live = [DELIVERY_STATUS[d["status"]] for d in deliveries if DELIVERY_STATUS[d["status"]]]
    mapped = ORDER_STATUS[raw]
    if mapped is OrderStatus.PENDING or mapped is OrderStatus.CANCELLED:
        return mapped
    if deliveries and not live:
        # every delivery was cancelled: nothing will ship, whatever the order status says
        return OrderStatus.CANCELLED
    if mapped is OrderStatus.DELIVERED:
        return mapped
    # approved: the order is as far as its least advanced live delivery, and at least paid
    least = min((_PROGRESS.index(s) for s in live if s is not None), default=1)
    return _PROGRESS[max(least, 1)]


def order_from_payload(payload: Mapping[str, Any], *, connector: str) -> Order:
    """Map one fetched payload ({"order": {...}} or the bare order) to a canonical Order."""
    order = payload.get("order", payload)
    amounts = order.get("amounts") or {}
    norm = amounts.get("normalizer", DEFAULT_NORMALIZER)
    deliveries = _deliveries(order)
    kept, dropped = _item_deliveries(deliveries)
    items = tuple(_item(item, norm) for d in kept for item in d.get("items") or [])
    items_total = sum((i.unit_price * i.quantity for i in items), Decimal("0.00"))
    shipping = _order_money(order, "freight", norm)
    discount = _order_money(order, "discount", norm)
    total = money(amounts, norm) if "total" in amounts else items_total + shipping - discount
    # only the id, the items and their quantities may fail the order; the buyer's document and
    # the address are read softly (erpsync.lenient): a bad one is an empty field and a note
    soft = Lenient()
    buyer = _buyer(order.get("customer") or {}, soft)
    address = _shipping_address(deliveries, soft)
    soft.notes.extend(
        f"delivery {d.get('code')} cancelled: its items are left out" for d in dropped
    )
    return Order(
        connector=connector,
        platform=PLATFORM,
        external_id=str(order["id"]),
        number=order.get("code"),
        status=order_status(order),
        channel_status=str(order["status"]),
        created_at=to_utc(order.get("purchased_at") or order["created_at"]),
        updated_at=to_utc(order["updated_at"]),
        currency=str(amounts.get("currency") or "BRL"),
        items_total=items_total,
        shipping_cost=shipping,
        discount=discount,
        total=total,
        buyer=buyer,
        shipping_address=address,
        items=items,
        fulfilled_by_channel=_fulfilled_by_magalu(deliveries),
        extra={**_extra(order, deliveries), **soft.extra},
        notes=tuple(soft.notes),
        sale_ref=sale_ref(MAGAZINE_LUIZA, order.get("code")),
    )


def _deliveries(order: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    deliveries = order.get("deliveries") or []
    if not isinstance(deliveries, list):
        raise ValueError("deliveries is not a list")
    return deliveries


def _item_deliveries(
    deliveries: list[Mapping[str, Any]],
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Deliveries whose items the order keeps, and the cancelled ones left out.

    A cancelled delivery of a live order will never ship, so its items must not reserve our
    stock; when every delivery is cancelled the order itself is cancelled and keeps them all.
    """
    live = [d for d in deliveries if d.get("status") != "cancelled"]
    if not live:
        return deliveries, []
    return live, [d for d in deliveries if d.get("status") == "cancelled"]


def _item(item: Mapping[str, Any], norm: Any) -> OrderItem:
    info = item.get("info") or {}
    quantity = int(item["quantity"])
    if "unit_price" in item:
        unit = money(item["unit_price"], norm)
    else:
        # no unit price: derive it from the item total (exact, then rounded to cents)
        total = money((item.get("amounts") or {}).get("total"), norm)
        unit = to_money(total / quantity)
    return OrderItem(
        sku=info.get("sku"),
        channel_item_id=info.get("id"),
        title=info.get("name"),
        quantity=quantity,
        unit_price=unit,
    )


def _order_money(order: Mapping[str, Any], key: str, norm: Any) -> Decimal:
    """Order-level freight/discount; when the order omits it, the sum over its deliveries."""
    amounts = order.get("amounts") or {}
    if key in amounts:
        return money(amounts[key], norm)
    total = Decimal("0.00")
    for delivery in _deliveries(order):
        d_amounts = delivery.get("amounts") or {}
        total += money(d_amounts.get(key), d_amounts.get("normalizer", norm))
    return total


def _buyer(customer: Mapping[str, Any], soft: Lenient) -> Buyer:
    kind = customer.get("customer_type")
    return soft.buyer(
        name=customer.get("name"),
        document=customer.get("document_number"),
        # customer_type cpf/cnpj says which document it must be; a mismatch is a note
        document_type=str(kind).upper() if kind in {"cpf", "cnpj"} else None,
        email=customer.get("email"),
        phone=_phone(customer.get("phones") or []),
    )


def _phone(phones: Sequence[Mapping[str, Any]]) -> str | None:
    for phone in phones:
        number = "".join(ch for ch in str(phone.get("number") or "") if ch.isdigit())
        if number:
            country = str(phone.get("country_code") or "55")
            return f"+{country}{phone.get('area_code') or ''}{number}"
    return None


def _address(node: Mapping[str, Any], soft: Lenient) -> Address:
    return soft.address(
        street=node.get("street"),
        number=node.get("number"),
        complement=node.get("complement"),
        district=node.get("district"),
        city=node.get("city"),
        state=node.get("state"),
        zip=node.get("zipcode"),
    )


def _shipping_address(deliveries: list[Mapping[str, Any]], soft: Lenient) -> Address:
    addresses = [
        ((d.get("shipping") or {}).get("recipient") or {}).get("address") for d in deliveries
    ]
    found = [a for a in addresses if a]
    if not found:
        soft.notes.append("no shipping address in the deliveries")
        return NO_ADDRESS
    # each address mapped once: the first is the one kept (its notes follow the count's), and
    # a delivery whose raw address is the first's (the usual order: one address) maps to it
    kept = Lenient()
    first = _address(found[0], kept)
    distinct = {first, *(_address(a, Lenient()) for a in found[1:] if a != found[0])}
    if len(distinct) > 1:
        soft.notes.append(
            f"deliveries ship to {len(distinct)} addresses; kept the first delivery's"
        )
    soft.notes.extend(kept.notes)
    soft.extra.update(kept.extra)
    return first


def _is_fulfillment(delivery: Mapping[str, Any]) -> bool:
    network = (delivery.get("shipping") or {}).get("logistic_network") or {}
    return network.get("id") == FULFILLMENT_NETWORK


def _fulfilled_by_magalu(deliveries: list[Mapping[str, Any]]) -> bool:
    """True when every live delivery ships from Magalu's warehouse (never touches our stock)."""
    live = [d for d in deliveries if d.get("status") != "cancelled"] or deliveries
    return bool(live) and all(_is_fulfillment(d) for d in live)


def logistic_type(delivery: Mapping[str, Any], fulfillment: bool | None = None) -> str:
    """fulfillment, magalu_entregas or own (see MAGALU_ENTREGAS); ``fulfillment``: the
    caller's ``_is_fulfillment(delivery)``, when it has it."""
    if _is_fulfillment(delivery) if fulfillment is None else fulfillment:
        return FULFILLMENT_NETWORK
    provider = (delivery.get("shipping") or {}).get("provider") or {}
    names = (provider.get("id"), provider.get("name"), provider.get("description"))
    spelled = {str(n).strip().lower().replace("-", "_").replace(" ", "_") for n in names if n}
    return MAGALU_ENTREGAS if MAGALU_ENTREGAS in spelled else OWN_LOGISTICS


def _extra(order: Mapping[str, Any], deliveries: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Delivery ids/codes/statuses: invoices, shipping and labels are per delivery.

    ``shipments`` declares the order's shipments (erpsync.postsale.shipments takes a declared
    list as it is): one per delivery, of its logistic type, so ``shipments push`` sends
    tracking for the seller's own deliveries only."""
    channel = order.get("channel") or {}
    # each delivery's logistics read once (both lists below say them)
    fulfilled = [_is_fulfillment(d) for d in deliveries]
    kinds = [(d, f, logistic_type(d, f)) for d, f in zip(deliveries, fulfilled, strict=True)]
    return {
        "code": order.get("code"),
        "channel_id": channel.get("id"),
        "approved_at": order.get("approved_at"),
        "delivery_ids": [d.get("id") for d in deliveries],
        "deliveries": [
            {
                "id": d.get("id"),
                "code": d.get("code"),
                "status": d.get("status"),
                "fulfillment": fulfillment,
                "logistic_type": logistic,
            }
            for d, fulfillment, logistic in kinds
        ],
        "shipments": [
            {
                "shipment_ref": str(d["id"]),
                "logistic_type": logistic,
                "fulfilled_by_channel": fulfillment,
                "status": d.get("status") or None,
                "label_state": "not_applicable" if fulfillment else "none",
            }
            for d, fulfillment, logistic in kinds
            if d.get("id")
        ],
    }
