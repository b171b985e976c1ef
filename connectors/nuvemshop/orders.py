"""Nuvemshop orders: what to ask for, and the pure mapping of an order to erpsync's Order.

Order JSON: ref TiendaNube/api-docs `resources/order.md` and the newer
https://tiendanube.github.io/api-documentation/resources/order (whose example carries
`"quantity": "1"`, `"variant_id": "426215948"`, `+0000` offsets, `customer.identification`
and the `discount_coupon`/`discount_gateway` split). No I/O here: the engine maps stored
payloads too (quarantine replay).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from erpsync.domain import Address, Buyer, Order, OrderItem, OrderStatus, to_money, to_utc
from erpsync.domain import to_quantity as quantity
from erpsync.lenient import Lenient

PLATFORM = "Nuvemshop"

#: GET /orders lists, by default (`payment_status=any`), only "authorized, pending and paid
#: orders" (resources/order.md, GET /orders parameters). An order that becomes voided,
#: refunded or abandoned then drops out of the default list, and with it the change that
#: must release its stock: each window is also read once per one of these statuses.
OFF_DEFAULT_PAYMENTS = ("voided", "refunded", "abandoned")

#: `status` says whether the order is alive at all
ORDER_STATUS = frozenset({"open", "closed", "cancelled"})

#: `payment_status` of an open order
PAYMENT_STATUS: dict[str, OrderStatus] = {
    # placed, payment not confirmed (boleto/pix not paid yet): reserve, do not deduct
    "pending": OrderStatus.PENDING,
    # card authorised but not captured: it can still be voided, so it is not paid yet
    "authorized": OrderStatus.PENDING,
    # captured: the sale is firm
    "paid": OrderStatus.PAID,
    # the authorisation was voided: the money never comes, the sale is off
    "voided": OrderStatus.CANCELLED,
    # the money went back to the buyer: the sale is undone (Nuvemshop keeps the order open)
    "refunded": OrderStatus.CANCELLED,
    # the buyer never completed payment; Nuvemshop lets these lapse: nothing to ship
    "abandoned": OrderStatus.CANCELLED,
}

#: `shipping_status`, in both spellings: the docs list unpacked/unfulfilled/fulfilled, their
#: own examples show unshipped/shipped (resources/order.md: "unpacked", "shipped" or
#: "unshipped"; the filter table: "unfulfilled (means unshipped)", "fulfilled (means
#: shipped)"). None: shipping says nothing beyond the payment.
SHIPPING_STATUS: dict[str, OrderStatus | None] = {
    # not packed yet: as far as the payment got
    "unpacked": None,
    # packed (POST /orders/{id}/pack) but not handed to the carrier: still as paid
    "unfulfilled": None,
    "unshipped": None,
    # fulfilled (POST /orders/{id}/fulfill): the goods left, whatever the payment says
    # (cash on delivery and "a convenir" orders ship before they are paid)
    "fulfilled": OrderStatus.SHIPPED,
    "shipped": OrderStatus.SHIPPED,
}


def order_status(order: Mapping[str, Any]) -> OrderStatus:
    """Our status from `status` x `payment_status` x `shipping_status`.

    Raises:
        ValueError: a value the docs do not list (the order goes to quarantine with it).
    """
    status, payment = order.get("status"), order.get("payment_status")
    shipping = order.get("shipping_status") or "unpacked"
    if status not in ORDER_STATUS:
        raise ValueError(f"unknown Nuvemshop order status {status!r}")
    if payment not in PAYMENT_STATUS:
        raise ValueError(f"unknown Nuvemshop payment_status {payment!r}")
    if shipping not in SHIPPING_STATUS:
        raise ValueError(f"unknown Nuvemshop shipping_status {shipping!r}")
    by_payment = PAYMENT_STATUS[payment]
    if status == "cancelled" or by_payment is OrderStatus.CANCELLED:
        # cancelled by the seller (POST /orders/{id}/cancel), or its money is gone
        return OrderStatus.CANCELLED
    if status == "closed":
        # the seller closes an order once it is done (delivered or picked up): the end of
        # the lifecycle, whatever shipping_status was left at
        return OrderStatus.DELIVERED
    return SHIPPING_STATUS[shipping] or by_payment


def version(order: Mapping[str, Any]) -> tuple[str, datetime | None]:
    """(id, updated_at): the pull dedupes on it, as the list guarantees no order."""
    updated = order.get("updated_at")
    return str(order["id"]), to_utc(updated) if updated else None


def order_from_payload(payload: Mapping[str, Any], *, connector: str) -> Order:
    """Map one order (the bare JSON object of GET /orders or /orders/{id})."""
    soft = Lenient()
    items = tuple(_item(line) for line in _lines(payload))
    items_total = sum((i.unit_price * i.quantity for i in items), Decimal("0.00"))
    shipping = _money(payload, "shipping_cost_customer")
    discount = _discount(payload)
    computed = items_total + shipping - discount
    # `total` in today's API; the old docs' example has only `price` (= the total)
    total_field = payload.get("total", payload.get("price"))
    total = to_money(total_field) if total_field not in (None, "") else computed
    if total != computed:
        soft.notes.append(
            f"total {total} differs from items {items_total} + freight {shipping} - discount "
            f"{discount} = {computed} (kept Nuvemshop's total)"
        )
    customer = payload.get("customer") if isinstance(payload.get("customer"), Mapping) else {}
    return Order(
        connector=connector,
        platform=PLATFORM,
        external_id=_id(payload.get("id")),
        number=str(payload["number"]) if payload.get("number") not in (None, "") else None,
        status=order_status(payload),
        channel_status="/".join(
            str(payload.get(k) or "-") for k in ("status", "payment_status", "shipping_status")
        ),
        created_at=to_utc(payload["created_at"]),
        updated_at=to_utc(payload.get("updated_at") or payload["created_at"]),
        currency=str(payload.get("currency") or "BRL"),
        items_total=items_total,
        shipping_cost=shipping,
        discount=discount,
        total=total,
        buyer=_buyer(payload, customer or {}, soft),
        shipping_address=_address(payload.get("shipping_address"), soft),
        items=items,
        extra={**_extra(payload), **soft.extra},
        notes=tuple(soft.notes),
    )


def _id(value: Any) -> str:
    """Ids come as numbers or strings (the newer docs quote `variant_id`, `store_id`)."""
    if value is None or isinstance(value, bool | dict | list) or not str(value).strip():
        raise ValueError(f"order without a usable id: {value!r}")
    return str(value).strip()


def _lines(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    lines = payload.get("products")
    if not isinstance(lines, list) or not lines:
        raise ValueError("order without products (its lines)")
    return lines


def _item(line: Mapping[str, Any]) -> OrderItem:
    variant = line.get("variant_id")
    return OrderItem(
        sku=str(line["sku"]).strip() if line.get("sku") not in (None, "") else None,
        channel_item_id=_optional_id(line.get("product_id")),
        variation_id=_optional_id(variant),
        title=line.get("name") if isinstance(line.get("name"), str) else None,
        quantity=quantity(line.get("quantity")),
        unit_price=to_money(line.get("price") if line.get("price") not in (None, "") else "0"),
    )


def _optional_id(value: Any) -> str | None:
    return None if value in (None, "") else str(value).strip()


def _money(payload: Mapping[str, Any], key: str) -> Decimal:
    """Money comes as decimal strings ("20.00"); absent or empty is zero."""
    value = payload.get(key)
    return Decimal("0.00") if value in (None, "") else to_money(value)


def _discount(payload: Mapping[str, Any]) -> Decimal:
    """`discount` is the order's whole discount (the newer example: discount 600.00 =
    discount_coupon 0.00 + discount_gateway 600.00); without it, the parts are added."""
    if payload.get("discount") not in (None, ""):
        return to_money(payload["discount"])
    return _money(payload, "discount_coupon") + _money(payload, "discount_gateway")


def _buyer(payload: Mapping[str, Any], customer: Mapping[str, Any], soft: Lenient) -> Buyer:
    """`customer` comes only with the read_customers scope; the order's `contact_*` fields
    carry the same buyer otherwise. `identification` is the CPF/CNPJ in Brazil."""
    return soft.buyer(
        name=customer.get("name") or payload.get("contact_name"),
        document=customer.get("identification") or payload.get("contact_identification"),
        email=customer.get("email") or payload.get("contact_email"),
        phone=customer.get("phone") or payload.get("contact_phone"),
    )


def _address(node: Any, soft: Lenient) -> Address:
    """`shipping_address`: `floor` is the complement, `locality` the bairro, `province` the
    state's name (São Paulo) or code."""
    if not isinstance(node, Mapping):
        soft.notes.append("no shipping address (a pickup order, or withheld)")
        return soft.address()
    return soft.address(
        street=node.get("address"),
        number=node.get("number"),
        complement=node.get("floor"),
        district=node.get("locality"),
        city=node.get("city"),
        state=node.get("province"),
        zip=node.get("zipcode"),
        country=node.get("country"),
    )


def _extra(payload: Mapping[str, Any]) -> dict[str, Any]:
    coupon = payload.get("coupon")
    coupons: list[Any] = coupon if isinstance(coupon, list) else []
    return {
        "token": payload.get("token"),
        "payment_status": payload.get("payment_status"),
        "shipping_status": payload.get("shipping_status"),
        "gateway": payload.get("gateway"),
        "storefront": payload.get("storefront"),
        "coupons": [c.get("code") for c in coupons if isinstance(c, Mapping)],
        "discount_coupon": payload.get("discount_coupon"),
        "discount_gateway": payload.get("discount_gateway"),
        "shipping_pickup_type": payload.get("shipping_pickup_type"),
        "shipping_tracking_number": payload.get("shipping_tracking_number"),
    }


def iso(moment: datetime) -> str:
    """A filter value: ISO 8601 in UTC with an explicit offset."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")
