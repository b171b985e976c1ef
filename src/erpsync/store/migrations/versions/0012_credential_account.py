"""The account stored tokens belong to (credentials.account), as the token response named it
(Mercado Livre's ``user_id``): a run that loads still-valid tokens knows the seller without
asking the platform.

Revision ID: 0012_credential_account
Revises: 0011_erp_products
Create Date: 2026-11-28

Only a new nullable column: an existing database upgrades in place and keeps its tokens; they
learn their account at their next refresh (until then the connector asks, as before).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_credential_account"
down_revision: str | None = "0011_erp_products"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("credentials", sa.Column("account", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("account")
