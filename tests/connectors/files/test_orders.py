"""Files connector, orders: inbox files (JSON, CSV) -> canonical Orders; unreadable files
are rejected."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from erpsync.domain import Address, Buyer, Order, OrderItem, OrderStatus
from erpsync.errors import FatalError
from tests.connectors.files.kit import (
    CSV_HEADER,
    CSV_ROW,
    EXAMPLES,
    MINIMAL,
    make,
    pull,
    tree,
    write,
)

ORDER_1001 = Order(
    connector="arquivos",
    platform="files",
    external_id="LV-1001",
    number="1001",
    status=OrderStatus.PAID,
    channel_status="paid",
    created_at=datetime(2026, 3, 2, 13, 15, tzinfo=UTC),
    updated_at=datetime(2026, 3, 2, 13, 20, tzinfo=UTC),
    currency="BRL",
    items_total=Decimal("119.80"),
    shipping_cost=Decimal("18.50"),
    discount=Decimal("0.00"),
    total=Decimal("138.30"),
    buyer=Buyer(
        name="Ana Paula Souza",
        document="39053344705",
        email="ana.souza@example.com.br",
        phone="+55 11 98765-4321",
    ),
    shipping_address=Address(
        street="Avenida Paulista",
        number="1578",
        complement="Conjunto 42",
        district="Bela Vista",
        city="São Paulo",
        state="SP",
        zip="01310200",
        country="BR",
    ),
    items=(
        OrderItem(
            sku="CAMISETA-M",
            channel_item_id="CAM-BASICA",
            variation_id="M",
            title="Camiseta básica algodão - M",
            quantity=2,
            unit_price=Decimal("59.90"),
        ),
    ),
)

ORDER_1003 = Order(
    connector="arquivos",
    platform="files",
    external_id="LV-1003",
    number="1003",
    status=OrderStatus.PAID,
    channel_status="aprovado",
    created_at=datetime(2026, 3, 3, 11, 12, tzinfo=UTC),
    updated_at=datetime(2026, 3, 3, 11, 30, tzinfo=UTC),
    items_total=Decimal("59.90"),
    shipping_cost=Decimal("22.90"),
    discount=Decimal("10.00"),
    total=Decimal("72.80"),
    buyer=Buyer(
        name="Marcos Oliveira",
        document="47185203635",
        email="marcos.oliveira@example.com.br",
        phone="+55 41 99876-5432",
    ),
    shipping_address=Address(
        street="Rua XV de Novembro",
        number="700",
        complement="Apto 12",
        district="Centro",
        city="Curitiba",
        state="PR",
        zip="80020310",
    ),
    items=(
        OrderItem(
            sku="CAMISETA-P",
            channel_item_id="CAM-BASICA",
            variation_id="P",
            title="Camiseta básica algodão - P",
            quantity=1,
            unit_price=Decimal("59.90"),
        ),
    ),
    sale_ref="files:arquivos:C-1003",
)

# -- reading orders ----------------------------------------------------------------------------


def test_example_inbox_maps_to_exact_orders(tmp_path: Path) -> None:
    """requirement: JSON and CSV map to exact Orders (Decimal, aware UTC); the window is ignored."""
    shutil.copytree(EXAMPLES, tmp_path / "inbox")
    connector = make(tmp_path)

    pages = pull(connector)

    assert [[raw.external_id for raw in page.orders] for page in pages] == [
        ["LV-1001", "LV-1002"],
        ["LV-1003", "LV-1005", "LV-1004"],
    ]
    orders = {raw.external_id: connector.map_order(raw.payload) for p in pages for raw in p.orders}
    assert orders["LV-1001"] == ORDER_1001
    assert orders["LV-1003"] == ORDER_1003
    # LV-1005 is the other order of LV-1003's cart; orders outside a cart have no sale_ref
    assert orders["LV-1005"].sale_ref == ORDER_1003.sale_ref
    assert orders["LV-1005"].total == Decimal("79.80")
    assert orders["LV-1001"].sale_ref is None and orders["LV-1004"].sale_ref is None
    assert orders["LV-1002"].buyer.document == "11222333000181"
    assert orders["LV-1002"].channel_status == "enviado"
    assert pages[0].orders[0].updated_at == datetime(2026, 3, 2, 13, 20, tzinfo=UTC)
    assert pages[0].orders[0].payload["file"] == "orders-2026-03-02.json"
    assert all(page.checkpoint is None for page in pages)


def test_json_numbers_are_read_exactly_and_payload_stays_json(inbox: Path, tmp_path: Path) -> None:
    """requirement: JSON numbers never pass through float; the payload is JSON-serialisable."""
    order = {**MINIMAL, "external_id": 1234, "items_total": 0.1, "total": 0.105, "discount": 0}
    order["items"] = [{"sku": "CANECA-01", "quantity": 1, "unit_price": 0.1}]
    write(inbox, "one.json", json.dumps(order))

    [page] = pull(make(tmp_path))

    [raw] = page.orders
    assert raw.external_id == "1234"
    mapped = make(tmp_path).map_order(json.loads(json.dumps(raw.payload)))
    assert (mapped.external_id, mapped.items_total, mapped.total) == (
        "1234",
        Decimal("0.10"),
        Decimal("0.10"),  # half-even from the exact literal 0.105, not from float noise
    )


def test_csv_with_semicolons_and_bom_groups_rows_by_external_id(
    inbox: Path, tmp_path: Path
) -> None:
    """requirement: CSV rows group into orders by external_id, even when not adjacent."""
    text = (CSV_HEADER + CSV_ROW + CSV_ROW.replace("X-2", "X-3") + CSV_ROW).replace(",", ";")
    write(inbox, "pedidos.csv", "\ufeff" + text)

    [page] = pull(make(tmp_path))

    assert [raw.external_id for raw in page.orders] == ["X-2", "X-3"]
    order = make(tmp_path).map_order(page.orders[0].payload)
    assert [(item.sku, item.quantity) for item in order.items] == [("CANECA-01", 1)] * 2
    assert order.created_at == datetime(2026, 3, 1, 10, tzinfo=UTC)


def test_a_brazilian_excel_csv_reads_like_any_other(inbox: Path, tmp_path: Path) -> None:
    """requirement (issue 7, item 13): ';', Windows-1252 and decimal commas, as Excel in
    Portuguese saves them, import with exact amounts; a number that reads two ways holds its
    order (quarantine, with the line), not the file."""
    header = CSV_HEADER.replace(",", ";").replace("item.sku", "item.title;item.sku")
    when = "2026-03-01T10:00:00Z"
    good = f"X-2;paid;{when};{when};1.234,56;1.234,56;Caneca Ç;C-1;2;617,28\n"
    bad = good.replace("X-2", "X-3").replace("617,28", "1.234")
    write(inbox, "pedidos.csv", (header + good + bad).encode("cp1252"))
    connector = make(tmp_path)

    [page] = pull(connector)

    order = connector.map_order(page.orders[0].payload)
    assert (order.total, order.items[0].unit_price) == (Decimal("1234.56"), Decimal("617.28"))
    assert (order.items[0].title, order.items[0].quantity) == ("Caneca Ç", 2)
    with pytest.raises(ValueError, match=r"line 3: item.unit_price: '1.234' is ambiguous"):
        connector.map_order(page.orders[1].payload)


def test_a_utf16_tab_separated_csv_is_read(inbox: Path, tmp_path: Path) -> None:
    """requirement: Excel's "Texto Unicode" (UTF-16 with BOM, tabs) reads as well."""
    write(inbox, "pedidos.csv", (CSV_HEADER + CSV_ROW).replace(",", "\t").encode("utf-16"))
    [page] = pull(make(tmp_path))
    assert make(tmp_path).map_order(page.orders[0].payload).total == Decimal("10.00")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({**MINIMAL, "colour": "blue"}, r"^unknown order field\(s\): colour$"),
        ({**MINIMAL, "created_at": "2026-03-01T10:00:00"}, "time without a UTC offset"),
        ({**MINIMAL, "total": "10,00"}, "not an amount: '10,00'"),
        ({**MINIMAL, "items": []}, "items"),
        (["not", "an", "order"], "an order must be a JSON object, got a list"),
    ],
)
def test_unmappable_order_goes_to_the_engine_not_to_rejected(
    inbox: Path, tmp_path: Path, payload: object, message: str
) -> None:
    """requirement: a bad order does not reject its file; map_order raises (engine quarantines)."""
    bad_order = {**payload, "external_id": "X-BAD"} if isinstance(payload, dict) else payload
    write(inbox, "mixed.json", [MINIMAL, bad_order])
    connector = make(tmp_path)

    [page] = pull(connector)

    good, bad = page.orders
    assert connector.map_order(good.payload).external_id == "X-1"
    with pytest.raises((ValueError, ValidationError), match=message):
        connector.map_order(bad.payload)
    assert tree(inbox) == ["mixed.json"]


def test_a_bad_document_cep_or_state_imports_the_order_with_empty_fields_and_notes(
    inbox: Path, tmp_path: Path
) -> None:
    """requirement: only id, lines and quantities may quarantine an order (issue 12): a bad
    CPF, CEP or UF is left empty with a note; the document is kept as given in extra."""
    order = {
        **MINIMAL,
        "buyer": {"name": "Ana", "document": "123.456.789-00"},
        "shipping_address": {"city": "Niterói", "state": "Rio de Janeiro", "zip": "2400-000"},
    }
    write(inbox, "a.json", [order])
    connector = make(tmp_path)

    [page] = pull(connector)

    mapped = connector.map_order(page.orders[0].payload)
    assert mapped.buyer.document is None and mapped.buyer.name == "Ana"
    assert mapped.extra["buyer_document"] == {"type": None, "number": "123.456.789-00"}
    assert mapped.shipping_address.state == "RJ"  # a state name is read as its UF
    assert mapped.shipping_address.zip is None
    assert [note.split(":")[0] for note in mapped.notes] == [
        "buyer document left empty",
        "shipping address",
    ]
    assert all("123.456" not in note for note in mapped.notes)


def test_a_cart_column_makes_orders_one_purchase_of_their_connector(
    inbox: Path, tmp_path: Path
) -> None:
    """requirement (issue 8): orders with the same optional `cart` (JSON key or CSV column;
    text or an integer) are one purchase: they share a sale_ref scoped to their connector, so
    one NF-e at the cart's total covers them and no other connector's sale matches it."""
    write(
        inbox,
        "a.json",
        [
            {**MINIMAL, "cart": 77},
            {**MINIMAL, "external_id": "X-3", "cart": " 77 "},
            {**MINIMAL, "external_id": "X-4", "cart": ""},
        ],
    )
    header = CSV_HEADER.replace("external_id,", "external_id,cart,")
    write(inbox, "b.csv", header + CSV_ROW.replace("X-2,", "X-2,77,"))
    connector = make(tmp_path)

    mapped = [connector.map_order(raw.payload) for page in pull(connector) for raw in page.orders]

    assert [(order.external_id, order.sale_ref) for order in mapped] == [
        ("X-1", "files:arquivos:77"),
        ("X-3", "files:arquivos:77"),
        ("X-4", None),
        ("X-2", "files:arquivos:77"),
    ]


def test_a_cart_that_is_not_text_or_an_integer_quarantines_its_order(
    inbox: Path, tmp_path: Path
) -> None:
    write(inbox, "a.json", [{**MINIMAL, "cart": {"id": 77}}])
    connector = make(tmp_path)

    [page] = pull(connector)

    with pytest.raises(ValueError, match="cart must be text or an integer, got an object"):
        connector.map_order(page.orders[0].payload)


def test_an_id_listed_twice_in_one_json_file_keeps_the_later_object(
    inbox: Path, tmp_path: Path
) -> None:
    """requirement: one page never holds the same external_id twice; the later object wins."""
    write(inbox, "a.json", [MINIMAL, {**MINIMAL, "external_id": "X-2"}, {**MINIMAL, "total": "9"}])

    [page] = pull(make(tmp_path))

    assert [raw.external_id for raw in page.orders] == ["X-1", "X-2"]
    assert page.orders[0].payload["order"]["total"] == "9"


def test_missing_inbox_is_one_clear_error(tmp_path: Path) -> None:
    """requirement: pulling from a missing inbox fails with one line naming the folder."""
    with pytest.raises(FatalError, match=r"^arquivos: inbox .*/inbox is not a folder$"):
        pull(make(tmp_path))


def test_order_without_external_id_gets_a_stand_in_id_and_fails_mapping(
    inbox: Path, tmp_path: Path
) -> None:
    """requirement: an order with no external_id is still handed over, under a stand-in id."""
    write(inbox, "a.json", [MINIMAL, {**MINIMAL, "external_id": ""}])
    connector = make(tmp_path)

    [page] = pull(connector)

    assert page.orders[1].external_id == "a.json#2"
    with pytest.raises(ValidationError, match="external_id"):
        connector.map_order(page.orders[1].payload)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            CSV_ROW + CSV_ROW.replace("10.00,10.00,CANECA", "10.00,12.00,CANECA"),
            "column total differs between lines 2 and 3",
        ),
        (CSV_ROW.replace(",10.00\n", ",10.00,extra\n"), "line 2 has 10 cells, the header has 9"),
        (CSV_ROW.replace("CANECA-01,1,", "CANECA-01,0,"), "greater than 0"),
    ],
)
def test_unmappable_csv_order_raises_in_map_order(
    inbox: Path, tmp_path: Path, rows: str, message: str
) -> None:
    """requirement: CSV order problems surface in map_order with the line numbers."""
    write(inbox, "p.csv", CSV_HEADER + rows)
    connector = make(tmp_path)

    [page] = pull(connector)

    with pytest.raises((ValueError, ValidationError), match=message):
        connector.map_order(page.orders[0].payload)


# -- rejected files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (
            "bad.json",
            '{"external_id": "X-1",',
            "not valid JSON: Expecting property name enclosed in double quotes:"
            " line 1 column 23 (char 22)",
        ),
        ("nan.json", '{"total": NaN}', "not valid JSON: NaN is not allowed"),
        ("scalar.json", "42", "expected an order object or a list of orders, got a number"),
        (
            "latin1.json",
            '{"external_id": "Joã"}'.encode("latin-1"),
            "not UTF-8 text: byte 0xe3 at offset 19",
        ),
        (
            "both.csv",
            "external_id;status,total\n",
            "line 1: the header holds both ';' and ',': cannot tell the delimiter",
        ),
        (
            "cols.csv",
            "external_id,status\nX-1,paid\n",
            "missing required column(s): created_at, updated_at, items_total, total,"
            " item.quantity, item.unit_price",
        ),
        ("typo.csv", CSV_HEADER.replace("\n", ",item.colour\n"), "unknown column(s): item.colour"),
        ("empty.csv", "", "no header row"),
        (
            "quotes.csv",
            CSV_HEADER + 'X-1,"pa"id,\n',
            "line 2: malformed CSV (',' expected after '\"')",
        ),
        ("orders.xml", "<orders/>", "unsupported file type: expected a .json or .csv file"),
    ],
)
def test_unreadable_file_is_moved_to_rejected_with_its_reason(
    inbox: Path, tmp_path: Path, name: str, content: str | bytes, reason: str
) -> None:
    """requirement: a file that cannot be parsed moves to rejected/ with <name>.reason.txt."""
    original = write(inbox, name, content).read_bytes()
    write(inbox, "z-good.json", MINIMAL)

    pages = pull(make(tmp_path))

    assert [raw.external_id for page in pages for raw in page.orders] == ["X-1"]
    assert tree(inbox) == [f"rejected/{name}", f"rejected/{name}.reason.txt", "z-good.json"]
    assert (inbox / "rejected" / name).read_bytes() == original
    assert (inbox / "rejected" / f"{name}.reason.txt").read_text() == reason + "\n"


def test_rejected_name_clash_keeps_both_files(inbox: Path, tmp_path: Path) -> None:
    """requirement: nothing is lost: an earlier rejected file of the same name is kept."""
    rejected = tmp_path / "rejeitados"
    rejected.mkdir()
    write(rejected, "bad.json", "old")
    write(inbox, "bad.json", "new")

    pull(make(tmp_path, rejected=rejected))

    assert tree(rejected) == ["bad-2.json", "bad-2.json.reason.txt", "bad.json"]
    assert (rejected / "bad-2.json").read_text() == "new"
    assert (rejected / "bad.json").read_text() == "old"
