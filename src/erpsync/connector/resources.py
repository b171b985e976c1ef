"""The contract by resource: one small abstract class per thing a connector can do.

A connector implements the resources it supports and nothing else; its capabilities follow
(``Connector.capabilities``). Channels (marketplaces, stores) are order, listing and label
sources and stock, invoice and tracking sinks; ERPs run the other way: an order sink, a stock
source and an invoice source. A class names each resource as a base::

    class MyShop(HttpConnector[MyCredentials, MyOptions], OrderSource, ListingSource, StockSink):
        ...

(the base class first: it carries the typed settings).

Why abstract base classes and not ``typing.Protocol``: a capability must be *declared*, not
inferred from a method that happens to be called ``push_stock``; Python refuses to instantiate
a class that declares a resource but misses one of its methods; mypy checks every override's
signature against the resource's; and ``isinstance(connector, StockSink)`` is exact at run
time (a runtime-checkable Protocol checks method names only). Each resource derives from
``ConnectorCore``, so code that needs one (``OrderSource.of(connector)``) also gets the
connector's name, settings and clock.

The engine drives them like this::

    source = OrderSource.of(connector)                 # FatalError if it is not one
    for page in source.fetch_orders(window, seen):
        for raw in page.orders:
            order = source.map_order(raw.payload)      # pure; failures go to quarantine
    for batch in ListingSource.of(connector).fetch_listings(): ...
    results = StockSink.of(connector).push_stock(updates)

Who owns stock: erpsync's ledger is the master of on-hand today; the engine computes what
each channel may sell from it. An ERP that implements ``StockSource`` may become the source of
on-hand (``stock.source`` in the config, coming with the ERP connectors): the engine reads it
through its own on-hand provider (``erpsync.engine.availability.OnHandSource``; the ledger's
``LedgerOnHand`` today), which an ERP's ``StockSource`` will feed, so the availability
computation does not care which. ``StockSource`` is the connector side of that seam only.

``InvoiceSink`` has its engine flow (``erpsync.engine.invoice_push``) and ``erpsync.domain.Invoice``
its fields; ``TrackingSink`` its flow (``erpsync.engine.tracking_push``) and
``erpsync.domain.TrackingUpdate``. The ERP resources (``OrderSink``, ``StockSource``,
``InvoiceSource``) have theirs: ``erpsync.engine.order_push``, ``stock_pull`` and
``invoice_pull``; their contract tests are in ``erpsync.testing.ErpContract``. ``LabelSource``
has its flow in ``erpsync.engine.labels`` (``LabelRequest``/``LabelResult``).
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from erpsync.connector.base import Capability, ConnectorCore
from erpsync.domain import (
    Invoice,
    LabelRequest,
    LabelResult,
    Listing,
    Order,
    PushResult,
    SendResult,
    StockLevel,
    StockUpdate,
    TrackingUpdate,
)
from erpsync.errors import ConnectorError

# -- what pulls exchange ----------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The half-open time range [start, end) of updates a pull asks for, in UTC."""

    start: datetime
    end: datetime

    def split(self) -> tuple[Window, Window]:
        middle = self.start + (self.end - self.start) / 2
        return Window(self.start, middle), Window(middle, self.end)


@dataclass(frozen=True)
class RawOrder:
    """One order as the platform sent it (enriched with any detail calls), before mapping.

    ``failure``: a request this order needed (a detail call) failed. The engine stores nothing
    of it and fails this order only, not its neighbours on the page: a transient failure
    (``RetriableError``) leaves it to the next run (the cursor stays before it), a refusal
    (any other ``ConnectorError``) sends it to the quarantine with the reason and ``payload``
    (what was fetched).
    """

    external_id: str
    updated_at: datetime | None
    payload: dict[str, Any]
    failure: ConnectorError | None = None


@dataclass
class OrderPage:
    """A batch of raw orders the engine commits in one transaction.

    ``checkpoint``: a time the connector guarantees every change before it has now been yielded
    (e.g. Amazon's ``LastUpdatedBefore``). The engine may move the cursor there after committing
    the page; without it, the cursor moves to the window's end once the whole window is done.
    ``rejected``: inputs refused as a whole ("name: reason", e.g. an unreadable order file); the
    run is then recorded as partial.
    ``after_commit``: called once the page's transaction has committed (never on a dry run),
    before the next page is asked for: for what may only happen once the orders are safe, such
    as acknowledging a feed's entries (Anymarket's ``/orders/feeds``) so the platform stops
    sending them. A run that dies between the commit and the call reads those orders again on
    the next run, which the upsert makes harmless; an acknowledgement sent before the commit
    would lose them. It should handle its own failures (an entry not acknowledged comes back).
    ``listed`` and ``listing_total``, for the progress line only: how many records of the
    platform's listing this page covers (default: its orders; orders skipped as already
    stored count too, so a page may carry none), and, on a listing's first page, how many
    records the platform says the listing holds (Mercado Livre's ``paging.total``,
    Nuvemshop's ``X-Total-Count``). Progress then shows listed of total, with an ETA.
    """

    orders: list[RawOrder]
    checkpoint: datetime | None = None
    rejected: list[str] = field(default_factory=list)
    after_commit: Callable[[], None] | None = None
    listed: int | None = None
    listing_total: int | None = None


class SeenOrders:
    """What the store already holds, so connectors skip detail calls for unchanged orders."""

    def is_current(self, external_id: str, updated_at: datetime | None) -> bool:
        """True when the stored copy of this order already has this ``updated_at``."""
        raise NotImplementedError

    def current_of(self, versions: Mapping[str, datetime | None]) -> set[str]:
        """The ids among ``versions`` (external_id -> updated_at) already stored at that
        version: ask once per page rather than once per order."""
        return {i for i, updated_at in versions.items() if self.is_current(i, updated_at)}

    def created_here(self, external_ids: Iterable[str]) -> set[str]:
        """The ids among ``external_ids`` of orders erpsync itself created on this platform
        (an ERP's copies of channel orders, ``push-orders``): an ERP that also imports its own
        orders leaves these out."""
        return set()


class NothingSeen(SeenOrders):
    """A SeenOrders for dry runs and tests: every order is new."""

    def is_current(self, external_id: str, updated_at: datetime | None) -> bool:
        return False


# -- channel side -------------------------------------------------------------------------------


class OrderSource(ConnectorCore):
    """Orders come from here (a marketplace, a store, a folder of files)."""

    provides = Capability.PULL_ORDERS
    #: True for order searches whose paging drifts (offset pages over a live, update-time
    #: filtered result: a record updated mid-pull shifts the pages and another is skipped).
    #: The engine then reads each window again until a pass stores nothing new.
    reread_until_stable: ClassVar[bool] = False

    @abstractmethod
    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        """Yield pages of raw orders changed within ``window`` (skip those ``seen`` holds)."""

    @abstractmethod
    def map_order(self, payload: Mapping[str, Any]) -> Order:
        """Map one raw payload (as fetched) to a canonical Order. Pure: no I/O."""


class ListingSource(ConnectorCore):
    """The channel's listings (item/variation <-> SKU) come from here."""

    provides = Capability.PULL_LISTINGS

    @abstractmethod
    def fetch_listings(self) -> Iterator[list[Listing]]:
        """Yield batches of the channel's listings with their SKUs."""


class StockSink(ConnectorCore):
    """Sellable quantities go here, one per listing."""

    provides = Capability.PUSH_STOCK
    #: updates per push_stock call: the engine records each batch's outcome before the next,
    #: so a huge catalogue is not lost to one failure; platforms with bulk uploads take more
    push_batch_size: ClassVar[int] = 200
    #: "item": when one variation of an item changes, push all of the item's variations together
    stock_push_scope: ClassVar[Literal["listing", "item"]] = "listing"

    @abstractmethod
    def push_stock(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """Send quantities; return one result per update (a failure is a result, not a raise)."""

    def stock_locations(self) -> Mapping[str, str]:
        """erpsync location -> the channel's location id, for a channel configured to take one
        quantity per location (Nuvemshop multi-inventory, Anymarket stock locals).

        Empty (the default): one quantity per listing, summed over ``settings.locations``.
        Otherwise the engine computes each location's availability on its own, hands over one
        update per listing and location (``StockUpdate.location``, answered in kind) and
        records each location's push apart. Every key must be one of ``settings.locations``
        and every one of those mapped (the engine refuses the config otherwise)."""
        return {}

    def verify_pending(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """Read back pushes the channel accepted asynchronously; ok=False for one that never
        took effect (the engine then sends it again). By default a push is trusted."""
        return [
            PushResult(item_id=u.item_id, variation_id=u.variation_id, location=u.location, ok=True)
            for u in updates
        ]


class InvoiceSink(ConnectorCore):
    """Issued invoices (NF-e) go here, attached to the channel's order (``invoices push``).

    The engine records each invoice as sent before calling ``push_invoices``, so a run killed
    mid-send sends it again: a sink must take an invoice it already has as accepted (Mercado
    Livre's ``duplicated_fiscal_key``, a file already in the outbox). Invoices of orders the
    channel fulfils (Full, FBA) are never handed over.
    """

    provides = Capability.PUSH_INVOICES
    #: the NF-e models the channel takes ("55" NF-e, "65" NFC-e); attach refuses the others
    invoice_models: ClassVar[frozenset[str]] = frozenset({"55"})
    #: invoices per push_invoices call (each batch's outcome is recorded before the next)
    invoice_batch_size: ClassVar[int] = 50

    @abstractmethod
    def push_invoices(self, invoices: Sequence[Invoice]) -> list[SendResult]:
        """Attach each invoice to its order; one result per invoice (``ref``: its access key).

        A failure is a result: ``retry=True`` when it is worth sending again next run (the
        shipment is not ready yet, a transient error), else a refusal kept with its error."""

    def verify_invoices(self, invoices: Sequence[Invoice]) -> list[SendResult]:
        """Read back invoices the channel accepted asynchronously (``pending``): ok when it
        took them, pending while it still processes, a refusal when it rejected them. By
        default an accepted push is trusted."""
        return [SendResult(ref=i.access_key, ok=True) for i in invoices]


class LabelSource(ConnectorCore):
    """Shipping labels the channel issues come from here (``labels fetch``).

    The engine (``erpsync.engine.labels``) asks for the shipments of its orders that have no
    label yet (or every one, with ``--again``), writes each label to a file and records the
    shipment's label state. A label is a read: asking twice is harmless, but the engine does
    not, unless told to.
    """

    provides = Capability.PULL_LABELS
    #: the formats the channel serves: "pdf", "zpl" (ZPL II text)
    label_formats: ClassVar[frozenset[str]] = frozenset({"pdf"})
    #: shipments per fetch_labels call
    label_batch_size: ClassVar[int] = 20

    @abstractmethod
    def fetch_labels(self, requests: Sequence[LabelRequest], *, format: str) -> list[LabelResult]:
        """One result per request (``ref``: its ``shipment_ref``): the label (one document
        per shipment, even where the channel combines several), or why there is none yet
        (``reason``) or ever (``never``). A transient failure raises (RetriableError)."""


class TrackingSink(ConnectorCore):
    """Carrier tracking codes go here, for orders the seller ships (``shipments push``).

    The engine (``erpsync.engine.tracking_push``) records each shipment as sent before calling
    ``push_tracking``, so a run killed mid-send sends it again: a sink must take a tracking
    code the channel already holds for that shipment as accepted (an order already marked
    shipped with the same code). Shipments the channel fulfils (Full, FBA) are never handed
    over; neither are those whose ``logistic_type`` is not in ``tracking_logistic_types``
    (when set): Mercado Livre's ME2 moves by carrier events, there is no call to make.
    """

    provides = Capability.PUSH_TRACKING
    #: updates per push_tracking call (each batch's outcome is recorded before the next)
    tracking_batch_size: ClassVar[int] = 50
    #: only shipments of these logistic types take tracking from the seller (None: all)
    tracking_logistic_types: ClassVar[frozenset[str] | None] = None

    @abstractmethod
    def push_tracking(self, updates: Sequence[TrackingUpdate]) -> list[SendResult]:
        """Send each shipment's tracking; one result per update (``ref``: its
        ``shipment_ref``).

        A failure is a result: ``retry=True`` when it is worth sending again next run (a
        transient error, the order not ready yet), else a refusal kept with the channel's
        error (the order is cancelled, not paid, the code is malformed)."""

    def verify_tracking(self, updates: Sequence[TrackingUpdate]) -> list[SendResult]:
        """Read back tracking the channel accepted asynchronously (``pending``). By default
        an accepted push is trusted."""
        return [SendResult(ref=u.shipment_ref, ok=True) for u in updates]


# -- ERP side -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErpOrderRef:
    """A channel order erpsync created in an ERP (``push-orders``): what cancelling it and
    reading its invoices need."""

    #: the channel connector's name and its order id
    connector: str
    external_id: str
    #: the channel's order number, as the ERP order carries it (``OrderSink.channel_number``)
    number: str
    #: the ERP's id of the order
    remote_id: str


class ProductIds:
    """SKU -> the ERP's product id, remembered across runs.

    An ERP names products by its own ids (Tiny ``produto.id``, Bling ``produto{id}``), found
    by a search per SKU. An id does not change while the product exists, so the engine keeps
    them in the store (``erp_products``): it hands a connector the ids earlier runs resolved
    (``remember``) and, after the run, saves what the connector resolved (``put``) and forgets
    what it dropped (``drop``: the ERP answered "product not found" for that id, so the SKU is
    searched again). A cron run then resolves only SKUs it has not seen before.

    Thread-safe: a connector may resolve from several requests in flight.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, str] = {}
        self._added: dict[str, str] = {}
        self._dropped: set[str] = set()

    def remember(self, known: Mapping[str, str]) -> None:
        """Ids resolved by earlier runs (not changes to save)."""
        with self._lock:
            self._ids.update(known)

    def get(self, sku: str) -> str | None:
        with self._lock:
            return self._ids.get(sku)

    def __contains__(self, sku: object) -> bool:
        with self._lock:
            return sku in self._ids

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)

    def put(self, sku: str, product_id: str | int) -> None:
        """``sku`` resolved to ``product_id`` (exactly: a search may match by prefix)."""
        with self._lock:
            self._ids[sku] = str(product_id)
            self._added[sku] = str(product_id)
            self._dropped.discard(sku)

    def drop(self, sku: str) -> None:
        """The ERP no longer knows ``sku``'s id (deleted, or re-created under a new id)."""
        with self._lock:
            self._ids.pop(sku, None)
            self._added.pop(sku, None)
            self._dropped.add(sku)

    def clear(self) -> None:
        """Forget everything in memory (a benchmark's fresh process); nothing to save."""
        with self._lock:
            self._ids.clear()
            self._added.clear()
            self._dropped.clear()

    def changes(self) -> tuple[dict[str, str], set[str]]:
        """What to save since the last call: (resolved, dropped); both are then reset."""
        with self._lock:
            added, dropped = dict(self._added), set(self._dropped)
            self._added.clear()
            self._dropped.clear()
            return added, dropped


class OrderSink(ConnectorCore):
    """Channel orders go into this ERP (``erpsync push-orders``), each exactly once.

    The engine (``erpsync.engine.order_push``) owns exactly-once; a sink only creates, finds
    and cancels:

    - it records the intent before each ``create_order``, so a run killed mid-create is
      known; the next attempt calls ``find_order`` first;
    - ``create_order`` sends its POST with ``idempotent=False`` (``HttpSession.request``): a
      429 is retried (nothing was stored), while a lost answer (timeout, dropped connection,
      5xx) raises ``RetriableError``; the engine then calls ``find_order`` and creates again
      only when the ERP has no order with that channel number;
    - ``find_order`` must find an order ``create_order`` made, by the channel number it put
      on it (``channel_number``), even when the search matches by prefix (check the number);
    - orders that came from an ERP connector (an ``OrderSource`` that is also an
      ``OrderSink``: the ERP's own orders, e.g. Hub da Olist's) are never handed to a sink,
      nor is a channel order already cancelled when first seen.

    An ERP that names products by its own ids keeps them in ``self.product_ids``
    (``ProductIds``): the engine fills it from earlier runs and saves it after this one.
    """

    provides = Capability.PUSH_ORDERS

    @staticmethod
    def channel_number(order: Order) -> str:
        """The number the ERP order carries to name its channel order (the channel's order
        number, else its id): what ``find_order`` searches by."""
        return order.number or order.external_id

    @abstractmethod
    def find_order(self, order: Order) -> str | None:
        """The ERP's id of the order carrying ``order``'s channel number, or None."""

    @abstractmethod
    def create_order(self, order: Order) -> SendResult:
        """Create ``order`` in the ERP; ``ref``: "CONNECTOR:EXTERNAL_ID".

        ok with ``remote_id`` (the ERP's id); a refusal is a result, ok=False with a one-line
        error: an unknown SKU ("SKU X is not a product in <ERP>"), a buyer the ERP refuses, its
        validation errors (``retry=True`` when it may pass once the seller fixes the ERP side,
        e.g. registers the product). A lost answer raises ``RetriableError`` (see the class).
        """

    @abstractmethod
    def cancel_order(self, ref: ErpOrderRef) -> SendResult:
        """Cancel the ERP order of a channel order cancelled after it was created. A move the
        ERP cannot take (its order is already invoiced) is ok=False with the reason: reported,
        never forced. Cancelling an order already cancelled is ok."""


class StockSource(ConnectorCore):
    """Stock comes from this ERP (``erpsync pull-stock``; ``stock.source`` makes it the on-hand
    push-stock uses, through ``erpsync.engine.availability``)."""

    provides = Capability.PULL_STOCK
    #: SKUs per fetch_stock call (each batch is stored before the next is asked for)
    stock_batch_size: ClassVar[int] = 50

    @abstractmethod
    def fetch_stock(self, skus: Sequence[str]) -> Iterator[list[StockLevel]]:
        """Yield the ERP's stock of ``skus`` (the SKUs erpsync has listings for): one level
        per SKU at location "main" (the ERP's available total), plus one per depósito when
        the ERP reports them. A SKU the ERP does not know is left out (the engine reports it);
        a product search that matches by prefix must not answer for another SKU."""


@dataclass
class InvoiceChanges:
    """One batch of what an ERP's listing of changes gave (``InvoiceSource.
    fetch_invoice_changes``).

    ``invoices``: the authorised NF-e found for the orders asked about, as ``fetch_invoices``
    yields them. ``unsettled``: orders of those asked about whose NF-e the listing showed but
    that could not be taken yet (not authorised yet, rejected for now, its XML not ready or
    unreadable): the engine then keeps the watermark where it was, so the next run's window
    still covers them and they are asked about again.
    """

    invoices: list[Invoice] = field(default_factory=list)
    unsettled: list[ErpOrderRef] = field(default_factory=list)


class InvoiceSource(ConnectorCore):
    """Invoices (NF-e) this ERP issued for orders erpsync created in it come from here
    (``erpsync invoices pull``); ``invoices push`` then sends them to the channels.

    An ERP that can list what changed since a time sets ``lists_invoice_changes`` and
    implements ``fetch_invoice_changes``: the engine then asks order by order only on the
    first run (no watermark yet) and for orders whose ERP order may predate the window, and
    otherwise makes one listing per window, so a run where nothing changed costs one request
    (none when no order awaits an NF-e). The watermark (cursor ``invoices``) moves to the
    run's start only after everything the run found is stored; each window reaches back
    ``overlap`` before it (clock skew, late indexing).
    """

    provides = Capability.PULL_INVOICES
    #: the ERP lists changes since a time (``fetch_invoice_changes``)
    lists_invoice_changes: ClassVar[bool] = False

    def look_up_invoices(self, orders: Sequence[ErpOrderRef]) -> Iterator[InvoiceChanges]:
        """``fetch_invoices`` as ``InvoiceChanges``: what the engine calls for the orders it
        asks about one by one. A connector that lists changes overrides it to report an NF-e
        it saw not ready yet as unsettled (the watermark must not pass it); by default none
        is known."""
        for found in self.fetch_invoices(orders):
            yield InvoiceChanges(invoices=found)

    def fetch_invoice_changes(
        self, window: Window, orders: Sequence[ErpOrderRef]
    ) -> Iterator[InvoiceChanges]:
        """Yield the authorised NF-e of those of ``orders`` that changed in ``window`` (as
        ``fetch_invoices`` does for each order), and the ones whose NF-e is not ready yet
        (``InvoiceChanges.unsettled``). Orders the listing does not show cost nothing."""
        raise NotImplementedError(f"{type(self).__name__} lists no invoice changes")

    @abstractmethod
    def fetch_invoices(self, orders: Sequence[ErpOrderRef]) -> Iterator[list[Invoice]]:
        """Yield the authorised NF-e of each of ``orders`` that has one, with its ``xml`` (the
        nfeProc as issued) and ``connector``/``order_external_id`` naming the channel order;
        orders without an authorised invoice yet are left out (asked again next run)."""


#: every resource class, channel side first
RESOURCES: tuple[type[ConnectorCore], ...] = (
    OrderSource,
    ListingSource,
    StockSink,
    InvoiceSink,
    LabelSource,
    TrackingSink,
    OrderSink,
    StockSource,
    InvoiceSource,
)
