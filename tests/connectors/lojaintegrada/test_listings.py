"""Loja Integrada listing mapping (listings.listing_from_payload), on the documented produto
example and the parent/child model of variations."""

import json
from pathlib import Path

import pytest

from erpsync.connectors.lojaintegrada.listings import listing_from_payload

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "lojaintegrada" / "fixtures"


def produto():
    return json.loads((FIXTURES / "produto-238281213.json").read_text(encoding="utf-8"))


def test_the_documented_simple_produto_is_one_listing():
    """requirement: GET /v1/produto/{id}'s example: a `normal` produto, its SKU and stock."""
    listing = listing_from_payload(produto(), connector="li")
    assert listing is not None
    assert (listing.item_id, listing.variation_id, listing.sku) == ("238281213", None, "16167")
    assert listing.channel_quantity == 15
    assert listing.extra == {"tipo": "normal", "pai": None, "ativo": True}


def test_a_variation_child_is_a_listing_keyed_by_its_own_produto_id():
    child = {**produto(), "id": 238281214, "sku": "16167-M", "tipo": "atributo_opcao",
             "pai": "/api/v1/produto/238281213"}  # fmt: skip
    listing = listing_from_payload(child, connector="li")
    assert listing is not None
    assert (listing.item_id, listing.sku) == ("238281214", "16167-M")
    assert listing.extra["pai"] == "238281213"


@pytest.mark.parametrize(
    "change", [{"tipo": "atributo"}, {"removido": True}], ids=["parent", "removed"]
)
def test_a_parent_or_a_removed_produto_is_not_a_listing(change):
    assert listing_from_payload({**produto(), **change}, connector="li") is None


def test_a_produto_without_sku_is_a_listing_erpsync_cannot_link():
    listing = listing_from_payload({**produto(), "sku": ""}, connector="li")
    assert listing is not None and listing.sku is None
