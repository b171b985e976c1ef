"""The ERP side: which channel orders went into which ERP (erp_pushes), and the stock an ERP
last reported (erp_stock).

Revision ID: 0009_erp
Revises: 0008_order_sale_ref
Create Date: 2026-11-28

Only new tables: an existing database upgrades in place and keeps every row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_erp"
down_revision: str | None = "0008_order_sale_ref"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.Text
ERP_PUSH_STATES = "'sending', 'created', 'refused', 'skipped', 'cancelled', 'cancel_refused'"


def upgrade() -> None:
    op.create_table(
        "erp_pushes",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("connector", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("remote_id", sa.String(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_sent_at", TIME(), nullable=False),
        sa.Column("updated_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("order_id", "connector"),
        sa.CheckConstraint(f"state IN ({ERP_PUSH_STATES})", name="ck_erp_pushes_state"),
    )
    op.create_index("ix_erp_pushes_connector_remote_id", "erp_pushes", ["connector", "remote_id"])
    op.create_table(
        "erp_stock",
        sa.Column("connector", sa.String(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("location", sa.String(), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=True),
        sa.Column("reserved", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.String(), nullable=True),
        sa.Column("fetched_at", TIME(), nullable=False),
        sa.PrimaryKeyConstraint("connector", "sku", "location"),
    )


def downgrade() -> None:
    op.drop_table("erp_stock")
    op.drop_index("ix_erp_pushes_connector_remote_id", table_name="erp_pushes")
    op.drop_table("erp_pushes")
