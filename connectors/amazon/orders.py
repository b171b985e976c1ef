"""Orders: an Orders v0 order and its items -> canonical Order. Pure: no I/O, no connector import.

The order payload the connector stores (and quarantine replays) is self-contained::

    {"order": <Orders v0 Order>, "items": [<OrderItem>, ...], "restricted_data": bool}

``restricted_data`` says whether the order was read with a Restricted Data Token, i.e. whether
Amazon could have sent the buyer and the full shipping address at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from erpsync.domain import (
    AMAZON,
    CENTS,
    Address,
    Buyer,
    Order,
    OrderItem,
    OrderStatus,
    sale_ref,
    to_utc,
)
from erpsync.lenient import Lenient

#: the platform's display name, stored on every order
PLATFORM = "Amazon"

# Orders v0 OrderStatus -> ours. Values and meanings from the getOrders `OrderStatuses` text in
# models/orders-api-model/ordersV0.json (amzn/selling-partner-api-models).
STATUSES: Mapping[str, OrderStatus] = {
    # pre-order placed, payment not authorised, release date in the future: reserve stock
    "PendingAvailability": OrderStatus.PENDING,
    # placed, payment not authorised yet: reserve, Amazon may still cancel it
    "Pending": OrderStatus.PENDING,
    # payment authorised, ready to ship, nothing shipped: this is the sale (deduct stock)
    "Unshipped": OrderStatus.PAID,
    # some but not all items shipped: still paid-and-open; "shipped" would claim it is done
    "PartiallyShipped": OrderStatus.PAID,
    # every item shipped
    "Shipped": OrderStatus.SHIPPED,
    # every item shipped; only the seller's invoice confirmation to Amazon is missing, which
    # is paperwork, not fulfilment: shipped, not "invoiced" (ours means invoiced, not shipped)
    "InvoiceUnconfirmed": OrderStatus.SHIPPED,
    # cancelled by the buyer, the seller or Amazon
    "Canceled": OrderStatus.CANCELLED,
    # Multi-Channel Fulfillment order that cannot be fulfilled: it will never ship, so any
    # reservation must be released exactly as for a cancellation
    "Unfulfillable": OrderStatus.CANCELLED,
}

#: FulfillmentChannel: AFN = Fulfillment by Amazon (FBA), MFN = merchant fulfilled
FBA_CHANNEL = "AFN"
MFN_CHANNEL = "MFN"
#: the logistic type of an Easy Ship order's shipment: merchant-fulfilled, but Amazon's carrier
#: collects it (Orders v0 sends EasyShipShipmentStatus "only for Amazon Easy Ship orders")
EASY_SHIP = "EasyShip"
#: getOrders refuses a LastUpdatedBefore later than now - 2 min (ordersV0 model, parameter text)
ORDERS_LAG = timedelta(minutes=2)

WITHHELD_NO_RDT = "buyer and address withheld: restricted_data is off"
WITHHELD_NOT_YET = "shipping address not released yet: Amazon shares it once the order is Unshipped"
NO_PRICES = "item prices not available yet: Amazon sends ItemPrice once the order is priced"
#: statuses before Amazon releases the shipping address (it shares it from Unshipped on)
_NOT_RELEASED = frozenset({"Pending", "PendingAvailability"})


def iso(when: datetime) -> str:
    """SP-API query time: ISO 8601 UTC, whole seconds (floored, so a bound never moves later)."""
    return to_utc(when).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def orders_query(marketplace_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    """getOrders filters for one window, 100 orders a page (the model's maximum)."""
    return {
        "MarketplaceIds": marketplace_id,
        "LastUpdatedAfter": iso(start),
        "LastUpdatedBefore": iso(end),
        "MaxResultsPerPage": 100,
    }


def checkpoint(body: Mapping[str, Any], end: datetime) -> datetime:
    """Amazon's ``LastUpdatedBefore`` of the last getOrders page, else the window's (lagged) end."""
    before = (body.get("payload") or {}).get("LastUpdatedBefore")
    return to_utc(before) if before else end


def amount(money: Mapping[str, Any] | None) -> Decimal | None:
    """An SP-API Money object ({CurrencyCode, Amount: "12.34"}) as an exact Decimal."""
    if not money or money.get("Amount") in (None, ""):
        return None
    return Decimal(str(money["Amount"]))


def _sum(items: Iterable[Mapping[str, Any]], key: str) -> Decimal:
    return sum((amount(item.get(key)) or Decimal(0) for item in items), Decimal(0))


def unit_price(line_total: Decimal, quantity: int) -> tuple[Decimal, bool]:
    """Unit price from Amazon's ItemPrice, which is the LINE total (unit x quantity).

    Returns (unit price rounded half-even to cents, whether the division was exact). The domain
    keeps unit prices to 2 places, so 100.00 / 3 cannot be exact: we keep the order's money
    exact instead (items_total is the sum of ItemPrice, never of rounded units) and record the
    exact line total in ``Order.extra["line_totals"]`` for invoicing (NF-e vProd).
    """
    unit = line_total / quantity
    rounded = unit.quantize(CENTS, rounding=ROUND_HALF_EVEN)
    return rounded, rounded * quantity == line_total


def order_from_payload(payload: Mapping[str, Any], *, connector: str) -> Order:
    """Map one stored payload (order + its items) to an Order. Pure; raises on bad data."""
    order: Mapping[str, Any] = payload["order"]
    raw_items: Sequence[Mapping[str, Any]] = payload.get("items") or []
    status_raw = str(order["OrderStatus"])
    status = STATUSES[status_raw]
    notes: list[str] = []
    items, line_totals, priced = _items(raw_items, cancelled=status is OrderStatus.CANCELLED)
    if not priced and status is not OrderStatus.CANCELLED:
        notes.append(NO_PRICES)
    items_total = _sum(raw_items, "ItemPrice")
    shipping = _sum(raw_items, "ShippingPrice")
    discount = _sum(raw_items, "PromotionDiscount") + _sum(raw_items, "ShippingDiscount")
    taxes = _sum(raw_items, "ItemTax") + _sum(raw_items, "ShippingTax")
    # OrderTotal is what the buyer pays; Amazon omits it on some Pending/Canceled orders, then
    # the same sum is rebuilt from the lines (BR prices include taxes, so ItemTax is usually 0)
    total = amount(order.get("OrderTotal"))
    if total is None:
        total = items_total + shipping + taxes - discount
    soft = Lenient(notes=notes)
    buyer, address = _buyer_and_address(order, bool(payload.get("restricted_data")), soft)
    extra = {**_extra(order, raw_items), **soft.extra}
    if line_totals:
        extra["line_totals"] = line_totals
    return Order(
        connector=connector,
        platform=PLATFORM,
        external_id=str(order["AmazonOrderId"]),
        number=str(order["AmazonOrderId"]),
        status=status,
        channel_status=status_raw,
        created_at=order["PurchaseDate"],
        updated_at=order["LastUpdateDate"],
        currency=_currency(order, raw_items),
        items_total=items_total,
        shipping_cost=shipping,
        discount=discount,
        total=total,
        buyer=buyer,
        shipping_address=address,
        items=tuple(items),
        fulfilled_by_channel=order.get("FulfillmentChannel") == FBA_CHANNEL,
        extra=extra,
        notes=tuple(notes),
        sale_ref=sale_ref(AMAZON, order["AmazonOrderId"]),
    )


def _items(
    raw_items: Sequence[Mapping[str, Any]], *, cancelled: bool
) -> tuple[list[OrderItem], dict[str, str], bool]:
    """OrderItems, exact line totals of lines whose unit price had to round, all priced?"""
    live = [i for i in raw_items if int(i.get("QuantityOrdered") or 0) > 0]
    # [R] a cancelled order can come back with QuantityOrdered 0 on every line; keep its lines
    # (quantity 1) so the order still says what was bought. Cancellation moves stock by what
    # the ledger booked for the order, never by these quantities.
    keep_zero = cancelled and not live
    chosen = list(raw_items) if keep_zero else live
    items: list[OrderItem] = []
    line_totals: dict[str, str] = {}
    priced = True
    for raw in chosen:
        quantity = max(int(raw.get("QuantityOrdered") or 0), 1)
        line = amount(raw.get("ItemPrice"))
        if line is None:
            priced = False
            line = Decimal("0.00")
        price, exact = unit_price(line, quantity)
        if not exact:
            line_totals[str(raw.get("OrderItemId"))] = str(line)
        items.append(
            OrderItem(
                sku=raw.get("SellerSKU"),
                channel_item_id=raw.get("ASIN"),
                variation_id=None,  # every Amazon variation is its own seller SKU
                title=raw.get("Title"),
                quantity=quantity,
                unit_price=price,
            )
        )
    if not items:
        raise ValueError("order has no items with a quantity")
    return items, line_totals, priced


def _currency(order: Mapping[str, Any], raw_items: Sequence[Mapping[str, Any]]) -> str:
    for money in [order.get("OrderTotal")] + [i.get("ItemPrice") for i in raw_items]:
        if money and money.get("CurrencyCode"):
            return str(money["CurrencyCode"])
    return "BRL"


def _buyer_and_address(
    order: Mapping[str, Any], restricted_data: bool, soft: Lenient
) -> tuple[Buyer, Address]:
    """Buyer and address, read softly: a bad document, CEP or state is empty plus a note."""
    info: Mapping[str, Any] = order.get("BuyerInfo") or {}
    ship: Mapping[str, Any] = order.get("ShippingAddress") or {}
    ext: Mapping[str, Any] = ship.get("ExtendedFields") or {}
    if not restricted_data:
        soft.notes.append(WITHHELD_NO_RDT)
    elif not ship.get("AddressLine1") and not ext.get("StreetName"):
        soft.notes.append(_not_received(str(order["OrderStatus"])))
    document, kind = _tax_document(info.get("BuyerTaxInfo") or {})
    buyer = soft.buyer(
        name=info.get("BuyerName") or ship.get("Name"),
        document=document,
        document_type=kind,
        email=info.get("BuyerEmail"),
        phone=ship.get("Phone"),
    )
    address = soft.address(
        # BR addresses carry structured ExtendedFields; AddressLine1..3 are the flat fallback
        street=ext.get("StreetName") or ship.get("AddressLine1"),
        number=ext.get("StreetNumber"),
        complement=ext.get("Complement") or ship.get("AddressLine2"),
        district=ext.get("Neighborhood") or ship.get("District") or ship.get("County"),
        city=ship.get("City"),
        state=ship.get("StateOrRegion"),  # "SP" or the state's name: documents.uf takes both
        zip=ship.get("PostalCode"),
        country=ship.get("CountryCode"),
    )
    return buyer, address


def _not_received(status: str) -> str:
    """Why an order read with an RDT has no street, worded by the order's actual state."""
    if status in _NOT_RELEASED:
        return WITHHELD_NOT_YET
    if STATUSES.get(status) is OrderStatus.CANCELLED:
        return f"no shipping address: Amazon does not share it for a {status} order"
    return (
        f"shipping address not received: Amazon sent none for this {status} order, "
        "though it was read with a Restricted Data Token"
    )


def _tax_document(tax_info: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The buyer's document and its classification name, from BuyerTaxInfo.TaxClassifications.

    [U] The classification names Amazon uses for BR are not documented (the models only say
    {Name: "type of tax", Value: "buyer's tax identifier"}); BuyerTaxInfo is often null
    (amzn/selling-partner-api-models#235). We take a classification named CPF or CNPJ, else
    any value with 11 or 14 characters; erpsync.lenient checks it (a bad one is a note).
    """
    classes: Sequence[Mapping[str, Any]] = tax_info.get("TaxClassifications") or []
    named = [c for c in classes if str(c.get("Name", "")).upper() in ("CPF", "CNPJ")]
    for entry in named or classes:
        value = str(entry.get("Value") or "")
        if len("".join(ch for ch in value if ch.isalnum())) in (11, 14):
            return value, (str(entry["Name"]) if named else None)
    return None, None


def _extra(order: Mapping[str, Any], raw_items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    keys = {
        "marketplace_id": "MarketplaceId",
        "sales_channel": "SalesChannel",
        "fulfillment_channel": "FulfillmentChannel",
        "order_type": "OrderType",
        "seller_order_id": "SellerOrderId",
        "ship_service_level": "ShipServiceLevel",
        "latest_ship_date": "LatestShipDate",
        "electronic_invoice_status": "ElectronicInvoiceStatus",
        "is_prime": "IsPrime",
        "is_business_order": "IsBusinessOrder",
        "easy_ship_status": "EasyShipShipmentStatus",
    }
    extra: dict[str, Any] = {ours: order[key] for ours, key in keys.items() if key in order}
    if order.get("EasyShipShipmentStatus"):
        # the order-level shipment, as erpsync.postsale.shipments makes it for Amazon, but of
        # type EasyShip: the seller hands it to Amazon's carrier, no tracking goes back
        extra["shipments"] = [
            {
                "shipment_ref": str(order["AmazonOrderId"]),
                "logistic_type": EASY_SHIP,
                "status": str(order["OrderStatus"]),
            }
        ]
    # confirmShipment needs each line's OrderItemId; SKU -> OrderItemId keeps them at hand
    extra["order_item_ids"] = {
        str(i.get("SellerSKU")): str(i["OrderItemId"]) for i in raw_items if "OrderItemId" in i
    }
    promotions = sorted({p for i in raw_items for p in i.get("PromotionIds") or []})
    if promotions:
        extra["promotion_ids"] = promotions
    return extra
