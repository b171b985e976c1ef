"""Orders record the sale they are at their marketplace, and which copy of a sale moves stock.

A sale pulled from a marketplace directly and relayed by a hub (Anymarket) arrives twice; both
copies carry ``sale_ref`` ("MARKETPLACE:number"), and the second one points at the first with
``stock_copy_of`` so only the first moves stock. Orders already stored from Mercado Livre,
Amazon and Magalu get their ``sale_ref`` here, so a hub's copy of an order pulled before the
upgrade is still recognised.

Revision ID: 0008_order_sale_ref
Revises: 0007_shipment_tracking_labels
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_order_sale_ref"
down_revision: str | None = "0007_shipment_tracking_labels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: platform -> (marketplace as Anymarket spells it, the column holding its order number), as
#: the connectors' mappers set sale_ref (ML: the pack id or order id, kept in `number`)
_BACKFILL = (
    ("Mercado Livre", "MERCADO_LIVRE", "number"),
    ("Amazon", "AMAZON", "external_id"),
    ("Magalu", "MAGAZINE_LUIZA", "number"),
)


def upgrade() -> None:
    # new nullable columns: a plain ALTER on both databases, no table copy
    op.add_column("orders", sa.Column("sale_ref", sa.String(), nullable=True))
    op.add_column("orders", sa.Column("stock_copy_of", sa.Integer(), nullable=True))
    op.create_index("ix_orders_sale_ref", "orders", ["sale_ref"])
    for platform, marketplace, column in _BACKFILL:
        op.execute(
            sa.text(
                f"UPDATE orders SET sale_ref = :prefix || {column} "  # noqa: S608 - fixed names
                f"WHERE platform = :platform AND {column} IS NOT NULL AND sale_ref IS NULL"
            ).bindparams(prefix=f"{marketplace}:", platform=platform)
        )


def downgrade() -> None:
    op.drop_index("ix_orders_sale_ref", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("stock_copy_of")
        batch.drop_column("sale_ref")
