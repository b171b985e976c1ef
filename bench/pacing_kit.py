"""Pacing benchmark kit: scaled clock, timing recorder, limit enforcement, bounds, platform maps.

Used by bench/pacing.py. Everything here measures in *platform seconds* (the scaled clock), so
figures read as if the run had taken real time against the real platform.
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from erpsync.connector import RateLimit
from erpsync.connectors.amazon.emulator import AmazonEmulator
from erpsync.connectors.anymarket.emulator import AnymarketEmulator
from erpsync.connectors.bling.emulator import BlingEmulator
from erpsync.connectors.lojaintegrada.emulator import LojaIntegradaEmulator
from erpsync.connectors.magalu.emulator import MagaluEmulator
from erpsync.connectors.magalu.emulator import wire as magalu_wire
from erpsync.connectors.mercadolivre.emulator import MercadoLivreEmulator
from erpsync.connectors.nuvemshop.emulator import NuvemshopEmulator
from erpsync.connectors.tiny.emulator import TinyEmulator
from erpsync.connectors.vnda.emulator import VndaEmulator
from erpsync.connectors.vnda.emulator import seed as vnda_seed
from erpsync.domain import utcnow
from erpsync.emulation import Emulator, TokenBucket

#: (label for the report, rate-limit operation or None when the endpoint is not limited)
Classifier = Callable[[str, str], tuple[str, str | None]]


class ScaledClock:
    """Platform time that runs ``scale`` times faster than real time.

    One instance is shared by the emulator (its datetime clock, so its token buckets, token
    TTLs and Amazon's 2-minute lag all scale) and the connector (ConnectorContext clock,
    monotonic and sleep, so its rate limiters and retry back-off scale the same way). Both read
    the same underlying ``time.monotonic()``, so the two sides never drift apart.
    """

    def __init__(self, scale: float, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._real0 = time.monotonic()
        self._virtual0 = 0.0
        self.scale = scale
        self.epoch = start or utcnow()

    def monotonic(self) -> float:
        """Platform seconds since the clock was made."""
        with self._lock:
            return self._virtual0 + (time.monotonic() - self._real0) * self.scale

    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=self.monotonic())

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)

    def set_scale(self, scale: float) -> None:
        """Change the speed from now on; platform time stays continuous (call between phases,
        when nothing is sleeping on the old scale)."""
        with self._lock:
            self._virtual0 += (time.monotonic() - self._real0) * self.scale
            self._real0 = time.monotonic()
            self.scale = scale

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of platform time pass at once (idle time between runs)."""
        with self._lock:
            self._virtual0 += seconds


@dataclass
class Call:
    """One request the emulator received: platform time of arrival, what, and the answer."""

    at: float
    label: str
    op: str | None
    method: str
    path: str
    status: int | None = None
    #: platform time the answer reached the client (None: not answered)
    answered: float | None = None


class Recorder:
    """Outermost ASGI wrapper: records every request with its platform arrival time."""

    def __init__(self, app: ASGIApp, clock: ScaledClock, classify: Classifier) -> None:
        self.app = app
        self.clock = clock
        self.classify = classify
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        label, op = self.classify(scope["method"], scope["path"])
        call = Call(self.clock.monotonic(), label, op, scope["method"], scope["path"])
        with self._lock:
            self.calls.append(call)

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                call.status = message["status"]
                call.answered = self.clock.monotonic()
            await send(message)

        await self.app(scope, receive, noting)


class Enforcer:
    """ASGI wrapper enforcing token buckets per operation, answering the platform's own 429.

    For platforms that publish no numbers (Mercado Livre, Magalu): the buckets are the
    connector's *declared* limits, so the bench checks that erpsync uses what it declares fully
    and never overruns it.
    """

    def __init__(
        self,
        emulator: Emulator,
        limits: Mapping[str, RateLimit],
        clock: ScaledClock,
        classify: Classifier,
    ) -> None:
        self.emulator = emulator
        self.app = emulator.app
        self.classify = classify
        self.buckets = {
            op: TokenBucket(limit.rate, max(1, int(limit.burst)), clock=clock.monotonic)
            for op, limit in limits.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            _, op = self.classify(scope["method"], scope["path"])
            bucket = self.buckets.get(op) if op else None
            if bucket is not None and not bucket.try_take():
                response = self.emulator.rate_limit_response(None)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def levels(buckets: Mapping[str, TokenBucket]) -> dict[str, float]:
    """Tokens each server bucket holds now."""
    found = {}
    for op, bucket in buckets.items():
        with bucket._lock:
            bucket._refill()
            found[op] = bucket._tokens
    return found


@dataclass
class OpFigures:
    """One rate-limit operation within a phase."""

    op: str
    calls: int = 0
    throttled: int = 0
    late_throttled: int = 0
    first: float | None = None
    last: float | None = None
    bound: float = 0.0

    @property
    def achieved(self) -> float:
        return (self.last - self.first) if self.first is not None and self.last is not None else 0


@dataclass
class Phase:
    """What one phase did: its calls, its platform-time span and its limit-bound minimum."""

    name: str
    scale: float
    start: float
    end: float
    calls: list[Call]
    start_levels: dict[str, float]
    #: seconds the phase must wait for reasons other than rate limits (feed processing polls)
    other_wait: float = 0.0
    #: this process's CPU (client and in-process emulator) in platform seconds
    cpu: float = 0.0
    #: the platform's round trip (platform seconds) and the kinds of request that need an
    #: earlier answer (a pull's per-order detail calls): the bound counts what they force
    #: the bound without its round trips: what the limits alone make (limit-bound if >= 1 s)
    limit_bound: float = 0.0
    round_trip: float = 0.0
    dependent: frozenset[str] = frozenset()
    chained: frozenset[str] = frozenset()
    ops: dict[str, OpFigures] = field(default_factory=dict)
    bound: float = 0.0
    #: what a client could know of the server's buckets at the phase's start (``Shadow``)
    known_levels: dict[str, float] = field(default_factory=dict)
    #: the bound for a client that never risks a 429 (see ``analyse``): the target's measure
    safe_bound: float = 0.0

    @property
    def achieved(self) -> float:
        return self.end - self.start

    @property
    def throttled(self) -> int:
        return sum(1 for c in self.calls if c.status == 429)

    @property
    def cpu_bound(self) -> bool:
        """The process was busy most of the phase: this machine's CPU, not the platform's
        limit, set its pace (the time scale multiplies CPU time too)."""
        return self.cpu >= CPU_BOUND * self.achieved


def analyse(phase: Phase, limits: Mapping[str, RateLimit], ok_so_far: dict[str, int]) -> None:
    """Fill ``phase.ops``, ``phase.bound`` and ``phase.safe_bound``.

    Per operation: bound = max(0, calls - tokens)/rate, tokens being what the server bucket
    held when the operation's first call arrived (at most its burst). The phase bound replays
    the phase's successful calls, in their order, through ideal buckets starting at the
    server's levels, with zero latency: the fastest a one-request-at-a-time client making
    exactly these calls could go. It is >= the max over operations (buckets refill in parallel,
    but a sequential client cannot spend a refilled token while it waits on another bucket)
    and <= their sum. Plus the round trips no client avoids (``replay``): the last answer, the
    first answer before the per-order requests it names, each page of a token- or link-paged
    listing after the previous page's answer, an access token's answer before the requests it
    signs. Requests still unanswered at the phase's end (pages read ahead past a listing's
    end, which the phase did not wait for) are left out.

    The safe bound is the same replay for the fastest client that never risks a 429. Such a
    client cannot see when the server counted a request: anywhere between sending it and
    its answer. So it knows the server's buckets only as ``Shadow`` keeps them (each
    request counted at its answer, each unanswered one as counted already), from the
    phase's start (``known_levels``) to its end. At 0 ms it is the bound; with a round
    trip, a burst from a full bucket costs it the refill of that round trip
    (``RateLimiter._refill``'s in-flight rule, which tests/http/test_ratelimit.py shows is
    the worst case played exactly).
    """
    for call in phase.calls:
        if call.op is None or call.op not in limits:
            continue
        figures = phase.ops.setdefault(call.op, OpFigures(call.op))
        if call.status == 429:
            figures.throttled += 1
            if ok_so_far.get(call.op, 0) >= limits[call.op].burst:
                figures.late_throttled += 1
            continue
        figures.calls += 1
        ok_so_far[call.op] = ok_so_far.get(call.op, 0) + 1
        figures.first = call.at if figures.first is None else figures.first
        figures.last = call.at
    for op, figures in phase.ops.items():
        limit = limits[op]
        waited = (figures.first or phase.start) - phase.start
        tokens = min(
            float(limit.burst), phase.start_levels.get(op, limit.burst) + waited * limit.rate
        )
        figures.bound = max(0.0, figures.calls - tokens) / limit.rate
    # a request still unanswered when the phase ended (a page read ahead past the listing's
    # end, which the phase did not wait for) is no part of what the phase needed
    ok = [c for c in phase.calls if c.status != 429 and (c.answered or math.inf) <= phase.end]
    phase.limit_bound = replay(ok, limits, phase.start_levels) + phase.other_wait
    phase.bound = (
        replay(ok, limits, phase.start_levels, phase.round_trip, phase.dependent, phase.chained)
        + phase.other_wait
    )
    phase.safe_bound = max(
        phase.bound,
        replay(
            ok,
            limits,
            phase.known_levels or phase.start_levels,
            phase.round_trip,
            phase.dependent,
            phase.chained,
            safe=True,
        )
        + phase.other_wait,
    )


def replay(
    calls: Iterable[Call],
    limits: Mapping[str, RateLimit],
    start: dict[str, float],
    round_trip: float = 0.0,
    dependent: frozenset[str] = frozenset(),
    chained: frozenset[str] = frozenset(),
    *,
    safe: bool = False,
) -> float:
    """Seconds an ideal sequential client needs for ``calls`` (see ``analyse``).

    ``round_trip``: the platform's round trip, where no client can avoid it: the phase ends
    with its last answer; a request of a ``dependent`` kind (a per-order detail call, named
    by a listing's answer) cannot be sent before the phase's first request has been answered;
    a request of a ``chained`` kind (the next page of a listing paged by a token or a next
    link, a queue read again after its entries were acknowledged) not before the answer to
    the previous request of its kind. Other answers are not waited for (a pipelining client
    reads the next page while this page's details go), so this stays a lower bound.
    A token request (``TOKEN_REQUESTS``: a first pull's, or a refresh) holds every later
    request for its round trip. ``safe``: each request waits until its ``Shadow`` bucket
    lets it go (its answer comes a round trip later), not the server's bucket.
    """
    now = 0.0
    first: float | None = None
    previous: dict[str, float] = {}
    buckets = {
        op: Shadow(limit, start.get(op, float(limit.burst)), 0.0) for op, limit in limits.items()
    }
    for call in calls:
        if call.label in TOKEN_REQUESTS:
            now += round_trip  # nothing the token signs can go before it comes back
            continue
        if call.op is None or call.op not in limits:
            continue
        if call.label in dependent and first is not None:
            now = max(now, first + round_trip)
        if call.label in chained and call.label in previous:
            now = max(now, previous[call.label] + round_trip)
        bucket = buckets[call.op]
        now = bucket.earliest(now)
        # the server's bucket (not safe) counts the request at once, as a zero-latency one
        bucket.send(now, now + round_trip if safe else now)
        first = now if first is None else first
        previous[call.label] = now
    return now + (round_trip if first is not None else 0.0)


class Shadow:
    """A server's token bucket as a client can know it: never fuller than the server's.

    The server counts a request when it arrives, which the client never sees: any time
    between sending it and its answer. The later a request is counted, the less the
    bucket holds afterwards (a full bucket refills nothing until its first request lands),
    so the worst case the client must assume counts each answered request at its answer
    and each unanswered one at once (an unanswered request may land any moment). 429s are
    not counted once answered (the server refused them). With answers that come at once
    this is the server's bucket.
    """

    def __init__(self, limit: RateLimit, level: float, at: float) -> None:
        self.rate = limit.rate
        self.burst = float(max(1, int(limit.burst)))
        self.level = min(self.burst, level)
        self.updated = at
        #: (answer time, counted by the server) of each request sent and not yet answered
        self.unanswered: list[tuple[float, bool]] = []

    def send(self, at: float, answered: float, *, counted: bool = True) -> None:
        """A request sent at ``at`` whose answer comes at ``answered``."""
        self._advance(at)
        heapq.heappush(self.unanswered, (answered, counted))

    def available(self, at: float) -> float:
        """Tokens a request could take at ``at`` without risking a refusal."""
        self._advance(at)
        return self.level - self._landing()

    def earliest(self, at: float) -> float:
        """The first instant from ``at`` on when one more request may go."""
        self._advance(at)
        while True:
            waiting = self._landing()
            if self.burst - waiting >= 1.0:
                ready = self.updated + max(0.0, (1.0 + waiting - self.level) / self.rate)
                if not self.unanswered or ready <= self.unanswered[0][0]:
                    return ready
            self._advance(self.unanswered[0][0])

    def _landing(self) -> int:
        """Unanswered requests the server may count any moment (429s are not counted)."""
        return sum(1 for _, counted in self.unanswered if counted)

    def _advance(self, to: float) -> None:
        while self.unanswered and self.unanswered[0][0] <= to:
            answered, counted = heapq.heappop(self.unanswered)
            self._refill(answered)
            self.level -= 1.0 if counted else 0.0
        self._refill(to)

    def _refill(self, to: float) -> None:
        if to > self.updated:
            self.level = min(self.burst, self.level + (to - self.updated) * self.rate)
            self.updated = to


def known_levels(
    calls: Iterable[Call], limits: Mapping[str, RateLimit], at: float
) -> dict[str, float]:
    """What a client could know at ``at`` of the server's buckets (``Shadow``), full at 0,
    after ``calls`` (every call of the run so far, in the order they were sent)."""
    buckets = {op: Shadow(limit, float(limit.burst), 0.0) for op, limit in limits.items()}
    for call in calls:
        if call.op in buckets:
            answered = call.answered if call.answered is not None else float("inf")
            buckets[call.op].send(call.at, answered, counted=call.status != 429)
    return {op: bucket.available(at) for op, bucket in buckets.items()}


@dataclass
class Breakdown:
    """Where a phase's platform time went beyond its bound: achieved = bound + unseen +
    before + rest + after.

    ``unseen``: the safe bound beyond the bound (the refill a client may not count because
    it cannot see when the server counted its requests: ``Shadow``);
    ``before``: phase start to the first request sent (the engine's and connector's start);
    ``after``: the last answer to the phase's end (mapping, storing, committing); ``rest``:
    the time beyond the bound between them (requests that could have gone earlier: waiting on
    another's answer, the concurrency cap, this process's CPU). ``tail``: the last request
    sent to the last answer (its round trip, counted in the bound). ``gaps``: the largest
    pauses between two consecutive requests sent (the labels of both).
    """

    unseen: float = 0.0
    before: float = 0.0
    rest: float = 0.0
    tail: float = 0.0
    after: float = 0.0
    gaps: list[tuple[float, str, str]] = field(default_factory=list)

    def describe(self, largest: int = 3) -> str:
        gaps = ", ".join(f"{gap:.2f} s {prev} -> {late}" for gap, prev, late in self.gaps[:largest])
        return (
            f"beyond the bound: {self.unseen:.2f} s of refill no client may count before "
            f"its answers, {self.before:.2f} s before the first request, "
            f"{self.after:.2f} s after the last answer, {self.rest:+.2f} s between "
            f"(largest pauses: {gaps or 'none'}; last request to its answer {self.tail:.2f} s)"
        )


def breakdown(phase: Phase) -> Breakdown:
    """Split the phase's time around its requests (see ``Breakdown``)."""
    found = Breakdown(unseen=phase.safe_bound - phase.bound)
    calls = sorted(phase.calls, key=lambda c: c.at)
    if not calls:
        found.after = phase.achieved
        return found
    found.before = calls[0].at - phase.start
    answered = [c.answered for c in calls if c.answered is not None]
    last_answer = max(answered) if answered else calls[-1].at
    found.tail = max(0.0, last_answer - calls[-1].at)
    found.after = max(0.0, phase.end - last_answer)
    found.rest = phase.achieved - phase.safe_bound - found.before - found.after
    found.gaps = sorted(
        ((late.at - prev.at, prev.label, late.label) for prev, late in pairwise(calls)),
        reverse=True,
    )
    return found


#: the labels of the platforms' token requests (see ``replay``)
TOKEN_REQUESTS = frozenset({"LWA token", "oauth/token", "authorize/token"})
#: a phase is CPU-bound when the process's CPU covered this much of its span
CPU_BOUND = 0.8
#: a phase or operation is limit-bound when its bound is at least this many platform seconds
LIMIT_BOUND = 1.0


def fraction(bound: float, achieved: float, limit_bound: float | None = None) -> str:
    """bound/achieved as a percentage; "-" when nothing had to wait for a limit
    (``limit_bound``: the part of ``bound`` the limits make, when it also counts round
    trips: a phase made slow by round trips alone is not limit-bound)."""
    if (bound if limit_bound is None else limit_bound) < LIMIT_BOUND or achieved <= 0:
        return "-"
    # floored: a phase printed at 90% has made the 90% target
    return f"{math.floor(100 * bound / achieved)}%"


def scale_for(rate: float | None, rps: float, max_scale: float) -> float:
    """A time scale putting ``rate`` (platform req/s) at ``rps`` real req/s, capped."""
    if not rate:
        return max_scale
    return max(1.0, min(max_scale, rps / rate))


# -- each platform: its operations, and M more listings ------------------------------------------


def amazon_op(method: str, path: str) -> tuple[str, str | None]:
    parts = path.strip("/").split("/")
    if path == "/auth/o2/token":
        return "LWA token", None
    if path.startswith("/s3/"):
        return "S3 document", None  # a pre-signed URL: no SP-API usage plan
    if path.startswith("/tokens/"):
        op = "createRestrictedDataToken"
    elif path.startswith("/orders/v0/orders"):
        op = {3: "getOrders", 4: "getOrder"}.get(len(parts), "getOrderItems")
    elif path.startswith("/listings/"):
        op = "searchListingsItems" if len(parts) == 4 else "getListingsItem"
        op = "patchListingsItem" if method == "PATCH" else op
    elif path.startswith("/feeds/2021-06-30/documents"):
        op = "createFeedDocument" if method == "POST" else "getFeedDocument"
    elif path.startswith("/feeds/2021-06-30/feeds"):
        op = "createFeed" if method == "POST" else "getFeed"
    else:
        return path, None
    return op, op


def mercadolivre_op(method: str, path: str) -> tuple[str, str | None]:
    # the connector's operations: PUT /items/{id} is "stock"; every read shares "default"
    if path == "/oauth/token":
        return "oauth/token", None
    if method == "PUT" and path.startswith("/items/"):
        return "PUT items/{id}", "stock"
    for prefix, label in (
        ("/orders/search", "orders/search"),
        ("/orders/billing-info/", "billing-info"),
        ("/orders/", "orders/{id}"),
        ("/shipments/", "shipments/{id}"),
        ("/items", "items multiget"),
    ):
        if path.startswith(prefix):
            return label, "default"
    return ("items/search" if path.endswith("/items/search") else path), "default"


def magalu_op(method: str, path: str) -> tuple[str, str | None]:
    if path == "/oauth/token":
        return "oauth/token", None
    if path == "/seller/v1/orders":
        return "orders", "orders"
    if path.startswith("/seller/v1/orders/"):
        return "orders/{id}", "default"
    if path.startswith("/seller/v1/portfolios/skus"):
        return "skus", "skus"
    if path.startswith("/seller/v1/portfolios/stocks/"):
        op = "stock_write" if method == "PATCH" else "stock_read"
        return op, op
    return path, "default"


def amazon_listings(emulator: Emulator, count: int) -> list[str]:
    assert isinstance(emulator, AmazonEmulator)
    template = emulator.catalog[0]
    stamp = emulator.clock().isoformat()
    skus = [f"BENCH-{n:05d}" for n in range(count)]
    for n, sku in enumerate(skus):
        emulator.listings[sku] = {
            **template,
            "sku": sku,
            "asin": f"B0BENCH{n:05d}",
            "title": f"Produto {n}",
            "quantity": 0,
            "fba": False,
            "created": stamp,
            "updated": stamp,
        }
    return skus


def mercadolivre_listings(emulator: Emulator, count: int) -> list[str]:
    assert isinstance(emulator, MercadoLivreEmulator)
    emulator.add_items(count)
    return [f"BULK-{5000 + n}" for n in range(count)]


def magalu_listings(emulator: Emulator, count: int) -> list[str]:
    assert isinstance(emulator, MagaluEmulator)
    skus = [f"BENCH-{n:05d}" for n in range(count)]
    stamp = magalu_wire.iso(emulator.clock())
    with emulator._state:
        for sku in skus:
            entry = {"sku": sku, "title": sku, "brand": "Bench", "price": 1000, "stock": 0}
            emulator.skus[sku] = magalu_wire.sku_resource(entry, emulator.channel_id)
            emulator.stock[sku] = 0
            emulator.stock_updated[sku] = stamp
    return skus


def nuvemshop_op(method: str, path: str) -> tuple[str, str | None]:
    """One leaky bucket per store: every API call shares "default"."""
    if path == "/apps/authorize/token":
        return "authorize/token", None
    parts = path.strip("/").split("/")
    if parts and parts[0] == "v1":
        parts = parts[1:]
    rest = parts[1:]  # after the store id
    if rest[:1] == ["orders"]:
        return ("orders" if len(rest) == 1 else "orders/{id}"), "default"
    if rest[:2] == ["products", "stock-price"]:
        return "stock-price", "default"
    if rest[:1] == ["products"]:
        return "products", "default"
    return "/".join(rest) or path, "default"


def nuvemshop_listings(emulator: Emulator, count: int) -> list[str]:
    """``count`` one-variant products with SKUs BENCH-00000..."""
    assert isinstance(emulator, NuvemshopEmulator)
    skus = [f"BENCH-{n:05d}" for n in range(count)]
    stamp = emulator.clock().strftime("%Y-%m-%dT%H:%M:%S+0000")
    with emulator._state:
        for n, sku in enumerate(skus):
            product_id, variant_id = 900_000_000 + n, 950_000_000 + n
            emulator.products[product_id] = {
                "id": product_id,
                "name": {"pt": sku},
                "published": True,
                "variants": [
                    {
                        "id": variant_id, "product_id": product_id, "sku": sku, "price": "10.00",
                        "stock_management": True, "stock": 0, "inventory_levels": [],
                        "created_at": stamp, "updated_at": stamp,
                    }
                ],
                "created_at": stamp,
                "updated_at": stamp,
            }  # fmt: skip
    return skus


def bling_op(method: str, path: str) -> tuple[str, str | None]:
    """3 requests/s per account: every API call shares "default" (the token call is apart)."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["Api", "v3"]:
        parts = parts[2:]
    if parts[-2:] == ["oauth", "token"]:
        return "oauth/token", None
    if parts[:2] == ["pedidos", "vendas"]:
        return ("pedidos/vendas" if len(parts) == 2 else "pedidos/vendas/{id}"), "default"
    if parts[:1] == ["situacoes"]:
        return "situacoes", "default"
    return "/".join(parts[:2]) or path, "default"


def bling_listings(emulator: Emulator, count: int) -> list[str]:
    """``count`` products with codes BENCH-00000... and a physical balance in each depósito."""
    assert isinstance(emulator, BlingEmulator)
    skus = [f"BENCH-{n:05d}" for n in range(count)]
    with emulator.state:
        for n, sku in enumerate(skus):
            product_id = 19_000_000_000 + n
            emulator.products.append(
                {
                    "id": product_id, "idProdutoPai": 0, "nome": sku, "codigo": sku,
                    "preco": 10.0, "precoCusto": 4.0, "tipo": "P", "situacao": "A",
                    "formato": "S", "descricaoCurta": "", "imagemURL": "",
                }
            )  # fmt: skip
            for deposit in emulator.depositos:
                emulator.fisico[(product_id, deposit["id"])] = 100 + n % 50
    return skus


def vnda_op(method: str, path: str) -> tuple[str, str | None]:
    """Vnda publishes no numbers: every call shares the connector's one declared bucket."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["api", "feed"]:
        return ("feed" if method == "GET" else "feed mark"), "default"
    rest = parts[2:]  # after api/v2
    if rest[:1] == ["orders"]:
        if len(rest) == 1:
            return "orders", "default"
        return "orders/{code}" + ("/" + "/".join(rest[2:]) if len(rest) > 2 else ""), "default"
    if rest[:1] == ["variants"]:
        return ("stock batch" if rest[1:2] == ["quantity"] else "stock"), "default"
    if rest[:1] == ["products"]:
        return ("products" if len(rest) == 1 else "products/{id}"), "default"
    return "/".join(rest) or path, "default"


def vnda_listings(emulator: Emulator, count: int) -> list[str]:
    """``count`` one-variant products with SKUs BENCH-00000..."""
    assert isinstance(emulator, VndaEmulator)
    skus = [f"BENCH-{n:05d}" for n in range(count)]
    now = emulator.clock()
    with emulator._state:
        for n, sku in enumerate(skus):
            product_id = 900_000 + n
            emulator.products[product_id] = {
                "id": product_id,
                "name": sku,
                "reference": sku,
                "active": True,
                "variants": [vnda_seed.variant(950_000 + n, sku, sku, "10.00", 0, now)],
                "updated_at": now.isoformat(),
            }
    return skus


def lojaintegrada_op(method: str, path: str) -> tuple[str, str | None]:
    """One limit per store (100/min): every API call shares "default"."""
    parts = [p for p in path.strip("/").split("/") if p]
    if parts[:1] == ["api"]:
        parts = parts[1:]
    rest = parts[1:]  # after "v1"
    if rest[:2] == ["pedido", "search"]:
        return "pedido/search", "default"
    if rest[:1] == ["pedido"]:
        return "pedido/{numero}", "default"
    if rest[:1] == ["produto_estoque"]:
        return "produto_estoque", "default"
    return "/".join(rest[:1]) or path, "default"


def lojaintegrada_listings(emulator: Emulator, count: int) -> list[str]:
    """``count`` simple produtos with SKUs BENCH-00000..."""
    assert isinstance(emulator, LojaIntegradaEmulator)
    skus = [f"BENCH-{n:05d}" for n in range(count)]
    with emulator._state:
        for n, sku in enumerate(skus):
            emulator.add_product((800_000_000 + n, sku, "normal", sku, None, "10.00", 0))
    return skus


def anymarket_op(method: str, path: str) -> tuple[str, str | None]:
    """Anymarket declares one bucket for the account: every API call shares "default"."""
    parts = path.strip("/").split("/")[1:]  # after "v2"
    if parts[:2] == ["orders", "feeds"]:
        return ("feeds" if len(parts) == 2 else "feeds/{id}"), "default"
    if parts[:2] == ["orders", "partnerid"]:
        return "orders/partnerid", "default"
    if parts[:1] == ["orders"]:
        return "orders/{id}", "default"
    return "/".join(parts) or path, "default"


def anymarket_listings(emulator: Emulator, count: int) -> list[str]:
    """``count`` one-SKU products with partnerIds BENCH-00000..."""
    assert isinstance(emulator, AnymarketEmulator)
    skus = [f"BENCH-{n:05d}" for n in range(count)]
    for n, sku in enumerate(skus):
        emulator.add_sku(800_000 + n, sku, product_id=700_000 + n)
    return skus


def tiny_op(method: str, path: str) -> tuple[str, str | None]:
    """Olist ERP: one per-minute budget for reads, one for writes (the token call is apart)."""
    if path.endswith("/openid-connect/token"):
        return "oauth/token", None
    parts = path.strip("/").split("/")
    if parts[:2] == ["public-api", "v3"]:
        parts = parts[2:]
    label = parts[0] + ("/{id}" if len(parts) > 1 else "") if parts else path
    return label, ("default" if method == "GET" else "write")


def tiny_listings(emulator: Emulator, count: int) -> list[str]:
    """``count`` products with codes BENCH-00000... and a balance each."""
    assert isinstance(emulator, TinyEmulator)
    skus = [f"BENCH-{n:05d}" for n in range(count)]
    with emulator.lock:
        for n, sku in enumerate(skus):
            product_id = 8_000_000 + n
            emulator.products[product_id] = {
                "id": product_id, "sku": sku, "descricao": sku, "saldo": 100 + n % 50, "kit": [],
            }  # fmt: skip
    return skus
