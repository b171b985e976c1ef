"""What a SKU may be sold as: the one availability computation, for push, --explain, stock list.

available = on hand - reserved - safety stock, never below 0; a kit's is the minimum over its
components of floor(component available / units per kit), and a kit has no stock of its own.

On-hand comes from an ``OnHandSource``: erpsync's ledger today (``LedgerOnHand``); an ERP that
implements ``erpsync.connector.StockSource`` plugs in as another source (``stock.source``),
and nothing here changes. Reservations are always erpsync's own: they come from the orders it
pulled, recorded in the ledger.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from erpsync.engine.stock import Kits
from erpsync.store import ledger


class OnHandSource(Protocol):
    """Where on-hand units come from."""

    def on_hand(self, skus: Collection[str], locations: Sequence[str]) -> dict[str, int]:
        """Units on hand per SKU, summed over ``locations``; every SKU asked is in the result."""
        ...


class LedgerOnHand:
    """On-hand as erpsync's ledger holds it (counts, imports, sales, returns)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def on_hand(self, skus: Collection[str], locations: Sequence[str]) -> dict[str, int]:
        levels = ledger.levels(self.session, locations, skus)
        return {sku: level.on_hand for sku, level in levels.items()}


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
    on_hand = (source or LedgerOnHand(session)).on_hand(needed, locations)
    reserved = {s: lv.reserved for s, lv in ledger.levels(session, locations, needed).items()}
    return {sku: availability(sku, on_hand, reserved, kits, safety_stock) for sku in wanted}


def availability(
    sku: str,
    on_hand: Mapping[str, int],
    reserved: Mapping[str, int],
    kits: Kits,
    safety_stock: int,
) -> Availability:
    """What one SKU may be sold as on a channel, with the arithmetic spelled out."""
    components = kits.get(sku)
    if not components:
        hand, held = on_hand.get(sku, 0), reserved.get(sku, 0)
        raw = hand - held - safety_stock
        return Availability(
            sku,
            max(raw, 0),
            f"on hand {hand} - reserved {held} - safety {safety_stock}"
            f" = {raw}" + (" -> 0" if raw < 0 else ""),
            on_hand=hand,
            reserved=held,
        )
    fits: list[int] = []
    details: list[str] = []
    for component, per_kit in components:
        part = availability(component, on_hand, reserved, kits, safety_stock)
        fits.append(part.available // per_kit)
        details.append(f"{component}: {part.available}//{per_kit}={fits[-1]}")
    return Availability(sku, min(fits), f"kit min({', '.join(details)})")


def skus_needed(skus: Iterable[str], kits: Kits) -> set[str]:
    """The stocked SKUs whose levels are needed to price these SKUs (kits expanded)."""
    needed: set[str] = set()
    for sku in skus:
        needed.update(c for c, _ in kits.get(sku) or [(sku, 1)])
    return needed
