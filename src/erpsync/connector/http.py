"""HttpConnector: a connector that speaks an HTTP API through one ``erpsync.http.HttpSession``.

The connector declares its platform (base URLs, rate limits, headers, emulator, consent) and
this class assembles the session from those declarations, the ``connectors.<name>`` settings
and the engine's context. Everything HTTP (client, limits, retries, paging) lives in
``erpsync.http`` and knows nothing of connectors.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, SecretStr

from erpsync.connector.base import (
    Connector,
    ConnectorContext,
    ConnectorSettings,
    CredentialsT,
    OptionsT,
)
from erpsync.domain import SendResult
from erpsync.errors import ConfigError, FatalError, RetriableError
from erpsync.http.auth import OAuth2RefreshAuth
from erpsync.http.fanout import (
    DEFAULT_CONCURRENCY,
    Outcome,
    Pending,
    read_ahead,
    read_together,
)
from erpsync.http.pagination import Paginator
from erpsync.http.ratelimit import RateLimit, RateLimiter
from erpsync.http.redact import Redactor
from erpsync.http.retry import RetryPolicy
from erpsync.http.session import HttpSession, Page

T = TypeVar("T")
R = TypeVar("R")


class HttpConnector(Connector[CredentialsT, OptionsT]):
    """A connector that speaks an HTTP API through the shared client, limiter and retries.

    Subclasses set ``default_base_url``, ``rate_limits`` (operation name -> bucket, with a
    ``"default"`` entry), ``emulator`` ("package.module:EmulatorClass", instantiated with its
    defaults when ``sandbox: true``), optionally ``consent``, and implement ``build_auth``.
    """

    default_base_url: ClassVar[str]
    default_auth_url: ClassVar[str | None] = None
    rate_limits: ClassVar[Mapping[str, RateLimit]] = {"default": RateLimit(rate=10, burst=10)}
    emulator: ClassVar[str]
    #: extra headers on every request (platforms that require a user-agent, versions, ...)
    default_headers: ClassVar[Mapping[str, str]] = {}
    timeout_seconds: ClassVar[float] = 30.0
    #: requests ``each`` keeps in flight at once; the rate limits still pace them (a platform
    #: that throttles concurrent connections, not only rates, declares a lower cap)
    max_concurrency: ClassVar[int] = DEFAULT_CONCURRENCY

    def __init__(
        self, settings: ConnectorSettings, context: ConnectorContext | None = None
    ) -> None:
        super().__init__(settings, context)
        #: the sandbox emulator instance (``sandbox: true`` without an injected transport),
        #: built with the transport on the first request
        self.sandbox_emulator: Any = None
        self.http = self.build_session()

    # -- the session ----------------------------------------------------------------------------

    def build_session(self) -> HttpSession:
        """The HttpSession for this account, from the declarations, settings and context."""
        context = self.context
        sleep = context.sleep
        retry = context.retry_policy or (RetryPolicy(sleep=sleep) if sleep else None)
        transport: httpx.BaseTransport | Callable[[], httpx.BaseTransport] | None
        transport = context.transport
        if transport is None and self.settings.sandbox:
            transport = self._sandbox_transport
        return HttpSession(
            self._base_url(),
            name=self.name,
            headers=self.default_headers,
            auth=self.build_auth,
            limits=self.limits(),
            retry=retry,
            classify_error=self.classify_error,
            classify_rate_limit=self.classify_rate_limit,
            transport=transport,
            redactor=Redactor([*context.secrets, *secret_values(self.settings)]),
            timeout=self.timeout_seconds,
            clock=context.clock,
            monotonic=context.monotonic or time.monotonic,
            sleep=sleep,
            concurrency=(
                context.concurrency or self.settings.max_concurrency or self.max_concurrency
            ),
            account=self.rate_limit_account(),
            shared=context.rate_limiters,
        )

    def rate_limit_account(self) -> Hashable:
        """Who the platform's rate limits count this connector's requests against: its
        configured account, every connector object of which (each step of a sync opens its
        own) paces through the same buckets in this process, as the platform counts them.

        The account is the connector block: platform, base URL, connector name and a digest
        of its credentials and options (no secret is kept in the key). The name matters:
        tokens granted through `connectors authorize` are stored under it, so two stores
        authorised through one app have the same credentials (Nuvemshop, Mercado Livre), and
        sharing their buckets would halve each store's pace."""
        settings = self.settings
        block = {
            "credentials": settings.credentials.model_dump(mode="python"),
            "options": settings.options.model_dump(mode="python"),
        }
        text = json.dumps(block, sort_keys=True, default=_revealed)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return (self.type, self._base_url(), settings.name, digest)

    def limits(self) -> Mapping[str, RateLimit]:
        """This account's rate limits (default: the class's ``rate_limits``); override when an
        option changes them."""
        return self.rate_limits

    def _emulator_origin(self) -> str:
        return f"http://{self.type}.emulator"

    def _base_url(self) -> str:
        if self.settings.base_url:
            return self.settings.base_url
        if self.settings.sandbox:
            return self._emulator_origin()
        return self.default_base_url

    def _sandbox_transport(self) -> httpx.BaseTransport:
        from erpsync.emulation import EmulatorTransport

        module_name, _, class_name = self.emulator.partition(":")
        emulator_class = getattr(importlib.import_module(module_name), class_name)
        shared = self.context.sandboxes
        # within one run (a sync's steps), every connector object of this name talks to the
        # same emulator: what push-orders created, invoices pull finds
        self.sandbox_emulator = (
            emulator_class() if shared is None else shared.get(self.name, emulator_class)
        )
        return EmulatorTransport(self.sandbox_emulator.app)

    @property
    def base_url(self) -> str:
        return self.http.base_url

    @property
    def auth_url(self) -> str:
        """The full token endpoint URL (in sandbox: the same path on the emulator host)."""
        if self.settings.auth_url:
            return self.settings.auth_url
        default = self.default_auth_url
        if not default:
            raise ConfigError(f"connectors.{self.name}: no auth_url configured for this connector")
        if self.settings.sandbox:
            parts = urlsplit(default)
            query = f"?{parts.query}" if parts.query else ""
            return f"{self._emulator_origin()}{parts.path}{query}"
        return default

    # -- auth -----------------------------------------------------------------------------------

    def build_auth(self) -> httpx.Auth | None:
        """The httpx.Auth flow for this platform (see ``erpsync.http.auth``); called once, on
        the first request."""
        return None

    def oauth_refresh(self, **flow: Any) -> OAuth2RefreshAuth:
        """The shared OAuth2 refresh-token flow, fed from the usual credentials fields
        (``client_id``, ``client_secret``, ``refresh_token``); ``flow`` configures the rest
        (header, value_format, body_format, is_expired, ...)."""
        credentials: Any = self.credentials
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

    def authorization_url(self, state: str) -> str:
        """The consent page a seller opens to grant this app access, from ``consent``."""
        if self.consent is None:
            raise self._no_consent()
        client_id = str(getattr(self.credentials, "client_id", ""))
        return self.consent.url_for(
            client_id=client_id, redirect_uri=self.redirect_uri(), state=state
        )

    def exchange_code(self, code: str) -> str:
        """Trade the redirect's ``code`` for tokens (as ``consent.code_exchange`` says), store
        them, and prove they work: ``check()``'s answer, "authenticated" made "authorised"."""
        if self.consent is None:
            raise self._no_consent()
        self.http.oauth.exchange_code(
            code.strip(), self.redirect_uri(), body_format=self.consent.code_exchange
        )
        return self.check().replace("authenticated", "authorised", 1)

    # -- requests -------------------------------------------------------------------------------

    def limiter(self, operation: str) -> RateLimiter:
        return self.http.limiter(operation)

    def request(
        self, method: str, path: str, *, operation: str = "default", **kwargs: Any
    ) -> httpx.Response:
        """Send one request: rate-limited, retried, auth applied, errors classified."""
        return self.http.request(method, path, operation=operation, **kwargs)

    def read_optional(self, path: str, *, operation: str = "default", **kwargs: Any) -> Any:
        """``GET path``'s JSON, or None when the platform answers 404 (the record is gone, or
        never was): for reads whose absence the caller reports or maps. Other errors raise."""
        try:
            return self.request("GET", path, operation=operation, **kwargs).json()
        except FatalError as exc:
            if exc.status_code == 404:
                return None
            raise

    def send_each(
        self, send: Callable[[T], SendResult], items: Iterable[T], *, ref: Callable[[T], str]
    ) -> list[SendResult]:
        """A sink's records sent one by one (invoices, tracking): ``send``'s result for each,
        or its request's error as the result (``ref`` names the record): a ``RetriableError``
        is sent again next run, a ``FatalError`` is the channel's refusal. Credentials
        refused (``AuthError``) fail the whole batch: they raise."""
        results = []
        for item in items:
            try:
                results.append(send(item))
            except RetriableError as exc:
                results.append(SendResult(ref=ref(item), ok=False, retry=True, error=str(exc)))
            except FatalError as exc:
                results.append(SendResult(ref=ref(item), ok=False, error=str(exc)))
        return results

    def each(self, fn: Callable[[T], R], items: Iterable[T]) -> list[Outcome[R]]:
        """Independent requests together: ``fn`` on every item, up to ``max_concurrency`` in
        flight, rate limits still applied; one ``Outcome`` (value or error) per item, in the
        items' order. A ``ConnectorError`` fails its own item only; an ``AuthError`` is raised.
        Use it for the per-order detail calls of a page, the reads of a listing page and the
        writes of a stock push; never for pages that depend on each other."""
        return self.http.each(fn, items)

    def submit(self, fn: Callable[[T], R], items: Iterable[T]) -> Pending[R]:
        """As ``each``, but returns at once: start a page's detail calls, read the next page,
        then take this page's outcomes (``.outcomes()``, in order) and yield it."""
        return self.http.submit(fn, items)

    def read_ahead(self, pages: Iterator[T], depth: int = 1) -> Iterator[T]:
        """``pages`` read ``depth`` ahead in a thread: the next search page is in flight while
        this one's details are fetched (``erpsync.http.fanout.read_ahead``). Only once the
        session's fan-out has widened (answers take long enough for threads to pay); until
        then each page is read when asked for."""
        fanout = self.http.fanout
        return read_ahead(pages, depth=depth, name=f"{self.name}-pages", when=lambda: fanout.wide)

    def read_together(self, searches: Sequence[Iterator[T]], depth: int = 1) -> Iterator[T]:
        """Independent searches' pages (a window's default and cancelled-orders searches)
        read ahead together, each in a thread of its own, and handed over search after
        search, each in its order (``erpsync.http.fanout.read_together``): the second
        search's first page no longer waits for the first search's last. Until the session's
        fan-out has widened, read one after the other, as ``read_ahead`` reads."""
        fanout = self.http.fanout
        return read_together(
            searches, depth=depth, name=f"{self.name}-pages", when=lambda: fanout.wide
        )

    def paginate(
        self,
        paginator: Paginator,
        path: str,
        *,
        records: Callable[[httpx.Response], list[T]],
        operation: str = "default",
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        ahead: int = 0,
        **kwargs: Any,
    ) -> Iterator[Page[T]]:
        """Yield every page (records, response, paginator) to the last: ``HttpSession.paginate``
        (``ahead``: offset pages requested before they are asked for, on a platform that
        tells no total)."""
        return self.http.paginate(
            paginator,
            path,
            records=records,
            operation=operation,
            method=method,
            params=params,
            ahead=ahead,
            **kwargs,
        )

    def classify_error(self, response: httpx.Response) -> Exception | None:
        """Hook: describe a platform's non-retriable error (4xx other than 408/429) as an
        erpsync error, or None for the default. 429, 408 and 5xx never reach it."""
        return None

    def classify_rate_limit(self, response: httpx.Response) -> Exception | None:
        """Hook: a 429 that retrying within seconds cannot clear (a daily quota used up) as the
        error to raise now; None (the default): retried like any 429."""
        return None

    def close(self) -> None:
        self.http.close()


def _revealed(value: Any) -> str:
    """A settings value as text for the account's digest (a secret's own value)."""
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def secret_values(settings: ConnectorSettings) -> list[str]:
    """Every SecretStr value in the connector's credentials and options (for the redactor)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(settings.credentials)
    walk(settings.options)
    return found
