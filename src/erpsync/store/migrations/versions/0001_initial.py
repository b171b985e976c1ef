"""The first schema: catalogue, ledger, listings, orders, sync state, credentials, quarantine.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01

Written by hand (not metadata.create_all) so that this revision stays what it was when later
revisions change the models; tests/store/test_migrations.py checks that the migrated schema
equals erpsync.store.tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# money, times and JSON are TEXT: exact Decimal, fixed-width ISO 8601 UTC, JSON documents
MONEY = sa.Text
TIME = sa.Text
JSON = sa.Text


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("sku", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("gtin", sa.String(), nullable=True),
        sa.Column("created_at", TIME(), nullable=False),
        sa.Column("updated_at", TIME(), nullable=False),
    )
    op.create_table(
        "kit_components",
        sa.Column("kit_sku", sa.String(), primary_key=True),
        sa.Column("component_sku", sa.String(), primary_key=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_kit_components_quantity"),
        sa.ForeignKeyConstraint(["kit_sku"], ["products.sku"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["component_sku"], ["products.sku"]),
    )
    op.create_table(
        "stock_movements",
        _id(),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("location", sa.String(), nullable=False),
        sa.Column("bucket", sa.String(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=True),
        sa.Column("idempotency_key", sa.String(), nullable=True),
        sa.Column("created_at", TIME(), nullable=False),
        sa.CheckConstraint("bucket IN ('on_hand', 'reserved')", name="ck_stock_movements_bucket"),
        sa.UniqueConstraint("idempotency_key", name="uq_stock_movements_idempotency_key"),
    )
    op.create_index("ix_stock_movements_sku_location", "stock_movements", ["sku", "location"])
    op.create_index("ix_stock_movements_reference", "stock_movements", ["reference"])
    op.create_table(
        "listings",
        _id(),
        sa.Column("connector", sa.String(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("variation_id", sa.String(), nullable=False, server_default=""),
        sa.Column("sku", sa.String(), nullable=True),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("fulfilled_by_channel", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("channel_quantity", sa.Integer(), nullable=True),
        sa.Column("pending_quantity", sa.Integer(), nullable=True),
        sa.Column("updated_at", TIME(), nullable=False),
        sa.UniqueConstraint(
            "connector", "item_id", "variation_id", name="uq_listings_connector_item_variation"
        ),
        sa.CheckConstraint("source IN ('channel', 'manual')", name="ck_listings_source"),
    )
    op.create_index("ix_listings_sku", "listings", ["sku"])
    op.create_table(
        "pushed_stock",
        sa.Column("listing_id", sa.Integer(), primary_key=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("pushed_at", TIME(), nullable=True),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("last_attempt_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], ondelete="CASCADE"),
    )
    _create_orders()
    _create_sync_state()


def _create_orders() -> None:
    text_columns = [
        "buyer_name",
        "buyer_document",
        "buyer_email",
        "buyer_phone",
        "ship_street",
        "ship_number",
        "ship_complement",
        "ship_district",
        "ship_city",
        "ship_state",
        "ship_zip",
        "ship_country",
    ]
    effects = "'none', 'reserved', 'deducted', 'released', 'returned', 'closed'"
    op.create_table(
        "orders",
        _id(),
        sa.Column("connector", sa.String(), nullable=False),
        sa.Column("external_id", sa.String(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("channel_status", sa.String(), nullable=False),
        sa.Column("created_at", TIME(), nullable=False),
        sa.Column("updated_at", TIME(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("items_total", MONEY(), nullable=False),
        sa.Column("shipping_cost", MONEY(), nullable=False),
        sa.Column("discount", MONEY(), nullable=False),
        sa.Column("total", MONEY(), nullable=False),
        *(sa.Column(name, sa.String(), nullable=True) for name in text_columns),
        sa.Column("fulfilled_by_channel", sa.Boolean(), nullable=False),
        sa.Column("stock_effect", sa.String(), nullable=False),
        sa.Column("extra", JSON(), nullable=False),
        sa.Column("notes", JSON(), nullable=False),
        sa.Column("raw", JSON(), nullable=False),
        sa.Column("imported_at", TIME(), nullable=False),
        sa.Column("last_seen_at", TIME(), nullable=False),
        sa.UniqueConstraint("connector", "external_id", name="uq_orders_connector_external_id"),
        sa.CheckConstraint(f"stock_effect IN ({effects})", name="ck_orders_stock_effect"),
    )
    op.create_index("ix_orders_connector_updated_at", "orders", ["connector", "updated_at"])
    op.create_index("ix_orders_external_id", "orders", ["external_id"])
    op.create_index("ix_orders_number", "orders", ["number"])
    op.create_table(
        "order_items",
        _id(),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(), nullable=True),
        sa.Column("channel_item_id", sa.String(), nullable=True),
        sa.Column("variation_id", sa.String(), nullable=True),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", MONEY(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("order_id", "line", name="uq_order_items_order_line"),
    )
    op.create_index("ix_order_items_sku", "order_items", ["sku"])


def _create_sync_state() -> None:
    op.create_table(
        "sync_cursors",
        sa.Column("connector", sa.String(), primary_key=True),
        sa.Column("resource", sa.String(), primary_key=True),
        sa.Column("value", TIME(), nullable=False),
        sa.Column("updated_at", TIME(), nullable=False),
    )
    op.create_table(
        "sync_runs",
        _id(),
        sa.Column("command", sa.String(), nullable=False),
        sa.Column("connector", sa.String(), nullable=True),
        sa.Column("started_at", TIME(), nullable=False),
        sa.Column("finished_at", TIME(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("counts", JSON(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('running', 'ok', 'failed', 'dry-run')", name="ck_sync_runs_outcome"
        ),
    )
    op.create_index("ix_sync_runs_started_at", "sync_runs", ["started_at"])
    op.create_table(
        "credentials",
        sa.Column("connector", sa.String(), primary_key=True),
        sa.Column("access_token", sa.String(), nullable=True),
        sa.Column("refresh_token", sa.String(), nullable=True),
        sa.Column("expires_at", TIME(), nullable=True),
        sa.Column("seed", sa.String(), nullable=True),
        sa.Column("updated_at", TIME(), nullable=False),
    )
    op.create_table(
        "quarantine",
        _id(),
        sa.Column("connector", sa.String(), nullable=False),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("payload", JSON(), nullable=False),
        sa.Column("error", sa.String(), nullable=False),
        sa.Column("created_at", TIME(), nullable=False),
        sa.Column("resolved_at", TIME(), nullable=True),
    )
    op.create_index(
        "ix_quarantine_connector_external_id", "quarantine", ["connector", "external_id"]
    )


def downgrade() -> None:
    for index, table in [
        ("ix_quarantine_connector_external_id", "quarantine"),
        ("ix_sync_runs_started_at", "sync_runs"),
        ("ix_order_items_sku", "order_items"),
        ("ix_orders_number", "orders"),
        ("ix_orders_external_id", "orders"),
        ("ix_orders_connector_updated_at", "orders"),
        ("ix_listings_sku", "listings"),
        ("ix_stock_movements_reference", "stock_movements"),
        ("ix_stock_movements_sku_location", "stock_movements"),
    ]:
        op.drop_index(index, table_name=table)
    for table in [
        "quarantine",
        "credentials",
        "sync_runs",
        "sync_cursors",
        "order_items",
        "orders",
        "pushed_stock",
        "listings",
        "stock_movements",
        "kit_components",
        "products",
    ]:
        op.drop_table(table)
