"""The Nuvemshop connector against its emulator: headers, paging, the default list's blind
spot, tokens, stock pushes and the leaky bucket."""

from datetime import timedelta

import httpx
import pytest

from erpsync.connector import NothingSeen, Window
from erpsync.connectors.nuvemshop import NuvemshopConnector
from erpsync.connectors.nuvemshop.emulator import NuvemshopEmulator
from erpsync.connectors.nuvemshop.emulator.app import STORE_ID
from erpsync.domain import OrderStatus, StockUpdate
from erpsync.emulation import EmulatorTransport
from erpsync.engine.listings import pull_listings
from erpsync.engine.push import push_stock
from erpsync.errors import AuthError, ConfigError
from erpsync.http.auth import Tokens
from erpsync.store import ledger, open_store, products
from erpsync.store.tables import Credential
from erpsync.store.tokens import SqlTokenStore
from erpsync.testing import FakeTime, build_harness


@pytest.fixture
def time():
    return FakeTime()


@pytest.fixture
def emulator(time):
    return NuvemshopEmulator(seed=3, clock=time.now, sandbox_orders=0)


@pytest.fixture
def harness(emulator, time):
    h = build_harness(NuvemshopConnector, emulator, time, name="ns")
    yield h
    h.connector.close()
    h.store.close()


def seed(h, count):
    now = h.time.now()
    ids = h.emulator.seed_orders(count, start=now - timedelta(days=1), end=now)
    h.time.advance(minutes=5)
    return ids


def test_every_call_carries_the_user_agent_and_the_authentication_header(harness):
    seed(harness, 3)
    harness.pull()
    calls = harness.emulator.requests_to(f"/{STORE_ID}/orders")
    assert calls
    for call in calls:
        assert call.headers["user-agent"] == "erpsync sandbox (ti@example.com.br)"
        assert call.headers["authentication"] == "bearer sandbox-token"
        assert "authorization" not in call.headers
        assert call.params["per_page"] == "50"
        assert {"updated_at_min", "updated_at_max"} <= set(call.params)


def test_the_emulator_refuses_a_request_without_user_agent(emulator):
    with httpx.Client(transport=EmulatorTransport(emulator.app), base_url="http://x") as c:
        request = c.build_request(
            "GET", f"/v1/{STORE_ID}/orders", headers={"Authentication": "bearer sandbox-token"}
        )
        del request.headers["user-agent"]
        assert c.send(request).status_code == 400


def test_follows_the_link_header_across_pages(harness):
    ids = seed(harness, 120)
    report = harness.pull()
    assert report.new == 120
    assert {o.external_id for o in harness.stored_orders()} == set(ids)
    pages = [r for r in harness.emulator.requests_to(f"/{STORE_ID}/orders") if "page" in r.params]
    assert pages, "page 2 and on come from the Link header"


def test_the_pull_counts_listed_orders_of_x_total_count_for_its_progress_line(harness):
    """requirement (issue 7, item 15): each listing's X-Total-Count reaches the engine's
    progress callback, and orders already stored count as listed, so a pull with nothing
    new still counts to the total."""
    seed(harness, 120)
    since = harness.time.now() - timedelta(days=2)
    for run in ("first", "again"):
        calls: list[tuple[int, int | None]] = []

        def record(listed: int, total: int | None, calls=calls) -> None:
            calls.append((listed, total))

        harness.pull(since=since, on_page=record)
        listed = sum(n for n, _ in calls)
        assert calls[-1][1] == listed >= 120, (run, calls)
        assert calls[0][1] is not None and calls[0][1] >= 50, run


def test_a_refunded_order_is_seen_although_the_default_list_hides_it(harness):
    """requirement: payment_status=any means pending/authorized/paid only; a refund must arrive."""
    ids = seed(harness, 3)
    harness.pull()
    paid = next(o for o in harness.stored_orders() if o.status is OrderStatus.PENDING)
    harness.emulator.update_order(paid.external_id, payment_status="refunded")
    harness.time.advance(minutes=5)
    harness.pull()
    after = {o.external_id: o for o in harness.stored_orders()}
    assert after[paid.external_id].status is OrderStatus.CANCELLED
    assert len(after) == len(ids)
    filters = {
        r.params.get("payment_status") for r in harness.emulator.requests_to(f"/{STORE_ID}/orders")
    }
    assert {"voided", "refunded", "abandoned"} <= filters


def test_an_empty_window_is_not_an_error(harness):
    """requirement: the 404 "Last page is 0" of an empty list is an empty result."""
    now = harness.time.now()
    pages = list(
        harness.connector.fetch_orders(Window(now - timedelta(hours=1), now), NothingSeen())
    )
    assert pages == []
    assert any(r.status == 404 for r in harness.emulator.requests)


def test_versions_are_deduplicated_within_a_pull(harness):
    seed(harness, 12)  # the kinds include cancelled+paid, listed by the default list only
    now = harness.time.now()
    window = Window(now - timedelta(days=2), now)
    seen = [
        r.external_id
        for p in harness.connector.fetch_orders(window, NothingSeen())
        for r in p.orders
    ]
    assert len(seen) == len(set(seen)) == 12


def test_a_revoked_token_says_how_to_reauthorise(harness):
    seed(harness, 2)
    harness.pull()
    harness.emulator.expire_access_tokens()
    with pytest.raises(AuthError, match="connectors authorize ns"):
        harness.connector.check()


def test_authorize_trades_the_code_and_stores_token_and_store(emulator, time):
    h = build_harness(NuvemshopConnector, emulator, time, name="ns")
    creds = h.connector.credentials.model_copy(update={"access_token": None})
    h.connector.settings = type(h.connector.settings)(
        **{**h.connector.settings.__dict__, "credentials": creds}
    )
    url = h.connector.authorization_url("xyz")
    assert url == "https://www.nuvemshop.com.br/apps/4321/authorize?state=xyz"
    said = h.connector.exchange_code(emulator.issue_authorization_code())
    assert str(STORE_ID) in said
    stored = h.tokens.load("ns")
    assert stored.access_token and stored.refresh_token is None
    assert stored.account == str(STORE_ID) and stored.seed is None
    fresh = NuvemshopConnector(h.connector.settings, h.connector.context)
    assert "authenticated" in fresh.check()
    token_call = emulator.requests_to("/apps/authorize/token")[0]
    assert token_call.form()["grant_type"] == "authorization_code"
    fresh.close()
    h.connector.close()


def _without_configured_token(h):
    creds = h.connector.credentials.model_copy(update={"access_token": None})
    settings = type(h.connector.settings)(**{**h.connector.settings.__dict__, "credentials": creds})
    return NuvemshopConnector(settings, h.connector.context)


@pytest.mark.parametrize(
    ("store_id", "works"), [(STORE_ID, True), (STORE_ID + 1, False)], ids=["same", "other"]
)
def test_a_token_stored_before_the_account_column_still_names_its_store(
    emulator, time, tmp_path, store_id, works
):
    """requirement: a token `connectors authorize` stored before the store had an `account`
    column (its store as `seed: user_id:<id>`) keeps working, and is still refused for
    another store_id."""
    store = open_store(f"sqlite:///{tmp_path / 'erpsync.db'}")
    tokens = SqlTokenStore(store)
    h = build_harness(
        NuvemshopConnector,
        emulator,
        time,
        name="ns",
        store=store,
        tokens=tokens,
        options={"store_id": store_id},
    )
    access = h.connector.credentials.access_token.get_secret_value()
    with store.session() as session:  # the row as the earlier release wrote it
        session.add(Credential(connector="ns", access_token=access, seed=f"user_id:{STORE_ID}"))
    assert tokens.load("ns").account is None
    connector = _without_configured_token(h)
    if works:
        assert "authenticated" in connector.check()
    else:
        with pytest.raises(ConfigError, match=f"granted for store {STORE_ID}"):
            connector.check()
    connector.close()
    h.connector.close()
    store.close()


def test_a_token_for_another_store_is_refused_before_any_request(emulator, time):
    """requirement: a stored token granted for a store other than options.store_id is a
    config error naming both."""
    h = build_harness(NuvemshopConnector, emulator, time, name="ns")
    h.tokens.save("ns", Tokens(access_token="t", account=str(STORE_ID + 1)), seed=None)
    connector = _without_configured_token(h)
    with pytest.raises(ConfigError, match=f"granted for store {STORE_ID + 1}"):
        connector.check()
    connector.close()
    h.connector.close()


def test_the_code_lives_30_seconds(harness, emulator):
    code = emulator.issue_authorization_code()
    harness.time.advance(seconds=31)
    with pytest.raises(AuthError, match="30 s"):
        harness.connector.exchange_code(code)


def test_no_token_at_all_is_a_config_error(emulator, time):
    h = build_harness(NuvemshopConnector, emulator, time, name="ns")
    creds = h.connector.credentials.model_copy(update={"access_token": None})
    settings = type(h.connector.settings)(**{**h.connector.settings.__dict__, "credentials": creds})
    connector = NuvemshopConnector(settings, h.connector.context)
    with pytest.raises(ConfigError, match="connectors authorize ns"):
        connector.check()
    connector.close()
    h.connector.close()


def _stock_everything(h, quantity=7):
    pull_listings(h.connector, h.store)
    with h.store.session() as session:
        for _, _, sku in h.emulator.listing_refs():
            products.upsert_product(session, sku, name=sku)
            ledger.set_on_hand(session, sku, "main", quantity)


def test_stock_goes_by_stock_price_and_never_by_put_variants(harness):
    _stock_everything(harness)
    report = push_stock(harness.connector, harness.store, safety_stock=0)
    assert report.failed == 0 and report.sent == len(harness.emulator.listing_refs())
    assert not harness.emulator.requests_to(f"/{STORE_ID}/products/", "PUT")
    patches = harness.emulator.requests_to(f"/{STORE_ID}/products/stock-price", "PATCH")
    assert all(sum(len(p["variants"]) for p in r.json()) <= 50 for r in patches)
    for item, variation, _ in harness.emulator.listing_refs():
        assert harness.emulator.stock_of(item, variation) == 7


def test_a_variant_without_known_sku_is_never_written(harness):
    _stock_everything(harness)
    unknown = next(v for v in harness.emulator.variants() if not v["sku"])
    push_stock(harness.connector, harness.store, safety_stock=0)
    assert unknown["stock"] == 100
    sent = {
        v["id"]
        for r in harness.emulator.requests_to(f"/{STORE_ID}/products/stock-price")
        for p in r.json()
        for v in p["variants"]
    }
    assert unknown["id"] not in sent


def test_a_half_applied_batch_is_recorded_per_variant(harness):
    refs = harness.emulator.listing_refs()
    harness.emulator.failing_variants.add(int(refs[0][1]))
    updates = [StockUpdate(item_id=i, variation_id=v, sku=s, quantity=3) for i, v, s in refs]
    results = harness.connector.push_stock(updates)
    assert [r.ok for r in results] == [False] + [True] * (len(refs) - 1)
    assert "not applied" in results[0].error


def test_more_than_50_variants_go_in_several_requests(harness):
    refs = harness.emulator.listing_refs()
    updates = [
        StockUpdate(item_id=refs[n % len(refs)][0], variation_id=refs[n % len(refs)][1], quantity=n)
        for n in range(120)
    ]
    harness.connector.push_stock(updates)
    patches = harness.emulator.requests_to(f"/{STORE_ID}/products/stock-price", "PATCH")
    assert [sum(len(p["variants"]) for p in r.json()) for r in patches] == [50, 50, 20]


def test_the_emulator_refuses_51_variants(emulator):
    refs = emulator.listing_refs()
    body = [{"id": int(refs[0][0]), "variants": [{"id": int(refs[0][1]), "stock": 1}] * 51}]
    with httpx.Client(transport=EmulatorTransport(emulator.app), base_url="http://x") as c:
        answer = c.patch(
            f"/v1/{STORE_ID}/products/stock-price",
            json=body,
            headers={"Authentication": "bearer sandbox-token"},
        )
    assert answer.status_code == 422
    assert answer.json()["description"] == "Too many variants sent for update"


def test_multi_inventory_pushes_inventory_levels_to_the_configured_location(time):
    emulator = NuvemshopEmulator(
        seed=3, clock=time.now, sandbox_orders=0, locations=("LOC-A", "LOC-B")
    )
    h = build_harness(NuvemshopConnector, emulator, time, name="ns")
    h.connector.settings = type(h.connector.settings)(
        **{
            **h.connector.settings.__dict__,
            "options": h.connector.options.model_copy(update={"location_id": "LOC-B"}),
        }
    )
    item, variation, sku = emulator.listing_refs()[0]
    [result] = h.connector.push_stock(
        [StockUpdate(item_id=item, variation_id=variation, sku=sku, quantity=4)]
    )
    assert result.ok
    variant = next(v for v in emulator.variants() if str(v["id"]) == variation)
    assert {lv["location_id"]: lv["stock"] for lv in variant["inventory_levels"]}["LOC-B"] == 4
    sent = emulator.requests_to(f"/{STORE_ID}/products/stock-price")[0].json()
    assert "stock" not in sent[0]["variants"][0]
    h.connector.close()


def test_the_leaky_bucket_is_respected_without_429(time):
    """requirement: 40 requests, then 2/s; the connector never overflows the bucket."""
    emulator = NuvemshopEmulator(seed=3, clock=time.now, sandbox_orders=0)
    h = build_harness(NuvemshopConnector, emulator, time, name="ns")
    for _ in range(100):
        h.connector.check()
    assert not [r for r in emulator.requests if r.status == 429]
    assert sum(time.slept) >= (100 - 40) / 2 - 1
    h.connector.close()
