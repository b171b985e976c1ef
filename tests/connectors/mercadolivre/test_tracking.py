"""Mercado Livre tracking: the seller who ships ME1 himself tells ML the package left.

What the seller sees: `shipments push` marks each ME1 shipment dispatched on ML
(``POST /v2/shipments/{id}/seller_notifications``: shipped, substatus null, the tracking
number with its URL) and the order becomes shipped; a replay sends nothing twice; a cart's
shared shipment is notified once. ME2 shipments are skipped (ML's logistics move them, there is
no call), custom shipping is refused with the reason, an order cancelled on ML is refused with
ML's message. The emulator refuses what ML refuses.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from erpsync.connector import NothingSeen
from erpsync.connectors.mercadolivre import tracking
from erpsync.domain import TrackingUpdate
from erpsync.emulation import EmulatorTransport
from erpsync.engine.pull import PullReport, apply_order, load_catalogue
from erpsync.engine.tracking import record_tracking
from erpsync.engine.tracking_push import push_tracking, stuck_pushes
from erpsync.errors import FatalError
from erpsync.postsale.domain import PushState
from erpsync.store import orders, shipments
from tests.connectors.mercadolivre.conftest import WINDOW

DOCS = Path(__file__).resolve().parents[3] / "connectors" / "mercadolivre" / "fixtures" / "docs"
#: the sandbox mix: serial 0 a lone paid order, serials 5 and 6 the two orders of one cart
LONE, CART = 0, (5, 6)
CODE = "QB123456789BR"
URL = f"https://rastreamento.correios.com.br/app/index.php?objeto={CODE}"


def pull(ml, emu, store, count, *, seller_ships=(), mode="me1"):
    ids = emu.seed_orders(count, start=WINDOW.start, end=WINDOW.end - timedelta(minutes=1))
    for serial in seller_ships:
        emu.ship_by_seller(ids[serial], mode=mode)
    raws = [raw for page in ml.fetch_orders(WINDOW, NothingSeen()) for raw in page.orders]
    with store.session() as s:
        catalogue = load_catalogue(s, "ml")
        for raw in raws:
            apply_order(s, ml, ml.map_order(raw.payload), raw.payload, PullReport("ml"), catalogue)
    return ids


def record(store, external_id, code=CODE, url=URL):
    with store.session() as s:
        record_tracking(
            s, orders.get_order(s, "ml", external_id), code, carrier="Correios", tracking_url=url
        )


def shipment_of(emu, external_id):
    return emu.shipments[emu.orders[int(external_id)]["shipping"]["id"]]


def notifications(emu):
    return [r for r in emu.requests if r.path.endswith("/seller_notifications")]


def status_of(store, external_id):
    with store.session() as s:
        return orders.get_order(s, "ml", external_id).status


def stuck(store):
    with store.session() as s:
        return {(p["order"], p["state"], p["error"]) for p in stuck_pushes(s)}


def test_an_me1_shipment_is_marked_shipped_with_its_code_once(ml, emu, store):
    """requirement: V2 notification, substatus JSON null, number and URL together; the order
    becomes shipped here and on ML; pushing again sends nothing."""
    ids = pull(ml, emu, store, 1, seller_ships=[LONE])
    order = ids[LONE]
    record(store, order)
    report = push_tracking(ml, store)
    assert (report.sent, report.accepted, report.skipped) == (1, 1, 0), report.errors
    (post,) = notifications(emu)
    assert post.path == f"/v2/shipments/{shipment_of(emu, order)['id']}/seller_notifications"
    assert json.loads(post.body) == {
        "status": "shipped",
        "substatus": None,
        "tracking_number": CODE,
        "tracking_url": URL,
    }
    assert emu.tracking_code(order) == CODE and shipment_of(emu, order)["status"] == "shipped"
    assert status_of(store, order) == "shipped"
    assert push_tracking(ml, store).sent == 0


def test_a_replay_after_a_crash_is_accepted_without_a_second_notification(ml, emu, store):
    ids = pull(ml, emu, store, 1, seller_ships=[LONE])
    record(store, ids[LONE])
    push_tracking(ml, store)
    with store.session() as s:  # the process died after ML took it, before we recorded
        row = orders.get_order(s, "ml", ids[LONE])
        (shipment,) = shipments.shipments_of(s, row.id)
        shipments.record_tracking_push(s, shipment.id, "ml", PushState.SENT)
    report = push_tracking(ml, store)
    assert (report.sent, report.accepted, report.refused) == (1, 1, 0), report.errors
    assert len(notifications(emu)) == 1


def test_a_carts_shared_shipment_is_notified_once(ml, emu, store):
    ids = pull(ml, emu, store, 7, seller_ships=[CART[0]])
    first, second = ids[CART[0]], ids[CART[1]]
    assert shipment_of(emu, first) is shipment_of(emu, second)
    record(store, first)
    record(store, second)
    report = push_tracking(ml, store)
    assert (report.accepted, report.refused, report.failed) == (2, 0, 0), report.errors
    assert len(notifications(emu)) == 1
    assert status_of(store, first) == status_of(store, second) == "shipped"


def test_me2_shipments_are_skipped_not_failed(ml, emu, store):
    """requirement: ME2 (drop_off here) moves by ML's carrier events after the label: there
    is no call to make. A code recorded on it is reported skipped, and nothing is sent."""
    ids = pull(ml, emu, store, 1)
    record(store, ids[LONE])
    report = push_tracking(ml, store)
    assert (report.sent, report.skipped, report.failed, report.refused) == (0, 1, 0, 0)
    assert notifications(emu) == [] and stuck(store) == set()


def test_custom_shipping_is_refused_with_the_reason(ml, emu, store):
    ids = pull(ml, emu, store, 1, seller_ships=[LONE], mode="custom")
    record(store, ids[LONE])
    assert push_tracking(ml, store).refused == 1
    ((_, state, error),) = stuck(store)
    assert state == "refused" and "outside Mercado Envios 1" in error
    assert notifications(emu) == []


def test_a_code_without_its_url_is_refused_before_sending(ml, emu, store):
    ids = pull(ml, emu, store, 1, seller_ships=[LONE])
    record(store, ids[LONE], url=None)
    assert push_tracking(ml, store).refused == 1
    ((_, _, error),) = stuck(store)
    assert "--url" in error and notifications(emu) == []


def test_an_order_cancelled_on_ml_is_refused_with_mls_message(ml, emu, store):
    ids = pull(ml, emu, store, 1, seller_ships=[LONE])
    record(store, ids[LONE])
    emu.cancel_order(ids[LONE])  # erpsync has not pulled it yet
    assert push_tracking(ml, store).refused == 1
    ((_, state, error),) = stuck(store)
    assert state == "refused" and "cancelled" in error and "bad_request" in error
    assert emu.tracking_code(ids[LONE]) is None


def test_the_documented_me1_shipment_is_recognised(tmp_path):
    """The pages' ME1 example (fixtures/docs, own values: the old flat `mode`, status
    pending) is taken as ME1, and the notification goes to its id."""
    documented = json.loads((DOCS / "shipment-me1.json").read_text())
    sent: list[tuple[str, dict]] = []
    update = TrackingUpdate(
        order_external_id=str(documented["order_id"]),
        shipment_ref=str(documented["id"]),
        tracking_code=CODE,
        tracking_url=URL,
        logistic_type="default",
    )
    result = tracking.push_one(update, lambda _ref: documented, lambda p, b: sent.append((p, b)))
    assert result.ok and sent == [
        (
            f"/v2/shipments/{documented['id']}/seller_notifications",
            {"status": "shipped", "substatus": None, "tracking_number": CODE, "tracking_url": URL},
        )
    ]


# -- the emulator refuses what ML refuses ------------------------------------------------------


def notify(ml, shipment_id, body, *, v2=True):
    path = f"{'/v2' if v2 else ''}/shipments/{shipment_id}/seller_notifications"
    return ml.request("POST", path, json=body)


SHIPPED = {"status": "shipped", "substatus": None, "tracking_number": CODE, "tracking_url": URL}


def test_the_emulator_wants_a_token(emu):
    client = httpx.Client(transport=EmulatorTransport(emu.app), base_url="http://ml.test")
    assert client.post("/v2/shipments/1/seller_notifications", json=SHIPPED).status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "shipped", "tracking_number": CODE, "tracking_url": URL}, "is required"),
        ({**SHIPPED, "substatus": "null"}, "Invalid substatus 'null'"),
        ({**SHIPPED, "tracking_url": None}, "together"),
        ({**SHIPPED, "status": "sent"}, "Invalid status"),
        ({"status": "delivered", "substatus": None}, "not shipped yet"),
    ],
)
def test_the_emulator_refuses_a_malformed_notification(ml, emu, store, body, message):
    ids = pull(ml, emu, store, 1, seller_ships=[LONE])
    with pytest.raises(FatalError, match=message):
        notify(ml, shipment_of(emu, ids[LONE])["id"], body)
    assert shipment_of(emu, ids[LONE])["status"] == "handling"


def test_the_emulator_refuses_me2_unknown_shipments_and_final_states(ml, emu, store):
    ids = pull(ml, emu, store, 2, seller_ships=[1])
    me2, me1 = shipment_of(emu, ids[0])["id"], shipment_of(emu, ids[1])["id"]
    with pytest.raises(FatalError, match="only ME1"):
        notify(ml, me2, SHIPPED)
    with pytest.raises(FatalError, match="not found"):
        notify(ml, 1, SHIPPED)
    notify(ml, me1, SHIPPED)
    notify(ml, me1, {"status": "delivered", "substatus": None})
    with pytest.raises(FatalError, match="final state"):
        notify(ml, me1, SHIPPED)
    assert "delivered" in emu.orders[int(ids[1])]["tags"]


def test_the_emulator_no_longer_serves_the_v1_path(ml, emu, store):
    ids = pull(ml, emu, store, 1, seller_ships=[LONE])
    with pytest.raises(FatalError):
        notify(ml, shipment_of(emu, ids[LONE])["id"], SHIPPED, v2=False)
