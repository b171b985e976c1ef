"""The emulator's seed data: the sandbox catalogue, and deterministic Orders v0 orders."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from erpsync.connectors.amazon.emulator.wire import BRAZIL_MARKETPLACE_ID, iso

#: the sandbox seller: its catalogue (SKUs, ASINs, FBA or not) and buyers (valid CPF/CNPJ)
SEED_FILE = Path(__file__).with_name("sandbox.json")

#: (OrderStatus, FulfillmentChannel) of the n-th seeded order, cycling: every status, one FBA
STATUS_CYCLE: tuple[tuple[str, str], ...] = (
    ("Unshipped", "MFN"),
    ("Shipped", "MFN"),
    ("Pending", "MFN"),
    ("Canceled", "MFN"),
    ("PartiallyShipped", "MFN"),
    ("InvoiceUnconfirmed", "MFN"),
    ("PendingAvailability", "MFN"),
    ("Shipped", "AFN"),
    ("Unfulfillable", "MFN"),
    ("Unshipped", "MFN"),
)
#: statuses whose full ShippingAddress Amazon shares (with an RDT): from Unshipped on
ADDRESS_STATUSES = frozenset({"Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed"})
#: statuses Amazon sends without OrderTotal [R]: not priced yet, or no longer payable
UNPRICED_STATUSES = frozenset({"Pending", "PendingAvailability", "Canceled"})


def load_seed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    return data


def money(value: Decimal) -> dict[str, str]:
    return {"CurrencyCode": "BRL", "Amount": str(value.quantize(Decimal("0.01")))}


@dataclass
class EmulatedOrder:
    """One order as the emulator keeps it: the public part, and the PII an RDT unlocks."""

    order: dict[str, Any]
    buyer: dict[str, Any]
    address: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.order["AmazonOrderId"])

    @property
    def updated(self) -> datetime:
        return datetime.fromisoformat(self.order["LastUpdateDate"].replace("Z", "+00:00"))

    def render(self, data_elements: frozenset[str]) -> dict[str, Any]:
        """The Order object getOrders returns, with PII only for the RDT's dataElements."""
        order = dict(self.order)
        full = "shippingAddress" in data_elements and order["OrderStatus"] in ADDRESS_STATUSES
        if full:
            order["ShippingAddress"] = dict(self.address)
        else:
            # [R] without an RDT (or before Unshipped) only the non-PII part of the address
            keys = ("City", "StateOrRegion", "PostalCode", "CountryCode")
            order["ShippingAddress"] = {k: self.address[k] for k in keys}
        if "buyerInfo" in data_elements:
            order["BuyerInfo"] = dict(self.buyer)
        return order


def make_order(
    index: int,
    *,
    seed: int,
    updated: datetime,
    catalog: list[dict[str, Any]],
    buyers: list[dict[str, Any]],
) -> EmulatedOrder:
    """The ``index``-th seeded order, the same for the same (seed, index)."""
    rng = random.Random(seed * 1_000_003 + index)
    status, channel = STATUS_CYCLE[index % len(STATUS_CYCLE)]
    order_id = f"70{rng.randint(1, 9)}-{rng.randint(0, 9_999_999):07d}-{index:07d}"
    sellable = [p for p in catalog if p["fba"] == (channel == "AFN")]
    lines = 3 if index % 10 == 9 else 2 if index % 10 == 0 else 1
    products = rng.sample(sellable, k=min(lines, len(sellable)))
    items = [_item(n, p, rng) for n, p in enumerate(products)]
    if index % 10 == 1:  # a bundle price that does not divide by the quantity: 3 for 100.00
        items[0]["QuantityOrdered"] = 3
        items[0]["ItemPrice"] = money(Decimal("100.00"))
    if index % 10 == 0:
        items[0]["PromotionDiscount"] = money(Decimal("10.00"))
        items[0]["PromotionIds"] = ["BR-PROMO-10"]
    _ship_counts(items, status)
    buyer = buyers[rng.randrange(len(buyers))]
    purchased = updated - timedelta(hours=rng.randint(1, 30), minutes=rng.randint(0, 59))
    order = _order(order_id, status, channel, purchased, updated, items)
    if buyer["kind"] == "CNPJ":
        order["IsBusinessOrder"] = True
    return EmulatedOrder(order, _buyer_info(buyer, rng), _address(buyer), items)


def _item(n: int, product: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    quantity = rng.randint(1, 3)
    return {
        "ASIN": product["asin"],
        "SellerSKU": product["sku"],
        "OrderItemId": f"{rng.randrange(10**13, 10**14)}",
        "Title": product["title"],
        "QuantityOrdered": quantity,
        "QuantityShipped": 0,
        "ProductInfo": {"NumberOfItems": "1"},
        # ItemPrice is the line total (unit x quantity), not the unit price
        "ItemPrice": money(Decimal(product["price"]) * quantity),
        "ItemTax": money(Decimal(0)),
        "ShippingPrice": money(Decimal("19.90") if n == 0 else Decimal(0)),
        "ShippingTax": money(Decimal(0)),
        "ShippingDiscount": money(Decimal(0)),
        "PromotionDiscount": money(Decimal(0)),
        "IsGift": "false",
        "ConditionId": "New",
        "ConditionSubtypeId": "New",
        "IsTransparency": False,
        "SerialNumberRequired": False,
        "BuyerRequestedCancel": {"IsBuyerRequestedCancel": "false", "BuyerCancelReason": ""},
    }


def _ship_counts(items: list[dict[str, Any]], status: str) -> None:
    for n, item in enumerate(items):
        shipped = status in ("Shipped", "InvoiceUnconfirmed") or (
            status == "PartiallyShipped" and n == 0
        )
        item["QuantityShipped"] = item["QuantityOrdered"] if shipped else 0
    if status == "PartiallyShipped" and len(items) == 1:
        # one line: some of its units went, not all (else the order would be Shipped)
        if items[0]["QuantityOrdered"] < 2:
            items[0]["QuantityOrdered"] = 2
            unit = Decimal(items[0]["ItemPrice"]["Amount"])
            items[0]["ItemPrice"] = money(unit * 2)
        items[0]["QuantityShipped"] = 1


def _order(
    order_id: str,
    status: str,
    channel: str,
    purchased: datetime,
    updated: datetime,
    items: list[dict[str, Any]],
) -> dict[str, Any]:
    def total(key: str) -> Decimal:
        return sum((Decimal(i[key]["Amount"]) for i in items if key in i), Decimal(0))

    shipped = sum(int(i["QuantityShipped"]) for i in items)
    ordered = sum(int(i["QuantityOrdered"]) for i in items)
    order: dict[str, Any] = {
        "AmazonOrderId": order_id,
        "SellerOrderId": order_id,
        "PurchaseDate": iso(purchased),
        "LastUpdateDate": iso(updated),
        "OrderStatus": status,
        "FulfillmentChannel": channel,
        "SalesChannel": "Amazon.com.br",
        "ShipServiceLevel": "Std BR Dom",
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": ordered - shipped,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["CreditCard"],
        "MarketplaceId": BRAZIL_MARKETPLACE_ID,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": iso(purchased + timedelta(days=1)),
        "LatestShipDate": iso(purchased + timedelta(days=3)),
        "IsBusinessOrder": False,
        "IsPrime": channel == "AFN",
        "IsPremiumOrder": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "ElectronicInvoiceStatus": "NotRequired" if channel == "AFN" else "NotFound",
    }
    if status not in UNPRICED_STATUSES:
        grand = total("ItemPrice") + total("ShippingPrice") - total("PromotionDiscount")
        order["OrderTotal"] = money(grand - total("ShippingDiscount"))
    return order


def _buyer_info(buyer: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    alias = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))
    info: dict[str, Any] = {
        "BuyerEmail": f"{alias}@marketplace.amazon.com.br",  # Amazon's anonymised relay address
        "BuyerName": buyer["name"],
        "BuyerTaxInfo": {
            "TaxingRegion": "BR",
            "TaxClassifications": [{"Name": buyer["kind"], "Value": buyer["document"]}],
        },
    }
    if buyer["kind"] == "CNPJ":
        info["BuyerTaxInfo"]["CompanyLegalName"] = buyer["name"]
    return info


def _address(buyer: dict[str, Any]) -> dict[str, Any]:
    line1 = f"{buyer['street']}, {buyer['number']}"
    return {
        "Name": buyer["name"],
        "AddressLine1": line1,
        "AddressLine2": buyer["complement"],
        "City": buyer["city"],
        "District": buyer["neighborhood"],
        "StateOrRegion": buyer["state"],
        "Municipality": buyer["city"],
        "PostalCode": buyer["zip"],
        "CountryCode": "BR",
        "Phone": buyer["phone"],
        "AddressType": "Residential",
        "ExtendedFields": {
            "StreetName": buyer["street"],
            "StreetNumber": buyer["number"],
            "Complement": buyer["complement"],
            "Neighborhood": buyer["neighborhood"],
        },
    }
