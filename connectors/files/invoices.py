"""The files connector's invoice sink: an ``invoices/`` outbox of NF-e XMLs and a CSV index.

``<outbox>/invoices/<access key>-nfe.xml`` holds each XML byte for byte (the name ERPs and
accountants use); ``<outbox>/invoices/index.csv`` has one row per invoice
(``access_key,order_external_id,number,series,model,issued_at,total,file``). Both are written
through a temporary file and a rename. Sending an invoice again finds it there and changes
nothing, so a replay after a crash is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from erpsync.connectors.files.folders import index_text, read_index, write_atomically
from erpsync.domain import Invoice, SendResult

INDEX = "index.csv"
COLUMNS = ["access_key", "order_external_id", "number", "series", "model", "issued_at", "total"]
COLUMNS.append("file")


def write_invoices(folder: Path, invoices: Sequence[Invoice]) -> list[SendResult]:
    """Copy each invoice's XML into ``folder`` and add it to the index; one result each."""
    if not folder.parent.is_dir():
        # like stock CSVs: a mistyped outbox must not swallow the invoices
        error = f"outbox {folder.parent} does not exist (erpsync does not create it)"
        return [_failed(i, error) for i in invoices]
    try:
        folder.mkdir(exist_ok=True)
        rows = read_index(folder / INDEX)
    except OSError as exc:
        return [_failed(i, f"cannot use {folder}: {exc.strerror or exc}") for i in invoices]
    known = {row["access_key"] for row in rows}
    results: list[SendResult] = []
    for invoice in invoices:
        if invoice.xml is None:
            results.append(SendResult(ref=invoice.access_key, ok=False, error="no XML stored"))
            continue
        name = f"{invoice.access_key}-nfe.xml"
        try:
            target = folder / name
            if not target.exists() or target.read_bytes() != invoice.xml:
                write_atomically(target, invoice.xml)
        except OSError as exc:
            results.append(_failed(invoice, f"cannot write {name}: {exc.strerror or exc}"))
            continue
        if invoice.access_key not in known:
            rows.append(_row(invoice, name))
            known.add(invoice.access_key)
        results.append(SendResult(ref=invoice.access_key, ok=True, remote_id=name))
    try:
        write_atomically(folder / INDEX, index_text(rows, COLUMNS))
    except OSError as exc:
        return [_failed(i, f"cannot write {INDEX}: {exc.strerror or exc}") for i in invoices]
    return results


def _row(invoice: Invoice, name: str) -> dict[str, str]:
    return {
        "access_key": invoice.access_key,
        "order_external_id": invoice.order_external_id or "",
        "number": str(invoice.number),
        "series": str(invoice.series),
        "model": invoice.model.value,
        "issued_at": invoice.issued_at.isoformat(),
        "total": str(invoice.total),
        "file": name,
    }


def _failed(invoice: Invoice, error: str) -> SendResult:
    # a full disk or a permission fixed by hand: worth another try next run
    return SendResult(ref=invoice.access_key, ok=False, retry=True, error=error)
