"""AmazonConnector against AmazonEmulator: paging, checkpoints, auth, throttling, PII, stock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from erpsync.connector import (
    ConnectorContext,
    ConnectorSettings,
    NothingSeen,
    OrderPage,
    SeenOrders,
    Window,
)
from erpsync.connectors.amazon import AmazonConnector
from erpsync.connectors.amazon.emulator import AmazonEmulator
from erpsync.connectors.amazon.settings import AmazonCredentials, AmazonOptions
from erpsync.connectors.amazon.stock import FBA_REFUSED, FEED_CONTENT_TYPE
from erpsync.domain import OrderStatus, StockUpdate
from erpsync.errors import AuthError
from erpsync.http.retry import RetryPolicy
from erpsync.testing import FakeTime, build_harness

ORDERS = "/orders/v0/orders"
TOKEN = "/auth/o2/token"
MARKETPLACE = "A2Q3Y263D00KWC"


class SeenSet(SeenOrders):
    """SeenOrders holding (id, updated_at) pairs the store already has."""

    def __init__(self, current: dict[str, datetime]) -> None:
        self.current = current

    def is_current(self, external_id: str, updated_at: datetime | None) -> bool:
        return self.current.get(external_id) == updated_at


@pytest.fixture
def make(emu: AmazonEmulator, time: FakeTime) -> Iterator[Any]:
    """An AmazonConnector on the emulator (erpsync.testing.build_harness), options overridden."""
    made: list[Any] = []

    def build(**options: Any) -> AmazonConnector:
        harness = build_harness(AmazonConnector, emu, time, name="amz", options=options)
        made.append(harness)
        assert isinstance(harness.connector, AmazonConnector)
        return harness.connector

    yield build
    for harness in made:
        harness.connector.close()
        harness.store.close()


def seed(emu: AmazonEmulator, time: FakeTime, count: int) -> list[str]:
    now = time.now()
    ids = emu.seed_orders(count, start=now - timedelta(days=3), end=now - timedelta(hours=1))
    return ids


def pull(connector: AmazonConnector, time: FakeTime, seen: Any = None) -> list[OrderPage]:
    """fetch_orders over the last 4 days (the window ends now; the connector clamps it)."""
    window = Window(time.now() - timedelta(days=4), time.now())
    return list(connector.fetch_orders(window, seen or NothingSeen()))


def iso(when: datetime) -> str:
    return when.replace(microsecond=0).isoformat().replace("+00:00", "Z")


# -- orders ---------------------------------------------------------------------------------


def test_pages_with_next_token_repeating_the_filters_url_encoded(emu, time, make) -> None:
    """requirement: getOrders pages by NextToken (100 a page), every page repeats the filters
    (current model: NextToken does not affect the filters), and the token's +, / and = arrive
    intact (httpx URL-encodes params)."""
    ids = seed(emu, time, 230)
    now = time.now()
    pages = pull(make(), time)
    got = [raw.external_id for page in pages for raw in page.orders]
    assert sorted(got) == sorted(ids)
    calls = [dict(r.params) for r in emu.requests_to(ORDERS, "GET") if r.path == ORDERS]
    assert len(calls) == 3
    expected = {
        "MarketplaceIds": MARKETPLACE,
        "LastUpdatedAfter": iso(now - timedelta(days=4)),
        "LastUpdatedBefore": iso(now - timedelta(minutes=2)),
        "MaxResultsPerPage": "100",
    }
    tokens = [call.pop("NextToken", None) for call in calls]
    assert calls == [expected] * 3
    assert tokens[0] is None
    assert all(t and "+" in t and "/" in t and t.endswith("=") for t in tokens[1:])


def test_checkpoint_is_last_updated_before_on_the_last_page_only(emu, time, make) -> None:
    """requirement: LastUpdatedBefore is clamped to now - 2 min; the response's
    LastUpdatedBefore is the checkpoint, given only once every page is in (no time order)."""
    seed(emu, time, 150)
    now = time.now()
    pages = pull(make(restricted_data=False), time)
    assert [p.checkpoint for p in pages] == [None, now - timedelta(minutes=2)]


def test_empty_window_still_checkpoints(emu, time, make) -> None:
    """requirement: no orders -> one empty page carrying the checkpoint."""
    assert [(p.orders, p.checkpoint) for p in pull(make(), time)] == [
        ([], time.now() - timedelta(minutes=2))
    ]


def test_window_inside_the_settling_lag_asks_nothing(emu, time, make) -> None:
    """requirement: a window starting after now - 2 min sends no request Amazon would refuse,
    and its checkpoint keeps the cursor from jumping over the settling lag."""
    connector = make()
    window = Window(time.now() - timedelta(minutes=1), time.now())
    [page] = list(connector.fetch_orders(window, NothingSeen()))
    assert page.orders == [] and page.checkpoint == time.now() - timedelta(minutes=2)
    assert emu.requests_to(ORDERS) == []


def test_items_fetched_only_for_new_or_changed_orders(emu, time, make) -> None:
    """requirement: getOrderItems runs only for orders SeenOrders does not hold as current."""
    ids = seed(emu, time, 6)
    current = {i: emu.orders[i].updated for i in ids[:4]}
    pages = pull(make(), time, SeenSet(current))
    fetched = {r.path.split("/")[4] for r in emu.requests_to(ORDERS) if "orderItems" in r.path}
    assert fetched == set(ids[4:])
    assert {raw.external_id for p in pages for raw in p.orders} == set(ids[4:])


def test_order_items_page_by_their_own_next_token(emu, time, make) -> None:
    """requirement: getOrderItems pages by its own NextToken; every line is collected."""
    ids = seed(emu, time, 10)
    emu.items_page_size = 1
    multi = next(i for i in ids if len(emu.orders[i].items) == 3)
    raws = {r.external_id: r for p in pull(make(), time) for r in p.orders}
    assert [i["OrderItemId"] for i in raws[multi].payload["items"]] == [
        i["OrderItemId"] for i in emu.orders[multi].items
    ]
    calls = [r for r in emu.requests_to(f"{ORDERS}/{multi}/orderItems")]
    assert [c.params.get("NextToken") is not None for c in calls] == [False, True, True]


def test_payload_is_self_contained_and_maps(emu, time, make) -> None:
    """requirement: each RawOrder carries the order, its items and the RDT flag; every seeded
    status maps (FBA flagged, PII present with restricted_data)."""
    seed(emu, time, 10)
    connector = make()
    raws = [raw for page in pull(connector, time) for raw in page.orders]
    orders = [connector.map_order(raw.payload) for raw in raws]
    assert {o.channel_status for o in orders} == {
        "PendingAvailability",
        "Pending",
        "Unshipped",
        "PartiallyShipped",
        "Shipped",
        "InvoiceUnconfirmed",
        "Canceled",
        "Unfulfillable",
    }
    assert [o.fulfilled_by_channel for o in orders].count(True) == 1
    assert all(set(raw.payload) == {"order", "items", "restricted_data"} for raw in raws)
    shipped = [o for o in orders if o.status is OrderStatus.PAID]
    assert all(o.buyer.document and o.shipping_address.street for o in shipped)


def test_restricted_data_uses_one_rdt_for_the_order_list(emu, time, make) -> None:
    """requirement: restricted_data on -> one RDT for GET /orders/v0/orders (buyerInfo,
    shippingAddress) sent in x-amz-access-token on getOrders; items use the LWA token."""
    seed(emu, time, 120)
    pull(make(restricted_data=True), time)
    rdt_calls = emu.requests_to("/tokens/2021-03-01/restrictedDataToken", "POST")
    assert [c.json() for c in rdt_calls] == [
        {
            "restrictedResources": [
                {
                    "method": "GET",
                    "path": "/orders/v0/orders",
                    "dataElements": ["buyerInfo", "shippingAddress"],
                }
            ]
        }
    ]
    lists = [r for r in emu.requests_to(ORDERS, "GET") if r.path == ORDERS]
    items = [r for r in emu.requests_to(ORDERS, "GET") if r.path.endswith("/orderItems")]
    assert len(lists) == 2
    assert all(r.headers["x-amz-access-token"].startswith("Atz.sprdt|") for r in lists)
    assert all(r.headers["x-amz-access-token"].startswith("Atza|") for r in items)


def test_without_restricted_data_orders_import_with_the_reason(emu, time, make) -> None:
    """requirement: restricted_data off -> no RDT, no PII, the reason in Order.notes."""
    seed(emu, time, 3)
    connector = make(restricted_data=False)
    orders = [connector.map_order(r.payload) for p in pull(connector, time) for r in p.orders]
    assert emu.requests_to("/tokens/") == []
    assert all(o.buyer.name is None and o.shipping_address.street is None for o in orders)
    assert all("buyer and address withheld: restricted_data is off" in o.notes for o in orders)


def test_expired_token_403_refreshes_once(emu, time, make) -> None:
    """requirement: an expired LWA token comes back as 403 "...has expired." (not 401): the
    connector refreshes once and retries."""
    seed(emu, time, 3)
    connector = make(restricted_data=False)
    pull(connector, time)
    emu.expire_access_tokens()
    pages = pull(connector, time)
    assert len([r for p in pages for r in p.orders]) == 3
    assert len(emu.requests_to(TOKEN, "POST")) == 2
    refused = [r for r in emu.requests_to(ORDERS) if r.path == ORDERS]
    assert len(refused) == 3  # first pull, the 403, the retry


def test_access_token_is_cached_until_it_expires(emu, time, make) -> None:
    """requirement: one LWA call per hour of work, a new one after expires_in (3600 s)."""
    seed(emu, time, 2)
    connector = make(restricted_data=False)
    pull(connector, time)
    pull(connector, time)
    assert len(emu.requests_to(TOKEN)) == 1
    time.advance(minutes=61)
    pull(connector, time)
    assert len(emu.requests_to(TOKEN)) == 2


def test_other_403_names_the_missing_role(emu, time, make) -> None:
    """requirement: a 403 that is not an expiry is a permissions error naming the role."""
    emu.denied_operations.add("getOrders")
    with pytest.raises(AuthError) as raised:
        pull(make(restricted_data=False), time)
    assert str(raised.value) == (
        "amz GET /orders/v0/orders: access denied (HTTP 403 Unauthorized: Access to requested "
        "resource is denied.): the app lacks the Inventory and Order Tracking role or the seller "
        "has not authorised it; add the role to the app, then re-authorise: erpsync connectors "
        "authorize amz"
    )
    assert len(emu.requests_to(TOKEN)) == 1  # no refresh: it was not an expiry


def test_restricted_data_without_the_roles_names_them(emu, time, make) -> None:
    """requirement: an RDT refused with 403 says which restricted roles the app lacks."""
    emu.denied_operations.add("createRestrictedDataToken")
    with pytest.raises(AuthError) as raised:
        pull(make(restricted_data=True), time)
    assert str(raised.value) == (
        "amz POST /tokens/2021-03-01/restrictedDataToken: access denied (HTTP 403 Unauthorized: "
        "Access to requested resource is denied.): the app lacks the Direct-to-Consumer Shipping "
        "(Restricted) role for addresses and the Tax Invoicing or Tax Remittance (Restricted) "
        "role or the seller has not authorised it; "
        "add the role to the app, then re-authorise: erpsync connectors authorize amz"
    )


def test_revoked_refresh_token_is_an_auth_error(emu, time, make) -> None:
    """requirement: LWA invalid_grant (app revoked) -> AuthError asking to re-authorise."""
    emu.grant_revoked = True
    with pytest.raises(AuthError, match="re-authorise: erpsync connectors authorize amz"):
        make().check()


def test_quota_exceeded_is_survived(emu, time, make) -> None:
    """requirement: 429 QuotaExceeded (no Retry-After) is retried after a back-off."""
    seed(emu, time, 3)
    emu.faults.add("rate_limit", times=2, path=ORDERS)
    pages = pull(make(restricted_data=False), time)
    assert len([r for p in pages for r in p.orders]) == 3


def test_the_orders_bucket_paces_instead_of_being_throttled(emu, time, make) -> None:
    """requirement: getOrders is 0.0167 req/s, burst 20: the 21st call waits about a minute
    (simulated) and the emulator never answers 429."""
    connector = make(restricted_data=False)
    start = time.now()
    for _ in range(21):
        pull(connector, time)
    lists = [r for r in emu.requests_to(ORDERS) if r.path == ORDERS]
    assert len(lists) == 21
    waited = (time.now() - start).total_seconds()
    assert 59 <= waited <= 61


# -- listings -------------------------------------------------------------------------------


def test_listings_page_with_page_token_and_flag_fba(emu, time, make) -> None:
    """requirement: searchListingsItems pages 20 at a time by pageToken (filters repeated);
    every SKU is its own listing; a channel code other than DEFAULT is FBA."""
    for n in range(20):
        emu.listings[f"EXTRA-{n:02d}"] = {
            **emu.listings["CANECA-AZUL"],
            "sku": f"EXTRA-{n:02d}",
            "quantity": n,
        }
    batches = list(make().fetch_listings())
    listings = [x for batch in batches for x in batch]
    assert [len(b) for b in batches] == [20, 6]
    assert {x.item_id for x in listings} == set(emu.listings)
    assert all(x.variation_id is None and x.sku == x.item_id for x in listings)
    assert {x.sku for x in listings if x.fulfilled_by_channel} == {"FONE-BT-FBA"}
    calls = emu.requests_to("/listings/2021-08-01/items/")
    assert [c.params.get("pageToken") is not None for c in calls] == [False, True]
    for call in calls:
        assert call.params["marketplaceIds"] == MARKETPLACE
        assert call.params["includedData"] == "summaries,attributes,fulfillmentAvailability"
        assert call.params["pageSize"] == "20"


# -- stock ----------------------------------------------------------------------------------


def test_patch_push_is_accepted_pending_and_read_back(emu, time, make) -> None:
    """requirement: few updates -> one patchListingsItem each (replace fulfillment_availability,
    DEFAULT channel), ACCEPTED -> ok and pending; the SKU is URL-encoded in the path."""
    connector = make()
    updates = [
        StockUpdate(item_id="CANECA-AZUL", sku="CANECA-AZUL", quantity=7),
        StockUpdate(item_id="LUMINARIA/MESA 40cm", sku="LUMINARIA/MESA 40cm", quantity=0),
    ]
    results = connector.push_stock(updates)
    assert [(r.item_id, r.ok, r.pending, r.error) for r in results] == [
        ("CANECA-AZUL", True, True, None),
        ("LUMINARIA/MESA 40cm", True, True, None),
    ]
    assert (emu.stock_of("CANECA-AZUL"), emu.stock_of("LUMINARIA/MESA 40cm")) == (7, 0)
    patches = emu.requests_to("/listings/", "PATCH")
    assert patches[0].params == {"marketplaceIds": MARKETPLACE, "issueLocale": "pt_BR"}
    assert patches[0].json() == {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}],
            }
        ],
    }
    assert patches[1].path == "/listings/2021-08-01/items/A1SANDBOXSELLER/LUMINARIA/MESA 40cm"
    assert [r.ok for r in connector.verify_pending(updates)] == [True, True]


def test_patch_refusals_are_per_listing_results(emu, time, make) -> None:
    """requirement: INVALID -> ok=False with the issues' messages; an unknown SKU too; the
    other listings still go through."""
    emu.reject_skus["CANECA-AZUL"] = "The attributes are invalid."
    results = make().push_stock(
        [
            StockUpdate(item_id="CANECA-AZUL", sku="CANECA-AZUL", quantity=3),
            StockUpdate(item_id="NOPE", sku="NOPE", quantity=3),
            StockUpdate(item_id="PANO-PRATO-KIT3", sku="PANO-PRATO-KIT3", quantity=3),
        ]
    )
    assert [(r.ok, r.error) for r in results] == [
        (False, "90000900: The attributes are invalid."),
        (False, "NOT_FOUND: SKU 'NOPE' not found in the seller's catalog."),
        (True, None),
    ]
    assert emu.stock_of("CANECA-AZUL") == 40


def test_fba_listings_are_never_pushed(emu, time, make) -> None:
    """requirement: a SKU seen as FBA in listings is refused locally, no PATCH sent."""
    connector = make()
    list(connector.fetch_listings())
    results = connector.push_stock([StockUpdate(item_id="FONE-BT-FBA", quantity=1)])
    assert [(r.ok, r.error) for r in results] == [(False, FBA_REFUSED)]
    assert emu.requests_to("/listings/", "PATCH") == []
    assert emu.stock_of("FONE-BT-FBA") == 35


def test_feed_push_above_threshold_with_one_failing_sku(emu, time, make) -> None:
    """requirement: more updates than feed_threshold -> one JSON_LISTINGS_FEED: document,
    upload to the pre-signed URL without the SP-API token, createFeed, getFeed polled until
    DONE (sleeping in between), GZIP report read; an ERROR issue fails only its SKU."""
    emu.reject_skus["PANO-PRATO-KIT3"] = "'fulfillment_availability' is invalid."
    connector = make(feed_threshold=2, feed_poll_seconds=30)
    skus = ["CANECA-AZUL", "PANO-PRATO-KIT3", "CAMISETA-P-AZUL"]
    slept_before = list(time.slept)
    results = connector.push_stock(
        [StockUpdate(item_id=s, sku=s, quantity=n) for n, s in enumerate(skus, start=4)]
    )
    assert [(r.item_id, r.ok, r.pending, r.error) for r in results] == [
        ("CANECA-AZUL", True, False, None),
        ("PANO-PRATO-KIT3", False, False, "90000900: 'fulfillment_availability' is invalid."),
        ("CAMISETA-P-AZUL", True, False, None),
    ]
    assert [emu.stock_of(s) for s in skus] == [4, 60, 6]
    assert emu.requests_to("/listings/", "PATCH") == []
    upload = emu.requests_to("/s3/feed-documents/", "PUT")[0]
    assert "x-amz-access-token" not in upload.headers
    assert upload.headers["content-type"] == FEED_CONTENT_TYPE
    feed = json.loads(upload.body)
    assert feed["header"] == {
        "sellerId": "A1SANDBOXSELLER",
        "version": "2.0",
        "issueLocale": "pt_BR",
    }
    assert [(m["messageId"], m["sku"], m["operationType"]) for m in feed["messages"]] == [
        (1, "CANECA-AZUL", "PATCH"),
        (2, "PANO-PRATO-KIT3", "PATCH"),
        (3, "CAMISETA-P-AZUL", "PATCH"),
    ]
    create = emu.requests_to("/feeds/2021-06-30/feeds", "POST")[0].json()
    assert create["feedType"] == "JSON_LISTINGS_FEED"
    assert create["marketplaceIds"] == [MARKETPLACE]
    assert len(emu.requests_to("/feeds/2021-06-30/feeds/", "GET")) == 3
    assert time.slept[len(slept_before) :].count(30) == 2


def test_feed_still_processing_leaves_pushes_pending(emu, time, make) -> None:
    """requirement: polls are bounded; a feed not done in time is reported pending."""
    connector = make(feed_threshold=0, feed_max_polls=2)
    results = connector.push_stock([StockUpdate(item_id="CANECA-AZUL", quantity=1)])
    assert [(r.ok, r.pending) for r in results] == [(True, True)]
    assert len(emu.requests_to("/feeds/2021-06-30/feeds/", "GET")) == 2


def test_check_names_the_seller(emu, make) -> None:
    """requirement: check authenticates and says which seller and marketplace it sees."""
    assert make().check() == (
        "authenticated as seller A1SANDBOXSELLER on marketplace A2Q3Y263D00KWC (6 listings)"
    )


def test_sandbox_mode_runs_offline(time) -> None:
    """requirement: sandbox: true reaches the in-process emulator's seeded account."""
    emulator = AmazonEmulator()
    settings = ConnectorSettings(
        name="amz",
        type="amazon",
        credentials=AmazonCredentials(**emulator.credentials()),
        options=AmazonOptions(**emulator.options()),
        sandbox=True,
    )
    connector = AmazonConnector(settings, ConnectorContext(retry_policy=RetryPolicy.instant()))
    try:
        assert connector.check().startswith("authenticated as seller A1SANDBOXSELLER")
        now = connector.now()
        pages = list(connector.fetch_orders(Window(now - timedelta(days=8), now), NothingSeen()))
        assert len([r for p in pages for r in p.orders]) >= 9
    finally:
        connector.close()
