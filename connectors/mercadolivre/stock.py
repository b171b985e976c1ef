"""Pure planning of Mercado Livre stock writes: one PUT /items/{id} body per item.

ref: https://developers.mercadolivre.com.br/pt_br/produto-sincronizacao-de-publicacoes and
pt_br/variacoes. An item without variations takes ``{"available_quantity": N}``; an item with
variations takes ``{"variations": [...]}``, and ML *removes* every variation that array leaves
out. So the array always lists every variation the item has now (read by multiget just before):
the ones being set with their quantity, the others by id only, which keeps them unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from erpsync.domain import PushResult, StockUpdate


@dataclass
class StockPlan:
    """What to send for one item, and which updates the answer settles."""

    item_id: str
    body: dict[str, Any] | None = None
    #: update index -> variation id (None for a plain item) the PUT settles
    planned: dict[int, str | None] = field(default_factory=dict)
    #: updates refused before sending, with the reason
    rejected: dict[int, PushResult] = field(default_factory=dict)

    def results(self, *, ok: bool, error: str | None = None) -> dict[int, PushResult]:
        return {
            index: PushResult(item_id=self.item_id, variation_id=variation, ok=ok, error=error)
            for index, variation in self.planned.items()
        }

    def reject(self, index: int, update: StockUpdate, error: str) -> None:
        self.rejected[index] = PushResult(
            item_id=update.item_id, variation_id=update.variation_id, ok=False, error=error
        )


def plan_stock(
    updates: Sequence[StockUpdate], items: Mapping[str, Mapping[str, Any] | None]
) -> list[StockPlan]:
    """Group updates by item and build each item's PUT body from its current state."""
    grouped: dict[str, list[tuple[int, StockUpdate]]] = {}
    for index, update in enumerate(updates):
        grouped.setdefault(update.item_id, []).append((index, update))
    return [_plan_item(item_id, pairs, items.get(item_id)) for item_id, pairs in grouped.items()]


def _plan_item(
    item_id: str, pairs: list[tuple[int, StockUpdate]], item: Mapping[str, Any] | None
) -> StockPlan:
    plan = StockPlan(item_id)
    if item is None:
        for index, update in pairs:
            plan.reject(index, update, f"item {item_id} not found on Mercado Livre")
        return plan
    if (item.get("shipping") or {}).get("logistic_type") == "fulfillment":
        for index, update in pairs:
            plan.reject(index, update, "Full listing: Mercado Livre's warehouse holds its stock")
        return plan
    variations = [str(v["id"]) for v in item.get("variations") or []]
    if variations:
        _plan_variations(plan, pairs, variations)
    else:
        _plan_plain(plan, pairs)
    return plan


def _plan_plain(plan: StockPlan, pairs: list[tuple[int, StockUpdate]]) -> None:
    quantity = None
    for index, update in pairs:
        if update.variation_id:
            plan.reject(index, update, f"item {plan.item_id} has no variations")
            continue
        plan.planned[index] = None
        quantity = update.quantity  # the last update for the item wins
    if quantity is not None:
        plan.body = {"available_quantity": quantity}


def _plan_variations(
    plan: StockPlan, pairs: list[tuple[int, StockUpdate]], existing: list[str]
) -> None:
    wanted: dict[str, int] = {}
    for index, update in pairs:
        if not update.variation_id:
            plan.reject(index, update, f"item {plan.item_id} has variations: set each one")
        elif update.variation_id not in existing:
            plan.reject(
                index, update, f"variation {update.variation_id} is not on item {plan.item_id}"
            )
        else:
            plan.planned[index] = update.variation_id
            wanted[update.variation_id] = update.quantity
    if wanted:
        plan.body = {
            "variations": [
                {"id": int(vid), "available_quantity": wanted[vid]}
                if vid in wanted
                else {"id": int(vid)}
                for vid in existing
            ]
        }
