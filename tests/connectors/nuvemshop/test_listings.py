"""Nuvemshop products -> listings: one per variant, the SKU from the variant."""

from erpsync.connectors.nuvemshop import listings

PRODUCT = {
    "id": 111334785,
    "name": {"pt": "Mesa de Carvalho", "es": "Mesa de Roble"},
    "published": True,
    "variants": [
        {"id": 426215948, "sku": "MESA-01", "stock": 3, "stock_management": True},
        {"id": "426215949", "sku": "", "stock": None, "stock_management": False},
        {
            "id": 426215950,
            "sku": " MESA-02 ",
            "stock": 9,
            "inventory_levels": [
                {"location_id": "LOC-A", "stock": 4},
                {"location_id": "LOC-B", "stock": 5},
            ],
        },
    ],
}


def test_every_variant_is_a_listing_with_its_own_sku():
    found = listings.listings_from_payload(PRODUCT, connector="ns")
    assert [(x.item_id, x.variation_id, x.sku) for x in found] == [
        ("111334785", "426215948", "MESA-01"),
        ("111334785", "426215949", None),  # no SKU: never written to
        ("111334785", "426215950", "MESA-02"),
    ]
    assert found[0].title == "Mesa de Carvalho"
    assert [x.channel_quantity for x in found] == [3, None, 9]  # null stock: unlimited


def test_multi_inventory_reads_the_configured_location():
    found = listings.listings_from_payload(PRODUCT, connector="ns", location_id="LOC-B")
    assert [x.channel_quantity for x in found] == [None, None, 5]
