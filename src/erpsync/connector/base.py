"""The connector base class: identity, typed settings, context, and capabilities derived.

A connector class declares *what it is* here (``type``, ``platform``, its settings models as
the generic parameters ``Connector[Credentials, Options]``, an optional OAuth consent) and
*what it does* by implementing resource classes from ``erpsync.connector.resources``
(``OrderSource``, ``StockSink``, ...). Its ``capabilities`` are derived from those classes when
the class is created, so ``connectors list``, the engine and the code cannot disagree.
"""

from __future__ import annotations

import builtins
from abc import ABC
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Self, cast, get_args
from urllib.parse import quote, quote_plus, urlencode

from pydantic import BaseModel, ConfigDict
from typing_extensions import TypeVar

from erpsync.domain import utcnow
from erpsync.errors import ConfigError, FatalError

if TYPE_CHECKING:
    import httpx

    from erpsync.http.auth import TokenStore
    from erpsync.http.ratelimit import SharedLimiters
    from erpsync.http.retry import RetryPolicy
    from erpsync.sandbox import SandboxEmulators


class Capability(StrEnum):
    """What a connector can do; each value is provided by one resource class (or ``consent``)."""

    # channel side: a marketplace or store
    PULL_ORDERS = "pull_orders"  # OrderSource
    PULL_LISTINGS = "pull_listings"  # ListingSource
    PUSH_STOCK = "push_stock"  # StockSink
    PUSH_INVOICES = "push_invoices"  # InvoiceSink
    PULL_LABELS = "pull_labels"  # LabelSource
    PUSH_TRACKING = "push_tracking"  # TrackingSink
    # ERP side: orders go in, stock and invoices come out
    PUSH_ORDERS = "push_orders"  # OrderSink
    PULL_STOCK = "pull_stock"  # StockSource
    PULL_INVOICES = "pull_invoices"  # InvoiceSource
    #: has an interactive OAuth consent flow (`erpsync connectors authorize NAME`): the class
    #: declares ``consent``
    AUTHORIZE = "authorize"


class NoSettings(BaseModel):
    """For connectors without credentials or options."""

    model_config = ConfigDict(extra="forbid", frozen=True)


CredentialsT = TypeVar("CredentialsT", bound=BaseModel, default=BaseModel)
OptionsT = TypeVar("OptionsT", bound=BaseModel, default=BaseModel)


#: a nota SEFAZ left pending, or one rejected and corrected by hand, is usually settled within
#: a working day; three days also spans a weekend (Friday evening to Monday)
DEFAULT_INVOICE_HOLD = timedelta(hours=72)


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
    #: requests in flight at once (None: the connector's own ``max_concurrency``)
    max_concurrency: int | None = None
    #: ERP connectors: how long an NF-e the ERP shows not ready (pending, rejected) may hold
    #: the invoices watermark; after it the order is asked about one by one until settled
    invoice_hold: timedelta = DEFAULT_INVOICE_HOLD


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
    #: requests an HTTP connector keeps in flight at once (None: the connector's own cap)
    concurrency: int | None = None
    #: the run's sandbox emulators, one per connector name (erpsync.sandbox); None:
    #: a sandbox connector builds its own
    sandboxes: SandboxEmulators | None = None
    #: where HTTP connectors keep their accounts' rate-limit buckets; None: the process's
    #: (``erpsync.http.ratelimit.SHARED_LIMITERS``), so every step of a run paces one account
    #: through the same buckets, as the platform counts its requests
    rate_limiters: SharedLimiters | None = None


@dataclass(frozen=True)
class OAuthConsent:
    """A platform's OAuth2 consent flow (authorization code grant), declared once per class.

    ``HttpConnector.authorization_url``/``exchange_code`` implement the flow from it, and a
    class that declares one gets ``Capability.AUTHORIZE``.

    Args:
        url: the consent page the seller opens.
        scopes: sent space-separated as ``scope`` (none: not sent).
        code_exchange: how the token endpoint takes the code: a form body or a JSON body.
        params: further fixed query parameters (e.g. ``choose_tenants``).
        spaces: how the query encodes a space: ``+`` (form encoding) or ``%20``.
    """

    url: str
    scopes: tuple[str, ...] = ()
    code_exchange: Literal["form", "json"] = "form"
    params: Mapping[str, str] = field(default_factory=dict)
    spaces: Literal["+", "%20"] = "+"

    def url_for(self, *, client_id: str, redirect_uri: str, state: str) -> str:
        """The consent page URL for one authorisation attempt."""
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri}
        if self.scopes:
            query["scope"] = " ".join(self.scopes)
        query.update(self.params)
        query["state"] = state
        return (
            f"{self.url}?{urlencode(query, quote_via=quote_plus if self.spaces == '+' else quote)}"
        )


def derive_capabilities(cls: type[ConnectorCore]) -> frozenset[Capability]:
    """The capabilities of a connector class: one per resource class in its MRO, plus
    AUTHORIZE when it declares an OAuth consent."""
    found = {base.__dict__["provides"] for base in cls.__mro__ if "provides" in base.__dict__}
    if cls.consent is not None:
        found.add(Capability.AUTHORIZE)
    return frozenset(found)


class ConnectorCore(ABC):
    """What every connector is, whatever it does: identity, settings, context, consent.

    The resource classes (``erpsync.connector.resources``) derive from it, so code that needs
    a resource also gets these; connectors derive from ``Connector`` (or ``HttpConnector``),
    which adds the typed settings.
    """

    type: ClassVar[str]
    #: the platform's display name, stored on every order
    platform: ClassVar[str]
    #: derived when the class is created (see ``derive_capabilities``); never written by hand
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: set by each resource class (``OrderSource.provides = Capability.PULL_ORDERS``)
    provides: ClassVar[Capability]
    # builtins.type: inside this class body, ``type`` is the connector's type name
    Credentials: ClassVar[builtins.type[BaseModel]] = NoSettings
    Options: ClassVar[builtins.type[BaseModel]] = NoSettings
    #: the platform's OAuth consent flow, if it has one (gives Capability.AUTHORIZE)
    consent: ClassVar[OAuthConsent | None] = None
    #: how far back each pull re-reads, against clock skew and late writes
    default_overlap: ClassVar[timedelta] = timedelta(minutes=10)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "capabilities" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__}: capabilities are derived from the resource classes it "
                "implements (OrderSource, StockSink, ...); do not set them"
            )
        for base in cls.__dict__.get("__orig_bases__", ()):
            models = get_args(base)
            if len(models) == 2 and all(isinstance(m, builtins.type) for m in models):
                cls.Credentials, cls.Options = models
        cls.capabilities = derive_capabilities(cls)

    @classmethod
    def of(cls, connector: ConnectorCore) -> Self:
        """``connector`` as this resource (``OrderSource.of(connector)``), or the error the
        user sees.

        Raises:
            FatalError: the connector does not implement this resource.
        """
        if isinstance(connector, cls):
            return connector
        what = cls.__dict__.get("provides")
        raise FatalError(
            f"{connector.type} connectors cannot {what.value if what else cls.__name__}",
            connector=connector.name,
        )

    def __init__(
        self, settings: ConnectorSettings, context: ConnectorContext | None = None
    ) -> None:
        for key, model in (("credentials", self.Credentials), ("options", self.Options)):
            value = getattr(settings, key)
            if not isinstance(value, model):
                raise ConfigError(
                    f"connectors.{settings.name}.{key}: expected {model.__name__}, "
                    f"got {builtins.type(value).__name__}"
                )
        self.settings = settings
        self.context = context or ConnectorContext()
        self.name = settings.name

    @property
    def overlap(self) -> timedelta:
        return self.settings.overlap if self.settings.overlap is not None else self.default_overlap

    def now(self) -> datetime:
        return self.context.clock()

    def check(self) -> str:
        """Prove the configuration works (authenticate, reach the platform); say what was seen."""
        return "configuration is valid"

    def authorization_url(self, state: str) -> str:
        """The consent page a seller opens to grant access (``connectors authorize``)."""
        raise self._no_consent()

    def exchange_code(self, code: str) -> str:
        """Trade the ``code`` from the consent redirect for tokens, store them, say whose."""
        raise self._no_consent()

    def close(self) -> None:  # noqa: B027 - an optional hook, empty by design
        """Release resources (HTTP clients, in-process emulators)."""

    def _no_consent(self) -> ConfigError:
        return ConfigError(f"{self.name}: {self.type} connectors have no consent flow")


class Connector(ConnectorCore, Generic[CredentialsT, OptionsT]):
    """Base of every connector. Subclasses declare, map, and call shared mechanisms.

    Parameterise it with the settings models and list the resources after it::

        class Mine(Connector[MyCredentials, MyOptions], OrderSource, StockSink): ...

    The parameters become ``Credentials``/``Options`` (what the config block is validated
    against) and type ``self.credentials``/``self.options``.
    """

    @property
    def credentials(self) -> CredentialsT:
        return cast(CredentialsT, self.settings.credentials)

    @property
    def options(self) -> OptionsT:
        return cast(OptionsT, self.settings.options)
