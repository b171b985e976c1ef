"""invoices push: recorded before sending, never sent twice, failures retried, refusals kept,
asynchronous acceptance read back, Full/FBA never sent; the files connector's outbox."""

import csv

import pytest

from erpsync.connector import ConnectorSettings, InvoiceSink
from erpsync.connectors.files.connector import FilesConnector
from erpsync.connectors.files.settings import FilesOptions
from erpsync.domain import SendResult
from erpsync.engine import invoices as engine
from erpsync.engine.invoice_push import _load, push_invoices
from erpsync.engine.invoices import ALL_MODELS
from erpsync.errors import RetriableError
from erpsync.postsale.nfe import parse_nfe
from erpsync.postsale.nfe_builder import build_nfe
from erpsync.store import orders
from tests.engine.fakes import FakeConnector, FakeOptions
from tests.postsale.conftest import make_order, save


class SinkConnector(FakeConnector, InvoiceSink):
    """Answers each invoice as scripted in ``answers`` (access key -> SendResult fields)."""

    type = "fake-sink"
    invoice_batch_size = 2

    def __init__(self, settings, store):
        super().__init__(settings)
        self.store = store
        self.calls: list[list[str]] = []
        self.answers: dict[str, dict] = {}
        self.verified: dict[str, dict] = {}
        self.states_seen: list[str] = []
        self.fail_with: Exception | None = None

    def push_invoices(self, invoices):
        keys = [i.access_key for i in invoices]
        self.calls.append(keys)
        with self.store.session() as s:  # what a crash at this moment would leave behind
            self.states_seen += [engine.stuck_pushes(s)[-1]["state"]]
        if self.fail_with is not None:
            raise self.fail_with
        assert all(i.xml and i.order_external_id for i in invoices)
        return [SendResult(ref=k, **self.answers.get(k, {"ok": True})) for k in keys]

    def verify_invoices(self, invoices):
        return [SendResult(ref=i.access_key, **self.verified[i.access_key]) for i in invoices]


@pytest.fixture
def sink(store):
    settings = ConnectorSettings(name="sink", type="fake-sink", options=FakeOptions())
    return SinkConnector(settings, store)


def _invoiced(store, number, **order_changes):
    order = make_order(
        connector="sink",
        external_id=f"O{number}",
        number=f"O{number}",
        **order_changes,
    )
    row = save(store, order)
    xml = build_nfe(number=number)
    with store.session() as s:
        engine.attach(
            s, orders.get_order(s, "sink", row.external_id), parse_nfe(xml), models=ALL_MODELS
        )
    return parse_nfe(xml).invoice.access_key


def _states(store):
    with store.session() as s:
        return {(p["order"], p["state"]) for p in engine.stuck_pushes(s)}


def test_each_invoice_is_sent_once_and_recorded_before_sending(store, sink):
    keys = [_invoiced(store, n) for n in (1, 2, 3)]
    report = push_invoices(sink, store)
    assert sink.calls == [keys[:2], keys[2:]]  # batches of invoice_batch_size
    assert sink.states_seen == ["sent", "sent"]  # the record was committed before the send
    assert (report.sent, report.accepted, report.shortfall()) == (3, 3, None)
    assert _states(store) == set()
    again = push_invoices(sink, store)
    assert (again.sent, len(sink.calls)) == (0, 2)


def test_a_refusal_is_kept_with_its_error_until_again(store, sink):
    key = _invoiced(store, 1)
    sink.answers[key] = {"ok": False, "error": "nfe_order_value_divergence: value differs"}
    report = push_invoices(sink, store)
    assert (report.refused, report.shortfall()) == (1, "1 invoice(s) refused, 0 failed")
    assert report.errors == ["sink:O1 NF-e 1: refused: nfe_order_value_divergence: value differs"]
    with store.session() as s:
        (stuck,) = engine.stuck_pushes(s)
    assert (stuck["state"], stuck["error"]) == (
        "refused",
        "nfe_order_value_divergence: value differs",
    )
    assert push_invoices(sink, store).sent == 0
    sink.answers.clear()
    assert push_invoices(sink, store, again=True).accepted == 1
    assert _states(store) == set()


def test_a_failure_worth_retrying_is_sent_again_next_run(store, sink):
    key = _invoiced(store, 1)
    sink.answers[key] = {"ok": False, "retry": True, "error": "shipment not ready_to_ship yet"}
    assert push_invoices(sink, store).failed == 1
    assert _states(store) == {("sink:O1", "failed")}
    sink.answers.clear()
    assert push_invoices(sink, store).accepted == 1


def test_a_connector_error_fails_the_batch_and_the_run_then_retries(store, sink):
    _invoiced(store, 1)
    sink.fail_with = RetriableError("503 from the platform", connector="sink")
    with pytest.raises(RetriableError):
        push_invoices(sink, store)
    assert _states(store) == {("sink:O1", "failed")}
    sink.fail_with = None
    assert push_invoices(sink, store).accepted == 1


def test_pending_is_read_back_next_run(store, sink):
    key = _invoiced(store, 1)
    sink.answers[key] = {"ok": True, "pending": True, "remote_id": "inv-9"}
    assert push_invoices(sink, store).pending == 1
    sink.verified[key] = {"ok": False, "pending": True}
    assert push_invoices(sink, store).pending == 1
    assert _states(store) == {("sink:O1", "pending")}
    sink.verified[key] = {"ok": True}
    report = push_invoices(sink, store)
    assert (report.accepted, report.sent, len(sink.calls)) == (1, 0, 1)
    assert _states(store) == set()


def test_orders_the_channel_fulfils_and_other_channels_orders_are_not_sent(store, sink):
    _invoiced(store, 1, fulfilled_by_channel=True)
    save(store, make_order(connector="other", external_id="X1"))
    with store.session() as s:
        engine.attach(
            s,
            orders.get_order(s, "other", "X1"),
            parse_nfe(build_nfe(number=7)),
            models=ALL_MODELS,
        )
    report = push_invoices(sink, store)
    assert (report.sent, report.skipped_fulfilled, sink.calls) == (0, 1, [])


def test_the_files_connector_writes_an_outbox_copy_and_an_index_once(store, tmp_path):
    settings = ConnectorSettings(
        name="sink",
        type="files",
        options=FilesOptions(inbox=tmp_path / "in", outbox=tmp_path / "out"),
    )
    files = FilesConnector(settings)
    (tmp_path / "out").mkdir()
    keys = [_invoiced(store, n) for n in (1, 2)]
    assert push_invoices(files, store).accepted == 2
    folder = tmp_path / "out" / "invoices"
    assert (folder / f"{keys[0]}-nfe.xml").read_bytes() == build_nfe(number=1)
    with (folder / "index.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["access_key"], r["order_external_id"], r["total"]) for r in rows] == [
        (keys[0], "O1", "20.00"),
        (keys[1], "O2", "20.00"),
    ]
    # a replay (a crash after the copy, before the record was moved) changes nothing
    with store.session() as s:
        replay = _load(s, "sink", ("accepted",))
    assert [r.ok for r in files.push_invoices(replay)] == [True, True]
    with (folder / "index.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 2


def test_the_files_connector_without_an_outbox_fails_for_retry(store, tmp_path):
    settings = ConnectorSettings(
        name="sink", type="files", options=FilesOptions(inbox=tmp_path / "in")
    )
    _invoiced(store, 1)
    report = push_invoices(FilesConnector(settings), store)
    assert report.failed == 1 and "no outbox configured" in report.errors[0]


def test_the_files_connector_never_creates_a_missing_outbox(store, tmp_path):
    settings = ConnectorSettings(
        name="sink",
        type="files",
        options=FilesOptions(inbox=tmp_path / "in", outbox=tmp_path / "typo"),
    )
    _invoiced(store, 1)
    report = push_invoices(FilesConnector(settings), store)
    assert report.failed == 1 and "does not exist (erpsync does not create it)" in report.errors[0]
    assert not (tmp_path / "typo").exists()
