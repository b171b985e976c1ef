"""The Bling connector (`type: bling`): declarations, auth and the thin ERP resource methods;
the pure mappings live in orders.py, stock.py and invoices.py.

API v3 (ref: developer.bling.com.br/bling-api, /autenticacao, /aplicativos): OAuth2
authorization code; the token endpoint takes the app's credentials as HTTP Basic and a form
body; access tokens last 6 h and every refresh rotates the refresh token (the old one is dead
once used), so refreshes go through the shared single-flight, persisted flow
(erpsync.http.auth). Calls send `Authorization: Bearer <access_token>`.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx

from erpsync.connector import (
    ErpOrderRef,
    HttpConnector,
    InvoiceChanges,
    InvoiceSource,
    OAuthConsent,
    OrderSink,
    ProductIds,
    RateLimit,
    StockSource,
    Window,
)
from erpsync.connectors.bling import errors, invoices, orders, stock
from erpsync.connectors.bling.orders import BRAZIL
from erpsync.connectors.bling.settings import BlingCredentials, BlingOptions
from erpsync.domain import Invoice, Order, SendResult, StockLevel
from erpsync.errors import AuthError, ConfigError, FatalError, InvoiceRefusedError, RetriableError
from erpsync.http.pagination import PageNumberPaginator

log = logging.getLogger("erpsync.connectors.bling")

#: the consent page: response_type=code, client_id and a mandatory `state`; Bling redirects
#: to the link registered with the app (ref: developer.bling.com.br/aplicativos)
AUTHORIZATION_URL = "https://www.bling.com.br/Api/v3/oauth/authorize"
#: the module whose situações sales orders take (GET /situacoes/modulos)
SALES_MODULE = "Vendas"
#: the longest period a list filter may span: Bling answers 400 past one year (changelog v306,
#: "Bloqueio de requisições com filtro por período com intervalo superior a um ano")
LONGEST_PERIOD = timedelta(days=365)


def _limits(rate: float) -> Mapping[str, RateLimit]:
    return {"default": RateLimit(rate=rate, burst=max(1, int(rate)))}


class BlingConnector(
    HttpConnector[BlingCredentials, BlingOptions], OrderSink, StockSource, InvoiceSource
):
    """Bling ERP: channel orders in (contato by CPF/CNPJ, items by product id), stock balances
    and authorised NF-e out."""

    type = "bling"
    platform = orders.PLATFORM
    consent = OAuthConsent(AUTHORIZATION_URL)
    default_base_url = "https://api.bling.com.br/Api/v3"
    default_auth_url = "https://api.bling.com.br/Api/v3/oauth/token"
    emulator = "erpsync.connectors.bling.emulator:BlingEmulator"
    default_headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}
    #: 3 requests per second per account (ref: developer.bling.com.br/limites; the 429 says
    #: TOO_MANY_REQUESTS), and a daily quota (120,000 is the figure integrators quote [U])
    rate_limits: ClassVar[Mapping[str, RateLimit]] = _limits(3.0)
    #: product ids per `/estoques/saldos` and codes per `/produtos` call: the ids travel in the
    #: query string (`idsProdutos[]=`), which must stay a sane length
    stock_batch_size = 50
    #: sales orders changed since a day are listed (fetch_invoice_changes)
    lists_invoice_changes = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: SKU -> product id, kept between runs by the engine (ProductIds): an id does not
        #: change while the product exists; one Bling no longer knows is dropped and searched
        #: again
        self.product_ids = ProductIds()
        #: CPF/CNPJ -> contato id
        self.contacts: dict[str, int] = {}
        self._situacoes: dict[str, int] | None = None
        self._situacao_names: list[str] = []

    def limits(self) -> Mapping[str, RateLimit]:
        return _limits(self.options.requests_per_second)

    # -- auth ----------------------------------------------------------------------------------

    def build_auth(self) -> httpx.Auth:
        return self.oauth_refresh(body_format="form", client_auth="basic")

    def authorization_url(self, state: str) -> str:
        query = {"response_type": "code", "client_id": self.credentials.client_id, "state": state}
        if self.options.redirect_uri:
            query["redirect_uri"] = self.options.redirect_uri
        return f"{AUTHORIZATION_URL}?{urlencode(query)}"

    def exchange_code(self, code: str) -> str:
        """Trade the redirect's code for tokens (Basic client auth, no redirect_uri unless
        configured), store them, and prove they work."""
        self.http.oauth.exchange_code(code.strip(), self.options.redirect_uri)
        return self.check().replace("authenticated", "authorised", 1)

    def check(self) -> str:
        """Authenticate and read the sales module's situações (the ids this account uses)."""
        self.situacoes()
        names = ", ".join(self._situacao_names)
        return f"authenticated with Bling; sales situações: {names}"

    def classify_error(self, response: httpx.Response) -> Exception | None:
        """Bling's `{"error": {type, message, description, fields}}` as one line."""
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            return None
        message = errors.error_message(body)
        if not message:
            return None
        text = self.http.redactor.text(f"HTTP {status} {message}")
        if status == 401:
            return AuthError(
                f"{text}; re-authorise: erpsync connectors authorize {self.name}",
                connector=self.name,
                status_code=status,
            )
        if status == 403:
            return AuthError(
                f"{text}: grant the app this scope in Bling (Área do Integrador) and "
                f"authorise again",
                connector=self.name,
                status_code=status,
            )
        return FatalError(text, connector=self.name, status_code=status)

    def classify_rate_limit(self, response: httpx.Response) -> Exception | None:
        """The daily quota's 429 stops the run at once (a retry within seconds cannot clear
        it; ecomplus pauses 12 h); the per-second one is retried by the core."""
        try:
            body = response.json()
        except ValueError:
            return None
        if not errors.daily_limit(body):
            return None
        return FatalError(
            f"Bling's daily request quota is used up ({errors.error_message(body)}); "
            "erpsync will try again on the next run",
            connector=self.name,
            status_code=429,
        )

    # -- situações (per account) ---------------------------------------------------------------

    def situacoes(self) -> dict[str, int]:
        """Name (folded) -> id of the sales orders' situações: ids differ per account, so they
        are read once per run. ref: developer.bling.com.br/referencia#/Situa%C3%A7%C3%B5es"""
        if self._situacoes is None:
            modules = _data(self.request("GET", "/situacoes/modulos"))
            module = next((m for m in modules if _fold(m.get("nome")) == _fold(SALES_MODULE)), None)
            if module is None:
                raise FatalError(f"Bling lists no {SALES_MODULE!r} module", connector=self.name)
            found = _data(self.request("GET", f"/situacoes/modulos/{module['id']}"))
            found = [s for s in found if s.get("id") is not None]
            self._situacoes = {_fold(s.get("nome")): int(s["id"]) for s in found}
            self._situacao_names = [str(s.get("nome")) for s in found]
        return self._situacoes

    def _situacao(self, name: str) -> int:
        situacao = self.situacoes().get(_fold(name))
        if situacao is None:
            raise ConfigError(
                f"connectors.{self.name}.options: Bling has no sales situação {name!r} "
                f"(it has: {', '.join(self._situacao_names)})"
            )
        return situacao

    # -- orders: OrderSink ---------------------------------------------------------------------

    def find_order(self, order: Order) -> str | None:
        """The Bling order carrying this channel number (`numeroLoja`) in its loja, if any.
        ref: GET /pedidos/vendas?numerosLojas[]=&idLoja=

        By number alone, never by day: Bling's v3 OpenAPI document (public copy in
        tempont/bling-erp-api-python, specs/bling-openapi-reference.json, GET /pedidos/vendas)
        lists `numerosLojas[]` ("Conjunto de números de pedidos nas lojas") beside bare-date
        `dataInicial`/`dataFinal` in no named zone, and documents no default period; a date
        bound could miss a create whose answer was lost after 21:00 local or past midnight."""
        number = self.channel_number(order)
        params: dict[str, Any] = {"numerosLojas[]": number, "limite": self.options.page_size}
        loja = self._loja(order)
        if loja is not None:
            params["idLoja"] = loja
        for found in _data(self.request("GET", "/pedidos/vendas", params=params)):
            same_loja = loja is None or (found.get("loja") or {}).get("id") in (loja, None)
            if orders.same_number(found.get("numeroLoja"), number) and same_loja:
                return str(found["id"])
        return None

    def create_order(self, order: Order) -> SendResult:
        """POST /pedidos/vendas, once: a lost answer raises RetriableError (the engine then
        looks the order up before creating again)."""
        ref = f"{order.connector}:{order.external_id}"
        try:
            document = orders.document_of(order.buyer)
        except ValueError as exc:
            return SendResult(ref=ref, ok=False, error=f"buyer document: {exc}")
        result = self._create(order, ref, document)
        if result.ok or not _product_gone(result.error):
            return result
        # a product id remembered from an earlier run Bling no longer knows (deleted, or
        # re-created under a new id): nothing was stored (a 400); search the SKUs again, once
        for item in order.items:
            self.product_ids.drop(item.sku or "")
        return self._create(order, ref, document)

    def _create(self, order: Order, ref: str, document: str | None) -> SendResult:
        try:
            products = self.resolve_products([i.sku for i in order.items if i.sku])
            missing = [i.sku or "(no SKU)" for i in order.items if i.sku not in products]
            if missing:
                return SendResult(
                    ref=ref,
                    ok=False,
                    retry=True,
                    error=f"SKU {', '.join(dict.fromkeys(missing))} is not a product in Bling",
                )
            contato = self._contato(order, document)
            body = orders.pedido_body(
                order,
                number=self.channel_number(order),
                contato_id=contato,
                loja_id=self._loja(order),
                products=products,
                unidade=self.options.unidade,
                forma_pagamento_id=self.options.forma_pagamento_id,
                intermediador=self._intermediador(order),
            )
            response = self.request(
                "POST", "/pedidos/vendas", operation="default", json=body, idempotent=False
            )
        except FatalError as exc:
            return SendResult(ref=ref, ok=False, error=str(exc))
        created = response.json().get("data") or {}
        for alert in created.get("alertas") or []:
            log.info("%s: Bling alert on order %s: %s", self.name, ref, alert)
        return SendResult(ref=ref, ok=True, remote_id=str(created.get("id")))

    def cancel_order(self, ref: ErpOrderRef) -> SendResult:
        """Move the order to the account's "Cancelado" situação, unless it is there already.
        Bling refuses moves it cannot take (an invoiced order): reported, not forced.
        ref: PATCH /pedidos/vendas/{id}/situacoes/{idSituacao}"""
        name = f"{ref.connector}:{ref.external_id}"
        try:
            cancelled = self._situacao(self.options.situacao_cancelado)
            pedido = self._pedido(ref.remote_id)
            if pedido is None:
                return SendResult(ref=name, ok=False, error=f"Bling order {ref.remote_id} is gone")
            if (pedido.get("situacao") or {}).get("id") == cancelled:
                return SendResult(ref=name, ok=True, remote_id=ref.remote_id)
            self.request(
                "PATCH", f"/pedidos/vendas/{ref.remote_id}/situacoes/{cancelled}", expect_json=False
            )
        except FatalError as exc:
            return SendResult(ref=name, ok=False, remote_id=ref.remote_id, error=str(exc))
        return SendResult(ref=name, ok=True, remote_id=ref.remote_id)

    def _intermediador(self, order: Order) -> tuple[str, str] | None:
        found = self.options.intermediadores.get(order.connector)
        return (found.cnpj, found.nome_usuario) if found is not None else None

    def _loja(self, order: Order) -> int | None:
        return self.options.lojas.get(order.connector, self.options.loja_id)

    def _pedido(self, remote_id: str) -> dict[str, Any] | None:
        try:
            data = self.request("GET", f"/pedidos/vendas/{remote_id}").json().get("data")
        except FatalError as exc:
            if exc.status_code == 404:
                return None
            raise
        return data if isinstance(data, dict) else None

    def _contato(self, order: Order, document: str | None) -> int:
        """The buyer's contato: found by CPF/CNPJ (`numeroDocumento`), else created. A buyer
        without a document gets a new contato. ref: GET/POST /contatos"""
        if document and document in self.contacts:
            return self.contacts[document]
        if document:
            params = {"numeroDocumento": document}
            for found in _data(self.request("GET", "/contatos", params=params)):
                if _digits(found.get("numeroDocumento")) == document:
                    self.contacts[document] = int(found["id"])
                    return self.contacts[document]
        body = orders.contato_body(order.buyer, order.shipping_address, document)
        # a contato created twice is harmless (unlike an order): this POST may be retried
        created = self.request("POST", "/contatos", json=body).json().get("data") or {}
        contato = int(created["id"])
        if document:
            self.contacts[document] = contato
        return contato

    # -- products and stock: StockSource -------------------------------------------------------

    def resolve_products(self, skus: Sequence[str]) -> dict[str, int]:
        """SKU -> product id for the SKUs Bling knows (exact codes only), cached.
        ref: GET /produtos?codigos[]="""
        wanted = [s for s in dict.fromkeys(skus) if s not in self.product_ids]
        for start in range(0, len(wanted), self.stock_batch_size):
            batch = wanted[start : start + self.stock_batch_size]
            params = {"codigos[]": batch, "limite": self.options.page_size}
            records = _data(self.request("GET", "/produtos", operation="default", params=params))
            for sku, product_id in stock.exact_codes(records, batch).items():
                self.product_ids.put(sku, product_id)
        found = {s: self.product_ids.get(s) for s in skus}
        return {s: int(product_id) for s, product_id in found.items() if product_id is not None}

    def fetch_stock(self, skus: Sequence[str]) -> Iterator[list[StockLevel]]:
        """Balances of the SKUs Bling knows, in batches: the account's totals as "main" and
        each depósito's. ref: GET /estoques/saldos?idsProdutos[]=

        The batches are independent (each its own product-id lookup, then its balances), so
        they go through the shared fan-out together: the same requests, overlapped under the
        account's rate limit instead of each waiting for the previous batch's answers."""
        size = self.stock_batch_size
        batches = [skus[start : start + size] for start in range(0, len(skus), size)]
        for outcome in self.each(self._batch_levels, batches):
            levels = outcome.get()
            if levels:
                yield levels

    def _batch_levels(self, batch: Sequence[str]) -> list[StockLevel]:
        levels = self._balances(batch)
        # a remembered id Bling has no balance for may be a product deleted or re-created
        # under a new id: those SKUs are searched again, once
        stale = [sku for sku in batch if sku in self.product_ids]
        stale = [sku for sku in stale if not any(lv.sku == sku for lv in levels)]
        for sku in stale:
            self.product_ids.drop(sku)
        if stale:
            levels += self._balances(stale)
        return levels

    def _balances(self, skus: Sequence[str]) -> list[StockLevel]:
        products = self.resolve_products(skus)
        if not products:
            return []
        by_id = {product_id: sku for sku, product_id in products.items()}
        params = {"idsProdutos[]": list(by_id)}
        records = _data(self.request("GET", "/estoques/saldos", params=params))
        return stock.levels(records, by_id)

    # -- invoices: InvoiceSource ---------------------------------------------------------------

    def fetch_invoices(self, orders: Sequence[ErpOrderRef]) -> Iterator[list[Invoice]]:
        """The authorised NF-e (situação 5, 6, 7) of each order, with its XML: the order's
        `notaFiscal.id` -> GET /nfe/{id} -> the XML behind its `xml` link."""
        for ref in orders:
            invoice, _ = self._invoice(ref)
            if invoice is not None:
                yield [invoice]

    def look_up_invoices(self, orders: Sequence[ErpOrderRef]) -> Iterator[InvoiceChanges]:
        """fetch_invoices, with the orders whose NF-e exists but cannot be taken yet."""
        for ref in orders:
            invoice, unsettled = self._invoice(ref)
            yield InvoiceChanges(
                invoices=[invoice] if invoice is not None else [],
                unsettled=[ref] if unsettled else [],
            )

    def fetch_invoice_changes(
        self, window: Window, orders: Sequence[ErpOrderRef]
    ) -> Iterator[InvoiceChanges]:
        """The sales orders changed in the window (`GET /pedidos/vendas?dataAlteracaoInicial=
        &dataAlteracaoFinal=`, paged until a short page), and for those of ``orders`` among
        them the NF-e as fetch_invoices reads it (an order changed in the window but not
        invoiced costs that read too: the list shows no NF-e).

        Why orders and not `GET /nfe?dataEmissaoInicial=`: a listed NF-e carries no link to
        its order (the SDK's nfes get.interface.ts: id, tipo, situacao, numero, dataEmissao,
        contato, loja; `numeroPedidoLoja` only on GET /nfe/{id}, changelog v306), while the
        order gets its `notaFiscal.id` when the NF-e is issued from it, which changes it. The
        filter is sent as a local day and time ("2024-01-01 10:00:00"), the form Bling's own
        OpenAPI document for v3 declares for these two parameters (`format: datetime`,
        examples "2022-01-01 10:00:00" / "2022-01-15 11:00:00"; `dataInicial`/`dataFinal`
        are `format: date`): followed from its public copy in tempont/bling-erp-api-python,
        specs/bling-openapi-reference.json, where the changelog v306 example shows days only.
        A day alone would list every order changed that day on each run. The zone is not
        documented: the seller's (the examples carry no offset, like every Bling time); were
        Bling to read it as UTC, the start would only reach further back, and the end missed
        now is covered by the next window, which starts before this one's end. One year at
        most per request (v306)."""
        wanted = {ref.remote_id: ref for ref in orders}
        changed: list[ErpOrderRef] = []
        for start, end in _periods(window):
            params = {
                "dataAlteracaoInicial": _local_time(start),
                "dataAlteracaoFinal": _local_time(end),
            }
            paginator = PageNumberPaginator(
                self.options.page_size, page_param="pagina", size_param="limite"
            )
            for page in self.paginate(paginator, "/pedidos/vendas", records=_data, params=params):
                for pedido in page.records:
                    ref = wanted.pop(str(pedido.get("id")), None)
                    if ref is not None:
                        changed.append(ref)
        yield from self.look_up_invoices(changed)

    def _invoice(self, ref: ErpOrderRef) -> tuple[Invoice | None, bool]:
        """The order's authorised NF-e, and whether it has one that is not ready yet (pending,
        rejected for now, no XML link yet, an XML that does not read): asked again."""
        pedido = self._pedido(ref.remote_id)
        if pedido is None:
            log.warning("%s: Bling order %s not found; no invoice read", self.name, ref.remote_id)
            return None, False
        nfe_id = invoices.nfe_id(pedido)
        if nfe_id is None:
            return None, False
        nfe = self.request("GET", f"/nfe/{nfe_id}").json().get("data")
        if not invoices.authorised(nfe):
            return None, not invoices.final(nfe)
        link = invoices.xml_link(nfe)
        if link is None:
            log.warning("%s: NF-e %s of order %s has no XML link yet", self.name, nfe_id, ref)
            return None, True
        xml = self.request("GET", link, expect_json=False).content
        try:
            return invoices.invoice_from(nfe, xml, ref), False
        except (InvoiceRefusedError, ValueError) as exc:
            # one unreadable NF-e must not hold back the others: it is asked again next run
            log.warning("%s: NF-e %s of Bling order %s skipped: %s", self.name, nfe_id, ref, exc)
            return None, True


def _local_time(moment: datetime) -> str:
    """ "2024-01-01 10:00:00" in the seller's zone (America/Sao_Paulo)."""
    return moment.astimezone(BRAZIL).strftime("%Y-%m-%d %H:%M:%S")


def _periods(window: Window) -> Iterator[tuple[datetime, datetime]]:
    """The window cut into periods Bling takes (one year at most each), oldest first."""
    start = window.start
    while True:
        end = min(start + LONGEST_PERIOD, window.end)
        yield start, end
        if end >= window.end:
            return
        start = end


def _product_gone(error: str | None) -> bool:
    """Whether a refused create named an item's product Bling does not know (its validation
    field `itens[i].produto`)."""
    return bool(error) and "].produto" in str(error)


def _data(response: httpx.Response) -> list[dict[str, Any]]:
    """The `data` array of a list answer."""
    data = response.json().get("data")
    if not isinstance(data, list):
        raise RetriableError("Bling answered a list without a `data` array")
    return [r for r in data if isinstance(r, dict)]


def _fold(name: Any) -> str:
    """A situação name compared without case or accents ("Em Aberto" = "em aberto")."""
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode()
    return " ".join(text.lower().split())


def _digits(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())
