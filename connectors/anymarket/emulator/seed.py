"""Deterministic data: the sandbox account's catalogue and generated orders."""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal
from typing import Any

from erpsync.connectors.anymarket.emulator.wire import order_json, product_json

#: (product id, title, [(sku id, title, partnerId, price)]); one SKU has no partnerId: the
#: seller never linked it, so erpsync must never write to it
CATALOGUE: tuple[tuple[int, str, tuple[tuple[int, str, str | None, str], ...]], ...] = (
    (
        9001,
        "Camiseta Básica",
        (
            (190011, "Camiseta Básica Azul P", "CAM-AZUL-P", "59.90"),
            (190012, "Camiseta Básica Azul M", "CAM-AZUL-M", "59.90"),
            (190013, "Camiseta Básica Preta M", "CAM-PRETA-M", "64.90"),
        ),
    ),
    (9002, "Caneca Cerâmica 300 ml", ((190021, "Caneca Branca", "CAN-300", "39.90"),)),
    (
        9003,
        "Mochila Urbana",
        (
            (190031, "Mochila Urbana Cinza", "MOC-CINZA", "189.00"),
            (190032, "Mochila Urbana Verde", None, "189.00"),
        ),
    ),
)

MARKETPLACES = ("MERCADO_LIVRE", "AMAZON", "MAGAZINE_LUIZA", "NETSHOES", "B2W")
#: the status mix of generated orders (index = order number modulo its length)
KINDS = ("PAID_WAITING_SHIP", "PENDING", "PAID_WAITING_SHIP", "CANCELED", "INVOICED", "CONCLUDED")
BUYERS = (
    {"name": "Maria Souza", "document": "529.982.247-25", "documentType": "CPF"},
    {"name": "João Lima", "document": "111.444.777-35", "documentType": "CPF"},
    {"name": "Padaria Boa Ltda", "document": "11.222.333/0001-81", "documentType": "CNPJ"},
)


def skus() -> list[dict[str, Any]]:
    return [
        {
            "id": sku_id,
            "title": title,
            "partnerId": partner,
            "price": float(price),
            "productId": product_id,
            "productTitle": product_title,
        }
        for product_id, product_title, entries in CATALOGUE
        for sku_id, title, partner, price in entries
    ]


def products(catalogue: list[dict[str, Any]], amounts: dict[int, int]) -> list[dict[str, Any]]:
    """The catalogue's SKUs grouped by product, in product order, with their amounts."""
    by_product: dict[int, list[dict[str, Any]]] = {}
    titles: dict[int, str] = {}
    for sku in catalogue:
        by_product.setdefault(sku["productId"], []).append(
            {**sku, "amount": amounts.get(sku["id"], 0)}
        )
        titles[sku["productId"]] = sku["productTitle"]
    return [product_json(pid, titles[pid], by_product[pid]) for pid in sorted(by_product)]


def build_order(
    rng: random.Random,
    order_id: int,
    created_at: datetime,
    *,
    index: int,
    catalogue: list[dict[str, Any]],
) -> dict[str, Any]:
    marketplace = MARKETPLACES[index % len(MARKETPLACES)]
    linked = [s for s in catalogue if s["partnerId"]][:5]
    lines = []
    for sku in rng.sample(linked, rng.choice((1, 1, 2))):
        lines.append((sku, rng.choice((1, 1, 2, 3)), Decimal(str(sku["price"]))))
    buyer = dict(BUYERS[index % len(BUYERS)])
    buyer.update(email=f"comprador{index}@example.com.br", phone="11987654321")
    return order_json(
        order_id,
        marketplace=marketplace,
        marketplace_number=f"{2000009000000000 + order_id}",
        status=KINDS[index % len(KINDS)],
        created_at=created_at,
        lines=lines,
        freight=Decimal(rng.choice(("0", "15.90", "23.45"))),
        discount=Decimal(rng.choice(("0", "0", "5.00"))),
        buyer=buyer,
        # every seventh order ships from the marketplace's own warehouse (ML Full, FBA)
        fulfillment=index % 7 == 6,
    )
