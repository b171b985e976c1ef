"""Stock pushes to Nuvemshop: the bulk `PATCH /products/stock-price` body and its answer.

Never `PUT /products/{id}/variants`: it replaces the product's variant collection and
deletes the variants left out (resources/product_variant.md). `PATCH /products/stock-price`
takes `[{"id": product_id, "variants": [{"id": variant_id, "stock": n}]}]`, at most 50
variants per request (51 answers 422 "Too many variants sent for update") and reports each
variant's outcome, so a batch can be half applied [R: public clients; the path is in the
official multi-inventory guide]. With multi-inventory, a variant's `stock` is the sum over
locations and sending only `stock` sets the first location: a configured location is sent
as `inventory_levels` instead, and with a location map (`location_ids`) each erpsync
location's quantity is its own entry of the variant's `inventory_levels`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from erpsync.domain import PushResult, StockUpdate

#: variants per PATCH /products/stock-price
MAX_VARIANTS = 50


def body(
    updates: Sequence[StockUpdate],
    location_id: str | None = None,
    location_ids: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The request body: updates grouped by product, in the order given.

    ``location_id``: every quantity to that one inventory level. ``location_ids``: per-location
    updates (``StockUpdate.location``), a variant's locations together as its
    `inventory_levels` [{location_id, stock}] (the shape the official multi-inventory guide
    shows on GET /products/{id}/variants; it lists PATCH /products/stock-price among the
    endpoints that take it)."""
    if location_ids:
        return _by_location(updates, location_ids)
    products: dict[str, list[dict[str, Any]]] = {}
    for update in updates:
        variant: dict[str, Any] = {"id": int(update.variation_id or 0)}
        if location_id is not None:
            variant["inventory_levels"] = [{"location_id": location_id, "stock": update.quantity}]
        else:
            variant["stock"] = update.quantity
        products.setdefault(update.item_id, []).append(variant)
    return [{"id": int(pid), "variants": variants} for pid, variants in products.items()]


def _by_location(
    updates: Sequence[StockUpdate], location_ids: Mapping[str, str]
) -> list[dict[str, Any]]:
    products: dict[str, dict[str, dict[str, Any]]] = {}
    for update in updates:
        key = str(update.variation_id or 0)
        variant = products.setdefault(update.item_id, {}).setdefault(key, {"id": int(key)})
        level = {"location_id": location_ids[str(update.location)], "stock": update.quantity}
        variant.setdefault("inventory_levels", []).append(level)
    return [
        {"id": int(pid), "variants": list(variants.values())} for pid, variants in products.items()
    ]


def batches(updates: Sequence[StockUpdate]) -> Iterator[Sequence[StockUpdate]]:
    """The updates in requests of at most MAX_VARIANTS variants. Per-location updates are
    cut by variant, so a variant's locations stay in one request (its inventory levels go
    together); others every MAX_VARIANTS updates."""
    if not any(u.location for u in updates):
        for start in range(0, len(updates), MAX_VARIANTS):
            yield updates[start : start + MAX_VARIANTS]
        return
    batch: list[StockUpdate] = []
    variants: set[tuple[str, str | None]] = set()
    for update in updates:
        key = (update.item_id, update.variation_id)
        if key not in variants and len(variants) == MAX_VARIANTS:
            yield batch
            batch, variants = [], set()
        variants.add(key)
        batch.append(update)
    if batch:
        yield batch


def results(updates: Sequence[StockUpdate], answer: Any) -> list[PushResult]:
    """One result per update from the per-variant answer (a variant's locations share its
    outcome); a variant the answer does not mention is a failure (we cannot tell it took)."""
    outcomes: dict[tuple[str, str], Mapping[str, Any]] = {}
    for product in answer if isinstance(answer, list) else []:
        if not isinstance(product, Mapping):
            continue
        for variant in product.get("variants") or []:
            if isinstance(variant, Mapping):
                outcomes[(str(product.get("id")), str(variant.get("id")))] = variant
    found = []
    for update in updates:
        outcome = outcomes.get((update.item_id, str(update.variation_id)))
        if outcome is None:
            found.append(_failed(update, "Nuvemshop's answer does not mention this variant"))
        elif outcome.get("success") is True:
            found.append(
                PushResult(
                    item_id=update.item_id,
                    variation_id=update.variation_id,
                    location=update.location,
                    ok=True,
                )
            )
        else:
            reason = outcome.get("error") or outcome.get("errors") or "refused"
            found.append(_failed(update, f"not applied: {reason}"))
    return found


def failed_all(updates: Sequence[StockUpdate], error: str) -> list[PushResult]:
    return [_failed(u, error) for u in updates]


def _failed(update: StockUpdate, error: str) -> PushResult:
    return PushResult(
        item_id=update.item_id,
        variation_id=update.variation_id,
        location=update.location,
        ok=False,
        error=error,
    )
