"""An ERP connector's product ids (``ProductIds``) kept in the store between runs.

push-orders and pull-stock hand the connector the SKU -> product id pairs earlier runs resolved
before they start, and save what this run resolved or dropped when they end (even when the run
fails half-way: what was resolved is still right). A cron run then searches the ERP only for
SKUs it has not seen before, and again for a SKU whose id the ERP said it no longer knows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from erpsync.connector import ConnectorCore, ProductIds
from erpsync.store import Store
from erpsync.store import erp as erp_store


@contextmanager
def remembered(connector: ConnectorCore, store: Store, *, dry_run: bool = False) -> Iterator[None]:
    """Within this block ``connector.product_ids`` knows the ids of earlier runs; after it, the
    ones it resolved or dropped are saved (not on a dry run: it writes nothing)."""
    ids = getattr(connector, "product_ids", None)
    if not isinstance(ids, ProductIds):
        yield
        return
    with store.session() as session:
        ids.remember(erp_store.product_ids(session, connector.name))
    try:
        yield
    finally:
        resolved, dropped = ids.changes()
        if not dry_run and (resolved or dropped):
            with store.session() as session:
                erp_store.save_product_ids(session, connector.name, resolved, dropped)
