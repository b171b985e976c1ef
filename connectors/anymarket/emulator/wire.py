"""Anymarket's JSON shapes, as its SDKs show them.

ref: AnyMarket/anymarket-sdk-java `dto/Order.java`, `OrderItemResource`, `BuyerResource`,
`ShippingResource`, `PaymentResource`; somosyampi/anymarket-php-sdk
`tests/ResponseSamples/Order/OrderGet.json`, `OrderFeed.json` (`[{"id", "token"}]`). Money is a
JSON number (BigDecimal); times are ISO 8601 with an offset (the hub answers in -03:00).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from starlette.responses import JSONResponse

BRT = timezone(timedelta(hours=-3))
#: feed entries per GET /v2/orders/feeds: the number is not documented; integrators read the
#: feed in a loop until it comes back empty, which is what a cap forces
FEED_PAGE = 50
MAX_LIMIT = 100

STATUSES = (
    "PENDING",
    "PAID_WAITING_SHIP",
    "INVOICED",
    "PAID_WAITING_DELIVERY",
    "CONCLUDED",
    "CANCELED",
)
#: the documented order of the lifecycle; CANCELED may follow any status but itself
NEXT: dict[str, frozenset[str]] = {
    "PENDING": frozenset({"PAID_WAITING_SHIP", "CANCELED"}),
    "PAID_WAITING_SHIP": frozenset({"INVOICED", "CANCELED"}),
    "INVOICED": frozenset({"PAID_WAITING_DELIVERY", "CANCELED"}),
    "PAID_WAITING_DELIVERY": frozenset({"CONCLUDED", "CANCELED"}),
    "CONCLUDED": frozenset({"CANCELED"}),
    "CANCELED": frozenset(),
}


def iso(moment: datetime) -> str:
    return moment.astimezone(BRT).isoformat(timespec="seconds")


def number(value: Decimal) -> float | int:
    """A BigDecimal as JSON writes it (129.9, 15)."""
    return int(value) if value == value.to_integral_value() else float(value)


def error(status: int, message: str, code: str | None = None) -> JSONResponse:
    """The error body (its exact shape is not documented; the SDKs read `message`)."""
    return JSONResponse({"code": code or str(status), "message": message}, status_code=status)


def order_json(
    order_id: int,
    *,
    marketplace: str,
    marketplace_number: str,
    status: str,
    created_at: datetime,
    lines: list[tuple[dict[str, Any], int, Decimal]],
    freight: Decimal,
    discount: Decimal,
    buyer: dict[str, Any],
    fulfillment: bool,
) -> dict[str, Any]:
    """One order as GET /v2/orders/{id} answers it. ``lines``: (sku, amount, unit)."""
    items = []
    gross = Decimal("0")
    for index, (sku, amount, unit) in enumerate(lines, start=1):
        line_total = unit * amount
        gross += line_total
        items.append(
            {
                "product": {"id": sku["productId"], "title": sku["productTitle"]},
                "sku": {"id": sku["id"], "title": sku["title"], "partnerId": sku["partnerId"]},
                "amount": amount,
                "unit": number(unit),
                "gross": number(line_total),
                "total": number(line_total),
                "discount": 0,
                "shippings": [{"id": index, "shippingtype": "Normal"}],
                "idInMarketPlace": f"{marketplace_number}-{index}",
                "orderItemId": f"{order_id}{index:02d}",
                "listingType": "gold_special" if marketplace == "MERCADO_LIVRE" else None,
            }
        )
    total = gross + freight - discount
    paid = status != "PENDING"
    return {
        "id": order_id,
        "accountName": "Loja Exemplo",
        "idAccount": 4242,
        "marketPlaceId": marketplace_number,
        "marketPlaceNumber": marketplace_number,
        "partnerId": None,
        "marketPlace": marketplace,
        "subChannel": None,
        "createdAt": iso(created_at),
        "paymentDate": iso(created_at + timedelta(minutes=7)) if paid else None,
        "cancelDate": None,
        "transmissionStatus": "OK",
        "status": status,
        "marketPlaceStatus": status.lower(),
        "fulfillment": fulfillment,
        "discount": number(discount),
        "freight": number(freight),
        "interestValue": 0,
        "gross": number(gross),
        "productGross": number(gross),
        "total": number(total),
        "invoice": None,
        "tracking": None,
        "buyer": buyer,
        "shipping": {
            "address": "Rua das Flores, 123",
            "street": "Rua das Flores",
            "number": "123",
            "neighborhood": "Centro",
            "city": "São Paulo",
            "state": "SP",
            "zipCode": "01001-000",
            "country": "Brasil",
            "countryAcronymNormalized": "BR",
            "receiverName": buyer["name"],
            "comment": "apto 4",
        },
        "payments": [
            {
                "method": "pix",
                "status": "Pago" if paid else "Pendente",
                "value": number(total),
                "installments": 1,
            }
        ],
        "items": items,
    }


def product_json(product_id: int, title: str, skus: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": product_id,
        "title": title,
        "skus": [
            {
                "id": sku["id"],
                "title": sku["title"],
                "partnerId": sku["partnerId"],
                "ean": sku.get("ean"),
                "price": sku.get("price"),
                "amount": sku.get("amount", 0),
            }
            for sku in skus
        ],
    }


def page(content: list[Any], *, base: str, offset: int, limit: int, total: int) -> dict[str, Any]:
    """A Spring HATEOAS page: `links` (rel next while more), `content`, `page`."""
    links = []
    if offset + limit < total:
        links.append({"rel": "next", "href": f"{base}?offset={offset + limit}&limit={limit}"})
    return {
        "links": links,
        "content": content,
        "page": {
            "size": limit,
            "totalElements": total,
            "totalPages": (total + limit - 1) // limit,
            "number": offset // limit,
        },
    }
