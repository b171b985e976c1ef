"""Deterministic sandbox data for the Nuvemshop emulator: a catalogue and orders in the API's
shapes, with the docs' quirks (string quantities and variant ids, both shipping spellings)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from erpsync.connectors.nuvemshop.emulator import wire

#: (product name, [(variant sku, price, stock)]); variant SKUs are what erpsync links on
CATALOGUE: tuple[tuple[str, tuple[tuple[str | None, str, int], ...]], ...] = (
    ("Camiseta Básica", (("CAM-P", "59.90", 12), ("CAM-M", "59.90", 20), ("CAM-G", "59.90", 7))),
    ("Caneca Cerâmica", (("CAN-300", "39.90", 30),)),
    ("Boné Aba Curva", (("BON-AZ", "79.00", 5), ("BON-PR", "79.00", 9))),
    ("Mochila Urbana", (("MOC-01", "249.90", 4),)),
    ("Chaveiro", ((None, "9.90", 100),)),  # a variant without SKU: erpsync never writes it
)

#: (status, payment_status, shipping_status) cycled by the sandbox, one of each documented
#: combination erpsync distinguishes, in both shipping spellings
KINDS: tuple[tuple[str, str, str], ...] = (
    ("open", "pending", "unpacked"),
    ("open", "authorized", "unpacked"),
    ("open", "paid", "unpacked"),
    ("open", "paid", "unshipped"),
    ("open", "paid", "unfulfilled"),
    ("open", "paid", "shipped"),
    ("open", "paid", "fulfilled"),
    ("closed", "paid", "shipped"),
    ("cancelled", "voided", "unpacked"),
    ("open", "refunded", "unpacked"),
    ("open", "abandoned", "unpacked"),
    ("cancelled", "paid", "unpacked"),
)

CUSTOMERS = (
    ("Maria Silva", "maria@example.com.br", "+5515991234567", "cpf"),
    ("João Souza", "joao@example.com.br", "+5511987654321", "cpf"),
    ("Loja Parceira Ltda", "compras@parceira.example", "+551130000000", "cnpj"),
)
ADDRESSES = (
    ("Rua Doutor Azevedo Sampaio", "50", "", "Centro", "Sorocaba", "São Paulo", "18010220"),
    (
        "Avenida Afonso Pena",
        "1500",
        "Sala 3",
        "Centro",
        "Belo Horizonte",
        "Minas Gerais",
        "30130005",
    ),
    ("Rua XV de Novembro", "700", "", "Centro", "Curitiba", "Paraná", "80020310"),
)


def _check_digits(base: list[int], weights_from: int) -> list[int]:
    digits = list(base)
    for start in (weights_from, weights_from + 1):
        total = sum(d * w for d, w in zip(digits, range(start, 1, -1), strict=False))
        remainder = total % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return digits


def cpf(rng: random.Random) -> str:
    return "".join(map(str, _check_digits([rng.randint(0, 9) for _ in range(9)], 10)))


def cnpj(rng: random.Random) -> str:
    digits = [rng.randint(0, 9) for _ in range(8)] + [0, 0, 0, 1]
    for weights in ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(map(str, digits))


def build_products(store_id: int, now: datetime) -> dict[int, dict[str, Any]]:
    products: dict[int, dict[str, Any]] = {}
    variant_id = 426215900
    for index, (name, variants) in enumerate(CATALOGUE):
        product_id = 111334700 + index
        rows: list[dict[str, Any]] = []
        for sku, price, stock in variants:
            variant_id += 1
            rows.append(
                {
                    "id": variant_id,
                    "product_id": product_id,
                    "sku": sku,
                    "price": price,
                    "promotional_price": None,
                    "stock_management": True,
                    "stock": stock,
                    "inventory_levels": [],
                    "values": [],
                    "created_at": wire.iso(now),
                    "updated_at": wire.iso(now),
                }
            )
        products[product_id] = {
            "id": product_id,
            "name": wire.product_name(name),
            "handle": wire.product_name(name.lower().replace(" ", "-")),
            "published": True,
            "variants": rows,
            "created_at": wire.iso(now),
            "updated_at": wire.iso(now),
        }
    return products


def build_order(
    rng: random.Random,
    products: dict[int, dict[str, Any]],
    *,
    store_id: int,
    order_id: int,
    number: int,
    kind: tuple[str, str, str],
    updated_at: datetime,
) -> dict[str, Any]:
    """One order, deterministic for the random state; every other order carries the newer
    docs' string `quantity`/`variant_id` and ids as strings where the examples show them."""
    status, payment, shipping = kind
    quirky = number % 2 == 0
    variants = [v for p in products.values() for v in p["variants"] if v["sku"]]
    lines = []
    for line_no, variant in enumerate(rng.sample(variants, k=rng.randint(1, 3)), start=1):
        product = products[variant["product_id"]]
        quantity = rng.randint(1, 3)
        lines.append(
            {
                "id": order_id * 10 + line_no,
                "product_id": variant["product_id"],
                "variant_id": str(variant["id"]) if quirky else variant["id"],
                "name": product["name"]["pt"],
                "price": variant["price"],
                "quantity": str(quantity) if quirky else quantity,
                "sku": variant["sku"],
                "barcode": None,
                "free_shipping": False,
                "variant_values": [],
                "properties": [],
                "weight": "0.30",
            }
        )
    subtotal = sum(Decimal(line["price"]) * int(line["quantity"]) for line in lines)
    coupon = Decimal("10.00") if number % 3 == 0 else Decimal("0.00")
    gateway = (
        (subtotal * Decimal("0.05")).quantize(Decimal("0.01"))
        if number % 4 == 0
        else Decimal("0.00")
    )
    shipping_cost = rng.choice((Decimal("0.00"), Decimal("15.90"), Decimal("22.45")))
    discount = coupon + gateway
    total = subtotal - discount + shipping_cost
    name, email, phone, doc_kind = CUSTOMERS[number % len(CUSTOMERS)]
    document = cpf(rng) if doc_kind == "cpf" else cnpj(rng)
    street, house, floor, locality, city, province, zipcode = ADDRESSES[number % len(ADDRESSES)]
    created = updated_at - timedelta(minutes=rng.randint(30, 48 * 60))
    address = {
        "address": street, "number": house, "floor": floor, "locality": locality,
        "city": city, "province": province, "zipcode": zipcode, "country": "BR",
        "phone": phone, "name": name, "customs": None,
    }  # fmt: skip
    return {
        "id": order_id,
        "token": f"{order_id:040x}",
        "store_id": str(store_id),
        "number": number,
        "contact_email": email,
        "contact_name": name,
        "contact_phone": phone,
        "contact_identification": document,
        "customer": {
            "id": 105799000 + number % len(CUSTOMERS),
            "name": name,
            "email": email,
            "identification": document,
            "phone": phone,
        },
        "products": lines,
        "coupon": [{"code": "BEMVINDO10"}] if coupon else [],
        "subtotal": f"{subtotal:.2f}",
        "discount": f"{discount:.2f}",
        "discount_coupon": f"{coupon:.2f}",
        "discount_gateway": f"{gateway:.2f}",
        "shipping_cost_customer": f"{shipping_cost:.2f}",
        "shipping_cost_owner": f"{shipping_cost:.2f}",
        "total": f"{total:.2f}",
        "currency": "BRL",
        "gateway": "mercadopago",
        "gateway_name": "Mercado Pago",
        "payment_details": {"method": "pix", "credit_card_company": None, "installments": 1},
        "storefront": "store",
        "status": status,
        "payment_status": payment,
        "shipping_status": shipping,
        "shipping_pickup_type": "ship",
        "shipping_option": "Correios - PAC",
        "shipping_tracking_number": "AA123456785BR"
        if shipping in {"shipped", "fulfilled"}
        else None,
        "shipping_address": address,
        "cancel_reason": "customer" if status == "cancelled" else None,
        "created_at": wire.iso(created),
        "updated_at": wire.iso(updated_at),
        "paid_at": wire.iso(created + timedelta(minutes=3)) if payment == "paid" else None,
        "closed_at": wire.iso(updated_at) if status == "closed" else None,
        "cancelled_at": wire.iso(updated_at) if status == "cancelled" else None,
        "shipped_at": wire.iso(updated_at) if shipping in {"shipped", "fulfilled"} else None,
    }
