"""The sandbox seller account: catalogue (items with variations, Full, legacy SKU), buyers with
valid CPFs/CNPJs (real check digits) in real cities and CEP ranges, and the order mix it seeds.

Items follow developers.mercadolivre.com.br/pt_br/variacoes (SELLER_SKU in `attributes`) and
pt_br/itens-e-buscas (multiget bodies); orders are built by wire.py.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from erpsync.connectors.mercadolivre.emulator.wire import SELLER_ID, Buyer, Line, OrderSpec

SELLER_NICKNAME = "LOJA_ERPSYNC_TESTE"

# (city, UF, state name, CEP, district, street) — CEPs inside each city's real range
CITIES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("São Paulo", "SP", "São Paulo", "01310100", "Bela Vista", "Avenida Paulista"),
    ("Rio de Janeiro", "RJ", "Rio de Janeiro", "20040020", "Centro", "Rua da Assembleia"),
    ("Belo Horizonte", "MG", "Minas Gerais", "30130010", "Centro", "Avenida Afonso Pena"),
    ("Curitiba", "PR", "Paraná", "80010000", "Centro", "Rua XV de Novembro"),
    ("Porto Alegre", "RS", "Rio Grande do Sul", "90010150", "Centro Histórico", "Rua dos Andradas"),
    ("Salvador", "BA", "Bahia", "40020000", "Comércio", "Avenida Estados Unidos"),
    ("Recife", "PE", "Pernambuco", "50010000", "Santo Antônio", "Rua do Imperador"),
    ("Fortaleza", "CE", "Ceará", "60060440", "Centro", "Rua Senador Pompeu"),
    ("Brasília", "DF", "Distrito Federal", "70040010", "Asa Norte", "SBN Quadra 1"),
    ("Goiânia", "GO", "Goiás", "74003010", "Setor Central", "Avenida Goiás"),
    ("Florianópolis", "SC", "Santa Catarina", "88010400", "Centro", "Rua Felipe Schmidt"),
    ("Campinas", "SP", "São Paulo", "13010111", "Centro", "Rua Barão de Jaguara"),
)
FIRST_NAMES = ("Ana", "Bruno", "Carla", "Diego", "Eduarda", "Felipe", "Gabriela", "Henrique")
LAST_NAMES = ("Souza", "Oliveira", "Santos", "Pereira", "Lima", "Costa", "Ribeiro", "Almeida")
COMPANIES = ("Papelaria Aurora Ltda", "Comercial Bandeirantes ME", "Tech Norte Eireli")


def _check_digit(digits: str, weights: list[int]) -> str:
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return "0" if remainder < 2 else str(11 - remainder)


def make_cpf(rng: random.Random) -> str:
    """A random CPF with valid check digits (never all-equal digits)."""
    base = "".join(str(rng.randrange(10)) for _ in range(9))
    if len(set(base)) == 1:
        base = "1" + base[1:8] + "2"
    first = _check_digit(base, list(range(10, 1, -1)))
    return base + first + _check_digit(base + first, list(range(11, 1, -1)))


def make_cnpj(rng: random.Random) -> str:
    """A random CNPJ (matriz, branch 0001) with valid check digits."""
    base = "".join(str(rng.randrange(10)) for _ in range(8)) + "0001"
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    first = _check_digit(base, weights)
    return base + first + _check_digit(base + first, [6, *weights])


def make_buyer(rng: random.Random, index: int) -> Buyer:
    company = index % 5 == 4  # every fifth buyer is a business (CNPJ)
    first = rng.choice(COMPANIES) if company else rng.choice(FIRST_NAMES)
    last = "" if company else rng.choice(LAST_NAMES)
    return Buyer(
        id=700000000 + index * 7919 % 99991,
        nickname=f"COMPRADOR{index:04d}",
        first_name=first,
        last_name=last,
        doc_type="CNPJ" if company else "CPF",
        doc_number=make_cnpj(rng) if company else make_cpf(rng),
        city=CITIES[index % len(CITIES)],
        street_number=str(rng.randrange(1, 3000)),
    )


def item_json(
    item_id: str,
    title: str,
    price: float,
    *,
    quantity: int = 0,
    sku: str | None = None,
    legacy_sku: str | None = None,
    logistic_type: str = "drop_off",
    variations: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An item as `GET /items?ids=...&include_attributes=all` returns it in each `body`."""
    attributes = [{"id": "BRAND", "name": "Marca", "value_id": None, "value_name": "Genérica"}]
    if sku:
        attributes.append({"id": "SELLER_SKU", "name": "SKU", "value_id": None, "value_name": sku})
    variations = variations or []
    return {
        "id": item_id,
        "site_id": "MLB",
        "title": title,
        "seller_id": SELLER_ID,
        "category_id": "MLB1051",
        "price": price,
        "base_price": price,
        "currency_id": "BRL",
        "available_quantity": sum(v["available_quantity"] for v in variations) or quantity,
        "sold_quantity": 0,
        "buying_mode": "buy_it_now",
        "listing_type_id": "gold_special",
        "condition": "new",
        "permalink": f"https://produto.mercadolivre.com.br/{item_id[:3]}-{item_id[3:]}-_JM",
        "status": "active",
        "seller_custom_field": legacy_sku,
        "shipping": {
            "mode": "me2",
            "free_shipping": price >= 79,
            "logistic_type": logistic_type,
            "tags": ["fulfillment"] if logistic_type == "fulfillment" else [],
        },
        "attributes": attributes,
        "variations": variations,
        "date_created": "2026-01-10T12:00:00.000-03:00",
        "last_updated": "2026-01-10T12:00:00.000-03:00",
    }


def variation_json(
    variation_id: int, price: float, quantity: int, color: str, size: str, sku: str
) -> dict[str, Any]:
    """A variation with `attributes` (present with include_attributes=all) holding SELLER_SKU."""
    return {
        "id": variation_id,
        "price": price,
        "attribute_combinations": [
            {"id": "COLOR", "name": "Cor", "value_id": None, "value_name": color},
            {"id": "SIZE", "name": "Tamanho", "value_id": None, "value_name": size},
        ],
        "available_quantity": quantity,
        "sold_quantity": 0,
        "picture_ids": [],
        "seller_custom_field": None,
        "catalog_product_id": None,
        "attributes": [{"id": "SELLER_SKU", "name": "SKU", "value_id": None, "value_name": sku}],
    }


def sandbox_items() -> list[dict[str, Any]]:
    """The sandbox seller's catalogue: one item with variations, one Full, one legacy-SKU."""
    return [
        item_json(
            "MLB3100000001",
            "Camiseta Básica Algodão",
            49.9,
            variations=[
                variation_json(180000000011, 49.9, 12, "Preto", "P", "CAM-PRETO-P"),
                variation_json(180000000012, 49.9, 8, "Preto", "M", "CAM-PRETO-M"),
                variation_json(180000000013, 49.9, 5, "Branco", "G", "CAM-BRANCO-G"),
            ],
        ),
        item_json("MLB3100000002", "Caneca Cerâmica 350ml", 34.9, quantity=20, sku="CAN-350"),
        item_json(
            "MLB3100000003",
            "Fone de Ouvido Bluetooth",
            129.9,
            quantity=40,
            sku="FONE-BT",
            logistic_type="fulfillment",
        ),
        item_json(
            "MLB3100000004",
            "Garrafa Térmica 1L",
            89.9,
            quantity=15,
            legacy_sku="GAR-1L",
            logistic_type="cross_docking",
        ),
    ]


# --- the order mix the emulator seeds ---------------------------------------------------------

_CANECA = Line("MLB3100000002", "Caneca Cerâmica 350ml", 34.9, 1, sku="CAN-350")
_GARRAFA = Line("MLB3100000004", "Garrafa Térmica 1L", 89.9, 1, legacy_sku="GAR-1L")
_FONE = Line("MLB3100000003", "Fone de Ouvido Bluetooth", 129.9, 1, sku="FONE-BT")


def _camiseta(variation_id: int, color: str, size: str, sku: str) -> Line:
    return Line(
        "MLB3100000001",
        "Camiseta Básica Algodão",
        49.9,
        1,
        variation_id=variation_id,
        sku=sku,
        variation=(("Cor", color), ("Tamanho", size)),
    )


# (status, lines, shipment (status, substatus), logistic type, shipping cost, pack role)
# every ML order status, a Full order and a two-order pack, in fifteen orders
ORDER_MIX: tuple[tuple[str, tuple[Line, ...], tuple[str, str | None], str, float, str], ...] = (
    ("paid", (_CANECA,), ("ready_to_ship", "invoice_pending"), "drop_off", 22.9, ""),
    (
        "paid",
        (_camiseta(180000000011, "Preto", "P", "CAM-PRETO-P"),),
        ("ready_to_ship", "printed"),
        "drop_off",
        19.9,
        "",
    ),
    ("paid", (_GARRAFA,), ("shipped", "in_hub"), "cross_docking", 0.0, ""),
    ("cancelled", (_CANECA,), ("cancelled", None), "drop_off", 22.9, ""),
    ("paid", (_FONE,), ("shipped", None), "fulfillment", 0.0, ""),
    (
        "paid",
        (_camiseta(180000000012, "Preto", "M", "CAM-PRETO-M"),),
        ("ready_to_ship", "ready_to_print"),
        "drop_off",
        24.5,
        "first",
    ),
    ("paid", (_CANECA,), ("ready_to_ship", "ready_to_print"), "drop_off", 0.0, "second"),
    (
        "payment_required",
        (_camiseta(180000000013, "Branco", "G", "CAM-BRANCO-G"),),
        ("pending", "buffered"),
        "drop_off",
        19.9,
        "",
    ),
    (
        "paid",
        (Line("MLB3100000002", "Caneca Cerâmica 350ml", 34.9, 2, sku="CAN-350"),),
        ("delivered", None),
        "drop_off",
        22.9,
        "",
    ),
    ("partially_refunded", (_GARRAFA,), ("handling", None), "cross_docking", 0.0, ""),
    ("confirmed", (_CANECA,), ("pending", "buffered"), "drop_off", 22.9, ""),
    ("payment_in_process", (_FONE,), ("pending", "buffered"), "fulfillment", 0.0, ""),
    ("partially_paid", (_GARRAFA,), ("pending", "buffered"), "cross_docking", 0.0, ""),
    ("pending_cancel", (_CANECA,), ("cancelled", None), "drop_off", 22.9, ""),
    ("invalid", (_CANECA,), ("cancelled", None), "drop_off", 22.9, ""),
)


def mix_spec(
    serial: int,
    *,
    order_id: int,
    buyer: Buyer,
    updated: datetime,
    pack: tuple[int, int] | None,
) -> OrderSpec:
    """The ``serial``-th order of the mix. ``pack``: (pack_id, shipment_id) for pack members."""
    status, lines, shipment, logistic, cost, _ = ORDER_MIX[serial % len(ORDER_MIX)]
    pack_id, shipment_id = pack if pack else (None, 40000000000 + order_id % 10**9)
    created = updated - timedelta(hours=2 + serial % 5)
    return OrderSpec(
        order_id=order_id,
        status=status,
        lines=lines,
        buyer=buyer,
        updated=updated,
        created=created,
        shipment_id=shipment_id,
        shipment_status=shipment,
        logistic_type=logistic,
        shipping_cost=cost,
        pack_id=pack_id,
        billing_info_id=str(600000000000000000 + order_id % 10**12),
        # every third order's last_updated lags its date_last_updated, as in the documented
        # search result (ref: pt_br/gerenciamento-de-vendas): the search filters on the latter
        record_updated=created + timedelta(minutes=10) if serial % 3 == 1 else None,
    )


def pack_role(serial: int) -> str:
    """ "first"/"second" for the two orders of a pack in the mix, "" otherwise."""
    return ORDER_MIX[serial % len(ORDER_MIX)][5]
