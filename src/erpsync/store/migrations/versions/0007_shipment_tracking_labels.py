"""Shipments keep when the seller shipped them and the label fetched for them.

Revision ID: 0007_shipment_tracking_labels
Revises: 0006_lease_finished
Create Date: 2026-11-28

New nullable columns only: an existing database upgrades in place and keeps every row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_shipment_tracking_labels"
down_revision: str | None = "0006_lease_finished"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.Text


def upgrade() -> None:
    # nullable columns: a plain ALTER on both databases, no table copy
    op.add_column("shipments", sa.Column("shipped_at", TIME(), nullable=True))
    op.add_column("shipments", sa.Column("label_format", sa.String(), nullable=True))
    op.add_column("shipments", sa.Column("label_file", sa.String(), nullable=True))
    op.add_column("shipments", sa.Column("label_fetched_at", TIME(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("label_fetched_at")
        batch.drop_column("label_file")
        batch.drop_column("label_format")
        batch.drop_column("shipped_at")
