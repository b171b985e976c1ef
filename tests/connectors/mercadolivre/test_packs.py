"""Mercado Livre NF-e for ME1, custom shipping and Flex: attached to the pack, once per pack.

What the seller sees: orders his own carrier ships (ME1) take the NF-e on the pack
(``POST /packs/{pack_id}/fiscal_documents``, multipart, field ``fiscal_document``); an order
outside a cart is its own pack. One NF-e covers a cart's orders and goes up once; a replay
after a crash sends nothing more; a pack that already holds another NF-e refuses a second one,
and the push record says so. The emulator refuses what ML refuses (no token, no pack, not
multipart, a repeated upload, over 1 MB, a Full pack).
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

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
from erpsync.postsale.nfe_builder import build_nfe
from erpsync.store import invoices, orders
from tests.connectors.mercadolivre.conftest import WINDOW

DOCS = Path(__file__).resolve().parents[3] / "connectors" / "mercadolivre" / "fixtures" / "docs"
#: the sandbox mix: serial 0 a lone paid order, serials 5 and 6 the two orders of one cart
LONE, CART = 0, (5, 6)


def pull(ml, emu, store, count, *, seller_ships=(), mode="me1"):
    """Seed ``count`` orders of the sandbox mix (those at ``seller_ships`` shipped by the
    seller: ME1 or custom) and pull them as pull-orders would."""
    ids = emu.seed_orders(count, start=WINDOW.start, end=WINDOW.end - timedelta(minutes=1))
    for serial in seller_ships:
        emu.ship_by_seller(ids[serial], mode=mode)
    raws = [raw for page in ml.fetch_orders(WINDOW, NothingSeen()) for raw in page.orders]
    with store.session() as s:
        catalogue = load_catalogue(s, "ml")
        for raw in raws:
            apply_order(s, ml, ml.map_order(raw.payload), raw.payload, PullReport("ml"), catalogue)
    return ids


def attach(store, external_id, *, number=None, total_of=(), force=False):
    """An NF-e for the order (or, with ``total_of``, for those orders together: a cart)."""
    with store.session() as s:
        row = orders.get_order(s, "ml", external_id)
        rows = [orders.get_order(s, "ml", i) for i in total_of] or [row]
        xml = build_nfe(
            number=number or int(external_id[-6:]),
            items=[("SKU", "Item", 1, str(sum((r.items_total for r in rows), Decimal(0))))],
            freight=str(sum((r.shipping_cost for r in rows), Decimal(0))),
            discount=str(sum((r.discount for r in rows), Decimal(0))),
            recipient=row.buyer_document,
        )
        parsed = parse_nfe(xml)
        engine.attach(s, row, parsed, models=models_for_type("mercadolivre"), force=force)
    return parsed.invoice.access_key


def uploads(emu, pack_id):
    return emu.requests_to(f"/packs/{pack_id}/fiscal_documents", "POST")


def stuck(store):
    with store.session() as s:
        return {(p["order"], p["state"], p["error"]) for p in engine.stuck_pushes(s)}


def test_an_me1_order_takes_its_nfe_on_its_own_id_as_pack_once(ml, emu, store):
    """requirement: an order outside a cart has no pack_id; its NF-e goes to
    /packs/{order id}/fiscal_documents as a multipart `fiscal_document` XML; the shipment is
    left as it was (attaching releases no label); a second push sends nothing."""
    ids = pull(ml, emu, store, 1, seller_ships=[LONE])
    order = ids[LONE]
    assert emu.orders[int(order)]["pack_id"] is None
    key = attach(store, order)
    shipment = emu.shipments[emu.orders[int(order)]["shipping"]["id"]]
    before = (shipment["status"], shipment["substatus"])
    report = push_invoices(ml, store)
    assert (report.sent, report.accepted) == (1, 1), report.errors
    (post,) = uploads(emu, order)
    assert post.headers["content-type"].startswith("multipart/form-data")
    assert b'name="fiscal_document"' in post.body and b"application/xml" in post.body
    assert emu.invoice_key(order) == key
    assert (shipment["status"], shipment["substatus"]) == before
    assert emu.requests_to(f"/shipments/{shipment['id']}/invoice_data", "POST") == []
    assert push_invoices(ml, store).sent == 0
    with store.session() as s:
        row = invoices.by_key(s, key)
        (push,) = invoices.pushes_of(s, [row.id])[row.id].values()
        assert push.state == "accepted" and push.remote_ref.startswith(f"pack {order}: ")


def test_a_replay_after_a_crash_is_accepted_without_a_second_upload(ml, emu, store):
    ids = pull(ml, emu, store, 1, seller_ships=[LONE])
    key = attach(store, ids[LONE])
    push_invoices(ml, store)
    with store.session() as s:  # the process died after ML kept the file, before we recorded
        row = invoices.by_key(s, key)
        invoices.record_push(s, row.id, "ml", engine.PushState.SENT)
    report = push_invoices(ml, store)
    assert (report.sent, report.accepted, report.refused) == (1, 1, 0), report.errors
    assert len(uploads(emu, ids[LONE])) == 1
    assert len(emu.pack_documents[int(ids[LONE])]) == 1


def test_a_carts_nfe_goes_once_to_its_pack_and_covers_every_order_of_it(ml, emu, store):
    """requirement: the two orders of a cart share one pack; one NF-e for both (attached to
    the first at the cart's total, which invoices both here) is uploaded once to
    /packs/{pack_id}, and ML then shows it for each order of the pack."""
    ids = pull(ml, emu, store, 7, seller_ships=[CART[0]])
    first, second = ids[CART[0]], ids[CART[1]]
    pack_id = emu.orders[int(first)]["pack_id"]
    assert pack_id and emu.orders[int(second)]["pack_id"] == pack_id
    key = attach(store, first, total_of=(first, second))  # the cart's total: no --force
    with store.session() as s:
        assert orders.get_order(s, "ml", second).status == "invoiced"
    report = push_invoices(ml, store)
    assert (report.accepted, report.refused, report.failed) == (1, 0, 0), report.errors
    assert len(uploads(emu, pack_id)) == 1
    assert uploads(emu, first) == [] and uploads(emu, second) == []
    assert emu.invoice_key(first) == emu.invoice_key(second) == key
    assert push_invoices(ml, store).sent == 0


def test_a_second_nfe_for_a_pack_that_holds_one_is_refused_and_says_why(ml, emu, store):
    """requirement: ML keeps one NF-e XML per pack. When each order of a cart got its own
    NF-e, the first goes up and the second is refused with ML's reason (kept, shown by
    `status`), never dropped silently nor uploaded twice."""
    ids = pull(ml, emu, store, 7, seller_ships=[CART[0]])
    first, second = ids[CART[0]], ids[CART[1]]
    pack_id = emu.orders[int(first)]["pack_id"]
    kept = attach(store, first)
    attach(store, second)
    report = push_invoices(ml, store)
    assert (report.accepted, report.refused) == (1, 1), report.errors
    assert emu.invoice_key(first) == kept
    ((order, state, error),) = stuck(store)
    assert (order, state) == (f"ml:{second}", "refused")
    assert f"pack {pack_id}" in error and "already has a fiscal document" in error
    assert len(emu.pack_documents[pack_id]) == 1


@pytest.mark.parametrize("mode", ["custom", "me1"])
def test_custom_shipping_and_flex_attach_to_the_pack_too(ml, emu, store, mode):
    ids = pull(ml, emu, store, 1, seller_ships=[LONE], mode=mode)
    key = attach(store, ids[LONE])
    assert push_invoices(ml, store).accepted == 1
    assert emu.invoice_key(ids[LONE]) == key


def test_an_order_without_a_shipment_attaches_to_its_pack(ml, emu, store):
    """requirement: "not_specified" shipping (delivery agreed with the buyer) has no shipment
    at all; the NF-e still reaches the order, on its pack."""
    ids = emu.seed_orders(1, start=WINDOW.start, end=WINDOW.end - timedelta(minutes=1))
    emu.orders[int(ids[LONE])]["shipping"] = {"id": None}
    pull(ml, emu, store, 0)
    key = attach(store, ids[LONE])
    assert push_invoices(ml, store).accepted == 1
    assert emu.invoice_key(ids[LONE]) == key


def test_an_order_ml_no_longer_knows_is_refused_with_the_reason(ml, emu, store):
    ids = pull(ml, emu, store, 1, seller_ships=[LONE])
    attach(store, ids[LONE])
    gone = emu.orders.pop(int(ids[LONE]))  # e.g. an order of another account's token
    emu.shipment_orders[gone["shipping"]["id"]].remove(gone["id"])
    assert push_invoices(ml, store).refused == 1
    ((_, state, error),) = stuck(store)
    assert state == "refused" and "not found" in error


def test_an_nfe_over_1_mb_is_refused_before_sending(ml, emu, store):
    from erpsync.connectors.mercadolivre import invoices as ml_invoices

    result = ml_invoices.push_to_pack(
        "3" * 44, b"<x/>" * 300_000, "1", ml_invoices.Pack(lambda _p: [], lambda *_a: ["x"])
    )
    assert not result.ok and not result.retry and "1 MB" in (result.error or "")


# -- the emulator refuses what ML refuses ------------------------------------------------------


def post_file(ml, pack_id, content, *, kind="application/xml"):
    return ml.request(
        "POST",
        f"/packs/{pack_id}/fiscal_documents",
        files={"fiscal_document": ("f", content, kind)},
    )


def test_the_emulator_wants_a_token(emu):
    client = httpx.Client(transport=EmulatorTransport(emu.app), base_url="http://ml.test")
    assert client.post("/packs/1/fiscal_documents").status_code == 401
    assert client.get("/packs/1/fiscal_documents").status_code == 401


def test_the_emulator_refuses_an_unknown_pack_and_an_order_of_a_cart_as_its_pack(ml, emu, store):
    ids = pull(ml, emu, store, 7)
    with pytest.raises(FatalError, match="not found"):
        post_file(ml, 9999, build_nfe())
    with pytest.raises(FatalError, match="not found"):  # in a cart: its pack, not its own id
        post_file(ml, ids[CART[0]], build_nfe())
    assert post_file(ml, ids[LONE], build_nfe()).json()["ids"]


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        ({"content": b"<x/>"}, "multipart"),
        ({"files": {"file": ("f.xml", b"<a/>", "application/xml")}}, "required"),
        ({"files": {"fiscal_document": ("f.png", b"PNG", "image/png")}}, "Invalid file type"),
        ({"files": {"fiscal_document": ("f.xml", b"<a>" * 400_000, "text/xml")}}, "1 MB"),
        ({"files": {"fiscal_document": ("f.xml", b"<not xml", "text/xml")}}, "not a valid XML"),
    ],
)
def test_the_emulator_refuses_a_malformed_upload(ml, emu, store, upload, message):
    ids = pull(ml, emu, store, 1)
    with pytest.raises(FatalError, match=message):
        ml.request("POST", f"/packs/{ids[LONE]}/fiscal_documents", **upload)
    assert emu.pack_documents.get(int(ids[LONE]), []) == []


def test_the_emulator_refuses_a_repeated_upload_but_takes_a_pdf_with_the_xml(ml, emu, store):
    ids = pull(ml, emu, store, 1)
    post_file(ml, ids[LONE], build_nfe())
    with pytest.raises(FatalError, match="already has a fiscal document of type xml"):
        post_file(ml, ids[LONE], build_nfe(number=2))
    post_file(ml, ids[LONE], b"%PDF-1.4 danfe", kind="application/pdf")
    listing = ml.request("GET", f"/packs/{ids[LONE]}/fiscal_documents").json()
    assert listing["pack_id"] == int(ids[LONE])
    assert [d["file_type"] for d in listing["fiscal_documents"]] == [
        "application/xml",
        "application/pdf",
    ]


def test_the_emulator_refuses_a_full_pack(ml, emu, store):
    ids = pull(ml, emu, store, 5)  # the fifth order of the sandbox mix is Full
    with pytest.raises(FatalError, match="Fulfillment"):
        post_file(ml, ids[4], build_nfe())


def test_the_documented_upload_answer_is_read_for_the_file_id(ml, emu, store):
    """The pages' example answer ({"ids": ["<file id>"]}, fixtures/docs, own values) has the
    emulator's shape, and the connector keeps the file id from it."""
    documented = json.loads((DOCS / "pack-fiscal-documents-upload.json").read_text())
    ids = pull(ml, emu, store, 1)
    (file_id,) = ml._upload_to_pack(ids[LONE], "nfe.xml", build_nfe())
    (held,) = emu.pack_documents[int(ids[LONE])]
    assert file_id == held["id"]
    assert set(documented) == {"ids"} and all(isinstance(i, str) for i in documented["ids"])
