"""The Mercado Livre connector: OAuth with rotating refresh tokens, orders, listings, stock."""

from __future__ import annotations

import logging
import zipfile
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any, ClassVar, NamedTuple

import httpx

from erpsync.connector import (
    HttpConnector,
    InvoiceSink,
    LabelSource,
    ListingSource,
    OAuthConsent,
    OrderPage,
    OrderSource,
    Pending,
    RateLimit,
    RawOrder,
    SeenOrders,
    StockSink,
    TrackingSink,
    Window,
)
from erpsync.connectors.mercadolivre import (
    errors,
    invoices,
    labels,
    listings,
    orders,
    paging,
    tracking,
)
from erpsync.connectors.mercadolivre.settings import MercadoLivreCredentials, MercadoLivreOptions
from erpsync.connectors.mercadolivre.stock import StockPlan, plan_stock
from erpsync.domain import (
    Invoice,
    Label,
    LabelRequest,
    LabelResult,
    Listing,
    Order,
    PushResult,
    SendResult,
    StockUpdate,
    TrackingUpdate,
)
from erpsync.errors import AuthError, ConfigError, FatalError, RetriableError
from erpsync.http.pagination import OffsetPaginator

log = logging.getLogger("erpsync.connectors.mercadolivre")

#: Brazil's consent page (ref: developers.mercadolivre.com.br/pt_br/autenticacao-e-autorizacao)
AUTHORIZATION_URL = "https://auth.mercadolivre.com.br/authorization"
#: "mandatory to use in the header x-format-new = true" on shipments
#: (ref: developers.mercadolibre.com.ar/devsite/manage-shipments)
NEW_FORMAT = {"x-format-new": "true"}
#: a window this short that still matches more than the cap cannot be split usefully
MIN_WINDOW = timedelta(seconds=1)
#: searches re-read after one delivered fewer orders than its total, before giving up
MAX_REREADS = 2
#: item search pages requested ahead at most; the core asks for fewer when the items limit
#: spends less than this in a round trip, and none past the search's total
ITEM_PAGES_AHEAD = 4

#: one detail call: ("billing_info" | "shipment", its id)
_Call = tuple[str, str]


class _SearchPage(NamedTuple):
    """One page of an order search; ``total``: the search's total, on its first page."""

    records: list[dict[str, Any]]
    total: int | None


class _Started(NamedTuple):
    """A search page whose orders' detail calls are in flight."""

    page: _SearchPage
    found: list[dict[str, Any]]
    pending: Pending[Any]
    calls: list[_Call]


def _limits(rate: float) -> Mapping[str, RateLimit]:
    """Reads at ``rate`` requests/second (bursts of 2 s), stock writes at half of it."""
    return {
        "default": RateLimit(rate=rate, burst=max(1, int(rate * 2))),
        "stock": RateLimit(rate=rate / 2, burst=max(1, int(rate))),
    }


class MercadoLivreConnector(
    HttpConnector[MercadoLivreCredentials, MercadoLivreOptions],
    OrderSource,
    ListingSource,
    StockSink,
    InvoiceSink,
    LabelSource,
    TrackingSink,
):
    """Mercado Livre (MLB) seller account: orders in, listings in, stock and NF-e out,
    shipping labels in, ME1 tracking out."""

    type = "mercadolivre"
    platform = orders.PLATFORM
    # the order search pages by offset over a live result, but tells its total: the
    # connector re-reads a search that delivered fewer orders (see _search_orders), so the
    # engine need not re-read every window
    reread_until_stable = False
    consent = OAuthConsent(AUTHORIZATION_URL)
    default_base_url = "https://api.mercadolibre.com"
    default_auth_url = "https://api.mercadolibre.com/oauth/token"
    emulator = "erpsync.connectors.mercadolivre.emulator:MercadoLivreEmulator"
    default_headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}
    # PUT /items/{id} with a `variations` array drops the variations it leaves out
    stock_push_scope = "item"
    # ML publishes no numbers: throttling is mainly per application (Client ID), shared by every
    # seller the app serves (ref: developers.mercadolivre.com.br/rate-limit-erro-429, FAQ of
    # 2026-05-05). Integrators work with ~1500 rpm per seller [R]; we stay well under that
    # (600 rpm) and at half for writes, which ML singles out for 429s (bulk stock updates) [R].
    # An app granted a higher quota raises it with options.requests_per_second.
    rate_limits: ClassVar[Mapping[str, RateLimit]] = _limits(10.0)

    #: largest offset + limit ML serves on /orders/search [U]: integrators stop at 10,000 and ML
    #: documents the same bound for its claims search (developers.mercadolibre.com.ar,
    #: "que-es-un-reclamo": offset + limit under 10000); windows matching more are split.
    search_cap: ClassVar[int] = 10_000
    #: /users/{id}/items/search serves 1000 results by offset; past that, search_type=scan
    #: (ref: developers.mercadolivre.com.br/pt_br/itens-e-buscas, "acima de 1000 registros")
    items_offset_cap: ClassVar[int] = 1_000
    scan_page_size: ClassVar[int] = 100
    #: ids per multiget (ref: pt_br/itens-e-buscas "Multiget": up to 20)
    multiget_size: ClassVar[int] = 20
    #: ML announced /items/bulk?ids= (same {code, body} answer) to replace /items?ids= [R:
    #: integrator notes citing items-y-busquedas, deadline 2026-10-25]; the emulator serves both
    multiget_path: ClassVar[str] = "/items"

    _seller_id: int | None = None

    def limits(self) -> Mapping[str, RateLimit]:
        """The class's buckets, unless this account's app was granted another rate."""
        rate = self.options.requests_per_second
        return _limits(float(rate)) if rate else self.rate_limits

    # -- auth -----------------------------------------------------------------------------------

    def build_auth(self) -> httpx.Auth:
        return self.oauth_refresh(
            body_format="form",  # ML wants the grant in a form body, never the query (php-sdk#39)
            # ML's token response names the authorising user: {access_token, token_type,
            # expires_in, scope, user_id, refresh_token} (ref: developers.mercadolivre.com.br/
            # pt_br/autenticacao-e-autorizacao); the store keeps it with the tokens
            account_field="user_id",
        )

    def check(self) -> str:
        # ref: https://developers.mercadolivre.com.br/pt_br/consultas-de-usuarios (GET /users/me)
        me = self.request("GET", "/users/me").json()
        user = self._owned(int(me["id"]))
        return f"authenticated as seller {user} ({me.get('nickname', '?')})"

    def _owned(self, user: int) -> int:
        """``user`` (the token's owner) as this connector's seller, unless the configured
        seller_id names another account."""
        configured = self.options.seller_id
        if configured and int(configured) != user:
            raise ConfigError(
                f"connectors.{self.name}.options.seller_id: {configured}, but the token "
                f"belongs to seller {user}"
            )
        self._seller_id = user
        return user

    def seller_id(self) -> int:
        """The seller the token belongs to, as its token response said (this run's, or the
        one stored with the tokens); else the configured seller id; else the authenticated
        user's (GET /users/me)."""
        if self._seller_id is None:
            # tokens about to be refreshed are refreshed now (retried like a request), so
            # that response names the seller before the first call that needs it
            tokens = self.http.policy.call(self.http.oauth.current_tokens)
            if tokens.account is not None and tokens.account.isdigit():
                self._owned(int(tokens.account))
            elif self.options.seller_id:
                self._seller_id = int(self.options.seller_id)
            else:
                self.check()
        assert self._seller_id is not None
        return self._seller_id

    def classify_error(self, response: httpx.Response) -> Exception | None:
        """ML's envelope {message, error, status, cause[]} as one readable line."""
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            return None
        message = errors.error_message(body)
        if not message:
            return None
        text = self.http.redactor.text(f"HTTP {status}: {message}")
        # a 403 on one item (not the seller's, under review) fails that item, not the run
        item_write = response.request.method == "PUT"
        if status == 401 or (status == 403 and not item_write):
            return AuthError(text, status_code=status)
        return FatalError(text, status_code=status)

    # -- orders ---------------------------------------------------------------------------------

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        """Orders updated in ``window``; then the same window's cancelled ones, which the
        default search leaves out (ref: pt_br/gerenciamento-de-vendas)."""
        # a pipeline, so round trips overlap and the rate limit is what binds: the two
        # searches are read together (the cancelled search's first page no longer waits for
        # the default search's last), each page ahead of the consumer; the next page is read
        # while this page's details are fetched, and this page is yielded (committed) while
        # the next page's details are in flight. Pages still come in one order: the default
        # search's, then the cancelled search's (issue 11 section 1)
        self.seller_id()  # known before the searches' threads ask for it
        searches = [self._search_orders(window, status) for status in (None, "cancelled")]
        # a page whose details are all in already (made one at a time, inline: answers that
        # come at once) is yielded at once: holding it back overlaps nothing and would keep
        # two pages' payloads alive (issue 11 section 2, README Memory and start-up)
        started: deque[_Started] = deque()
        for results in self.read_together(searches):
            started.append(self._start_details(results, _wanted(results.records, seen)))
            del results  # not held while the next search page is read
            while len(started) > 1 or (started and started[0].pending.done):
                yield from self._orders_page(started.popleft())
        while started:
            yield from self._orders_page(started.popleft())

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        return orders.order_from_payload(payload, connector=self.name)

    def _search_orders(
        self, window: Window, status: str | None, rereads: int = 0
    ) -> Iterator[_SearchPage]:
        """Every page of one search. The search pages by offset over a live result: an order
        updated while we page leaves it and shifts the later ones back, so one at a page
        boundary is skipped. ML reports the result's total on the first page, so a pass that
        delivered fewer distinct orders is read again (already-stored orders cost nothing)."""
        # ref: https://developers.mercadolivre.com.br/pt_br/gerenciamento-de-vendas (/orders/search)
        limit = self.options.page_size
        params: dict[str, Any] = {
            "seller": self.seller_id(),
            "order.date_last_updated.from": orders.ml_time(window.start),
            "order.date_last_updated.to": orders.ml_time(window.end),
            "sort": "date_asc",
        }
        if status:
            params["order.status"] = status
        paginator = OffsetPaginator(
            limit, total=paging.paging_total, max_offset=self.search_cap - limit
        )
        pages = self.paginate(
            paginator, "/orders/search", records=_results, operation="orders", params=params
        )
        first = next(pages, None)
        total = (paging.paging_total(first.response) or 0) if first else 0
        if total > self.search_cap:
            paging.close(pages)  # split before paging past the cap, not after
            # the probe page is not needed while the halves are read: held, each level of
            # the split kept a page of payloads alive for the rest of the pull (a 100,000-order
            # pull splits four times: issue 11 section 2, README Memory and start-up)
            del first
            yield from self._split(window, status, total)
            return
        delivered: set[str] = set()
        # no page (nor the first, which tells the total) is held while the next one is read:
        # each is the engine's to commit and free (a chain([first], pages) kept the first
        # page's payloads alive to the end of the search)
        told: int | None = total
        page, first = first, None
        while page is not None:
            delivered.update(str(order["id"]) for order in page.records)
            if page.records:
                yield _SearchPage(page.records, told)
            told = page = None
            page = next(pages, None)
        if total and len(delivered) < total:
            if rereads >= MAX_REREADS:
                raise RetriableError(
                    f"orders kept moving while paging {window.start.isoformat()} to "
                    f"{window.end.isoformat()}; the next run reads the window again",
                    connector=self.name,
                    endpoint="GET /orders/search",
                )
            log.info("%s: orders shifted between pages; reading the search again", self.name)
            yield from self._search_orders(window, status, rereads + 1)

    def _split(self, window: Window, status: str | None, total: int) -> Iterator[_SearchPage]:
        if window.end - window.start <= MIN_WINDOW:
            raise FatalError(
                f"{total} orders updated between {window.start.isoformat()} and "
                f"{window.end.isoformat()}: more than the {self.search_cap} a search serves",
                connector=self.name,
                endpoint="GET /orders/search",
            )
        log.info("%s: %d orders match one search; splitting the window", self.name, total)
        for half in window.split():
            yield from self._search_orders(half, status)

    def _start_details(self, page: _SearchPage, found: list[dict[str, Any]]) -> _Started:
        """Start every detail call of the page's orders (billing info, shipment) at once
        (the rate limit paces them); a pack's orders share one shipment, fetched once."""
        calls = list(dict.fromkeys(call for order in found for call in _detail_calls(order)))
        return _Started(page, found, self.submit(self._detail, calls), calls)

    def _orders_page(self, started: _Started) -> Iterator[OrderPage]:
        """The page's orders with their details; a detail that failed fails only the orders
        that needed it (``RawOrder.failure``). A page whose orders are all stored already
        still goes out, empty, for the progress count."""
        outcomes = dict(zip(started.calls, started.pending.outcomes(), strict=True))
        raws = []
        for order in started.found:
            details: dict[str, dict[str, Any] | None] = {"billing_info": None, "shipment": None}
            failure = None
            for call in _detail_calls(order):
                outcome = outcomes[call]
                details[call[0]] = outcome.value
                failure = failure or outcome.error
            payload = {"order": order, **details}
            raws.append(
                RawOrder(str(order["id"]), orders.order_version(order), payload, failure=failure)
            )
        yield OrderPage(
            orders=raws, listed=len(started.page.records), listing_total=started.page.total
        )

    def _detail(self, call: _Call) -> dict[str, Any] | None:
        kind, key = call
        return self._billing_info(key) if kind == "billing_info" else self._shipment(key)

    def _billing_info(self, billing_info_id: str) -> dict[str, Any] | None:
        # ref: https://developers.mercadolivre.com.br/pt-br/faturamento
        site = self.options.site_id
        return self._get_optional(f"/orders/billing-info/{site}/{billing_info_id}", "details")

    def _shipment(self, shipment_id: str) -> dict[str, Any] | None:
        # ref: https://developers.mercadolivre.com.br/pt_br/gerenciamento-de-envios
        return self._get_optional(f"/shipments/{shipment_id}", "details", headers=NEW_FORMAT)

    def _get_optional(self, path: str, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        """A detail that may be missing (404): the order maps without it, with a note."""
        try:
            body = self.request("GET", path, operation=operation, **kwargs).json()
        except FatalError as exc:
            if exc.status_code != 404:
                raise
            log.warning("%s: %s", self.name, exc)
            return None
        return body if isinstance(body, dict) else None

    # -- listings -------------------------------------------------------------------------------

    def fetch_listings(self) -> Iterator[list[Listing]]:
        # a pipeline, as fetch_orders: the next search page is read while this page's
        # multigets go, and its multigets are started before this page's listings are taken
        # (and stored), so the rate limit, not a page's last answer, paces them
        size = self.multiget_size
        started: deque[Pending[dict[str, dict[str, Any] | None]]] = deque()
        for ids in self.read_ahead(self._item_ids()):
            chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
            started.append(self.submit(self._multiget, chunks))
            if len(started) > 1:
                yield from self._listings_of(started.popleft())
        while started:
            yield from self._listings_of(started.popleft())

    def _listings_of(
        self, pending: Pending[dict[str, dict[str, Any] | None]]
    ) -> Iterator[list[Listing]]:
        """A page's multigets' listings, in order; a failed multiget fails the pull, as it
        would alone."""
        for outcome in pending.outcomes():
            bodies = outcome.get()
            batch = [
                listing
                for body in bodies.values()
                if body is not None
                for listing in listings.listings_from_payload(body, connector=self.name)
            ]
            if batch:
                yield batch

    def _item_ids(self) -> Iterator[list[str]]:
        """The seller's item ids: by offset up to 1000, by scan + scroll_id beyond."""
        # ref: https://developers.mercadolivre.com.br/pt_br/itens-e-buscas: the account's items
        # by offset ("Obtém itens da conta de um vendedor"), and `search_type=scan` "para obter
        # mais de 1000 registros", paged by the answer's `scroll_id` ("Modo de busca acima de
        # 1000 registros", "Trabalhar com Scan + Hash"): the documented way past the offset's
        # cap. The same page has a section on sorting the seller's items ("Filtra e ordena os
        # resultados dos itens do vendedor"), but we found no word that any order is stable
        # from one request to the next [U], so the offset pages are not overlapped to prove
        # their boundaries (OffsetPaginator(overlap=) assumes it): an item listed or closed
        # while the catalogue is paged may be missed until the next listings pull, which reads
        # the whole catalogue again.
        path = f"/users/{self.seller_id()}/items/search"
        limit = self.options.page_size
        paginator = OffsetPaginator(
            limit, total=paging.paging_total, max_offset=self.items_offset_cap - limit
        )
        # the later offset pages are asked for while one is read (the total is known from
        # the first answer, so none past it): a seller's catalogue is listed at the items
        # limit's pace, not one round trip per page (issue 11 section 1)
        pages = self.paginate(
            paginator, path, records=_item_ids_of, operation="items", ahead=ITEM_PAGES_AHEAD
        )
        first = next(pages, None)
        total = (paging.paging_total(first.response) or 0) if first else 0
        records = first.records if first else []
        del first  # a page's response is not kept while the next pages are read
        if total <= self.items_offset_cap:
            if records:
                yield records
            for page in pages:
                records = page.records
                del page
                if records:
                    yield records
            return
        paging.close(pages)
        seen: set[str] = set()
        for page in self.paginate(
            paging.ScrollPaginator(self.scan_page_size),
            path,
            records=_item_ids_of,
            operation="items",
            params={"search_type": "scan", "limit": self.scan_page_size},
        ):
            fresh = [item_id for item_id in page.records if item_id not in seen]
            seen.update(fresh)
            if fresh:
                yield fresh

    def _multiget(self, item_ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """Item bodies by id (None for the ones ML could not return), one call per 20."""
        # ref: pt_br/itens-e-buscas "Multiget"; include_attributes=all adds the variations'
        # `attributes` (SELLER_SKU) (ref: pt_br/variacoes)
        response = self.request(
            "GET",
            self.multiget_path,
            operation="items",
            params={"ids": ",".join(item_ids), "include_attributes": "all"},
        )
        found: dict[str, dict[str, Any] | None] = dict.fromkeys(item_ids)
        for entry in response.json():
            body = entry.get("body") or {}
            if entry.get("code") == 200 and body.get("id"):
                found[str(body["id"])] = body
            else:
                log.warning("%s: multiget: %s", self.name, errors.error_message(body))
        return found

    # -- invoices -------------------------------------------------------------------------------

    def push_invoices(self, invoices_: Sequence[Invoice]) -> list[SendResult]:
        """Each NF-e onto its shipment (ME2) or its pack (ME1, custom, Flex), once per pack
        (see connectors/mercadolivre/invoices.py). One at a time: two NF-e of one pack must
        see each other's upload."""
        site = self.options.site_id
        pack = invoices.Pack(documents=self._pack_documents, upload=self._upload_to_pack)
        return [
            invoices.push_invoice(invoice, site, self._get_invoice_detail, self._post_xml, pack)
            for invoice in invoices_
        ]

    def _pack_documents(self, pack_id: str) -> list[tuple[str, bytes]]:
        # ref: anexar-nota-fiscal ("consultar"); the {fiscal_documents: [{id}]} listing and
        # the per-file download follow integrator code [R]. A pack with nothing yet may
        # answer 404 [R]: nothing held.
        listing = self._get_optional(f"/packs/{pack_id}/fiscal_documents", "details")
        found: list[tuple[str, bytes]] = []
        for entry in (listing or {}).get("fiscal_documents") or ():
            # `id` is what integrators read; some also fall back to `file_id` [R]
            file_id = str(entry.get("id") or entry.get("file_id") or "")
            if not file_id:
                continue
            response = self.request(
                "GET",
                f"/packs/{pack_id}/fiscal_documents/{file_id}",
                operation="details",
                headers={"Accept": "*/*"},
                expect_json=False,
            )
            found.append((file_id, response.content))
        return found

    def _upload_to_pack(self, pack_id: str, file_name: str, xml: bytes) -> list[str]:
        # ref: anexar-nota-fiscal: multipart/form-data, field `fiscal_document`, the XML as
        # application/xml; answers {"ids": ["<file id>"]}
        response = self.request(
            "POST",
            f"/packs/{pack_id}/fiscal_documents",
            operation="invoices",
            files={"fiscal_document": (file_name, xml, "application/xml")},
        )
        body = response.json() if response.content else {}
        ids = body.get("ids") if isinstance(body, dict) else None
        return [str(i) for i in ids or ()]

    def _get_invoice_detail(self, path: str) -> dict[str, Any] | None:
        # ref: pt_br/importar-nota-fiscal (GET on the same path returns the saved invoice)
        query = {"siteId": self.options.site_id} if path.endswith("/invoice_data") else {}
        return self._get_optional(path, "details", headers=NEW_FORMAT, params=query)

    def _post_xml(self, path: str, xml: bytes) -> dict[str, Any]:
        # ref: pt_br/importar-nota-fiscal: the raw nfeProc, Content-Type application/xml
        response = self.request(
            "POST",
            path,
            operation="invoices",
            content=xml,
            headers={"Content-Type": "application/xml"},
        )
        body = response.json() if response.content else {}
        return body if isinstance(body, dict) else {}

    # -- tracking -------------------------------------------------------------------------------

    # ME1 and custom shipments only: ME2 moves by ML's carrier events, there is no call to
    # make, so the engine skips those shipments (reported as skipped, never as failures)
    tracking_logistic_types = tracking.SELLER_SHIPPED

    def push_tracking(self, updates: Sequence[TrackingUpdate]) -> list[SendResult]:
        """Each ME1 shipment marked dispatched with its code (connectors/mercadolivre/
        tracking.py)."""
        return [
            tracking.push_one(update, self._shipment, self._post_notification) for update in updates
        ]

    def _post_notification(self, path: str, body: dict[str, Any]) -> None:
        self.request("POST", path, operation="tracking", json=body)

    # -- labels ---------------------------------------------------------------------------------

    label_formats = frozenset({"pdf", "zpl"})

    def fetch_labels(self, requests: Sequence[LabelRequest], *, format: str) -> list[LabelResult]:
        """Per shipment: its state (`GET /shipments/{id}`), then its label alone (ML would
        merge several ids into one document); see connectors/mercadolivre/labels.py."""
        return [self._label(request, format) for request in requests]

    def _label(self, request: LabelRequest, format: str) -> LabelResult:
        ref = request.shipment_ref
        never = labels.never_reason(request.logistic_type)
        if never is not None:
            return LabelResult(ref=ref, reason=never, never=True)
        shipment = self._shipment(ref)
        if shipment is None:
            return LabelResult(ref=ref, reason=f"shipment {ref} not found on Mercado Livre")
        why = labels.state_reason(shipment)
        if why is not None:
            return LabelResult(ref=ref, reason=why[0], never=why[1])
        try:
            response = self.request(
                "GET",
                "/shipment_labels",
                operation="labels",
                params={"shipment_ids": ref, "response_type": labels.RESPONSE_TYPE[format]},
                headers={"Accept": "application/pdf" if format == "pdf" else "*/*"},
                expect_json=False,
            )
            content = labels.label_content(response.content, format)
        except FatalError as exc:  # ML refused (a state changed since): asked again next time
            return LabelResult(ref=ref, reason=str(exc))
        except (ValueError, zipfile.BadZipFile) as exc:
            return LabelResult(ref=ref, reason=f"unreadable label: {exc}")
        label = Label(
            order_external_id=request.order_external_id,
            shipment_ref=ref,
            format=format,
            content_type="application/pdf" if format == "pdf" else "text/plain",
            content=content,
        )
        return LabelResult(ref=ref, label=label)

    # -- stock ----------------------------------------------------------------------------------

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """One PUT /items/{id} per item, every variation of it in the same call."""
        item_ids = list(dict.fromkeys(update.item_id for update in updates))
        bodies: dict[str, dict[str, Any] | None] = {}
        size = self.multiget_size
        chunks = [item_ids[start : start + size] for start in range(0, len(item_ids), size)]
        for chunk, outcome in zip(chunks, self.each(self._multiget, chunks), strict=True):
            if isinstance(outcome.error, FatalError):
                # one bad id (a mistyped manual link) must not stop the other items' pushes:
                # these items fail as unknown, each with its own result
                log.warning("%s: %s", self.name, outcome.error)
                bodies.update(dict.fromkeys(chunk))
            else:
                bodies.update(outcome.get())
        results: dict[int, PushResult] = {}
        plans = plan_stock(updates, bodies)
        for plan in plans:
            results.update(plan.rejected)
        # the items' PUTs together (the "stock" limit paces them), results in plan order
        puts = [plan for plan in plans if plan.body is not None]
        for put in self.each(self._put_stock, puts):
            results.update(put.get())
        return [results[index] for index in range(len(updates))]

    def _put_stock(self, plan: StockPlan) -> dict[int, PushResult]:
        # ref: https://developers.mercadolivre.com.br/pt_br/produto-sincronizacao-de-publicacoes
        try:
            self.request("PUT", f"/items/{plan.item_id}", operation="stock", json=plan.body)
        except FatalError as exc:
            return plan.results(ok=False, error=str(exc.args[0]))
        return plan.results(ok=True)


def _results(response: httpx.Response) -> list[dict[str, Any]]:
    return list(response.json().get("results") or [])


def _item_ids_of(response: httpx.Response) -> list[str]:
    return [str(item_id) for item_id in response.json().get("results") or []]


def _detail_calls(order: Mapping[str, Any]) -> list[_Call]:
    """The detail calls an order needs: ("billing_info" | "shipment", id)."""
    calls = []
    shipment_id = (order.get("shipping") or {}).get("id")
    if shipment_id:
        calls.append(("shipment", str(shipment_id)))
    billing_id = ((order.get("buyer") or {}).get("billing_info") or {}).get("id")
    if billing_id:
        calls.append(("billing_info", str(billing_id)))
    return calls


def _wanted(results: list[dict[str, Any]], seen: SeenOrders) -> list[dict[str, Any]]:
    """The page's orders whose stored copy is older (or missing).

    Every order the search returns is kept: the search filters on `order.date_last_updated`,
    and a second filter here on another field (`last_updated`, which the documented example
    shows months older) dropped orders without a word. ML's `to` is inclusive, so an order
    on a window boundary comes twice; the second time it is already current and costs nothing.
    """
    versions = {str(order["id"]): orders.order_version(order) for order in results}
    current = seen.current_of(versions)
    return [order for order in results if str(order["id"]) not in current]
