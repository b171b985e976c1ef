"""Vnda products -> listings: one per variant, keyed by the variant's SKU."""

from erpsync.connectors.vnda import listings

PRODUCT = {
    "id": 310,
    "name": "Camiseta Básica",
    "reference": "CAM",
    "variants": [
        {"id": 5101, "sku": "CAM-P", "name": "P", "quantity": 12, "stock": 10, "available": True},
        {"id": 5102, "sku": " CAM-M ", "name": "Camiseta Básica", "stock": "3"},
        {"id": 5103, "sku": "", "name": "G", "quantity": None},
    ],
}


def test_every_variant_is_a_listing_keyed_by_its_sku():
    found = listings.listings_from_payload(PRODUCT, connector="vnda")
    assert [(x.item_id, x.variation_id, x.sku) for x in found] == [
        ("310", "CAM-P", "CAM-P"),
        ("310", "CAM-M", "CAM-M"),
        ("310", "#5103", None),  # no SKU: listed, never written to
    ]
    assert [x.title for x in found] == [
        "Camiseta Básica - P",
        "Camiseta Básica",
        "Camiseta Básica - G",
    ]


def test_the_quantity_a_push_sets_is_what_the_listing_shows():
    """`quantity` is what the stock endpoints set; `stock` stands in when it is missing."""
    found = listings.listings_from_payload(PRODUCT, connector="vnda")
    assert [x.channel_quantity for x in found] == [12, 3, None]
    assert found[0].extra == {"variant_id": 5101, "available": True}


def test_a_product_without_variants_has_no_listing():
    assert listings.listings_from_payload({"id": 1, "name": "x"}, connector="vnda") == []
