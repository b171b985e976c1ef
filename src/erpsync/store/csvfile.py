"""Reading the CSV files users hand to erpsync (products, stock): one reader, one set of rules.

Spreadsheets saved in Brazil come as UTF-8 (often with a BOM) or as Windows-1252 (Excel's
"CSV" on a pt-BR Windows); both are read. Column names are case-insensitive; unknown or
missing columns, malformed quoting and out-of-range numbers are errors that name the file and
the line, and nothing is written.
"""

from __future__ import annotations

import csv
from collections.abc import Collection
from pathlib import Path

#: the largest quantity erpsync accepts anywhere (SQLite integers stop at 2**63; stock never
#: comes near this, so a larger number is a typo)
MAX_QUANTITY = 1_000_000_000


def read_rows(
    path: Path, *, required: Collection[str], allowed: Collection[str]
) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: stripped value}) per data row.

    Raises:
        ValueError: "<file>: line N: <problem>", or "<file>: <problem>" for the whole file.
    """
    text = _decode(path)
    reader = csv.DictReader(text.splitlines(keepends=True), strict=True)
    try:
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        missing = [c for c in required if c not in columns]
        unknown = [c for c in columns if c not in allowed]
        if missing or unknown:
            problem = (
                f"unknown column {unknown[0]!r}" if unknown else f"missing column {missing[0]!r}"
            )
            raise ValueError(f"{path}: line 1: {problem} (columns: {', '.join(allowed)})")
        reader.fieldnames = columns
        rows = []
        for record in reader:
            if None in record:
                raise ValueError(f"{path}: line {reader.line_num}: more values than columns")
            rows.append((reader.line_num, {k: (v or "").strip() for k, v in record.items()}))
    except csv.Error as exc:
        raise ValueError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from None
    return rows


def quantity(text: str, *, what: str = "quantity", minimum: int = 0) -> int:
    """A whole number in [minimum, MAX_QUANTITY], or ValueError saying what is wrong."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a whole number") from None
    if not minimum <= value <= MAX_QUANTITY:
        raise ValueError(f"{what} {value} is out of range ({minimum} to {MAX_QUANTITY})")
    return value


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a text file (neither UTF-8 nor Windows-1252)") from exc
