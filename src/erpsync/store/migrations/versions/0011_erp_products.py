"""The ERPs' product ids per SKU (erp_products), kept between runs: a cron run resolves only
the SKUs it has not seen before.

Revision ID: 0011_erp_products
Revises: 0010_pushed_stock_locations
Create Date: 2026-11-28

Only a new table: an existing database upgrades in place and keeps every row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_erp_products"
down_revision: str | None = "0010_pushed_stock_locations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.Text


def upgrade() -> None:
    op.create_table(
        "erp_products",
        sa.Column("connector", sa.String(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("product_id", sa.String(), nullable=False),
        sa.Column("resolved_at", TIME(), nullable=False),
        sa.PrimaryKeyConstraint("connector", "sku"),
    )


def downgrade() -> None:
    op.drop_table("erp_products")
