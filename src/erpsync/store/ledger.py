"""The stock ledger: append-only signed movements, idempotent by key, summed into levels."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, case, func
from sqlalchemy import select as select_columns
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from erpsync.domain import utcnow
from erpsync.store import csvfile
from erpsync.store.tables import BUCKETS, StockMovement

CHUNK = 500
#: an import reports progress every this many rows
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class StockLevel:
    """A SKU's units summed over some locations: physically here, and promised to orders."""

    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        """What may still be sold: on hand minus reserved (may be negative when oversold)."""
        return self.on_hand - self.reserved


def key_exists(s: Session, key: str) -> bool:
    """True when a movement with this idempotency key is already in the ledger."""
    query = select(StockMovement.id).where(StockMovement.idempotency_key == key)
    return s.exec(query).first() is not None


_MOVEMENTS: Table = StockMovement.__table__  # type: ignore[attr-defined]
#: backends with INSERT ... ON CONFLICT DO NOTHING; others take the SAVEPOINT path below
_UPSERT_DIALECTS = frozenset({"sqlite", "postgresql"})


@functools.cache
def _insert_once(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (idempotency_key) DO NOTHING, built once per dialect."""
    upsert = importlib.import_module(f"sqlalchemy.dialects.{dialect}")
    # RETURNING tells "written" from "skipped" on every driver (psycopg's rowcount is -1 here)
    return (
        upsert.insert(_MOVEMENTS)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(_MOVEMENTS.c.id)
    )


def _movement(
    sku: str,
    location: str,
    bucket: str,
    quantity: int,
    reason: str,
    reference: str | None,
    key: str | None,
    at: datetime | None,
) -> dict[str, Any]:
    """One movement's row, as ``record`` writes it and ``PageMovements`` queues it.

    Raises:
        ValueError: unknown bucket.
    """
    if bucket not in BUCKETS:
        raise ValueError(f"unknown stock bucket {bucket!r} (expected one of {', '.join(BUCKETS)})")
    return {
        "sku": sku,
        "location": location,
        "bucket": bucket,
        "quantity": quantity,
        "reason": reason,
        "reference": reference,
        "idempotency_key": key,
        "created_at": at or utcnow(),
    }


def record(
    s: Session,
    *,
    sku: str,
    location: str,
    bucket: str,
    quantity: int,
    reason: str,
    reference: str | None,
    key: str | None,
    at: datetime | None = None,
) -> bool:
    """Append one movement; with a ``key``, at most once ever.

    Returns:
        True when written; False when a movement with ``key`` already exists (nothing written).

    Raises:
        ValueError: unknown bucket.
    """
    values = _movement(sku, location, bucket, quantity, reason, reference, key, at)
    dialect = s.get_bind().dialect.name
    if key is not None and dialect in _UPSERT_DIALECTS:
        # one statement, and the UNIQUE constraint decides even against a concurrent writer
        result = s.execute(_insert_once(dialect), values)
        return result.first() is not None
    if key is not None and key_exists(s, key):
        return False
    movement = StockMovement(**values)
    try:
        # a concurrent writer may have inserted the key since the check above: the UNIQUE
        # constraint decides, and the SAVEPOINT keeps the caller's transaction usable
        with s.begin_nested():
            s.add(movement)
    except IntegrityError:
        if key is not None and key_exists(s, key):
            return False
        raise
    return True


@functools.cache
def _insert_many(dialect: str) -> Any:
    """The INSERT of ``PageMovements.flush``: ON CONFLICT (idempotency_key) DO NOTHING where
    the backend has it (a concurrent writer's row stands, as with ``record``)."""
    if dialect not in _UPSERT_DIALECTS:
        return _MOVEMENTS.insert()
    upsert = importlib.import_module(f"sqlalchemy.dialects.{dialect}")
    return upsert.insert(_MOVEMENTS).on_conflict_do_nothing(index_elements=["idempotency_key"])


#: the ledger rows of a page's orders (``PageMovements``), built once: a pull reads it for
#: every page, and SQLAlchemy then compiles it once
_PAGE_ROWS = select_columns(
    _MOVEMENTS.c.reference,
    _MOVEMENTS.c.bucket,
    _MOVEMENTS.c.sku,
    _MOVEMENTS.c.location,
    _MOVEMENTS.c.quantity,
    _MOVEMENTS.c.idempotency_key,
).where(_MOVEMENTS.c.reference.in_(bindparam("p_references", expanding=True)))


class PageMovements:
    """A page's stock movements, written together (``flush``) instead of one by one.

    ``record`` costs one INSERT per movement and ``booked`` one SELECT per changed order, and
    SQLAlchemy's work around each statement costs several times SQLite's own
    (``bench/pull_orders.py --stocked --profile``). Here the ledger rows of the page's orders
    (``references``) are read in one query; ``record`` answers from them what the INSERT's
    RETURNING answered (written, unless a movement with its key is in the ledger or already
    queued) and queues the row; ``booked`` sums them with the queued rows; ``flush`` writes
    the queue in one executemany, in the order recorded. The caller flushes before anything
    else reads the ledger: at the end of the page's transaction. The run's lease on the
    connector keeps other writers off these orders' keys while the page is open.
    """

    def __init__(self, s: Session, references: Iterable[str]) -> None:
        self._s = s
        self._references = set(references)
        self._rows: list[dict[str, Any]] = []
        self._keys: set[str] = set()
        #: (reference, bucket) -> (sku, location) -> units, the ledger's and the queued rows'
        self._held: dict[tuple[str, str], dict[tuple[str, str], int]] = {}
        wanted = sorted(self._references)
        connection = s.connection()
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            rows = connection.execute(_PAGE_ROWS, {"p_references": chunk})
            for reference, bucket, sku, location, quantity, key in rows:
                self._hold(reference, bucket, sku, location, quantity)
                if key is not None:
                    self._keys.add(key)

    def __len__(self) -> int:
        """How many movements are queued."""
        return len(self._rows)

    def record(
        self,
        *,
        sku: str,
        location: str,
        bucket: str,
        quantity: int,
        reason: str,
        reference: str,
        key: str | None,
        at: datetime | None = None,
    ) -> bool:
        """Queue one movement as ``record`` would write it; with a ``key``, at most once ever.

        Returns:
            True when queued; False when a movement with ``key`` is in the ledger or queued.

        Raises:
            ValueError: unknown bucket, or ``reference`` is not one of the page's.
        """
        values = _movement(sku, location, bucket, quantity, reason, reference, key, at)
        if reference not in self._references:
            raise ValueError(f"{reference!r} is not one of the page's references")
        if key is not None:
            if key in self._keys:
                return False
            self._keys.add(key)
        self._rows.append(values)
        self._hold(reference, bucket, sku, location, quantity)
        return True

    def booked(self, reference: str, bucket: str) -> dict[tuple[str, str], int]:
        """As ``engine.stock.booked``: what the ledger, queued rows included, holds for one
        order in one bucket, per (sku, location) (none that sum to zero)."""
        held = self._held.get((reference, bucket), {})
        return {place: units for place, units in sorted(held.items()) if units}

    def flush(self) -> int:
        """Write the queued movements (one executemany); returns how many."""
        rows, self._rows = self._rows, []
        if rows:
            statement = _insert_many(self._s.get_bind().dialect.name)
            self._s.connection().execute(statement, rows)
        return len(rows)

    def _hold(self, reference: str, bucket: str, sku: str, location: str, units: int) -> None:
        held = self._held.setdefault((reference, bucket), {})
        held[(sku, location)] = held.get((sku, location), 0) + units


def levels(
    s: Session, locations: Sequence[str], skus: Iterable[str] | None = None
) -> dict[str, StockLevel]:
    """On-hand and reserved units per SKU, summed over ``locations``.

    With ``skus``, every one of them is in the result (zero when it has no movements);
    without, every SKU that has movements in those locations.
    """
    wanted = None if skus is None else list(dict.fromkeys(skus))
    result = {sku: StockLevel(0, 0) for sku in wanted or ()}
    if not locations:
        return result
    if wanted is None:
        result.update(_sum_levels(s, locations, None))
        return result
    for start in range(0, len(wanted), CHUNK):
        result.update(_sum_levels(s, locations, wanted[start : start + CHUNK]))
    return result


def _sum_levels(
    s: Session, locations: Sequence[str], skus: list[str] | None
) -> dict[str, StockLevel]:
    on_hand = func.sum(
        case((col(StockMovement.bucket) == "on_hand", StockMovement.quantity), else_=0)
    )
    reserved = func.sum(
        case((col(StockMovement.bucket) == "reserved", StockMovement.quantity), else_=0)
    )
    query = select(StockMovement.sku, on_hand, reserved).where(
        col(StockMovement.location).in_(list(locations))
    )
    if skus is not None:
        query = query.where(col(StockMovement.sku).in_(skus))
    rows = s.exec(query.group_by(col(StockMovement.sku))).all()
    return {sku: StockLevel(int(hand or 0), int(held or 0)) for sku, hand, held in rows}


def set_on_hand(
    s: Session,
    sku: str,
    location: str,
    quantity: int,
    reason: str = "adjust",
    reference: str | None = None,
) -> int:
    """Make ``sku``'s on-hand units in ``location`` equal ``quantity``; return the change written.

    The ledger stays append-only: an adjusting movement of ``quantity - current`` is written
    (nothing when they are equal).
    """
    current = levels(s, [location], [sku])[sku].on_hand
    delta = quantity - current
    if delta:
        record(
            s,
            sku=sku,
            location=location,
            bucket="on_hand",
            quantity=delta,
            reason=reason,
            reference=reference,
            key=None,
        )
    return delta


def movements(
    s: Session, sku: str | None = None, limit: int = 100, *, reference: str | None = None
) -> list[StockMovement]:
    """The latest movements first, optionally of one SKU and/or one reference."""
    query = select(StockMovement)
    if sku is not None:
        query = query.where(StockMovement.sku == sku)
    if reference is not None:
        query = query.where(StockMovement.reference == reference)
    return list(s.exec(query.order_by(col(StockMovement.id).desc()).limit(limit)).all())


def locations(s: Session) -> set[str]:
    """Every location that has ever held stock in the ledger."""
    return set(s.exec(select(StockMovement.location).distinct()).all())


def location_problem(location: str, known: Collection[str]) -> str | None:
    """Why ``location`` may not receive stock (a typo, most likely), or None when it may."""
    if location in known:
        return None
    near = [k for k in sorted(known) if k.casefold() == location.casefold()]
    hint = f"did you mean {near[0]!r}? " if near else ""
    return (
        f"unknown location {location!r} ({hint}known: {', '.join(sorted(known)) or 'none'}; "
        "--new-location adds one)"
    )


def import_stock_csv(
    s: Session,
    path: Path,
    *,
    default_location: str,
    known_locations: Collection[str] | None = None,
    kits: Collection[str] = (),
    on_progress: Callable[..., None] | None = None,
) -> int:
    """Set on-hand levels from a CSV (sku,quantity[,location]); all rows or none.

    ``on_progress(n, total)`` is called as rows are written (every 1000 and at the end).

    ``known_locations``: the locations rows may name (None: any); ``kits``: SKUs that have no
    stock of their own and are refused.

    Raises:
        ValueError: "<file>: line N: <problem>" (unknown SKU, kit, duplicate, unknown
            location, bad quantity, malformed CSV).
    """
    from erpsync.store.products import known_skus

    rows = []
    first: dict[tuple[str, str], int] = {}
    sheet = csvfile.read_rows(
        path, required=("sku", "quantity"), allowed=("sku", "quantity", "location")
    )
    for line, record in sheet:
        try:
            row = _stock_row(record, default_location, known_locations, kits, sheet.decimal_comma)
        except ValueError as exc:
            raise ValueError(f"{path}: line {line}: {exc}") from None
        if (row[0], row[2]) in first:
            where = f" at {row[2]}" if record.get("location") else ""
            raise ValueError(
                f"{path}: line {line}: duplicate sku {row[0]!r}{where} "
                f"(first on line {first[(row[0], row[2])]})"
            )
        first[(row[0], row[2])] = line
        rows.append((line, *row))
    known = known_skus(s, {sku for _, sku, _, _ in rows})
    for line, sku, _, _ in rows:
        if sku not in known:
            raise ValueError(f"{path}: line {line}: unknown SKU {sku!r}")
    reported = 0
    for index, (_, sku, quantity, location) in enumerate(rows, start=1):
        set_on_hand(s, sku, location, quantity, reason="import", reference=str(path))
        if on_progress is not None and (index % PROGRESS_EVERY == 0 or index == len(rows)):
            on_progress(index - reported, len(rows))
            reported = index
    return len(rows)


def _stock_row(
    record: dict[str, str],
    default_location: str,
    known_locations: Collection[str] | None,
    kits: Collection[str],
    decimal_comma: bool,
) -> tuple[str, int, str]:
    sku = record["sku"]
    if not sku:
        raise ValueError("empty sku")
    if sku in kits:
        raise ValueError(f"{sku} is a kit: its stock is its components' (set those instead)")
    quantity = csvfile.quantity(record["quantity"], decimal_comma=decimal_comma)
    location = record.get("location") or default_location
    problem = None if known_locations is None else location_problem(location, known_locations)
    if problem:
        raise ValueError(problem)
    return sku, quantity, location
