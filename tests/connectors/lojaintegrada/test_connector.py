"""The Loja Integrada connector against its emulator: the key-pair header, meta.next paging,
since_atualizado in local time, detail calls only for new versions, situações resolved once,
the per-store limit, stock one PUT per produto, tracking, refusals."""

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from erpsync.connector import NothingSeen, Window
from erpsync.connectors.lojaintegrada import LojaIntegradaConnector
from erpsync.connectors.lojaintegrada.emulator import LojaIntegradaEmulator
from erpsync.connectors.lojaintegrada.emulator import seed as emulator_seed
from erpsync.domain import OrderStatus, StockUpdate, TrackingUpdate
from erpsync.emulation import EmulatorTransport
from erpsync.engine.listings import pull_listings
from erpsync.engine.push import push_stock
from erpsync.errors import AuthError
from erpsync.store import cursors, ledger, products, quarantine
from erpsync.testing import FakeTime, build_harness

EMULATOR = Path(__file__).resolve().parents[3] / "connectors" / "lojaintegrada" / "emulator"


@pytest.fixture
def time():
    return FakeTime()


@pytest.fixture
def emulator(time):
    return LojaIntegradaEmulator(seed=3, clock=time.now, sandbox_orders=0)


@pytest.fixture
def harness(emulator, time):
    h = build_harness(LojaIntegradaConnector, emulator, time, name="li")
    yield h
    h.connector.close()
    h.store.close()


def seed(h, count, days=1):
    now = h.time.now()
    ids = h.emulator.seed_orders(count, start=now - timedelta(days=days), end=now)
    h.time.advance(minutes=5)
    return ids


def test_every_call_carries_the_key_pair_header(harness):
    seed(harness, 3)
    harness.pull()
    calls = harness.emulator.requests_to("/v1/")
    assert calls
    for call in calls:
        assert call.headers["authorization"] == (
            "chave_api sandbox-chave-api aplicacao sandbox-chave-aplicacao"
        )
        assert "chave_api" not in call.params  # the current spec takes the header only


def test_search_sends_since_atualizado_in_local_time_and_limit_50(harness):
    seed(harness, 3)
    harness.pull(since=harness.time.now() - timedelta(hours=30))
    (search, *_) = harness.emulator.requests_to("/v1/pedido/search")
    # FakeTime starts 2026-11-02 15:00 UTC (+5 min); the window starts 30 h (+ overlap) earlier
    assert search.params["since_atualizado"].startswith("2026-11-01T")
    assert (
        "+" not in search.params["since_atualizado"]
        and "Z" not in search.params["since_atualizado"]
    )
    assert search.params["limit"] == "50"


def test_follows_meta_next_across_pages(harness):
    ids = seed(harness, 120)
    report = harness.pull()
    assert report.new == 120
    searches = harness.emulator.requests_to("/v1/pedido/search")
    assert [s.params.get("offset", "0") for s in searches[:3]] == ["0", "50", "100"]
    # meta.next keeps the filters
    assert all("since_atualizado" in s.params for s in searches)
    assert {o.external_id for o in harness.stored_orders()} == set(ids)


def test_the_pull_counts_listed_orders_of_meta_total_count_for_its_progress_line(harness):
    """requirement (issue 7, item 15): the search's `meta.total_count` reaches the engine's
    progress callback, and unchanged orders count as listed, so a pull with nothing new
    still counts through to the total."""
    seed(harness, 120)
    since = harness.time.now() - timedelta(days=2)
    for run in ("first", "again"):
        calls: list[tuple[int, int | None]] = []

        def record(listed: int, total: int | None, calls=calls) -> None:
            calls.append((listed, total))

        harness.pull(since=since, on_page=record)
        assert calls[0][1] == 120, (run, calls)
        # the engine's confirmation pass of an offset-paged search is a listing of its own:
        # it adds its records to both sides
        assert sum(n for n, _ in calls) == calls[-1][1] == 240, (run, calls)


def test_the_emulator_serves_at_most_50_and_says_so(emulator):
    emulator.seed_orders(60, start=emulator.clock() - timedelta(days=1), end=emulator.clock())
    auth = {"Authorization": "chave_api sandbox-chave-api aplicacao sandbox-chave-aplicacao"}
    with httpx.Client(transport=EmulatorTransport(emulator.app), base_url="http://x") as c:
        page = c.get("/v1/pedido/search/", params={"limit": 100}, headers=auth).json()
    assert page["meta"]["limit"] == 50 and len(page["objects"]) == 50
    assert page["meta"]["next"].startswith("/api/v1/pedido/search?")
    assert "itens" not in page["objects"][0]  # summaries only


def test_the_full_order_is_read_once_per_new_version_and_never_when_unchanged(harness):
    ids = seed(harness, 5)
    harness.pull()
    details = harness.emulator.requests_to("/v1/pedido/1")
    assert len(details) == 5
    harness.pull(since=harness.time.now() - timedelta(days=2))
    assert len(harness.emulator.requests_to("/v1/pedido/1")) == 5  # nothing changed
    harness.emulator.update_order(ids[0])
    harness.time.advance(minutes=5)
    report = harness.pull()
    assert report.updated == 1
    assert len(harness.emulator.requests_to("/v1/pedido/1")) == 6


def test_situacoes_are_read_once_per_run(harness):
    seed(harness, 20)
    harness.pull()
    harness.pull(since=harness.time.now() - timedelta(days=2))
    assert len(harness.emulator.requests_to("/v1/situacao")) == 1


def test_a_situacao_given_as_a_uri_is_resolved_through_the_list(harness):
    (numero,) = seed(harness, 1)
    harness.emulator.update_order(numero, situacao="/api/v1/situacao/15")
    harness.time.advance(minutes=5)
    harness.pull()
    (order,) = harness.stored_orders()
    assert order.channel_status == "pedido_em_separacao" and order.status is OrderStatus.PAID


def test_a_cancellation_arrives_as_an_update(harness):
    ids = seed(harness, 4)
    harness.pull()
    harness.emulator.cancel_order(ids[3])
    harness.time.advance(minutes=5)
    assert harness.pull().updated == 1
    cancelled = {o.external_id: o for o in harness.stored_orders()}[ids[3]]
    assert cancelled.status is OrderStatus.CANCELLED


def test_a_bad_payload_goes_to_the_quarantine_with_its_reason(harness):
    ids = seed(harness, 3)
    harness.emulator.update_order(ids[1], itens=[{"sku": "CAN-300", "quantidade": "1.50"}])
    harness.time.advance(minutes=5)
    report = harness.pull()
    assert report.newly_quarantined == 1 and report.new == 2
    with harness.store.session() as session:
        (item,) = quarantine.open_items(session, "li")
    assert item.external_id == ids[1]
    assert "quantity" in item.error and "1.50" in item.error


def test_one_orders_failed_read_fails_that_order_not_the_run(harness):
    """requirement: the full reads of a page go out together; one that keeps failing fails
    its own order only, as Mercado Livre's detail calls do (RawOrder.failure): a transient
    failure leaves it to the next run (the cursor stays), a refusal sends it to the
    quarantine with the reason; the neighbours are stored."""
    ids = seed(harness, 4)
    harness.emulator.faults.add("status", status=503, times=6, path=f"/v1/pedido/{ids[1]}")
    harness.emulator.faults.add("status", status=400, path=f"/v1/pedido/{ids[2]}")

    report = harness.pull()

    assert (report.new, report.deferred, report.quarantined) == (2, 1, 1)
    assert sorted(o.external_id for o in harness.stored_orders()) == sorted([ids[0], ids[3]])
    with harness.store.session() as session:
        (item,) = quarantine.open_items(session, "li")
        assert cursors.get_cursor(session, "li") is None  # held: read again next run
    assert item.external_id == ids[2]
    assert "a request for this order failed" in item.error and "HTTP 400" in item.error
    assert str(item.payload["numero"]) == ids[2]  # the search's summary, kept with it

    # the faults are over; the window is read again: both arrive, the quarantine item closes
    assert harness.pull().new == 2
    assert sorted(o.external_id for o in harness.stored_orders()) == sorted(ids)
    with harness.store.session() as session:
        assert quarantine.open_items(session, "li") == []


def test_a_refused_key_pair_is_an_auth_error_naming_the_keys(harness):
    seed(harness, 1)
    harness.emulator.expire_access_tokens()
    with pytest.raises(AuthError, match=r"credentials\.api_key") as caught:
        harness.connector.fetch_orders(
            Window(harness.time.now() - timedelta(days=1), harness.time.now()), NothingSeen()
        ).__next__()
    assert "sandbox-chave-api" not in str(caught.value)
    assert "sandbox-chave-aplicacao" not in str(caught.value)


def test_100_a_minute_is_respected_without_429(time):
    """requirement: the store's 100 requests/minute; the connector never gets a 429."""
    emulator = LojaIntegradaEmulator(seed=3, clock=time.now, sandbox_orders=0)
    h = build_harness(LojaIntegradaConnector, emulator, time, name="li")
    for _ in range(250):
        h.connector._situacoes = None
        h.connector.check()
    assert not [r for r in emulator.requests if r.status == 429]
    assert time.monotonic() >= (250 - 100) * 60 / 100  # no faster than the store allows
    h.connector.close()


def test_the_emulator_answers_429_with_error_633_past_100_a_minute(emulator):
    auth = {"Authorization": "chave_api sandbox-chave-api aplicacao sandbox-chave-aplicacao"}
    with httpx.Client(transport=EmulatorTransport(emulator.app), base_url="http://x") as c:
        answers = [c.get("/v1/situacao", headers=auth) for _ in range(101)]
    assert [a.status_code for a in answers[:100]] == [200] * 100
    assert answers[100].status_code == 429 and answers[100].json()["code"] == 633


# -- listings and stock ------------------------------------------------------------------------


def _stock_everything(h, quantity=7):
    pull_listings(h.connector, h.store)
    with h.store.session() as session:
        for _, _, sku in h.emulator.listing_refs():
            products.upsert_product(session, sku, name=sku)
            ledger.set_on_hand(session, sku, "main", quantity)


def test_variation_children_are_the_listings_not_their_parent(harness):
    pull_listings(harness.connector, harness.store)
    listings = list(harness.connector.fetch_listings())
    flat = {listing.sku: listing for batch in listings for listing in batch}
    assert {"CAM-P", "CAM-M", "CAM-G", "CAN-300", "MOC-01", "BON-AZ"} == set(flat)
    assert "CAM" not in flat  # the parent (tipo atributo)
    assert "CHV-OLD" not in flat  # removido
    assert flat["CAM-M"].item_id == "182904920" and flat["CAM-M"].extra["pai"] == "182904918"
    assert flat["CAM-M"].channel_quantity == 20


def test_stock_is_one_put_per_produto_with_the_documented_body(harness):
    _stock_everything(harness)
    report = push_stock(harness.connector, harness.store, safety_stock=0)
    refs = harness.emulator.listing_refs()
    assert report.failed == 0 and report.sent == len(refs)
    puts = harness.emulator.requests_to("/v1/produto_estoque/", "PUT")
    assert len(puts) == len(refs)
    assert puts[0].json() == {
        "gerenciado": True,
        "quantidade": 7,
        "situacao_em_estoque": 0,
        "situacao_sem_estoque": -1,
    }
    for item, _, _ in refs:
        assert harness.emulator.stock_of(item) == 7


def test_a_listing_whose_sku_erpsync_does_not_know_is_never_written(harness):
    pull_listings(harness.connector, harness.store)
    with harness.store.session() as session:
        products.upsert_product(session, "CAM-P", name="CAM-P")
        ledger.set_on_hand(session, "CAM-P", "main", 3)
    report = push_stock(harness.connector, harness.store, safety_stock=0)
    assert report.sent == 1
    (put,) = harness.emulator.requests_to("/v1/produto_estoque/", "PUT")
    assert put.path.endswith("/182904919")
    assert harness.emulator.stock_of("182904920") == 20  # CAM-M untouched (never zeroed)


def test_a_refused_produto_is_its_own_failed_result(harness):
    updates = [
        StockUpdate(item_id="182904918", sku="CAM", quantity=1),  # the parent: no stock row
        StockUpdate(item_id="174389010", sku="CAN-300", quantity=4),
        StockUpdate(item_id="999", sku="GHOST", quantity=4),
    ]
    results = harness.connector.push_stock(updates)
    assert [r.ok for r in results] == [False, True, False]
    assert "variações" in (results[0].error or "") and "999" in (results[2].error or "")
    assert harness.emulator.stock_of("174389010") == 4


# -- tracking ----------------------------------------------------------------------------------


def _paid_order(h):
    (numero,) = seed(h, 1)
    h.emulator.update_order(numero, situacao=dict(h.emulator.by_codigo["pedido_pago"]))
    return numero


def test_tracking_goes_on_the_envio_then_the_order_is_sent(harness):
    numero = _paid_order(harness)
    envio_id = harness.emulator.orders[int(numero)]["envios"][0]["id"]
    (result,) = harness.connector.push_tracking(
        [TrackingUpdate(order_external_id=numero, tracking_code="AA123456785BR")]
    )
    assert result.ok and result.remote_id == str(envio_id)
    order = harness.emulator.orders[int(numero)]
    assert order["envios"][0]["objeto"] == "AA123456785BR"
    assert order["situacao"]["codigo"] == "pedido_enviado"
    (put,) = harness.emulator.requests_to(f"/v1/pedido_envio/{envio_id}", "PUT")
    assert put.json() == {"objeto": "AA123456785BR"}


def test_tracking_again_is_a_replay(harness):
    numero = _paid_order(harness)
    update = TrackingUpdate(order_external_id=numero, tracking_code="AA123456785BR")
    harness.connector.push_tracking([update])
    (again,) = harness.connector.push_tracking([update])
    assert again.ok
    assert len(harness.emulator.requests_to("/v1/pedido_envio/", "PUT")) == 1
    assert len(harness.emulator.requests_to("/v1/situacao/pedido/", "PUT")) == 1


def test_tracking_is_refused_for_a_cancelled_or_unknown_order(harness):
    (numero,) = seed(harness, 1)
    harness.emulator.cancel_order(numero)
    cancelled, unknown = harness.connector.push_tracking(
        [
            TrackingUpdate(order_external_id=numero, tracking_code="AA123456785BR"),
            TrackingUpdate(order_external_id="99999", tracking_code="AA123456785BR"),
        ]
    )
    assert not cancelled.ok and "pedido_cancelado" in (cancelled.error or "")
    assert not unknown.ok and "not on Loja Integrada" in (unknown.error or "")
    assert not harness.emulator.requests_to("/v1/pedido_envio/", "PUT")


def test_the_emulator_refuses_an_undocumented_situacao(emulator):
    (numero,) = emulator.seed_orders(
        1, start=emulator.clock() - timedelta(hours=1), end=emulator.clock()
    )
    auth = {"Authorization": "chave_api sandbox-chave-api aplicacao sandbox-chave-aplicacao"}
    with httpx.Client(transport=EmulatorTransport(emulator.app), base_url="http://x") as c:
        answer = c.put(f"/v1/situacao/pedido/{numero}", json={"codigo": "despachado"}, headers=auth)
    assert answer.status_code == 400


def test_the_sandbox_catalogue_has_a_parent_with_children():
    kinds = {row[2] for row in emulator_seed.CATALOGUE}
    assert kinds == {"normal", "atributo", "atributo_opcao"}


# -- errors ------------------------------------------------------------------------------------


def test_a_search_result_without_numero_is_rejected_with_its_reason(harness):
    ids = seed(harness, 3)
    harness.emulator.orders[int(ids[0])]["numero"] = None
    report = harness.pull()
    assert report.new == 2
    assert report.rejected and "numero" in report.rejected[0]


@pytest.mark.parametrize(
    ("code", "limit", "pause"),
    [(633, "per store", None), (533, "per application", 10.0), (133, "per IP", 10.0)],
)
def test_each_documented_429_names_its_limit(harness, code, limit, pause):
    response = httpx.Response(429, json={"error_message": "Limite excedido", "code": code})
    error = harness.connector.classify_rate_limit(response)
    assert limit in str(error) and f"error {code}" in str(error)
    assert error.retry_after == pause


def test_an_undocumented_429_is_retried_the_default_way(harness):
    assert harness.connector.classify_rate_limit(httpx.Response(429, text="slow down")) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error_message": "Produto não encontrado"}, "Produto não encontrado"),
        (
            {"produto_estoque": {"quantidade": ["Informe um número inteiro."]}},
            "quantidade: Informe",
        ),
        ({"error": "Bad request"}, "Bad request"),
    ],
    ids=["error_message", "tastypie-fields", "error"],
)
def test_error_bodies_become_one_line(harness, body, expected):
    request = httpx.Request("GET", "http://x/v1/produto/1")
    error = harness.connector.classify_error(httpx.Response(400, json=body, request=request))
    assert expected in str(error) and "\n" not in str(error)


def test_a_429_from_the_store_limit_is_retried_and_the_pull_completes(harness):
    seed(harness, 5)
    harness.emulator.faults.add("rate_limit", retry_after=None, times=2)
    report = harness.pull()
    assert report.new == 5
