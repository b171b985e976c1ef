"""Stock pushes to Vnda by SKU: the single and the batch endpoint, and what their answers mean.

- One SKU: `POST /api/v2/variants/{sku}/quantity?quantity=<n>` answers `{"status": "ok"}`, or
  400 `{"status": "error", "message": "A quantity must be provided to update stock"}`
  (ref: developers.vnda.com.br/api/operations/post-api-v2-variants-sku-quantity).
- Many SKUs: `POST /api/v2/variants/quantity` takes "a JSON list of the SKUs to update", applied
  "in the background in about 1 minute" (ref: developers.vnda.com.br/reference/estoque). The
  item shape is not shown on the page we could read [U]: `[{"sku": ..., "quantity": ...}]`
  follows the single endpoint's names. Its updates are pending until read back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from erpsync.connectors.vnda.listings import channel_quantity, sku_of
from erpsync.domain import PushResult, StockUpdate


def sku(update: StockUpdate) -> str:
    """The channel SKU a push goes to: the listing's variation id (its Vnda SKU)."""
    return update.variation_id or update.sku or ""


def single_path(update: StockUpdate) -> str:
    return f"/api/v2/variants/{quote(sku(update), safe='')}/quantity"


def batch_body(updates: Sequence[StockUpdate]) -> list[dict[str, Any]]:
    return [{"sku": sku(u), "quantity": u.quantity} for u in updates]


def single_result(update: StockUpdate, answer: Any) -> PushResult:
    """`{"status": "ok"}` is applied; anything else is not."""
    if isinstance(answer, Mapping) and answer.get("status") == "ok":
        return ok(update)
    message = answer.get("message") if isinstance(answer, Mapping) else None
    return failed(update, f"not applied: {message or answer!r}")


def read_back(updates: Sequence[StockUpdate], product: Any) -> list[PushResult]:
    """Each pending update against the product's variants as Vnda shows them now: applied,
    or not (the background job dropped it, or the variant is gone): sent again this run."""
    variants = {
        sku_of(v): v
        for v in (product.get("variants") or [] if isinstance(product, Mapping) else [])
        if isinstance(v, Mapping)
    }
    found = []
    for update in updates:
        variant = variants.get(sku(update))
        if variant is None:
            found.append(failed(update, "the variant is no longer on the product"))
        elif channel_quantity(variant) == update.quantity:
            found.append(ok(update))
        else:
            shown = channel_quantity(variant)
            found.append(failed(update, f"not applied: Vnda shows {shown}, not {update.quantity}"))
    return found


def ok(update: StockUpdate, *, pending: bool = False) -> PushResult:
    return PushResult(
        item_id=update.item_id, variation_id=update.variation_id, ok=True, pending=pending
    )


def failed(update: StockUpdate, error: str) -> PushResult:
    return PushResult(
        item_id=update.item_id, variation_id=update.variation_id, ok=False, error=error
    )
