"""Vnda API v2 orders (E-commerce da Olist) -> canonical Order: status tables and the pure
mapping, plus the feed's "newest snapshot per order" rule.

An order is keyed by its `code` (10 hex characters, the key of every /orders/{code} path).
Refs: developers.vnda.com.br "Integração de pedidos" (GET /api/v2/orders/{code}, /items,
/shipping_address), "Controle de fila de integração de pedidos (Feed)" (events are whole order
objects), the API reference's Order and Address models. What integrators report on top
(there is no `created_at`; `confirmed` is not always paid; `shipped_at` stays empty, the
package tracking says it) comes from public clients [R] and is followed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from erpsync.domain import Address, Buyer, Order, OrderItem, OrderStatus, to_money, to_utc
from erpsync.domain import to_quantity as quantity
from erpsync.lenient import Lenient

PLATFORM = "E-commerce da Olist (Vnda)"

#: a time without an offset is the store's local time (every Vnda store is Brazilian)
LOCAL = ZoneInfo("America/Sao_Paulo")

#: every `status` the API documents (the `status` filter of GET /api/v2/orders)
STATUSES = frozenset({"received", "confirmed", "canceled"})

#: the timestamps an order carries; the newest is its version when `updated_at` is missing
TIMESTAMPS = (
    "updated_at",
    "received_at",
    "confirmed_at",
    "paid_at",
    "shipped_at",
    "shipping_tracked_at",
    "delivered_at",
    "canceled_at",
)


def order_status(order: Mapping[str, Any]) -> OrderStatus:
    """Our status from `status` and the timestamps (and tracking) that follow it.

    Raises:
        ValueError: a status the API does not document (the order goes to quarantine).
    """
    status = order.get("status")
    if status not in STATUSES:
        raise ValueError(f"unknown Vnda order status {status!r}")
    if status == "canceled":
        # canceled by the store or its payment failed: release whatever it held
        return OrderStatus.CANCELLED
    if status == "received":
        # placed, not yet confirmed by payment or the store: reserve, do not deduct
        return OrderStatus.PENDING
    # confirmed: the store accepted it; from here the timestamps tell how far it got
    if _present(order.get("delivered_at")):
        return OrderStatus.DELIVERED
    if shipped(order):
        # the goods left (whatever the payment says: a confirmed order may ship unpaid)
        return OrderStatus.SHIPPED
    if _present(order.get("paid_at")):
        return OrderStatus.PAID
    # confirmed without paid_at: the money is not in yet (boleto/pix confirmed before
    # clearing, integrators report): reserve, do not deduct
    return OrderStatus.PENDING


def shipped(order: Mapping[str, Any]) -> bool:
    """`shipped_at` is documented but integrators find it empty: a tracking code (or its
    time) is what says a package left."""
    codes = order.get("tracking_code_list")  # what recent clients read beside tracking_code
    return any(
        _present(order.get(key)) for key in ("shipped_at", "shipping_tracked_at", "tracking_code")
    ) or (isinstance(codes, list) and any(_present(c) for c in codes))


def channel_status(order: Mapping[str, Any]) -> str:
    """What Vnda says, for display: status, then paid/unpaid and shipping progress."""
    parts = [str(order.get("status") or "-")]
    if order.get("status") == "confirmed":
        parts.append("paid" if _present(order.get("paid_at")) else "unpaid")
        if _present(order.get("delivered_at")):
            parts.append("delivered")
        elif shipped(order):
            parts.append("shipped")
    return "/".join(parts)


# -- versions and the feed -------------------------------------------------------------------


def code_of(order: Mapping[str, Any]) -> str:
    """The order's `code`.

    Raises:
        ValueError: none usable (the order goes to quarantine).
    """
    code = order.get("code")
    if code is None or isinstance(code, bool | dict | list) or not str(code).strip():
        raise ValueError(f"order without a usable code: {code!r}")
    return str(code).strip()


def version(order: Mapping[str, Any]) -> tuple[str, datetime | None]:
    """(code, updated_at): the snapshot's identity; its newest timestamp when `updated_at`
    is missing."""
    return code_of(order), updated_time(order)


def updated_time(order: Mapping[str, Any]) -> datetime | None:
    stamped = order.get("updated_at")
    if _present(stamped):
        return parse_time(stamped)
    moments = [parse_time(order[k]) for k in TIMESTAMPS if _present(order.get(k))]
    return max(moments) if moments else None


def event_key(event: Mapping[str, Any]) -> tuple[Any, ...]:
    """One feed event: the order and the snapshot's time (the feed's own `id` is the
    order's id, the same for every event of one order)."""
    return event.get("code"), event.get("updated_at"), event.get("status")


def newest_per_order(events: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The feed lists events, each a whole order snapshot; an order received then confirmed
    comes twice. Only the newest snapshot of each order is current (a later one in the feed
    wins a tie). Events without a code are kept under a placeholder so they reach the
    quarantine."""
    newest: dict[str, Mapping[str, Any]] = {}
    moments: dict[str, datetime | None] = {}
    for index, event in enumerate(events):
        try:
            code, moment = version(event)
        except ValueError:
            # kept apart, under the order's code when it has one, so it reaches the quarantine
            newest[_text(event.get("code")) or f"no-code-{index}"] = event
            continue
        held = moments.get(code)
        if code not in newest or held is None or (moment is not None and moment >= held):
            newest[code] = event
            moments[code] = moment
    return newest


# -- the mapping ---------------------------------------------------------------------------


def order_from_payload(payload: Mapping[str, Any], *, connector: str) -> Order:
    """Map one order: the object of GET /api/v2/orders/{code} (or a feed event) with `items`
    and `shipping_address` inline or filled in from their sub-resources."""
    soft = Lenient()
    code = code_of(payload)
    created = _created(payload, soft)
    updated = updated_time(payload) or created
    items = tuple(_item(line) for line in _lines(payload))
    items_total = sum((i.unit_price * i.quantity for i in items), Decimal("0.00"))
    shipping = money(payload, "shipping_price")
    discount = money(payload, "discount_price")
    computed = items_total + shipping - discount
    total = to_money(payload["total"]) if _present(payload.get("total")) else computed
    subtotal = payload.get("subtotal")
    if _present(subtotal) and to_money(subtotal) != items_total:
        soft.notes.append(f"subtotal {to_money(subtotal)} differs from the items' {items_total}")
    if total != computed:
        soft.notes.append(
            f"total {total} differs from items {items_total} + freight {shipping} - discount "
            f"{discount} = {computed} (kept Vnda's total)"
        )
    address = _mapping(payload.get("shipping_address"))
    billing = _mapping(payload.get("billing_address"))
    return Order(
        connector=connector,
        platform=PLATFORM,
        external_id=code,
        number=code,
        status=order_status(payload),
        channel_status=channel_status(payload),
        created_at=created,
        updated_at=max(updated, created),
        currency="BRL",
        items_total=items_total,
        shipping_cost=shipping,
        discount=discount,
        total=total,
        buyer=_buyer(payload, address, billing, soft),
        shipping_address=_address(address, soft),
        items=items,
        extra={**_extra(payload), **soft.extra},
        notes=tuple(soft.notes),
    )


def _created(payload: Mapping[str, Any], soft: Lenient) -> datetime:
    """`received_at` is when the order was placed (there is no `created_at`)."""
    if _present(payload.get("received_at")):
        return parse_time(payload["received_at"])
    moment = updated_time(payload)
    if moment is None:
        raise ValueError("order without received_at or any other time")
    soft.notes.append("no received_at: its oldest known time stands in for creation")
    return min(parse_time(payload[k]) for k in TIMESTAMPS if _present(payload.get(k)))


def _lines(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    lines = payload.get("items")
    if not isinstance(lines, list) or not lines:
        raise ValueError("order without items (its lines)")
    if not all(isinstance(line, Mapping) for line in lines):
        raise ValueError("an item that is not an object")
    return lines


def _item(line: Mapping[str, Any]) -> OrderItem:
    """One item of /orders/{code}/items: `price` is the unit price, `total` the line's."""
    count = quantity(line.get("quantity"))
    if _present(line.get("price")):
        unit = to_money(line["price"])
    elif _present(line.get("total")):
        unit = (to_money(line["total"]) / count).quantize(Decimal("0.01"))
    else:
        unit = Decimal("0.00")
    name = " - ".join(
        str(line[k]).strip() for k in ("product_name", "variant_name") if _present(line.get(k))
    )
    return OrderItem(
        sku=_text(line.get("sku")),
        channel_item_id=_text(line.get("product_id") or line.get("reference")),
        variation_id=_text(line.get("variant_id")),
        title=name or None,
        quantity=count,
        unit_price=unit,
    )


def money(payload: Mapping[str, Any], key: str) -> Decimal:
    """Money comes as numbers (0.0, 59.9) or decimal strings; absent or empty is zero."""
    value = payload.get(key)
    return to_money(value) if _present(value) else Decimal("0.00")


def _buyer(
    payload: Mapping[str, Any],
    address: Mapping[str, Any],
    billing: Mapping[str, Any],
    soft: Lenient,
) -> Buyer:
    """The CPF/CNPJ lives on the addresses (`documents: {cpf}` or `{cnpj}`), not on the
    order; the billing address is the buyer's when both carry one."""
    kind, number = _document(billing) or _document(address) or (None, None)
    source = billing or address
    name = " ".join(
        str(source[k]).strip() for k in ("first_name", "last_name") if _present(source.get(k))
    )
    phone = "".join(
        str(source[k]).strip()
        for k in ("first_phone_area", "first_phone")
        if _present(source.get(k))
    )
    return soft.buyer(
        name=name or source.get("company_name"),
        document=number,
        document_type=kind,
        email=payload.get("email") or source.get("email"),
        phone=phone or None,
    )


def _document(address: Mapping[str, Any]) -> tuple[str, Any] | None:
    documents = address.get("documents")
    if not isinstance(documents, Mapping):
        return None
    for kind in ("cnpj", "cpf"):
        if _present(documents.get(kind)):
            return kind, documents[kind]
    return None


def _address(node: Mapping[str, Any], soft: Lenient) -> Address:
    if not node:
        soft.notes.append("no shipping address (a pickup order, or not fetched)")
        return soft.address()
    return soft.address(
        street=node.get("street_name"),
        number=node.get("street_number"),
        complement=node.get("complement"),
        district=node.get("neighborhood"),
        city=node.get("city"),
        state=node.get("state"),
        zip=node.get("zip"),
    )


def _extra(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": payload.get("id"),
        "token": payload.get("token"),
        "cart_id": payload.get("cart_id"),
        "client_id": payload.get("client_id"),
        "coupon_code": payload.get("coupon_code"),
        "payment_method": payload.get("payment_method"),
        "installments": payload.get("installments"),
        "paid_at": payload.get("paid_at"),
        "shipping_method": payload.get("shipping_method") or payload.get("shipping_label"),
        "tracking_code": payload.get("tracking_code"),
        "channel": payload.get("channel"),
    }


def parse_time(value: Any) -> datetime:
    """An ISO 8601 time; one without an offset is the store's local time."""
    if isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 time: {value!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=LOCAL)
        return to_utc(moment)
    return to_utc(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str | None:
    return str(value).strip() if _present(value) and not isinstance(value, bool) else None
