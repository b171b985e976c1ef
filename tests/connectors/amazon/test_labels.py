"""Amazon labels (`labels fetch`): Amazon.com.br serves no label document through the SP-API
(the Easy Ship documents feed is India and Singapore only, the bulk scheduling ZIP Poland and the
Netherlands only; shared API notes §2.6), so erpsync books no Easy Ship pickup and downloads
nothing. It says per merchant-fulfilled order where the label comes from: an Easy Ship order
whose pickup is still to be scheduled is listed every run (a to-do list) until the seller
schedules it in Seller Central, then once more with where to print; a self-ship order once; an
order not paid yet waits; FBA orders are not even listed."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from erpsync.connectors.amazon import labels
from erpsync.connectors.amazon.emulator import AmazonEmulator
from erpsync.domain import LabelRequest
from erpsync.engine.labels import fetch_labels
from erpsync.postsale.domain import LabelState
from erpsync.store import orders, shipments

ROOT = Path(__file__).resolve().parents[3]


def _seeded(harness, count=10):
    now = harness.time.now()
    return harness.emulator.seed_orders(count, start=now - timedelta(days=2), end=now)


def _order(harness, external_id):
    return harness.emulator.orders[external_id].order


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
        if _order(harness, i)["FulfillmentChannel"] == "MFN"
        and _order(harness, i)["OrderStatus"] == "Unshipped"
    )
    harness.emulator.make_easy_ship(easy)
    harness.time.advance(minutes=5)
    harness.pull()
    return ids, easy


def _asked(harness, since):
    """The requests labels fetch made: (method, path)."""
    return [(r.method, r.path) for r in harness.emulator.requests[since:]]


def test_an_easy_ship_order_to_schedule_is_listed_each_run_and_nothing_is_booked(harness, tmp_path):
    """requirement: an Easy Ship order whose pickup is not scheduled gets no file and no
    pickup booked: it is listed, every run, with what to do (Seller Central) and why erpsync
    cannot (Amazon serves no Brazilian label download); only getOrder is asked."""
    _, easy = _pulled_with_easy_ship(harness)
    for _run in range(2):
        before = len(harness.emulator.requests)
        report = fetch_labels(harness.connector, harness.store, tmp_path)
        assert report.written == []
        reason = dict(report.waiting)[f"amz:{easy}"]
        assert reason.startswith("Easy Ship pickup not scheduled (PendingSchedule): once the NF-e")
        assert "schedule the pickup in Seller Central and print the label there" in reason
        assert "Amazon serves no label download for Amazon.com.br" in reason
        # no Easy Ship scheduling (a pickup booked), no documents feed: the order's state only
        assert _asked(harness, before) == [("GET", f"/orders/v0/orders/{easy}")]
        assert list(tmp_path.iterdir()) == []
        assert _label_state(harness, easy) == LabelState.NONE.value


def test_once_scheduled_in_seller_central_it_is_listed_once_with_where_to_print(harness, tmp_path):
    _, easy = _pulled_with_easy_ship(harness)
    fetch_labels(harness.connector, harness.store, tmp_path)
    harness.emulator.schedule_easy_ship(easy)
    report = fetch_labels(harness.connector, harness.store, tmp_path)
    reason = dict(report.never)[f"amz:{easy}"]
    assert reason.startswith("Easy Ship package PendingPickUp: print the label in Seller Central")
    assert _label_state(harness, easy) == LabelState.NOT_APPLICABLE.value
    later = fetch_labels(harness.connector, harness.store, tmp_path)
    assert f"amz:{easy}" not in dict(later.never) | dict(later.waiting)


def test_self_ship_orders_once_unpaid_ones_wait_and_fba_is_not_listed(harness, tmp_path):
    ids, easy = _pulled_with_easy_ship(harness)
    before = len(harness.emulator.requests)
    report = fetch_labels(harness.connector, harness.store, tmp_path)
    never, waiting = dict(report.never), dict(report.waiting)
    mfn = {i: _order(harness, i)["OrderStatus"] for i in ids if i != easy}
    fba = [i for i, o in ((i, _order(harness, i)) for i in ids) if o["FulfillmentChannel"] == "AFN"]
    unpaid = [i for i, status in mfn.items() if status in ("Pending", "PendingAvailability")]
    with harness.store.session() as s:  # Canceled and Unfulfillable are cancelled here
        cancelled = {i for i in ids if orders.get_order(s, "amz", i).status == "cancelled"}
    self_ship = [
        i
        for i, status in mfn.items()
        if status not in ("Pending", "PendingAvailability") and i not in set(fba) | cancelled
    ]
    assert unpaid and self_ship and fba
    for external_id in self_ship:
        assert never[f"amz:{external_id}"].startswith("self-ship (MFN): Amazon issues no label")
    for external_id in unpaid:
        assert waiting[f"amz:{external_id}"].startswith("the order is not paid yet (Pending")
    for external_id in fba:
        assert f"amz:{external_id}" not in never | waiting
    # the stored state decided: only the open Easy Ship order was read
    assert _asked(harness, before) == [("GET", f"/orders/v0/orders/{easy}")]


def test_a_zpl_run_does_not_stop_at_amazon_and_again_changes_nothing(harness, tmp_path):
    """requirement: asking for ZPL (for another channel's printer) answers the same, without
    an error; what was answered once is not asked again, --again included."""
    _pulled_with_easy_ship(harness)
    first = fetch_labels(harness.connector, harness.store, tmp_path, format="zpl")
    assert first.never and first.waiting
    second = fetch_labels(harness.connector, harness.store, tmp_path, again=True)
    assert (second.written, second.never) == ([], [])
    assert dict(second.waiting) == dict(first.waiting)


def _request(status, logistic_type="EasyShip"):
    return LabelRequest(
        order_external_id="701-0000000-0000001",
        shipment_ref="701-0000000-0000001",
        logistic_type=logistic_type,
        status=status,
    )


@pytest.mark.parametrize(
    ("easy_ship_status", "order_status", "waits", "says"),
    [
        ("PendingSchedule", "Unshipped", True, "Easy Ship pickup not scheduled (PendingSchedule)"),
        ("LabelCanceled", "Unshipped", True, "Easy Ship pickup not scheduled (LabelCanceled)"),
        (None, "Unshipped", True, "Easy Ship pickup not scheduled (Unshipped)"),
        ("PendingPickUp", "Unshipped", False, "Easy Ship package PendingPickUp: print the label"),
        ("PendingDropOff", "Unshipped", False, "Easy Ship package PendingDropOff: print the"),
        ("PickedUp", "Shipped", False, "Easy Ship package PickedUp"),
        ("PendingSchedule", "Canceled", False, "the order is cancelled at Amazon"),
    ],
    ids=[
        "to-schedule",
        "pickup-cancelled",
        "no-status-yet",
        "pickup",
        "drop-off",
        "picked-up",
        "cancelled",
    ],
)
def test_the_easy_ship_states_of_orders_v0(easy_ship_status, order_status, waits, says):
    """The EasyShipShipmentStatus values of ordersV0.json, as getOrder answers them."""
    order = {"AmazonOrderId": "701-0000000-0000001", "OrderStatus": order_status}
    if easy_ship_status:
        order["EasyShipShipmentStatus"] = easy_ship_status
    result = labels.label_result(_request("Unshipped"), order)
    assert result.label is None and result.never is not waits
    assert result.reason.startswith(says)


def test_stored_states_answer_without_asking_amazon():
    assert not labels.needs_order(_request("Pending"))
    assert not labels.needs_order(_request("Shipped"))
    assert not labels.needs_order(_request("Unshipped", logistic_type="MFN"))
    assert labels.needs_order(_request("PartiallyShipped"))
    shipped = labels.label_result(_request("Shipped"))
    assert shipped.never and shipped.reason.startswith("Easy Ship (Delivery by Amazon): Amazon")


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
    assert "no label yet: the order is not paid yet (Pending" in done.stderr
    assert "amz: 0 label(s) written," in done.stderr
    assert list((tmp_path / "labels").iterdir()) == []
    again = _erpsync("labels", "fetch", "--out", "labels", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "self-ship (MFN)" not in again.stderr  # said once
    assert " 0 without a channel label" in again.stderr
