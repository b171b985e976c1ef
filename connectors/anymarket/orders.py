"""Anymarket orders: the pure mapping of an order (`GET /v2/orders/{id}`) to erpsync's Order.

Order JSON: ref AnyMarket/anymarket-sdk-java `anymarket-sdk-order/.../dto/Order.java`,
`OrderItemResource`, `BuyerResource`, `ShippingResource`, `InvoiceResource`,
`TrackingResource`, and the sample `tests/ResponseSamples/Order/OrderGet.json` of
somosyampi/anymarket-php-sdk. Money comes as JSON numbers (Java BigDecimal), so they are read
through their decimal text, never as binary floats. No I/O here.

An Anymarket order has no "last updated" field in the SDK's DTO, so the version the engine
compares is the time we fetched the order (the connector wraps each fetch as
``{"order": ..., "fetched_at": ...}``): the feed says an order changed, and what
`GET /v2/orders/{id}` answers then is its newest state. A bare order (a fixture, a stored
payload) falls back to its newest documented date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from erpsync.domain import Address, Order, OrderItem, OrderStatus, sale_ref, to_money, to_utc
from erpsync.domain import to_quantity as quantity
from erpsync.lenient import Lenient

PLATFORM = "Anymarket"

#: `status`, the hub's own lifecycle (dto/OrderStatus.java); `marketPlaceStatus` keeps the
#: marketplace's raw value and is stored as extra only
STATUSES: Mapping[str, OrderStatus] = {
    # "Pendente": placed, payment not confirmed at the marketplace: reserve, do not deduct
    "PENDING": OrderStatus.PENDING,
    # "Pago": paid, waiting for the seller to invoice and ship: the sale is firm
    "PAID_WAITING_SHIP": OrderStatus.PAID,
    # "Faturado": the ERP sent the NF-e (PUT /v2/orders/{id} with the invoice)
    "INVOICED": OrderStatus.INVOICED,
    # "Enviado": handed to the carrier, tracking sent; the name says paid and waiting for
    # the *delivery*, not for a payment
    "PAID_WAITING_DELIVERY": OrderStatus.SHIPPED,
    # "Entregue": delivered, the end of the lifecycle
    "CONCLUDED": OrderStatus.DELIVERED,
    # "Cancelado": can follow any other status (the marketplace or the seller cancelled)
    "CANCELED": OrderStatus.CANCELLED,
}

#: the order dates a bare payload's version falls back to, newest wins
_DATES = ("createdAt", "paymentDate", "cancelDate")


def unwrap(payload: Mapping[str, Any]) -> tuple[Mapping[str, Any], datetime | None]:
    """(the order, when it was fetched) from a RawOrder payload or a bare order."""
    node = payload.get("order")
    if isinstance(node, Mapping):
        fetched = payload.get("fetched_at")
        return node, to_utc(fetched) if fetched else None
    return payload, None


def order_status(order: Mapping[str, Any]) -> OrderStatus:
    """Our status from Anymarket's `status`.

    Raises:
        ValueError: a value the SDK's enum does not list (the order goes to quarantine).
    """
    status = order.get("status")
    if status not in STATUSES:
        raise ValueError(f"unknown Anymarket order status {status!r}")
    return STATUSES[str(status)]


def order_from_payload(payload: Mapping[str, Any], *, connector: str) -> Order:
    """Map one order: ``{"order": <GET /v2/orders/{id}>, "fetched_at": ...}`` or the bare
    order object."""
    order, fetched_at = unwrap(payload)
    soft = Lenient()
    items = tuple(_item(line, n) for n, line in enumerate(_lines(order), start=1))
    lines_total = sum((i.unit_price * i.quantity for i in items), Decimal("0.00"))
    items_total = _money(order, "productGross", default=None)
    if items_total is None:  # older payloads: `gross` (deprecated in the SDK) is the same
        items_total = _money(order, "gross", default=lines_total)
    freight = _money(order, "freight")
    discount = _money(order, "discount")
    interest = _money(order, "interestValue")
    computed = items_total + freight + interest - discount
    total = _money(order, "total", default=computed)
    if total != computed:
        soft.notes.append(
            f"total {total} differs from items {items_total} + freight {freight} + interest "
            f"{interest} - discount {discount} = {computed} (kept Anymarket's total)"
        )
    created = to_utc(order["createdAt"])
    return Order(
        connector=connector,
        platform=PLATFORM,
        external_id=_id(order.get("id")),
        number=_text(order.get("marketPlaceNumber")),
        status=order_status(order),
        channel_status=str(order["status"]),
        created_at=created,
        updated_at=fetched_at or _newest(order, created),
        items_total=items_total,
        shipping_cost=freight,
        discount=discount,
        total=total,
        buyer=_buyer(order.get("buyer"), soft),
        shipping_address=_address(order, soft),
        items=items,
        # the hub relays orders the marketplace ships from its own warehouse (ML Full,
        # Amazon FBA, Magalu Fulfillment): they never touch our stock
        fulfilled_by_channel=order.get("fulfillment") is True,
        extra={**_extra(order), **soft.extra},
        notes=tuple(soft.notes),
        # the marketplace's own number: the same sale pulled directly carries the same ref
        sale_ref=sale_ref(*(marketplace_ref(order) or (None, None))),
    )


def marketplace_ref(order: Mapping[str, Any]) -> tuple[str, str] | None:
    """(marketPlace, marketPlaceNumber): the sale's identity at the marketplace the buyer
    bought on, or None when the hub did not say."""
    market, number = _text(order.get("marketPlace")), _text(order.get("marketPlaceNumber"))
    return (market.upper(), number) if market and number else None


def _id(value: Any) -> str:
    if value is None or isinstance(value, bool | dict | list) or not str(value).strip():
        raise ValueError(f"order without a usable id: {value!r}")
    return str(value).strip()


def _lines(order: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    lines = order.get("items")
    if not isinstance(lines, list) or not lines:
        raise ValueError("order without items (its lines)")
    return [line for line in lines if isinstance(line, Mapping)]


def _item(line: Mapping[str, Any], number: int) -> OrderItem:
    """`sku.partnerId` is the seller's (our) SKU; `sku.id` is Anymarket's."""
    sku: Mapping[str, Any] = line["sku"] if isinstance(line.get("sku"), Mapping) else {}
    product: Mapping[str, Any] = line["product"] if isinstance(line.get("product"), Mapping) else {}
    amount = quantity(line.get("amount"))
    unit = line.get("unit")
    if unit in (None, ""):  # no unit price: the line's gross over its quantity
        gross = line.get("gross")
        unit_price = to_money(gross) / amount if gross not in (None, "") else Decimal("0")
    else:
        unit_price = to_money(unit)
    return OrderItem(
        sku=_text(sku.get("partnerId")),
        channel_item_id=_text(sku.get("id")) or _text(line.get("orderItemId")) or str(number),
        variation_id=None,
        title=_text(sku.get("title")) or _text(product.get("title")),
        quantity=amount,
        unit_price=unit_price,
    )


def _money(order: Mapping[str, Any], key: str, default: Decimal | None = Decimal("0.00")) -> Any:
    value = order.get(key)
    return default if value in (None, "") else to_money(value)


def _newest(order: Mapping[str, Any], created: datetime) -> datetime:
    found = [to_utc(order[k]) for k in _DATES if order.get(k)]
    return max([created, *found])


def _buyer(node: Any, soft: Lenient) -> Any:
    buyer = node if isinstance(node, Mapping) else {}
    # documentNumberNormalized: digits only; `document` as the marketplace sent it
    return soft.buyer(
        name=buyer.get("name"),
        document=buyer.get("documentNumberNormalized") or buyer.get("document"),
        document_type=buyer.get("documentType"),
        email=buyer.get("email"),
        phone=buyer.get("cellPhone") or buyer.get("phone"),
    )


def _address(order: Mapping[str, Any], soft: Lenient) -> Address:
    """`shipping` as the marketplace sent it; `anymarketAddress` is the hub's normalised copy
    and fills what `shipping` lacks."""
    given = order.get("shipping")
    shipping: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    found = order.get("anymarketAddress")
    normal: Mapping[str, Any] = found if isinstance(found, Mapping) else {}

    def pick(*keys: str) -> Any:
        node: Mapping[str, Any]
        for node in (shipping, normal):
            for key in keys:
                if node.get(key) not in (None, ""):
                    return node[key]
        return None

    if not shipping and not normal:
        soft.notes.append("no shipping address (withheld by the marketplace)")
    return soft.address(
        street=pick("street", "address"),
        number=pick("number"),
        complement=pick("comment"),
        district=pick("neighborhood"),
        city=pick("city"),
        state=pick("state", "stateNameNormalized"),
        zip=pick("zipCode"),
        country=pick("countryAcronymNormalized"),
    )


def _extra(order: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "marketplace": _text(order.get("marketPlace")),
        "marketplace_number": _text(order.get("marketPlaceNumber")),
        "marketplace_id": _text(order.get("marketPlaceId")),
        "marketplace_status": _text(order.get("marketPlaceStatus")),
        "partner_id": _text(order.get("partnerId")),
        "account_name": _text(order.get("accountName")),
        "sub_channel": _text(order.get("subChannel")),
        "interest": str(_money(order, "interestValue")),
        "invoice_key": _text((order.get("invoice") or {}).get("accessKey"))
        if isinstance(order.get("invoice"), Mapping)
        else None,
        "tracking_number": _text((order.get("tracking") or {}).get("number"))
        if isinstance(order.get("tracking"), Mapping)
        else None,
    }


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping | list | bool):
        return None
    text = str(value).strip()
    return text or None
