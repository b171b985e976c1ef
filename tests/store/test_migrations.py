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
from erpsync.store.tokens import SqlTokenStore
from tests.backends import database_url


def _diff(connection, metadata):
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return compare_metadata(context, metadata)


def _revisions():
    """Revision ids from the first to the newest."""
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _migrated(url):
    """Upgrade an empty database through every revision with Alembic (``open_store`` makes an
    empty database from the models instead)."""
    engine = make_engine(url)
    db.upgrade(engine, HEAD_REVISION)  # a named revision: always through Alembic
    engine.dispose()


def test_migrated_schema_equals_the_models(db_url):
    """requirement: upgrading to head gives exactly the tables of erpsync.store.tables, so a
    model change without a new revision fails here."""
    _migrated(db_url)
    store = open_store(db_url)
    with store.engine.connect() as connection:
        assert db.current_revision(connection) == HEAD_REVISION
        assert _diff(connection, SQLModel.metadata) == []
    store.close()


def _schema(url):
    """Everything the backend reports of a database's schema, table by table: columns (by
    name: their order is not part of the schema erpsync's SQL relies on; it names them),
    types, nullability, defaults, keys, foreign keys and their actions, indexes, unique and
    check constraints; on SQLite also each table's own flags (AUTOINCREMENT, WITHOUT ROWID,
    STRICT), which the inspector does not report."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            found = inspect(connection)
            schema = {}
            for table in sorted(found.get_table_names()):
                columns = {
                    c["name"]: (str(c["type"]), c["nullable"], _spaceless(c.get("default")))
                    for c in found.get_columns(table)
                }
                primary = found.get_pk_constraint(table)
                schema[table] = {
                    "columns": columns,
                    "primary key": (primary.get("name"), primary["constrained_columns"]),
                    "foreign keys": sorted(
                        (
                            fk["name"],
                            fk["constrained_columns"],
                            fk["referred_table"],
                            fk["referred_columns"],
                            sorted(fk.get("options", {}).items()),
                        )
                        for fk in found.get_foreign_keys(table)
                    ),
                    "indexes": sorted(
                        (i["name"], i["column_names"], bool(i["unique"]))
                        for i in found.get_indexes(table)
                    ),
                    "unique": sorted(
                        (u["name"], u["column_names"]) for u in found.get_unique_constraints(table)
                    ),
                    "checks": sorted(
                        (c["name"], _spaceless(c["sqltext"]))
                        for c in found.get_check_constraints(table)
                    ),
                }
                if connection.dialect.name == "sqlite":
                    sql = connection.exec_driver_sql(
                        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (table,),
                    ).scalar_one()
                    tail = sql.rsplit(")", 1)[1]
                    schema[table]["flags"] = ("AUTOINCREMENT" in sql.upper(), _spaceless(tail))
            return schema
    finally:
        engine.dispose()


def _spaceless(sql):
    return None if sql is None else re.sub(r"\s+", "", str(sql)).strip("()").lower()


def test_a_fresh_database_is_made_from_the_models_exactly_as_every_revision_makes_it(
    backend, tmp_path
):
    """requirement: open_store makes an empty database from the models (create_all, then the
    head stamped: Alembic's recipe for a fresh database, without importing Alembic); that
    schema equals the one the revisions make one by one, so the two can never drift."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        database_url(backend, tmp_path / "a") as created,
        database_url(backend, tmp_path / "b") as migrated,
    ):
        open_store(created).close()
        _migrated(migrated)
        made, stepped = _schema(created), _schema(migrated)
        assert sorted(made) == sorted(stepped)
        for table in stepped:
            assert made[table] == stepped[table], table
        engine = make_engine(created)
        with engine.connect() as connection:
            assert db.current_revision(connection) == HEAD_REVISION
            assert _diff(connection, SQLModel.metadata) == []
        engine.dispose()


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


def test_upgrading_keeps_stored_tokens_and_gives_them_no_account(db_url):
    """requirement (issue 11): tokens stored before the account column existed survive the
    upgrade in place, readable, with no account (they learn it at their next refresh)."""
    engine = make_engine(db_url)
    db.upgrade(engine, "0011_erp_products")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO credentials (connector, access_token, refresh_token, expires_at, seed, "
            "updated_at) VALUES ('ml', 'AT-1', 'RT-1', '2024-05-01T18:00:00.000000+00:00', "
            "'seed-a', '2024-05-01T12:00:00.000000+00:00')"
        )
    db.upgrade(engine)
    engine.dispose()
    store = open_store(db_url)
    loaded = SqlTokenStore(store).load("ml")
    store.close()
    assert loaded is not None
    assert (loaded.access_token, loaded.refresh_token, loaded.seed, loaded.account) == (
        "AT-1",
        "RT-1",
        "seed-a",
        None,
    )
