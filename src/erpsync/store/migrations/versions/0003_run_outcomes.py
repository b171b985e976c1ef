"""Runs may end "partial" (some records failed or were refused) or "interrupted" (Ctrl-C).

Revision ID: 0003_run_outcomes
Revises: 0002_order_line_stock
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from alembic import op

revision: str = "0003_run_outcomes"
down_revision: str | None = "0002_order_line_stock"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ck_sync_runs_outcome"
OLD = ("running", "ok", "failed", "dry-run")
NEW = (*OLD, "partial", "interrupted")


def _check(values: tuple[str, ...]) -> str:
    return "outcome IN ({})".format(", ".join(f"'{v}'" for v in values))


def _recreate() -> Literal["always", "auto"]:
    # SQLite alters these only by copying the table; PostgreSQL ALTERs in place (a copy there
    # would leave the id sequence behind the copied rows)
    return "always" if op.get_context().dialect.name == "sqlite" else "auto"


def upgrade() -> None:
    # SQLite cannot alter a CHECK constraint: batch mode copies the table
    with op.batch_alter_table("sync_runs", recreate=_recreate()) as batch:
        batch.drop_constraint(NAME, type_="check")
        batch.create_check_constraint(NAME, _check(NEW))


def downgrade() -> None:
    op.execute(
        "UPDATE sync_runs SET outcome = 'failed' WHERE outcome IN ('partial', 'interrupted')"
    )
    with op.batch_alter_table("sync_runs", recreate=_recreate()) as batch:
        batch.drop_constraint(NAME, type_="check")
        batch.create_check_constraint(NAME, _check(OLD))
