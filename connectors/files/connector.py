"""The files connector: order files in from a folder, stock CSVs out, unreadable files rejected.

For sellers whose channel or legacy system exchanges files instead of an API. The formats are
documented in ``FORMAT.md`` and read by ``orders.py`` and ``listings.py``; ``stock.py`` writes
the stock CSVs, ``invoices.py`` the NF-e outbox, ``shipping.py`` the tracking CSV,
``folders.py`` does every move and write.
Files are only ever moved (``os.replace``), never deleted or rewritten: an order file ends up
in the inbox, ``processed/`` or ``rejected/``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from erpsync.connector import (
    Connector,
    ConnectorContext,
    ConnectorSettings,
    InvoiceSink,
    ListingSource,
    NoSettings,
    OrderPage,
    OrderSource,
    RawOrder,
    SeenOrders,
    StockSink,
    TrackingSink,
    Window,
)
from erpsync.connectors.files import invoices, listings, orders, shipping, stock
from erpsync.connectors.files.folders import (
    complete,
    move,
    show,
    writable_or_creatable,
    write_atomically,
)
from erpsync.connectors.files.settings import FilesOptions
from erpsync.domain import (
    Invoice,
    Listing,
    Order,
    PushResult,
    SendResult,
    StockUpdate,
    TrackingUpdate,
)
from erpsync.errors import FatalError

log = logging.getLogger(__name__)


class FilesConnector(
    Connector[NoSettings, FilesOptions],
    OrderSource,
    ListingSource,
    StockSink,
    InvoiceSink,
    TrackingSink,
):
    """Orders from a folder of canonical JSON/CSV files; stock to a CSV per push; invoices to
    an ``invoices/`` folder beside the stock CSVs, tracking to ``tracking.csv`` there."""

    type = "files"
    platform = "files"
    #: whatever the seller's files system takes: NF-e, and NFC-e for counter sales
    invoice_models = frozenset({"55", "65"})

    def __init__(
        self, settings: ConnectorSettings, context: ConnectorContext | None = None
    ) -> None:
        super().__init__(settings, context)
        #: relative option paths resolve against this folder. Options loaded from a config file
        #: arrive absolute (anchored at the file's folder); this covers settings built in code.
        self.base_dir = Path.cwd()

    # -- folders -------------------------------------------------------------------------------

    def path(self, configured: Path) -> Path:
        """An option path made absolute against ``base_dir``."""
        configured = configured.expanduser()
        return configured if configured.is_absolute() else self.base_dir / configured

    @property
    def inbox(self) -> Path:
        return self.path(self.options.inbox)

    @property
    def rejected(self) -> Path:
        return self.path(self.options.rejected_folder)

    @property
    def processed(self) -> Path | None:
        folder = self.options.processed
        return None if folder is None else self.path(folder)

    @property
    def outbox(self) -> Path | None:
        folder = self.options.outbox
        return None if folder is None else self.path(folder)

    def inbox_files(self) -> list[Path]:
        """The order files waiting in the inbox, sorted by name (sub-folders are not read)."""
        if not self.inbox.is_dir():
            raise FatalError(f"inbox {show(self.inbox)} is not a folder", connector=self.name)
        return sorted(
            (entry for entry in self.inbox.iterdir() if entry.is_file() and complete(entry.name)),
            key=lambda entry: entry.name,
        )

    # -- orders --------------------------------------------------------------------------------

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        """Yield one page per inbox file with the orders the store does not hold yet."""
        # Files are authoritative snapshots, not a change feed, so the time window is ignored:
        # every order in the inbox is offered unless the store already holds this exact version
        # (seen.is_current). A file left in the inbox is therefore re-read as a no-op.
        for path in self.inbox_files():
            found = self._read_orders(path)
            if isinstance(found, str):
                yield OrderPage(orders=[], rejected=[f"{path.name}: {found}"])
                continue
            if found is None:
                continue
            fresh = [
                RawOrder(order.external_id, order.updated_at, order.payload)
                for order in found
                if not seen.is_current(order.external_id, order.updated_at)
            ]
            if fresh:
                # The engine commits each page before it asks for the next one, so the code
                # after this yield runs only once this file's orders are stored: only then may
                # the file leave the inbox (for the last file: when the engine resumes us to
                # find the generator's end). If the engine fails or stops mid-page it never
                # resumes us, and the file stays in the inbox to be read again next run.
                yield OrderPage(orders=fresh)
            self._imported(path)

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        return orders.order_from_payload(
            payload, connector=self.name, platform=self.options.platform
        )

    def _read_orders(self, path: Path) -> list[orders.FileOrder] | str | None:
        """The orders in one file; the reason when the file was rejected; None when it could
        not be read (gone, no permission: retried next run)."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            # gone (another process took it) or no permission: not the file's fault, retry later
            log.warning("%s: skipped %s: %s", self.name, path.name, exc.strerror or exc)
            return None
        try:
            return orders.read_orders(path.name, data)
        except orders.FileRejected as exc:
            self._reject(path, str(exc))
            return str(exc)

    def _reject(self, path: Path, reason: str) -> None:
        if self.context.dry_run:
            log.warning("%s: would reject %s: %s", self.name, path.name, reason)
            return
        # Moved first, reason second: a crash in between leaves the file rejected without its
        # reason, never a reason without its file.
        target = move(path, self.rejected)
        write_atomically(target.with_name(target.name + ".reason.txt"), (reason + "\n").encode())
        log.warning("%s: rejected %s: %s", self.name, path.name, reason)

    def _imported(self, path: Path) -> None:
        if self.processed is not None and not self.context.dry_run:
            move(path, self.processed)

    # -- listings ------------------------------------------------------------------------------

    def fetch_listings(self) -> Iterator[list[Listing]]:
        """Listings from ``options.listings_file``, or one per SKU seen in the order files.

        Without a listings file, each distinct item SKU in the inbox (and ``processed/``)
        becomes a listing whose item_id is the SKU itself: the stock CSV then covers every
        product the channel has sold.
        """
        listings_file = self.options.listings_file
        if listings_file is not None:
            yield self._listings_from_file(self.path(listings_file))
            return
        skus = sorted(self._skus_in_order_files())
        if skus:
            yield [Listing(connector=self.name, item_id=sku, sku=sku) for sku in skus]

    def _listings_from_file(self, path: Path) -> list[Listing]:
        try:
            return listings.listings_from_csv(path.read_bytes(), connector=self.name)
        except OSError as exc:
            raise FatalError(
                f"cannot read listings file {show(path)}: {exc.strerror or exc}",
                connector=self.name,
            ) from None
        except orders.FileRejected as exc:
            raise FatalError(f"listings file {show(path)}: {exc}", connector=self.name) from None

    def _skus_in_order_files(self) -> set[str]:
        folders = [self.inbox] + ([self.processed] if self.processed else [])
        skus: set[str] = set()
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if not (path.is_file() and complete(path.name)):
                    continue
                try:
                    found = orders.read_orders(path.name, path.read_bytes())
                except (OSError, orders.FileRejected):
                    continue  # fetch_orders reports unreadable files; listings just skip them
                for order in found:
                    skus |= orders.skus_in(order.payload)
        return skus

    # -- stock ---------------------------------------------------------------------------------

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """Write ``<outbox>/stock-<UTC time>.csv`` (sku,item_id,variation_id,quantity)."""
        if not updates:
            return []  # no empty files: a consumer would read them as "no stock at all"
        outbox = self.outbox
        if outbox is None:
            return stock.results(updates, error="no outbox configured (options.outbox)")
        if not outbox.exists():
            # never created on the fly: a mistyped or wrongly anchored path would swallow every
            # stock file while the run reports it as sent
            raise FatalError(
                f"outbox {show(outbox)} does not exist (create it, or fix options.outbox)",
                connector=self.name,
            )
        try:
            target = stock.write_stock_file(outbox, updates, self.now())
        except OSError as exc:
            return stock.results(
                updates, error=f"cannot write to outbox {show(outbox)}: {_why(exc)}"
            )
        log.info("%s: wrote %d stock rows to %s", self.name, len(updates), target.name)
        return stock.results(updates)

    def push_invoices(self, invoices_: Sequence[Invoice]) -> list[SendResult]:
        """Copy each XML to ``<outbox>/invoices/`` and index it in ``invoices/index.csv``."""
        outbox = self.outbox
        if outbox is None:
            error = "no outbox configured (options.outbox): invoices go to <outbox>/invoices"
            return [
                SendResult(ref=i.access_key, ok=False, retry=True, error=error) for i in invoices_
            ]
        return invoices.write_invoices(outbox / "invoices", invoices_)

    def push_tracking(self, updates: Sequence[TrackingUpdate]) -> list[SendResult]:
        """Write each shipment's tracking to ``<outbox>/tracking.csv``."""
        outbox = self.outbox
        if outbox is None:
            error = "no outbox configured (options.outbox): tracking goes to <outbox>/tracking.csv"
            return [
                SendResult(ref=u.shipment_ref, ok=False, retry=True, error=error) for u in updates
            ]
        return shipping.write_tracking(outbox, updates)

    # -- check ---------------------------------------------------------------------------------

    def check(self) -> str:
        """Check the folders; e.g. ``inbox ./x (3 files), outbox ./y``."""
        count = len(self.inbox_files())  # raises when the inbox is not a folder
        if not os.access(self.inbox, os.R_OK | os.W_OK | os.X_OK):
            # writable too: rejected (and processed) files are moved out of it
            raise FatalError(
                f"inbox {show(self.inbox)} is not readable and writable", connector=self.name
            )
        folders = {"rejected": self.rejected, "processed": self.processed, "outbox": self.outbox}
        if self.outbox is not None and not self.outbox.exists():
            raise FatalError(f"outbox {show(self.outbox)} does not exist", connector=self.name)
        for label, folder in folders.items():
            if folder is not None and not writable_or_creatable(folder):
                raise FatalError(
                    f"{label} folder {show(folder)} cannot be written", connector=self.name
                )
        parts = [f"inbox {show(self.inbox)} ({count} file{'' if count == 1 else 's'})"]
        if self.processed is not None:
            parts.append(f"processed {show(self.processed)}")
        outbox = self.outbox
        parts.append(f"outbox {show(outbox)}" if outbox else "no outbox (stock push disabled)")
        return ", ".join(parts)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)
