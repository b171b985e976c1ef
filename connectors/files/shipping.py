"""The files connector's tracking sink: ``<outbox>/tracking.csv``, one row per shipment.

Columns ``order_external_id,shipment_ref,carrier,tracking_code,tracking_url,shipped_at``. The
file is rewritten whole through a temporary file and a rename, so a reader never sees half of
it. A shipment sent again with the same code changes nothing (a replay after a crash is
harmless); with another code its row is replaced (the seller corrected it).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from erpsync.connectors.files.folders import index_text, read_index, write_atomically
from erpsync.domain import SendResult, TrackingUpdate

FILE = "tracking.csv"
COLUMNS = [
    "order_external_id",
    "shipment_ref",
    "carrier",
    "tracking_code",
    "tracking_url",
    "shipped_at",
]


def write_tracking(outbox: Path, updates: Sequence[TrackingUpdate]) -> list[SendResult]:
    """Put each shipment's tracking in ``outbox/tracking.csv``; one result per update."""
    if not outbox.is_dir():
        # like stock CSVs: a mistyped outbox must not swallow the tracking codes
        error = f"outbox {outbox} does not exist (erpsync does not create it)"
        return [_failed(u, error) for u in updates]
    path = outbox / FILE
    try:
        rows = read_index(path)
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        return [_failed(u, f"cannot read {path}: {exc}") for u in updates]
    by_key = {(r["order_external_id"], r["shipment_ref"]): r for r in rows}
    for update in updates:
        by_key[(update.order_external_id, update.shipment_ref)] = _row(update)
    try:
        write_atomically(path, index_text(list(by_key.values()), COLUMNS))
    except OSError as exc:
        return [_failed(u, f"cannot write {path}: {exc.strerror or exc}") for u in updates]
    return [SendResult(ref=u.shipment_ref, ok=True, remote_id=FILE) for u in updates]


def _row(update: TrackingUpdate) -> dict[str, str]:
    return {
        "order_external_id": update.order_external_id,
        "shipment_ref": update.shipment_ref,
        "carrier": update.carrier or "",
        "tracking_code": update.tracking_code,
        "tracking_url": update.tracking_url or "",
        "shipped_at": update.shipped_at.isoformat() if update.shipped_at else "",
    }


def _failed(update: TrackingUpdate, error: str) -> SendResult:
    # a missing folder or a full disk fixed by hand: worth another try next run
    return SendResult(ref=update.shipment_ref, ok=False, retry=True, error=error)
