"""The connector contract suite: one subclass runs every promise a connector makes.

Any connector, built-in or third-party, proves itself against its emulator with::

    from erpsync.testing import ConnectorContract

    class TestMyPlatform(ConnectorContract):
        connector_class = MyConnector
        emulator_class = MyEmulator
        fixtures = Path(__file__).parent / "fixtures"   # optional: payloads that must map

It checks that the connector pages to the end across page boundaries, survives 500s and 429s
(with and without Retry-After), refreshes an expired token once and persists the new tokens,
maps every fixture to a valid canonical order, is idempotent on replay, pushes stock that
the emulator then reports, and (for an InvoiceSink whose emulator answers ``invoice_ready``)
lands each NF-e once, harmlessly on replay, and records the channel's refusals, and (for a
TrackingSink whose emulator answers ``tracking_ready``/``tracking_code``) lands each
shipment's tracking once, harmlessly on replay, and records the refusal of an order the channel
cancelled, and (for a LabelSource whose emulator answers ``label_ready``/``label_blocked``)
writes one label per ready shipment, once, and lists the blocked ones with the reason. Time is
simulated (``FakeTime``), so rate-limit waits cost nothing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

import pytest

from erpsync.connector import (
    Capability,
    Connector,
    ConnectorContext,
    ConnectorCore,
    ConnectorSettings,
    HttpConnector,
    OrderSink,
    OrderSource,
    ProductIds,
    Window,
)
from erpsync.domain import Address, Buyer, Order, OrderItem, OrderStatus
from erpsync.emulation import Emulator, EmulatorTransport
from erpsync.engine import availability
from erpsync.engine.availability import ErpOnHand
from erpsync.engine.invoice_pull import CURSOR as INVOICES_CURSOR
from erpsync.engine.invoice_pull import pull_invoices
from erpsync.engine.invoice_push import push_invoices
from erpsync.engine.invoices import ALL_MODELS, attach
from erpsync.engine.labels import fetch_labels
from erpsync.engine.listings import pull_listings
from erpsync.engine.order_push import push_erp_orders
from erpsync.engine.pull import PullReport, apply_order, load_catalogue, pull_orders
from erpsync.engine.push import push_stock
from erpsync.engine.stock_pull import pull_stock
from erpsync.engine.tracking import record_tracking
from erpsync.engine.tracking_push import push_tracking
from erpsync.http.auth import MemoryTokenStore, TokenStore
from erpsync.http.retry import RetryPolicy
from erpsync.postsale.domain import PushState
from erpsync.postsale.nfe import parse_nfe
from erpsync.postsale.nfe_builder import BUYER_CPF, build_nfe
from erpsync.store import Store, cursors, invoices, ledger, open_store, orders, products, shipments
from erpsync.store import erp as erp_store
from erpsync.store.erp import ErpPushState
from erpsync.store.tables import OrderRow

START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
#: local order statuses a seller records tracking for
_SHIPPABLE = frozenset({"paid", "invoiced"})


class FakeTime:
    """The one simulated clock of the test harness: it only moves when something sleeps or a
    test advances it, so rate limits, backoff and lock polling cost nothing.

    One object serves every clock erpsync takes: call it (or ``now()``) for aware-UTC time
    (``ConnectorContext.clock``, emulators), ``monotonic()`` for limiters and lock polling
    (seconds, kept as a float so sub-microsecond waits add up exactly), ``sleep`` to pass as
    the injected sleep; ``slept`` records every wait.
    """

    def __init__(self, start: datetime = START) -> None:
        self._start = start
        self._elapsed = 0.0
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._elapsed)

    def __call__(self) -> datetime:
        return self.now()

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self._elapsed += max(seconds, 0.0)

    def advance(self, **delta: float) -> None:
        """Move time on without recording a sleep (``advance(minutes=5)``)."""
        with self._lock:
            self._elapsed += timedelta(**delta).total_seconds()

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (forwards or back), as a wall clock may."""
        with self._lock:
            self._elapsed = (moment - self._start).total_seconds()


@dataclass
class Harness:
    """A connector wired to its emulator in-process, with a fresh store and simulated time."""

    connector: Connector
    emulator: Emulator
    store: Store
    time: FakeTime
    tokens: TokenStore

    def pull(self, **kwargs: Any) -> Any:
        return pull_orders(self.connector, self.store, **kwargs)

    def stored_orders(self) -> list[Order]:
        with self.store.session() as session:
            rows = orders.list_orders(session, connector=self.connector.name, limit=100_000)
            found = [orders.load_order(session, r.connector, r.external_id) for r in rows]
        return [o for o in found if o is not None]

    def token_calls(self) -> int:
        assert isinstance(self.connector, HttpConnector), "token calls need an HttpConnector"
        token_path = urlsplit(self.connector.auth_url).path
        return sum(1 for r in self.emulator.requests if r.path == token_path)


def build_harness(
    connector_class: type[Connector],
    emulator: Emulator,
    time: FakeTime,
    *,
    name: str = "contract",
    store: Store | None = None,
    tokens: TokenStore | None = None,
    options: Mapping[str, Any] | None = None,
    credentials: Mapping[str, Any] | None = None,
    retry_policy: RetryPolicy | None = None,
    **settings: Any,
) -> Harness:
    """Wire ``connector_class`` to ``emulator`` the way the engine would, minus the network.

    ``options`` and ``credentials`` override the emulator's sandbox ones (``emulator.options()``,
    ``emulator.credentials()``) key by key; ``retry_policy`` replaces the default one, which
    waits in simulated time without jitter.
    """
    tokens = tokens or MemoryTokenStore()
    config = ConnectorSettings(
        name=name,
        type=connector_class.type,
        credentials=connector_class.Credentials(
            **{**emulator.credentials(), **(credentials or {})}
        ),
        options=connector_class.Options(**{**emulator.options(), **(options or {})}),
        base_url=f"http://{connector_class.type}.test",
        **settings,
    )
    context = ConnectorContext(
        token_store=tokens,
        transport=EmulatorTransport(emulator.app),
        retry_policy=retry_policy or RetryPolicy(attempts=6, sleep=time.sleep, jitter=False),
        clock=time.now,
        sleep=time.sleep,
        monotonic=time.monotonic,
    )
    return Harness(
        connector_class(config, context), emulator, store or open_store("sqlite://"), time, tokens
    )


class ConnectorContract:
    """Subclass with ``connector_class`` and ``emulator_class`` set; pytest runs the suite."""

    connector_class: ClassVar[type[Connector]]
    emulator_class: ClassVar[type[Emulator]]
    #: a folder of recorded payloads (as ``RawOrder.payload``) that must all map
    fixtures: ClassVar[Path | None] = None
    fixture_glob: ClassVar[str] = "order*.json"
    #: enough orders to cross every platform's page size at least twice
    order_count: ClassVar[int] = 120
    #: False for platforms whose access tokens never expire and have no refresh (Nuvemshop):
    #: the refresh promise does not apply; their own tests prove a revoked token is an
    #: AuthError that says how to re-authorise
    refreshes_tokens: ClassVar[bool] = True

    @pytest.fixture
    def time(self) -> FakeTime:
        return FakeTime()

    @pytest.fixture
    def emulator(self, time: FakeTime) -> Emulator:
        return self.emulator_class(seed=7, clock=time.now, sandbox_orders=0)

    @pytest.fixture
    def harness(self, emulator: Emulator, time: FakeTime) -> Iterator[Harness]:
        harness = build_harness(self.connector_class, emulator, time)
        yield harness
        harness.connector.close()
        harness.store.close()

    def _seed(self, harness: Harness, count: int) -> list[str]:
        now = harness.time.now()
        ids = harness.emulator.seed_orders(count, start=now - timedelta(days=3), end=now)
        harness.time.advance(minutes=5)  # platforms with a settling lag (Amazon: 2 min)
        return ids

    def _needs(self, capability: Capability) -> None:
        if capability not in self.connector_class.capabilities:
            pytest.skip(f"{self.connector_class.type} has no {capability.value}")

    def test_pages_to_the_end_across_page_boundaries(self, harness: Harness) -> None:
        """requirement: every order in the window arrives, across page boundaries, once."""
        self._needs(Capability.PULL_ORDERS)
        ids = self._seed(harness, self.order_count)
        report = harness.pull()
        assert report.quarantined == 0, report.changes
        stored = {o.external_id for o in harness.stored_orders()}
        assert stored == set(ids)

    @pytest.mark.parametrize(
        ("kind", "extra"),
        [
            ("status", {"status": 500, "times": 2}),
            ("status", {"status": 503, "times": 1}),
            ("rate_limit", {"retry_after": 3, "times": 2}),
            ("rate_limit", {"retry_after": None, "times": 2}),
            ("drop", {"times": 1}),
            ("malformed_json", {"times": 1}),
        ],
        ids=["500x2", "503", "429-retry-after", "429-no-retry-after", "dropped", "bad-json"],
    )
    def test_survives_transient_faults(self, harness: Harness, kind: str, extra: Any) -> None:
        """requirement: 5xx, 429 (with or without Retry-After), drops and bad JSON are retried."""
        self._needs(Capability.PULL_ORDERS)
        ids = self._seed(harness, 10)
        harness.pull()  # authenticate first, so the faults hit data calls
        harness.emulator.faults.add(kind, **extra)
        harness.emulator.update_order(ids[0])
        harness.time.advance(minutes=5)
        report = harness.pull()
        assert report.updated >= 1
        if kind == "rate_limit" and extra["retry_after"]:
            assert any(s >= extra["retry_after"] for s in harness.time.slept)

    def test_refreshes_an_expired_token_once_and_persists_it(self, harness: Harness) -> None:
        """requirement: an expired token is refreshed once, and the new tokens are stored."""
        self._needs(Capability.PULL_ORDERS)
        if not self.refreshes_tokens:
            pytest.skip(f"{self.connector_class.type} tokens never expire: nothing to refresh")
        self._seed(harness, 5)
        harness.pull()
        before = harness.tokens.load(harness.connector.name)
        calls = harness.token_calls()
        harness.emulator.expire_access_tokens()
        harness.time.advance(minutes=5)
        harness.pull()
        after = harness.tokens.load(harness.connector.name)
        assert harness.token_calls() == calls + 1
        assert before is not None and after is not None
        assert after.access_token != before.access_token

    def test_maps_every_fixture_to_a_valid_order(self, harness: Harness) -> None:
        """requirement: every recorded payload maps to a canonical order."""
        if self.fixtures is None:
            pytest.skip("no fixtures folder")
        paths = sorted(self.fixtures.glob(self.fixture_glob))
        assert paths, f"no {self.fixture_glob} fixtures in {self.fixtures}"
        for path in paths:
            source = OrderSource.of(harness.connector)
            order = source.map_order(json.loads(path.read_text(encoding="utf-8")))
            assert order.connector == harness.connector.name, path.name
            assert order.items, path.name

    def test_is_idempotent_on_replay(self, harness: Harness) -> None:
        """requirement: pulling the same window again changes nothing, stock included."""
        self._needs(Capability.PULL_ORDERS)
        ids = self._seed(harness, 30)
        with harness.store.session() as session:
            skus = {sku for _, _, sku in harness.emulator.listing_refs() if sku}
            for sku in skus:
                products.upsert_product(session, sku, name=sku)
                ledger.set_on_hand(session, sku, "main", 1000)
        first = harness.pull()
        levels_after_first = self._levels(harness.store)
        since = harness.time.now() - timedelta(days=4)
        second = harness.pull(since=since)
        assert first.new == len(ids)
        assert second.new == 0 and second.updated == 0
        assert self._levels(harness.store) == levels_after_first

    def test_pushes_stock_that_the_emulator_reports(self, harness: Harness) -> None:
        """requirement: pushed quantities are what the channel then shows; Full/FBA untouched."""
        self._needs(Capability.PUSH_STOCK)
        pull_listings(harness.connector, harness.store)
        refs = harness.emulator.listing_refs()
        with harness.store.session() as session:
            for index, (_, _, sku) in enumerate(refs):
                if sku and products.get_product(session, sku) is None:
                    products.upsert_product(session, sku, name=sku)
                    ledger.set_on_hand(session, sku, "main", 10 + index)
        report = push_stock(harness.connector, harness.store, safety_stock=0)
        assert report.failed == 0, report.errors
        assert report.sent > 0
        harness.emulator.settle()
        with harness.store.session() as session:
            levels = ledger.levels(session, ["main"])
        for planned in report.plan:
            item_id, _, variation = planned.ref.partition(":")
            shown = harness.emulator.stock_of(item_id, variation or None)
            assert shown == levels[planned.sku].on_hand, planned.ref

    # -- invoices (InvoiceSink) -------------------------------------------------------------

    def _attach_invoices(self, harness: Harness, *, off_by: str = "0.00") -> dict[str, str]:
        """Pull a few orders and attach to each one the channel would invoice now an NF-e
        built from the stored order (``off_by`` added to its freight: a wrong total).
        Returns external_id -> access key; skips when the emulator has none ready."""
        ids = self._seed(harness, 20)
        harness.pull()
        ready = [i for i in ids if harness.emulator.invoice_ready(i)]
        if not ready:
            pytest.skip(f"{self.emulator_class.__name__} has no order ready for an NF-e")
        keys: dict[str, str] = {}
        with harness.store.session() as session:
            for number, external_id in enumerate(ready, start=1):
                row = orders.get_order(session, harness.connector.name, external_id)
                assert row is not None
                if row.fulfilled_by_channel:
                    continue
                xml = build_nfe(
                    number=number,
                    items=[("SKU", "Item", 1, str(row.items_total))],
                    freight=str(row.shipping_cost + Decimal(off_by)),
                    discount=str(row.discount),
                    recipient=row.buyer_document or BUYER_CPF,
                )
                parsed = parse_nfe(xml)
                attach(session, row, parsed, models=ALL_MODELS, force=True)
                keys[external_id] = parsed.invoice.access_key
        return keys

    def test_pushes_each_invoice_once_and_replays_harmlessly(self, harness: Harness) -> None:
        """requirement: each NF-e reaches its order on the channel once; pushing again sends
        nothing; a replay of a send whose outcome was lost (crash) is accepted, not doubled."""
        self._needs(Capability.PUSH_INVOICES)
        keys = self._attach_invoices(harness)
        report = push_invoices(harness.connector, harness.store)
        assert (report.accepted + report.pending, report.refused, report.failed) == (
            len(keys),
            0,
            0,
        ), report.errors
        harness.emulator.settle()
        for external_id, key in keys.items():
            assert harness.emulator.invoice_key(external_id) == key, external_id
        assert push_invoices(harness.connector, harness.store).sent == 0
        with harness.store.session() as session:
            for key in keys.values():
                row = invoices.by_key(session, key)
                assert row is not None and row.id is not None
                invoices.record_push(session, row.id, harness.connector.name, PushState.SENT)
        replay = push_invoices(harness.connector, harness.store)
        assert replay.refused == 0 and replay.failed == 0, replay.errors
        for external_id, key in keys.items():
            assert harness.emulator.invoice_key(external_id) == key, external_id

    def test_maps_the_channels_refusal_per_invoice(self, harness: Harness) -> None:
        """requirement: an NF-e the channel refuses (a total that differs from the order's) is
        recorded as refused with the channel's error, per invoice, and nothing lands."""
        self._needs(Capability.PUSH_INVOICES)
        keys = self._attach_invoices(harness, off_by="1.00")
        report = push_invoices(harness.connector, harness.store)
        refused, errors = report.refused, list(report.errors)
        if report.pending:  # an asynchronous channel refuses when it has processed the NF-e
            harness.emulator.settle()
            later = push_invoices(harness.connector, harness.store)
            refused, errors = refused + later.refused, errors + later.errors
        assert refused == len(keys) and len(errors) == len(keys), errors
        for external_id in keys:
            assert harness.emulator.invoice_key(external_id) is None, external_id

    # -- tracking (TrackingSink) -------------------------------------------------------------

    def _record_tracking(self, harness: Harness, *, cancel: bool = False) -> dict[str, str]:
        """Pull a few orders and record a tracking code on each one the channel would take
        tracking for now (``cancel``: then cancel it on the channel, unseen by erpsync).
        Returns external_id -> tracking code; skips when the emulator has none ready."""
        ids = self._seed(harness, 20)
        harness.pull()
        ready = [i for i in ids if harness.emulator.tracking_ready(i)]
        codes: dict[str, str] = {}
        with harness.store.session() as session:
            for number, external_id in enumerate(ready, start=1):
                row = orders.get_order(session, harness.connector.name, external_id)
                if row is None or row.fulfilled_by_channel or row.status not in _SHIPPABLE:
                    continue
                code = f"QB{number:09d}BR"
                record_tracking(
                    session,
                    row,
                    code,
                    carrier="Correios",
                    tracking_url=f"https://rastreamento.correios.com.br/app/index.php?objeto={code}",
                )
                codes[external_id] = code
        if not codes:
            pytest.skip(f"{self.emulator_class.__name__} has no order ready for tracking")
        if cancel:
            for external_id in codes:
                harness.emulator.cancel_order(external_id)
        return codes

    def test_pushes_each_tracking_once_and_replays_harmlessly(self, harness: Harness) -> None:
        """requirement: each shipment's tracking reaches its order on the channel once and the
        order becomes shipped; pushing again sends nothing; a replay of a send whose outcome
        was lost (crash) is accepted, not doubled."""
        self._needs(Capability.PUSH_TRACKING)
        codes = self._record_tracking(harness)
        report = push_tracking(harness.connector, harness.store)
        assert (report.accepted + report.pending, report.refused, report.failed) == (
            len(codes),
            0,
            0,
        ), report.errors
        harness.emulator.settle()
        for external_id, code in codes.items():
            assert harness.emulator.tracking_code(external_id) == code, external_id
        assert push_tracking(harness.connector, harness.store).sent == 0
        with harness.store.session() as session:
            for external_id in codes:
                row = orders.get_order(session, harness.connector.name, external_id)
                assert row is not None and row.id is not None
                if report.pending == 0:
                    assert row.status == "shipped", external_id
                for shipment in shipments.shipments_of(session, row.id):
                    assert shipment.id is not None
                    shipments.record_tracking_push(
                        session, shipment.id, harness.connector.name, PushState.SENT
                    )
        replay = push_tracking(harness.connector, harness.store)
        assert replay.refused == 0 and replay.failed == 0, replay.errors
        for external_id, code in codes.items():
            assert harness.emulator.tracking_code(external_id) == code, external_id

    def test_maps_the_channels_tracking_refusal_per_shipment(self, harness: Harness) -> None:
        """requirement: tracking the channel refuses (its order was cancelled there) is
        recorded as refused with the channel's error, per shipment, and nothing lands."""
        self._needs(Capability.PUSH_TRACKING)
        codes = self._record_tracking(harness, cancel=True)
        report = push_tracking(harness.connector, harness.store)
        assert report.refused == len(codes) and len(report.errors) == len(codes), report.errors
        for external_id in codes:
            assert harness.emulator.tracking_code(external_id) is None, external_id

    # -- labels (LabelSource) ----------------------------------------------------------------

    def test_fetches_each_label_once(self, harness: Harness, tmp_path: Path) -> None:
        """requirement: each shipment the channel would print now gets one label file, named
        after its order; fetching again fetches nothing; --again fetches them anew."""
        self._needs(Capability.PULL_LABELS)
        ids = self._seed(harness, 20)
        harness.pull()
        ready = [i for i in ids if harness.emulator.label_ready(i)]
        if not ready:
            pytest.skip(f"{self.emulator_class.__name__} has no shipment ready for a label")
        first = fetch_labels(harness.connector, harness.store, tmp_path)
        written = {order.split(":", 1)[1]: path for order, path in first.written}
        assert set(ready) <= set(written), first.waiting
        for external_id in ready:
            path = written[external_id]
            assert path.read_bytes(), path
            assert external_id in path.name, path
        assert fetch_labels(harness.connector, harness.store, tmp_path).written == []
        again = fetch_labels(harness.connector, harness.store, tmp_path, again=True)
        assert {order.split(":", 1)[1] for order, _ in again.written} >= set(ready)

    def test_lists_the_reason_when_the_channel_has_no_label_yet(
        self, harness: Harness, tmp_path: Path
    ) -> None:
        """requirement: a shipment the channel refuses a label for now (its NF-e is not in,
        it is not ready) gets no file and is listed with the reason, to be asked again."""
        self._needs(Capability.PULL_LABELS)
        ids = self._seed(harness, 20)
        harness.pull()
        blocked = [i for i in ids if harness.emulator.label_blocked(i)]
        if not blocked:
            pytest.skip(f"{self.emulator_class.__name__} has no shipment blocked from a label")
        report = fetch_labels(harness.connector, harness.store, tmp_path)
        waiting = {order.split(":", 1)[1]: reason for order, reason in report.waiting}
        written = {order.split(":", 1)[1] for order, _ in report.written}
        for external_id in blocked:
            assert external_id not in written, external_id
            assert waiting.get(external_id), external_id
        again = fetch_labels(harness.connector, harness.store, tmp_path)
        assert {order.split(":", 1)[1] for order, _ in again.waiting} >= set(blocked)

    @staticmethod
    def _levels(store: Store) -> dict[str, Any]:
        with store.session() as session:
            return dict(ledger.levels(session, ["main"]))


def window(start: datetime, hours: float) -> Window:
    return Window(start, start + timedelta(hours=hours))


# -- the ERP side ---------------------------------------------------------------------------------


class ErpContract:
    """The promises of an ERP connector (``OrderSink``, ``StockSource``, ``InvoiceSource``),
    proved against its emulator: every channel order lands once, whatever is replayed or lost
    in flight; cancellations follow, the moves the ERP refuses are reported; stock and NF-e
    come back. The emulator implements the ERP part of the kit's API (``erp_skus``,
    ``erp_orders_numbered``, ``erp_order_cancelled``, ``erp_invoice_order``,
    ``erp_invoice_situation``, ``erp_available``, ``erp_add_order``, ``erp_recreate_product``,
    ``order_create_path``).

    Subclass with ``connector_class`` and ``emulator_class`` set; pytest runs the suite.
    """

    connector_class: ClassVar[type[Connector]]
    emulator_class: ClassVar[type[Emulator]]
    #: the channel connector the orders come from (a name the ERP does not know)
    channel: ClassVar[str] = "shop"
    #: the path of the ERP's product search (SKU -> product id)
    product_search_path: ClassVar[str] = "/produtos"

    @pytest.fixture
    def time(self) -> FakeTime:
        return FakeTime()

    @pytest.fixture
    def emulator(self, time: FakeTime) -> Emulator:
        return self.emulator_class(seed=7, clock=time.now, sandbox_orders=0)

    @pytest.fixture
    def harness(self, emulator: Emulator, time: FakeTime) -> Iterator[Harness]:
        harness = build_harness(self.connector_class, emulator, time, name="erp")
        yield harness
        harness.connector.close()
        harness.store.close()

    # -- helpers ----------------------------------------------------------------------------

    def channel_orders(
        self,
        harness: Harness,
        count: int,
        *,
        start: int = 1,
        status: OrderStatus = OrderStatus.PAID,
        sku: str | None = None,
        connector: str | None = None,
    ) -> list[Order]:
        """``count`` channel orders stored as pull-orders stores them (stock effects too)."""
        skus = [s for s in harness.emulator.erp_skus() if s]
        made = []
        now = harness.time.now()
        for n in range(start, start + count):
            line_sku = sku or skus[n % len(skus)]
            quantity = 1 + n % 2
            price = Decimal("49.90")
            freight = Decimal("12.50")
            items_total = price * quantity
            made.append(
                Order(
                    connector=connector or self.channel,
                    platform="Test shop",
                    external_id=f"SO-{n}",
                    number=f"100{n}",
                    status=status,
                    channel_status=status.value,
                    created_at=now - timedelta(hours=2),
                    updated_at=now - timedelta(hours=1, minutes=n % 50),
                    items_total=items_total,
                    shipping_cost=freight,
                    total=items_total + freight,
                    buyer=Buyer(name="Maria da Silva", document=BUYER_CPF),
                    shipping_address=Address(
                        street="Rua A", number="10", city="São Paulo", state="SP", zip="01001000"
                    ),
                    items=(OrderItem(sku=line_sku, quantity=quantity, unit_price=price),),
                )
            )
        self.store_orders(harness, made)
        return made

    @staticmethod
    def store_orders(harness: Harness, found: list[Order]) -> None:
        channel = _ChannelStub(found[0].connector if found else "shop")
        with harness.store.session() as session:
            for order in found:
                for item in order.items:
                    if item.sku and products.get_product(session, item.sku) is None:
                        products.upsert_product(session, item.sku, name=item.sku)
                catalogue = load_catalogue(session, order.connector)
                catalogue.known |= products.known_skus(
                    session, {i.sku for i in order.items if i.sku}
                )
                apply_order(
                    session,
                    cast(ConnectorCore, channel),
                    order,
                    {},
                    PullReport(order.connector),
                    catalogue,
                    True,
                )

    def push(self, harness: Harness, **kwargs: Any) -> Any:
        return push_erp_orders(harness.connector, harness.store, **kwargs)

    def remote_id(self, harness: Harness, order: Order) -> str:
        with harness.store.session() as session:
            row = orders.get_order(session, order.connector, order.external_id)
            assert row is not None and row.id is not None
            push = erp_store.push_of(session, row.id, harness.connector.name)
        assert push is not None and push.remote_id, order.external_id
        return push.remote_id

    def creates(self, harness: Harness) -> int:
        path = harness.emulator.order_create_path
        return sum(1 for r in harness.emulator.requests if r.method == "POST" and r.path == path)

    def assert_once_each(self, harness: Harness, made: list[Order]) -> None:
        for order in made:
            found = harness.emulator.erp_orders_numbered(order.number or order.external_id)
            assert found == [self.remote_id(harness, order)], (order.external_id, found)

    # -- orders -----------------------------------------------------------------------------

    def test_creates_each_channel_order_once_and_a_replay_sends_nothing(
        self, harness: Harness
    ) -> None:
        """requirement: every channel order is created in the ERP once, with the channel's
        number; running push-orders again sends nothing."""
        made = self.channel_orders(harness, 6)
        report = self.push(harness)
        assert (report.created, report.refused, report.unresolved) == (6, 0, 0), report.errors
        self.assert_once_each(harness, made)
        sent = self.creates(harness)
        again = self.push(harness)
        assert again.created == 0 and self.creates(harness) == sent
        self.assert_once_each(harness, made)

    def test_a_lost_answer_is_looked_up_and_never_duplicated(self, harness: Harness) -> None:
        """requirement: a create the ERP stored but whose answer was lost is found by the
        channel number before anything is sent again: no duplicate."""
        made = self.channel_orders(harness, 4)
        harness.emulator.faults.add(
            "lost_answer", path=harness.emulator.order_create_path, method="POST", times=2
        )
        report = self.push(harness)
        assert report.unresolved == 0 and report.refused == 0, report.errors
        assert report.found >= 1
        assert report.created + report.found == 4
        self.assert_once_each(harness, made)

    def test_a_run_killed_after_recording_the_intent_looks_first(self, harness: Harness) -> None:
        """requirement: an intent recorded by a run that died (with or without its create
        reaching the ERP) is resolved by a look-up first: created once either way."""
        reached, lost = self.channel_orders(harness, 2)
        sink = OrderSink.of(harness.connector)
        assert sink.create_order(reached).ok  # the create went out; the run died after it
        with harness.store.session() as session:
            for order in (reached, lost):
                row = orders.get_order(session, order.connector, order.external_id)
                assert row is not None and row.id is not None
                erp_store.record(
                    session, row.id, harness.connector.name, ErpPushState.SENDING, attempt=True
                )
        report = self.push(harness)
        assert (report.found, report.created) == (1, 1), report.errors
        self.assert_once_each(harness, [reached, lost])

    def test_cancellations_follow_and_orders_cancelled_first_are_not_created(
        self, harness: Harness
    ) -> None:
        """requirement: a channel order cancelled after it was created is cancelled in the
        ERP; one already cancelled when first seen is never created."""
        made = self.channel_orders(harness, 2)
        self.push(harness)
        cancelled = made[0].model_copy(
            update={
                "status": OrderStatus.CANCELLED,
                "channel_status": "cancelled",
                "updated_at": harness.time.now(),
            }
        )
        self.store_orders(harness, [cancelled])
        (never,) = self.channel_orders(harness, 1, start=50, status=OrderStatus.CANCELLED)
        report = self.push(harness)
        assert (report.cancelled, report.skipped, report.created) == (1, 1, 0), report.errors
        assert harness.emulator.erp_order_cancelled(self.remote_id(harness, made[0]))
        assert not harness.emulator.erp_order_cancelled(self.remote_id(harness, made[1]))
        assert harness.emulator.erp_orders_numbered(never.number or "") == []
        assert self.push(harness).cancelled == 0

    def test_a_cancellation_the_erp_cannot_take_is_reported_not_forced(
        self, harness: Harness
    ) -> None:
        """requirement: cancelling an order the ERP has invoiced is refused by the ERP: the
        run reports it (partial), and the ERP order stays as it is."""
        (order,) = self.channel_orders(harness, 1)
        self.push(harness)
        remote = self.remote_id(harness, order)
        harness.emulator.erp_invoice_order(remote)
        self.store_orders(
            harness,
            [
                order.model_copy(
                    update={"status": OrderStatus.CANCELLED, "updated_at": harness.time.now()}
                )
            ],
        )
        report = self.push(harness)
        assert report.cancel_refused == 1 and report.shortfall()
        assert order.external_id in report.errors[0]
        assert not harness.emulator.erp_order_cancelled(remote)

    def test_orders_the_channel_fulfils_are_not_created(self, harness: Harness) -> None:
        """requirement: a Full/FBA order (the channel ships from its own warehouse) is not
        created in the ERP, whose stock it never touched."""
        (order,) = self.channel_orders(harness, 1)
        full = order.model_copy(
            update={"external_id": "SO-FULL", "number": "FULL-1", "fulfilled_by_channel": True}
        )
        self.store_orders(harness, [full])
        report = self.push(harness)
        assert (report.created, report.skipped) == (1, 1)
        assert harness.emulator.erp_orders_numbered("FULL-1") == []

    def test_an_unknown_sku_is_a_clear_per_order_error(self, harness: Harness) -> None:
        """requirement: an order whose SKU the ERP does not have is refused with an error
        naming the SKU; the other orders are created."""
        (good,) = self.channel_orders(harness, 1)
        (bad,) = self.channel_orders(harness, 1, start=2, sku="NO-SUCH-SKU-9")
        report = self.push(harness)
        assert (report.created, report.refused) == (1, 1)
        assert "NO-SUCH-SKU-9" in report.errors[0] and bad.external_id in report.errors[0]
        assert harness.emulator.erp_orders_numbered(bad.number or "") == []
        self.assert_once_each(harness, [good])

    def test_orders_from_the_erp_itself_are_never_pushed_back(self, harness: Harness) -> None:
        """requirement: orders whose connector is an ERP (its own orders, imported) are never
        created in it."""
        (own,) = self.channel_orders(harness, 1, connector=harness.connector.name)
        (other,) = self.channel_orders(harness, 1, start=2, connector="hub-erp")
        report = self.push(harness, exclude={"hub-erp"})
        assert report.created == 0
        assert harness.emulator.erp_orders_numbered(own.number or "") == []
        assert harness.emulator.erp_orders_numbered(other.number or "") == []

    # -- product ids ------------------------------------------------------------------------

    def searches(self, harness: Harness) -> int:
        path = self.product_search_path
        return sum(1 for r in harness.emulator.requests if r.method == "GET" and r.path == path)

    @staticmethod
    def product_ids(harness: Harness) -> ProductIds:
        ids = getattr(harness.connector, "product_ids", None)
        assert isinstance(ids, ProductIds), "an ERP connector keeps self.product_ids"
        return ids

    def stored_product_ids(self, harness: Harness) -> dict[str, str]:
        with harness.store.session() as session:
            return erp_store.product_ids(session, harness.connector.name)

    def test_product_ids_resolved_once_serve_later_runs(self, harness: Harness) -> None:
        """requirement: the SKU -> product id pairs a run resolved are kept in the store, so
        a later run (a new process: nothing in memory) searches the ERP for none of them,
        neither to create orders nor to read stock."""
        made = self.channel_orders(harness, 2)
        self.push(harness)
        skus = sorted({item.sku or "" for order in made for item in order.items})
        assert sorted(self.stored_product_ids(harness)) == skus
        before = self.searches(harness)
        self.product_ids(harness).clear()  # the next cron run
        self.channel_orders(harness, 2, start=3, sku=skus[0])
        assert self.push(harness).created == 2
        self.product_ids(harness).clear()
        report = pull_stock(harness.connector, harness.store, skus=skus)
        assert report.missing == [] and report.read == len(skus)
        assert self.searches(harness) == before

    def test_a_product_id_the_erp_no_longer_knows_is_searched_again(self, harness: Harness) -> None:
        """requirement: a product deleted and registered again in the ERP keeps its SKU under
        a new id: the remembered id is dropped when the ERP refuses it, the SKU searched
        again, and the order created with the new id; the store keeps the new one."""
        (first,) = self.channel_orders(harness, 1)
        sku = first.items[0].sku or ""
        self.push(harness)
        old = self.stored_product_ids(harness)[sku]
        harness.emulator.erp_recreate_product(sku)
        self.product_ids(harness).clear()  # the next cron run
        self.channel_orders(harness, 1, start=2, sku=sku)
        report = self.push(harness)
        assert (report.created, report.refused) == (1, 0), report.errors
        new = self.stored_product_ids(harness)[sku]
        assert new != old
        harness.emulator.erp_recreate_product(sku)
        self.product_ids(harness).clear()
        pulled = pull_stock(harness.connector, harness.store, skus=[sku])
        assert pulled.missing == []
        assert pulled.levels[0].available == harness.emulator.erp_available(sku)
        assert self.stored_product_ids(harness)[sku] not in (old, new)

    # -- stock ------------------------------------------------------------------------------

    def test_pulls_the_available_stock_of_listed_skus(self, harness: Harness) -> None:
        """requirement: pull-stock stores what the ERP shows as available (its reservations
        for the orders it holds deducted), per SKU; a SKU it lacks is reported."""
        self.channel_orders(harness, 3)
        self.push(harness)
        skus = harness.emulator.erp_skus()
        report = pull_stock(harness.connector, harness.store, skus=[*skus, "NO-SUCH-SKU-9"])
        assert report.missing == ["NO-SUCH-SKU-9"]
        with harness.store.session() as session:
            stored = {
                row.sku: row.available
                for row in erp_store.levels(session, harness.connector.name)
                if row.location == "main"
            }
        assert stored == {sku: harness.emulator.erp_available(sku) for sku in skus}

    def test_channels_sell_erp_available_less_orders_not_in_the_erp(self, harness: Harness) -> None:
        """requirement: with the ERP as stock source, a channel may sell the ERP's available
        minus the orders erpsync imported but has not created in the ERP yet, minus the
        safety stock; once created there, the ERP's own reservation counts them instead."""
        sku = harness.emulator.erp_skus()[0]
        before = harness.emulator.erp_available(sku)
        pull_stock(harness.connector, harness.store, skus=[sku])
        (order,) = self.channel_orders(harness, 1, sku=sku)
        units = order.items[0].quantity

        def sellable() -> int:
            with harness.store.session() as session:
                source = ErpOnHand(session, harness.connector.name, ())
                found = availability.compute(
                    session, [sku], locations=["main"], kits={}, safety_stock=1, source=source
                )
            return found[sku].available

        assert sellable() == before - units - 1
        self.push(harness)
        assert sellable() == before - 1  # the ERP does not hold it yet as far as we know
        pull_stock(harness.connector, harness.store, skus=[sku])
        assert harness.emulator.erp_available(sku) == before - units
        assert sellable() == before - units - 1

    # -- invoices ---------------------------------------------------------------------------

    def test_pulls_each_authorised_invoice_once_as_the_channel_orders(
        self, harness: Harness
    ) -> None:
        """requirement: an NF-e the ERP issued for an order erpsync created is stored as the
        channel order's invoice (number, series, key, total, XML); orders without one yet are
        asked again next run, and nothing is stored twice."""
        first, second = self.channel_orders(harness, 2)
        self.push(harness)
        key = harness.emulator.erp_invoice_order(self.remote_id(harness, first))
        report = pull_invoices(harness.connector, harness.store)
        assert (report.asked, report.new, report.refused) == (2, 1, 0), report.errors
        with harness.store.session() as session:
            row = invoices.by_key(session, key)
            assert row is not None
            order_row = session.get(OrderRow, row.order_id)
            assert order_row is not None and order_row.external_id == first.external_id
            assert row.source == "erp" and invoices.xml_of(row).startswith(b"<?xml")
        again = pull_invoices(harness.connector, harness.store)
        assert (again.asked, again.new) == (1, 0)
        del second

    # -- invoices stuck in the ERP (its watermark, invoice_hold_hours) ----------------------

    def invoiced(self, harness: Harness, situation: str) -> tuple[str, str, datetime | None]:
        """One channel order created in the ERP and pulled once (the invoices watermark
        exists), then 20 minutes later its NF-e issued and put in ``situation``; (its ERP id,
        the NF-e's key, the watermark before the NF-e)."""
        (order,) = self.channel_orders(harness, 1)
        self.push(harness)
        remote = self.remote_id(harness, order)
        pull_invoices(harness.connector, harness.store)
        before = self.watermark(harness)
        assert before is not None
        harness.time.advance(minutes=20)
        key = harness.emulator.erp_invoice_order(remote)
        harness.emulator.erp_invoice_situation(remote, situation)
        return remote, key, before

    @staticmethod
    def watermark(harness: Harness) -> datetime | None:
        with harness.store.session() as session:
            return cursors.get_cursor(session, harness.connector.name, INVOICES_CURSOR)

    @staticmethod
    def stuck(harness: Harness) -> list[dict[str, Any]]:
        with harness.store.session() as session:
            return erp_store.stuck_invoices(session)

    @staticmethod
    def stored(harness: Harness, key: str) -> bool:
        with harness.store.session() as session:
            return invoices.by_key(session, key) is not None

    @staticmethod
    def runs_for(harness: Harness, hours: int) -> None:
        """Runs every 12 h over ``hours`` (cron runs more often; an ERP's refresh token may
        lapse after a day unused)."""
        for _ in range(hours // 12):
            harness.time.advance(hours=12)
            pull_invoices(harness.connector, harness.store)
        harness.time.advance(hours=hours % 12)

    def test_an_invoice_not_yet_authorised_holds_the_watermark_until_it_is(
        self, harness: Harness
    ) -> None:
        """requirement: an order of ours whose NF-e the ERP shows pending (issued, not yet
        authorised) keeps the invoices watermark where it was, so hours later, once authorised
        (nothing else changed), it is still in the window and found."""
        remote, key, before = self.invoiced(harness, "pending")
        assert pull_invoices(harness.connector, harness.store).new == 0
        assert self.watermark(harness) == before
        harness.time.advance(hours=5)
        assert pull_invoices(harness.connector, harness.store).new == 0
        assert self.watermark(harness) == before
        harness.time.advance(hours=5)
        harness.emulator.erp_invoice_situation(remote, "authorised")
        started = harness.time.now()
        report = pull_invoices(harness.connector, harness.store)
        assert report.new == 1 and self.watermark(harness) == started
        assert self.stored(harness, key) and self.stuck(harness) == []

    def test_a_cancelled_invoice_does_not_hold_the_watermark(self, harness: Harness) -> None:
        """requirement: a cancelled NF-e settles nothing to wait for: the watermark moves."""
        self.invoiced(harness, "cancelled")
        started = harness.time.now()
        report = pull_invoices(harness.connector, harness.store)
        assert report.new == 0 and self.watermark(harness) == started
        assert self.stuck(harness) == []

    def test_an_invoice_stuck_past_the_hold_stops_holding_the_window_and_is_still_found(
        self, harness: Harness
    ) -> None:
        """requirement: a pending NF-e holds the watermark only for the connector's hold (72 h
        by default); then the watermark moves on, the order shows in status as stuck since
        the run that first saw it, and it is asked one by one on every later run, so once
        authorised its NF-e is found though the listing's window no longer reaches it, and
        nothing is stuck any more."""
        remote, key, before = self.invoiced(harness, "pending")
        seen = harness.time.now()
        assert pull_invoices(harness.connector, harness.store).stuck == 0
        assert self.watermark(harness) == before
        (stuck,) = self.stuck(harness)
        assert stuck["erp"] == harness.connector.name and stuck["remote_id"] == remote
        assert stuck["since"] == seen.isoformat()
        self.runs_for(harness, 71)
        assert pull_invoices(harness.connector, harness.store).stuck == 0
        assert self.watermark(harness) == before  # within the hold
        harness.time.advance(hours=2)
        started = harness.time.now()
        report = pull_invoices(harness.connector, harness.store)
        assert report.stuck == 1 and "1 stuck" in report.summary()
        assert self.watermark(harness) == started  # past the hold: the window moves on
        harness.time.advance(hours=1)
        report = pull_invoices(harness.connector, harness.store)
        assert (report.asked, report.one_by_one, report.new) == (1, 1, 0)
        assert report.window is not None and report.window.start > seen
        assert self.watermark(harness) == report.window.end  # it holds nothing any more
        assert [s["since"] for s in self.stuck(harness)] == [seen.isoformat()]
        self.runs_for(harness, 30)
        harness.emulator.erp_invoice_situation(remote, "authorised")
        report = pull_invoices(harness.connector, harness.store)
        assert (report.one_by_one, report.new, report.stuck) == (1, 1, 0)
        assert self.stored(harness, key) and self.stuck(harness) == []

    def test_the_hold_is_the_connectors_setting(self, emulator: Emulator, time: FakeTime) -> None:
        """requirement: `invoice_hold_hours` sets how long a stuck NF-e may hold the
        watermark."""
        harness = build_harness(
            self.connector_class, emulator, time, name="erp", invoice_hold=timedelta(hours=2)
        )
        try:
            _, _, before = self.invoiced(harness, "pending")
            pull_invoices(harness.connector, harness.store)
            time.advance(hours=1)
            pull_invoices(harness.connector, harness.store)
            assert self.watermark(harness) == before
            time.advance(hours=1, minutes=1)
            started = time.now()
            assert pull_invoices(harness.connector, harness.store).stuck == 1
            assert self.watermark(harness) == started
        finally:
            harness.connector.close()
            harness.store.close()

    def test_an_invoice_cancelled_within_the_hold_is_no_longer_stuck(
        self, harness: Harness
    ) -> None:
        """requirement: a pending NF-e then cancelled in the ERP settles its order: nothing
        stuck remains and the watermark moves on."""
        remote, _, _ = self.invoiced(harness, "pending")
        pull_invoices(harness.connector, harness.store)
        assert len(self.stuck(harness)) == 1
        harness.time.advance(hours=1)
        harness.emulator.erp_invoice_situation(remote, "cancelled")
        started = harness.time.now()
        pull_invoices(harness.connector, harness.store)
        assert self.stuck(harness) == [] and self.watermark(harness) == started


class _ChannelStub:
    """What apply_order needs of a channel connector in these tests."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.settings = ConnectorSettings(name=name, type="stub")
