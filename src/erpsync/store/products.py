"""The catalogue: products (SKU, name, GTIN), kits and their components, and CSV import."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Table, bindparam, delete
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from erpsync.documents import ValidationError as DocumentError
from erpsync.documents import gtin
from erpsync.domain import utcnow
from erpsync.store import csvfile
from erpsync.store.tables import KitComponent, Product

CHUNK = 500
CSV_COLUMNS = ("sku", "name", "gtin", "components")
#: what NF-e and Brazilian ERPs write for a product without a barcode
NO_GTIN = "SEM GTIN"

Components = Sequence[tuple[str, int]]

_PRODUCTS: Table = Product.__table__  # type: ignore[attr-defined]
#: built once: a pull asks it for every page (SQLAlchemy then compiles it once)
_KNOWN = select_columns(_PRODUCTS.c.sku).where(
    _PRODUCTS.c.sku.in_(bindparam("p_skus", expanding=True))
)


def normalize_gtin(value: str | None) -> str | None:
    """A valid GTIN-8/12/13/14 as digits, or None for empty / "SEM GTIN".

    Raises:
        ValueError: wrong length or check digit.
    """
    if value is None or not value.strip() or value.strip().upper() == NO_GTIN:
        return None
    try:
        # gtin() accepts GTIN-14, EAN-13, UPC-A (12) and EAN-8 with the GS1 check digit
        return gtin(value)
    except DocumentError as exc:
        raise ValueError(f"invalid GTIN {value.strip()!r}: {exc}") from exc


def get_product(s: Session, sku: str) -> Product | None:
    return s.get(Product, sku)


def list_products(s: Session) -> list[Product]:
    """Every product, by SKU."""
    return list(s.exec(select(Product).order_by(col(Product.sku))).all())


def kit_components(s: Session) -> dict[str, list[tuple[str, int]]]:
    """kit SKU -> [(component SKU, units per kit)], components sorted by SKU."""
    kits: dict[str, list[tuple[str, int]]] = defaultdict(list)
    query = select(KitComponent).order_by(
        col(KitComponent.kit_sku), col(KitComponent.component_sku)
    )
    for part in s.exec(query).all():
        kits[part.kit_sku].append((part.component_sku, part.quantity))
    return dict(kits)


def known_skus(s: Session, skus: Iterable[str]) -> set[str]:
    """Those of ``skus`` that are products in the catalogue."""
    wanted = list(dict.fromkeys(skus))
    found: set[str] = set()
    connection = s.connection()
    for start in range(0, len(wanted), CHUNK):
        rows = connection.execute(_KNOWN, {"p_skus": wanted[start : start + CHUNK]})
        found.update(sku for (sku,) in rows)
    return found


def _check_components(sku: str, components: Components) -> list[tuple[str, int]]:
    merged: dict[str, int] = {}
    for component, quantity in components:
        if component == sku:
            raise ValueError(f"kit {sku} cannot contain itself")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise ValueError(f"kit {sku}: quantity of {component} must be a positive integer")
        merged[component] = merged.get(component, 0) + quantity
    return list(merged.items())


def _check_kit_graph(s: Session, sku: str, parts: list[tuple[str, int]]) -> None:
    """One level of kits only: a kit's components are plain products, and a kit is no part."""
    names = [component for component, _ in parts]
    missing = sorted(set(names) - known_skus(s, names))
    if missing:
        raise ValueError(f"kit {sku}: unknown component SKU {', '.join(missing)}")
    kits = kit_components(s)
    nested = sorted(component for component in names if component in kits)
    if nested:
        raise ValueError(f"kit {sku}: component {nested[0]} is itself a kit (nesting unsupported)")
    if parts and any(sku == c for comps in kits.values() for c, _ in comps):
        raise ValueError(f"{sku} is a component of another kit and cannot be a kit itself")


def upsert_product(
    s: Session,
    sku: str,
    name: str | None = None,
    gtin: str | None = None,
    components: Components | None = None,
) -> Product:
    """Create or update a product. ``None`` leaves a field as it is; ``components=[]`` makes
    the product a plain one again; a list replaces its kit components.

    Raises:
        ValueError: empty SKU, invalid GTIN, or bad components (unknown, nested, non-positive).
    """
    sku = sku.strip()
    if not sku:
        raise ValueError("empty SKU")
    checked_gtin = normalize_gtin(gtin)
    parts = None if components is None else _check_components(sku, components)
    product = s.get(Product, sku)
    now = utcnow()
    if product is None:
        product = Product(sku=sku, created_at=now, updated_at=now)
    if name is not None and name.strip():
        product.name = name.strip()
    if checked_gtin is not None:
        product.gtin = checked_gtin
    product.updated_at = now
    s.add(product)
    s.flush()
    if parts is not None:
        _check_kit_graph(s, sku, parts)
        s.execute(delete(KitComponent).where(col(KitComponent.kit_sku) == sku))
        for component, quantity in parts:
            s.add(KitComponent(kit_sku=sku, component_sku=component, quantity=quantity))
        s.flush()
    return product


@dataclass(frozen=True)
class _Row:
    line: int
    sku: str
    name: str | None
    gtin: str | None
    components: list[tuple[str, int]] | None


def parse_components(text: str) -> list[tuple[str, int]]:
    """ "SKU1*2;SKU2" -> [("SKU1", 2), ("SKU2", 1)]; an empty text is no components."""
    parts: list[tuple[str, int]] = []
    for chunk in text.split(";"):
        if not chunk.strip():
            continue
        component, star, amount = chunk.partition("*")
        if not component.strip() or (star and not amount.strip().isdigit()):
            raise ValueError(f"bad component {chunk.strip()!r} (expected SKU*QUANTITY)")
        per_kit = (
            csvfile.quantity(amount.strip(), what="component quantity", minimum=1) if star else 1
        )
        parts.append((component.strip(), per_kit))
    return parts


def _read_csv(path: Path) -> list[_Row]:
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for line, record in csvfile.read_rows(path, required=("sku",), allowed=CSV_COLUMNS):
        try:
            rows.append(_parse_row(line, record, seen))
        except ValueError as exc:
            raise ValueError(f"{path}: line {line}: {exc}") from None
    return rows


def _parse_row(line: int, record: dict[str, str], seen: dict[str, int]) -> _Row:
    sku = (record.get("sku") or "").strip()
    if not sku:
        raise ValueError("empty sku")
    if sku in seen:
        raise ValueError(f"duplicate sku {sku!r} (first on line {seen[sku]})")
    seen[sku] = line
    text = record.get("components")
    components = None if text is None or not text.strip() else parse_components(text)
    name = (record.get("name") or "").strip() or None
    return _Row(line, sku, name, normalize_gtin(record.get("gtin")), components)


def import_products_csv(s: Session, path: str | Path) -> int:
    """Upsert every row of a products CSV (sku,name,gtin,components); all or nothing.

    ``components`` is "SKU1*2;SKU2*1". Components may be defined anywhere in the file.

    Returns:
        The number of rows imported.

    Raises:
        ValueError: "<file>: line N: <problem>" for the first bad row; nothing is written.
    """
    path = Path(path)
    rows = _read_csv(path)
    # a SAVEPOINT: a kit problem found while writing undoes every row of this file
    with s.begin_nested():
        for row in rows:
            upsert_product(s, row.sku, row.name, row.gtin)
        for row in rows:
            if row.components is None:
                continue
            try:
                upsert_product(s, row.sku, components=row.components)
            except ValueError as exc:
                raise ValueError(f"{path}: line {row.line}: {exc}") from None
    return len(rows)
