"""Mercado Livre connector against its emulator: auth rotation, order search, listings, stock."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from erpsync.connector import (
    NothingSeen,
    OrderPage,
    RateLimit,
    RawOrder,
    SeenOrders,
    Window,
)
from erpsync.connectors.mercadolivre import MercadoLivreConnector
from erpsync.connectors.mercadolivre.emulator import MercadoLivreEmulator
from erpsync.domain import OrderStatus, PushResult, StockUpdate, to_utc
from erpsync.emulation import EmulatorTransport
from erpsync.errors import AuthError, ConfigError, FatalError, RetriableError
from erpsync.http.auth import MemoryTokenStore
from erpsync.http.retry import RetryPolicy
from erpsync.testing import FakeTime, Harness, build_harness

#: long enough for any thread on a loaded machine; only reached when a test is broken
WAIT = 10.0

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=3), NOW)
SELLER = 241910555


class Seen(SeenOrders):
    """The store's view: these orders are stored with these update times."""

    def __init__(self, stored: dict[str, datetime]) -> None:
        self.stored = stored

    def is_current(self, external_id: str, updated_at: datetime | None) -> bool:
        return self.stored.get(external_id) == updated_at


class SmallCaps(MercadoLivreConnector):
    """The real connector with the caps the emulator is built with below."""

    search_cap = 100
    items_offset_cap = 100


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime(NOW)


@pytest.fixture
def emu(clock: FakeTime) -> MercadoLivreEmulator:
    return MercadoLivreEmulator(seed=1, clock=clock.now, sandbox_orders=0)


@pytest.fixture
def connect(
    emu: MercadoLivreEmulator, clock: FakeTime
) -> Iterator[Callable[..., MercadoLivreConnector]]:
    """A connector on the emulator (erpsync.testing.build_harness), settings overridden."""
    opened: list[Harness] = []

    def make(
        cls: type[MercadoLivreConnector] = MercadoLivreConnector,
        *,
        emulator: MercadoLivreEmulator | None = None,
        tokens: MemoryTokenStore | None = None,
        policy: RetryPolicy | None = None,
        credentials: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> MercadoLivreConnector:
        harness = build_harness(
            cls,
            emulator or emu,
            clock,
            name="ml",
            tokens=tokens if tokens is not None else MemoryTokenStore(),
            credentials=credentials,
            options=options,
            retry_policy=policy or RetryPolicy.instant(),
        )
        opened.append(harness)
        assert isinstance(harness.connector, cls)
        return harness.connector

    yield make
    for harness in opened:
        harness.connector.close()
        harness.store.close()


def fetched(connector: MercadoLivreConnector, window: Window = WINDOW, seen: Any = None) -> list:
    pages = connector.fetch_orders(window, seen or NothingSeen())
    return [raw for page in pages for raw in page.orders]


def seed(emu: MercadoLivreEmulator, count: int) -> list[str]:
    return emu.seed_orders(count, start=WINDOW.start, end=WINDOW.end - timedelta(minutes=1))


def searches(emu: MercadoLivreEmulator) -> list[dict[str, str]]:
    return [r.params for r in emu.requests_to("/orders/search")]


# -- auth ------------------------------------------------------------------------------------------


def test_first_call_refreshes_with_a_form_body_and_persists_the_rotated_token(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: the config refresh token is used once, in a form body, and the rotated
    one is stored before the access token is used."""
    tokens = MemoryTokenStore()
    assert (
        connect(tokens=tokens).check() == f"authenticated as seller {SELLER} (LOJA_ERPSYNC_TESTE)"
    )
    (token_call,) = emu.requests_to("/oauth/token")
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert token_call.headers["accept"] == "application/json"
    assert token_call.query == {}
    assert token_call.form()["grant_type"] == "refresh_token"
    assert token_call.form()["refresh_token"] == emu.bootstrap_refresh_token
    stored = tokens.load("ml")
    assert stored is not None and stored.refresh_token not in (None, emu.bootstrap_refresh_token)
    assert stored.expires_at == NOW + timedelta(seconds=21600)
    (me,) = emu.requests_to("/users/me")
    assert me.headers["authorization"] == f"Bearer {stored.access_token}"


def test_an_expired_token_gets_401_and_exactly_one_refresh(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: a 401 refreshes once, the request is replayed, the new tokens are stored."""
    tokens = MemoryTokenStore()
    connector = connect(tokens=tokens)
    connector.check()
    first = tokens.load("ml")
    emu.expire_access_tokens()
    connector.check()
    assert [r.status for r in emu.requests_to("/users/me")] == [200, 401, 200]
    assert len(emu.requests_to("/oauth/token")) == 2
    second = tokens.load("ml")
    assert first is not None and second is not None
    assert second.refresh_token != first.refresh_token
    assert tokens.saves["ml"] == 2


def test_a_used_refresh_token_is_invalid_grant_with_a_reauthorise_message(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: a rejected refresh token ends in a clear "re-authorise" error."""
    connect().check()  # uses (and so burns) the config refresh token
    with pytest.raises(AuthError) as caught:
        connect(tokens=MemoryTokenStore()).check()
    assert str(caught.value) == (
        "ml POST /oauth/token: the refresh token was rejected (invalid_grant: Error validating "
        "grant. Your authorization code or refresh token may be expired or it was already used)"
        "; re-authorise: erpsync connectors authorize ml"
    )


def test_two_runs_sharing_the_store_adopt_each_others_rotation(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: a second process with stale tokens adopts the stored rotation instead of
    reusing a dead refresh token (which would lose the account)."""
    tokens = MemoryTokenStore()
    first, second = connect(tokens=tokens), connect(tokens=tokens)
    first.check()
    second.check()  # loads what the first stored: no second refresh
    emu.expire_access_tokens()
    first.check()  # refreshes and stores
    second.check()  # 401 with its stale token: adopts the stored one
    assert [r.status for r in emu.requests_to("/oauth/token")] == [200, 200]
    assert [r.status for r in emu.requests_to("/users/me")] == [200, 200, 401, 200, 401, 200]


def test_concurrent_refreshes_rotate_once_and_nobody_reuses_a_dead_token(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: two runs hitting an expired token at once refresh single-flight."""
    tokens = MemoryTokenStore()
    runs = [connect(tokens=tokens) for _ in range(4)]
    for run in runs:
        run.check()
    emu.expire_access_tokens()
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda run: run.check(), runs))
    assert answers == [f"authenticated as seller {SELLER} (LOJA_ERPSYNC_TESTE)"] * 4
    assert [r.status for r in emu.requests_to("/oauth/token")] == [200, 200]


def test_a_token_of_another_seller_than_configured_is_a_config_error(
    connect: Callable[..., MercadoLivreConnector],
) -> None:
    """requirement: options.seller_id must be the account the token belongs to."""
    with pytest.raises(ConfigError) as caught:
        connect(options={"seller_id": 42}).check()
    assert str(caught.value) == (
        f"connectors.ml.options.seller_id: 42, but the token belongs to seller {SELLER}"
    )


def test_requests_per_second_raises_this_accounts_buckets_only(
    connect: Callable[..., MercadoLivreConnector],
) -> None:
    """requirement: conservative default buckets; an app with a granted quota can raise them."""
    default, raised = connect(), connect(options={"requests_per_second": 25})
    assert default.limits() == {
        "default": RateLimit(rate=10.0, burst=20),
        "stock": RateLimit(rate=5.0, burst=10),
    }
    assert raised.limits() == {
        "default": RateLimit(rate=25.0, burst=50),
        "stock": RateLimit(rate=12.5, burst=25),
    }
    assert raised.limiter("stock").rate == 12.5
    assert MercadoLivreConnector.rate_limits == default.limits()


def test_authorize_builds_the_brazil_consent_url_and_exchanges_the_code(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: `connectors authorize` gets a consent URL and trades the code for tokens."""
    tokens = MemoryTokenStore()
    connector = connect(tokens=tokens, credentials={"refresh_token": None})
    url = connector.authorization_url("xyz 1")
    assert url == (
        "https://auth.mercadolivre.com.br/authorization?response_type=code"
        "&client_id=sandbox-app"
        "&redirect_uri=https%3A%2F%2Ferpsync.example%2Fmercadolivre%2Fcallback&state=xyz+1"
    )
    code = emu.issue_code()
    assert connector.exchange_code(code) == f"authorised as seller {SELLER} (LOJA_ERPSYNC_TESTE)"
    form = emu.requests_to("/oauth/token")[0].form()
    assert form["grant_type"] == "authorization_code"
    assert (form["code"], form["redirect_uri"]) == (code, emu.redirect_uri)
    assert tokens.load("ml") is not None
    with pytest.raises(AuthError, match="the authorization code was rejected"):
        connector.exchange_code(code)  # codes are single-use too


def test_without_refresh_token_or_redirect_uri_the_messages_say_what_to_do(
    connect: Callable[..., MercadoLivreConnector],
) -> None:
    """requirement: missing setup reads as an instruction, not a stack trace."""
    connector = connect(credentials={"refresh_token": None}, options={"redirect_uri": None})
    with pytest.raises(AuthError, match="no refresh token: re-authorise: erpsync connectors"):
        connector.check()
    with pytest.raises(ConfigError, match=r"connectors\.ml\.options\.redirect_uri: required"):
        connector.authorization_url("s")


def test_seller_id_comes_from_the_token_response_without_users_me(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: without options.seller_id the seller is whoever authorised the app, as
    ML's token response says (its user_id): a pull makes no GET /users/me."""
    seed(emu, 3)
    assert len(fetched(connect(options={"seller_id": None}))) == 3
    assert len(emu.requests_to("/oauth/token")) == 1
    assert emu.requests_to("/users/me") == []
    assert {p["seller"] for p in searches(emu)} == {str(SELLER)}


def test_the_seller_is_stored_with_the_tokens_so_a_later_run_asks_nobody(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement (issue 11): the seller the token response named is stored beside the
    tokens, so a run that loads still-valid stored tokens needs no token call and no GET
    /users/me: a quiet pull is its two searches."""
    tokens = MemoryTokenStore()
    connect(tokens=tokens).http.oauth.current_tokens()  # another run refreshed and stored
    stored = tokens.load("ml")
    assert stored is not None and stored.account == str(SELLER)

    assert fetched(connect(tokens=tokens, options={"seller_id": None})) == []

    assert len(emu.requests_to("/oauth/token")) == 1
    assert emu.requests_to("/users/me") == []
    assert [p["seller"] for p in searches(emu)] == [str(SELLER)] * 2
    assert [p.get("order.status") for p in searches(emu)] == [None, "cancelled"]


def test_tokens_stored_without_their_seller_ask_users_me_once(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: tokens stored before erpsync kept the seller (a database upgraded in
    place) still work: the seller is asked for once, GET /users/me, until the next refresh
    names it."""
    seed(emu, 3)
    tokens = MemoryTokenStore()
    connect(tokens=tokens).http.oauth.current_tokens()
    stored = tokens.load("ml")
    assert stored is not None
    tokens.save("ml", replace(stored, account=None), seed=stored.seed)
    assert len(fetched(connect(tokens=tokens, options={"seller_id": None}))) == 3
    assert len(emu.requests_to("/oauth/token")) == 1
    assert len(emu.requests_to("/users/me")) == 1
    assert {p["seller"] for p in searches(emu)} == {str(SELLER)}


def test_a_configured_seller_id_the_stored_seller_contradicts_is_refused(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: the stored seller counts as the token response's word: a configured
    seller_id it contradicts is refused before any search, without asking ML."""
    tokens = MemoryTokenStore()
    connect(tokens=tokens).http.oauth.current_tokens()
    with pytest.raises(ConfigError, match=f"42, but the token belongs to seller {SELLER}$"):
        fetched(connect(tokens=tokens, options={"seller_id": 42}))
    assert len(emu.requests_to("/oauth/token")) == 1
    assert searches(emu) == []
    assert emu.requests_to("/users/me") == []


def test_a_configured_seller_id_the_token_response_contradicts_is_refused(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: options.seller_id must be the account the token belongs to; a pull
    refuses it on the token response's word, before searching another seller's orders."""
    seed(emu, 3)
    with pytest.raises(ConfigError) as caught:
        fetched(connect(options={"seller_id": 42}))
    assert str(caught.value) == (
        f"connectors.ml.options.seller_id: 42, but the token belongs to seller {SELLER}"
    )
    assert searches(emu) == []
    assert emu.requests_to("/users/me") == []


# -- orders ----------------------------------------------------------------------------------------


def test_pages_across_the_50_boundary_then_pulls_cancelled_orders(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: offset paging of 50 to paging.total, sorted date_asc, ISO dates with an
    offset; a second pass with order.status=cancelled brings the orders the search hides."""
    ids = seed(emu, 120)
    raws = fetched(connect())
    assert sorted(raw.external_id for raw in raws) == sorted(ids)
    calls = searches(emu)
    assert [(p.get("order.status"), p["offset"], p["limit"]) for p in calls] == [
        (None, "0", "50"),
        (None, "50", "50"),
        (None, "100", "50"),
        ("cancelled", "0", "50"),
    ]
    assert calls[0]["sort"] == "date_asc"
    assert calls[0]["order.date_last_updated.from"] == "2026-10-30T12:00:00.000-03:00"
    assert calls[0]["order.date_last_updated.to"] == "2026-11-02T12:00:00.000-03:00"
    cancelled = [r for r in raws if r.payload["order"]["status"] == "cancelled"]
    assert len(cancelled) == 8 and all(r in raws[-8:] for r in cancelled)


def test_the_cancelled_search_is_read_together_with_the_default_one_and_comes_after_it(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement (issue 11 section 1): once answers take a platform's round trip, the
    cancelled-orders search does not wait for the default search's last page (its first
    page is read while the default search's first is still held); the pages still come in
    one order, the default search's then the cancelled search's, each order once."""
    cancelled_read = threading.Event()
    waited: list[bool] = []

    class Watched(MercadoLivreConnector):
        def _search_orders(
            self, window: Window, status: str | None, rereads: int = 0
        ) -> Iterator[Any]:
            for page in super()._search_orders(window, status, rereads):
                if status == "cancelled":
                    cancelled_read.set()
                else:  # the default search's pages wait until the cancelled search has read
                    waited.append(cancelled_read.wait(WAIT))
                yield page

    ids = seed(emu, 120)
    connector = connect(Watched)
    connector.http.round_trips.record(0.3)  # answers take a real platform's 300 ms
    pages = list(connector.fetch_orders(WINDOW, NothingSeen()))
    assert waited == [True, True, True]
    assert [(p.listed, p.listing_total) for p in pages] == [
        (50, 112),
        (50, None),
        (12, None),
        (8, 8),
    ]
    raws = [raw for page in pages for raw in page.orders]
    assert sorted(raw.external_id for raw in raws) == sorted(ids)
    assert all(raw.payload["order"]["status"] == "cancelled" for raw in raws[-8:])


def test_pages_tell_how_many_orders_the_search_listed_of_its_total_for_the_progress_line(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement (issue 7, item 15): the first page of each search carries paging.total,
    and every page how many records it listed, stored ones included, so a pull where nothing
    changed still counts through to the total (an ETA), with no order to import."""
    ids = seed(emu, 120)
    connector = connect()
    pages = list(connector.fetch_orders(WINDOW, NothingSeen()))
    assert [(p.listed, p.listing_total) for p in pages] == [
        (50, 112),
        (50, None),
        (12, None),
        (8, 8),
    ]
    stored = {raw.external_id: raw.updated_at for p in pages for raw in p.orders}
    assert sorted(stored) == sorted(ids)
    again = list(connector.fetch_orders(WINDOW, Seen(stored)))
    assert [(len(p.orders), p.listed, p.listing_total) for p in again] == [
        (0, 50, 112),
        (0, 50, None),
        (0, 12, None),
        (0, 8, 8),
    ]


def test_one_request_at_a_time_a_page_is_committed_before_the_next_is_read_then_freed(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement (issue 11 section 2, memory): with answers coming at once (no fan-out),
    a page goes to the engine as soon as its details are in, before the next search page is
    read, and nothing keeps it once committed: one page of payloads alive at a time during a
    pull, not two or three (the search's first page is not held to its end either)."""
    from erpsync.engine.pull import pull_orders
    from erpsync.store import open_store

    seed(emu, 120)
    connector = connect()
    yielded_after: list[int] = []  # search requests made when each page was yielded
    given: list[weakref.ref[RawOrder]] = []
    alive_at_search: list[int] = []  # earlier pages' orders still alive at each search
    fetch_orders, request = connector.fetch_orders, connector.http.request

    def fetch(window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        for page in fetch_orders(window, seen):
            yielded_after.append(len(searches(emu)))
            given.extend(weakref.ref(raw) for raw in page.orders)
            yield page
            del page  # the engine's to keep or not

    def watched(method: str, path: str, **kwargs: Any) -> httpx.Response:
        if path == "/orders/search":
            alive_at_search.append(sum(ref() is not None for ref in given))
        return request(method, path, **kwargs)

    connector.fetch_orders = fetch  # type: ignore[method-assign]
    connector.http.request = watched  # type: ignore[method-assign]
    store = open_store("sqlite://")
    try:
        report = pull_orders(connector, store, since=WINDOW.start)
    finally:
        store.close()
    assert report.new == 120
    assert yielded_after == [1, 2, 3, 4]  # the default search's 3 pages, the cancelled one
    assert alive_at_search == [0, 0, 0, 0]


def test_a_window_matching_more_than_the_offset_cap_is_split_before_paging_past_it(
    clock: FakeTime, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: paging.total over the cap splits the window (recursively); no request
    ever asks past the cap, and every order arrives once."""
    emu = MercadoLivreEmulator(seed=1, clock=clock.now, sandbox_orders=0, search_cap=100)
    ids = seed(emu, 330)
    raws = fetched(connect(SmallCaps, emulator=emu))
    assert sorted(raw.external_id for raw in raws) == sorted(ids)
    assert {r.status for r in emu.requests_to("/orders/search")} == {200}
    assert all(int(p["offset"]) + int(p["limit"]) <= 100 for p in searches(emu))
    windows = {(p["order.date_last_updated.from"], p.get("order.status")) for p in searches(emu)}
    assert len(windows) > 4  # the default pass needed more than one split


def test_the_emulator_refuses_offsets_past_the_cap_in_mls_envelope(
    clock: FakeTime, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: a connector that ignored the cap would fail loudly, not lose orders."""
    emu = MercadoLivreEmulator(seed=1, clock=clock.now, sandbox_orders=0, search_cap=100)
    connector = connect(emulator=emu)
    with pytest.raises(FatalError) as caught:
        connector.request("GET", "/orders/search", params={"seller": SELLER, "offset": 60})
    assert str(caught.value) == (
        "ml GET /orders/search: HTTP 400: Invalid offset: offset + limit must be at most 100 "
        "(bad_request)"
    )


def test_detail_calls_only_for_new_or_changed_orders(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: orders the store already has at this update time are skipped entirely."""
    ids = seed(emu, 5)
    connector = connect()
    stored = {r.external_id: r.updated_at for r in fetched(connector) if r.updated_at}
    emu.requests.clear()
    clock_changed = ids[2]
    emu.update_order(clock_changed, shipment_status="shipped")
    raws = fetched(connector, Window(WINDOW.start, NOW + timedelta(minutes=1)), Seen(stored))
    assert [raw.external_id for raw in raws] == [clock_changed]
    details = [r.path for r in emu.requests if not r.path.startswith("/orders/search")]
    order = emu.orders[int(clock_changed)]
    # the two detail calls go out together: their order of arrival is not part of the contract
    assert sorted(details) == sorted(
        [
            f"/shipments/{order['shipping']['id']}",
            f"/orders/billing-info/MLB/{order['buyer']['billing_info']['id']}",
        ]
    )
    assert connector.map_order(raws[0].payload).status == OrderStatus.SHIPPED


def test_a_failing_detail_call_fails_only_the_order_that_needed_it(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: the page's detail calls go out together; one that keeps failing marks
    its own order (RawOrder.failure), and the neighbours come complete, in search order."""
    ids = seed(emu, 4)
    broken = emu.orders[int(ids[1])]
    refused = emu.orders[int(ids[2])]
    emu.faults.add("status", status=503, times=20, path=f"/shipments/{broken['shipping']['id']}")
    emu.faults.add(
        "status",
        status=400,
        path=f"/orders/billing-info/MLB/{refused['buyer']['billing_info']['id']}",
    )
    raws = fetched(connect(policy=RetryPolicy.instant(attempts=3)))
    assert [raw.external_id for raw in raws] == ids
    assert [type(raw.failure) for raw in raws] == [
        type(None),
        RetriableError,
        FatalError,
        type(None),
    ]
    assert all(raws[n].payload["shipment"] and raws[n].payload["billing_info"] for n in (0, 3))


def test_order_payload_is_self_contained_and_maps(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: the payload carries the order, billing info and shipment (new format),
    so quarantine replay needs no I/O; a pack's shared shipment is fetched once."""
    seed(emu, 15)
    connector = connect()
    raws = {raw.external_id: raw for raw in fetched(connector)}
    assert all(set(raw.payload) == {"order", "billing_info", "shipment"} for raw in raws.values())
    shipment_calls = emu.requests_to("/shipments/")
    assert all(r.headers.get("x-format-new") == "true" for r in shipment_calls)
    assert len(shipment_calls) == 14  # 15 orders, two of them a pack sharing a shipment
    orders = {i: connector.map_order(raw.payload) for i, raw in raws.items()}
    pack = [o for o in orders.values() if "pack_id" in o.extra]
    assert len(pack) == 2 and pack[0].extra["pack_id"] == pack[1].extra["pack_id"]
    assert [o.channel_status for o in orders.values() if o.fulfilled_by_channel] == [
        "paid",
        "payment_in_process",
    ]
    assert {o.channel_status for o in orders.values()} == {
        "paid",
        "cancelled",
        "payment_required",
        "partially_refunded",
        "confirmed",
        "payment_in_process",
        "partially_paid",
        "pending_cancel",
        "invalid",
    }
    assert all(o.buyer.document for o in orders.values())
    # ML masks the destination until payment (the zip comes once the order is paid)
    unpaid = {"confirmed", "payment_required", "payment_in_process", "partially_paid"}
    assert all(
        bool(o.shipping_address.zip) is (o.channel_status not in unpaid) for o in orders.values()
    )
    # the version is the newer of the two update fields, which differ for some orders
    assert all(
        raw.updated_at
        == max(to_utc(raw.payload["order"][key]) for key in ("date_last_updated", "last_updated"))
        for raw in raws.values()
    )
    assert any(
        raw.payload["order"]["date_last_updated"] != raw.payload["order"]["last_updated"]
        for raw in raws.values()
    )


def test_a_missing_billing_info_maps_with_a_note(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: a detail ML answers 404 for does not stop the pull."""
    seed(emu, 1)
    emu.billing.clear()
    connector = connect()
    (raw,) = fetched(connector)
    assert raw.payload["billing_info"] is None
    assert connector.map_order(raw.payload).notes == (
        "buyer document not available: the order has no billing info",
    )


def test_429_without_retry_after_and_500_are_survived_with_jittered_backoff(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: `local_rate_limited` (usually no Retry-After) backs off with jitter."""
    ids = seed(emu, 3)
    waits: list[float] = []
    policy = RetryPolicy(sleep=waits.append, limiter_sleep=lambda _s: None, jitter=True)
    connector = connect(policy=policy)
    connector.check()
    emu.faults.add("rate_limit", times=2, path="/orders/search")
    emu.faults.add("status", status=503, path="/shipments/")
    assert sorted(raw.external_id for raw in fetched(connector)) == sorted(ids)
    limited = [r for r in emu.requests_to("/orders/search") if r.status == 429]
    assert len(limited) == 2
    # full jitter: uniform in [0, ceiling]; ceilings 0.5, 1.0 for the 429s, 0.5 for the 503
    assert len(waits) == 3
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(waits, [0.5, 1.0, 0.5], strict=True))
    response = emu.rate_limit_response(None)
    assert "retry-after" not in response.headers
    assert response.body == (
        b'{"message":"local_rate_limited","error":"local_rate_limited","status":429,"cause":[]}'
    )


def test_emulator_search_hides_cancelled_unless_asked_and_filters_by_offset_dates(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: the emulator behaves like ML's search (so connector bugs show)."""
    seed(emu, 15)
    connector = connect()
    base = {"seller": SELLER, "limit": 50, "offset": 0}
    default = connector.request("GET", "/orders/search", params=base).json()
    cancelled = connector.request(
        "GET", "/orders/search", params={**base, "order.status": "cancelled"}
    ).json()
    assert "cancelled" not in {o["status"] for o in default["results"]}
    assert {o["status"] for o in cancelled["results"]} == {"cancelled"}
    assert default["paging"]["total"] + cancelled["paging"]["total"] == 15
    middle = sorted(o["date_last_updated"] for o in default["results"])[5]
    later = connector.request(
        "GET", "/orders/search", params={**base, "order.date_last_updated.from": middle}
    ).json()
    assert later["paging"]["total"] == default["paging"]["total"] - 5
    assert middle.endswith("Z")


def test_emulator_answers_bad_tokens_with_mls_401_envelope(
    emu: MercadoLivreEmulator,
) -> None:
    """requirement: invalid or expired bearer tokens get ML's 401 body."""
    with httpx.Client(transport=EmulatorTransport(emu.app), base_url="http://ml.test") as client:
        response = client.get("/users/me", headers={"Authorization": "Bearer APP_USR-nope"})
        query_token = client.get("/users/me", params={"access_token": "APP_USR-nope"})
    assert response.status_code == query_token.status_code == 401
    assert response.json() == {
        "message": "invalid_token",
        "error": "not_found",
        "status": 401,
        "cause": [],
    }


# -- listings and stock --------------------------------------------------------------------


def test_listings_with_variations_full_and_legacy_sku(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: one listing per variation with its SELLER_SKU; Full flagged; multiget
    asks include_attributes=all."""
    listings = [x for batch in connect().fetch_listings() for x in batch]
    assert [(x.ref, x.sku, x.fulfilled_by_channel) for x in listings] == [
        ("MLB3100000001:180000000011", "CAM-PRETO-P", False),
        ("MLB3100000001:180000000012", "CAM-PRETO-M", False),
        ("MLB3100000001:180000000013", "CAM-BRANCO-G", False),
        ("MLB3100000002", "CAN-350", False),
        ("MLB3100000003", "FONE-BT", True),
        ("MLB3100000004", "GAR-1L", False),
    ]
    assert [(x.item_id, x.variation_id, x.sku) for x in listings] == emu.listing_refs()
    (multiget,) = emu.requests_to("/items", "GET")
    assert multiget.params["include_attributes"] == "all"


def test_a_catalogue_past_the_offset_cap_is_read_with_scan_and_scroll_id(
    clock: FakeTime, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: past 1000 items (here 100) ML wants search_type=scan + scroll_id; the
    multiget takes at most 20 ids."""
    emu = MercadoLivreEmulator(seed=1, clock=clock.now, sandbox_orders=0, items_offset_cap=100)
    emu.add_items(230)
    listings = [x for batch in connect(SmallCaps, emulator=emu).fetch_listings() for x in batch]
    assert len({x.ref for x in listings}) == len(listings) == 236
    scans = [r.params for r in emu.requests_to(f"/users/{SELLER}/items/search")]
    assert scans[0] == {"offset": "0", "limit": "50"}
    assert [p.get("scroll_id") is not None for p in scans[1:]] == [False, True, True, True]
    assert all(p["search_type"] == "scan" for p in scans[1:])
    multigets = [r.params["ids"].split(",") for r in emu.requests_to("/items", "GET")]
    assert max(len(ids) for ids in multigets) == 20


def test_stock_push_sends_every_variation_of_an_item_in_one_put(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: variations go in one PUT; ones not being set are kept (by id), never
    dropped; plain items take available_quantity; the emulator then reports the new stock."""
    results = connect().push_stock(
        [
            StockUpdate(item_id="MLB3100000001", variation_id="180000000011", quantity=3),
            StockUpdate(item_id="MLB3100000002", quantity=0),
            StockUpdate(item_id="MLB3100000001", variation_id="180000000013", quantity=9),
        ]
    )
    assert results == [
        PushResult(item_id="MLB3100000001", variation_id="180000000011", ok=True),
        PushResult(item_id="MLB3100000002", ok=True),
        PushResult(item_id="MLB3100000001", variation_id="180000000013", ok=True),
    ]
    puts = {r.path: r.json() for r in emu.requests_to("/items/", "PUT")}
    assert puts == {
        "/items/MLB3100000001": {
            "variations": [
                {"id": 180000000011, "available_quantity": 3},
                {"id": 180000000012},
                {"id": 180000000013, "available_quantity": 9},
            ]
        },
        "/items/MLB3100000002": {"available_quantity": 0},
    }
    assert [emu.stock_of("MLB3100000001", v) for v in ("180000000011", "180000000012")] == [3, 8]
    assert (emu.stock_of("MLB3100000001", "180000000013"), emu.stock_of("MLB3100000002")) == (9, 0)


def test_per_item_failures_are_results_with_mls_message(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: a refused item is PushResult(ok=False, error=<ML message>); the others go."""
    emu.faults.add("status", status=400, path="/items/MLB3100000004")
    results = connect().push_stock(
        [
            StockUpdate(item_id="MLB3100000004", quantity=5),
            StockUpdate(item_id="MLB3100000003", quantity=5),
            StockUpdate(item_id="MLB3100000001", variation_id="999", quantity=5),
            StockUpdate(item_id="MLB3199999999", quantity=5),
            StockUpdate(item_id="MLB3100000002", quantity=5),
        ]
    )
    assert [(r.ok, r.error) for r in results] == [
        (False, "HTTP 400: injected failure (bad_request)"),
        (False, "Full listing: Mercado Livre's warehouse holds its stock"),
        (False, "variation 999 is not on item MLB3100000001"),
        (False, "item MLB3199999999 not found on Mercado Livre"),
        (True, None),
    ]
    assert emu.stock_of("MLB3100000002") == 5
    assert emu.stock_of("MLB3100000004") == 15


@pytest.mark.parametrize(
    ("status", "raised"), [(403, None), (401, AuthError)], ids=["403-one-item", "401-run"]
)
def test_a_403_on_one_item_fails_that_item_but_a_401_stops_the_push(
    emu: MercadoLivreEmulator,
    connect: Callable[..., MercadoLivreConnector],
    status: int,
    raised: type[Exception] | None,
) -> None:
    """requirement: an item ML forbids is a failed result; rejected credentials raise."""
    connector = connect()
    connector.check()
    emu.faults.add("status", status=status, path="/items/MLB3100000002", times=2)
    update = StockUpdate(item_id="MLB3100000002", quantity=5)
    if raised is None:
        (result,) = connector.push_stock([update])
        assert (result.ok, result.error) == (False, "HTTP 403: injected failure (bad_request)")
    else:
        with pytest.raises(raised, match="HTTP 401: injected failure"):
            connector.push_stock([update])


def test_emulator_deletes_variations_a_put_leaves_out_as_the_docs_warn(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: a connector that sent a partial variations array would show it."""
    connector = connect()
    connector.request(
        "PUT",
        "/items/MLB3100000001",
        json={"variations": [{"id": 180000000011, "available_quantity": 1}]},
    )
    assert emu.stock_of("MLB3100000001", "180000000011") == 1
    assert emu.stock_of("MLB3100000001", "180000000012") is None
    with pytest.raises(FatalError) as caught:
        connector.request("PUT", "/items/MLB3100000003", json={"available_quantity": 1})
    assert str(caught.value) == (
        "ml PUT /items/MLB3100000003: HTTP 400: Validation error (validation_error): "
        "The stock of a fulfillment (Full) item is managed by Mercado Livre"
    )


def test_token_request_never_carries_secrets_in_the_url(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: grant parameters go in the body, never the query (php-sdk#39)."""
    connect().check()
    (call,) = emu.requests_to("/oauth/token")
    url = urlsplit(f"http://x{call.path}")
    assert parse_qs(url.query) == {} and call.query == {}


def test_a_refused_multiget_fails_its_items_not_the_whole_push(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: one bad item id (a mistyped manual link) fails its own result; the other
    items are still pushed."""
    connector = connect()
    connector.check()
    connector.multiget_size = 1  # one multiget per item, so only the bad one is refused
    emu.faults.add("status", status=400, path="/items", times=1)
    results = connector.push_stock(
        [
            StockUpdate(item_id="MLB-TYPO", quantity=1),
            StockUpdate(item_id="MLB3100000002", quantity=4),
        ]
    )
    assert [r.ok for r in results] == [False, True]
    assert emu.stock_of("MLB3100000002") == 4


def test_an_order_updated_mid_search_does_not_make_another_one_skipped(
    emu: MercadoLivreEmulator, clock: FakeTime, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: the search pages by offset over a live result. When an order read on page
    1 is updated (it leaves the window), every later order shifts back by one and the one at
    the page boundary would be skipped; paging.total shows it, so the search is read again."""
    ids = seed(emu, 120)
    connector = connect()
    stored: dict[str, datetime] = {}
    seen = Seen(stored)
    delivered: list[str] = []
    window = Window(WINDOW.start, NOW)
    for number, page in enumerate(connector.fetch_orders(window, seen)):
        for raw in page.orders:
            delivered.append(raw.external_id)
            stored[raw.external_id] = raw.updated_at  # as the engine commits each page
        if number == 0:
            clock.advance(minutes=1)
            emu.update_order(page.orders[0].external_id)  # now outside the window
    assert set(delivered) == set(ids)
    assert len(delivered) == len(set(delivered))


# -- the platform's documented quirks (issue 12) ---------------------------------------------------


def test_emulator_orders_carry_both_update_fields_and_the_search_filters_on_date_last_updated(
    emu: MercadoLivreEmulator, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: as in the documented search result, an order has `date_last_updated`
    (UTC, "Z") and `last_updated` (with an offset), and they can differ; the search filters on
    date_last_updated."""
    seed(emu, 15)
    connector = connect()
    body = connector.request(
        "GET", "/orders/search", params={"seller": SELLER, "limit": 50, "offset": 0}
    ).json()
    orders = body["results"]
    assert all(o["date_last_updated"].endswith("Z") for o in orders)
    assert all(o["last_updated"].endswith("-03:00") for o in orders)
    differing = [o for o in orders if to_utc(o["date_last_updated"]) != to_utc(o["last_updated"])]
    assert differing and all(
        to_utc(o["last_updated"]) < to_utc(o["date_last_updated"]) for o in differing
    )
    # a window holding only such an order's date_last_updated still finds it
    target = differing[0]
    moment = to_utc(target["date_last_updated"])
    found = connector.request(
        "GET",
        "/orders/search",
        params={
            "seller": SELLER,
            "order.date_last_updated.from": moment.isoformat(),
            "order.date_last_updated.to": moment.isoformat(),
        },
    ).json()
    assert [o["id"] for o in found["results"]] == [target["id"]]


def test_a_pending_order_paid_later_is_read_again_though_only_date_last_updated_moved(
    emu: MercadoLivreEmulator, clock: FakeTime, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: paying moves date_last_updated only (last_updated stays); the next pull
    reads the order again and it becomes paid. Filtering on last_updated lost it silently."""
    seed(emu, 15)
    connector = connect()
    stored = {r.external_id: r.updated_at for r in fetched(connector)}
    pending = next(i for i, o in emu.orders.items() if o["status"] == "payment_required")
    before = emu.orders[pending]["last_updated"]
    clock.advance(hours=1)
    emu.pay_order(str(pending))
    assert emu.orders[pending]["last_updated"] == before
    later = Window(NOW, NOW + timedelta(hours=2))
    raws = fetched(connector, later, Seen(dict(stored)))
    assert [raw.external_id for raw in raws] == [str(pending)]
    assert raws[0].updated_at == clock.now()
    assert connector.map_order(raws[0].payload).status == OrderStatus.PAID


def test_the_destination_is_masked_until_payment_and_filled_when_the_paid_order_is_read_again(
    emu: MercadoLivreEmulator, clock: FakeTime, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement: before payment the shipment's destination shows "XXXXXXX" (shipments
    page); the unpaid order still maps (its reservation is made), without the masked fields
    and with a note; paid and read again, the address is complete."""
    seed(emu, 15)
    connector = connect()
    raws = {raw.external_id: raw for raw in fetched(connector)}
    pending = next(i for i, o in emu.orders.items() if o["status"] == "payment_required")
    raw = raws[str(pending)]
    destination = raw.payload["shipment"]["destination"]["shipping_address"]
    assert destination["zip_code"] == "XXXXXXX" and destination["street_name"] == "XXXXXXX"
    unpaid = connector.map_order(raw.payload)
    assert unpaid.status == OrderStatus.PENDING
    assert unpaid.shipping_address.zip is None and unpaid.shipping_address.city
    assert any("hidden by Mercado Livre until the order is paid" in n for n in unpaid.notes)
    clock.advance(hours=1)
    emu.pay_order(str(pending))
    (again,) = fetched(connector, Window(NOW, NOW + timedelta(hours=2)))
    paid = connector.map_order(again.payload)
    assert paid.status == OrderStatus.PAID
    assert paid.shipping_address.zip and paid.shipping_address.street
    assert not any("hidden" in n for n in paid.notes)


def test_rg_buyers_and_a_later_payment_move_stock_through_the_engine(
    emu: MercadoLivreEmulator, clock: FakeTime, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement (issue 12, end to end): buyers identified by RG quarantine nothing and
    their orders book stock; a pending order paid later (only date_last_updated moves) turns
    its reservation into a *baixa* on the next pull."""
    from erpsync.engine.pull import pull_orders
    from erpsync.store import ledger, open_store, products

    seed(emu, 15)
    for billing in emu.billing.values():
        billing["buyer"]["billing_info"]["identification"] = {"type": "RG", "number": "123456789"}
    pending = next(i for i, o in emu.orders.items() if o["status"] == "payment_required")
    (sku,) = [line["item"]["seller_sku"] for line in emu.orders[pending]["order_items"]]
    store = open_store("sqlite://")
    try:
        with store.session() as session:
            for code in ("CAN-350", "CAM-PRETO-P", "CAM-PRETO-M", "CAM-BRANCO-G", "FONE-BT"):
                products.upsert_product(session, code, name=code)
                ledger.set_on_hand(session, code, "main", 50)
        connector = connect()
        first = pull_orders(connector, store, since=WINDOW.start)
        assert first.quarantined == 0 and first.new == 15

        def level() -> tuple[int, int]:
            with store.session() as session:
                found = ledger.levels(session, ["main"], [sku])[sku]
            return found.on_hand, found.reserved

        assert level() == (50, 1)
        clock.advance(hours=1)
        emu.pay_order(str(pending))
        second = pull_orders(connector, store)
        assert (second.quarantined, second.updated) == (0, 1)
        assert level() == (49, 0)
    finally:
        store.close()


def test_no_item_search_answer_is_held_while_the_next_page_is_read(
    clock: FakeTime, connect: Callable[..., MercadoLivreConnector]
) -> None:
    """requirement (issue 11 section 2, memory): the item search's first answer tells the
    total, but once read it is not kept to the end of the catalogue, nor any page's answer
    while the next page is requested."""
    emu = MercadoLivreEmulator(seed=1, clock=clock.now, sandbox_orders=0)
    emu.add_items(230)
    connector = connect(emulator=emu)
    search = f"/users/{SELLER}/items/search"
    answers: list[weakref.ref[httpx.Response]] = []
    alive_at_search: list[int] = []  # earlier item search answers alive at each search
    request = connector.http.request

    def watched(method: str, path: str, **kwargs: Any) -> httpx.Response:
        if path != search:
            return request(method, path, **kwargs)
        alive_at_search.append(sum(ref() is not None for ref in answers))
        response = request(method, path, **kwargs)
        answers.append(weakref.ref(response))
        return response

    connector.http.request = watched  # type: ignore[method-assign]
    listings = [x for batch in connector.fetch_listings() for x in batch]
    assert len(listings) == 236
    assert len(alive_at_search) == 5
    assert alive_at_search == [0, 0, 0, 0, 0]
