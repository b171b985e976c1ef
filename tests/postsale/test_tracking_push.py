"""shipments set/push as the engine runs them: tracking recorded against the order's state,
recorded before sending, never sent twice, failures retried, refusals kept, asynchronous
acceptance read back, Full/FBA and logistic types without a call never sent, the order
shipped once accepted; the files connector's tracking.csv."""

import csv

import pytest

from erpsync.connector import ConnectorSettings, TrackingSink
from erpsync.connectors.files.connector import FilesConnector
from erpsync.connectors.files.settings import FilesOptions
from erpsync.domain import OrderStatus, SendResult, TrackingUpdate
from erpsync.engine.tracking import TrackingRefusedError, record_tracking
from erpsync.engine.tracking_push import push_tracking, stuck_pushes
from erpsync.errors import RetriableError
from erpsync.postsale.domain import Shipment
from erpsync.postsale.status import merge_status
from erpsync.store import orders, shipments
from tests.engine.fakes import FakeConnector, FakeOptions
from tests.postsale.conftest import make_order, save


class TrackingConnector(FakeConnector, TrackingSink):
    """Answers each shipment as scripted in ``answers`` (shipment ref -> SendResult fields)."""

    type = "fake-tracking"
    tracking_batch_size = 2

    def __init__(self, settings, store):
        super().__init__(settings)
        self.store = store
        self.calls: list[list[TrackingUpdate]] = []
        self.answers: dict[str, dict] = {}
        self.verified: dict[str, dict] = {}
        self.states_seen: list[str | None] = []
        self.fail_with: Exception | None = None

    def push_tracking(self, updates):
        self.calls.append(list(updates))
        with self.store.session() as s:  # what a crash at this moment would leave behind
            self.states_seen += [p["state"] for p in stuck_pushes(s)]
        if self.fail_with is not None:
            raise self.fail_with
        return [
            SendResult(ref=u.shipment_ref, **self.answers.get(u.shipment_ref, {"ok": True}))
            for u in updates
        ]

    def verify_tracking(self, updates):
        return [SendResult(ref=u.shipment_ref, **self.verified[u.shipment_ref]) for u in updates]


@pytest.fixture
def sink(store):
    settings = ConnectorSettings(name="sink", type="fake-tracking", options=FakeOptions())
    return TrackingConnector(settings, store)


def _shipped(store, external_id, code, *, shipment=None, **order_changes):
    """A paid order of the sink with the seller's tracking recorded."""
    row = save(store, make_order(connector="sink", external_id=external_id, **order_changes))
    with store.session() as s:
        order = orders.get_order(s, "sink", external_id)
        if shipment is not None:
            shipments.sync_shipments(s, order.id, "sink", [shipment])
        record_tracking(s, order, code, carrier="Correios")
    return row


def _status(store, external_id):
    with store.session() as s:
        return orders.get_order(s, "sink", external_id).status


def test_records_before_sending_and_never_sends_twice(store, sink):
    _shipped(store, "A", "QB000000001BR")
    _shipped(store, "B", "QB000000002BR")
    _shipped(store, "C", "QB000000003BR")
    report = push_tracking(sink, store)
    assert (report.sent, report.accepted) == (3, 3)
    assert [len(call) for call in sink.calls] == [2, 1]  # tracking_batch_size
    assert set(sink.states_seen) == {"sent"}  # a crash mid-send leaves "sent", never nothing
    update = sink.calls[0][0]
    assert update.order_external_id == "A" and update.shipment_ref == "A"
    assert (update.carrier, update.tracking_code) == ("Correios", "QB000000001BR")
    assert update.shipped_at is not None
    assert _status(store, "A") == OrderStatus.SHIPPED
    assert push_tracking(sink, store).sent == 0
    assert len(sink.calls) == 2


def test_failures_are_retried_and_refusals_kept_until_again(store, sink):
    _shipped(store, "A", "QB000000001BR")
    _shipped(store, "B", "QB000000002BR")
    sink.answers = {
        "A": {"ok": False, "retry": True, "error": "503 from the channel"},
        "B": {"ok": False, "error": "Order is cancelled"},
    }
    report = push_tracking(sink, store)
    assert (report.failed, report.refused) == (1, 1)
    assert report.shortfall() == "1 tracking push(es) refused, 1 failed"
    with store.session() as s:
        stuck = {p["order"]: (p["state"], p["error"]) for p in stuck_pushes(s)}
    assert stuck == {
        "sink:A": ("failed", "503 from the channel"),
        "sink:B": ("refused", "Order is cancelled"),
    }
    assert _status(store, "B") == OrderStatus.PAID  # not shipped while refused
    sink.answers = {}
    retry = push_tracking(sink, store)
    assert (retry.sent, retry.accepted) == (1, 1)  # only the failed one
    assert push_tracking(sink, store, again=True).accepted == 1  # the refused one, on demand


def test_a_whole_batch_failure_is_retried_next_run(store, sink):
    _shipped(store, "A", "QB000000001BR")
    sink.fail_with = RetriableError("connection reset", connector="sink")
    with pytest.raises(RetriableError):
        push_tracking(sink, store)
    with store.session() as s:
        assert [p["state"] for p in stuck_pushes(s)] == ["failed"]
    sink.fail_with = None
    assert push_tracking(sink, store).accepted == 1


def test_pending_tracking_is_read_back(store, sink):
    _shipped(store, "A", "QB000000001BR")
    sink.answers = {"A": {"ok": True, "pending": True}}
    assert push_tracking(sink, store).pending == 1
    assert _status(store, "A") == OrderStatus.PAID
    sink.verified = {"A": {"ok": True}}
    report = push_tracking(sink, store)
    assert (report.sent, report.accepted) == (0, 1)
    assert _status(store, "A") == OrderStatus.SHIPPED


def test_a_new_code_is_sent_again_the_same_code_is_not(store, sink):
    _shipped(store, "A", "QB000000001BR")
    push_tracking(sink, store)
    with store.session() as s:
        order = orders.get_order(s, "sink", "A")
        assert not record_tracking(s, order, "QB000000001BR").changed
    assert push_tracking(sink, store).sent == 0
    with store.session() as s:
        order = orders.get_order(s, "sink", "A")
        assert record_tracking(s, order, "QB000000009BR").changed
    again = push_tracking(sink, store)
    assert again.sent == 1 and sink.calls[-1][0].tracking_code == "QB000000009BR"


def test_what_the_channel_ships_or_has_no_call_for_is_never_sent(store, sink):
    full = Shipment(shipment_ref="S-FULL", logistic_type="fulfillment", fulfilled_by_channel=True)
    _shipped(
        store,
        "A",
        "QB000000001BR",
        shipment=Shipment(shipment_ref="S-ME2", logistic_type="drop_off"),
    )
    _shipped(
        store, "B", "QB000000002BR", shipment=Shipment(shipment_ref="S-ME1", logistic_type="custom")
    )
    with pytest.raises(TrackingRefusedError, match="fulfilled by the channel"):
        _shipped(store, "C", "QB000000003BR", shipment=full)
    sink.tracking_logistic_types = frozenset({"custom"})
    report = push_tracking(sink, store)
    assert (report.sent, report.skipped) == (1, 1)
    assert [u.shipment_ref for u in sink.calls[0]] == ["S-ME1"]


def test_an_order_cancelled_here_after_its_tracking_is_not_sent(store, sink):
    _shipped(store, "A", "QB000000001BR")
    with store.session() as s:
        order = orders.get_order(s, "sink", "A")
        order.status = "cancelled"
        s.add(order)
    report = push_tracking(sink, store)
    assert (report.sent, report.skipped) == (0, 1)


@pytest.mark.parametrize(
    ("changes", "code", "kwargs", "message"),
    [
        ({"status": "cancelled"}, "QB1BR", {}, "is cancelled"),
        ({"status": "pending"}, "QB1BR", {}, "not paid yet"),
        ({"fulfilled_by_channel": True}, "QB1BR", {}, "fulfilled by the channel"),
        ({}, "QB 1BR", {}, "not one word"),
        ({}, "QB1BR", {"tracking_url": "ftp://x"}, "not an http"),
        ({}, "QB1BR", {"shipment_ref": "nope"}, None),
    ],
    ids=["cancelled", "pending", "full", "space", "url", "free-ref"],
)
def test_tracking_is_refused_for_what_cannot_ship(store, changes, code, kwargs, message):
    save(store, make_order(**changes))
    with store.session() as s:
        order = orders.get_order(s, "shop", "2000001234")
        if message is None:  # an order without shipments takes the ref it is given
            assert record_tracking(s, order, code, **kwargs).shipment_ref == "nope"
            return
        with pytest.raises(TrackingRefusedError, match=message):
            record_tracking(s, order, code, **kwargs)


def test_several_shipments_need_the_ref(store):
    row = save(store, make_order())
    with store.session() as s:
        shipments.sync_shipments(
            s, row.id, "shop", [Shipment(shipment_ref="D1"), Shipment(shipment_ref="D2")]
        )
        order = orders.get_order(s, "shop", "2000001234")
        with pytest.raises(TrackingRefusedError, match=r"2 shipments .*--shipment"):
            record_tracking(s, order, "QB1BR")
        with pytest.raises(TrackingRefusedError, match="no shipment 'D3'"):
            record_tracking(s, order, "QB1BR", shipment_ref="D3")
        assert record_tracking(s, order, "QB1BR", shipment_ref="D2").shipment_ref == "D2"


def test_a_pull_does_not_undo_shipped():
    assert merge_status("shipped", OrderStatus.PAID) == OrderStatus.SHIPPED
    assert merge_status("shipped", OrderStatus.INVOICED) == OrderStatus.SHIPPED
    assert merge_status("shipped", OrderStatus.DELIVERED) == OrderStatus.DELIVERED
    assert merge_status("shipped", OrderStatus.CANCELLED) == OrderStatus.CANCELLED


def _files(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "outbox").mkdir()
    options = FilesOptions(inbox=tmp_path / "inbox", outbox=tmp_path / "outbox")
    return FilesConnector(ConnectorSettings(name="shop", type="files", options=options))


def test_files_writes_tracking_csv_once_and_replaces_a_corrected_code(tmp_path):
    connector = _files(tmp_path)
    first = TrackingUpdate(
        order_external_id="LV-1", tracking_code="QB000000001BR", carrier="Correios"
    )
    other = TrackingUpdate(order_external_id="LV-2", tracking_code="QB000000002BR")
    assert all(r.ok for r in connector.push_tracking([first, other]))
    assert all(r.ok for r in connector.push_tracking([first]))  # a replay changes nothing
    fixed = first.model_copy(update={"tracking_code": "QB000000009BR"})
    [result] = connector.push_tracking([fixed])
    assert result.ok and result.ref == "LV-1"
    with (tmp_path / "outbox" / "tracking.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["order_external_id"], r["tracking_code"], r["carrier"]) for r in rows] == [
        ("LV-1", "QB000000009BR", "Correios"),
        ("LV-2", "QB000000002BR", ""),
    ]


def test_files_without_an_outbox_retries_next_run(tmp_path):
    connector = _files(tmp_path)
    (tmp_path / "outbox").rmdir()
    [result] = connector.push_tracking(
        [TrackingUpdate(order_external_id="LV-1", tracking_code="QB000000001BR")]
    )
    assert not result.ok and result.retry and "does not exist" in result.error
