"""The catalogue: GTIN validation, kits, and all-or-nothing CSV import."""

from __future__ import annotations

import pytest

from erpsync.store import products


@pytest.mark.parametrize(
    ("gtin", "expected"),
    [
        ("7891000315507", "7891000315507"),  # EAN-13
        ("96385074", "96385074"),  # EAN-8
        ("036000291452", "036000291452"),  # UPC-A (GTIN-12)
        ("17891000315504", "17891000315504"),  # GTIN-14
        (" 789-1000315507 ", "7891000315507"),
        ("SEM GTIN", None),
        ("", None),
        (None, None),
    ],
)
def test_valid_gtins_are_normalised(gtin, expected):
    """requirement: GTIN-8/12/13/14 with a GS1 check digit; empty or "SEM GTIN" means none."""
    assert products.normalize_gtin(gtin) == expected


@pytest.mark.parametrize(
    ("gtin", "message"),
    [
        ("7891000315508", "invalid GTIN '7891000315508': The number's checksum or check digit"),
        ("789100031550", "invalid GTIN '789100031550': The number's checksum or check digit"),
        ("12345", "invalid GTIN '12345': The number has an invalid length."),
        ("ABC", "invalid GTIN 'ABC': The number has an invalid format."),
    ],
)
def test_invalid_gtins_are_refused(gtin, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        products.normalize_gtin(gtin)


def test_upsert_keeps_fields_not_given_and_replaces_kit_components(store):
    """requirement: None leaves a field alone; a components list replaces the kit."""
    with store.session() as s:
        products.upsert_product(s, "CAM-P", "Camiseta P", "7891000315507")
        products.upsert_product(s, "BONE", "Boné")
        products.upsert_product(s, "CAM-P")
        products.upsert_product(s, "KIT", "Kit", components=[("CAM-P", 2), ("BONE", 1)])
        products.upsert_product(s, "KIT", components=[("CAM-P", 3)])
        cam = products.get_product(s, "CAM-P")
        assert (cam.name, cam.gtin) == ("Camiseta P", "7891000315507")
        assert products.kit_components(s) == {"KIT": [("CAM-P", 3)]}
        assert products.known_skus(s, ["KIT", "BONE", "NOPE"]) == {"KIT", "BONE"}
        assert [p.sku for p in products.list_products(s)] == ["BONE", "CAM-P", "KIT"]
        products.upsert_product(s, "KIT", components=[])
        assert products.kit_components(s) == {}


@pytest.mark.parametrize(
    ("components", "message"),
    [
        ([("KIT", 1)], "kit KIT cannot contain itself"),
        ([("A", 0)], "kit KIT: quantity of A must be a positive integer"),
        ([("GHOST", 1)], "kit KIT: unknown component SKU GHOST"),
        ([("INNER", 1)], "kit KIT: component INNER is itself a kit (nesting unsupported)"),
    ],
)
def test_bad_kits_are_refused(store, components, message):
    with store.session() as s:
        products.upsert_product(s, "A")
        products.upsert_product(s, "INNER", components=[("A", 1)])
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            products.upsert_product(s, "KIT", components=components)


GOOD_CSV = """sku,name,gtin,components
KIT-2,Kit 2 camisetas,,CAM-P*2;BONE
CAM-P,Camiseta P,7891000315507,
BONE,"Boné, azul",SEM GTIN,
"""


def test_csv_import_writes_products_and_kits_defined_in_any_order(store, tmp_path):
    path = tmp_path / "produtos.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    with store.session() as s:
        assert products.import_products_csv(s, path) == 3
    with store.session() as s:
        assert products.get_product(s, "BONE").name == "Boné, azul"
        assert products.kit_components(s) == {"KIT-2": [("BONE", 1), ("CAM-P", 2)]}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            "sku,name,gtin\nA,Um,\nB,Dois,7891000315508\n",
            "line 3: invalid GTIN '7891000315508': "
            "The number's checksum or check digit is invalid.",
        ),
        ("sku,name\nA,Um\n,Sem sku\n", "line 3: empty sku"),
        ("sku,name\nA,Um\nA,De novo\n", "line 3: duplicate sku 'A' (first on line 2)"),
        ("sku,components\nA,\nK,A*x\n", "line 3: bad component 'A*x' (expected SKU*QUANTITY)"),
        ("sku,components\nA,\nK,A*2;GHOST*1\n", "line 3: kit K: unknown component SKU GHOST"),
        ("sku,qty\nA,1\n", "line 1: unknown column 'qty' (columns: sku, name, gtin, components)"),
    ],
)
def test_csv_with_a_bad_line_writes_nothing(store, tmp_path, content, problem):
    """requirement: a bad row -> ValueError naming the file and line; no row written."""
    path = tmp_path / "produtos.csv"
    path.write_text(content, encoding="utf-8")
    with store.session() as s:
        products.upsert_product(s, "OLD", "Existing")
    with store.session() as s:
        with pytest.raises(ValueError) as raised:
            products.import_products_csv(s, path)
        assert str(raised.value) == f"{path}: {problem}"
    with store.session() as s:
        assert [p.sku for p in products.list_products(s)] == ["OLD"]
        assert products.kit_components(s) == {}
