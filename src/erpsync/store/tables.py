"""The SQLModel tables of the local store. Migrations (store/migrations) must match them exactly.

Money columns are DecimalText, time columns UtcDateTime (aware UTC in and out), JSON columns
JsonText. Constraint and index names are explicit so future Alembic revisions can name them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from erpsync.domain import utcnow
from erpsync.store.types import DecimalText, JsonText, UtcDateTime

BUCKETS = ("on_hand", "reserved")
LISTING_SOURCES = ("channel", "manual")
STOCK_EFFECTS = ("none", "reserved", "deducted", "released", "returned", "closed")
#: what stock did with one order line: nothing (the order holds no stock), booked, parked (its
#: SKU is not known yet: booked when it becomes known), waived (known only after it shipped)
LINE_STOCK = ("none", "booked", "parked", "waived")
RUN_OUTCOMES = ("running", "ok", "failed", "dry-run", "partial", "interrupted")
INVOICE_SOURCES = ("manual", "import", "erp")
INVOICE_MODELS = ("55", "65")
PUSH_STATES = ("sent", "accepted", "pending", "refused", "failed")
LABEL_STATES = ("none", "fetched", "not_applicable")
#: a channel order in an ERP: "sending" (intent recorded, answer not seen: look it up before
#: creating again), "created", "refused" (the ERP said no: unknown SKU, validation; tried again
#: next run), "skipped" (cancelled before it was ever created: never created), "cancelled"
#: (its cancellation reached the ERP), "cancel_refused" (the ERP cannot take it: reported)
ERP_PUSH_STATES = ("sending", "created", "refused", "skipped", "cancelled", "cancel_refused")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    allowed = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({allowed})"


class Product(SQLModel, table=True):
    """A stocked SKU (or a kit of them) from the seller's catalogue."""

    __tablename__ = "products"

    sku: str = Field(primary_key=True)
    name: str | None = None
    gtin: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class KitComponent(SQLModel, table=True):
    """One component of a kit: selling one ``kit_sku`` moves ``quantity`` of ``component_sku``."""

    __tablename__ = "kit_components"
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_kit_components_quantity"),)

    kit_sku: str = Field(primary_key=True, foreign_key="products.sku", ondelete="CASCADE")
    component_sku: str = Field(primary_key=True, foreign_key="products.sku")
    quantity: int


class StockMovement(SQLModel, table=True):
    """One signed change to a SKU's stock in a location and bucket (the append-only ledger)."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint(_one_of("bucket", BUCKETS), name="ck_stock_movements_bucket"),
        UniqueConstraint("idempotency_key", name="uq_stock_movements_idempotency_key"),
        Index("ix_stock_movements_sku_location", "sku", "location"),
        Index("ix_stock_movements_reference", "reference"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sku: str
    location: str
    bucket: str
    quantity: int
    reason: str
    reference: str | None = None
    idempotency_key: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ListingRow(SQLModel, table=True):
    """A channel listing (item, or one variation) and the SKU it sells.

    ``variation_id`` is "" for a listing without variations, so the unique key works (SQL
    treats NULLs as distinct). ``source`` "manual" marks a link made with ``listings link``.
    """

    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint(
            "connector", "item_id", "variation_id", name="uq_listings_connector_item_variation"
        ),
        CheckConstraint(_one_of("source", LISTING_SOURCES), name="ck_listings_source"),
        Index("ix_listings_sku", "sku"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connector: str
    item_id: str
    variation_id: str = Field(default="", sa_column_kwargs={"server_default": text("''")})
    sku: str | None = None
    title: str | None = None
    fulfilled_by_channel: bool = False
    source: str = "channel"
    channel_quantity: int | None = None
    pending_quantity: int | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    @property
    def ref(self) -> str:
        """ITEM or ITEM:VARIATION, as the CLI shows and accepts it."""
        return f"{self.item_id}:{self.variation_id}" if self.variation_id else self.item_id


class PushedStock(SQLModel, table=True):
    """The last quantity a channel accepted for a listing, and the last attempt's outcome.

    ``quantity``/``pushed_at`` describe the last successful push (None until one succeeds);
    ``last_error`` the last failed attempt (cleared by a success).
    """

    __tablename__ = "pushed_stock"

    listing_id: int = Field(primary_key=True, foreign_key="listings.id", ondelete="CASCADE")
    quantity: int | None = None
    pushed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    pending: bool = False
    last_error: str | None = None
    last_attempt_at: datetime = Field(sa_type=UtcDateTime)


class PushedStockLocation(SQLModel, table=True):
    """PushedStock for a channel that takes one quantity per location (``StockSink.
    stock_locations``): the same record, kept per listing and erpsync location."""

    __tablename__ = "pushed_stock_locations"

    listing_id: int = Field(primary_key=True, foreign_key="listings.id", ondelete="CASCADE")
    location: str = Field(primary_key=True)
    quantity: int | None = None
    pushed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    pending: bool = False
    last_error: str | None = None
    last_attempt_at: datetime = Field(sa_type=UtcDateTime)


class OrderRow(SQLModel, table=True):
    """One order, flattened from erpsync.domain.Order; ``raw`` keeps the platform payload."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("connector", "external_id", name="uq_orders_connector_external_id"),
        CheckConstraint(_one_of("stock_effect", STOCK_EFFECTS), name="ck_orders_stock_effect"),
        Index("ix_orders_connector_updated_at", "connector", "updated_at"),
        Index("ix_orders_external_id", "external_id"),
        Index("ix_orders_number", "number"),
        Index("ix_orders_sale_ref", "sale_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connector: str
    external_id: str
    platform: str
    number: str | None = None
    status: str
    channel_status: str
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    currency: str = "BRL"
    items_total: Decimal = Field(sa_type=DecimalText)
    shipping_cost: Decimal = Field(sa_type=DecimalText)
    discount: Decimal = Field(sa_type=DecimalText)
    total: Decimal = Field(sa_type=DecimalText)
    buyer_name: str | None = None
    buyer_document: str | None = None
    buyer_email: str | None = None
    buyer_phone: str | None = None
    ship_street: str | None = None
    ship_number: str | None = None
    ship_complement: str | None = None
    ship_district: str | None = None
    ship_city: str | None = None
    ship_state: str | None = None
    ship_zip: str | None = None
    ship_country: str | None = None
    fulfilled_by_channel: bool = False
    stock_effect: str = "none"
    extra: dict[str, Any] = Field(default_factory=dict, sa_type=JsonText)
    notes: list[str] = Field(default_factory=list, sa_type=JsonText)
    raw: dict[str, Any] = Field(default_factory=dict, sa_type=JsonText)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    #: "MARKETPLACE:number" of the sale (erpsync.domain.sale_ref), the same for a sale pulled
    #: directly and relayed by a hub
    sale_ref: str | None = None
    #: set on the copy of a sale another connector brought first: the id of that order,
    #: which alone moves stock for the sale (this one never does)
    stock_copy_of: int | None = None


class OrderItemRow(SQLModel, table=True):
    """One line of an order; deleted with its order. ``stock`` is one of LINE_STOCK."""

    __tablename__ = "order_items"
    __table_args__ = (
        UniqueConstraint("order_id", "line", name="uq_order_items_order_line"),
        CheckConstraint(_one_of("stock", LINE_STOCK), name="ck_order_items_stock"),
        Index("ix_order_items_sku", "sku"),
        Index("ix_order_items_stock", "stock"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE")
    line: int
    sku: str | None = None
    channel_item_id: str | None = None
    variation_id: str | None = None
    title: str | None = None
    quantity: int
    unit_price: Decimal = Field(sa_type=DecimalText)
    stock: str = Field(default="none", sa_column_kwargs={"server_default": text("'none'")})


class SyncCursor(SQLModel, table=True):
    """How far a connector's resource (e.g. "orders") has been read, as an aware UTC time."""

    __tablename__ = "sync_cursors"

    connector: str = Field(primary_key=True)
    resource: str = Field(primary_key=True)
    value: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class SyncRun(SQLModel, table=True):
    """One command run for one connector: when, outcome, counts and the error line."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        CheckConstraint(_one_of("outcome", RUN_OUTCOMES), name="ck_sync_runs_outcome"),
        Index("ix_sync_runs_started_at", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    command: str
    connector: str | None = None
    started_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    outcome: str = "running"
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JsonText)
    error: str | None = None


class Credential(SQLModel, table=True):
    """A connector's current OAuth tokens (rotated refresh tokens persist here)."""

    __tablename__ = "credentials"

    connector: str = Field(primary_key=True)
    access_token: str | None = None
    #: None for platforms whose token endpoint issues no refresh token
    refresh_token: str | None = None
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    #: fingerprint of the config refresh token these tokens descend from (None: unknown)
    seed: str | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    #: the account the tokens belong to, as the token response named it (Mercado Livre's
    #: user_id); None when the platform names none or the tokens predate migration 0012
    account: str | None = None


class QuarantineRow(SQLModel, table=True):
    """A payload a connector could not map, kept with the error until it is replayed."""

    __tablename__ = "quarantine"
    __table_args__ = (Index("ix_quarantine_connector_external_id", "connector", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    connector: str
    external_id: str | None = None
    payload: Any = Field(sa_type=JsonText)
    error: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ShipmentRow(SQLModel, table=True):
    """One shipment (ML), delivery (Magalu) or parcel (Amazon) of an order, as the channel
    reports it, plus what the seller recorded (tracking) and the label's state here."""

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("order_id", "shipment_ref", name="uq_shipments_order_ref"),
        CheckConstraint(_one_of("label_state", LABEL_STATES), name="ck_shipments_label_state"),
        Index("ix_shipments_connector_ref", "connector", "shipment_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE")
    connector: str
    shipment_ref: str
    logistic_type: str | None = None
    fulfilled_by_channel: bool = False
    carrier: str | None = None
    tracking_code: str | None = None
    tracking_url: str | None = None
    status: str | None = None
    substatus: str | None = None
    label_state: str = "none"
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    #: when the seller recorded it as shipped (``shipments set``): the ship date channels take
    shipped_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    #: the label fetched for it (``labels fetch``): "pdf" or "zpl", where it was written, when
    label_format: str | None = None
    label_file: str | None = None
    label_fetched_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class InvoiceRow(SQLModel, table=True):
    """One NF-e/NFC-e of an order: the fields read from its XML, and the XML (zlib)."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("access_key", name="uq_invoices_access_key"),
        CheckConstraint(_one_of("source", INVOICE_SOURCES), name="ck_invoices_source"),
        CheckConstraint(_one_of("model", INVOICE_MODELS), name="ck_invoices_model"),
        Index("ix_invoices_order_id", "order_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id")
    shipment_id: int | None = Field(default=None, foreign_key="shipments.id", ondelete="SET NULL")
    access_key: str
    model: str
    number: int
    series: int
    issued_at: datetime = Field(sa_type=UtcDateTime)
    authorised_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    issuer_document: str
    recipient_document: str | None = None
    total: Decimal = Field(sa_type=DecimalText)
    products_total: Decimal = Field(sa_type=DecimalText)
    freight: Decimal = Field(sa_type=DecimalText)
    discount: Decimal = Field(sa_type=DecimalText)
    protocol: str | None = None
    status_code: str | None = None
    environment: int = 1
    source: str = "manual"
    #: --force was used; ``forced_checks`` names the checks it overrode
    forced: bool = False
    forced_checks: list[str] = Field(default_factory=list, sa_type=JsonText)
    order_refs: list[str] = Field(default_factory=list, sa_type=JsonText)
    file_name: str | None = None
    xml_zlib: bytes
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class PushRecord(SQLModel):
    """One record on one channel (no table of its own: InvoicePush and TrackingPush are its
    tables): recorded as "sent" before the request goes out, so a crash mid-send is re-checked
    rather than forgotten, and nothing accepted is sent twice (erpsync.engine.record_push).
    Each table adds the key of the row it pushes, then ``connector`` again: declared after the
    key, so the primary key stays (key, connector) as the migrations made it."""

    connector: str = Field(primary_key=True)
    state: str
    error: str | None = None
    #: the platform's id for what it received (an invoice id, a feed or file name)
    remote_ref: str | None = None
    attempts: int = 0
    first_sent_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class InvoicePush(PushRecord, table=True):
    """One invoice on one channel."""

    __tablename__ = "invoice_pushes"
    __table_args__ = (
        CheckConstraint(_one_of("state", PUSH_STATES), name="ck_invoice_pushes_state"),
    )

    invoice_id: int = Field(primary_key=True, foreign_key="invoices.id", ondelete="CASCADE")
    connector: str = Field(primary_key=True)


class TrackingPush(PushRecord, table=True):
    """One shipment's tracking on one channel."""

    __tablename__ = "tracking_pushes"
    __table_args__ = (
        CheckConstraint(_one_of("state", PUSH_STATES), name="ck_tracking_pushes_state"),
    )

    shipment_id: int = Field(primary_key=True, foreign_key="shipments.id", ondelete="CASCADE")
    connector: str = Field(primary_key=True)


class Lease(SQLModel, table=True):
    """Who works on what, when several workers share one PostgreSQL database (store.leases).

    ``name`` is "connector:<name>" (the run lease) or "token:<key>" (the row the token refresh
    locks). A lease is free when ``expires_at`` is NULL or past. Used on PostgreSQL only:
    ``expires_at`` is a real timestamptz, compared with the server's clock, never a worker's.
    """

    __tablename__ = "leases"

    name: str = Field(primary_key=True)
    holder: str | None = None
    expires_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    #: the command last run under this lease, and when it finished: a worker started before
    #: that does not run the same command on the connector again
    last_command: str | None = None
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class ErpPush(SQLModel, table=True):
    """One channel order in one ERP connector (``push-orders``): the intent is recorded as
    "sending" before the create goes out, so an answer lost in flight is looked up by the
    channel number before anything is created again."""

    __tablename__ = "erp_pushes"
    __table_args__ = (
        CheckConstraint(_one_of("state", ERP_PUSH_STATES), name="ck_erp_pushes_state"),
        Index("ix_erp_pushes_connector_remote_id", "connector", "remote_id"),
    )

    order_id: int = Field(primary_key=True, foreign_key="orders.id", ondelete="CASCADE")
    connector: str = Field(primary_key=True)
    state: str
    #: the ERP's id of the order, once known
    remote_id: str | None = None
    error: str | None = None
    attempts: int = 0
    first_sent_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    #: since when the ERP has shown this order's NF-e not ready (pending, rejected) or its
    #: invoice was refused here; None once settled (``engine.invoice_pull``)
    invoice_stuck_since: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ErpStock(SQLModel, table=True):
    """A SKU's stock as an ERP (``StockSource``) last reported it (``pull-stock``); with
    ``stock.source`` set, push-stock computes what channels may sell from it."""

    __tablename__ = "erp_stock"

    connector: str = Field(primary_key=True)
    sku: str = Field(primary_key=True)
    location: str = Field(primary_key=True)
    available: int
    on_hand: int | None = None
    reserved: int | None = None
    product_id: str | None = None
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ErpProduct(SQLModel, table=True):
    """A SKU's product id in an ERP, as the ERP's search resolved it (``ProductIds``): kept
    between runs, forgotten when the ERP answers that the product is not found."""

    __tablename__ = "erp_products"

    connector: str = Field(primary_key=True)
    sku: str = Field(primary_key=True)
    product_id: str
    resolved_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
