"""invoices pull for one ERP connector: the NF-e it issued for orders erpsync created in it.

Each invoice is read from its XML (``parse_nfe``: the document is the truth, not the ERP's
summary of it) and attached to its channel order as an invoice from the ERP, so ``invoices
push`` sends it on. The ERP issued it already: a total or recipient that differs from the
channel order's (freight edited in the ERP, say) is stored and reported, not refused. Orders
that have an invoice are not asked about again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from erpsync.connector import ConnectorCore, ErpOrderRef, InvoiceSource
from erpsync.domain import Invoice
from erpsync.engine.invoices import ALL_MODELS, ModelsFor, attach
from erpsync.errors import InvoiceRefusedError
from erpsync.postsale.domain import InvoiceSource as Origin
from erpsync.postsale.nfe import parse_nfe
from erpsync.store import Store, invoices, orders
from erpsync.store import erp as erp_store

#: orders asked about per fetch_invoices call
BATCH = 50


@dataclass
class InvoicePullReport:
    connector: str
    asked: int = 0
    new: int = 0
    already: int = 0
    refused: int = 0
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "asked": self.asked,
            "new": self.new,
            "already": self.already,
            "refused": self.refused,
        }

    def shortfall(self) -> str | None:
        if not self.refused:
            return None
        return f"{self.refused} invoice{'' if self.refused == 1 else 's'} refused"


def pull_invoices(
    connector: ConnectorCore,
    store: Store,
    *,
    models_for: ModelsFor | None = None,
    dry_run: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> InvoicePullReport:
    """Ask the ERP for the invoices of the orders erpsync created in it that have none yet."""
    source = InvoiceSource.of(connector)
    report = InvoicePullReport(source.name)
    with store.session() as session:
        refs = [
            ErpOrderRef(
                row.connector,
                row.external_id,
                row.number or row.external_id,
                str(push.remote_id),
            )
            for row, push in erp_store.pushed_orders(session, source.name)
            if row.id is not None and not invoices.invoices_of(session, row.id)
        ]
    report.asked = len(refs)
    for start in range(0, len(refs), BATCH):
        batch = refs[start : start + BATCH]
        for found in source.fetch_invoices(batch):
            for invoice in found:
                _store_one(store, source.name, invoice, models_for, dry_run, report)
        if on_batch:
            on_batch(len(batch))
    return report


def _store_one(
    store: Store,
    erp: str,
    invoice: Invoice,
    models_for: ModelsFor | None,
    dry_run: bool,
    report: InvoicePullReport,
) -> None:
    where = f"{invoice.connector}:{invoice.order_external_id}"
    if invoice.xml is None or invoice.connector is None or invoice.order_external_id is None:
        report.refused += 1
        report.errors.append(f"{erp}: NF-e {invoice.access_key} came without its XML or order")
        return
    try:
        parsed = parse_nfe(invoice.xml)
    except InvoiceRefusedError as exc:
        report.refused += 1
        report.errors.append(f"{where}: {exc}")
        return
    if parsed.invoice.access_key != invoice.access_key:
        report.refused += 1
        report.errors.append(
            f"{where}: the ERP says NF-e {invoice.access_key}, its XML is "
            f"{parsed.invoice.access_key}"
        )
        return
    with store.session() as session:
        row = orders.get_order(session, invoice.connector, invoice.order_external_id)
        if row is None:
            report.refused += 1
            report.errors.append(f"{where}: no such order in the store")
            return
        try:
            attached = attach(
                session,
                row,
                parsed,
                models=models_for(row) if models_for is not None else ALL_MODELS,
                force=True,
                source=Origin.ERP,
            )
        except InvoiceRefusedError as exc:
            session.rollback()
            report.refused += 1
            report.errors.append(f"{where}: {exc}")
            return
        if dry_run:
            session.rollback()
    if attached.already:
        report.already += 1
        return
    report.new += 1
    report.changes.append(
        f"{where}: NF-e {parsed.invoice.number}/{parsed.invoice.series} {parsed.invoice.access_key}"
    )
    report.warnings.extend(f"{where}: {w}" for w in attached.warnings)
