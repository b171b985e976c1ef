"""Loja Integrada listings: each sellable produto -> one Listing. Pure, like orders.py.

A product with variations is a parent produto (`tipo: atributo`) plus one child produto per
variation (`tipo: atributo_opcao`, `pai` = the parent's URI); each child has its own SKU,
price and stock row, so each child is a listing keyed by its own produto id (that is the id
`PUT /v1/produto_estoque/{produto_id}` takes). The parent holds no stock of its own and is
not a listing. A simple product (`tipo: normal`) is its own listing. Removed products
(`removido: true`) are skipped. ref: API Loja Integrada v2, tags Produtos and Grades.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erpsync.connectors.lojaintegrada.orders import uri_id
from erpsync.domain import Listing

#: the parent of a product with variations: its children are the listings
PARENT = "atributo"


def listing_from_payload(payload: Mapping[str, Any], *, connector: str) -> Listing | None:
    """One produto of `GET /v1/produto` -> its listing, or None (a parent, a removed one)."""
    if payload.get("removido") is True or payload.get("tipo") == PARENT:
        return None
    sku = payload.get("sku")
    stock = payload.get("estoque_quantidade")
    return Listing(
        connector=connector,
        item_id=str(payload["id"]),
        variation_id=None,
        sku=str(sku).strip() if sku not in (None, "") else None,
        title=payload.get("nome") if isinstance(payload.get("nome"), str) else None,
        channel_quantity=int(stock) if isinstance(stock, int | str) and str(stock).isdigit()
        else None,
        extra={
            "tipo": payload.get("tipo"),
            "pai": uri_id(payload.get("pai")),
            "ativo": payload.get("ativo"),
        },
    )  # fmt: skip
