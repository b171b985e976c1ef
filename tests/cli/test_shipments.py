"""shipments set | import | push | list | show as a seller meets them, and the refusals as a
real process: one line, exit 2, nothing stored."""

import csv
import json
import sqlite3
import textwrap

import pytest

from tests.cli.test_subprocess import erpsync


def _order(external_id, status="paid"):
    return {
        "external_id": external_id,
        "number": external_id.removeprefix("LV-"),
        "status": status,
        "created_at": "2026-11-01T12:00:00-03:00",
        "updated_at": "2026-11-01T12:05:00-03:00",
        "items_total": "20.00",
        "total": "20.00",
        "items": [{"sku": "SKU-A", "quantity": 2, "unit_price": "10.00"}],
    }


@pytest.fixture
def shop(tmp_path, monkeypatch, run):
    """A files connector with two paid orders and a cancelled one pulled into store.db."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inbox").mkdir()
    (tmp_path / "outbox").mkdir()
    orders = [_order("LV-3001"), _order("LV-3002"), _order("LV-3003", "cancelled")]
    (tmp_path / "inbox" / "orders.json").write_text(json.dumps(orders))
    (tmp_path / "erpsync.yaml").write_text(
        textwrap.dedent(
            """\
            database: sqlite:///store.db
            connectors:
              shop:
                type: files
                initial_lookback_days: 36500
                options:
                  inbox: inbox
                  outbox: outbox
            """
        )
    )
    assert run("pull-orders").exit_code == 0
    return tmp_path


def _tracking_rows(folder):
    with sqlite3.connect(folder / "store.db") as conn:
        return conn.execute(
            "SELECT shipment_ref, tracking_code FROM shipments WHERE tracking_code IS NOT NULL"
        ).fetchall()


def test_set_push_list_show_and_the_order_ships(shop, run):
    result = run(
        "shipments", "set", "shop:LV-3001", "--tracking", "QB000000001BR", "--carrier", "Correios"
    )
    assert result.exit_code == 0, result.stderr
    assert "shop:LV-3001: tracking QB000000001BR recorded on shipment LV-3001" in result.stderr
    assert "`erpsync shipments push` sends it to shop" in result.stderr
    again = run("shipments", "set", "3001", "--tracking", "QB000000001BR")
    assert again.stderr.strip().endswith("was already recorded")
    listed = run("shipments", "list", "--pending", "--json").json()
    assert [(e["order"], e["tracking_code"], e["pushed"]) for e in listed] == [
        ("shop:LV-3001", "QB000000001BR", {})
    ]

    pushed = run("shipments", "push")
    assert pushed.exit_code == 0, pushed.stderr
    assert "shop: tracking 1 sent, 1 accepted" in pushed.stderr
    with (shop / "outbox" / "tracking.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["order_external_id"], row["tracking_code"], row["carrier"]) == (
        "LV-3001",
        "QB000000001BR",
        "Correios",
    )
    assert run("orders", "show", "LV-3001", "--json").json()["status"] == "shipped"
    assert run("shipments", "list", "--pending", "--json").json() == []
    shown = run("shipments", "show", "shop:LV-3001", "--json").json()
    assert shown[0]["pushed"] == {"shop": "accepted"} and shown[0]["label_state"] == "none"
    assert "shop: tracking 0 sent" in run("shipments", "push").stderr
    assert run("status", "--json").json()["tracking_pushes"] == []


def test_sync_sends_recorded_tracking_once_after_the_invoices(shop, run):
    """requirement (issue 8): the cron cycle carries the post-sale flow to its end: `sync`
    runs `shipments push` (after `invoices push`), so recorded tracking reaches the channel
    without a separate cron line, and the next cycle sends nothing again."""
    assert run("shipments", "set", "shop:LV-3002", "--tracking", "QB000000002BR").exit_code == 0
    synced = run("sync")
    assert synced.exit_code == 0, synced.stderr
    assert "shop: tracking 1 sent, 1 accepted" in synced.stderr
    lines = synced.stderr.splitlines()
    invoices_line = next(i for i, line in enumerate(lines) if "shop: invoices" in line)
    tracking_line = next(i for i, line in enumerate(lines) if "shop: tracking" in line)
    assert invoices_line < tracking_line
    with (shop / "outbox" / "tracking.csv").open(encoding="utf-8") as handle:
        assert [r["tracking_code"] for r in csv.DictReader(handle)] == ["QB000000002BR"]
    again = run("sync")
    assert "shop: tracking 0 sent" in again.stderr
    assert "no selected connector takes tracking" not in again.stderr
    dry = run("sync", "--dry-run")
    assert dry.exit_code == 0 and "tracking" not in dry.stderr


def test_a_stuck_push_shows_in_status_and_is_retried(shop, run):
    run("shipments", "set", "shop:LV-3001", "--tracking", "QB000000001BR")
    (shop / "outbox").rmdir()
    failed = run("shipments", "push")
    assert failed.exit_code == 3, failed.stderr
    assert "does not exist" in failed.stderr
    [stuck] = run("status", "--json").json()["tracking_pushes"]
    assert (stuck["order"], stuck["state"]) == ("shop:LV-3001", "failed")
    assert "shop:LV-3001\tLV-3001\tQB000000001BR\tfailed" in run("status").stdout
    (shop / "outbox").mkdir()
    assert "1 accepted" in run("shipments", "push").stderr
    assert run("status", "--json").json()["tracking_pushes"] == []


def test_import_is_all_or_nothing(shop, run):
    (shop / "bad.csv").write_text(
        "order;tracking_code;carrier\n"
        "shop:LV-3001;QB000000001BR;Correios\n"
        "shop:LV-3003;QB000000003BR;Correios\n"
    )
    bad = run("shipments", "import", "bad.csv")
    assert bad.exit_code == 2
    assert "bad.csv: line 3: shop:LV-3003 is cancelled" in bad.stderr
    assert _tracking_rows(shop) == []
    (shop / "good.csv").write_text(
        "order,tracking_code,tracking_url\n"
        "LV-3001,QB000000001BR,https://rastreio.example/QB000000001BR\n"
        "LV-3002,QB000000002BR,\n"
    )
    good = run("shipments", "import", "good.csv")
    assert good.exit_code == 0, good.stderr
    assert "2 tracking code(s) recorded, 0 unchanged" in good.stderr
    assert sorted(_tracking_rows(shop)) == [
        ("LV-3001", "QB000000001BR"),
        ("LV-3002", "QB000000002BR"),
    ]
    unchanged = run("shipments", "import", "good.csv")
    assert "0 tracking code(s) recorded, 2 unchanged" in unchanged.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("shop:LV-3003", "--tracking", "QB1BR"), "shop:LV-3003 is cancelled"),
        (("shop:LV-9999", "--tracking", "QB1BR"), "no order 'shop:LV-9999'"),
        (("shop:LV-3001", "--tracking", "QB 1BR"), "is not one word"),
        (("shop:LV-3001", "--tracking", "QB1BR", "--url", "x"), "not an http(s) address"),
    ],
    ids=["cancelled", "unknown", "space", "url"],
)
def test_refusals_are_one_line_exit_2_nothing_stored(shop, args, message):
    done = erpsync("shipments", "set", *args, cwd=shop)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("erpsync: error: ") and message in line
    assert _tracking_rows(shop) == []
