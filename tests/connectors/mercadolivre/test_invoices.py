"""Mercado Livre invoice push against its emulator: the NF-e lands on a ready shipment once,
replays are harmless, ML's refusals are mapped, not-ready shipments are retried, Full is
never sent; and the emulator enforces ML's preconditions, so a wrong client fails here."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from erpsync.connector import NothingSeen
from erpsync.emulation import EmulatorTransport
from erpsync.engine import invoices as engine
from erpsync.engine.invoice_push import push_invoices
from erpsync.engine.invoices import models_for_type
from erpsync.engine.pull import PullReport, apply_order, load_catalogue
from erpsync.errors import FatalError
from erpsync.postsale.nfe import parse_nfe
from erpsync.postsale.nfe_builder import BUYER_CNPJ, build_nfe
from erpsync.store import invoices, orders
from tests.connectors.mercadolivre.conftest import WINDOW


def pull(ml, emu, store, count):
    """Seed ``count`` orders of the sandbox mix and pull them as pull-orders would."""
    ids = emu.seed_orders(count, start=WINDOW.start, end=WINDOW.end - timedelta(minutes=1))
    raws = [raw for page in ml.fetch_orders(WINDOW, NothingSeen()) for raw in page.orders]
    with store.session() as s:
        catalogue = load_catalogue(s, "ml")
        for raw in raws:
            apply_order(s, ml, ml.map_order(raw.payload), raw.payload, PullReport("ml"), catalogue)
    return ids


def attach(store, external_id, *, force=False, **changes):
    """An NF-e that matches the stored order (total, buyer), built like an ERP would."""
    with store.session() as s:
        row = orders.get_order(s, "ml", external_id)
        spec = {
            "number": int(external_id[-6:]),
            "items": [("SKU", "Item", 1, str(row.items_total))],
            "freight": str(row.shipping_cost),
            "discount": str(row.discount),
            "recipient": row.buyer_document,
        }
        xml = build_nfe(**(spec | changes))
        engine.attach(s, row, parse_nfe(xml), models=models_for_type("mercadolivre"), force=force)
    return parse_nfe(xml).invoice.access_key


def shipment_of(emu, external_id):
    order = emu.orders[int(external_id)]
    return emu.shipments[order["shipping"]["id"]]


def states(store):
    with store.session() as s:
        return {(p["order"], p["state"], p["error"]) for p in engine.stuck_pushes(s)}


def test_the_nfe_lands_on_a_ready_shipment_once_and_releases_the_label(ml, emu, store):
    (first, *_) = pull(ml, emu, store, 1)
    key = attach(store, first)
    report = push_invoices(ml, store)
    assert (report.sent, report.accepted) == (1, 1), report.errors
    (post,) = [
        r
        for r in emu.requests_to(f"/shipments/{shipment_of(emu, first)['id']}/invoice_data")
        if r.method == "POST"
    ]
    assert post.headers["content-type"] == "application/xml"
    assert post.params == {"siteId": "MLB"}
    assert shipment_of(emu, first)["substatus"] == "ready_to_print"
    assert emu.invoices[shipment_of(emu, first)["id"]]["fiscal_key"] == key
    assert push_invoices(ml, store).sent == 0


def test_a_replay_after_a_crash_mid_send_is_accepted_not_doubled(ml, emu, store):
    (first, *_) = pull(ml, emu, store, 1)
    attach(store, first)
    push_invoices(ml, store)
    with store.session() as s:  # as if the process died after ML saved it, before we recorded
        (row,) = invoices.invoices_of(s, orders.get_order(s, "ml", first).id)
        invoices.record_push(s, row.id, "ml", engine.PushState.SENT)
    report = push_invoices(ml, store)
    assert (report.sent, report.accepted) == (1, 1)
    assert len(emu.invoices) == 1 and states(store) == set()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"freight": "99.00"}, "nfe_order_value_divergence"),
        ({"recipient": BUYER_CNPJ}, "wrong_receiver_cpf"),
    ],
)
def test_ml_refusals_are_kept_per_order(ml, emu, store, changes, code):
    (first, *_) = pull(ml, emu, store, 1)
    attach(store, first, force=True, **changes)
    report = push_invoices(ml, store)
    assert report.refused == 1
    ((order, state, error),) = states(store)
    assert (order, state) == (f"ml:{first}", "refused") and code in error
    assert shipment_of(emu, first)["substatus"] == "invoice_pending"


def test_a_shipment_not_ready_yet_is_retried_next_run(ml, emu, store):
    (first, *_) = pull(ml, emu, store, 1)
    attach(store, first)
    shipment_of(emu, first).update(status="pending", substatus="buffered")
    assert push_invoices(ml, store).failed == 1
    ((_, state, error),) = states(store)
    assert state == "failed" and "not ready for the NF-e yet" in error
    shipment_of(emu, first).update(status="ready_to_ship", substatus="invoice_pending")
    assert push_invoices(ml, store).accepted == 1


def test_full_orders_are_never_sent(ml, emu, store):
    ids = pull(ml, emu, store, 5)  # the fifth order of the sandbox mix is Full
    full = ids[4]
    with store.session() as s:
        assert orders.get_order(s, "ml", full).fulfilled_by_channel
    attach(store, full, force=True)
    report = push_invoices(ml, store)
    assert (report.sent, report.skipped_fulfilled) == (0, 1)
    assert emu.invoices == {}


@pytest.mark.parametrize(
    ("build", "code"),
    [
        ({"c_stat": "110"}, "invalid_nfe_cstat"),
        ({"tp_amb": "2"}, "invalid_nfe_environment"),
        ({"model": "65"}, "invalid_nfe_model"),
    ],
)
def test_the_emulator_refuses_what_ml_refuses(ml, emu, build, code, store):
    """requirement: a client that skipped erpsync's own checks still fails against the
    emulator: the emulator checks the XML itself."""
    (first, *_) = pull(ml, emu, store, 1)
    shipment = shipment_of(emu, first)
    xml = build_nfe(**build)
    with pytest.raises(FatalError, match=code):
        ml.request(  # authenticated, through the connector's own session
            "POST",
            f"/shipments/{shipment['id']}/invoice_data?siteId=MLB",
            content=xml,
            headers={"Content-Type": "application/xml"},
        )
    assert emu.invoices == {}


def test_the_emulator_wants_a_token_the_site_and_raw_xml(ml, emu, store):
    client = httpx.Client(transport=EmulatorTransport(emu.app), base_url="http://ml.test")
    assert client.post("/shipments/1/invoice_data").status_code == 401
    (first, *_) = pull(ml, emu, store, 1)
    path = f"/shipments/{shipment_of(emu, first)['id']}/invoice_data"
    with pytest.raises(FatalError, match="invalid_site_id"):
        ml.request("POST", path, content=build_nfe(), headers={"Content-Type": "application/xml"})
    with pytest.raises(FatalError, match="invalid_content_type"):
        ml.request("POST", path + "?siteId=MLB", json={"xml": "no"})
