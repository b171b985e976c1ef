"""Since when an order's NF-e has been stuck in its ERP (erp_pushes.invoice_stuck_since):
pending or rejected there, or refused here. It holds the invoices watermark for a bounded
time only; after that the order is asked about one by one until it is settled.

Revision ID: 0013_erp_invoice_stuck
Revises: 0012_credential_account
Create Date: 2026-11-28

Only a new nullable column: an existing database upgrades in place; its orders start with
nothing stuck (the next invoices pull notes what the ERP shows not ready).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_erp_invoice_stuck"
down_revision: str | None = "0012_credential_account"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("erp_pushes", sa.Column("invoice_stuck_since", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("erp_pushes") as batch:
        batch.drop_column("invoice_stuck_since")
