"""Reading the CSV files users hand to erpsync (products, stock): one reader, one set of rules.

Encoding, delimiter and number conventions are erpsync.tabular's, shared with the files
connector: UTF-8 (with or without BOM), UTF-16 with BOM or Windows-1252; ``,``, ``;`` or tab;
a decimal comma in ``;``/tab files. Column names are case-insensitive; unknown or missing
columns, malformed quoting, ambiguous and out-of-range numbers are errors that name the file
and the line, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from erpsync.tabular import TableError, parse_number, read_table

#: the largest quantity erpsync accepts anywhere (SQLite integers stop at 2**63; stock never
#: comes near this, so a larger number is a typo)
MAX_QUANTITY = 1_000_000_000


@dataclass(frozen=True)
class Sheet:
    """The rows of one CSV file, and its number convention."""

    rows: list[tuple[int, dict[str, str]]]
    decimal_comma: bool

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return iter(self.rows)


def read_rows(path: Path, *, required: Collection[str], allowed: Collection[str]) -> Sheet:
    """(line number, {column: stripped value}) per data row.

    Raises:
        ValueError: "<file>: line N: <problem>", or "<file>: <problem>" for the whole file.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        table = read_table(data)
    except TableError as exc:
        raise ValueError(f"{path}: {exc}") from None
    columns = table.header
    missing = [c for c in required if c not in columns]
    unknown = [c for c in columns if c not in allowed]
    if missing or unknown:
        problem = f"unknown column {unknown[0]!r}" if unknown else f"missing column {missing[0]!r}"
        raise ValueError(f"{path}: line 1: {problem} (columns: {', '.join(allowed)})")
    rows = []
    for line, cells in table.records:
        if len(cells) > len(columns):
            raise ValueError(f"{path}: line {line}: more values than columns")
        padded = [*cells, *[""] * (len(columns) - len(cells))]
        rows.append((line, {k: v.strip() for k, v in zip(columns, padded, strict=True)}))
    return Sheet(rows, table.decimal_comma)


def quantity(
    text: str, *, what: str = "quantity", minimum: int = 0, decimal_comma: bool = False
) -> int:
    """A whole number in [minimum, MAX_QUANTITY], or ValueError saying what is wrong.

    ``decimal_comma``: the file follows the Brazilian convention (``1.000`` is then ambiguous,
    ``5,0`` is five).
    """
    try:
        number = parse_number(text, decimal_comma=decimal_comma)
    except ValueError as exc:
        if "ambiguous" in str(exc):
            raise ValueError(f"{what} {exc}") from None
        number = None
    if number is None or number != number.to_integral_value():
        raise ValueError(f"{what} {text.strip()!r} is not a whole number")
    value = int(number)
    if not minimum <= value <= MAX_QUANTITY:
        raise ValueError(f"{what} {value} is out of range ({minimum} to {MAX_QUANTITY})")
    return value
