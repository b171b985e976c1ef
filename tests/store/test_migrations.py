"""Migrations: named revisions, a migrated schema equal to the models, upgrades keep rows."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, inspect
from sqlmodel import SQLModel

from erpsync.errors import StoreError
from erpsync.store import db, ledger, open_store, orders
from erpsync.store.db import HEAD_REVISION, alembic_config, make_engine


def _diff(connection, metadata):
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return compare_metadata(context, metadata)


def _revisions():
    """Revision ids from the first to the newest."""
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_migrated_schema_equals_the_models(db_url):
    """requirement: upgrading to head gives exactly the tables of erpsync.store.tables, so a
    model change without a new revision fails here."""
    store = open_store(db_url)
    with store.engine.connect() as connection:
        assert _diff(connection, SQLModel.metadata) == []
    store.close()


def test_the_comparison_notices_a_model_change(tmp_path):
    """requirement: the check above has teeth: an extra model column is reported."""
    changed = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["products"].append_column(Column("weight_grams", Integer()))
    store = open_store(f"sqlite:///{tmp_path}/m.db")
    with store.engine.connect() as connection:
        diff = _diff(connection, changed)
    store.close()
    assert [(d[0], d[2], d[3].name) for d in diff] == [("add_column", "products", "weight_grams")]


def test_revisions_are_named_linear_and_head_is_known():
    """requirement: one named revision per change, in a straight line; HEAD_REVISION is the tip."""
    script = ScriptDirectory.from_config(alembic_config())
    revisions = _revisions()
    assert revisions[0] == "0001_initial"
    assert script.get_heads() == [HEAD_REVISION] == revisions[-1:]
    for number, revision in enumerate(revisions, start=1):
        assert re.fullmatch(rf"{number:04d}_[a-z0-9_]+", revision)
        assert Path(script.get_revision(revision).path).stem == revision


FIRST_SCHEMA_ROWS = [
    "INSERT INTO products VALUES ('CAM-P', 'Camiseta', '7891000315507', "
    "'2024-05-01T12:00:00.000000+00:00', '2024-05-01T12:00:00.000000+00:00')",
    "INSERT INTO stock_movements (sku, location, bucket, quantity, reason, reference, "
    "idempotency_key, created_at) VALUES ('CAM-P', 'main', 'on_hand', 10, 'adjust', NULL, 'k1', "
    "'2024-05-01T12:00:00.000000+00:00')",
    "INSERT INTO orders (connector, external_id, platform, number, status, channel_status, "
    "created_at, updated_at, currency, items_total, shipping_cost, discount, total, "
    "fulfilled_by_channel, stock_effect, extra, notes, raw, imported_at, last_seen_at) VALUES "
    "('ml', '1', 'Mercado Livre', '1', 'paid', 'paid', '2024-05-01T12:00:00.000000+00:00', "
    "'2024-05-01T13:00:00.000000+00:00', 'BRL', '99.90', '0.00', '0.00', '99.90', false, "
    "'deducted', "
    "'{}', '[]', '{\"id\":1}', '2024-05-01T13:00:00.000000+00:00', "
    "'2024-05-01T13:00:00.000000+00:00')",
    "INSERT INTO order_items (order_id, line, sku, quantity, unit_price) "
    "VALUES (1, 1, 'CAM-P', 1, '99.90')",
]


def test_upgrading_a_database_with_data_through_every_revision_keeps_its_rows(db_url):
    """requirement: rows written under the first schema survive every later revision and read
    back through today's API."""
    url = db_url
    engine = make_engine(url)
    revisions = _revisions()
    db.upgrade(engine, revisions[0])
    with engine.begin() as connection:
        for statement in FIRST_SCHEMA_ROWS:
            connection.exec_driver_sql(statement)
    counts = _row_counts(engine)
    for revision in revisions[1:]:
        db.upgrade(engine, revision)
        now = _row_counts(engine)
        assert all(now[t] >= n for t, n in counts.items()), revision
        counts = now
    engine.dispose()
    store = open_store(url)
    with store.session() as s:
        order = orders.load_order(s, "ml", "1")
        assert ledger.levels(s, ["main"])["CAM-P"].on_hand == 10
    with store.engine.connect() as connection:
        assert db.current_revision(connection) == HEAD_REVISION
    store.close()
    assert order.total == Decimal("99.90") and order.items[0].sku == "CAM-P"


def _row_counts(engine):
    with engine.connect() as connection:
        names = [t for t in inspect(connection).get_table_names() if t != "alembic_version"]
        return {t: connection.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in names}


def test_every_revision_downgrades_cleanly(db_url):
    engine = make_engine(db_url)
    db.upgrade(engine)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
        assert inspect(connection).get_table_names() == ["alembic_version"]
    db.upgrade(engine)
    engine.dispose()


def test_a_database_from_a_newer_erpsync_is_refused(tmp_path):
    """requirement: an unknown revision is a one-line StoreError, not a traceback."""
    url = f"sqlite:///{tmp_path}/new.db"
    open_store(url).close()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099_future'")
    engine.dispose()
    with pytest.raises(StoreError) as raised:
        open_store(url)
    assert str(raised.value) == (
        f"cannot migrate the database {tmp_path}/new.db: Can't locate revision identified by "
        "'0099_future' (was it written by a newer erpsync?)"
    )


def test_upgrading_parks_the_unbooked_lines_of_orders_holding_stock(db_url):
    """requirement: lines an older erpsync skipped (SKU unknown at pull time) are parked by the
    upgrade, so the next product import or pull books them; booked lines stay booked."""
    url = db_url
    engine = make_engine(url)
    db.upgrade(engine, "0001_initial")
    with engine.begin() as connection:
        for statement in FIRST_SCHEMA_ROWS:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(
            "INSERT INTO order_items (order_id, line, sku, quantity, unit_price) "
            "VALUES (1, 2, 'CAM-G', 1, '10.00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO stock_movements (sku, location, bucket, quantity, reason, reference, "
            "idempotency_key, created_at) VALUES ('CAM-P', 'main', 'on_hand', -1, 'sale', "
            "'order:ml:1', 'k2', '2024-05-01T13:00:00.000000+00:00')"
        )
    db.upgrade(engine)
    with engine.connect() as connection:
        states = connection.exec_driver_sql(
            "SELECT sku, stock FROM order_items ORDER BY line"
        ).fetchall()
    engine.dispose()
    assert states == [("CAM-P", "booked"), ("CAM-G", "parked")]


def test_upgrading_gives_orders_already_stored_their_sale_ref(db_url):
    """requirement: a hub's copy of a sale pulled before the upgrade is still recognised: the
    marketplace orders already stored get their "MARKETPLACE:number" sale_ref."""
    engine = make_engine(db_url)
    db.upgrade(engine, _revisions()[0])
    with engine.begin() as connection:
        for statement in FIRST_SCHEMA_ROWS:
            connection.exec_driver_sql(statement)
    db.upgrade(engine)
    engine.dispose()
    store = open_store(db_url)
    with store.session() as s:
        row = orders.get_order(s, "ml", "1")
        assert row.sale_ref == "MERCADO_LIVRE:1" and row.stock_copy_of is None
    store.close()
