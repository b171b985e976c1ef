"""The connector contract: what a connector declares, and the few methods the engine calls.

A connector is a small declarative class. It names its ``type``, its ``capabilities``, its
``Credentials`` and ``Options`` models and (for HTTP platforms) its rate limits, auth and
paginators; then it maps the platform's shapes to ours. It never loops over pages by hand,
sleeps, retries, or opens a database session: the HTTP layer (``erpsync.http``) and the engine
(``erpsync.engine``) own those.

The engine drives a connector like this::

    connector = ConnectorClass(settings, context)
    for page in connector.fetch_orders(window, seen):     # PULL_ORDERS
        for raw in page.orders:
            order = connector.map_order(raw.payload)         # pure; failures go to quarantine
    for batch in connector.fetch_listings(): ...             # PULL_LISTINGS
    results = connector.push_stock(updates)                  # PUSH_STOCK
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from erpsync.domain import Listing, Order, PushResult, StockUpdate, utcnow
from erpsync.errors import ConfigError, FatalError

if TYPE_CHECKING:
    import httpx

    from erpsync.http.auth import OAuth2RefreshAuth, TokenStore
    from erpsync.http.pagination import Paginator
    from erpsync.http.ratelimit import RateLimiter
    from erpsync.http.retry import RetryPolicy


class Capability(StrEnum):
    PULL_ORDERS = "pull_orders"
    PULL_LISTINGS = "pull_listings"
    PUSH_STOCK = "push_stock"
    #: has an interactive OAuth consent flow (`erpsync connectors authorize NAME`)
    AUTHORIZE = "authorize"


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``rate`` requests per second refill, up to ``burst`` saved up."""

    rate: float
    burst: int = 1

    @classmethod
    def per_minute(cls, count: float, burst: int = 1) -> RateLimit:
        return cls(rate=count / 60.0, burst=burst)


@dataclass(frozen=True)
class Window:
    """The half-open time range [start, end) of updates a pull asks for, in UTC."""

    start: datetime
    end: datetime

    def split(self) -> tuple[Window, Window]:
        middle = self.start + (self.end - self.start) / 2
        return Window(self.start, middle), Window(middle, self.end)


@dataclass(frozen=True)
class RawOrder:
    """One order as the platform sent it (enriched with any detail calls), before mapping."""

    external_id: str
    updated_at: datetime | None
    payload: dict[str, Any]


@dataclass
class OrderPage:
    """A batch of raw orders the engine commits in one transaction.

    ``checkpoint``: a time the connector guarantees every change before it has now been yielded
    (e.g. Amazon's ``LastUpdatedBefore``). The engine may move the cursor there after committing
    the page; without it, the cursor moves to the window's end once the whole window is done.
    ``rejected``: inputs refused as a whole ("name: reason", e.g. an unreadable order file); the
    run is then recorded as partial.
    """

    orders: list[RawOrder]
    checkpoint: datetime | None = None
    rejected: list[str] = field(default_factory=list)


class SeenOrders:
    """What the store already holds, so connectors skip detail calls for unchanged orders."""

    def is_current(self, external_id: str, updated_at: datetime | None) -> bool:
        """True when the stored copy of this order already has this ``updated_at``."""
        raise NotImplementedError

    def current_of(self, versions: Mapping[str, datetime | None]) -> set[str]:
        """The ids among ``versions`` (external_id -> updated_at) already stored at that
        version: ask once per page rather than once per order."""
        return {i for i, updated_at in versions.items() if self.is_current(i, updated_at)}


class NothingSeen(SeenOrders):
    """A SeenOrders for dry runs and tests: every order is new."""

    def is_current(self, external_id: str, updated_at: datetime | None) -> bool:
        return False


class NoSettings(BaseModel):
    """For connectors without credentials or options."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class ConnectorSettings:
    """One validated ``connectors.<name>`` block of the config."""

    name: str
    type: str
    credentials: BaseModel = field(default_factory=NoSettings)
    options: BaseModel = field(default_factory=NoSettings)
    enabled: bool = True
    sandbox: bool = False
    base_url: str | None = None
    auth_url: str | None = None
    #: stock locations (depósitos) this channel sells from
    locations: tuple[str, ...] = ("main",)
    overlap: timedelta | None = None
    initial_lookback: timedelta = timedelta(days=30)


@dataclass
class ConnectorContext:
    """What the engine hands every connector: shared services, injectable in tests."""

    token_store: TokenStore | None = None
    #: an httpx transport to use instead of the network (tests, benchmarks)
    transport: httpx.BaseTransport | None = None
    retry_policy: RetryPolicy | None = None
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], None] | None = None
    #: the monotonic clock rate limiters measure with; pair it with ``sleep`` in simulated time
    monotonic: Callable[[], float] | None = None
    #: a --dry-run: connectors must not change anything on their side (move files, ack queues)
    dry_run: bool = False
    #: secret values to mask in logs and messages (the config's SecretStr values)
    secrets: Sequence[str] = ()


class Connector:
    """Base of every connector. Subclasses declare, map, and call shared mechanisms."""

    type: ClassVar[str]
    #: the platform's display name, stored on every order
    platform: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # builtins.type: inside this class body, ``type`` is the connector's type name
    Credentials: ClassVar[builtins.type[BaseModel]] = NoSettings
    Options: ClassVar[builtins.type[BaseModel]] = NoSettings
    #: how far back each pull re-reads, against clock skew and late writes
    default_overlap: ClassVar[timedelta] = timedelta(minutes=10)
    #: False for offset-paged order searches: a record updated mid-pull shifts the pages and
    #: another may be skipped, so the engine re-reads the window until a pass finds nothing new
    stable_paging: ClassVar[bool] = True
    #: updates per push_stock call: the engine records each batch's outcome before the next,
    #: so a huge catalogue is not lost to one failure; platforms with bulk uploads take more
    push_batch_size: ClassVar[int] = 200
    #: "item": when one variation of an item changes, push all of the item's variations together
    stock_push_scope: ClassVar[Literal["listing", "item"]] = "listing"

    def __init__(
        self, settings: ConnectorSettings, context: ConnectorContext | None = None
    ) -> None:
        self.settings = settings
        self.context = context or ConnectorContext()
        self.name = settings.name

    @property
    def credentials(self) -> Any:
        return self.settings.credentials

    @property
    def options(self) -> Any:
        return self.settings.options

    @property
    def overlap(self) -> timedelta:
        return self.settings.overlap if self.settings.overlap is not None else self.default_overlap

    def now(self) -> datetime:
        return self.context.clock()

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        """Yield pages of raw orders changed within ``window``."""
        raise self._unsupported(Capability.PULL_ORDERS)

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        """Map one raw payload (as fetched) to a canonical Order. Pure: no I/O."""
        raise self._unsupported(Capability.PULL_ORDERS)

    def fetch_listings(self) -> Iterator[list[Listing]]:
        """Yield batches of the channel's listings with their SKUs."""
        raise self._unsupported(Capability.PULL_LISTINGS)

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """Send quantities; return one result per update (a failure is a result, not a raise)."""
        raise self._unsupported(Capability.PUSH_STOCK)

    def verify_pending(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """Read back pushes the channel accepted asynchronously; ok=False for one that never
        took effect (the engine then sends it again). By default a push is trusted."""
        return [
            PushResult(item_id=u.item_id, variation_id=u.variation_id, ok=True) for u in updates
        ]

    def check(self) -> str:
        """Prove the configuration works (authenticate, reach the platform); say what was seen."""
        return "configuration is valid"

    def close(self) -> None:
        """Release resources (HTTP clients, in-process emulators)."""

    def _unsupported(self, capability: Capability) -> FatalError:
        return FatalError(f"{self.type} connectors cannot {capability.value}", connector=self.name)


class HttpConnector(Connector):
    """A connector that speaks an HTTP API through the shared client, limiter and retries.

    Subclasses set ``default_base_url``, ``rate_limits`` (operation name -> bucket, with a
    ``"default"`` entry), ``emulator`` ("package.module:EmulatorClass", instantiated with its
    defaults when ``sandbox: true``) and implement ``build_auth``.
    """

    default_base_url: ClassVar[str]
    default_auth_url: ClassVar[str | None] = None
    rate_limits: ClassVar[Mapping[str, RateLimit]] = {"default": RateLimit(rate=10, burst=10)}
    emulator: ClassVar[str]
    #: extra headers on every request (platforms that require a user-agent, versions, ...)
    default_headers: ClassVar[Mapping[str, str]] = {}
    timeout_seconds: ClassVar[float] = 30.0

    def __init__(
        self, settings: ConnectorSettings, context: ConnectorContext | None = None
    ) -> None:
        super().__init__(settings, context)
        from erpsync.http.session import HttpSession

        self.http = HttpSession(self)

    @property
    def base_url(self) -> str:
        return self.http.base_url

    @property
    def auth_url(self) -> str:
        return self.http.auth_url

    def build_auth(self) -> httpx.Auth | None:
        """The httpx.Auth flow for this platform (see ``erpsync.http.auth``)."""
        return None

    def oauth_refresh(self, **flow: Any) -> OAuth2RefreshAuth:
        """The shared OAuth2 refresh-token flow, fed from the usual credentials fields
        (``client_id``, ``client_secret``, ``refresh_token``); ``flow`` configures the rest
        (header, value_format, body_format, is_expired, ...)."""
        from erpsync.http.auth import OAuth2RefreshAuth

        credentials = self.credentials
        refresh = getattr(credentials, "refresh_token", None)
        return OAuth2RefreshAuth(
            token_url=self.auth_url,
            client_id=credentials.client_id,
            client_secret=credentials.client_secret.get_secret_value(),
            refresh_token=refresh.get_secret_value() if refresh is not None else None,
            token_store=self.context.token_store,
            key=self.name,
            **flow,
        )

    def redirect_uri(self) -> str:
        """``options.redirect_uri``, which a consent flow (``connectors authorize``) needs."""
        uri = getattr(self.options, "redirect_uri", None)
        if not uri:
            raise ConfigError(
                f"connectors.{self.name}.options.redirect_uri: required to authorise "
                f"(the redirect URI registered for the app with {self.platform})"
            )
        return str(uri)

    def limiter(self, operation: str) -> RateLimiter:
        return self.http.limiter(operation)

    def request(
        self, method: str, path: str, *, operation: str = "default", **kwargs: Any
    ) -> httpx.Response:
        """Send one request: rate-limited, retried, auth applied, errors classified."""
        return self.http.request(method, path, operation=operation, **kwargs)

    def paginate(
        self,
        paginator: Paginator,
        path: str,
        *,
        records: Callable[[httpx.Response], list[Any]],
        operation: str = "default",
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Iterator[list[Any]]:
        """Yield each page's records until the paginator says there are no more."""
        return self.http.paginate(
            paginator,
            path,
            records=records,
            operation=operation,
            method=method,
            params=params,
            **kwargs,
        )

    def classify_error(self, response: httpx.Response) -> Exception | None:
        """Hook: describe a platform's non-retriable error (4xx other than 408/429) as an
        erpsync error, or None for the default. 429, 408 and 5xx never reach it."""
        return None

    def close(self) -> None:
        self.http.close()
