"""quarantine replay: map stored payloads again and import those that now map; attach the
quarantined ERP invoices (engine.invoice_pull) whose order is now there."""

from __future__ import annotations

from collections.abc import Sequence

from erpsync.config import Config
from erpsync.connector import OrderSource
from erpsync.engine.invoice_pull import QUARANTINE_KIND, replay_invoice
from erpsync.engine.invoices import models_for_config
from erpsync.engine.pull import (
    MAPPING_ERRORS,
    PullReport,
    _one_line,
    apply_order,
    load_catalogue,
)
from erpsync.engine.runner import build_context, open_connector
from erpsync.errors import ConfigError
from erpsync.store import Store, products, quarantine
from erpsync.store.tables import QuarantineRow


def replay_quarantine(config: Config, store: Store, ids: Sequence[int] | None) -> tuple[int, int]:
    """Return (imported, still failing). Order payloads of connectors no longer configured
    are skipped; a quarantined ERP invoice is attached from its kept XML, configured or not."""
    with store.session() as session:
        items = [q for q in quarantine.open_items(session) if ids is None or q.id in ids]
    missing = sorted(set(ids or ()) - {q.id for q in items})
    if missing:
        raise ConfigError(f"no open quarantine item {missing[0]} (see `erpsync quarantine list`)")
    done = failed = 0
    # an ERP invoice carries its XML: no connector is asked, configured or not
    nfes = [q for q in items if _is_erp_invoice(q)]
    items = [q for q in items if not _is_erp_invoice(q)]
    models = models_for_config(config)
    for item in nfes:
        with store.session() as session:
            if replay_invoice(session, item, models) is None:
                done += 1
            else:
                failed += 1
    if not items:
        return done, failed
    context = build_context(config, store)
    for connector_name in sorted({q.connector for q in items}):
        if connector_name not in config.connectors:
            continue
        with open_connector(config, connector_name, context) as opened:
            connector = OrderSource.of(opened)
            for item in (q for q in items if q.connector == connector_name):
                report = PullReport(connector_name)
                with store.session() as session:
                    try:
                        order = connector.map_order(item.payload)
                    except MAPPING_ERRORS as exc:
                        quarantine.add(
                            session,
                            connector_name,
                            item.external_id,
                            item.payload,
                            _one_line(exc),
                        )
                        failed += 1
                        continue
                    catalogue = load_catalogue(session, connector_name)
                    skus = {i.sku for i in order.items if i.sku}
                    catalogue.known |= products.known_skus(session, skus)
                    apply_order(session, connector, order, item.payload, report, catalogue)
                    assert item.id is not None
                    quarantine.resolve(session, item.id)
                    done += 1
    return done, failed


def _is_erp_invoice(item: QuarantineRow) -> bool:
    return isinstance(item.payload, dict) and item.payload.get("kind") == QUARANTINE_KIND
