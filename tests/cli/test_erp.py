"""The ERP commands as a seller runs them (real processes): a files channel and the Olist ERP
sandbox; push-orders, pull-stock, invoices pull, sync, and the stock.source check."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.cli.test_subprocess import erpsync

ORDER = {
    "number": "{n}",
    "status": "paid",
    "created_at": "2026-03-02T10:15:00-03:00",
    "updated_at": "2026-03-02T10:20:00-03:00",
    "items_total": "59.90",
    "shipping_cost": "10.00",
    "discount": "0.00",
    "total": "69.90",
    "buyer": {"name": "Ana Paula Souza", "document": "390.533.447-05"},
    "items": [{"sku": "{sku}", "title": "Camiseta", "quantity": 1, "unit_price": "59.90"}],
}


def config(folder: Path, orders: list[tuple[str, str]], *, source: str | None = None) -> None:
    inbox = folder / "inbox"
    inbox.mkdir(exist_ok=True)
    (folder / "outbox").mkdir(exist_ok=True)
    rows = []
    for external_id, sku in orders:
        row = json.loads(json.dumps(ORDER).replace("{n}", external_id).replace("{sku}", sku))
        rows.append({"external_id": external_id, **row})
    (inbox / "orders.json").write_text(json.dumps(rows), encoding="utf-8")
    stock = f"stock:\n  source: {source}\n" if source else ""
    (folder / "erpsync.yaml").write_text(
        textwrap.dedent(
            """\
            database: sqlite:///erp.db
            {stock}connectors:
              loja:
                type: files
                initial_lookback_days: 36500
                options: {{inbox: inbox, outbox: outbox}}
              erp:
                type: tiny
                sandbox: true
                credentials:
                  client_id: erpsync-sandbox
                  client_secret: sandbox-client-secret
                  refresh_token: sandbox-refresh-token
            """
        ).format(stock=stock),
        encoding="utf-8",
    )


def test_push_orders_creates_each_order_once_and_reports_an_unknown_sku(tmp_path):
    config(tmp_path, [("LV-1", "CAM-P"), ("LV-2", "CANECA"), ("LV-3", "NO-SUCH-SKU")])
    assert erpsync("pull-orders", cwd=tmp_path).returncode == 0
    first = erpsync("push-orders", cwd=tmp_path)
    assert first.returncode == 3, first.stderr  # partial: one order refused
    assert "erp: orders 2 created" in first.stderr
    assert "loja:LV-3: SKU NO-SUCH-SKU is not a product in Olist ERP (erp)" in first.stderr
    assert "Traceback" not in first.stderr
    again = erpsync("push-orders", "--json", cwd=tmp_path)
    (outcome,) = json.loads(again.stdout)
    assert outcome["counts"]["created"] == 0 and outcome["counts"]["refused"] == 1


def test_pull_stock_shows_the_erps_available_per_sku(tmp_path):
    config(tmp_path, [])
    result = erpsync("pull-stock", "--sku", "CAM-P", "--sku", "NOPE", cwd=tmp_path)
    assert result.returncode == 3, result.stderr  # one SKU not in the ERP
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    # the sandbox account holds two sandbox hub orders of CAM-P: reserved, not available
    assert ["CAM-P", "main", "38", "40", "2"] in rows
    assert "not in the ERP: NOPE" in result.stderr


def test_sync_runs_the_whole_cycle_and_invoices_list_is_json(tmp_path):
    config(tmp_path, [("LV-1", "CAM-P")], source="erp")
    assert erpsync("pull-orders", cwd=tmp_path).returncode == 0
    assert erpsync("listings", "pull", cwd=tmp_path).returncode == 0
    result = erpsync("sync", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for line in (
        "erp: orders 1 created",
        "erp: 1 order awaiting an NF-e: 1 asked one by one; 0 new, 0 refused",
        "erp: stock of 1 of 1 SKUs read",
        "loja: 1 sent",
    ):
        assert line in result.stderr, result.stderr
    # the steps share the run's sandbox ERP: invoices pull finds the order push-orders made
    assert "not found" not in result.stderr
    listed = erpsync("invoices", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("nope", "stock.source: names no configured connector (configured: loja, erp)"),
        ("loja", "stock.source: loja is a files connector, which has no stock to read"),
    ],
)
def test_stock_source_must_name_an_erp(tmp_path, source, message):
    config(tmp_path, [], source=source)
    result = erpsync("push-stock", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_push_stock_refuses_an_erp_stock_never_read(tmp_path):
    """requirement: with stock.source, a push before the first pull-stock would send 0 to
    every listing: it is refused with what to run."""
    config(tmp_path, [("LV-1", "CAM-P")], source="erp")
    assert erpsync("pull-orders", cwd=tmp_path).returncode == 0
    assert erpsync("listings", "pull", cwd=tmp_path).returncode == 0
    result = erpsync("push-stock", cwd=tmp_path)
    assert result.returncode == 2
    assert "run `erpsync pull-stock -C erp` first" in result.stderr


def test_each_invocation_starts_its_own_sandbox(tmp_path, monkeypatch, capsys):
    """requirement: the sandbox ERP lives for one invocation (in-process too): a later
    command starts from the seeded account, so an order pushed by an earlier one is not
    there (reported, not a failure), and in-process runs never share state."""
    from erpsync.cli import main

    config(tmp_path, [("LV-1", "CAM-P")])
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ERPSYNC_CONFIG", raising=False)
    monkeypatch.delenv("ERPSYNC_DB", raising=False)

    def run(*args: str) -> str:
        try:
            main(list(args))
        except SystemExit as exc:
            assert exc.code in (0, None), capsys.readouterr().err
        return capsys.readouterr().err

    run("pull-orders")
    assert "erp: orders 1 created" in run("push-orders")
    later = run("invoices", "pull")
    assert "erp: ERP order" in later and "not found; no invoice read" in later


def test_invoices_pull_json_tells_one_by_one_from_the_listing_and_recheck_asks_each(tmp_path):
    """requirement: `invoices pull --json` carries how the orders awaiting an NF-e were asked
    (one by one, by the listing of a window) and the watermark; `--recheck` asks each one by
    one again."""
    config(tmp_path, [("LV-1", "CAM-P")], source="erp")
    assert erpsync("pull-orders", cwd=tmp_path).returncode == 0
    assert erpsync("push-orders", cwd=tmp_path).returncode == 0
    first = erpsync("invoices", "pull", "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    (outcome,) = json.loads(first.stdout)
    assert outcome["counts"]["asked"] == outcome["counts"]["one_by_one"] == 1
    assert outcome["window"] is None and outcome["cursor"]
    again = erpsync("invoices", "pull", "--recheck", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "erp: 1 order awaiting an NF-e: 1 asked one by one; 0 new" in again.stderr


def test_sync_recheck_asks_each_order_in_its_invoices_step_and_refuses_a_dry_run(
    tmp_path, monkeypatch, run
):
    """requirement: `sync --recheck` runs the whole cycle with the invoices pull step asking
    every order awaiting an NF-e one by one (as `invoices pull --recheck`), where a plain sync
    after the first uses the listing of its window; with --dry-run (which skips the invoice
    steps) it is one clear line and exit 2, nothing run."""
    config(tmp_path, [("LV-1", "CAM-P")])
    monkeypatch.chdir(tmp_path)
    assert run("pull-orders").exit_code == 0
    first = run("sync")
    assert first.exit_code == 0, first.stderr
    assert "erp: 1 order awaiting an NF-e: 1 asked one by one" in first.stderr
    plain = run("sync")
    assert "erp: 1 order awaiting an NF-e: all by one listing since" in plain.stderr, plain.stderr
    rechecked = run("sync", "--recheck")
    assert rechecked.exit_code == 0, rechecked.stderr
    assert "erp: 1 order awaiting an NF-e: 1 asked one by one" in rechecked.stderr
    assert "loja:" in rechecked.stderr  # the other steps ran too
    refused = run("sync", "--recheck", "--dry-run")
    assert refused.exit_code == 2
    assert refused.stderr.strip().endswith(
        "--recheck asks the ERPs for their NF-e, which a dry run skips: run `erpsync sync "
        "--recheck` without --dry-run"
    )
    assert "Traceback" not in refused.stderr and "erp:" not in refused.stderr
