"""Leases remember which command last finished under them, and when (workers share connectors).

Revision ID: 0006_lease_finished
Revises: 0005_leases
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_lease_finished"
down_revision: str | None = "0005_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # new nullable columns: a plain ALTER on both databases, no table copy
    op.add_column("leases", sa.Column("last_command", sa.String(), nullable=True))
    op.add_column("leases", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.drop_column("finished_at")
        batch.drop_column("last_command")
