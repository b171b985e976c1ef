"""pull-stock for one ERP connector: read its available stock of the SKUs channels sell.

Only SKUs that have listings are read (a catalogue may hold thousands the channels never
show), in the connector's batches (``stock_batch_size``), each batch stored before the next is
asked for. The SKUs the ERP reports become known products here, so orders and listings that
name them book and push; a SKU the ERP does not know is reported, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlmodel import col, select

from erpsync.connector import ConnectorCore, StockSource
from erpsync.domain import StockLevel
from erpsync.engine.product_ids import remembered
from erpsync.store import Store, products
from erpsync.store import erp as erp_store
from erpsync.store.tables import ListingRow


@dataclass
class StockPullReport:
    connector: str
    asked: int = 0
    read: int = 0
    #: SKUs with listings the ERP does not know
    missing: list[str] = field(default_factory=list)
    levels: list[StockLevel] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"asked": self.asked, "read": self.read, "missing": len(self.missing)}

    def shortfall(self) -> str | None:
        if not self.missing:
            return None
        count = len(self.missing)
        return f"{count} SKU{'' if count == 1 else 's'} with listings not found in the ERP"


def listed_skus(store: Store) -> list[str]:
    """Every SKU some channel listing sells (Full/FBA included: the ERP may stock them too)."""
    with store.session() as session:
        rows = session.exec(
            select(ListingRow.sku).where(col(ListingRow.sku).is_not(None)).distinct()
        ).all()
    return sorted({sku for sku in rows if sku})


def pull_stock(
    connector: ConnectorCore,
    store: Store,
    *,
    skus: Sequence[str] | None = None,
    dry_run: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> StockPullReport:
    """Read ``skus`` (default: every listed SKU) from the ERP and store what it reports."""
    source = StockSource.of(connector)
    report = StockPullReport(source.name)
    wanted = list(dict.fromkeys(skus if skus is not None else listed_skus(store)))
    report.asked = len(wanted)
    seen: set[str] = set()
    with remembered(source, store, dry_run=dry_run):
        _read(source, store, wanted, seen, report, dry_run, on_batch)
    report.missing = [sku for sku in wanted if sku not in seen]
    return report


def _read(
    source: StockSource,
    store: Store,
    wanted: list[str],
    seen: set[str],
    report: StockPullReport,
    dry_run: bool,
    on_batch: Callable[[int], None] | None,
) -> None:
    size = max(1, source.stock_batch_size)
    for start in range(0, len(wanted), size):
        batch = wanted[start : start + size]
        for levels in source.fetch_stock(batch):
            # a search that matches by prefix must not answer for another SKU
            levels = [level for level in levels if level.sku in batch]
            seen.update(level.sku for level in levels)
            report.read += sum(1 for level in levels if level.location == "main")
            report.levels.extend(levels)
            if dry_run or not levels:
                continue
            with store.session() as session:
                erp_store.save_levels(session, source.name, levels)
                for sku in {level.sku for level in levels}:
                    if products.get_product(session, sku) is None:
                        products.upsert_product(session, sku)
        if on_batch:
            on_batch(len(batch))
