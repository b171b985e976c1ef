"""The Vnda connector against its emulator: headers, the Orders Feed and its marks, the dated
list, stock by SKU (single and batch), errors and the rate limit."""

import dataclasses
from datetime import timedelta

import httpx
import pytest

from erpsync.connector import NothingSeen, Window
from erpsync.connectors.vnda import VndaConnector
from erpsync.connectors.vnda.emulator import VndaEmulator
from erpsync.connectors.vnda.emulator.app import SANDBOX_TOKEN, SHOP_HOST
from erpsync.domain import OrderStatus, StockUpdate
from erpsync.emulation import EmulatorTransport
from erpsync.engine.listings import pull_listings
from erpsync.engine.push import push_stock
from erpsync.errors import AuthError, FatalError
from erpsync.store import ledger, products, quarantine
from erpsync.testing import FakeTime, build_harness


@pytest.fixture
def time():
    return FakeTime()


@pytest.fixture
def emulator(time):
    return VndaEmulator(seed=3, clock=time.now, sandbox_orders=0)


def make(emulator, time, **options):
    return build_harness(VndaConnector, emulator, time, name="vnda", options=options)


@pytest.fixture
def harness(emulator, time):
    h = make(emulator, time)
    yield h
    h.connector.close()
    h.store.close()


def seed(h, count):
    now = h.time.now()
    codes = h.emulator.seed_orders(count, start=now - timedelta(days=1), end=now)
    h.time.advance(minutes=5)
    return codes


def raw_client(emulator):
    return httpx.Client(transport=EmulatorTransport(emulator.app), base_url="https://api.x")


def test_every_call_carries_the_bearer_token_and_the_shop_host(harness):
    seed(harness, 3)
    harness.pull()
    assert harness.emulator.requests
    for call in harness.emulator.requests:
        assert call.headers["authorization"] == f"Bearer {SANDBOX_TOKEN}"
        assert call.headers["x-shop-host"] == SHOP_HOST
    feed = harness.emulator.requests_to("/api/feed/orders", "GET")
    assert feed and all(r.headers["host"] == "vnda.test" for r in feed)  # the base_url


@pytest.mark.parametrize(
    ("base_url", "feed_base_url", "url"),
    [
        (None, None, f"https://{SHOP_HOST}/api/feed/orders"),  # the vendor's curl
        (None, "https://api.vnda.com.br", "https://api.vnda.com.br/api/feed/orders"),
        ("http://vnda.test/", None, "http://vnda.test/api/feed/orders"),
        ("http://vnda.test", "https://loja.example", "https://loja.example/api/feed/orders"),
    ],
)
def test_where_the_feed_is_read(emulator, time, base_url, feed_base_url, url):
    h = make(emulator, time, feed_base_url=feed_base_url)
    h.connector.settings = dataclasses.replace(h.connector.settings, base_url=base_url)
    assert h.connector.feed_url() == url
    h.connector.close()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"X-Shop-Host": SHOP_HOST}, 401),
        ({"Authorization": "Bearer wrong", "X-Shop-Host": SHOP_HOST}, 401),
        ({"Authorization": f"Bearer {SANDBOX_TOKEN}"}, 404),
        ({"Authorization": f"Bearer {SANDBOX_TOKEN}", "X-Shop-Host": "outra.com.br"}, 404),
    ],
)
def test_the_emulator_refuses_a_bad_token_or_a_missing_store(emulator, headers, status):
    with raw_client(emulator) as client:
        answer = client.get("/api/v2/orders", headers=headers)
    assert answer.status_code == status
    if status == 404:
        assert answer.json() == {"error": "Domínio de loja não encontrado"}


def test_a_deleted_token_says_where_to_make_a_new_one(harness):
    harness.emulator.expire_access_tokens()
    with pytest.raises(AuthError, match="Integrações → API") as caught:
        harness.connector.check()
    assert SANDBOX_TOKEN not in str(caught.value)


def test_a_wrong_shop_host_names_the_option(emulator, time):
    h = make(emulator, time, shop_host="www.outra.com.br")
    with pytest.raises(FatalError, match=r"options\.shop_host"):
        h.connector.check()
    h.connector.close()


def test_check_reads_one_order(harness):
    seed(harness, 4)
    assert harness.connector.check() == f"authenticated for store {SHOP_HOST}; 4 orders"


# -- the Orders Feed ---------------------------------------------------------------------------


def test_the_feed_is_drained_and_marked_batch_by_batch(harness):
    codes = seed(harness, 60)  # ~100 events: received + later snapshots, 50 per answer
    report = harness.pull()
    assert report.new == 60 and report.quarantined == 0
    assert {o.external_id for o in harness.stored_orders()} == set(codes)
    assert not harness.emulator.unmarked()
    marks = harness.emulator.requests_to("/api/feed/orders", "POST")
    assert len(marks) >= 2
    assert all(set(m.json()) == {"orders"} for m in marks)


def test_an_order_received_then_confirmed_is_stored_once_as_it_is_now(harness):
    """requirement: events are snapshots; only the newest per order is current."""
    codes = seed(harness, 8)
    report = harness.pull()
    assert report.new == 8 and report.updated == 0
    stored = {o.external_id: o for o in harness.stored_orders()}
    for code in codes:
        order = harness.emulator.orders[code]
        assert stored[code].channel_status.split("/")[0] == order["status"]


def test_the_feed_is_marked_only_after_the_engine_stored_the_answer(harness):
    """requirement: a run that dies between reading and storing loses nothing."""
    seed(harness, 5)
    pages = harness.connector.fetch_orders(window_for(harness), NothingSeen())
    first = next(pages)
    assert first.orders
    assert not harness.emulator.requests_to("/api/feed/orders", "POST")
    pages.close()  # the run dies here: nothing was stored, nothing is marked
    assert not harness.emulator.requests_to("/api/feed/orders", "POST")
    assert len(harness.emulator.unmarked()) == len(harness.emulator.events)


def test_an_order_that_changes_after_its_mark_comes_back(harness):
    codes = seed(harness, 6)
    harness.pull()
    paid = next(c for c in codes if harness.emulator.orders[c]["paid_at"] is None)
    harness.emulator.cancel_order(paid)
    harness.time.advance(minutes=5)
    report = harness.pull()
    assert report.updated == 1
    assert {o.external_id: o for o in harness.stored_orders()}[paid].status is (
        OrderStatus.CANCELLED
    )


def test_an_unchanged_order_costs_no_detail_call(harness):
    seed(harness, 6)
    harness.pull()
    before = len(harness.emulator.requests_to("/api/v2/orders/"))
    harness.emulator.events += [dict(e, marked=False) for e in harness.emulator.events[-3:]]
    harness.pull()
    assert len(harness.emulator.requests_to("/api/v2/orders/")) == before


def test_a_dry_run_marks_nothing(harness):
    """requirement: a --dry-run changes nothing on the platform (the CLI sets the context)."""
    seed(harness, 5)
    harness.connector.context.dry_run = True
    harness.pull(dry_run=True)
    assert len(harness.emulator.requests_to("/api/feed/orders", "GET")) == 1
    assert not harness.emulator.requests_to("/api/feed/orders", "POST")


def test_with_mark_feed_off_one_answer_is_read_and_nothing_marked(emulator, time):
    h = make(emulator, time, mark_feed=False)
    seed(h, 5)
    h.pull()
    assert len(h.emulator.requests_to("/api/feed/orders", "GET")) == 1
    assert not h.emulator.requests_to("/api/feed/orders", "POST")
    assert len(h.stored_orders()) == 5
    h.connector.close()


def test_a_bad_payload_goes_to_the_quarantine_with_its_reason_and_is_marked(harness):
    """requirement: nothing is lost: the payload waits in the quarantine."""
    codes = seed(harness, 3)
    harness.emulator.update_order(codes[0], status="pago")
    harness.emulator.items[codes[1]][0]["quantity"] = "1.5"
    harness.time.advance(minutes=1)
    report = harness.pull()
    assert report.quarantined == 2 and report.new == 1
    with harness.store.session() as session:
        reasons = {q.external_id: q.error for q in quarantine.open_items(session, "vnda")}
    assert "unknown Vnda order status 'pago'" in reasons[codes[0]]
    assert "quantity" in reasons[codes[1]]
    assert not harness.emulator.unmarked()


def test_one_orders_failed_read_fails_that_order_and_the_feed_keeps_it(harness):
    """requirement: one order's reads failing fails that order only, as Mercado Livre's
    detail calls do (RawOrder.failure): a transient failure leaves it to the next run, and
    its events stay unmarked so the feed hands it over again; a refusal sends it to the
    quarantine with its reason (and is marked: the quarantine holds it); the neighbours are
    stored and marked."""
    codes = seed(harness, 4)
    harness.emulator.faults.add("status", status=503, times=6, path=f"/api/v2/orders/{codes[1]}")
    harness.emulator.faults.add("status", status=422, path=f"/api/v2/orders/{codes[2]}")

    report = harness.pull()

    assert (report.new, report.deferred, report.quarantined) == (2, 1, 1)
    assert {o.external_id for o in harness.stored_orders()} == {codes[0], codes[3]}
    with harness.store.session() as session:
        (item,) = quarantine.open_items(session, "vnda")
    assert item.external_id == codes[2]
    assert "a request for this order failed" in item.error and "HTTP 422" in item.error
    assert {e["code"] for e in harness.emulator.unmarked()} == {codes[1]}
    # its unmarked events came back in the next answer and were not read again this run
    assert len(harness.emulator.requests_to(f"/api/v2/orders/{codes[1]}")) == 6

    report = harness.pull()  # the fault is over: the feed still holds the deferred order

    assert (report.new, report.deferred) == (1, 0)
    assert {o.external_id for o in harness.stored_orders()} == {codes[0], codes[1], codes[3]}
    assert not harness.emulator.unmarked()


def test_with_the_dated_list_one_orders_failed_read_holds_the_cursor_not_the_run(emulator, time):
    h = make(emulator, time, orders_from="list")
    codes = seed(h, 4)
    h.emulator.faults.add(
        "status", status=503, times=6, path=f"/api/v2/orders/{codes[1]}/shipping_address"
    )

    report = h.pull()

    assert (report.new, report.deferred, report.cursor) == (3, 1, None)
    assert h.pull().new == 1  # the window is read again: the order arrives
    assert {o.external_id for o in h.stored_orders()} == set(codes)
    h.connector.close()


# -- the dated list ----------------------------------------------------------------------------


def test_the_dated_list_pages_with_x_pagination(emulator, time):
    h = make(emulator, time, orders_from="list", per_page=20)
    codes = seed(h, 70)
    report = h.pull()
    assert report.new == 70 and {o.external_id for o in h.stored_orders()} == set(codes)
    calls = h.emulator.requests_to("/api/v2/orders", "GET")
    listed = [c for c in calls if c.path == "/api/v2/orders"]
    assert [c.params.get("page") for c in listed] == ["1", "2", "3", "4"]
    assert all({"start", "finish"} <= set(c.params) for c in listed)
    # items come inline in the list: only the address is a detail call
    assert not h.emulator.requests_to("/api/v2/orders/", "GET") or all(
        c.path.endswith("/shipping_address")
        for c in h.emulator.requests_to("/api/v2/orders/", "GET")
    )
    assert not h.emulator.requests_to("/api/feed/orders")
    # the progress line counts listed orders of X-Pagination's total_count (issue 7, item 15)
    progress: list[tuple[int, int | None]] = []
    h.pull(since=h.time.now() - timedelta(days=3), on_page=lambda n, t: progress.append((n, t)))
    assert progress == [(20, 70), (20, 70), (20, 70), (10, 70)]
    h.connector.close()


def test_the_emulator_refuses_more_than_100_per_page(emulator):
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}", "X-Shop-Host": SHOP_HOST}
    with raw_client(emulator) as client:
        answer = client.get("/api/v2/orders", params={"per_page": 101}, headers=headers)
    assert answer.status_code == 422 and "per_page" in answer.json()["errors"]


# -- stock ---------------------------------------------------------------------------------------


def _stock_everything(h, quantity=7, skus=None):
    pull_listings(h.connector, h.store)
    with h.store.session() as session:
        for _, _, sku in h.emulator.listing_refs():
            if skus is None or sku in skus:
                products.upsert_product(session, sku, name=sku)
                ledger.set_on_hand(session, sku, "main", quantity)


def test_a_few_skus_go_one_call_each_with_their_answer(harness):
    _stock_everything(harness)
    report = push_stock(harness.connector, harness.store, safety_stock=0)
    assert report.failed == 0 and report.sent == len(harness.emulator.listing_refs())
    singles = harness.emulator.requests_to("/api/v2/variants/", "POST")
    assert all(r.path.endswith("/quantity") and r.params["quantity"] == "7" for r in singles)
    assert not harness.emulator.requests_to("/api/v2/variants/quantity")
    assert all(v["quantity"] == 7 for v in harness.emulator.variants())


def test_many_skus_go_in_a_batch_applied_later_and_read_back(emulator, time):
    h = make(emulator, time, batch_from=2)
    _stock_everything(h, quantity=4)
    report = push_stock(h.connector, h.store, safety_stock=0)
    assert report.pending == len(h.emulator.listing_refs())
    [batch] = h.emulator.requests_to("/api/v2/variants/quantity", "POST")
    assert {"sku": "CAM-P", "quantity": 4} in batch.json()
    assert h.emulator.stock_of(*h.emulator.listing_refs()[0][:2]) != 4  # not yet
    h.time.advance(minutes=2)  # Vnda's background job ran
    again = push_stock(h.connector, h.store, safety_stock=0)
    assert again.failed == 0
    assert all(v["quantity"] == 4 for v in h.emulator.variants())
    assert h.emulator.requests_to("/api/v2/products/")  # read back per product
    h.connector.close()


def test_a_sku_erpsync_does_not_know_is_never_written(harness):
    """requirement: a listing whose SKU erpsync does not know is never written (never zeroed)."""
    before = {v["sku"]: v["quantity"] for v in harness.emulator.variants()}
    _stock_everything(harness, quantity=0, skus={"CAM-P", "CAN-300"})
    push_stock(harness.connector, harness.store, safety_stock=0)
    written = {r.path.split("/")[4] for r in harness.emulator.requests_to("/api/v2/variants/")}
    assert written == {"CAM-P", "CAN-300"}
    after = {v["sku"]: v["quantity"] for v in harness.emulator.variants()}
    assert {s: q for s, q in after.items() if s not in written} == {
        s: q for s, q in before.items() if s not in written
    }


def test_a_refused_single_push_is_recorded_with_vndas_message(harness):
    ghost = StockUpdate(item_id="310", variation_id="NAO-EXISTE", sku="NAO-EXISTE", quantity=1)
    [result] = harness.connector.push_stock([ghost])
    assert not result.ok and "404" in result.error


def test_the_emulator_refuses_a_stock_call_without_quantity(emulator):
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}", "X-Shop-Host": SHOP_HOST}
    with raw_client(emulator) as client:
        answer = client.post("/api/v2/variants/CAM-P/quantity", headers=headers)
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "error",
        "message": "A quantity must be provided to update stock",
    }


# -- the rate limit ----------------------------------------------------------------------------


def test_the_bucket_is_respected_without_429(time):
    """requirement: 10 at once, then 2/s; the connector never overruns it."""
    emulator = VndaEmulator(seed=3, clock=time.now, sandbox_orders=0)
    h = make(emulator, time)
    for _ in range(60):
        h.connector.check()
    assert not [r for r in emulator.requests if r.status == 429]
    assert sum(time.slept) >= (60 - 10) / 2 - 1
    h.connector.close()


def test_the_emulator_answers_429_with_retry_after_when_overrun(emulator):
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}", "X-Shop-Host": SHOP_HOST}
    with raw_client(emulator) as client:
        answers = [client.get("/api/v2/products", headers=headers) for _ in range(11)]
    assert [a.status_code for a in answers][-1] == 429
    assert answers[-1].headers["Retry-After"]


def window_for(h):
    now = h.time.now()
    return Window(now - timedelta(days=2), now)


def test_variants_left_out_of_the_product_list_are_read_from_the_product(harness):
    harness.emulator.inline_variants = False
    listings = [x for batch in harness.connector.fetch_listings() for x in batch]
    assert {(x.item_id, x.variation_id) for x in listings} == {
        (i, v) for i, v, _ in harness.emulator.listing_refs()
    }
    assert len(harness.emulator.requests_to("/api/v2/products/")) == len(harness.emulator.products)
