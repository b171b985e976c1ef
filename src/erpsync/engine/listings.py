"""listings pull for one connector: refresh the listing <-> SKU mapping from the channel."""

from __future__ import annotations

from dataclasses import dataclass

from erpsync.connector import Connector
from erpsync.store import Store, listings


@dataclass
class ListingsReport:
    connector: str
    count: int = 0

    def counts(self) -> dict[str, int]:
        return {"listings": self.count}


def pull_listings(connector: Connector, store: Store) -> ListingsReport:
    """Upsert every listing the channel reports, batch by batch (manual links are kept)."""
    report = ListingsReport(connector.name)
    for batch in connector.fetch_listings():
        with store.session() as session:
            report.count += listings.upsert_listings(session, connector.name, batch)
    return report
