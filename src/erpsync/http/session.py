"""HttpSession: one API's client, limiters, retries and error classification, from explicit parts.

Built from explicit arguments, as dlt's ``RESTClient`` is (dlt-hub/dlt:
dlt/sources/helpers/rest_client/client.py): a base URL, default headers, an auth flow, rate
limits per operation, a retry policy, an error classifier, a transport and a redactor. It knows
nothing about connectors: ``erpsync.connector.HttpConnector`` assembles one from its
declarations and settings. Cheap until first used: the client (and the transport, when given
as a factory, e.g. the in-process sandbox emulator) is built on the first request.
``request()`` is the one place a platform response becomes either data or an erpsync error;
``paginate()`` the one page loop.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, NoReturn, TypeVar

import httpx

from erpsync.domain import utcnow
from erpsync.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    FatalError,
    RateLimitedError,
    RetriableError,
)
from erpsync.http.auth import OAuth2RefreshAuth
from erpsync.http.client import build_client
from erpsync.http.fanout import DEFAULT_CONCURRENCY, Fanout, Outcome, Pending, RoundTrips
from erpsync.http.logging import LOGGER_NAME, log_transport_error
from erpsync.http.pagination import Paginator
from erpsync.http.ratelimit import (
    SHARED_LIMITERS,
    RateLimit,
    RateLimiter,
    SharedLimiters,
    parse_retry_after,
)
from erpsync.http.redact import Redactor
from erpsync.http.retry import RetryPolicy

log = logging.getLogger(LOGGER_NAME)
_E = TypeVar("_E", bound=ConnectorError)
T = TypeVar("T")
R = TypeVar("R")

#: platform messages quoted in errors are cut to this length
MESSAGE_LIMIT = 300
#: ``paginate(ahead=...)`` without a total: pages read before one more is requested ahead.
#: One: a listing reaches its depth after as many pages (at 4, Magalu's 2,000 orders took
#: 2.4 s for their first 8 pages, one a round trip at 300 ms, where the rate
#: limit's burst lets 5 go at once)
PAGES_PER_STEP = 1
#: used when no "default" rate limit is given
FALLBACK_LIMIT = RateLimit(rate=10, burst=10)

#: describes a platform's non-retriable error response, or None for the default error
ErrorClassifier = Callable[[httpx.Response], Exception | None]


@dataclass
class Page(Generic[T]):
    """One page of a listing, as dlt's ``PageData``: its records, the response they came in
    (totals, tokens, headers), and the paginator's state after reading it."""

    records: list[T]
    response: httpx.Response
    #: the listing's paginator (live: it moves on when the next page is read)
    paginator: Paginator
    #: 1 for the first page of the listing
    number: int
    #: no page follows this one (the paginator's verdict when this page was read)
    last: bool


class _Borrowed(httpx.BaseTransport):
    """An injected transport the session uses but does not own: closing the client keeps it."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self.transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.transport.handle_request(request)


class HttpSession:
    """A configured HTTP client for one API account.

    Args:
        base_url: prefix of relative request paths.
        name: who is calling (a connector's name), named in every error.
        headers: default headers on every request.
        auth: an ``httpx.Auth`` flow, or a zero-argument factory called on first use (flows
            that read settings or need the session's ``token_client``). An
            ``OAuth2RefreshAuth`` is bound to the session's token client, clock and redactor.
        limits: operation name -> token bucket; undeclared operations share ``"default"``.
        retry: the retry policy (attempts, backoff, ``Retry-After``, sleep).
        classify_error: describes a non-retriable error response (4xx other than 408/429);
            None or a None answer: the default error for the status.
        classify_rate_limit: looks at a 429 first: an error it returns is raised as is (a
            quota that lasts hours is not worth retrying within seconds); None: retried.
        transport: where requests go. An instance is borrowed (never closed by the session);
            a zero-argument factory is called on first use and its transport owned; None: the
            network.
        redactor: masks secrets in errors and log lines.
        timeout: seconds for connect/read/write/pool each.
        clock: wall clock (token expiry).
        monotonic: the clock rate limiters measure with.
        sleep: how limiters wait (default: the retry policy's limiter sleep, else its sleep).
        concurrency: the cap of requests ``each`` keeps in flight at once (1: one at a time).
        account: who the platform's rate limits count against (a hashable key). Given, the
            buckets are the account's in ``shared`` (default: the process's,
            ``SHARED_LIMITERS``), so every session of the account paces through the same
            ones, as the platform counts them; None: this session's own buckets.
        shared: where an ``account``'s buckets live (None: ``SHARED_LIMITERS``).
    """

    def __init__(
        self,
        base_url: str,
        *,
        name: str = "http",
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | Callable[[], httpx.Auth | None] | None = None,
        limits: Mapping[str, RateLimit] | None = None,
        retry: RetryPolicy | None = None,
        classify_error: ErrorClassifier | None = None,
        classify_rate_limit: ErrorClassifier | None = None,
        transport: httpx.BaseTransport | Callable[[], httpx.BaseTransport] | None = None,
        redactor: Redactor | None = None,
        timeout: float = 30.0,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        account: Hashable | None = None,
        shared: SharedLimiters | None = None,
    ) -> None:
        self.base_url = base_url
        self.name = name
        self.headers = dict(headers or {})
        self.limits: Mapping[str, RateLimit] = limits or {"default": FALLBACK_LIMIT}
        self.policy = retry or RetryPolicy()
        self.classify_error = classify_error
        self.classify_rate_limit = classify_rate_limit
        self.redactor = redactor or Redactor()
        self.timeout = timeout
        self.clock = clock
        self.monotonic = monotonic
        # limiters wait with the given sleep, else as the retry policy says (not in tests)
        self._sleep = sleep or self.policy.limiter_sleep or self.policy.sleep
        self._auth_source = auth
        self._transport_source = transport
        self.auth: httpx.Auth | None = None
        self._lock = threading.RLock()
        self._transport: httpx.BaseTransport | None = None
        self._owned_transport: httpx.BaseTransport | None = None
        self._client: httpx.Client | None = None
        self._token_client: httpx.Client | None = None
        self._limiters: dict[str, RateLimiter] = {}
        self.account = account
        self._shared = shared
        #: how long answers take: the fan-out widens only when requests wait on the network
        self.round_trips = RoundTrips()
        self.fanout = Fanout(concurrency, name=name, widen_when=self.round_trips.waiting)
        #: listings with a page boundary a live result could have shifted a record across
        #: (``paginate``): any that went past its first page, unless its paginator proved
        #: each boundary intact (``OffsetPaginator(overlap=...)``). A pass that adds none
        #: read every record that stayed in its result.
        self.unproven_listings = 0

    # -- lazily built resources -----------------------------------------------------------------

    @property
    def transport(self) -> httpx.BaseTransport:
        with self._lock:
            if self._transport is None:
                self._transport = self._build_transport()
            return self._transport

    def _build_transport(self) -> httpx.BaseTransport:
        source = self._transport_source
        if isinstance(source, httpx.BaseTransport):
            return _Borrowed(source)
        self._owned_transport = source() if source is not None else httpx.HTTPTransport()
        return self._owned_transport

    @property
    def token_client(self) -> httpx.Client:
        """A client without auth for token endpoint calls, sharing the transport."""
        with self._lock:
            if self._token_client is None:
                self._token_client = build_client(
                    transport=_Borrowed(self.transport),
                    timeout=self.timeout,
                    headers=self.headers,
                    redactor=self.redactor,
                )
            return self._token_client

    @property
    def client(self) -> httpx.Client:
        """The client (auth applied), built on first use."""
        with self._lock:
            if self._client is None:
                source = self._auth_source
                auth = source if isinstance(source, httpx.Auth) or source is None else source()
                if isinstance(auth, OAuth2RefreshAuth):
                    auth.bind(client=self.token_client, clock=self.clock, redactor=self.redactor)
                self.auth = auth
                self._client = build_client(
                    base_url=self.base_url,
                    auth=auth,
                    transport=_Borrowed(self.transport),
                    timeout=self.timeout,
                    headers=self.headers,
                    redactor=self.redactor,
                    logger=log,
                )
            return self._client

    @property
    def oauth(self) -> OAuth2RefreshAuth:
        """The session's OAuth2 flow, bound to it (``connectors authorize``)."""
        _ = self.client
        if not isinstance(self.auth, OAuth2RefreshAuth):
            raise ConfigError(f"connectors.{self.name}: this connector does not use OAuth2")
        return self.auth

    def limiter(self, operation: str) -> RateLimiter:
        """The bucket for ``operation``; undeclared operations share the "default" bucket."""
        limits = self.limits
        key = operation if operation in limits else "default"
        with self._lock:
            if key not in self._limiters:
                limit = limits.get(key, FALLBACK_LIMIT)
                if self.account is None:
                    made = RateLimiter(limit, clock=self.monotonic, sleep=self._sleep)
                else:  # the account's, whichever session asked first
                    shared = SHARED_LIMITERS if self._shared is None else self._shared
                    made = shared.get(
                        self.account, key, limit, clock=self.monotonic, sleep=self._sleep
                    )
                self._limiters[key] = made
            return self._limiters[key]

    def close(self) -> None:
        """Close the clients and any transport the session created (not a borrowed one)."""
        self.fanout.close()
        with self._lock:
            for closable in (self._client, self._token_client, self._owned_transport):
                if closable is not None:
                    closable.close()
            self._client = self._token_client = None
            self._transport = self._owned_transport = None

    # -- requests -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str = "default",
        expect_json: bool = True,
        idempotent: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request: rate-limited, auth applied, classified, retried per the policy.

        ``idempotent=False`` for a request that creates something (an order in an ERP): only
        a 429 is retried; a lost answer (timeout, dropped connection, 5xx) is raised as
        RetriableError, because the platform may have stored it (see ``OrderSink``).

        Raises:
            RateLimitedError / RetriableError: still failing after the policy's attempts.
            AuthError: credentials rejected (401/403, or by the token endpoint).
            FatalError: any other 4xx, or what ``classify_error`` decides.
        """
        return self.policy.call(
            self._attempt,
            method.upper(),
            path,
            operation,
            expect_json,
            kwargs,
            idempotent=idempotent,
        )

    def _attempt(
        self,
        method: str,
        path: str,
        operation: str,
        expect_json: bool,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        limiter = self.limiter(operation)
        limiter.acquire()
        client = self.client
        if _SEND_KEYS.isdisjoint(kwargs):
            request = client.build_request(method, path, **kwargs)
            response_of = client.send
        else:
            request = client.build_request(method, path, **_request_kwargs(kwargs))
            response_of = functools.partial(client.send, **_send_kwargs(kwargs))
        try:
            sent = self.monotonic()
            response = response_of(request)
            self.round_trips.record(self.monotonic() - sent)
            _unbind(response)
        except httpx.TimeoutException as exc:
            limiter.answered()
            log_transport_error(log, self.redactor, request, exc)
            raise self._error(
                RetriableError, self._endpoint(request), f"timed out ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            limiter.answered()
            log_transport_error(log, self.redactor, request, exc)
            raise self._error(
                RetriableError,
                self._endpoint(request),
                f"connection failed ({type(exc).__name__}: {exc})",
            ) from exc
        except ConnectorError as exc:  # raised inside the auth flow (token endpoint)
            limiter.answered()
            raise self._claim(exc, self._endpoint(request)) from None
        except BaseException:  # a bug, or an interrupt: the request is no longer in flight
            limiter.answered()
            raise
        status = response.status_code
        if 200 <= status < 300:
            limiter.observe(response)
            if expect_json and status not in (204, 205):
                try:
                    parsed = response.json()
                except ValueError:
                    raise self._error(
                        RetriableError,
                        self._endpoint(request),
                        f"HTTP {status} with a body that is not JSON",
                    ) from None
                # parsed once here, so the connector's response.json() costs nothing again
                response.json = lambda **_: parsed  # type: ignore[method-assign]
            return response
        limiter.answered()  # a success is settled by observe()
        self._raise_for(response, limiter, self._endpoint(request))

    def _endpoint(self, request: httpx.Request) -> str:
        """``METHOD /path`` (redacted, no query) for an error: made only when one is raised,
        as the redactor's masking is a cost per request otherwise (bench/pull_orders.py)."""
        return f"{request.method} {self.redactor.path(request.url)}"

    def _raise_for(self, response: httpx.Response, limiter: RateLimiter, endpoint: str) -> NoReturn:
        """A response that is not a 2xx: the error it raises."""
        status = response.status_code
        # 429, 408 and 5xx are retried the same way on every platform (Retry-After honoured);
        # only the rest is the connector's to describe
        retriable = status in (408, 429) or status >= 500
        classify = self.classify_error
        error = None if retriable or classify is None else classify(response)
        if status == 429 and self.classify_rate_limit is not None:
            error = self.classify_rate_limit(response)
        if error is None:
            error = self._default_error(response, endpoint)
        if isinstance(error, ConnectorError):
            self._claim(error, endpoint, status)
        if isinstance(error, RateLimitedError):
            limiter.penalize(error.retry_after)
        raise error

    def _default_error(self, response: httpx.Response, endpoint: str) -> ConnectorError:
        status = response.status_code
        message = f"HTTP {status}: {self._platform_message(response)}"
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return self._error(RateLimitedError, endpoint, message, retry_after=retry_after)
        if status >= 500 or status == 408:
            return self._error(RetriableError, endpoint, message)
        if status in (401, 403):
            return self._error(AuthError, endpoint, message)
        return self._error(FatalError, endpoint, message)

    def _platform_message(self, response: httpx.Response) -> str:
        text = platform_message(response) or response.reason_phrase or ""
        text = " ".join(self.redactor.text(text).split())
        return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"

    def _error(self, kind: type[_E], endpoint: str, message: str, **extra: Any) -> _E:
        return kind(self.redactor.text(message), connector=self.name, endpoint=endpoint, **extra)

    def _claim(
        self, error: ConnectorError, endpoint: str, status: int | None = None
    ) -> ConnectorError:
        """Fill in where an error happened when its raiser did not know."""
        error.connector = error.connector or self.name
        error.endpoint = error.endpoint or endpoint
        if error.status_code is None:
            error.status_code = status
        return error

    def each(self, fn: Callable[[T], R], items: Iterable[T]) -> list[Outcome[R]]:
        """``fn`` (which sends requests through this session) on every item, up to the
        session's ``concurrency`` at once; one ``Outcome`` per item, in the items' order. The
        rate limiters still pace every request; a ``ConnectorError`` fails its item only, an
        ``AuthError`` is raised (see ``erpsync.http.fanout``)."""
        return self.fanout.map(fn, items)

    def submit(self, fn: Callable[[T], R], items: Iterable[T]) -> Pending[R]:
        """As ``each``, but returns at once; ``.outcomes()`` waits for them (in order)."""
        return self.fanout.submit(fn, items)

    # -- pages ----------------------------------------------------------------------------------

    def paginate(
        self,
        paginator: Paginator,
        path: str,
        *,
        records: Callable[[httpx.Response], list[T]],
        operation: str = "default",
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        params_in: Literal["query", "json"] = "query",
        ahead: int = 0,
        **kwargs: Any,
    ) -> Iterator[Page[T]]:
        """Yield every page, the first to the last (``page.last``), as dlt's ``paginate`` does.

        ``records`` picks the page's records out of a response; the yielded ``Page`` also
        carries the response (totals, tokens) and the paginator. A page may have no records
        (an empty listing, or a last page that only says there is nothing more). The page's
        records are the list the paginator's ``update_state`` saw, which it may filter in place
        (``DrainPaginator(skip_seen=True)`` drops records already read).
        ``params_in="json"`` sends the paging parameters as the JSON body (POST searches).

        ``ahead``: up to this many later pages are requested while this one is read, for a
        paginator that can say where the next pages start (``OffsetPaginator.upcoming``): a
        listing latency would otherwise pace, one round trip per page. They are requested
        before the page is yielded, so the caller's work on it (storing it) does not hold
        them back. Pages still come in order, each checked as if read alone; a page read
        ahead is used only when the listing asks for exactly it. On a platform that tells no
        total, those past the last page are wasted requests; with a total, none is asked for
        past it (a listing that shrinks while read may still waste one). How many: without a
        total, one more for every ``PAGES_PER_STEP`` pages read (a listing that ends on its
        first page asks for nothing more; one that ends on page N wastes fewer than N, which
        its rate limit's burst covers); with one, ``ahead`` at once; never more than the
        operation's rate limit spends in a round trip, plus one; none while the session's
        answers come at once (``Fanout.wide``). A caller that leaves a listing midway may
        leave those requests unused.
        """
        state: dict[str, Any] = dict(params or {})
        paginator.init_request(state)
        url = path
        number = 0
        proves = bool(getattr(paginator, "proves_boundaries", False))
        carrier = "json" if params_in == "json" else "params"
        upcoming = getattr(paginator, "upcoming", None) if ahead > 0 else None
        #: pages requested ahead, by their parameters
        early: dict[str, Future[httpx.Response]] = {}
        try:
            while True:
                if state:
                    kwargs[carrier] = dict(state)
                else:  # httpx drops a URL's own query when given empty params (a next-page URL)
                    kwargs.pop(carrier, None)
                future = early.pop(_page_key(url, state), None)
                if future is not None:
                    response = future.result()
                else:
                    response = self.request(method, url, operation=operation, **kwargs)
                found = records(response)
                number += 1
                try:
                    paginator.update_state(response, found)
                except ConnectorError as exc:
                    raise self._claim(exc, f"{method.upper()} {self.redactor.path(url)}") from None
                if proves and getattr(paginator, "boundary_unproven", False):
                    proves = False  # counted once, here
                    with self._lock:
                        self.unproven_listings += 1
                if paginator.has_next_page:
                    paginator.update_request(state)
                    url = getattr(paginator, "next_url", None) or path
                if upcoming is not None and paginator.has_next_page:
                    # before the page is handed over, so the caller's work on it (storing
                    # it: a commit) does not hold the next pages back. Without a total, one
                    # more page ahead every PAGES_PER_STEP pages read (a guess past the end
                    # is a wasted request); with one, none can be wasted
                    told = getattr(paginator, "known_total", None) is not None
                    ramp = ahead if told else 1 + number // PAGES_PER_STEP
                    depth = min(ahead, ramp, self._pages_in_flight(operation))
                    for page in upcoming(state, depth):
                        key = _page_key(url, page)
                        if key in early:
                            continue
                        send = functools.partial(
                            self.request, method, url, operation=operation, **kwargs
                        )
                        started = self.fanout.start(functools.partial(send, **{carrier: page}))
                        if started is None:
                            break
                        early[key] = started
                yield Page(found, response, paginator, number, not paginator.has_next_page)
                # the consumer has this page: not held here while the next one is requested
                del response, found, future
                if not paginator.has_next_page:
                    return
                if number == 1 and not getattr(paginator, "proves_boundaries", False):
                    with self._lock:
                        self.unproven_listings += 1
        finally:
            for future in early.values():  # past the last page, or the listing was left
                future.cancel()

    def _pages_in_flight(self, operation: str) -> int:
        """Requests of ``operation`` its rate limit lets out in one round trip, plus one:
        enough in flight that the limit, not the wait for answers, paces a listing."""
        mean = self.round_trips.mean or 0.0
        return math.ceil(self.limiter(operation).rate * mean) + 1


def _page_key(url: str, params: Mapping[str, Any]) -> str:
    return f"{url}?{sorted((str(k), str(v)) for k, v in params.items())}"


def platform_message(response: httpx.Response) -> str:
    """The human part of an error body: common JSON shapes, else the text itself."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()
    return _message_of(data) or response.text.strip()


def _message_of(data: Any) -> str:
    if isinstance(data, list):
        return "; ".join(filter(None, (_message_of(item) for item in data[:3])))
    if not isinstance(data, dict):
        return str(data) if data is not None else ""
    if data.get("errors"):
        return _message_of(data["errors"])
    code = data.get("code") or data.get("error")
    text = next(
        (data[k] for k in ("message", "error_description", "detail", "title") if data.get(k)), None
    )
    parts = [str(p) for p in (code, text) if p and not isinstance(p, dict | list)]
    return ": ".join(dict.fromkeys(parts))


_SEND_KEYS = frozenset({"auth", "follow_redirects"})


def _request_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k not in _SEND_KEYS}


def _send_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k in _SEND_KEYS}


def _unbind(response: httpx.Response) -> None:
    """Let a read response be freed by its last reference, not by the cyclic collector.

    httpx hands back a response whose stream points back at it (``BoundSyncStream``, which
    sets ``elapsed`` on close): a reference cycle, so each response, with its body and the
    payload parsed from it, outlived its use until a collection found it. Measured with
    ``bench/pull_orders.py`` (the collector's garbage after a page: nearly all of it the
    page's responses and their payloads). Once the response is read and closed its stream is
    spent, and the body it holds replaces it (what httpx gives a response built from
    content)."""
    if not (response.is_closed and response.is_stream_consumed):
        return  # not read here (a streamed body is its reader's)
    try:
        response.stream = httpx.ByteStream(response.content)
    except httpx.ResponseNotRead:  # consumed without being kept: nothing to hold on to
        return
