"""What a SKU may be sold as: the one availability computation, for push, --explain, stock list.

available = on hand - reserved - safety stock, never below 0; a kit's is the minimum over its
components of floor(component available / units per kit), and a kit has no stock of its own.

On-hand and what is held against it come from an ``OnHandSource``: erpsync's ledger
(``LedgerOnHand``: on hand - reservations of the orders it pulled), or an ERP that implements
``erpsync.connector.StockSource`` (``stock.source``; ``ErpOnHand``: the ERP's available -
what imported orders not yet created in the ERP hold).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from erpsync.engine.stock import Kits
from erpsync.store import erp as erp_store
from erpsync.store import ledger


class OnHandSource(Protocol):
    """Where on-hand units come from, and what is held against them."""

    #: how the explanation names the two numbers
    labels: tuple[str, str]

    def on_hand(self, skus: Collection[str], locations: Sequence[str]) -> dict[str, int]:
        """Units on hand per SKU, summed over ``locations``; every SKU asked is in the result."""
        ...

    def reserved(self, skus: Collection[str], locations: Sequence[str]) -> dict[str, int]:
        """Units held against on-hand per SKU; every SKU asked is in the result."""
        ...


class LedgerOnHand:
    """On-hand as erpsync's ledger holds it (counts, imports, sales, returns); reservations
    from the orders it pulled."""

    labels = ("on hand", "reserved")

    def __init__(self, session: Session) -> None:
        self.session = session

    def on_hand(self, skus: Collection[str], locations: Sequence[str]) -> dict[str, int]:
        levels = ledger.levels(self.session, locations, skus)
        return {sku: level.on_hand for sku, level in levels.items()}

    def reserved(self, skus: Collection[str], locations: Sequence[str]) -> dict[str, int]:
        levels = ledger.levels(self.session, locations, skus)
        return {sku: level.reserved for sku, level in levels.items()}


class ErpOnHand:
    """On-hand from an ERP (``stock.source``): what its last ``pull-stock`` reported as
    available, less what orders erpsync imported but has not created in that ERP yet still
    hold (the ERP cannot know them; its own and Hub da Olist's orders it counts already).

    Locations: "main" is the ERP's total; a channel whose ``locations`` name depósitos sells
    the sum of those."""

    labels = ("ERP available", "not yet in the ERP")

    def __init__(self, session: Session, connector: str, erp_connectors: Collection[str]) -> None:
        self.session = session
        self.connector = connector
        self.erp_connectors = erp_connectors

    def on_hand(self, skus: Collection[str], locations: Sequence[str]) -> dict[str, int]:
        return erp_store.available(self.session, self.connector, skus, locations)

    def reserved(self, skus: Collection[str], locations: Sequence[str]) -> dict[str, int]:
        return erp_store.not_yet_in_erp(
            self.session, self.connector, skus, {*self.erp_connectors, self.connector}
        )


@dataclass(frozen=True)
class Availability:
    """One SKU's sellable units, with the arithmetic spelled out (``explanation``).

    ``on_hand`` and ``reserved`` are None for a kit, whose number comes from its components.
    """

    sku: str
    available: int
    explanation: str
    on_hand: int | None = None
    reserved: int | None = None

    @property
    def is_kit(self) -> bool:
        return self.on_hand is None


def compute(
    session: Session,
    skus: Iterable[str],
    *,
    locations: Sequence[str],
    kits: Kits,
    safety_stock: int,
    source: OnHandSource | None = None,
) -> dict[str, Availability]:
    """Availability of each of ``skus`` at ``locations`` (kits from their components)."""
    wanted = list(dict.fromkeys(skus))
    needed = skus_needed(wanted, kits)
    source = source or LedgerOnHand(session)
    on_hand = source.on_hand(needed, locations)
    reserved = source.reserved(needed, locations)
    return {
        sku: availability(sku, on_hand, reserved, kits, safety_stock, labels=source.labels)
        for sku in wanted
    }


def availability(
    sku: str,
    on_hand: Mapping[str, int],
    reserved: Mapping[str, int],
    kits: Kits,
    safety_stock: int,
    *,
    labels: tuple[str, str] = LedgerOnHand.labels,
) -> Availability:
    """What one SKU may be sold as on a channel, with the arithmetic spelled out."""
    components = kits.get(sku)
    if not components:
        hand, held = on_hand.get(sku, 0), reserved.get(sku, 0)
        raw = hand - held - safety_stock
        return Availability(
            sku,
            max(raw, 0),
            f"{labels[0]} {hand} - {labels[1]} {held} - safety {safety_stock}"
            f" = {raw}" + (" -> 0" if raw < 0 else ""),
            on_hand=hand,
            reserved=held,
        )
    fits: list[int] = []
    details: list[str] = []
    for component, per_kit in components:
        part = availability(component, on_hand, reserved, kits, safety_stock, labels=labels)
        fits.append(part.available // per_kit)
        details.append(f"{component}: {part.available}//{per_kit}={fits[-1]}")
    return Availability(sku, min(fits), f"kit min({', '.join(details)})")


def skus_needed(skus: Iterable[str], kits: Kits) -> set[str]:
    """The stocked SKUs whose levels are needed to price these SKUs (kits expanded)."""
    needed: set[str] = set()
    for sku in skus:
        needed.update(c for c, _ in kits.get(sku) or [(sku, 1)])
    return needed
