"""The Olist ERP connector (`type: tiny`, Tiny API v3): declarations, auth and the thin
resource methods; bodies and mappings live in orders.py, stock.py and invoices.py.

API v3 on `https://api.tiny.com.br/public-api/v3`, `Authorization: Bearer` from an OAuth2 /
OpenID Connect (Keycloak) app whose refresh token rotates on every use: the shared
single-flight refresh persists each new one before it is used. Paths, filters and enums follow
Tiny's own v3 OpenAPI document (TINY_V3_OPENAPI.json; public copy in
Gvbpzoi/api-whatsapp.rocacapital.com.br) where it speaks, else ../shared/apis §6b.

The account's per-minute budget is shared by every app on it [R]: we pace from the
`X-RateLimit-*` headers it sends and leave `options.budget_reserve` of it free.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from erpsync.connector import (
    ErpOrderRef,
    HttpConnector,
    InvoiceChanges,
    InvoiceSource,
    OAuthConsent,
    OrderPage,
    OrderSink,
    OrderSource,
    ProductIds,
    RateLimit,
    RawOrder,
    SeenOrders,
    StockSource,
    Window,
)
from erpsync.connectors.tiny import invoices as invoice_map
from erpsync.connectors.tiny import orders as order_map
from erpsync.connectors.tiny import stock as stock_map
from erpsync.connectors.tiny.errors import error_line
from erpsync.connectors.tiny.settings import TinyCredentials, TinyOptions
from erpsync.domain import Invoice, Order, SendResult, StockLevel
from erpsync.errors import AuthError, FatalError
from erpsync.http.pagination import OffsetPaginator

log = logging.getLogger("erpsync.connectors.tiny")

#: the consent page of the ERP's Keycloak realm (openid-connect/auth, scope openid)
AUTHORIZE_URL = "https://accounts.tiny.com.br/realms/tiny/protocol/openid-connect/auth"


class TinyConnector(
    HttpConnector[TinyCredentials, TinyOptions],
    OrderSink,
    StockSource,
    InvoiceSource,
    OrderSource,
):
    """Olist ERP (ex-Tiny): channel orders created in it exactly once, its available stock
    and authorised NF-e read back, and (import_orders) its own orders, read only."""

    type = "tiny"
    platform = order_map.PLATFORM
    consent = OAuthConsent(AUTHORIZE_URL, scopes=("openid",))
    default_base_url = "https://api.tiny.com.br/public-api/v3"
    default_auth_url = "https://accounts.tiny.com.br/realms/tiny/protocol/openid-connect/token"
    emulator = "erpsync.connectors.tiny.emulator:TinyEmulator"
    default_headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}
    #: one product look-up and one /estoque call per SKU: small batches store progress often
    stock_batch_size = 20
    # the order list is filtered by update time from the window's start and kept in creation
    # order: an order updated while we page stays where it was, so one pass suffices
    reread_until_stable = False
    #: the notas issued since a day are listed with the sale each came from (fetch_invoice_changes)
    lists_invoice_changes = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: SKU -> product id, kept between runs by the engine (ProductIds)
        self.product_ids = ProductIds()
        #: SKUs this run's search found no product for (asked again next run)
        self._no_product: set[str] = set()
        self._contacts: dict[str, int] = {}
        self._issuer: str | None = None

    def limits(self) -> Mapping[str, RateLimit]:
        """Reads and writes have separate per-minute budgets [R]; each bucket starts at the
        configured guess and then follows X-RateLimit-Limit, less the reserve."""
        reserve = self.options.budget_reserve
        rpm = self.options.requests_per_minute
        bucket = RateLimit(rate=rpm * (1 - reserve) / 60.0, burst=3, reserve=reserve, window=60.0)
        return {"default": bucket, "write": bucket}

    # -- auth -----------------------------------------------------------------------------------

    def build_auth(self) -> httpx.Auth:
        # Keycloak's token endpoint takes the grant and the client credentials as a form body
        return self.oauth_refresh(body_format="form")

    def check(self) -> str:
        info = self.request("GET", "/info").json()
        self._issuer = order_map._digits(info.get("cpfCnpj"))
        return f"authenticated: {info.get('razaoSocial') or info.get('fantasia') or '?'}"

    def classify_error(self, response: httpx.Response) -> Exception | None:
        try:
            line = error_line(response.json())
        except ValueError:
            line = None
        if line is None:
            return None
        kind = AuthError if response.status_code in (401, 403) else FatalError
        return kind(f"HTTP {response.status_code}: {line}", status_code=response.status_code)

    # -- OrderSink ------------------------------------------------------------------------------

    def find_order(self, order: Order) -> str | None:
        """`GET /pedidos?numeroPedidoEcommerce=` (a search: the number must match exactly).
        An order of a channel with no registered e-commerce (options.ecommerce_ids) may not
        keep that number; it is then found by buyer and date and its `numeroOrdemCompra`.

        The dates: Tiny's v3 document (TINY_V3_OPENAPI.json, ListarPedidosAction) says
        `dataInicial`/`dataFinal` search "the order's creation date", a bare day, in no named
        zone. Whether that is the `data` we sent (São Paulo's day of the channel sale) or the
        day the ERP stored the order, and whose day, it does not say; a miss here creates the
        order twice in the seller's ERP. So the search spans every reading: from the sale
        (the create cannot be older) to now (the lost create was before it), each bound the
        further of São Paulo's and UTC's days (_day_window, as GET /notas)."""
        number = self.channel_number(order)
        found = self._list("/pedidos", {"numeroPedidoEcommerce": number})
        for item in found:
            if str((item.get("ecommerce") or {}).get("numeroPedidoEcommerce") or "") == number:
                return str(item["id"])
        if self.options.ecommerce_ids.get(order.connector) is not None:
            return None
        first, last = _day_window(order.created_at, max(order.created_at, self.now()))
        params: dict[str, Any] = {"dataInicial": first, "dataFinal": last}
        if order.buyer.document:
            params["cpfCnpj"] = order.buyer.document
        for item in self._list("/pedidos", params):
            detail = self.request("GET", f"/pedidos/{item['id']}").json()
            if str(detail.get("numeroOrdemCompra") or "") == number:
                return str(item["id"])
        return None

    def create_order(self, order: Order) -> SendResult:
        ref = f"{order.connector}:{order.external_id}"
        missing = [i.title or "?" for i in order.items if not i.sku]
        if missing:
            return SendResult(
                ref=ref, ok=False, retry=True, error=f"a line has no SKU ({missing[0]})"
            )
        result = self._create(order, ref)
        if result.ok or not _product_gone(result.error):
            return result
        # a product id remembered from an earlier run the ERP no longer knows (the product was
        # deleted or re-created): nothing was stored (a 400); search the SKUs again, once
        for item in order.items:
            self.product_ids.drop(item.sku or "")
        return self._create(order, ref)

    def _create(self, order: Order, ref: str) -> SendResult:
        products: dict[str, int] = {}
        for item in order.items:
            sku = item.sku or ""
            product = self._product_id(sku)
            if product is None:
                return SendResult(
                    ref=ref,
                    ok=False,
                    retry=True,
                    error=f"SKU {sku} is not a product in {self.platform} ({self.name})",
                )
            products[sku] = product
        body = order_map.order_body(
            order,
            number=self.channel_number(order),
            contact_id=self._contact_id(order),
            product_ids=products,
            ecommerce_id=self.options.ecommerce_ids.get(order.connector),
            deposito_id=self.options.deposito_id,
            natureza_operacao_id=self.options.natureza_operacao_id,
            vendedor_id=self.options.vendedor_id,
            forma_recebimento_id=self.options.forma_recebimento_id,
            meio_pagamento=self.options.meio_pagamento,
        )
        try:
            answer = self.request(
                "POST", "/pedidos", json=body, operation="write", idempotent=False
            ).json()
        except FatalError as exc:
            return SendResult(ref=ref, ok=False, error=str(exc))
        return SendResult(ref=ref, ok=True, remote_id=str(answer["id"]))

    def cancel_order(self, ref: ErpOrderRef) -> SendResult:
        """`PUT /pedidos/{id}/situacao` with 2 (Cancelada); an order already invoiced or sent
        (its NF-e issued) is reported, not forced: its NF-e must be cancelled in the ERP."""
        where = f"{ref.connector}:{ref.external_id}"
        current = self.request("GET", f"/pedidos/{ref.remote_id}").json()
        situacao = int(current.get("situacao") or 0)
        if situacao == order_map.CANCELADA:
            return SendResult(ref=where, ok=True, remote_id=ref.remote_id)
        if situacao in order_map.NOT_CANCELLABLE:
            return SendResult(
                ref=where,
                ok=False,
                remote_id=ref.remote_id,
                error=f"its ERP order {ref.remote_id} is {order_map.SITUACAO[situacao]} "
                "(the NF-e is issued)",
            )
        try:
            self.request(
                "PUT",
                f"/pedidos/{ref.remote_id}/situacao",
                json={"situacao": order_map.CANCELADA},
                operation="write",
                expect_json=False,
            )
        except FatalError as exc:
            return SendResult(ref=where, ok=False, remote_id=ref.remote_id, error=str(exc))
        return SendResult(ref=where, ok=True, remote_id=ref.remote_id)

    def _contact_id(self, order: Order) -> int:
        """The buyer's contact: found by CPF/CNPJ (`GET /contatos?cpfCnpj=`), else created."""
        buyer = order.buyer
        key = buyer.document or f"name:{buyer.name or 'Consumidor'}"
        if key in self._contacts:
            return self._contacts[key]
        params = {"cpfCnpj": buyer.document} if buyer.document else {"nome": buyer.name}
        for item in self._list("/contatos", params):
            same = (
                order_map._digits(item.get("cpfCnpj")) == buyer.document
                if buyer.document
                else item.get("nome") == buyer.name
            )
            if same:
                self._contacts[key] = int(item["id"])
                return self._contacts[key]
        answer = self.request(
            "POST",
            "/contatos",
            json=order_map.contact_body(buyer, order.shipping_address),
            operation="write",
            idempotent=False,
        ).json()
        self._contacts[key] = int(answer["id"])
        return self._contacts[key]

    def _product_id(self, sku: str) -> int | None:
        """`GET /produtos?codigo=`, remembered across runs (``product_ids``); the search may
        match more than the code asked for, so only an exact `sku` counts."""
        known = self.product_ids.get(sku)
        if known is not None:
            return int(known)
        if sku in self._no_product:
            return None
        found = self._list("/produtos", {"codigo": sku})
        exact = [item for item in found if str(item.get("sku") or "") == sku]
        if not exact:
            self._no_product.add(sku)
            return None
        self.product_ids.put(sku, int(exact[0]["id"]))
        return int(exact[0]["id"])

    # -- StockSource ----------------------------------------------------------------------------

    def fetch_stock(self, skus: Sequence[str]) -> Iterator[list[StockLevel]]:
        """`GET /estoque/{idProduto}` per SKU (the ERP takes one product per call)."""
        levels: list[StockLevel] = []
        for sku in skus:
            found = self._stock(sku)
            if found is not None:
                product, payload = found
                levels.extend(stock_map.levels_from_payload(sku, product, payload))
        yield levels

    def _stock(self, sku: str) -> tuple[int, dict[str, Any]] | None:
        """The product's `GET /estoque/{id}`; a remembered id the ERP answers 404 for (the
        product was deleted or re-created) is dropped and the SKU searched again, once."""
        for _ in range(2):
            product = self._product_id(sku)
            if product is None:
                return None
            try:
                return product, self.request("GET", f"/estoque/{product}").json()
            except FatalError as exc:
                if exc.status_code != 404:
                    raise
                self.product_ids.drop(sku)
        return None

    # -- InvoiceSource --------------------------------------------------------------------------

    def fetch_invoices(self, orders: Sequence[ErpOrderRef]) -> Iterator[list[Invoice]]:
        """The order's `idNotaFiscal` (GET /pedidos/{id}), the NF-e (GET /notas/{id}) when it
        is authorised (6, 7), and its XML (GET /notas/{id}/xml, `xmlNfe`)."""
        for changes in self.look_up_invoices(orders):
            yield changes.invoices

    def look_up_invoices(self, orders: Sequence[ErpOrderRef]) -> Iterator[InvoiceChanges]:
        """fetch_invoices, with the orders whose nota exists but is not authorised yet."""
        found = InvoiceChanges()
        for ref in orders:
            try:
                detail = self.request("GET", f"/pedidos/{ref.remote_id}").json()
            except FatalError as exc:
                if exc.status_code != 404:
                    raise
                # deleted in the ERP (or a sandbox run's emulator, which starts afresh)
                log.warning("%s: ERP order %s not found; no invoice read", self.name, ref.remote_id)
                continue
            nota_id = detail.get("idNotaFiscal")
            if not nota_id:
                continue
            nota = self.request("GET", f"/notas/{nota_id}").json()
            if not invoice_map.authorised(nota):
                if not invoice_map.final(nota):
                    found.unsettled.append(ref)
                continue
            xml = self.request("GET", f"/notas/{nota_id}/xml").json().get("xmlNfe")
            if not xml:
                found.unsettled.append(ref)
                continue
            found.invoices.append(
                invoice_map.invoice_from_nota(nota, xml, ref, issuer_document=self._issuer or "")
            )
        yield found

    def fetch_invoice_changes(
        self, window: Window, orders: Sequence[ErpOrderRef]
    ) -> Iterator[InvoiceChanges]:
        """The window's notas de saída, `GET /notas?tipo=S&dataInicial=&dataFinal=`, each
        with the XML (`GET /notas/{id}/xml`) when it is one of ``orders``' and authorised.

        Tiny's own v3 OpenAPI document (TINY_V3_OPENAPI.json, ListarNotasFiscaisAction) was
        followed: the filter is the nota's creation day ("2023-01-01"; no time, no update
        date), and each listed nota (ListagemNotaFiscalModelResponse) carries the summary the
        Invoice needs and `origem{id, tipo}`, the sale it was issued from: the link to our
        order, with no read of the order. A nota created before the window and authorised
        later would not be listed again, so one of ours the listing shows not yet authorised
        (pending, sent, rejected for now) is reported unsettled and the watermark waits for
        it; a cancelled or denied one is final.

        Days, not times: the window is widened to whole days, which overlap the previous
        window's last day (a nota created late on a day the last run already listed is listed
        again, and authorised since, read now). Whose day it is Tiny does not document (bare
        days, times without an offset; API 2.0 "dd/mm/yyyy"): the account is Brazilian, so
        São Paulo's, but each bound takes whichever of São Paulo's and UTC's days reaches
        further (the São Paulo day at the start, the UTC day at the end, from 21:00 local),
        so a nota created in the window is listed on either reading, the same run."""
        by_id = {ref.remote_id: ref for ref in orders}
        by_number = {ref.number: ref for ref in orders}
        first, last = _day_window(window.start, window.end)
        params = {"tipo": "S", "dataInicial": first, "dataFinal": last}
        waiting: dict[str, ErpOrderRef] = {}
        settled: set[str] = set()
        for page in self._pages("/notas", params):
            found: list[Invoice] = []
            for nota in page:
                ref = _order_of(nota, by_id, by_number)
                if ref is None or ref.remote_id in settled:
                    continue
                if not invoice_map.authorised(nota):
                    if not invoice_map.final(nota):
                        waiting[ref.remote_id] = ref
                    continue
                xml = self.request("GET", f"/notas/{nota['id']}/xml").json().get("xmlNfe")
                if not xml:
                    waiting[ref.remote_id] = ref
                    continue
                settled.add(ref.remote_id)
                found.append(
                    invoice_map.invoice_from_nota(
                        nota, xml, ref, issuer_document=self._issuer or ""
                    )
                )
            yield InvoiceChanges(invoices=found)
        unsettled = [ref for key, ref in waiting.items() if key not in settled]
        if unsettled:
            yield InvoiceChanges(unsettled=unsettled)

    # -- OrderSource (options.import_orders) ----------------------------------------------------

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        """With `import_orders`, the ERP's own sales orders changed since the window's start
        (`GET /pedidos?dataAtualizacao=`), each read in full; without it, none. Orders of the
        e-commerces erpsync pushes to (options.ecommerce_ids) are erpsync's and skipped, as
        are those ``seen`` says erpsync created (push-orders)."""
        if not self.options.import_orders:
            return
        ours = set(self.options.ecommerce_ids.values())
        params = {"dataAtualizacao": _local_time(window.start), "orderBy": "asc"}
        for page in self._pages("/pedidos", params):
            listed = [item for item in page if (item.get("ecommerce") or {}).get("id") not in ours]
            # the list carries no update time, so each listed order is read in full, except
            # those erpsync created itself
            created = seen.created_here(str(item["id"]) for item in listed)
            raws = []
            for item in listed:
                if str(item["id"]) in created:
                    continue
                detail = self.request("GET", f"/pedidos/{item['id']}").json()
                raws.append(RawOrder(str(item["id"]), None, detail))
            yield OrderPage(raws)

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        return order_map.order_from_payload(payload, connector=self.name)

    # -- paging ---------------------------------------------------------------------------------

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        paginator = OffsetPaginator(limit=self.options.limit, total=_total)
        for page in self.paginate(paginator, path, records=_items, params=params):
            yield page.records

    def _list(self, path: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [item for page in self._pages(path, params) for item in page]


def _product_gone(error: str | None) -> bool:
    """Whether a refused create named an item's product id the ERP does not know (ErrorDTO
    `detalhes[].campo` "itens[i].produto.id")."""
    return bool(error) and "produto.id" in str(error)


def _order_of(
    nota: Mapping[str, Any],
    by_id: Mapping[str, ErpOrderRef],
    by_number: Mapping[str, ErpOrderRef],
) -> ErpOrderRef | None:
    """The order a listed nota was issued for: its `origem` when that is a sale (`tipo`
    "venda"), else, for a nota without one, the e-commerce number it carries."""
    origem = nota.get("origem") or {}
    if origem.get("id"):
        return by_id.get(str(origem["id"])) if origem.get("tipo") == "venda" else None
    number = (nota.get("ecommerce") or {}).get("numeroPedidoEcommerce")
    return by_number.get(str(number)) if number else None


def _items(response: httpx.Response) -> list[dict[str, Any]]:
    return list(response.json().get("itens") or [])


def _total(response: httpx.Response) -> int | None:
    paging = response.json().get("paginacao") or {}
    total = paging.get("total")
    return int(total) if total is not None else None


def _days(moment: datetime) -> tuple[str, str]:
    """The moment's calendar day ("2023-01-01") in the seller's zone and in UTC."""
    return order_map.local_date(moment), moment.astimezone(UTC).date().isoformat()


def _day_window(start: datetime, end: datetime) -> tuple[str, str]:
    """`dataInicial`/`dataFinal` days that hold every moment from start to end whichever
    zone Tiny reads them in (its documents give bare days, API 2.0 "dd/mm/yyyy", and never
    say whose): the earlier of São Paulo's and UTC's days at the start, the later at the
    end (they differ from 21:00 local, when UTC is already on the next day)."""
    return min(_days(start)), max(_days(end))


def _local_time(moment: datetime) -> str:
    """ "2023-01-01 10:00:00" in the seller's zone (the v3 examples' format)."""
    return moment.astimezone(order_map.LOCAL).strftime("%Y-%m-%d %H:%M:%S")
