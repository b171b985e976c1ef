"""Order lines remember what stock did with them: booked, parked (unknown SKU) or waived.

Revision ID: 0002_order_line_stock
Revises: 0001_initial
Create Date: 2026-11-28

Before this revision a line whose SKU was unknown when its order was pulled was skipped for
good. The upgrade marks such lines "parked" (lines of orders that hold stock, with no ledger
movement for their SKU under the order), so the next product import, listing link or pull
books them; erpsync.engine.parked decides what each one books.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import sqlalchemy as sa
from alembic import op

revision: str = "0002_order_line_stock"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "stock IN ('none', 'booked', 'parked', 'waived')"

# a line of an order holding stock is booked when the ledger holds a movement of its SKU (or of
# one of its kit's components) under the order's reference; otherwise it is parked
_MARK = """
UPDATE order_items SET stock = CASE
  WHEN NOT EXISTS (
    SELECT 1 FROM orders o WHERE o.id = order_items.order_id
    AND o.stock_effect IN ('reserved', 'deducted') AND NOT o.fulfilled_by_channel
  ) THEN 'none'
  WHEN EXISTS (
    SELECT 1 FROM orders o JOIN stock_movements m
      ON m.reference = 'order:' || o.connector || ':' || o.external_id
    WHERE o.id = order_items.order_id AND (
      m.sku = order_items.sku
      OR m.sku IN (SELECT component_sku FROM kit_components WHERE kit_sku = order_items.sku)
    )
  ) THEN 'booked'
  ELSE 'parked'
END
"""


def _recreate() -> Literal["always", "auto"]:
    # SQLite alters these only by copying the table; PostgreSQL ALTERs in place (a copy there
    # would leave the id sequence behind the copied rows)
    return "always" if op.get_context().dialect.name == "sqlite" else "auto"


def upgrade() -> None:
    with op.batch_alter_table("order_items", recreate=_recreate()) as batch:
        batch.add_column(
            sa.Column("stock", sa.String(), nullable=False, server_default=sa.text("'none'"))
        )
        batch.create_check_constraint("ck_order_items_stock", CHECK)
        batch.create_index("ix_order_items_stock", ["stock"])
    op.execute(_MARK)


def downgrade() -> None:
    with op.batch_alter_table("order_items", recreate=_recreate()) as batch:
        batch.drop_index("ix_order_items_stock")
        batch.drop_constraint("ck_order_items_stock", type_="check")
        batch.drop_column("stock")
