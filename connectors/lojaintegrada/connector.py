"""The Loja Integrada connector (`type: lojaintegrada`): declarations, auth and the thin
resource methods; the mappings live in orders.py, listings.py and stock.py.

API v1 at `https://api.awsli.com.br/v1/...` with the integrator pair in one header,
`Authorization: chave_api <api_key> aplicacao <app_key>` (the current "API Loja Integrada
v2" spec; the deprecated one also took query parameters), or the store's personal token,
`Authorization: Basic <token>`. Lists are Tastypie-style:
`limit`/`offset` and `{"meta": {"next": ...}, "objects": [...]}`. Keys never expire; there is
no OAuth and nothing to refresh.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from erpsync.connector import (
    HttpConnector,
    ListingSource,
    OrderPage,
    OrderSource,
    RateLimit,
    RawOrder,
    SeenOrders,
    StockSink,
    TrackingSink,
    Window,
)
from erpsync.connectors.lojaintegrada import listings as listing_map
from erpsync.connectors.lojaintegrada import orders as order_map
from erpsync.connectors.lojaintegrada import stock as stock_map
from erpsync.connectors.lojaintegrada.settings import (
    LojaIntegradaCredentials,
    LojaIntegradaOptions,
)
from erpsync.domain import Listing, Order, PushResult, SendResult, StockUpdate, TrackingUpdate
from erpsync.errors import AuthError, FatalError, RateLimitedError
from erpsync.http.auth import HeaderAuth
from erpsync.http.pagination import NextUrlPaginator
from erpsync.http.ratelimit import parse_retry_after
from erpsync.http.session import Page

#: situações after which a tracking code makes no sense (the sale is off)
_OFF = frozenset({"pedido_cancelado", "pagamento_devolvido", "cancelamento_solicitado"})
#: the throttling errors a 429 carries, and the limit each one is (the spec's "Limites")
THROTTLES: Mapping[int, str] = {
    633: "100 requests a minute per store",
    533: "3000 requests a minute per application (shared with the app's other stores)",
    133: "1200 requests a minute per IP address",
}
#: the application's and the IP's limits are spent by callers our bucket cannot see: a
#: longer pause than our bucket's guess (one public client sleeps 10 s on every 429)
SHARED_LIMIT_PAUSE = 10.0
#: situações at or past "shipped": the tracking push does not move the order back
_SHIPPED_OR_LATER = frozenset({"pedido_enviado", "pedido_entregue", "pronto_para_retirada"})


class LojaIntegradaConnector(
    HttpConnector[LojaIntegradaCredentials, LojaIntegradaOptions],
    OrderSource,
    ListingSource,
    StockSink,
    TrackingSink,
):
    """Loja Integrada: orders by update time (full order per `numero`), produtos as
    listings (variations are child produtos), stock one PUT per produto, tracking codes."""

    type = "lojaintegrada"
    platform = order_map.PLATFORM
    default_base_url = "https://api.awsli.com.br"
    emulator = "erpsync.connectors.lojaintegrada.emulator:LojaIntegradaEmulator"
    #: "100 requisições por minuto por loja" (error 633; also 3000/min per application, error
    #: 533, and 1200/min per IP, error 133), answered with HTTP 429 [R: the spec's throttling
    #: section as quoted by public notes; the same numbers in the deprecated spec]. Whether the
    #: minute is a sliding or a fixed window is not documented: a bucket of 10 refilling 90 a
    #: minute never puts more than 100 requests in any 60 seconds, whichever it is.
    rate_limits: ClassVar[Mapping[str, RateLimit]] = {"default": RateLimit.per_minute(90, 10)}
    # offset pages over an update-time filter, in an order the docs do not state (one client
    # reports oldest first): an order updated mid-pull may shift the pages under us
    reread_until_stable = True
    # one PUT per produto: a small batch records outcomes often on a slow (100/min) channel
    push_batch_size = 50

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: `GET /v1/situacao`, by id, read once per connector instance (one run)
        self._situacoes: dict[str, dict[str, Any]] | None = None

    def build_auth(self) -> httpx.Auth:
        credentials = self.credentials
        if credentials.personal_token is not None:
            # the spec's `personal_token` scheme: `Basic <token>`, the token raw (the spec's
            # example; it never says to base64 it, and it is not a user:password pair)
            return HeaderAuth(
                "Authorization", f"Basic {credentials.personal_token.get_secret_value()}"
            )
        # the spec's `chave_api_aplicacao` scheme (tcosta84/python-lojaintegrada sends the same);
        # the credentials model holds both keys whenever there is no personal token
        api_key, app_key = (
            key.get_secret_value() if key is not None else ""
            for key in (credentials.api_key, credentials.app_key)
        )
        return HeaderAuth("Authorization", f"chave_api {api_key} aplicacao {app_key}")

    # -- orders --------------------------------------------------------------------------------

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        """Orders changed since the window's start (`since_atualizado`, the store's local
        time), ≤ 50 a page following `meta.next`; each new version read in full with
        `GET /v1/pedido/{numero}` (search results are summaries) and its situação resolved
        through `GET /v1/situacao`. ref: GET /v1/pedido/search, GET /v1/pedido/{pedido_id}"""
        zone = self.options.timezone
        params = {
            "since_atualizado": order_map.since_param(window.start, zone),
            "limit": self.options.limit,
        }
        yielded: set[tuple[str, datetime | None]] = set()
        for page in self._pages("/v1/pedido/search", params, operation="orders"):
            records = page.records
            rejected: list[str] = []
            versions: dict[str, datetime | None] = {}
            summaries: dict[str, Mapping[str, Any]] = {}
            for summary in records:
                try:
                    numero, modified = order_map.version(summary, zone)
                except ValueError as exc:
                    rejected.append(f"pedido search result: {exc}")
                    continue
                # no upper bound in the API: a later change belongs to the next window
                if modified is None or modified < window.end:
                    versions[numero] = modified
                    summaries[numero] = summary
            current = seen.current_of(versions) if versions else set()
            wanted = [
                (numero, modified)
                for numero, modified in versions.items()
                if numero not in current and (numero, modified) not in yielded
            ]
            yielded.update(wanted)
            # the full reads are independent: in flight together, paced by the rate limit
            reads = self.each(self._read_pedido, [numero for numero, _ in wanted])
            raws = []
            for (numero, modified), read in zip(wanted, reads, strict=True):
                if read.error is not None:
                    # this order's read failed: it fails alone (the engine leaves a transient
                    # failure to the next run, quarantines a refusal with the summary read)
                    raws.append(
                        RawOrder(numero, modified, dict(summaries[numero]), failure=read.error)
                    )
                    continue
                pedido = self._as_pedido(numero, read.value)
                if pedido is None:
                    rejected.append(f"pedido {numero}: listed by the search, not found")
                    continue
                raws.append(RawOrder(numero, self._version_of(pedido, modified), pedido))
            # even with nothing new, for the progress count (listed of `meta.total_count`)
            yield OrderPage(
                orders=raws, rejected=rejected, listed=len(records), listing_total=_total(page)
            )

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        return order_map.order_from_payload(
            payload, connector=self.name, zone=self.options.timezone
        )

    def _pedido(self, numero: str) -> dict[str, Any] | None:
        """The full order, its situação resolved; None when the API does not know it."""
        return self._as_pedido(numero, self._read_pedido(numero))

    def _read_pedido(self, numero: str) -> Any:
        """`GET /v1/pedido/{numero}` as it answered; None for a 404."""
        return self.read_optional(f"/v1/pedido/{numero}", operation="orders")

    def _as_pedido(self, numero: str, data: Any) -> dict[str, Any] | None:
        """A read order with its situação resolved (on the caller's thread: the situações
        are read once, on first need)."""
        if data is None:
            return None
        if not isinstance(data, dict):
            return {"numero": numero, "unreadable": data}  # mapping quarantines it
        return self._resolve_situacao(data)

    def _version_of(self, pedido: Mapping[str, Any], listed: datetime | None) -> datetime | None:
        """The full order's own data_modificacao (it may be newer than the search's)."""
        try:
            return order_map.local_time(pedido["data_modificacao"], self.options.timezone)
        except (KeyError, ValueError):
            return listed

    def _resolve_situacao(self, pedido: dict[str, Any]) -> dict[str, Any]:
        """`situacao` as the store's `GET /v1/situacao` row: the order may carry a URI
        ("/api/v1/situacao/4"), a bare id, or the object itself (kept, completed)."""
        node = pedido.get("situacao")
        if isinstance(node, Mapping):
            key: Any = node.get("id")
        else:
            key = order_map.uri_id(node) if isinstance(node, str) else node
        if isinstance(node, Mapping) and node.get("codigo"):
            known = self.situacoes().get(str(key)) if key is not None else None
            pedido["situacao"] = {**(known or {}), **node}
            return pedido
        row = self.situacoes().get(str(key)) if key is not None else None
        if row is not None:
            pedido["situacao"] = {**row, **(node if isinstance(node, Mapping) else {})}
        return pedido

    def situacoes(self) -> dict[str, dict[str, Any]]:
        """The store's situações by id (`GET /v1/situacao`), read once. ref: tag Situações"""
        if self._situacoes is None:
            table: dict[str, dict[str, Any]] = {}
            for page in self._pages("/v1/situacao", {"limit": 50}, operation="default"):
                for row in page.records:
                    if row.get("id") is not None:
                        table[str(row["id"])] = row
            self._situacoes = table
        return self._situacoes

    # -- listings and stock --------------------------------------------------------------------

    def fetch_listings(self) -> Iterator[list[Listing]]:
        """Every sellable produto (simple ones and variation children). ref: GET /v1/produto"""
        params = {"limit": self.options.limit}
        # the next page is read while this one's listings are stored (HttpConnector.read_ahead)
        for page in self.read_ahead(self._pages("/v1/produto", params, operation="products")):
            batch = [
                listing
                for produto in page.records
                if (listing := listing_map.listing_from_payload(produto, connector=self.name))
            ]
            if batch:
                yield batch

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """One `PUT /v1/produto_estoque/{produto_id}` per listing; each outcome its own."""
        return [self._push_one(update) for update in updates]

    def _push_one(self, update: StockUpdate) -> PushResult:
        def failed(error: str) -> PushResult:
            return PushResult(item_id=update.item_id, ok=False, error=error)

        if not update.sku:  # the engine never plans these; never write a listing we cannot name
            return failed("listing without a SKU erpsync knows: not written")
        body = stock_map.body(
            update,
            in_stock_days=self.options.situacao_em_estoque,
            out_of_stock_days=self.options.situacao_sem_estoque,
        )
        try:
            response = self.request(
                "PUT", f"/v1/produto_estoque/{update.item_id}", operation="stock", json=body
            )
        except FatalError as exc:  # this produto refused (404, 400): its result, not the run's
            return failed(str(exc))
        answer = response.json() if response.content else None
        why = stock_map.applied(update, answer)
        return failed(why) if why else PushResult(item_id=update.item_id, ok=True)

    # -- post-sale -----------------------------------------------------------------------------

    def push_tracking(self, updates: Sequence[TrackingUpdate]) -> list[SendResult]:
        """The tracking code on the order's shipment (`PUT /v1/pedido_envio/{envio_id}` with
        `objeto`; the id is `envios[0].id`, not the order's), then the order moved to
        `options.shipped_status` (`PUT /v1/situacao/pedido/{numero}`): whether the first
        moves the situação is undocumented. Same code already there: a replay."""
        return self.send_each(self._push_tracking, updates, ref=lambda u: u.order_external_id)

    def _push_tracking(self, update: TrackingUpdate) -> SendResult:
        ref = update.order_external_id
        pedido = self._pedido(ref)
        if pedido is None:
            return SendResult(ref=ref, ok=False, error=f"pedido {ref} not on Loja Integrada")
        situacao = pedido.get("situacao")
        codigo = situacao.get("codigo") if isinstance(situacao, Mapping) else None
        if codigo in _OFF:
            return SendResult(ref=ref, ok=False, error=f"pedido {ref} is {codigo}: not sent")
        envios = [e for e in pedido.get("envios") or [] if isinstance(e, Mapping)]
        if not envios or envios[0].get("id") is None:
            return SendResult(ref=ref, ok=False, error=f"pedido {ref} has no envio")
        envio = envios[0]
        if str(envio.get("objeto") or "").strip() != update.tracking_code:
            self.request(
                "PUT", f"/v1/pedido_envio/{envio['id']}", json={"objeto": update.tracking_code}
            )
        target = self.options.shipped_status
        if target and codigo not in _SHIPPED_OR_LATER:
            self.request("PUT", f"/v1/situacao/pedido/{ref}", json={"codigo": target})
        return SendResult(ref=ref, ok=True, remote_id=str(envio["id"]))

    # -- checks and errors ---------------------------------------------------------------------

    def check(self) -> str:
        """Authenticate and read the store's situações (a small, always-present list)."""
        self._situacoes = None
        count = len(self.situacoes())
        return f"authenticated with Loja Integrada; {count} order situações"

    def classify_error(self, response: httpx.Response) -> Exception | None:
        """Loja Integrada's error bodies (`error_message`, Tastypie's field errors) as one
        line; 401/403: the key pair."""
        status = response.status_code
        text = describe(response)
        if status in (401, 403) and self.credentials.scheme == "personal_token":
            return AuthError(
                f"personal token refused ({text}): it expires 3 months after it was generated "
                f"or last renewed; the store owner renews it (or generates a new one) under "
                f"Configurações > Chave para API > Personal token, then set "
                f"credentials.personal_token",
                connector=self.name,
                status_code=status,
            )
        if status in (401, 403):
            return AuthError(
                f"key pair refused ({text}): check credentials.api_key (the store's chave de "
                f"API) and credentials.app_key (the application's key, which Loja Integrada "
                f"restricts to the integrator's IPs)",
                connector=self.name,
                status_code=status,
            )
        return FatalError(f"HTTP {status} {text}", connector=self.name, status_code=status)

    def classify_rate_limit(self, response: httpx.Response) -> Exception | None:
        """A 429 says which limit it was (error 633, 533 or 133): name it; the per-store one is
        our own bucket's to pace, the shared ones pause longer. Retried either way."""
        try:
            data = response.json()
        except ValueError:
            data = None
        raw = (data.get("code") or data.get("codigo")) if isinstance(data, dict) else None
        code = int(str(raw)) if str(raw or "").isdigit() else None
        limit = THROTTLES.get(code) if code is not None else None
        if limit is None:
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None and code != 633:
            retry_after = SHARED_LIMIT_PAUSE
        return RateLimitedError(
            f"HTTP 429: Loja Integrada's limit of {limit} (error {code})",
            connector=self.name,
            status_code=429,
            retry_after=retry_after,
        )

    # -- helpers -------------------------------------------------------------------------------

    def _pages(
        self, path: str, params: Mapping[str, Any], *, operation: str
    ) -> Iterator[Page[dict[str, Any]]]:
        """Every page (its `objects`), following `meta.next`."""
        return self.paginate(
            NextUrlPaginator(next_page), path, records=objects, operation=operation,
            params=params,
        )  # fmt: skip


def _total(page: Page[Any]) -> int | None:
    """The search's `meta.total_count`, on its first page."""
    if page.number != 1:
        return None
    meta = page.response.json().get("meta")
    total = meta.get("total_count") if isinstance(meta, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def objects(response: httpx.Response) -> list[dict[str, Any]]:
    data = response.json()
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
        raise FatalError("list response without `objects`")
    return [r for r in data["objects"] if isinstance(r, dict)]


def next_page(response: httpx.Response) -> str | None:
    """`meta.next` ("/api/v1/pedido/search?limit=50&offset=50&since_atualizado=..."): its
    query on the path we asked for. The documented paths are /v1/..., while `meta.next` and
    `resource_uri` say /api/v1/... (both are served); keeping our own path also keeps any
    prefix the configured base_url carries."""
    data = response.json()
    meta = data.get("meta") if isinstance(data, dict) else None
    link = meta.get("next") if isinstance(meta, dict) else None
    if not isinstance(link, str) or not link.strip():
        return None
    query = urlsplit(link.strip()).query
    return f"{response.request.url.path}?{query}" if query else None


def describe(response: httpx.Response) -> str:
    """The human part of an error body: `error_message` (what public clients read), a plain
    `error`/`message`/`detail`, or Tastypie's `{"<resource>": {"<field>": ["..."]}}`."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase or "error"
    if not isinstance(data, dict):
        return str(data)[:300]
    for key in ("error_message", "error_response", "message", "error", "detail", "mensagem"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            code = data.get("code") or data.get("codigo")
            return f"{value.strip()} (code {code})" if code else value.strip()
    fields = [
        f"{field}: {'; '.join(map(str, messages))}"
        for node in data.values()
        if isinstance(node, dict)
        for field, messages in node.items()
        if isinstance(messages, list)
    ]
    return ", ".join(fields) or response.reason_phrase or "error"
