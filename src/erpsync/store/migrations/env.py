"""Alembic environment: runs on the connection erpsync hands over, or on sqlalchemy.url.

A model change needs a new named revision (tests/store/test_migrations.py fails until then):
change erpsync/store/tables.py, then, against a database at the previous head::

    python -c "from alembic import command; from erpsync.store.db import alembic_config; \
    command.revision(alembic_config(url='sqlite:///dev.db'), 'what changed', \
    autogenerate=True, rev_id='0002_what_changed')"

review the generated file (SQLite needs op.batch_alter_table for most ALTERs), run
``ruff format`` on it, and bump ``erpsync.store.db.HEAD_REVISION``.

Every revision runs on SQLite and PostgreSQL (tests/store/test_migrations.py does both when
ERPSYNC_TEST_POSTGRES_URL is set): write booleans as ``true``/``false`` or ``NOT col`` in raw
SQL (PostgreSQL has no ``boolean = 0``), and ask for ``recreate="always"`` on SQLite only
(a copied table on PostgreSQL would leave its id sequence behind the copied rows).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import erpsync.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: future revisions use op.batch_alter_table
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # the alembic CLI (developers writing a revision): -x url=... or sqlalchemy.url
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("no database: pass -x url=sqlite:///path.db")
    from erpsync.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as own:
            _run(own)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("erpsync migrations run online only")
run_migrations()
