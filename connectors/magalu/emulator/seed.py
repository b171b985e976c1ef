"""Deterministic Magalu sandbox data: the catalogue and generated orders.

The emulator serves what these builders return. Shapes follow the doc examples
(https://developers.magalu.com/docs/plataforma-do-seller-pedidos/get_order.en/ and
.../seller-produtos/get_skus_list/; the small shapes are in wire.py); customers, SKUs, CEPs and
UFs come from catalog.json beside this module (valid CPF/CNPJ check digits, real cities).
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from erpsync.connectors.magalu.emulator.wire import iso, money_json

CATALOG_PATH = Path(__file__).with_name("catalog.json")

#: one of each, cycled, so ~10 sandbox orders cover every status and the odd shapes
KINDS = (
    "new",
    "approved",
    "invoiced",
    "shipped",
    "finished",
    "cancelled",
    "multi_delivery",
    "frozen",
    "fulfillment",
    "normalizer_1000",
)

#: (order status, delivery statuses) per kind
_STATUSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "new": ("new", ("new",)),
    "approved": ("approved", ("approved",)),
    "invoiced": ("approved", ("invoiced",)),
    "shipped": ("approved", ("shipped",)),
    "finished": ("finished", ("delivered",)),
    "cancelled": ("cancelled", ("cancelled",)),
    "multi_delivery": ("approved", ("shipped", "invoiced")),
    "frozen": ("approved", ("frozen",)),
    "fulfillment": ("approved", ("shipped",)),
    "normalizer_1000": ("approved", ("approved",)),
}


ENTREGAS_PROVIDER = {
    "id": "magalu_entregas",
    "name": "magalu_entregas",
    "description": "Magalu Entregas",
    "extras": {},
}
#: a delivery the seller ships with its own carrier. The doc examples show Magalu Entregas only;
#: this provider's name is ours [U] (any provider but Magalu Entregas is the seller's)
OWN_PROVIDER = {
    "id": "seller",
    "name": "seller",
    "description": "Entrega própria do seller",
    "extras": {},
}
OWN_KINDS = frozenset({"approved", "invoiced"})


def load_catalog() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    return data


def build_order(
    rng: random.Random,
    catalog: dict[str, Any],
    *,
    number: int,
    kind: str,
    updated_at: datetime,
) -> dict[str, Any]:
    """One order of ``kind`` (see KINDS) updated at ``updated_at``, fully deterministic."""
    status, delivery_statuses = _STATUSES[kind]
    norm = 1000 if kind == "normalizer_1000" else 100
    scale = norm // 100
    customer = rng.choice(catalog["customers"])
    code = str(1_500_170_000_000_000 + number)
    purchased = updated_at - timedelta(minutes=rng.randint(30, 48 * 60))
    # every second round of the kinds, approved and invoiced orders ship by the seller's own
    # carrier (tracking goes back through /shippings); the rest by Magalu Entregas
    own = kind in OWN_KINDS and ((number - 1) // len(KINDS)) % 2 == 1
    deliveries = []
    for n, delivery_status in enumerate(delivery_statuses, start=1):
        items = _items(rng, catalog, norm, scale)
        freight = rng.choice((0, 990, 1590, 2290)) * scale
        network = {"id": "fulfillment", "description": "malha-fulfillment"}
        deliveries.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "code": f"{code}-{n}",
                "status": delivery_status,
                "seller": catalog["seller"],
                "amounts": money_json(
                    sum(i["amounts"]["total"] for i in items) + freight,
                    norm,
                ),
                "items": items,
                "shipping": {
                    "recipient": {
                        "name": customer["name"],
                        "document_number": customer["document_number"],
                        "address": {**customer["address"], "country": "BR", "reference": None},
                    },
                    "provider": OWN_PROVIDER if own else ENTREGAS_PROVIDER,
                    "logistic_network": network if kind == "fulfillment" else None,
                },
            }
        )
    items_total = sum(i["amounts"]["total"] for d in deliveries for i in d["items"])
    freight_total = sum(d["amounts"]["total"] for d in deliveries) - items_total
    discount = min(rng.choice((0, 0, 500, 1000)) * scale, items_total // 2)
    total = items_total + freight_total - discount
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "code": code,
        "status": status,
        "created_at": iso(purchased),
        "purchased_at": iso(purchased),
        "approved_at": None if status == "new" else iso(purchased + timedelta(minutes=4)),
        "updated_at": iso(updated_at),
        "channel": catalog["channel"],
        "customer": {
            "name": customer["name"],
            "customer_type": customer["customer_type"],
            "document_number": customer["document_number"],
            "email": customer["email"],
            "birth_date": None,
            "phones": [
                {
                    "area_code": customer["phone"][0],
                    "country_code": "55",
                    "number": customer["phone"][1],
                    "type": "mobile",
                }
            ],
        },
        "payments": [
            {
                "gateway": {"document": "58159109000156"},
                "description": "Pix",
                "extras": {},
                "installments": 1,
                "method": "pix",
                "currency": "BRL",
                "normalizer": norm,
                "amount": total,
            }
        ],
        "amounts": money_json(
            total,
            norm,
        )
        | {
            "discount": money_json(discount, norm, shared=0),
            "freight": money_json(freight_total, norm, shared=0),
        },
        "deliveries": deliveries,
    }


def _items(rng: random.Random, catalog: dict[str, Any], norm: int, scale: int) -> list[Any]:
    chosen = rng.sample(catalog["skus"], k=rng.randint(1, 3))
    items = []
    for seq, entry in enumerate(chosen, start=1):
        quantity = rng.randint(1, 3)
        # normalizer 1000 orders carry sub-cent prices, as that normalizer allows
        unit = entry["price"] * scale + (5 if scale > 1 else 0)
        items.append(
            {
                "sequencial": str(seq),
                "info": {
                    "sku": entry["sku"],
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "name": entry["title"],
                    "description": entry["title"],
                    "images": [],
                    "attributes": [],
                    "extras": {},
                },
                "quantity": quantity,
                "unit_price": {"currency": "BRL", "normalizer": norm, "value": unit},
                "amounts": money_json(unit * quantity, norm)
                | {
                    "discount": money_json(0, norm, shared=0),
                    "freight": money_json(0, norm, shared=0),
                },
            }
        )
    return items
