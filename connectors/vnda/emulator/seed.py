"""Deterministic sandbox data for the Vnda emulator: a catalogue and orders in the API's shapes
(the feed example's order fields, the items and address resources), every documented status
and the integrators' quirks (confirmed without paid_at, shipped_at left empty)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from erpsync.connectors.vnda.emulator import wire

#: (product name, reference, [(variant sku, variant name, price, quantity)])
CATALOGUE: tuple[tuple[str, str, tuple[tuple[str, str, str, int], ...]], ...] = (
    (
        "Camiseta Básica",
        "CAM",
        (("CAM-P", "P", "59.90", 12), ("CAM-M", "M", "59.90", 20), ("CAM-G", "G", "59.90", 7)),
    ),
    ("Caneca Cerâmica", "CAN", (("CAN-300", "300 ml", "39.90", 30),)),
    ("Boné Aba Curva", "BON", (("BON-AZ", "Azul", "79.00", 5), ("BON-PR", "Preto", "79.00", 9))),
    ("Mochila Urbana", "MOC", (("MOC-01", "Única", "249.90", 4),)),
)

#: (status, paid, progress) cycled by the sandbox: every documented status and what the
#: timestamps add to `confirmed`
KINDS: tuple[tuple[str, bool, str | None], ...] = (
    ("received", False, None),
    ("confirmed", False, None),  # confirmed, money not in yet
    ("confirmed", True, None),
    ("confirmed", True, "tracked"),  # shipped_at empty, tracking present
    ("confirmed", True, "delivered"),
    ("canceled", False, None),
    ("confirmed", True, None),
    ("canceled", True, None),
)

PEOPLE = (
    ("Maria", "Silva", "maria@example.com.br", "15", "991234567"),
    ("João", "Souza", "joao@example.com.br", "11", "987654321"),
    ("Ana", "Lima", "ana@example.com.br", "21", "998877665"),
)
ADDRESSES = (
    ("Rua Doutor Azevedo Sampaio", "50", "", "Centro", "Sorocaba", "SP", "18010220"),
    ("Avenida Afonso Pena", "1500", "Sala 3", "Centro", "Belo Horizonte", "MG", "30130005"),
    ("Rua XV de Novembro", "700", "", "Centro", "Curitiba", "PR", "80020310"),
)


def cpf(rng: random.Random) -> str:
    digits = [rng.randint(0, 9) for _ in range(9)]
    for start in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(start, 1, -1), strict=False))
        remainder = total % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(map(str, digits))


def build_products(now: datetime) -> dict[int, dict[str, Any]]:
    products: dict[int, dict[str, Any]] = {}
    variant_id = 5100
    for index, (name, reference, variants) in enumerate(CATALOGUE):
        product_id = 310 + index
        rows = []
        for sku, variant_name, price, quantity in variants:
            variant_id += 1
            rows.append(variant(variant_id, sku, variant_name, price, quantity, now))
        products[product_id] = {
            "id": product_id,
            "name": name,
            "reference": reference,
            "active": True,
            "variants": rows,
            "updated_at": wire.iso(now),
        }
    return products


def variant(
    variant_id: int, sku: str, name: str, price: str, quantity: int, now: datetime
) -> dict[str, Any]:
    return {
        "id": variant_id,
        "main": False,
        "available": quantity > 0,
        "sku": sku,
        "name": name,
        "quantity": quantity,
        "stock": quantity,
        "available_quantity": quantity,
        "price": float(price),
        "sale_price": float(price),
        "updated_at": wire.iso(now),
    }


def build_order(
    rng: random.Random,
    products: dict[int, dict[str, Any]],
    *,
    number: int,
    kind: tuple[str, bool, str | None],
    updated_at: datetime,
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """(order, items, shipping address); deterministic for the random state."""
    status, paid, progress = kind
    code = f"{rng.getrandbits(40):010X}"
    variants = [(p, v) for p in products.values() for v in p["variants"]]
    items = []
    for line_no, (product, chosen) in enumerate(rng.sample(variants, k=rng.randint(1, 3)), 1):
        count = rng.randint(1, 3)
        price = Decimal(str(chosen["price"]))
        items.append(
            {
                "id": number * 10 + line_no,
                "variant_id": chosen["id"],
                "sku": chosen["sku"],
                "reference": product["reference"],
                "product_name": product["name"],
                "variant_name": chosen["name"],
                "quantity": count,
                "price": float(price),
                "total": float(price * count),
                "weight": 0.3,
                "width": 20.0,
                "height": 5.0,
                "length": 30.0,
                "extra": {},
                "picture_url": None,
            }
        )
    subtotal = sum((Decimal(str(i["price"])) * i["quantity"] for i in items), Decimal("0"))
    coupon = Decimal("10.00") if number % 3 == 0 else Decimal("0")
    freight = rng.choice((Decimal("0"), Decimal("15.90"), Decimal("22.45")))
    received = updated_at - timedelta(minutes=rng.randint(30, 48 * 60))
    first, last, email, area, phone = PEOPLE[number % len(PEOPLE)]
    street, house, complement, district, city, state, zipcode = ADDRESSES[number % len(ADDRESSES)]
    address = {
        "id": number, "first_name": first, "last_name": last, "email": email,
        "documents": {"cpf": cpf(rng)}, "first_phone_area": area, "first_phone": phone,
        "second_phone_area": None, "second_phone": None, "street_name": street,
        "street_number": house, "complement": complement, "neighborhood": district,
        "zip": zipcode, "city": city, "state": state, "reference": "", "company_name": None,
    }  # fmt: skip
    confirmed = status == "confirmed" or (status == "canceled" and paid)
    order = {
        "id": 4500 + number,
        "cart_id": 14700 + number,
        "code": code,
        "token": f"{rng.getrandbits(128):032x}",
        "status": status,
        "client_id": 570 + number % len(PEOPLE),
        "email": email,
        "deposit": False,
        "card": number % 2 == 0,
        "slip": number % 2 == 1,
        "slip_url": None,
        "slip_token": None,
        "payment_method": "Cartão de crédito" if number % 2 == 0 else "Boleto",
        "payment_tid": None,
        "installments": 1,
        "coupon_code": "BEMVINDO10" if coupon else None,
        "subtotal": float(subtotal),
        "discount_price": float(coupon),
        "shipping_price": float(freight),
        "total": float(subtotal - coupon + freight),
        "shipping_label": "Correios - PAC",
        "shipping_method": "PAC",
        "delivery_days": 5,
        "tracking_code": "AA123456785BR" if progress in ("tracked", "delivered") else None,
        "channel": "ecommerce",
        "received_at": wire.iso(received),
        "confirmed_at": wire.iso(received + timedelta(minutes=5)) if confirmed else None,
        "paid_at": wire.iso(received + timedelta(minutes=4)) if paid else None,
        # integrators report shipped_at is never filled in: the tracking says it
        "shipped_at": None,
        "shipping_tracked_at": wire.iso(updated_at) if progress == "tracked" else None,
        "delivered_at": wire.iso(updated_at) if progress == "delivered" else None,
        "canceled_at": wire.iso(updated_at) if status == "canceled" else None,
        "updated_at": wire.iso(updated_at),
        "extra": {},
    }
    return order, items, address
