"""Mercado Livre labels against its emulator: no label before the NF-e on ME2, the label
once the NF-e is in, one file per order, PDF or ZPL (raw or zipped), never Full/Flex/ME1;
and the emulator refuses what ML refuses, so a client that skips the checks fails here."""

from __future__ import annotations

import io
import zipfile

import pytest

from erpsync.connectors.mercadolivre import labels
from erpsync.engine.invoice_push import push_invoices
from erpsync.engine.labels import fetch_labels
from erpsync.errors import FatalError
from erpsync.store import orders, shipments
from tests.connectors.mercadolivre.test_invoices import attach, pull, shipment_of


def _label_state(store, external_id):
    with store.session() as s:
        row = orders.get_order(s, "ml", external_id)
        [shipment] = shipments.shipments_of(s, row.id)
        return shipment


def test_no_label_before_the_nfe_then_one_file_per_order(ml, emu, store, tmp_path):
    (first, *_) = pull(ml, emu, store, 1)
    assert shipment_of(emu, first)["substatus"] == "invoice_pending"
    before = fetch_labels(ml, store, tmp_path)
    assert before.written == []
    assert before.waiting == [
        (f"ml:{first}", "waiting for the NF-e (`erpsync invoices push` sends it)")
    ]
    assert emu.requests_to("/shipment_labels") == []  # not even asked: the state says no
    attach(store, first)
    assert push_invoices(ml, store).accepted == 1
    after = fetch_labels(ml, store, tmp_path)
    assert after.written == [(f"ml:{first}", tmp_path / f"ml-{first}.pdf")]
    assert (tmp_path / f"ml-{first}.pdf").read_bytes().startswith(b"%PDF")
    [request] = emu.requests_to("/shipment_labels")
    assert request.params == {
        "shipment_ids": str(shipment_of(emu, first)["id"]),
        "response_type": "pdf",
    }
    shipment = _label_state(store, first)
    assert (shipment.label_state, shipment.label_format) == ("fetched", "pdf")
    assert shipment.label_file == str(tmp_path / f"ml-{first}.pdf")
    assert shipment_of(emu, first)["substatus"] == "printed"
    assert fetch_labels(ml, store, tmp_path).written == []  # fetched once
    assert len(fetch_labels(ml, store, tmp_path, again=True).written) == 1


def test_zpl_comes_as_text_even_when_ml_zips_it(ml, emu, store, tmp_path):
    ids = pull(ml, emu, store, 2)
    ready = ids[1]  # the sandbox mix's second order: ready_to_ship/printed
    report = fetch_labels(ml, store, tmp_path, format="zpl")
    assert (f"ml:{ready}", tmp_path / f"ml-{ready}.zpl") in report.written
    text = (tmp_path / f"ml-{ready}.zpl").read_bytes()
    assert text.startswith(b"^XA") and b"^XZ" in text
    assert emu.requests_to("/shipment_labels")[0].params["response_type"] == "zpl2"


def test_full_flex_and_me1_never_get_a_label_and_are_not_asked_again(ml, emu, store, tmp_path):
    ids = pull(ml, emu, store, 15)
    report = fetch_labels(ml, store, tmp_path)
    kinds = {emu.shipments[emu.orders[int(i)]["shipping"]["id"]]["logistic"]["type"] for i in ids}
    assert "fulfillment" in kinds
    written = {order for order, _ in report.written}
    for external_id in ids:
        logistic = shipment_of(emu, external_id)["logistic"]["type"]
        if logistic in {"fulfillment", "self_service", "custom"}:
            assert f"ml:{external_id}" not in written
    never = dict(report.never)
    assert all(reason for reason in never.values())
    again = fetch_labels(ml, store, tmp_path)
    assert not set(never) & {order for order, _ in again.never + again.waiting}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"response_type": "pdf"}, "bad_request"),
        ({"shipment_ids": "1", "response_type": "png"}, "bad_request"),
        ({"shipment_ids": "999999999", "response_type": "pdf"}, "not_found"),
    ],
    ids=["no-ids", "bad-type", "unknown"],
)
def test_the_emulator_refuses_bad_label_requests(ml, emu, store, params, code):
    pull(ml, emu, store, 1)
    with pytest.raises(FatalError, match=code if code != "bad_request" else "400|required|Invalid"):
        ml.request("GET", "/shipment_labels", params=params)


def test_the_emulator_refuses_a_label_before_the_nfe(ml, emu, store):
    """A client that asks without checking the state gets ML's refusal, not a label."""
    (first, *_) = pull(ml, emu, store, 1)
    shipment_id = shipment_of(emu, first)["id"]
    with pytest.raises(FatalError, match="invoice"):
        ml.request(
            "GET",
            "/shipment_labels",
            params={"shipment_ids": str(shipment_id), "response_type": "pdf"},
        )


def test_several_ids_come_back_as_one_document(ml, emu, store):
    ids = pull(ml, emu, store, 7)
    ready = [str(shipment_of(emu, i)["id"]) for i in ids if emu.label_ready(i)]
    assert len(ready) >= 2
    response = ml.request(
        "GET",
        "/shipment_labels",
        params={"shipment_ids": ",".join(ready), "response_type": "pdf"},
        expect_json=False,
    )
    assert response.content.count(b"label for shipment") == len(ready)


def test_reading_zpl_raw_or_zipped():
    raw = b"^XA^FDx^FS^XZ"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Etiqueta de envio.txt", raw)
    assert labels.label_content(raw, "zpl") == raw
    assert labels.label_content(buffer.getvalue(), "zpl") == raw
    assert labels.label_content(b"%PDF-1.4", "pdf") == b"%PDF-1.4"


@pytest.mark.parametrize(
    ("shipment", "expected"),
    [
        (
            {
                "logistic": {"type": "drop_off"},
                "status": "ready_to_ship",
                "substatus": "ready_to_print",
            },
            None,
        ),
        (
            {"logistic": {"type": "drop_off"}, "status": "ready_to_ship", "substatus": "printed"},
            None,
        ),
        (
            {
                "logistic": {"type": "drop_off"},
                "status": "ready_to_ship",
                "substatus": "invoice_pending",
            },
            False,
        ),
        ({"logistic": {"type": "drop_off"}, "status": "pending", "substatus": "buffered"}, False),
        ({"logistic": {"type": "drop_off"}, "status": "shipped", "substatus": None}, True),
        ({"logistic": {"type": "fulfillment"}, "status": "ready_to_ship"}, True),
        ({"logistic": {"type": "self_service"}, "status": "ready_to_ship"}, True),
        ({"logistic_type": "custom", "status": "ready_to_ship"}, True),
    ],
)
def test_which_shipment_states_have_a_label(shipment, expected):
    found = labels.state_reason(shipment)
    assert (found if found is None else found[1]) == expected
