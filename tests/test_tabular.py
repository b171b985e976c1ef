"""erpsync.tabular: one reader for every CSV: encoding, delimiter and number conventions."""

from decimal import Decimal

import pytest

from erpsync.tabular import TableError, parse_number, read_table

ROWS = "sku;quantidade\nCAMISETA-Ç;1.234,5\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (ROWS.encode("utf-8"), "UTF-8"),
        (b"\xef\xbb\xbf" + ROWS.encode("utf-8"), "UTF-8"),
        (ROWS.encode("utf-16"), "UTF-16"),  # BOM + little-endian, as Excel's "Texto Unicode"
        (b"\xfe\xff" + ROWS.encode("utf-16-be"), "UTF-16"),
        (ROWS.encode("cp1252"), "Windows-1252"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "windows-1252"],
)
def test_every_encoding_excel_saves_reads_the_same(data, encoding):
    """requirement: UTF-8 with or without BOM, UTF-16 with BOM and Windows-1252 all read."""
    table = read_table(data)
    assert (table.encoding, table.delimiter, table.header) == (encoding, ";", ["sku", "quantidade"])
    assert table.records == [(2, ["CAMISETA-Ç", "1.234,5"])]
    assert table.number(table.records[0][1][1]) == Decimal("1234.5")


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [("sku,quantity", ","), ("sku;quantity", ";"), ("sku\tquantity", "\t"), ("sku", ",")],
)
def test_the_delimiter_comes_from_the_header(header, delimiter):
    assert read_table(f"{header}\n".encode()).delimiter == delimiter


def test_a_header_with_two_delimiters_is_refused():
    with pytest.raises(TableError, match=r"^line 1: the header holds both ';' and ','"):
        read_table(b"sku;quantity,location\n")


def test_bytes_that_are_no_text_are_refused():
    with pytest.raises(TableError, match=r"^not a text file"):
        read_table(b"\x81\x8d\x8f\x90\x9d")


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("1.234,56", True, Decimal("1234.56")),
        ("1234,56", True, Decimal("1234.56")),
        ("1.234.567,8", True, Decimal("1234567.8")),
        ("12,5", True, Decimal("12.5")),
        ("1234.56", True, Decimal("1234.56")),  # a dot that cannot be a thousands mark
        ("12.5", True, Decimal("12.5")),
        ("-3,10", True, Decimal("-3.10")),
        ("7", True, Decimal("7")),
        ("1234.56", False, Decimal("1234.56")),
        ("7", False, Decimal("7")),
    ],
)
def test_numbers_in_each_convention(text, decimal_comma, expected):
    """requirement: `1.234,56` reads where the file's convention is Brazilian."""
    assert parse_number(text, decimal_comma=decimal_comma) == expected


@pytest.mark.parametrize(
    ("text", "decimal_comma", "message"),
    [
        ("1.234", True, r"'1.234' is ambiguous: write 1234 or 1,234 \(decimal comma\)"),
        ("1.234.567", True, "is ambiguous"),
        ("1,5", False, "is ambiguous in a ','-separated file"),
        ("1,234.56", False, "is ambiguous"),
        ("1.234,5,6", True, "is not a number"),
        ("dez", True, "'dez' is not a number"),
        ("", False, "is not a number"),
    ],
)
def test_what_reads_two_ways_or_none_is_refused(text, decimal_comma, message):
    with pytest.raises(ValueError, match=message):
        parse_number(text, decimal_comma=decimal_comma)
