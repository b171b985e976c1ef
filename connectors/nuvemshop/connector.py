"""The Nuvemshop connector (`type: nuvemshop`): declarations, auth and the thin resource
methods; the mappings live in orders.py, listings.py and stock.py.

API v1: `{base_url}/{store_id}/...` with `Authentication: bearer <token>` and a required
`User-Agent` (TiendaNube/api-docs README). The token never expires and there is no refresh
token: `connectors authorize` trades the consent code (valid 30 s) for one and stores it
with the store it was granted for (`user_id`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import httpx

from erpsync.connector import (
    HttpConnector,
    InvoiceSink,
    ListingSource,
    OAuthConsent,
    OrderPage,
    OrderSource,
    RateLimit,
    RawOrder,
    SeenOrders,
    StockSink,
    TrackingSink,
    Window,
)
from erpsync.connectors.nuvemshop import invoices as invoice_map
from erpsync.connectors.nuvemshop import listings as listing_map
from erpsync.connectors.nuvemshop import orders as order_map
from erpsync.connectors.nuvemshop import stock as stock_map
from erpsync.connectors.nuvemshop.settings import NuvemshopCredentials, NuvemshopOptions
from erpsync.domain import (
    Invoice,
    Listing,
    Order,
    PushResult,
    SendResult,
    StockUpdate,
    TrackingUpdate,
)
from erpsync.errors import AuthError, ConfigError, FatalError
from erpsync.http.auth import HeaderAuth, Tokens
from erpsync.http.pagination import LinkHeaderPaginator
from erpsync.http.session import HttpSession, Page, platform_message

#: the consent page (resources/authentication.md); `{app_id}` is credentials.client_id
CONSENT_URL = "https://www.nuvemshop.com.br/apps/{app_id}/authorize"
#: how tokens stored before the `account` column (migration 0012) named their store, in `seed`
_USER_PREFIX = "user_id:"


def _legacy_store(seed: str | None) -> str | None:
    """The store a token stored before the `account` column was granted for (its `seed`
    carried it as `user_id:<id>`); None for any other seed."""
    if seed is None or not seed.startswith(_USER_PREFIX):
        return None
    return seed.removeprefix(_USER_PREFIX) or None


class EmptyListing(FatalError):
    """A list endpoint's 404 "Last page is 0": no record matches (integrators' reports)."""


class NuvemshopConnector(
    HttpConnector[NuvemshopCredentials, NuvemshopOptions],
    OrderSource,
    ListingSource,
    StockSink,
    InvoiceSink,
    TrackingSink,
):
    """Nuvemshop/Tiendanube: orders by update time, variants as listings, bulk stock, NF-e
    keys as order metafields, fulfilment with tracking."""

    type = "nuvemshop"
    platform = order_map.PLATFORM
    # page-number paging over an updated_at filter while the list is sorted by creation:
    # an order updated mid-pull leaves the window and shifts the pages under us
    reread_until_stable = True
    consent = OAuthConsent(CONSENT_URL)
    default_base_url = "https://api.nuvemshop.com.br/v1"
    default_auth_url = "https://www.tiendanube.com/apps/authorize/token"
    emulator = "erpsync.connectors.nuvemshop.emulator:NuvemshopEmulator"
    #: a leaky bucket of 40 requests draining 2/s per store and app (README, "Rate limiting");
    #: the x-rate-limit-* headers it answers with adjust our bucket (erpsync.http.ratelimit)
    rate_limits: ClassVar[Mapping[str, RateLimit]] = {"default": RateLimit(rate=2.0, burst=40)}
    push_batch_size = stock_map.MAX_VARIANTS

    def build_session(self) -> HttpSession:
        session = super().build_session()
        # required: "User-Agent: AppName (contact)"; the API answers 400 without it
        session.headers["User-Agent"] = self.options.user_agent
        return session

    def build_auth(self) -> httpx.Auth:
        # `Authentication: bearer <token>`: the header is `Authentication`, not `Authorization`
        # (README, "Authentication"; one ERP-guide page shows `Authorization: Bearer`)
        return HeaderAuth("Authentication", f"bearer {self._access_token()}")

    def _access_token(self) -> str:
        """The configured token, else the one `connectors authorize` stored for this store."""
        if self.credentials.access_token is not None:
            return self.credentials.access_token.get_secret_value()
        store = self.context.token_store
        stored = store.load(self.name) if store is not None else None
        if stored is None or not stored.access_token:
            raise ConfigError(
                f"connectors.{self.name}.credentials.access_token: not set and none stored; "
                f"run `erpsync connectors authorize {self.name}`"
            )
        granted = stored.account or _legacy_store(stored.seed)
        if granted and granted != str(self.options.store_id):
            raise ConfigError(
                f"connectors.{self.name}: the stored token was granted for store {granted}, "
                f"not options.store_id {self.options.store_id}"
            )
        return stored.access_token

    # -- consent -------------------------------------------------------------------------------

    def authorization_url(self, state: str) -> str:
        """The app's consent page; Nuvemshop redirects to the app's registered URL with `code`."""
        return f"{CONSENT_URL.format(app_id=self._client_id())}?state={state}"

    def exchange_code(self, code: str) -> str:
        """POST the code (it lives 30 s) with the app's id and secret; store the token and the
        store it is for (`user_id`). ref: resources/authentication.md"""
        secret = self.credentials.client_secret
        if secret is None:
            raise ConfigError(
                f"connectors.{self.name}.credentials.client_secret: required to authorise"
            )
        self.http.redactor.add(code)
        response = self.http.token_client.post(
            self.auth_url,
            data={
                "client_id": self._client_id(),
                "client_secret": secret.get_secret_value(),
                "grant_type": "authorization_code",
                "code": code.strip(),
            },
        )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if response.status_code != 200 or not token:
            raise AuthError(
                f"code exchange refused (HTTP {response.status_code}: "
                f"{self.http.redactor.text(platform_message(response))}); the code lives 30 s: "
                f"run `erpsync connectors authorize {self.name}` again",
                connector=self.name,
                status_code=response.status_code,
            )
        self.http.redactor.add(token)
        user_id = str(answer.get("user_id") or "")
        if user_id and user_id != str(self.options.store_id):
            raise ConfigError(
                f"connectors.{self.name}: the token is for store {user_id}; "
                f"set options.store_id: {user_id}"
            )
        if self.context.token_store is None:
            raise ConfigError(f"{self.name}: no token store to keep the token in")
        self.context.token_store.save(
            self.name, Tokens(access_token=token, account=user_id or None), seed=None
        )
        return f"store {user_id or self.options.store_id}, scopes {answer.get('scope', '?')}"

    def _client_id(self) -> str:
        if not self.credentials.client_id:
            raise ConfigError(
                f"connectors.{self.name}.credentials.client_id: the app id, required to authorise"
            )
        return self.credentials.client_id

    # -- orders --------------------------------------------------------------------------------

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        """Orders updated within the window: the default list, then once per payment status
        the default leaves out (see orders.OFF_DEFAULT_PAYMENTS). No sort is guaranteed, so
        versions already yielded in this pull are skipped (dedupe on (id, updated_at)).
        ref: resources/order.md, GET /orders"""
        yielded: set[tuple[str, Any]] = set()
        for payment in (None, *order_map.OFF_DEFAULT_PAYMENTS):
            params: dict[str, Any] = {
                "updated_at_min": order_map.iso(window.start),
                "updated_at_max": order_map.iso(window.end),
                "per_page": self.options.per_page,
            }
            if payment is not None:
                params["payment_status"] = payment
            for page in self._pages("/orders", params, operation="orders"):
                records = page.records
                versions = dict(order_map.version(o) for o in records)
                current = seen.current_of(versions)
                raws = []
                for order in records:
                    key = order_map.version(order)
                    if key in yielded or key[0] in current:
                        continue
                    yielded.add(key)
                    raws.append(RawOrder(key[0], key[1], order))
                # even with nothing new, for the progress count (listed of X-Total-Count)
                yield OrderPage(orders=raws, listed=len(records), listing_total=_total(page))

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        return order_map.order_from_payload(payload, connector=self.name)

    # -- listings and stock --------------------------------------------------------------------

    def fetch_listings(self) -> Iterator[list[Listing]]:
        """Every product's variants. ref: resources/product.md, GET /products"""
        params = {"per_page": self.options.per_page}
        for page in self._pages("/products", params, operation="products"):
            records = page.records
            batch = [
                listing
                for product in records
                for listing in listing_map.listings_from_payload(
                    product,
                    connector=self.name,
                    location_id=self.options.location_id,
                    locations=self.options.location_ids,
                )
            ]
            if batch:
                yield batch

    def stock_locations(self) -> Mapping[str, str]:
        """`options.location_ids`: erpsync location -> Nuvemshop `location_id`."""
        return self.options.location_ids

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """`PATCH /products/stock-price`, ≤ 50 variants per request, one result per variant
        (per variant and location with `location_ids`)."""
        mapped = self.options.location_ids
        results = [
            stock_map.failed_all([u], f"location {u.location!r} is not in options.location_ids")[0]
            for u in updates
            if mapped and u.location not in mapped
        ]
        wanted = [u for u in updates if not mapped or u.location in mapped]
        for batch in stock_map.batches(wanted):
            try:
                response = self.request(
                    "PATCH",
                    self._path("/products/stock-price"),
                    operation="stock",
                    json=stock_map.body(batch, self.options.location_id, mapped),
                )
            except FatalError as exc:  # the whole batch refused (422, 404): each one says so
                results += stock_map.failed_all(batch, str(exc))
                continue
            results += stock_map.results(batch, response.json())
        return results

    # -- post-sale -----------------------------------------------------------------------------

    def push_invoices(self, invoices: Sequence[Invoice]) -> list[SendResult]:
        """Each NF-e on its order as metafields: appended to the `nfe`/`list` array (the
        preferred convention) and as the older `nfe`/`key` (created, or updated when the order
        holds another key: a reissued NF-e) and `nfe`/`link` (with ``options.nfe_link``). An
        NF-e the order already holds is a replay: nothing is written."""
        return self.send_each(self._push_invoice, invoices, ref=lambda i: i.access_key)

    def _push_invoice(self, invoice: Invoice) -> SendResult:
        ref, order_id = invoice.access_key, invoice.order_external_id
        if not order_id:
            return SendResult(ref=ref, ok=False, error="the NF-e names no Nuvemshop order")
        order = self._order(order_id)
        if order is None:
            return SendResult(ref=ref, ok=False, error=f"order {order_id} not on Nuvemshop")
        why = invoice_map.refusal(invoice, order)
        if why is not None:
            return SendResult(ref=ref, ok=False, error=why)
        link = invoice_map.link_for(invoice, self.options.nfe_link)
        why = self._append_to_list(order_id, ref, link)
        if why is not None:
            return SendResult(ref=ref, ok=False, error=why)
        description = f"NF-e {invoice.number} série {invoice.series}"
        field_id = self._set_field(order_id, invoice_map.KEY, ref, description)
        if link:
            self._set_field(order_id, invoice_map.LINK, link, f"XML da {description}")
        return SendResult(ref=ref, ok=True, remote_id=field_id)

    def _append_to_list(self, order_id: str, access_key: str, link: str | None) -> str | None:
        """Add the NF-e to the order's `nfe`/`list`; why not, or None when it holds it now."""
        fields = self._nfe_fields(order_id, invoice_map.LIST)
        held = fields[0] if fields else None
        entries = invoice_map.list_entries(held.get("value") if held else None)
        if entries is None:
            return "the order's nfe/list metafield is not a JSON list; erpsync leaves it alone"
        value = invoice_map.with_entry(entries, access_key, link)
        if value is None:
            return None
        if held is not None:
            self.request("PUT", self._path(f"/metafields/{held.get('id')}"), json={"value": value})
        else:
            body = invoice_map.metafield(
                invoice_map.LIST, value, order_id, invoice_map.LIST_DESCRIPTION
            )
            self.request("POST", self._path("/metafields"), json=body)
        return None

    def _set_field(self, order_id: str, key: str, value: str, description: str) -> str:
        """Make the order's `nfe`/``key`` metafield hold ``value``; return its id."""
        fields = self._nfe_fields(order_id, key)
        held = next((f for f in fields if invoice_map.same(f.get("value"), value)), None)
        if held is not None:
            return str(held.get("id"))
        if fields:
            field_id = fields[0].get("id")
            self.request("PUT", self._path(f"/metafields/{field_id}"), json={"value": value})
            return str(field_id)
        response = self.request(
            "POST",
            self._path("/metafields"),
            json=invoice_map.metafield(key, value, order_id, description),
        )
        return str(response.json().get("id"))

    def push_tracking(self, updates: Sequence[TrackingUpdate]) -> list[SendResult]:
        """`POST /orders/{id}/fulfill` with the tracking number and URL (an order already
        fulfilled with the same code is a replay: nothing is sent). Nuvemshop ships per
        order, so each update's ``shipment_ref`` is the order's id."""
        return self.send_each(self._push_tracking, updates, ref=lambda u: u.shipment_ref)

    def _push_tracking(self, update: TrackingUpdate) -> SendResult:
        ref, order_id = update.shipment_ref, update.order_external_id
        order = self._order(order_id)
        if order is None:
            return SendResult(ref=ref, ok=False, error="order not on Nuvemshop")
        if not invoice_map.already_fulfilled(order, update):
            self.request(
                "POST",
                self._path(f"/orders/{order_id}/fulfill"),
                json=invoice_map.fulfil_body(update, self.options.notify_customer),
            )
        return SendResult(ref=ref, ok=True)

    def _order(self, order_id: str) -> dict[str, Any] | None:
        """The order; None when Nuvemshop does not know it (404)."""
        data = self.read_optional(self._path(f"/orders/{order_id}"))
        return data if isinstance(data, dict) else None

    def _nfe_fields(self, order_id: str, key: str) -> list[dict[str, Any]]:
        params = {"owner_id": order_id, "namespace": invoice_map.NAMESPACE, "key": key}
        response = self.request("GET", self._path("/metafields/orders"), params=params)
        data = response.json()
        return [f for f in data if isinstance(f, dict)] if isinstance(data, list) else []

    # -- checks and errors ---------------------------------------------------------------------

    def check(self) -> str:
        """Authenticate and read one product page."""
        try:
            response = self.request(
                "GET", self._path("/products"), operation="products", params={"per_page": 1}
            )
            total = response.headers.get("x-total-count", "?")
        except EmptyListing:
            total = "0"
        return f"authenticated with Nuvemshop store {self.options.store_id}; {total} products"

    def classify_error(self, response: httpx.Response) -> Exception | None:
        """Nuvemshop's `{code, message, description}` (and 422 field lists) as one line."""
        status = response.status_code
        text = _describe(response)
        if status == 401:
            return AuthError(
                f"access token rejected ({text}): a token stops working when a new one is "
                f"issued or the app is uninstalled; re-authorise: "
                f"erpsync connectors authorize {self.name}",
                connector=self.name,
                status_code=status,
            )
        if status == 404 and text.startswith("Not Found: Last page is"):
            return EmptyListing(text, connector=self.name, status_code=status)
        return FatalError(f"HTTP {status} {text}", connector=self.name, status_code=status)

    # -- helpers -------------------------------------------------------------------------------

    def _path(self, path: str) -> str:
        # appended to base_url's own path (httpx merges it): /v1/{store_id}/orders
        return f"/{self.options.store_id}{path}"

    def _pages(
        self, path: str, params: Mapping[str, Any], *, operation: str
    ) -> Iterator[Page[dict[str, Any]]]:
        """Every page, following the `Link` header; a 404 "Last page is 0" is an empty
        result, not an error."""
        pages = self.paginate(
            LinkHeaderPaginator(), self._path(path), records=_records, operation=operation,
            params=params,
        )  # fmt: skip
        try:
            yield from pages
        except EmptyListing:
            return


def _total(page: Page[Any]) -> int | None:
    """The listing's size (``X-Total-Count``), on its first page."""
    if page.number != 1:
        return None
    try:
        return int(page.response.headers["x-total-count"])
    except (KeyError, ValueError):
        return None


def _records(response: httpx.Response) -> list[dict[str, Any]]:
    data = response.json()
    if not isinstance(data, list):
        raise FatalError("list response is not a JSON array")
    return [r for r in data if isinstance(r, dict)]


def _describe(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if not isinstance(data, dict):
        return response.reason_phrase or "error"
    head = ": ".join(str(data[k]) for k in ("message", "description") if data.get(k))
    head = head or str(data.get("error") or response.reason_phrase or "error")
    fields = [
        f"{k}: {'; '.join(map(str, v))}"
        for k, v in data.items()
        if k not in {"code", "message", "description", "error"} and isinstance(v, list)
    ]
    return f"{head} ({', '.join(fields)})" if fields else head
