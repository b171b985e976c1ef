"""listings pull for one connector: refresh the listing <-> SKU mapping from the channel."""

from __future__ import annotations

from dataclasses import dataclass

from erpsync.connector import Connector, ListingSource
from erpsync.engine.parked import book_parked
from erpsync.store import Store, listings


@dataclass
class ListingsReport:
    connector: str
    count: int = 0
    parked_booked: int = 0

    def counts(self) -> dict[str, int]:
        return {"listings": self.count, "parked_booked": self.parked_booked}


def pull_listings(connector: Connector, store: Store) -> ListingsReport:
    """Upsert every listing the channel reports, batch by batch (manual links are kept)."""
    report = ListingsReport(connector.name)
    for batch in ListingSource.of(connector).fetch_listings():
        with store.session() as session:
            report.count += listings.upsert_listings(session, connector.name, batch)
    with store.session() as session:  # a listing's SKU may resolve order lines parked so far
        location = {connector.name: connector.settings.locations[0]}
        parked = book_parked(
            session, locations=location, default_location="", connector=connector.name
        )
    report.parked_booked = parked.booked
    return report
