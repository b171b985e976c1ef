"""Orders: the canonical order files (FORMAT.md) -> canonical Orders; the CSV rules the
listings file shares (``csv_table``).

Everything here is pure: bytes or payloads in, records or domain objects out. Reading a file
splits into two steps so that one bad order never costs the others: ``read_orders`` only has to
find the orders in the file (a failure there rejects the whole file), and ``order_from_payload``
builds each ``Order`` later, inside the engine's quarantine guard.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from erpsync.domain import Order, to_utc
from erpsync.lenient import Lenient
from erpsync.tabular import Table, TableError, read_table

ORDER_FIELDS = (
    "external_id",
    "number",
    "status",
    "channel_status",
    "created_at",
    "updated_at",
    "currency",
    "items_total",
    "shipping_cost",
    "discount",
    "total",
    "fulfilled_by_channel",
    "cart",
)
BUYER_FIELDS = ("name", "document", "email", "phone")
ADDRESS_FIELDS = ("street", "number", "complement", "district", "city", "state", "zip", "country")
ITEM_FIELDS = ("sku", "channel_item_id", "variation_id", "title", "quantity", "unit_price")
JSON_ORDER_KEYS = frozenset((*ORDER_FIELDS, "buyer", "shipping_address", "items"))

#: one CSV row per item; order-level columns repeat on every row of the order
ORDER_LEVEL_COLUMNS = (
    *ORDER_FIELDS,
    *(f"buyer.{field}" for field in BUYER_FIELDS),
    *(f"shipping_address.{field}" for field in ADDRESS_FIELDS),
)
ITEM_COLUMNS = tuple(f"item.{field}" for field in ITEM_FIELDS)
CSV_COLUMNS = (*ORDER_LEVEL_COLUMNS, *ITEM_COLUMNS)
CSV_REQUIRED = (
    "external_id",
    "status",
    "created_at",
    "updated_at",
    "items_total",
    "total",
    "item.quantity",
    "item.unit_price",
)
#: the CSV columns holding numbers, written with a decimal comma in ";"-separated files
NUMBER_COLUMNS = (
    "items_total",
    "shipping_cost",
    "discount",
    "total",
    "item.quantity",
    "item.unit_price",
)

# Legacy systems export these identifiers as numbers; everything else textual must be a string.
_NUMERIC_IDS_OK = frozenset({"external_id", "number", "cart", "channel_item_id", "variation_id"})


class FileRejected(ValueError):
    """The file as a whole cannot be read; the message is the one-line reason."""


@dataclass(frozen=True)
class FileOrder:
    """One order found in a file, before mapping: what becomes a ``RawOrder``."""

    external_id: str
    updated_at: datetime | None
    payload: dict[str, Any]


def read_orders(name: str, data: bytes) -> list[FileOrder]:
    """Find the orders in one inbox file (``.json`` or ``.csv``), or raise FileRejected."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix == "json":
        return _json_orders(name, _decode(data))
    if suffix == "csv":
        return _csv_orders(name, data)
    raise FileRejected("unsupported file type: expected a .json or .csv file")


def order_from_payload(payload: Mapping[str, Any], *, connector: str, platform: str) -> Order:
    """Build the canonical Order from a payload made by ``read_orders``; ValueError if invalid."""
    if "rows" in payload:
        data: Any = order_from_rows(payload["rows"])
    elif "order" in payload:
        data = payload["order"]
    else:
        raise ValueError("payload has neither an 'order' nor 'rows'")
    return order_from_dict(data, connector=connector, platform=platform)


def order_from_dict(data: Any, *, connector: str, platform: str) -> Order:
    """Validate one canonical order object (the JSON shape) into an Order."""
    if not isinstance(data, Mapping):
        # ValueError, not TypeError: it is a bad payload, which the engine quarantines
        raise ValueError(f"an order must be a JSON object, got {_kind(data)}")
    unknown = sorted(set(data) - JSON_ORDER_KEYS)
    if unknown:
        raise ValueError(f"unknown order field(s): {', '.join(unknown)}")
    fields = {key: _numeric_id_as_text(key, value) for key, value in data.items()}
    if isinstance(fields.get("items"), list):
        fields["items"] = [_item_ids_as_text(item) for item in fields["items"]]
    if isinstance(fields.get("shipping_address"), Mapping):
        address = dict(fields["shipping_address"])
        address["number"] = _numeric_id_as_text("number", address.get("number"))
        fields["shipping_address"] = address
    if not fields.get("channel_status"):
        # files carry our own status vocabulary; the "raw" channel status is the same word
        fields["channel_status"] = fields.get("status")
    cart = _cart(fields.pop("cart", None))
    soft = _soft_fields(fields)
    return Order.model_validate(
        {
            **fields,
            "connector": connector,
            "platform": platform,
            "sale_ref": cart_ref(connector, cart),
            "extra": soft.extra,
            "notes": tuple(soft.notes),
        }
    )


def cart_ref(connector: str, cart: str | None) -> str | None:
    """The ``sale_ref`` of a files order's cart: orders of one connector with the same ``cart``
    are one purchase (one NF-e at the cart's total covers them, as a Mercado Livre pack's).

    Scoped to the connector on purpose: cart numbers of two legacy systems may coincide, and a
    shared ``sale_ref`` across connectors means "the same sale seen twice", whose second copy
    never moves stock. The lowercase ``files:`` prefix can never equal a marketplace's
    ``MARKETPLACE:number`` (erpsync.domain.sale_ref writes those in upper case).
    """
    return None if cart is None else f"files:{connector}:{cart}"


def _cart(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError(f"cart must be text or an integer, got {_kind(value)}")
    return value.strip()


def _soft_fields(fields: dict[str, Any]) -> Lenient:
    """Check the buyer's document, the CEP and the UF softly, in place: a bad one is emptied
    with a note (only id, items and quantities may send an order to the quarantine)."""
    soft = Lenient()
    buyer = fields.get("buyer")
    if isinstance(buyer, Mapping) and isinstance(buyer.get("document"), str):
        fields["buyer"] = {**buyer, "document": soft.document(buyer["document"])}
    address = fields.get("shipping_address")
    if isinstance(address, Mapping):
        address = dict(address)
        if isinstance(address.get("state"), str):
            address["state"] = soft.uf(address["state"])
        if isinstance(address.get("zip"), str):
            address["zip"] = soft.cep(address["zip"])
        fields["shipping_address"] = address
    return soft


def order_from_rows(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Fold the CSV rows of one order into the canonical order object (the JSON shape)."""
    first_seen: dict[str, tuple[str, int]] = {}
    items: list[dict[str, str]] = []
    for row in rows:
        line, values = row["line"], row["values"]
        if row.get("error"):
            raise ValueError(row["error"])
        for column in ORDER_LEVEL_COLUMNS:
            cell = values.get(column, "").strip()
            if not cell:
                continue  # later rows may leave order-level cells blank
            seen = first_seen.setdefault(column, (cell, line))
            if seen[0] != cell:
                raise ValueError(f"column {column} differs between lines {seen[1]} and {line}")
        items.append(_nonblank(values, ITEM_FIELDS, prefix="item."))
    order: dict[str, Any] = {
        column: value for column, (value, _) in first_seen.items() if "." not in column
    }
    for key, fields in (("buyer", BUYER_FIELDS), ("shipping_address", ADDRESS_FIELDS)):
        nested = {f: v for f in fields if (v := first_seen.get(f"{key}.{f}", ("",))[0])}
        if nested:
            order[key] = nested
    order["items"] = items
    return order


def skus_in(payload: Mapping[str, Any]) -> set[str]:
    """The item SKUs an order payload mentions, without mapping it (it may not map)."""
    if "rows" in payload:
        cells = (row["values"].get("item.sku", "") for row in payload["rows"])
    else:
        order = payload.get("order")
        items = order.get("items") if isinstance(order, Mapping) else None
        cells = (i.get("sku") for i in items or () if isinstance(i, Mapping))
    return {cell.strip() for cell in cells if isinstance(cell, str) and cell.strip()}


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")  # -sig: spreadsheets often start UTF-8 CSVs with a BOM
    except UnicodeDecodeError as exc:
        raise FileRejected(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from None


def _json_orders(name: str, text: str) -> list[FileOrder]:
    try:
        document = json.loads(text, parse_float=_exact_number, parse_constant=_no_constant)
    except ValueError as exc:  # JSONDecodeError, or a NaN/Infinity refused below
        raise FileRejected(f"not valid JSON: {exc}") from None
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise FileRejected(f"expected an order object or a list of orders, got {_kind(document)}")
    found: dict[str, FileOrder] = {}
    for index, order in enumerate(document, start=1):
        fields = order if isinstance(order, dict) else {}
        external_id = _id_text(fields.get("external_id")) or f"{name}#{index}"
        updated_at = _time_or_none(fields.get("updated_at"))
        # an id listed twice: the later object wins, as it would in a later file
        found[external_id] = FileOrder(external_id, updated_at, {"file": name, "order": order})
    return list(found.values())


class _Number(str):
    """A JSON number's literal, kept as text.

    Exact like Decimal (to_money parses the text), and unlike Decimal the payload stays
    JSON-serialisable for the store and quarantine.
    """

    __slots__ = ()


def _exact_number(literal: str) -> str:
    return _Number(literal)


def _no_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not allowed")


def _csv_orders(name: str, data: bytes) -> list[FileOrder]:
    header, records, table = csv_table(data, known=CSV_COLUMNS, required=CSV_REQUIRED)
    groups: dict[str, list[dict[str, Any]]] = {}
    for line, cells in records:
        values = dict(zip(header, cells, strict=False))
        row: dict[str, Any] = {"line": line, "values": values}
        if len(cells) != len(header):
            row["error"] = f"line {line} has {len(cells)} cells, the header has {len(header)}"
        elif table.decimal_comma:
            _to_dot_decimals(row, table)
        external_id = values.get("external_id", "").strip() or f"{name}#line{line}"
        groups.setdefault(external_id, []).append(row)
    return [
        FileOrder(
            external_id,
            _time_or_none(rows[0]["values"].get("updated_at")),
            {"file": name, "rows": rows},
        )
        for external_id, rows in groups.items()
    ]


def _to_dot_decimals(row: dict[str, Any], table: Table) -> None:
    """Rewrite a Brazilian-convention row's numbers (``1.234,56``) as canonical ``1234.56``;
    a number that reads two ways is the row's error (its order goes to quarantine)."""
    values = row["values"]
    for column in NUMBER_COLUMNS:
        cell = values.get(column, "").strip()
        if not cell:
            continue
        try:
            values[column] = str(table.number(cell))
        except ValueError as exc:
            row["error"] = f"line {row['line']}: {column}: {exc}"
            return


def csv_table(
    data: bytes, *, known: Sequence[str], required: Sequence[str]
) -> tuple[list[str], list[tuple[int, list[str]]], Table]:
    """Header (checked against the known/required columns), the non-blank records, and the
    table (encoding, delimiter and number convention: erpsync.tabular's rules)."""
    try:
        table = read_table(data)
    except TableError as exc:
        raise FileRejected(str(exc)) from None
    _check_header(table.header, known, required)
    return table.header, table.records, table


def _check_header(header: list[str], known: Sequence[str], required: Sequence[str]) -> None:
    if not any(header):
        raise FileRejected("no header row")
    duplicates = sorted({column for column in header if header.count(column) > 1})
    if duplicates:
        raise FileRejected(f"duplicate column(s): {', '.join(duplicates)}")
    missing = [column for column in required if column not in header]
    if missing:
        raise FileRejected(f"missing required column(s): {', '.join(missing)}")
    unknown = [column for column in header if column not in known]
    if unknown:
        raise FileRejected(f"unknown column(s): {', '.join(unknown)}")


def _nonblank(values: Mapping[str, str], fields: Sequence[str], *, prefix: str) -> dict[str, str]:
    return {field: cell for field in fields if (cell := values.get(prefix + field, "").strip())}


def _item_ids_as_text(item: Any) -> Any:
    if not isinstance(item, Mapping):
        return item
    return {key: _numeric_id_as_text(key, value) for key, value in item.items()}


def _numeric_id_as_text(key: str, value: Any) -> Any:
    if key in _NUMERIC_IDS_OK and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _id_text(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value  # not stripped: it must equal the mapped Order's external_id
    return None


def _time_or_none(value: Any) -> datetime | None:
    try:
        return to_utc(value) if value else None
    except ValueError:
        return None  # map_order reports it, with the rest of the order's problems


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, _Number):
        return "a number"
    return names.get(type(value), "a number")
