"""Amazon labels (`labels fetch`): Amazon.com.br serves no label document through the SP-API
(the Easy Ship documents feed is India and Singapore only, the bulk scheduling ZIP Poland and the
Netherlands only; shared API notes §2.6), so erpsync books no Easy Ship pickup and downloads
nothing: each merchant-fulfilled order is listed once with the reason and what to do, recorded
as having no channel label, and never asked again; FBA orders are not even listed."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from erpsync.connectors.amazon.emulator import AmazonEmulator
from erpsync.engine.labels import fetch_labels
from erpsync.postsale.domain import LabelState
from erpsync.store import orders, shipments

ROOT = Path(__file__).resolve().parents[3]


def _seeded(harness, count=10):
    now = harness.time.now()
    return harness.emulator.seed_orders(count, start=now - timedelta(days=2), end=now)


def _channel(harness, external_id):
    return harness.emulator.orders[external_id].order["FulfillmentChannel"]


def _label_state(harness, external_id):
    with harness.store.session() as s:
        row = orders.get_order(s, "amz", external_id)
        [shipment] = shipments.shipments_of(s, row.id)
        return shipment.label_state


def _pulled_with_easy_ship(harness):
    ids = _seeded(harness)
    easy = next(
        i
        for i in ids
        if _channel(harness, i) == "MFN"
        and harness.emulator.orders[i].order["OrderStatus"] == "Unshipped"
    )
    harness.emulator.make_easy_ship(easy)
    harness.time.advance(minutes=5)
    harness.pull()
    return ids, easy


def test_easy_ship_orders_are_listed_with_the_reason_and_nothing_is_booked(harness, tmp_path):
    """requirement: an Easy Ship order gets no file and no pickup: it is listed with why
    (Amazon serves no Brazilian label download) and where to print it (Seller Central)."""
    _, easy = _pulled_with_easy_ship(harness)
    before = len(harness.emulator.requests)
    report = fetch_labels(harness.connector, harness.store, tmp_path)
    assert report.written == [] and report.waiting == []
    never = dict(report.never)
    reason = never[f"amz:{easy}"]
    assert reason.startswith("Easy Ship (Delivery by Amazon): Amazon serves no label download")
    assert "schedule the pickup and print the label in Seller Central" in reason
    # nothing asked of Amazon: no Easy Ship scheduling (a pickup booked), no documents feed
    assert len(harness.emulator.requests) == before
    assert list(tmp_path.iterdir()) == []
    assert _label_state(harness, easy) == LabelState.NOT_APPLICABLE.value


def test_self_ship_orders_say_to_print_the_carriers_label_and_fba_is_not_listed(harness, tmp_path):
    ids, easy = _pulled_with_easy_ship(harness)
    report = fetch_labels(harness.connector, harness.store, tmp_path)
    never = dict(report.never)
    self_ship = [i for i in ids if _channel(harness, i) == "MFN" and i != easy]
    fba = [i for i in ids if _channel(harness, i) == "AFN"]
    assert self_ship and fba
    with harness.store.session() as s:
        cancelled = {i for i in ids if orders.get_order(s, "amz", i).status == "cancelled"}
    for external_id in set(self_ship) - cancelled:
        assert never[f"amz:{external_id}"].startswith("self-ship (MFN): Amazon issues no label")
    for external_id in fba:
        assert f"amz:{external_id}" not in never


def test_each_order_is_listed_once_and_a_zpl_run_does_not_stop_at_amazon(harness, tmp_path):
    """requirement: the reason is given once (recorded, not asked again, --again included);
    asking for ZPL (for another channel's printer) answers the same, without an error."""
    _pulled_with_easy_ship(harness)
    first = fetch_labels(harness.connector, harness.store, tmp_path, format="zpl")
    assert first.never
    second = fetch_labels(harness.connector, harness.store, tmp_path)
    assert (second.written, second.waiting, second.never) == ([], [], [])
    again = fetch_labels(harness.connector, harness.store, tmp_path, again=True)
    assert again.never == []


# -- the command line ---------------------------------------------------------------------------


def _erpsync(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "erpsync", "-c", "erpsync.yaml", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
    )


def test_labels_fetch_on_the_sandbox_lists_amazon_orders_with_the_reason(tmp_path):
    """requirement: `erpsync labels fetch` on the Amazon sandbox exits 0, writes nothing and
    says per order why Amazon gives no label, then stays quiet about them."""
    emulator = AmazonEmulator()
    config = {
        "database": "sqlite:///store.db",
        "connectors": {
            "amz": {
                "type": "amazon",
                "sandbox": True,
                "initial_lookback_days": 30,
                "credentials": emulator.credentials(),
                "options": emulator.options(),
            }
        },
    }
    (tmp_path / "erpsync.yaml").write_text(json.dumps(config), encoding="utf-8")
    (tmp_path / "labels").mkdir()
    pulled = _erpsync("pull-orders", cwd=tmp_path)
    assert pulled.returncode == 0, pulled.stderr
    done = _erpsync("labels", "fetch", "--format", "zpl", "--out", "labels", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "no label from the channel: self-ship (MFN): Amazon issues no label" in done.stderr
    assert "amz: 0 label(s) written, 0 not ready," in done.stderr
    assert list((tmp_path / "labels").iterdir()) == []
    again = _erpsync("labels", "fetch", "--out", "labels", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "amz: 0 label(s) written, 0 not ready, 0 without a channel label" in again.stderr
