"""Mercado Livre JSON shapes the emulator serves: orders, payments, shipments, billing info.

Field names and values follow the public docs: orders and their statuses
(developers.mercadolivre.com.br/pt_br/gerenciamento-de-vendas), billing info (pt-br/faturamento),
shipments in the `x-format-new` format (pt_br/gerenciamento-de-envios: `logistic`, `destination`,
`lead_time`; no `order_id` since 2025-10 [R]).

The emulator is a witness independent of the connector: nothing here imports its mapping.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from starlette.responses import JSONResponse

SELLER_ID = 241910555
#: Brasília time, as ML writes most of its dates
BRT = timezone(timedelta(hours=-3))
#: what the shipments page's template shows for a hidden address field
MASK = "XXXXXXX"
#: destination fields hidden until the order is paid (ref: pt_br/gerenciamento-de-envios: "O
#: endereço do comprador em destination ficará ofuscado até que o pagamento do pedido seja
#: confirmado"; the template masks address_line, street_name, street_number, comment, zip_code)
MASKED_FIELDS = ("address_line", "street_name", "street_number", "comment", "zip_code")
#: order statuses before payment: the destination is still masked
UNPAID = frozenset({"confirmed", "payment_required", "payment_in_process", "partially_paid"})


def ml_time(moment: datetime) -> str:
    """ML's usual form: milliseconds and the -03:00 offset (`last_updated`, `date_created`)."""
    return moment.astimezone(BRT).isoformat(timespec="milliseconds")


def utc_time(moment: datetime) -> str:
    """`date_last_updated`'s form in the documented search result: UTC with "Z", e.g.
    2020-02-14T02:55:49.811Z (ref: pt_br/gerenciamento-de-vendas, search example)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Buyer:
    id: int
    nickname: str
    first_name: str
    last_name: str
    doc_type: str  # "CPF" | "CNPJ"
    doc_number: str
    city: tuple[str, str, str, str, str, str]
    street_number: str


#: payment status per order status, as ML reports them on `payments[]`
_PAYMENT_STATUS = {
    "confirmed": None,
    "payment_required": ("pending", "pending_waiting_transfer"),
    "payment_in_process": ("in_process", "pending_review_manual"),
    "partially_paid": ("approved", "accredited"),
    "paid": ("approved", "accredited"),
    "partially_refunded": ("approved", "partially_refunded"),
    "pending_cancel": ("approved", "accredited"),
    "cancelled": ("refunded", "refunded"),
    "invalid": ("rejected", "cc_rejected_high_risk"),
}
_SHIPMENT_FOR_UNPAID = ("pending", "buffered")


@dataclass(frozen=True)
class Line:
    """One order line: which listing, how many, at what price."""

    item_id: str
    title: str
    unit_price: float
    quantity: int = 1
    variation_id: int | None = None
    sku: str | None = None
    variation: tuple[tuple[str, str], ...] = ()  # (attribute name, value)
    legacy_sku: str | None = None  # seller_custom_field, for items without SELLER_SKU


@dataclass(frozen=True)
class OrderSpec:
    """Everything that makes one sample order differ from another."""

    order_id: int
    status: str
    lines: tuple[Line, ...]
    buyer: Buyer
    updated: datetime
    created: datetime
    shipment_id: int | None
    shipment_status: tuple[str, str | None] = ("ready_to_ship", "invoice_pending")
    logistic_type: str = "drop_off"
    shipping_cost: float = 0.0
    pack_id: int | None = None
    coupon: float = 0.0
    billing_info_id: str | None = None
    #: `last_updated` when it differs from `updated` (`date_last_updated`): the documented
    #: search result has last_updated months older than date_last_updated
    record_updated: datetime | None = None


def order_json(spec: OrderSpec) -> dict[str, Any]:
    """An order as `GET /orders/search` returns it in `results` (and `GET /orders/{id}`)."""
    total = round(sum(line.unit_price * line.quantity for line in spec.lines), 2)
    payments = _payments(spec, total)
    paid = sum(p["total_paid_amount"] for p in payments if p["status"] == "approved")
    tags = []
    if spec.status in ("paid", "partially_refunded"):
        tags = ["paid", "delivered" if spec.shipment_status[0] == "delivered" else "not_delivered"]
    if spec.pack_id:
        tags.append("pack_order")
    buyer: dict[str, Any] = {
        "id": spec.buyer.id,
        "nickname": spec.buyer.nickname,
        "first_name": spec.buyer.first_name,
        "last_name": spec.buyer.last_name,
    }
    if spec.billing_info_id:
        buyer["billing_info"] = {"id": spec.billing_info_id}
    return {
        "id": spec.order_id,
        "date_created": ml_time(spec.created),
        # both update fields, as the documented search result has them; the search filters on
        # date_last_updated (ref: pt_br/gerenciamento-de-vendas)
        "date_last_updated": utc_time(spec.updated),
        "last_updated": ml_time(spec.record_updated or spec.updated),
        "date_closed": ml_time(spec.created) if spec.status != "confirmed" else None,
        "expiration_date": ml_time(spec.created + timedelta(days=28)),
        "status": spec.status,
        "status_detail": None,
        "pack_id": spec.pack_id,
        "pickup_id": None,
        "fulfilled": None,
        "comment": None,
        "manufacturing_ending_date": None,
        "order_request": {"change": None, "return": None},
        "mediations": [],
        "order_items": [_order_item(line) for line in spec.lines],
        "total_amount": total,
        "paid_amount": round(paid, 2),
        "coupon": {"id": "CUPOM10" if spec.coupon else None, "amount": spec.coupon},
        "currency_id": "BRL",
        "payments": payments,
        "shipping": {"id": spec.shipment_id},
        "buyer": buyer,
        "seller": {"id": SELLER_ID},
        "feedback": {"buyer": None, "seller": None},
        "context": {"channel": "marketplace", "site": "MLB", "flows": []},
        "taxes": {"amount": None, "currency_id": None, "id": None},
        "cancel_detail": _cancel_detail(spec),
        "tags": tags,
        "static_tags": [],
    }


def _order_item(line: Line) -> dict[str, Any]:
    return {
        "item": {
            "id": line.item_id,
            "title": line.title,
            "category_id": "MLB1051",
            "variation_id": line.variation_id,
            "seller_custom_field": line.legacy_sku,
            "seller_sku": line.sku,
            "variation_attributes": [
                {"id": name.upper(), "name": name, "value_id": None, "value_name": value}
                for name, value in line.variation
            ],
            "warranty": "Garantia do vendedor: 90 dias",
            "condition": "new",
            "global_price": None,
            "net_weight": None,
        },
        "quantity": line.quantity,
        "requested_quantity": {"value": line.quantity, "measure": "unit"},
        "picked_quantity": None,
        "unit_price": line.unit_price,
        "full_unit_price": line.unit_price,
        "currency_id": "BRL",
        "manufacturing_days": None,
        "sale_fee": round(line.unit_price * 0.12, 2),
        "listing_type_id": "gold_special",
        "base_exchange_rate": None,
        "base_currency_id": None,
        "element_id": None,
        "discounts": None,
        "bundle": None,
        "compat_id": None,
        "stock": {"store_id": None, "node_id": None},
        "kit_instance_id": None,
        "gross_price": None,
    }


def _payments(spec: OrderSpec, total: float) -> list[dict[str, Any]]:
    state = _PAYMENT_STATUS[spec.status]
    if state is None:
        return []
    status, detail = state
    amount = round(total / 2, 2) if spec.status == "partially_paid" else total
    refunded = round(total * 0.2, 2) if spec.status == "partially_refunded" else 0
    pix = spec.order_id % 2 == 0
    return [
        {
            # MLB payment ids may be alphanumeric since 2024-06: ML sends them as strings
            "id": str(spec.order_id - 2000000000000000 + 90000000000),
            "order_id": spec.order_id,
            "payer_id": spec.buyer.id,
            "collector": {"id": SELLER_ID},
            "card_id": None,
            "site_id": "MLB",
            "reason": spec.lines[0].title,
            "payment_method_id": "pix" if pix else "master",
            "payment_type": "bank_transfer" if pix else "credit_card",
            "currency_id": "BRL",
            "installments": 1 if pix else 3,
            "operation_type": "regular_payment",
            "status": status,
            "status_code": None,
            "status_detail": detail,
            "transaction_amount": amount,
            "transaction_amount_refunded": refunded,
            "taxes_amount": 0,
            "shipping_cost": spec.shipping_cost,
            "coupon_amount": spec.coupon,
            "overpaid_amount": 0,
            "total_paid_amount": round(amount + spec.shipping_cost - spec.coupon, 2),
            "installment_amount": None if pix else round(amount / 3, 2),
            "authorization_code": None if pix else "014312",
            "date_created": ml_time(spec.created),
            "date_approved": ml_time(spec.created) if status == "approved" else None,
            "date_last_modified": ml_time(spec.updated),
        }
    ]


def _cancel_detail(spec: OrderSpec) -> dict[str, Any] | None:
    if spec.status not in ("cancelled", "pending_cancel"):
        return None
    return {
        "group": "buyer",
        "code": "buyer_cancel_express",
        "description": "Cancelamento solicitado pelo comprador",
        "requested_by": "buyer",
        "date": ml_time(spec.updated),
        "application_id": None,
    }


def shipment_json(spec: OrderSpec) -> dict[str, Any]:
    """`GET /shipments/{id}` with `x-format-new: true` (no order_id since 2025-10 [R])."""
    status, substatus = spec.shipment_status
    if spec.status in ("confirmed", "payment_required", "payment_in_process", "partially_paid"):
        status, substatus = _SHIPMENT_FOR_UNPAID
    elif spec.status in ("cancelled", "pending_cancel", "invalid"):
        status, substatus = "cancelled", None
    name, uf, state, cep, district, street = spec.buyer.city
    full_name = f"{spec.buyer.first_name} {spec.buyer.last_name}".strip()
    return {
        "id": spec.shipment_id,
        "status": status,
        "substatus": substatus,
        "date_created": ml_time(spec.created),
        "last_updated": ml_time(spec.updated),
        "declared_value": round(sum(x.unit_price * x.quantity for x in spec.lines), 2),
        "dimensions": {"height": 10, "width": 15, "length": 20, "weight": 450},
        "logistic": {"direction": "forward", "mode": "me2", "type": spec.logistic_type},
        "source": {"site_id": "MLB", "market_place": "MELI", "application_id": None},
        "tracking_number": f"BR{spec.shipment_id}" if status in ("shipped", "delivered") else None,
        "tracking_method": "Correios PAC",
        "destination": {
            "type": "buying_address",
            "receiver_id": spec.buyer.id,
            "receiver_name": full_name,
            "receiver_phone": "XXXXXXX",
            "comment": None,
            "shipping_address": {
                "address_id": 1000000 + spec.buyer.id % 100000,
                "address_line": f"{street} {spec.buyer.street_number}",
                "street_name": street,
                "street_number": spec.buyer.street_number,
                "comment": "Apto 12" if spec.buyer.id % 2 else None,
                "zip_code": cep,
                "city": {"id": f"BR-{uf}-01", "name": name},
                "state": {"id": f"BR-{uf}", "name": state},
                "country": {"id": "BR", "name": "Brasil"},
                "neighborhood": {"id": None, "name": district},
                "municipality": {"id": None, "name": None},
                "types": ["default_buying_address"],
            },
        },
        "lead_time": {
            "option_id": 9000000000 + (spec.shipment_id or 0) % 1000000,
            "shipping_method": {"id": 182, "name": "Normal", "type": "standard"},
            "currency_id": "BRL",
            "cost": spec.shipping_cost,
            "list_cost": spec.shipping_cost or 21.45,
            "cost_type": "charged" if spec.shipping_cost else "free",
        },
        "tags": [],
        "type": "forward",
    }


def masked(shipment: dict[str, Any]) -> dict[str, Any]:
    """The shipment as ML shows it before payment: destination address fields "XXXXXXX"."""
    hidden = copy.deepcopy(shipment)
    address = (hidden.get("destination") or {}).get("shipping_address")
    if address:
        address.update(dict.fromkeys(MASKED_FIELDS, MASK))
    return hidden


def billing_info_json(spec: OrderSpec) -> dict[str, Any]:
    """`GET /orders/billing-info/MLB/{billing_info_id}` (ref: pt-br/faturamento)."""
    name, uf, state, cep, district, street = spec.buyer.city
    business = spec.buyer.doc_type == "CNPJ"
    info: dict[str, Any] = {
        "name": spec.buyer.first_name,
        "last_name": spec.buyer.last_name or None,
        "identification": {"type": spec.buyer.doc_type, "number": spec.buyer.doc_number},
        "address": {
            "street_name": street,
            "street_number": spec.buyer.street_number,
            "city_name": name,
            "state": {"code": uf, "name": state},
            "zip_code": cep,
            "neighborhood": district,
            "country_id": "BR",
            "comment": None,
        },
        "taxes": {
            "taxpayer_type": {"description": "Contribuinte" if business else "Consumidor Final"},
            "inscriptions": {"state_registration": "110042490114" if business else None},
        },
    }
    return {"site_id": "MLB", "buyer": {"cust_id": spec.buyer.id, "billing_info": info}}


# --- errors ----------------------------------------------------------------------------------


def error(status: int, message: str, code: str, cause: list[Any] | None = None) -> JSONResponse:
    """ML's error envelope {message, error, status, cause[]}."""
    body = {"message": message, "error": code, "status": status, "cause": cause or []}
    return JSONResponse(body, status_code=status)


def validation_error(code: str, message: str, reference: str) -> JSONResponse:
    cause = {
        "department": "items",
        "cause_id": 300,
        "type": "error",
        "code": code,
        "references": [reference],
        "message": message,
    }
    return error(400, "Validation error", "validation_error", [cause])


def unauthorized() -> JSONResponse:
    """A missing, expired or unknown bearer token (ref: mercadolibre/api#69,
    iphousehq/mercadolibre-net-sdk#6)."""
    return error(401, "invalid_token", "not_found")
