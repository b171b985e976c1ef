"""labels fetch for one connector: each shipment's label, once, one file per shipment.

Which shipments: those of the connector's orders (or of the orders named) that the channel
does not fulfil, whose orders are not cancelled, and whose label state is ``none`` (``fetched``
too, with ``again``). The channel answers per shipment (``LabelSource.fetch_labels``): a label,
written atomically to ``<out>/<connector>-<order>.<pdf|zpl>`` (``-<shipment>`` added for
each of an order's several shipments) and recorded on the
shipment (state ``fetched``, format, file, time); a reason it has none yet (the NF-e is
missing, the shipment is not ready), listed, asked again next time; or ``never`` (Full, Flex,
the seller's own shipping), recorded as ``not_applicable`` and not asked again.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from erpsync.connector import Connector, LabelSource
from erpsync.domain import LabelRequest, LabelResult, OrderStatus, utcnow
from erpsync.errors import ConfigError
from erpsync.postsale.danfe import write_atomically
from erpsync.postsale.domain import LabelState
from erpsync.store import Store
from erpsync.store.tables import OrderRow, ShipmentRow

#: what a file name keeps of an id: letters, digits, dot, dash, underscore
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
EXTENSIONS = {"pdf": "pdf", "zpl": "zpl"}


@dataclass
class LabelReport:
    connector: str
    written: list[tuple[str, Path]] = field(default_factory=list)  # (order ref, file)
    waiting: list[tuple[str, str]] = field(default_factory=list)  # (order ref, reason)
    never: list[tuple[str, str]] = field(default_factory=list)  # (order ref, reason)

    def counts(self) -> dict[str, int]:
        return {
            "written": len(self.written),
            "waiting": len(self.waiting),
            "never": len(self.never),
        }


@dataclass(frozen=True)
class _Wanted:
    shipment_id: int
    order: str  # CONNECTOR:EXTERNAL_ID
    request: LabelRequest
    #: the order has several shipments: each file names its shipment too
    several: bool = False


def fetch_labels(
    connector: Connector,
    store: Store,
    out_dir: Path,
    *,
    format: str = "pdf",
    order_ids: Sequence[int] | None = None,
    again: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> LabelReport:
    """Fetch and write the labels due; ``order_ids`` limits it to those stored orders."""
    source = LabelSource.of(connector)
    if format not in source.label_formats:
        served = " or ".join(sorted(source.label_formats))
        raise ConfigError(f"{connector.name}: labels come as {served}, not {format}")
    report = LabelReport(connector.name)
    with store.session() as session:
        wanted = _wanted(session, connector.name, order_ids, again=again)
    size = max(1, source.label_batch_size)
    for start in range(0, len(wanted), size):
        batch = wanted[start : start + size]
        results = source.fetch_labels([w.request for w in batch], format=format)
        by_ref = {r.ref: r for r in results}
        for item in batch:
            _take(store, item, by_ref.get(item.request.shipment_ref), out_dir, format, report)
        if on_batch is not None:
            on_batch(len(batch))
    return report


def _wanted(
    session: Session, connector: str, order_ids: Sequence[int] | None, *, again: bool
) -> list[_Wanted]:
    states = [LabelState.NONE.value] + ([LabelState.FETCHED.value] if again else [])
    query = (
        select(ShipmentRow, OrderRow)
        .join(OrderRow, col(OrderRow.id) == col(ShipmentRow.order_id))
        .where(
            OrderRow.connector == connector,
            col(OrderRow.fulfilled_by_channel).is_(False),
            col(ShipmentRow.fulfilled_by_channel).is_(False),
            OrderRow.status != OrderStatus.CANCELLED.value,
            col(ShipmentRow.label_state).in_(states),
        )
        .order_by(col(OrderRow.created_at), col(ShipmentRow.id))
    )
    if order_ids is not None:
        query = query.where(col(OrderRow.id).in_(list(order_ids)))
    rows = session.exec(query).all()
    per_order = Counter(order.id for _, order in rows)
    found = []
    for shipment, order in rows:
        assert shipment.id is not None
        request = LabelRequest(
            order_external_id=order.external_id,
            shipment_ref=shipment.shipment_ref,
            logistic_type=shipment.logistic_type,
            status=shipment.status,
        )
        ref = f"{order.connector}:{order.external_id}"
        found.append(_Wanted(shipment.id, ref, request, several=per_order[order.id] > 1))
    return found


def _take(
    store: Store,
    item: _Wanted,
    result: LabelResult | None,
    out_dir: Path,
    format: str,
    report: LabelReport,
) -> None:
    if result is None:
        report.waiting.append((item.order, "no answer from the channel"))
        return
    if result.label is None:
        reason = result.reason or "the channel has no label for it"
        if result.never:
            report.never.append((item.order, reason))
            _record(store, item.shipment_id, LabelState.NOT_APPLICABLE)
        else:
            report.waiting.append((item.order, reason))
        return
    name = file_name(item.order.split(":", 1)[0], item.request, format, several=item.several)
    path = out_dir / name
    write_atomically(path, result.label.content)
    _record(store, item.shipment_id, LabelState.FETCHED, format=format, path=path)
    report.written.append((item.order, path))


def file_name(connector: str, request: LabelRequest, format: str, *, several: bool = False) -> str:
    """``<connector>-<order>.<ext>``, or ``<connector>-<order>-<shipment>.<ext>`` for each of
    an order's several shipments (Magalu deliveries)."""
    stem = f"{_safe(connector)}-{_safe(request.order_external_id)}"
    if several:
        stem += f"-{_safe(request.shipment_ref)}"
    return f"{stem}.{EXTENSIONS[format]}"


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._") or "_"


def _record(
    store: Store,
    shipment_id: int,
    state: LabelState,
    *,
    format: str | None = None,
    path: Path | None = None,
) -> None:
    with store.session() as session:
        row = session.get(ShipmentRow, shipment_id)
        if row is None:
            return
        row.label_state = state.value
        if path is not None:
            row.label_format = format
            row.label_file = str(path)
            row.label_fetched_at = utcnow()
        row.updated_at = utcnow()
        session.add(row)
