"""Pacing benchmark: does erpsync use each marketplace's rate limits fully, and never overrun them?

    .venv/bin/python bench/pacing.py                      # 300 orders, 200 SKUs, all platforms
    .venv/bin/python bench/pacing.py --orders 1000 --skus 400 --platform amazon
    .venv/bin/python bench/pacing.py --scale 50           # one time scale for every phase
    .venv/bin/python bench/pacing.py --latency 0,150,300  # platform round trips in ms (default)

Each platform's emulator runs in-process behind a recorder; emulator and connector share one
scaled clock (bench/pacing_kit.py: ScaledClock), so Amazon's getOrderItems (0.5 req/s, burst
30) takes seconds, not minutes. Every phase runs at a scale that puts its pacing operation at
about --rps real requests/second (leaving CPU headroom, so the figures show the limiter and not
this machine); all times printed are *platform* seconds.

Limits enforced: Amazon's emulator enforces the documented SP-API usage plans
(connectors/amazon/emulator/app.py). Mercado Livre and Magalu publish no numbers, so the bench wraps
their emulators in token buckets set to the connector's *declared* limits: what is measured is
whether erpsync spends what it declares without overrunning it.
Nuvemshop documents its leaky bucket (40 requests draining 2/s per store): its emulator
enforces it and the bench's bucket is the same. Loja Integrada documents 100 requests a minute
per store: its emulator counts them over any 60 s, and the bench's bucket is the connector's
declared pace (90/min, burst 10, which never exceeds 100 in a minute).
Vnda publishes no numbers: its emulator and the bench enforce the connector's declared
bucket (10, refilling 2/s).

Phases per platform: first pull of N orders, a re-read of the whole window with nothing
changed, a pull after 10% of the orders changed, listings pull, a push of M stock changes (for
Amazon: M patchListingsItem, then M more changes through a JSON_LISTINGS_FEED).

Latency: the emulator answers every request after a round trip of --latency ms (platform
time, so scaled with the clock), jittered by +-(--jitter)/2 of it (erpsync.emulation.Latency);
the emulator's own work and the hop into its event loop count within the round trip, not on
top of it (`includes_work`, measured from when the in-process transport took the request: a
network adds neither); the whole run repeats per latency, and a last table gives each phase's
fraction per latency.

Printed per phase and rate-limit operation: calls, 429s (and how many came after the
operation's first burst), bound s (the fastest a client making the phase's requests could
finish against the server's buckets), safe s (the same for a client that never risks a 429:
it cannot see when the server counted a request, only when it sent it and when the answer
came; pacing_kit.Shadow), achieved s, fraction = safe/achieved (floored) and of bound =
bound/achieved; per pull, requests per order and per-order (detail) requests. Targets:
fraction >= 90% wherever the phase is limit-bound, no 429 after the first burst, no detail
request for an unchanged order.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pacing_kit import (
    LIMIT_BOUND,
    Call,
    Classifier,
    Enforcer,
    Phase,
    Recorder,
    ScaledClock,
    amazon_listings,
    amazon_op,
    analyse,
    anymarket_listings,
    anymarket_op,
    bling_listings,
    bling_op,
    breakdown,
    fraction,
    known_levels,
    levels,
    lojaintegrada_listings,
    lojaintegrada_op,
    magalu_listings,
    magalu_op,
    mercadolivre_listings,
    mercadolivre_op,
    nuvemshop_listings,
    nuvemshop_op,
    scale_for,
    tiny_listings,
    tiny_op,
    vnda_listings,
    vnda_op,
)

from erpsync.connector import ConnectorContext, ConnectorSettings, HttpConnector, RateLimit
from erpsync.connectors.amazon.connector import AmazonConnector
from erpsync.connectors.amazon.emulator import AmazonEmulator
from erpsync.connectors.amazon.emulator.app import USAGE_PLANS
from erpsync.connectors.anymarket.connector import AnymarketConnector
from erpsync.connectors.anymarket.emulator import AnymarketEmulator
from erpsync.connectors.bling.connector import BlingConnector
from erpsync.connectors.bling.emulator import BlingEmulator
from erpsync.connectors.lojaintegrada.connector import LojaIntegradaConnector
from erpsync.connectors.lojaintegrada.emulator import LojaIntegradaEmulator
from erpsync.connectors.magalu.connector import MagaluConnector
from erpsync.connectors.magalu.emulator import MagaluEmulator
from erpsync.connectors.mercadolivre.connector import MercadoLivreConnector
from erpsync.connectors.mercadolivre.emulator import MercadoLivreEmulator
from erpsync.connectors.nuvemshop.connector import NuvemshopConnector
from erpsync.connectors.nuvemshop.emulator import NuvemshopEmulator
from erpsync.connectors.tiny.connector import TinyConnector
from erpsync.connectors.tiny.emulator import TinyEmulator
from erpsync.connectors.vnda.connector import VndaConnector
from erpsync.connectors.vnda.emulator import VndaEmulator
from erpsync.domain import Buyer, Order, OrderItem, OrderStatus
from erpsync.emulation import Emulator, EmulatorTransport, Latency, LatencyMiddleware, TokenBucket
from erpsync.engine import heap
from erpsync.engine.listings import pull_listings
from erpsync.engine.pull import pull_orders
from erpsync.engine.push import push_stock
from erpsync.http.auth import MemoryTokenStore
from erpsync.http.retry import RetryPolicy
from erpsync.store import Store, ledger, open_store, products

#: phases with nothing to pace (everything within burst) run at most this fast
MAX_SCALE = 100.0


@dataclass
class Platform:
    key: str
    connector_class: type[HttpConnector]
    emulator_class: type[Emulator]
    classify: Classifier
    add_listings: Callable[[Emulator, int], list[str]]
    #: the limits the emulator side enforces (None: the emulator enforces its own)
    enforced: Mapping[str, RateLimit] | None
    why: str
    detail: frozenset[str]
    #: phase -> the operation whose rate sets the phase's time scale
    pacing: dict[str, str | None] = field(default_factory=dict)
    #: an ERP: orders go in (N creates) and stock comes out (M SKUs), instead of the channel
    #: phases
    erp: bool = False
    #: requests that need the previous answer of their kind (token- or link-paged listings, a
    #: queue read again once acknowledged): the bound counts a round trip before each
    chained: frozenset[str] = frozenset()


PLATFORMS = {
    "amazon": Platform(
        "amazon",
        AmazonConnector,
        AmazonEmulator,
        amazon_op,
        amazon_listings,
        None,
        "documented SP-API usage plans, enforced by the emulator (amazon/emulator/app.py)",
        frozenset({"getOrderItems", "getOrder"}),
        {"pull": "getOrderItems", "listings": "searchListingsItems", "push": "patchListingsItem"},
        chained=frozenset({"getOrders", "searchListingsItems"}),  # NextToken / pageToken
    ),
    "mercadolivre": Platform(
        "mercadolivre",
        MercadoLivreConnector,
        MercadoLivreEmulator,
        mercadolivre_op,
        mercadolivre_listings,
        MercadoLivreConnector.rate_limits,
        "ML publishes no numbers (limits are per app): the bench enforces the connector's "
        "declared buckets",
        frozenset({"billing-info", "shipments/{id}", "orders/{id}"}),
        {"pull": "default", "listings": "default", "push": "stock"},
    ),
    "magalu": Platform(
        "magalu",
        MagaluConnector,
        MagaluEmulator,
        magalu_op,
        magalu_listings,
        MagaluConnector.rate_limits,
        "Magalu's numbers are not in the docs we could read: the bench enforces the "
        "connector's declared buckets",
        frozenset({"orders/{id}"}),
        {"pull": "orders", "listings": "skus", "push": "stock_write"},
    ),
    "nuvemshop": Platform(
        "nuvemshop",
        NuvemshopConnector,
        NuvemshopEmulator,
        nuvemshop_op,
        nuvemshop_listings,
        NuvemshopConnector.rate_limits,
        "the documented leaky bucket (40, draining 2/s per store): the emulator enforces it "
        "and the bench's bucket is the same",
        frozenset({"orders/{id}"}),
        {"pull": "default", "listings": "default", "push": "default"},
        chained=frozenset({"orders", "products"}),  # the Link header's rel=next
    ),
    "bling": Platform(
        "bling",
        BlingConnector,
        BlingEmulator,
        bling_op,
        bling_listings,
        BlingConnector.rate_limits,
        "an ERP: 3 requests/s per account (the emulator enforces it too); N orders created, "
        "M SKUs' balances read",
        frozenset({"produtos", "contatos"}),
        {"orders": "default", "stock": "default"},
        erp=True,
    ),
    "lojaintegrada": Platform(
        "lojaintegrada",
        LojaIntegradaConnector,
        LojaIntegradaEmulator,
        lojaintegrada_op,
        lojaintegrada_listings,
        LojaIntegradaConnector.rate_limits,
        "100 requests a minute per store (429, error 633), counted by the emulator over any "
        "60 s; the bench's bucket is the connector's declared 90/min, burst 10",
        frozenset({"pedido/{numero}"}),
        {"pull": "default", "listings": "default", "push": "default"},
        chained=frozenset({"pedido/search", "produto"}),  # meta.next
    ),
    "vnda": Platform(
        "vnda",
        VndaConnector,
        VndaEmulator,
        vnda_op,
        vnda_listings,
        VndaConnector.rate_limits,
        "Vnda publishes no numbers: its emulator and the bench enforce the connector's "
        "declared bucket (10, refilling 2/s per store)",
        frozenset({"orders/{code}", "orders/{code}/items", "orders/{code}/shipping_address"}),
        {"pull": "default", "listings": "default", "push": "default"},
        chained=frozenset({"feed"}),  # the feed is read again once its entries are marked
    ),
    "anymarket": Platform(
        "anymarket",
        AnymarketConnector,
        AnymarketEmulator,
        anymarket_op,
        anymarket_listings,
        AnymarketConnector.rate_limits,
        "ANYMARKET publishes no numbers: the bench enforces the connector's declared bucket "
        "(3/s, burst 10)",
        frozenset({"orders/{id}", "feeds/{id}", "orders/partnerid"}),
        {"pull": "default", "listings": "default", "push": "default"},
        # the feed is read again once its entries are acknowledged; products follow links
        chained=frozenset({"feeds", "products"}),
    ),
    "tiny": Platform(
        "tiny",
        TinyConnector,
        TinyEmulator,
        tiny_op,
        tiny_listings,
        # the account's budgets (the emulator's: 120 reads and 60 writes a minute) less the
        # 30% erpsync leaves to the account's other apps: the share it may use, enforced here
        {
            "default": RateLimit(rate=120 * 0.7 / 60, burst=6),
            "write": RateLimit(rate=60 * 0.7 / 60, burst=3),
        },
        "an ERP whose per-minute budget is shared by every app on the account: erpsync paces "
        "from X-RateLimit-* and keeps 30% free (the bench enforces the 70%); N orders "
        "created, M SKUs' stock read",
        frozenset({"produtos", "contatos"}),
        {"orders": "write", "stock": "default"},
        erp=True,
    ),
}


# -- one platform's run -------------------------------------------------------------------------


class Run:
    """One platform: emulator + connector on a shared scaled clock, and its phases."""

    def __init__(
        self, platform: Platform, args: argparse.Namespace, folder: Path, latency_ms: float = 0.0
    ) -> None:
        self.platform = platform
        self.args = args
        #: the platform's round trip in platform seconds; the knob is set per phase (real time)
        self.round_trip = latency_ms / 1000.0
        # the emulator runs in this process: its work is within the round trip (a platform's
        # answer time includes its servers' work), not added to it
        self.latency = Latency(seed=1, includes_work=True)
        self.clock = ScaledClock(1.0)
        kwargs: dict[str, Any] = {"seed": 1, "clock": self.clock.now, "sandbox_orders": 0}
        self.emulator = platform.emulator_class(**kwargs)
        now = self.clock.now()
        self.window_start = now - timedelta(days=10)
        self.order_ids = (
            []
            if platform.erp
            else self.emulator.seed_orders(
                args.orders, start=self.window_start, end=now - timedelta(minutes=10)
            )
        )
        self.skus = platform.add_listings(self.emulator, args.skus)
        self.limits: Mapping[str, RateLimit]
        if platform.enforced is None:
            assert isinstance(self.emulator, AmazonEmulator)
            self.limits = {
                op: RateLimit(rate=rate, burst=burst) for op, (rate, burst) in USAGE_PLANS.items()
            }
            self.buckets: Mapping[str, TokenBucket] = self.emulator.buckets
            inner: Any = self.emulator.app
        else:
            self.limits = platform.enforced
            enforcer = Enforcer(self.emulator, self.limits, self.clock, platform.classify)
            self.buckets = enforcer.buckets
            inner = enforcer
        # the round trip outside the rate-limit enforcement: a request reaches the platform's
        # bucket half a round trip after it was sent, as over the network
        inner = LatencyMiddleware(inner, self.latency)
        self.recorder = Recorder(inner, self.clock, platform.classify)
        self.transport = EmulatorTransport(self.recorder)
        self.tokens = MemoryTokenStore()
        self.connector = self.connect()
        self.store: Store = open_store(f"sqlite:///{folder}/{platform.key}.db")
        self.phases: list[Phase] = []
        self.outcomes: list[Any] = []
        self.notes: list[str] = []
        self.ok_so_far: dict[str, int] = {}
        # the collector as the CLI runs it (erpsync.engine.heap: what is alive when a pull
        # starts is frozen), frozen again per run
        # (heap.start freezes once per process; this run's emulator and its seeded orders
        # are alive now). Without it, this process's full collections scanned every run's
        # emulator and imports and stalled a listing 0.2-0.4 s each (real time: x3 on
        # Magalu's clock), three or four per 2,000-order pull, which no CLI run has.
        heap.enable()
        gc.collect()
        gc.freeze()

    def connect(self) -> HttpConnector:
        cls = self.platform.connector_class
        settings = ConnectorSettings(
            name=self.platform.key,
            type=cls.type,
            credentials=cls.Credentials(**self.emulator.credentials()),
            options=cls.Options(**self.emulator.options()),
            base_url=f"http://{self.platform.key}.bench",
        )
        context = ConnectorContext(
            token_store=self.tokens,
            transport=self.transport,
            # production policy (6 attempts, jittered back-off), waiting on the scaled clock
            retry_policy=RetryPolicy(sleep=self.clock.sleep),
            clock=self.clock.now,
            sleep=self.clock.sleep,
            monotonic=self.clock.monotonic,
            concurrency=self.args.concurrency,
        )
        return cls(settings, context)

    def phase(
        self,
        name: str,
        pacing: str | None,
        action: Callable[[], Any],
        other_wait: Callable[[list[Call]], float] | None = None,
        dependent: frozenset[str] = frozenset(),
    ) -> Phase:
        rate = self.limits[pacing].rate if pacing is not None and pacing in self.limits else None
        scale = self.args.scale or scale_for(rate, self.args.rps, MAX_SCALE)
        self.clock.set_scale(scale)
        jitter = self.round_trip * self.args.jitter
        self.latency.set((self.round_trip - jitter / 2) / scale, jitter / scale)
        start_levels = levels(self.buckets)
        first = len(self.recorder.calls)
        start = self.clock.monotonic()
        known = known_levels(self.recorder.calls[:first], self.limits, start)
        cpu = time.process_time()
        outcome = action()
        cpu = (time.process_time() - cpu) * scale
        end = self.clock.monotonic()
        calls = self.recorder.calls[first:]
        phase = Phase(name, scale, start, end, calls, start_levels, known_levels=known)
        phase.round_trip, phase.dependent = self.round_trip, dependent
        phase.chained = self.platform.chained
        phase.other_wait = other_wait(calls) if other_wait else 0.0
        phase.cpu = cpu
        analyse(phase, self.limits, self.ok_so_far)
        self.phases.append(phase)
        self.outcomes.append(outcome)
        self.notes.append("")
        return phase

    def pull(self, name: str, per: int, since: datetime | None = None) -> Phase:
        """A pull phase; ``per``: the orders it is about (requests/order divides by it)."""
        phase = self.phase(
            name,
            self.platform.pacing["pull"],
            lambda: pull_orders(self.connector, self.store, since=since),
            dependent=self.platform.detail,
        )
        report = self.outcomes[-1]
        detail = sum(1 for c in phase.calls if c.label in self.platform.detail)
        self.notes[-1] = (
            f"{report.fetched} orders fetched ({report.new} new, {report.updated} updated); "
            f"{len(phase.calls) / max(1, per):.2f} requests/order over {per} orders, "
            f"{detail} per-order requests"
        )
        return phase

    def stock(self, quantity: Callable[[int], int]) -> None:
        with self.store.session() as session:
            for n, sku in enumerate(self.skus):
                if products.get_product(session, sku) is None:
                    products.upsert_product(session, sku, name=sku)
                ledger.set_on_hand(session, sku, "main", quantity(n))

    def erp_run(self) -> None:
        """An ERP: N channel orders created (each SKU's product id resolved once, a pool of
        returning buyers), then the balances of the M SKUs."""
        connector = self.connector
        assert isinstance(connector, BlingConnector | TinyConnector)
        count, skus = self.args.orders, self.skus
        cpfs = [_cpf(n) for n in range(20)]
        made = [_erp_order(n, skus[n % len(skus)], cpfs[n % len(cpfs)]) for n in range(count)]
        phase = self.phase(
            f"push-orders: {count}",
            self.platform.pacing["orders"],
            lambda: [connector.create_order(order) for order in made],
        )
        failed = [r.error for r in self.outcomes[-1] if not r.ok]
        self.notes[-1] = (
            f"{count - len(failed)} created, {len(failed)} failed; "
            f"{len(phase.calls) / max(1, count):.2f} requests/order"
        )
        # pull-stock in a process of its own whose store knows no product id yet (the worst
        # case: a later cron run reads them from erp_products)
        connector.product_ids.clear()
        phase = self.phase(
            f"pull-stock: {len(skus)} SKUs",
            self.platform.pacing["stock"],
            lambda: [level for batch in connector.fetch_stock(skus) for level in batch],
        )
        self.notes[-1] = f"{len(self.outcomes[-1])} levels; {len(phase.calls)} requests"

    def run(self) -> None:
        if self.platform.erp:
            self.erp_run()
            return
        pacing = self.platform.pacing
        orders = len(self.order_ids)
        self.pull("pull: first", orders)
        # the whole window again, nothing changed: only list calls may be made
        self.pull("pull: unchanged", orders, since=self.window_start - timedelta(minutes=1))
        changed = self.order_ids[:: max(1, orders // max(1, orders // 10))]
        for order_id in changed:
            self.emulator.update_order(order_id)  # a touch: its update time becomes now
        self.clock.advance(150)  # past Amazon's 2-minute getOrders lag (an idle seller)
        self.pull(f"pull: {len(changed)} changed", len(changed))
        self.phase(
            "listings pull",
            pacing["listings"],
            lambda: pull_listings(self.connector, self.store),
        )
        self.stock(lambda n: 10 + n % 40)
        if self.platform.key != "amazon":
            self.phase(
                f"push: {len(self.skus)} SKUs",
                pacing["push"],
                lambda: push_stock(self.connector, self.store, safety_stock=0),
            )
            return
        self.amazon_pushes()

    def amazon_pushes(self) -> None:
        """PATCH per SKU (feed_threshold raised to M), then M more changes through a feed."""
        base = self.connector.settings
        options = base.options.model_copy(update={"feed_threshold": len(self.skus)})
        self.connector.settings = dataclasses.replace(base, options=options)
        self.phase(
            f"push: {len(self.skus)} PATCH",
            "patchListingsItem",
            lambda: push_stock(self.connector, self.store, safety_stock=0),
        )
        self.connector.settings = base
        self.stock(lambda n: 60 + n % 40)
        poll = float(self.connector.options.feed_poll_seconds)

        def polling(calls: list[Call]) -> float:
            # feed processing, not a rate limit: the connector sleeps between getFeed polls
            feeds = sum(1 for c in calls if c.label == "createFeed")
            return max(0, sum(1 for c in calls if c.label == "getFeed") - feeds) * poll

        self.phase(
            f"push: {len(self.skus)} via feed",
            "getFeed",
            lambda: push_stock(self.connector, self.store, safety_stock=0),
            other_wait=polling,
        )

    def close(self) -> None:
        self.connector.close()
        self.transport.close()
        self.store.close()
        gc.unfreeze()  # this run's emulator goes with it


def _cpf(n: int) -> str:
    """A valid CPF (check digits computed) for bench buyer ``n``."""
    digits = [int(d) for d in f"{100_000_000 + n * 7919:09d}"]
    for size in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(size + 1, 1, -1), strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))


def _erp_order(n: int, sku: str, cpf: str) -> Order:
    moment = datetime(2026, 11, 2, 12, 0, tzinfo=UTC) + timedelta(minutes=n)
    item = OrderItem(sku=sku, quantity=1 + n % 3, unit_price=Decimal("10.00"))
    total = item.unit_price * item.quantity
    return Order(
        connector="bench-channel",
        platform="Bench",
        external_id=f"B{n:06d}",
        number=f"B{n:06d}",
        status=OrderStatus.PAID,
        channel_status="paid",
        created_at=moment,
        updated_at=moment,
        items_total=total,
        total=total,
        buyer=Buyer(name=f"Buyer {n % 20}", document=cpf),
        items=(item,),
    )


# -- report ------------------------------------------------------------------------------------


def report(run: Run) -> list[str]:
    """Print the platform's table; return the targets it misses."""
    platform = run.platform
    print(f"\n== {platform.key}: {platform.why}")
    used = {op for phase in run.phases for op in phase.ops}
    declared = [f"{op} {lim.rate:.3g}/s burst {lim.burst}" for op, lim in run.limits.items()]
    print(f"   enforced (used): {', '.join(d for d in declared if d.split()[0] in used)}")
    print(
        f"   {'phase / operation':34s} {'calls':>6s} {'429s(late)':>10s} {'bound s':>9s} "
        f"{'safe s':>7s} {'achieved s':>11s} {'fraction':>8s} {'of bound':>8s} {'CPU s':>7s}"
    )
    misses: list[str] = []
    for phase, line in zip(run.phases, run.notes, strict=True):
        print(
            f"   {phase.name + f' (x{phase.scale:g})':34s} {len(phase.calls):6d} "
            f"{phase.throttled:10d} {phase.bound:9.1f} {phase.safe_bound:7.1f} "
            f"{phase.achieved:11.1f} "
            f"{fraction(phase.safe_bound, phase.achieved, phase.limit_bound):>8s} "
            f"{fraction(phase.bound, phase.achieved, phase.limit_bound):>8s} {phase.cpu:7.1f}"
            + (" CPU-bound" if phase.cpu_bound else "")
        )
        for figures in sorted(phase.ops.values(), key=lambda f: -f.calls):
            throttled = f"{figures.throttled}({figures.late_throttled})"
            print(
                f"     {figures.op:32s} {figures.calls:6d} {throttled:>10s} "
                f"{figures.bound:9.1f} {'':7s} {figures.achieved:11.1f} {'':8s} "
                f"{fraction(figures.bound, figures.achieved):>8s}"
            )
            if figures.late_throttled:
                misses.append(f"{phase.name}: {figures.late_throttled} 429s on {figures.op}")
        if phase.other_wait:
            print(f"     (bound includes {phase.other_wait:.0f} s of feed processing polls)")
        if line:
            print(f"     {line}")
        limited = phase.limit_bound >= LIMIT_BOUND and not phase.cpu_bound
        short = limited and phase.safe_bound < 0.9 * phase.achieved
        if short:
            share = fraction(phase.safe_bound, phase.achieved, phase.limit_bound)
            misses.append(f"{phase.name}: {share} of the safe bound")
        if short or run.args.explain:
            print(f"     {breakdown(phase).describe()}")
        detail = sum(1 for c in phase.calls if c.label in platform.detail)
        if phase.name == "pull: unchanged" and detail:  # the only phase with no change
            misses.append(f"{phase.name}: {detail} per-order requests for unchanged orders")
    return misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="orders seeded (N)")
    parser.add_argument("--skus", type=int, default=200, help="stock changes pushed (M)")
    parser.add_argument("--scale", type=float, default=None, help="one time scale for all")
    parser.add_argument("--rps", type=float, default=40.0, help="real req/s per phase (auto)")
    parser.add_argument("--platform", choices=sorted(PLATFORMS), action="append")
    parser.add_argument(
        "--latency", default="0,150,300", help="round trips to run at, ms, comma-separated"
    )
    parser.add_argument(
        "--concurrency", type=int, default=None, help="cap of requests in flight (1: sequential)"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="say where every phase's time went (phases under 90%% always say it)",
    )
    parser.add_argument(
        "--jitter", type=float, default=0.2, help="jitter as a fraction of the round trip"
    )
    args = parser.parse_args()
    latencies = [float(ms) for ms in args.latency.split(",") if ms.strip()]
    print(
        "CPU s = this process's CPU time (connector, engine and the in-process emulator) in "
        "platform seconds; CPU-bound: it covered >= 80% of the phase.\n"
        "bound per operation = max(0, calls - tokens at its first call) / rate; phase bound = "
        "the phase's successful calls replayed in order through ideal buckets (sequential "
        "client, zero latency), plus the round trips no client avoids (the last answer; a "
        "pull's first answer before the per-order requests it names): >= max over "
        "operations. safe = the same for a client that never risks a 429, so cannot count "
        "a server's refill before its answers (the server counts a request on arrival, which "
        "no client sees). fraction = safe / achieved (platform seconds, floored), the "
        "target's measure; of bound = bound / achieved; '-': nothing had to wait for a limit."
    )
    misses: list[str] = []
    started = time.monotonic()
    summary: dict[tuple[str, str], dict[float, str]] = {}
    for latency in latencies:
        for key in args.platform or list(PLATFORMS):
            with tempfile.TemporaryDirectory() as tmp:
                run = Run(PLATFORMS[key], args, Path(tmp), latency)
                try:
                    run.run()
                finally:
                    run.close()
                print(f"\n[round trip {latency:g} ms]", end="")
                misses += [f"{key} at {latency:g} ms: {m}" for m in report(run)]
                for phase in run.phases:
                    late = sum(f.late_throttled for f in phase.ops.values())
                    cell = fraction(phase.safe_bound, phase.achieved, phase.limit_bound)
                    if cell != "-":
                        server = fraction(phase.bound, phase.achieved, phase.limit_bound)
                        cell += f" ({server})" + (" cpu" if phase.cpu_bound else "")
                    cell += f" ({late} late 429)" if late else ""
                    summary.setdefault((key, phase.name), {})[latency] = cell
    print(
        "\nfraction of the limit-bound rate per round trip: of the safe bound (of the bound "
        "in brackets); '-': not limit-bound; 'cpu': this process's CPU, not the limit, paced "
        "the phase"
    )
    print(f"   {'platform / phase':40s}" + "".join(f"{f'{ms:g} ms':>20s}" for ms in latencies))
    for (key, name), cells in summary.items():
        row = "".join(f"{cells.get(ms, ''):>20s}" for ms in latencies)
        print(f"   {key + ': ' + name:40s}{row}")
    print(f"\nwall time {time.monotonic() - started:.1f} s")
    if misses:
        print("targets missed:\n  " + "\n  ".join(misses))
        return 1
    print(
        "targets met: >= 90% of the limit-bound rate, no 429 after the first burst, "
        "no per-order request for unchanged orders"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
