"""Per-location push records (pushed_stock_locations), for channels that take one quantity per
location (Nuvemshop multi-inventory, Anymarket stock locals).

Revision ID: 0010_pushed_stock_locations
Revises: 0009_erp
Create Date: 2026-11-28

Only a new table: an existing database upgrades in place, and single-location pushes keep
their records in pushed_stock.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_pushed_stock_locations"
down_revision: str | None = "0009_erp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.Text


def upgrade() -> None:
    op.create_table(
        "pushed_stock_locations",
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("pushed_at", TIME(), nullable=True),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("last_attempt_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("listing_id", "location"),
    )


def downgrade() -> None:
    op.drop_table("pushed_stock_locations")
