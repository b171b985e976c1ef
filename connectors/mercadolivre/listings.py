"""Listings: Mercado Livre items (multiget bodies) -> Listing, one per variation. Pure.

ref: developers.mercadolivre.com.br/pt_br/itens-e-buscas (multiget bodies) and pt_br/variacoes
(``SELLER_SKU`` in ``attributes``, present on variations with ``include_attributes=all``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from erpsync.domain import Listing


def seller_sku(attributes: Iterable[Mapping[str, Any]] | None, fallback: Any = None) -> str | None:
    """The SELLER_SKU attribute's value; the legacy `seller_custom_field` when it is absent.

    ref: developers.mercadolivre.com.br/pt_br/variacoes ("SELLER_SKU" in `attributes`).
    """
    for attribute in attributes or ():
        if attribute.get("id") == "SELLER_SKU" and attribute.get("value_name"):
            return str(attribute["value_name"])
    return str(fallback) if fallback else None


def listings_from_payload(item: Mapping[str, Any], *, connector: str) -> list[Listing]:
    """One Listing per variation, or one for an item without variations.

    An ML item is the listing for a plain product but only the parent of its variations (each
    with its own SKU and quantity), so one payload maps to a list: ``listing_from_payload``
    for each of them.
    """
    variations = item.get("variations") or []
    if not variations:
        return [listing_from_payload(item, connector=connector)]
    return [listing_from_payload(item, connector=connector, variation=v) for v in variations]


def listing_from_payload(
    item: Mapping[str, Any],
    *,
    connector: str,
    variation: Mapping[str, Any] | None = None,
) -> Listing:
    """The item (or one ``variation`` of it) as a Listing with the seller's SKU."""
    full = (item.get("shipping") or {}).get("logistic_type") == "fulfillment"
    extra = {"status": item.get("status")} if item.get("status") else {}
    if variation is None:
        return Listing(
            connector=connector,
            item_id=str(item["id"]),
            sku=seller_sku(item.get("attributes"), item.get("seller_custom_field")),
            title=item.get("title"),
            fulfilled_by_channel=full,
            channel_quantity=_quantity(item.get("available_quantity")),
            extra=extra,
        )
    return Listing(
        connector=connector,
        item_id=str(item["id"]),
        variation_id=str(variation["id"]),
        sku=seller_sku(variation.get("attributes"), variation.get("seller_custom_field")),
        title=_variation_title(item.get("title"), variation),
        fulfilled_by_channel=full,
        channel_quantity=_quantity(variation.get("available_quantity")),
        extra=extra,
    )


def _variation_title(title: Any, variation: Mapping[str, Any]) -> str | None:
    values = [
        str(combo["value_name"])
        for combo in variation.get("attribute_combinations") or ()
        if combo.get("value_name")
    ]
    if not values:
        return str(title) if title else None
    return f"{title} ({' / '.join(values)})" if title else " / ".join(values)


def _quantity(value: Any) -> int | None:
    return None if value is None else int(value)
