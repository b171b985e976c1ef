"""Olist ERP specifics against its emulator: OAuth rotation and consent, pacing from the
X-RateLimit headers with a share of the budget left free, searches that match by prefix, the
e-commerce registration that keeps the channel number, and the ERP's own orders."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from erpsync.connector import OrderSink
from erpsync.connectors.tiny import TinyConnector
from erpsync.connectors.tiny.emulator import TinyEmulator
from erpsync.connectors.tiny.emulator.app import TOKEN_PATH
from erpsync.domain import OrderStatus
from erpsync.engine.order_push import push_erp_orders
from erpsync.engine.stock_pull import pull_stock
from erpsync.store import erp as erp_store
from erpsync.store import ledger, products
from erpsync.testing import ErpContract, FakeTime, Harness, build_harness


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


def harness_for(emulator: TinyEmulator, time: FakeTime, **options: object) -> Harness:
    return build_harness(TinyConnector, emulator, time, name="erp", options=options)


class Orders(ErpContract):
    """The contract's helpers, used here outside pytest's collection."""

    connector_class = TinyConnector
    emulator_class = TinyEmulator


def test_the_rotated_refresh_token_is_stored_and_the_old_one_is_dead(time):
    """requirement: each refresh stores the new refresh token before it is used; the next
    connector (the next run) refreshes with the stored one."""
    emulator = TinyEmulator(seed=1, clock=time.now, sandbox_orders=0)
    h = harness_for(emulator, time)
    h.connector.check()
    stored = h.tokens.load("erp")
    assert stored is not None and stored.refresh_token != emulator.bootstrap_refresh_token
    emulator.expire_access_tokens()
    second = build_harness(
        TinyConnector, emulator, time, name="erp", tokens=h.tokens, store=h.store
    )
    assert second.connector.check().startswith("authenticated")
    assert h.tokens.load("erp").refresh_token != stored.refresh_token  # rotated again


def test_authorize_prints_the_keycloak_consent_and_trades_the_code(time):
    emulator = TinyEmulator(seed=1, clock=time.now, sandbox_orders=0)
    h = harness_for(emulator, time)
    url = h.connector.authorization_url("st4te")
    assert url.startswith(
        "https://accounts.tiny.com.br/realms/tiny/protocol/openid-connect/auth?response_type=code"
    )
    assert "client_id=erpsync-sandbox" in url and "scope=openid" in url and "state=st4te" in url
    said = h.connector.exchange_code(emulator.issue_code())
    assert said.startswith("authorised: Loja Exemplo")
    grant = emulator.requests_to(TOKEN_PATH)[0].form()
    assert grant["grant_type"] == "authorization_code"


def test_paces_from_the_headers_and_leaves_the_reserve_free(time):
    """requirement: erpsync never spends the share of the account's budget other apps need:
    no answer shows less than the reserve left, and no 429 is provoked."""
    emulator = TinyEmulator(seed=1, clock=time.now, sandbox_orders=0, reads_per_minute=20)
    h = harness_for(emulator, time, budget_reserve=0.3, requests_per_minute=60)
    skus = emulator.erp_skus() * 6
    for sku in skus:
        h.connector.product_ids.drop(sku)  # every SKU looked up again: many reads
        list(h.connector.fetch_stock([sku]))
    reads = [r for r in emulator.requests if r.method == "GET"]
    assert len(reads) > 40  # over two minutes of the budget
    assert all(r.status != 429 for r in emulator.requests)
    assert emulator.low_water["read"] >= math.ceil(20 * 0.3)


def test_a_prefix_match_never_answers_for_another_sku(time):
    """requirement: `GET /produtos?codigo=CAM-P` also finds CAM-P-10; only CAM-P counts."""
    emulator = TinyEmulator(seed=1, clock=time.now, sandbox_orders=0)
    h = harness_for(emulator, time)
    report = pull_stock(h.connector, h.store, skus=["CAM-P"])
    main = [lv for lv in report.levels if lv.location == "main"]
    assert [(lv.sku, lv.product_id, lv.available) for lv in main] == [
        ("CAM-P", "3001", emulator.erp_available("CAM-P"))
    ]


def test_a_registered_ecommerce_keeps_the_number_and_finds_by_it(time):
    """requirement: with the channel's e-commerce id, the ERP order carries
    numeroPedidoEcommerce and find_order is one search by it."""
    emulator = TinyEmulator(seed=1, clock=time.now, sandbox_orders=0)
    h = harness_for(emulator, time, ecommerce_ids={"shop": 101})
    (order,) = Orders().channel_orders(h, 1)
    push_erp_orders(h.connector, h.store)
    remote = Orders().remote_id(h, order)
    assert emulator.orders[int(remote)]["ecommerce"]["numeroPedidoEcommerce"] == order.number
    searches = len(emulator.requests_to("/pedidos", "GET"))
    assert OrderSink.of(h.connector).find_order(order) == remote
    assert len(emulator.requests_to("/pedidos", "GET")) == searches + 1


def sao_paulo(day: int, hour: int, minute: int) -> datetime:
    """A November 2026 time in São Paulo (UTC-3, no summer time), as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) + timedelta(hours=3)


@pytest.mark.parametrize("zone", [ZoneInfo("America/Sao_Paulo"), UTC], ids=["sao-paulo", "utc"])
@pytest.mark.parametrize(
    "pushed_at",
    [sao_paulo(2, 21, 30), sao_paulo(3, 1, 50)],
    ids=["after-21h-the-sale-s-day", "after-midnight-the-sale-at-23h50"],
)
def test_a_lost_create_is_found_not_duplicated_whichever_zone_the_days_are(zone, pushed_at, time):
    """requirement: without a registered e-commerce a lost create is found by buyer, creation
    day and numeroOrdemCompra. Tiny does not say whose day `GET /pedidos?dataInicial=` compares
    (nor whether the sale's `data` or the day the ERP stored it): a create at 21:30 in São
    Paulo is on UTC's next day, one after midnight on the day after the sale (at 23:50). The
    search spans from the sale to now on either reading: found, never created twice."""
    emulator = TinyEmulator(seed=1, clock=time.now, sandbox_orders=0, pedido_day_zone=zone)
    h = harness_for(emulator, time)
    time.set(pushed_at)
    (order,) = Orders().channel_orders(h, 1)  # sold two hours before the push
    emulator.faults.add("lost_answer", path=emulator.order_create_path, method="POST")
    report = push_erp_orders(h.connector, h.store)
    assert (report.found, report.created, report.unresolved) == (1, 0, 0), report.errors
    assert len(emulator.erp_orders_numbered(order.number or "")) == 1
    assert Orders().creates(h) == 1
    assert Orders().remote_id(h, order) == emulator.erp_orders_numbered(order.number or "")[0]
    search = [r for r in emulator.requests_to("/pedidos", "GET") if "dataInicial" in r.params]
    sale, now = order.created_at, time.now()
    assert (search[-1].params["dataInicial"], search[-1].params["dataFinal"]) == (
        sale.astimezone(ZoneInfo("America/Sao_Paulo")).date().isoformat(),
        now.date().isoformat(),  # UTC's day: the later one from 21:00 in São Paulo
    )


def test_cancelling_sends_the_integer_situacao(time):
    emulator = TinyEmulator(seed=1, clock=time.now, sandbox_orders=0)
    h = harness_for(emulator, time)
    (order,) = Orders().channel_orders(h, 1)
    push_erp_orders(h.connector, h.store)
    cancelled = order.model_copy(update={"status": OrderStatus.CANCELLED, "updated_at": time.now()})
    Orders.store_orders(h, [cancelled])
    assert push_erp_orders(h.connector, h.store).cancelled == 1
    (put,) = [r for r in emulator.requests if r.method == "PUT"]
    assert put.path.endswith("/situacao") and json.loads(put.body) == {"situacao": 2}


def test_import_orders_brings_the_hubs_orders_not_erpsyncs_own(time):
    """requirement: with import_orders, the ERP's own orders (Hub da Olist's) come in read
    only, their marketplace shown; the orders erpsync created there do not come back."""
    emulator = TinyEmulator(seed=1, clock=time.now, sandbox_orders=0)
    h = harness_for(emulator, time, import_orders=True)
    Orders().channel_orders(h, 2)
    push_erp_orders(h.connector, h.store)
    hub = emulator.erp_add_order("MLB-555", "CANECA", 1)
    time.advance(minutes=5)
    report = h.pull(since=time.now() - timedelta(days=1))
    assert report.new == 1
    (imported,) = h.stored_orders()
    assert imported.external_id == hub
    assert imported.channel_status == "Mercado Livre: Aprovada"
    with h.store.session() as session:
        assert hub not in erp_store.remote_ids(session, "erp")
    again = push_erp_orders(h.connector, h.store)
    assert again.created == 0 and emulator.erp_orders_numbered("MLB-555") == [hub]


def test_without_import_orders_nothing_is_pulled(time):
    emulator = TinyEmulator(seed=1, clock=time.now, sandbox_orders=0)
    h = harness_for(emulator, time, import_orders=False)
    emulator.erp_add_order("MLB-556", "CANECA", 1)
    assert h.pull().fetched == 0
    assert emulator.requests == []


def test_the_stock_sources_own_orders_move_no_local_stock(time):
    """requirement: when the ERP is stock.source, its imported orders (Hub da Olist's) book
    nothing in erpsync's ledger: the ERP made the baixa."""
    emulator = TinyEmulator(seed=1, clock=time.now, sandbox_orders=0)
    h = harness_for(emulator, time, import_orders=True)
    emulator.erp_add_order("MLB-557", "CANECA", 2)
    with h.store.session() as session:
        products.upsert_product(session, "CANECA", name="Caneca")
        ledger.set_on_hand(session, "CANECA", "main", 10)
    time.advance(minutes=5)
    assert h.pull(stock_effects=False).new == 1
    with h.store.session() as session:
        level = ledger.levels(session, ["main"])["CANECA"]
    assert (level.on_hand, level.reserved) == (10, 0)
