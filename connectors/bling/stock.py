"""Bling's products and stock balances as erpsync's SKUs and StockLevels: pure.

ref: developer.bling.com.br/referencia#/Estoques (GET /estoques/saldos: `idsProdutos[]`,
answering `data[{produto{id, codigo?}, saldoFisicoTotal, saldoVirtualTotal, depositos[{id,
saldoFisico, saldoVirtual}]}]`) and #/Produtos (GET /produtos: `codigos[]`), as the SDK carries
them (AlexandreBellas/bling-erp-api-js `src/entities/estoques/interfaces/get-balances.interface.ts`,
`src/entities/produtos/interfaces/get.interface.ts`).

Bling's *saldo virtual* is the physical balance less what open sales orders reserve: that is
what a channel may sell, so it is ``available``; the physical balance is ``on_hand``.
Balances are decimals (products sold by weight); erpsync counts units, so they are floored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from erpsync.domain import StockLevel


def exact_codes(records: Iterable[Any], wanted: Iterable[str]) -> dict[str, int]:
    """SKU -> product id for the products whose `codigo` is exactly one of ``wanted``.

    `codigos[]` may match more than asked for (prefixes, substrings: ecomplus/cloud-commerce#802
    updated the wrong product after `/produtos?codigo=` returned another record), so only an
    exact code counts."""
    asked = set(wanted)
    found: dict[str, int] = {}
    for record in records:
        if not isinstance(record, dict):
            continue
        code, product_id = record.get("codigo"), record.get("id")
        if isinstance(code, str) and code in asked and isinstance(product_id, int):
            found.setdefault(code, product_id)
    return found


def levels(records: Iterable[Any], skus: Mapping[int, str]) -> list[StockLevel]:
    """One "main" level (the account's totals) and one per depósito for each balance of a
    product in ``skus`` (product id -> SKU); other records are ignored."""
    found: list[StockLevel] = []
    for record in records:
        if not isinstance(record, dict):
            continue
        product = record.get("produto")
        product_id = product.get("id") if isinstance(product, dict) else None
        sku = skus.get(product_id) if isinstance(product_id, int) else None
        if sku is None or not isinstance(product, dict):
            continue
        found.append(
            _level(sku, "main", product["id"], record, "saldoFisicoTotal", "saldoVirtualTotal")
        )
        for deposit in record.get("depositos") or []:
            if isinstance(deposit, dict) and deposit.get("id") is not None:
                location = str(deposit["id"])
                found.append(
                    _level(sku, location, product["id"], deposit, "saldoFisico", "saldoVirtual")
                )
    return found


def _level(
    sku: str, location: str, product_id: int, record: Mapping[str, Any], physical: str, virtual: str
) -> StockLevel:
    on_hand = _units(record.get(physical))
    available = _units(record.get(virtual))
    return StockLevel(
        sku=sku,
        location=location,
        available=available,
        on_hand=on_hand,
        reserved=max(0, on_hand - available),
        product_id=str(product_id),
    )


def _units(value: Any) -> int:
    try:
        return math.floor(float(value or 0))
    except (TypeError, ValueError):
        return 0
