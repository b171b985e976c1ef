"""Reading CSV files people hand to erpsync: one set of rules for every CSV (stock import,
products import, the files connector's orders and listings).

Excel in Portuguese saves "CSV" with ``;`` between cells and a decimal comma, in Windows-1252;
"Texto Unicode" is UTF-16 with tabs; other tools write UTF-8 (often with a BOM) and ``,``. So:

- **Encoding:** a UTF-16 BOM means UTF-16; else UTF-8 (BOM or not); else Windows-1252 (which
  decodes any byte but five, so a file that is neither is refused).
- **Delimiter:** read from the header row: ``;``, tab or ``,``, whichever it holds. A header
  holding two of them is refused: no column name contains one, so the file is not a table.
- **Numbers:** in a ``;`` or tab file (the Brazilian convention) ``1.234,56``, ``1234,56`` and
  ``1234.56`` are read; in a ``,`` file only ``1234.56``. What could mean two numbers is refused
  with its line: ``1.234`` in a Brazilian file (one thousand two hundred and thirty-four, or
  one point two three four?), and any comma in a ``,`` file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal

DELIMITERS = (";", "\t", ",")
_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")
_BR_NUMBER = re.compile(r"(?P<int>\d{1,3}(?:\.\d{3})+|\d+)(?:,(?P<frac>\d+))?")
_DOT_NUMBER = re.compile(r"\d+(?:\.\d+)?")


class TableError(ValueError):
    """The file cannot be read as a table. ``line`` is None for the whole file."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        super().__init__(problem if line is None else f"line {line}: {problem}")
        self.problem = problem
        self.line = line


@dataclass(frozen=True)
class Table:
    """A CSV file's header (lower-cased, stripped) and its non-blank records with line numbers."""

    header: list[str]
    records: list[tuple[int, list[str]]]
    encoding: str
    delimiter: str

    @property
    def decimal_comma(self) -> bool:
        """True when the file follows the Brazilian convention (``;`` or tab between cells)."""
        return self.delimiter != ","

    def number(self, text: str) -> Decimal:
        """A number written in this file's convention; ValueError when unreadable or ambiguous."""
        return parse_number(text, decimal_comma=self.decimal_comma)


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name); TableError when the bytes are no text we know."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise TableError(
                "not a text file (a UTF-16 byte-order mark, then invalid UTF-16)"
            ) from None
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        raise TableError("not a text file (neither UTF-8, UTF-16 nor Windows-1252)") from None


def delimiter_of(header_line: str) -> str:
    """The delimiter a header row uses (``,`` for a one-column file)."""
    found = [d for d in DELIMITERS if d in header_line]
    if len(found) > 1:
        names = " and ".join(repr(d) for d in found)
        raise TableError(f"the header holds both {names}: cannot tell the delimiter", line=1)
    return found[0] if found else ","


def read_table(data: bytes) -> Table:
    """Decode, find the delimiter, and split into a header and records (blank rows skipped).

    Raises:
        TableError: undecodable bytes, an ambiguous header, or malformed quoting (with line).
    """
    text, encoding = decode(data)
    delimiter = delimiter_of(text.lstrip("\ufeff").split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [column.strip().lower() for column in next(reader, [])]
        records = [(reader.line_num, cells) for cells in reader if any(c.strip() for c in cells)]
    except csv.Error as exc:
        raise TableError(f"malformed CSV ({exc})", line=reader.line_num) from None
    return Table(header, records, encoding, delimiter)


def parse_number(text: str, *, decimal_comma: bool) -> Decimal:
    """``text`` as a Decimal, in a file's convention (see the module docstring).

    Raises:
        ValueError: "'<text>' is not a number" or "'<text>' is ambiguous: ...".
    """
    value = text.strip()
    sign = ""
    if value and value[0] in "+-":
        sign, value = ("-" if value[0] == "-" else ""), value[1:]
    if decimal_comma:
        if _THOUSANDS.fullmatch(value):
            raise ValueError(
                f"{text.strip()!r} is ambiguous: write {value.replace('.', '')} "
                f"or {value.replace('.', ',', 1)} (decimal comma)"
            )
        match = _BR_NUMBER.fullmatch(value)
        if match:
            digits = match["int"].replace(".", "")
            return Decimal(f"{sign}{digits}.{match['frac']}" if match["frac"] else sign + digits)
    elif "," in value:
        raise ValueError(
            f"{text.strip()!r} is ambiguous in a ','-separated file: use a dot for decimals "
            "and no thousands separator"
        )
    if _DOT_NUMBER.fullmatch(value):
        return Decimal(sign + value)
    raise ValueError(f"{text.strip()!r} is not a number")
