"""Olist ERP (Tiny v3) stock: `GET /estoque/{idProduto}` as StockLevels. Pure.

The answer carries `saldo`, `reservado` and `disponivel` (computed by the ERP: right for kits,
unlike `GET /produtos/{id}` `estoque.quantidade`) and `depositos[{id, nome, desconsiderar,
saldo, reservado, disponivel}]` (DepositoModel, TINY_V3_OPENAPI.json). The product's total,
location "main", is what the ERP counts as available; a depósito it is told to disregard
(`desconsiderar`) is reported but not part of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from erpsync.domain import StockLevel


def _units(value: Any) -> int:
    """Whole units (the ERP keeps fractions for goods sold by weight: never round up)."""
    return math.floor(float(value or 0))


def levels_from_payload(sku: str, product_id: int, payload: Mapping[str, Any]) -> list[StockLevel]:
    total = StockLevel(
        sku=sku,
        location="main",
        available=_units(payload.get("disponivel")),
        on_hand=_units(payload.get("saldo")),
        reserved=_units(payload.get("reservado")),
        product_id=str(product_id),
    )
    found = [total]
    for deposito in payload.get("depositos") or []:
        if deposito.get("id") is None:
            continue
        found.append(
            StockLevel(
                sku=sku,
                location=str(deposito["id"]),
                available=_units(deposito.get("disponivel")),
                on_hand=_units(deposito.get("saldo")),
                reserved=_units(deposito.get("reservado")),
                product_id=str(product_id),
            )
        )
    return found
