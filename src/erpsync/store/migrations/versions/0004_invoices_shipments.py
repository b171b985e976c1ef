"""After the sale: shipments, invoices (NF-e XML kept zlib-compressed) and their push records.

Revision ID: 0004_invoices_shipments
Revises: 0003_run_outcomes
Create Date: 2026-11-28

Only new tables: an existing database upgrades in place and keeps every row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_invoices_shipments"
down_revision: str | None = "0003_run_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Text
TIME = sa.Text
JSON = sa.Text
PUSH_STATES = "'sent', 'accepted', 'pending', 'refused', 'failed'"


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("connector", sa.String(), nullable=False),
        sa.Column("shipment_ref", sa.String(), nullable=False),
        sa.Column("logistic_type", sa.String(), nullable=True),
        sa.Column("fulfilled_by_channel", sa.Boolean(), nullable=False),
        sa.Column("carrier", sa.String(), nullable=True),
        sa.Column("tracking_code", sa.String(), nullable=True),
        sa.Column("tracking_url", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=True),
        sa.Column("substatus", sa.String(), nullable=True),
        sa.Column("label_state", sa.String(), nullable=False),
        sa.Column("updated_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("order_id", "shipment_ref", name="uq_shipments_order_ref"),
        sa.CheckConstraint(
            "label_state IN ('none', 'fetched', 'not_applicable')",
            name="ck_shipments_label_state",
        ),
    )
    op.create_index("ix_shipments_connector_ref", "shipments", ["connector", "shipment_ref"])
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("access_key", sa.String(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("series", sa.Integer(), nullable=False),
        sa.Column("issued_at", TIME(), nullable=False),
        sa.Column("authorised_at", TIME(), nullable=True),
        sa.Column("issuer_document", sa.String(), nullable=False),
        sa.Column("recipient_document", sa.String(), nullable=True),
        sa.Column("total", MONEY(), nullable=False),
        sa.Column("products_total", MONEY(), nullable=False),
        sa.Column("freight", MONEY(), nullable=False),
        sa.Column("discount", MONEY(), nullable=False),
        sa.Column("protocol", sa.String(), nullable=True),
        sa.Column("status_code", sa.String(), nullable=True),
        sa.Column("environment", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("forced_checks", JSON(), nullable=False),
        sa.Column("order_refs", JSON(), nullable=False),
        sa.Column("file_name", sa.String(), nullable=True),
        sa.Column("xml_zlib", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipments.id"], ondelete="SET NULL"),
        sa.UniqueConstraint("access_key", name="uq_invoices_access_key"),
        sa.CheckConstraint("source IN ('manual', 'import', 'erp')", name="ck_invoices_source"),
        sa.CheckConstraint("model IN ('55', '65')", name="ck_invoices_model"),
    )
    op.create_index("ix_invoices_order_id", "invoices", ["order_id"])
    for table, key, target in [
        ("invoice_pushes", "invoice_id", "invoices.id"),
        ("tracking_pushes", "shipment_id", "shipments.id"),
    ]:
        op.create_table(
            table,
            sa.Column(key, sa.Integer(), primary_key=True),
            sa.Column("connector", sa.String(), primary_key=True),
            sa.Column("state", sa.String(), nullable=False),
            sa.Column("error", sa.String(), nullable=True),
            sa.Column("remote_ref", sa.String(), nullable=True),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("first_sent_at", TIME(), nullable=False),
            sa.Column("updated_at", TIME(), nullable=False),
            sa.ForeignKeyConstraint([key], [target], ondelete="CASCADE"),
            sa.CheckConstraint(f"state IN ({PUSH_STATES})", name=f"ck_{table}_state"),
        )


def downgrade() -> None:
    op.drop_table("tracking_pushes")
    op.drop_table("invoice_pushes")
    op.drop_index("ix_invoices_order_id", table_name="invoices")
    op.drop_table("invoices")
    op.drop_index("ix_shipments_connector_ref", table_name="shipments")
    op.drop_table("shipments")
