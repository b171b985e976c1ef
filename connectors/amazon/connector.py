"""AmazonConnector: declarations and auth (LWA, Restricted Data Tokens); orders, listings and
stock through the Selling Partner API (Amazon.com.br), delegating to their modules."""

from __future__ import annotations

import logging
import sys
from collections.abc import Generator, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from erpsync.connector import (
    HttpConnector,
    InvoiceSink,
    LabelSource,
    ListingSource,
    OrderPage,
    OrderSource,
    Outcome,
    RateLimit,
    RawOrder,
    SeenOrders,
    StockSink,
    TrackingSink,
    Window,
)
from erpsync.connectors.amazon import feeds, labels, listings, orders, shipping, stock
from erpsync.connectors.amazon import invoices as invoice_map
from erpsync.connectors.amazon.errors import access_token_expired, said, sp_error
from erpsync.connectors.amazon.settings import AmazonCredentials, AmazonOptions
from erpsync.domain import (
    Invoice,
    LabelRequest,
    LabelResult,
    Listing,
    Order,
    PushResult,
    SendResult,
    StockUpdate,
    TrackingUpdate,
    to_utc,
)
from erpsync.errors import AuthError, FatalError, RetriableError
from erpsync.http.pagination import CursorPaginator

log = logging.getLogger("erpsync.connectors.amazon")

#: refresh a Restricted Data Token this long before Amazon's expiresIn runs out
RDT_LEEWAY = timedelta(seconds=60)
#: the app roles each API needs, for the 403 message
#: (ref: https://developer-docs.amazon.com/sp-api/docs/role-mappings)
ROLES = {
    "/orders/": "Inventory and Order Tracking",
    # ref: developer-docs.amazon.com/sp-api/docs/get-authorization-to-access-pii-for-bulk-orders
    # (shippingAddress: Direct-to-Consumer Shipping; buyerInfo: Tax Invoicing or Tax Remittance)
    "/tokens/": "Direct-to-Consumer Shipping (Restricted) role for addresses and the Tax "
    "Invoicing or Tax Remittance (Restricted)",
    "/listings/": "Product Listing",
    "/feeds/": "Product Listing (or Inventory and Order Tracking)",
}


class RestrictedDataAuth(httpx.Auth):
    """Sends a Restricted Data Token in ``x-amz-access-token`` (in place of the LWA token),
    getting a fresh one when it is about to expire or Amazon says it has."""

    requires_response_body = True

    def __init__(self, connector: AmazonConnector) -> None:
        self.connector = connector

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["x-amz-access-token"] = self.connector.restricted_data_token()
        response = yield request
        if access_token_expired(response):
            token = self.connector.restricted_data_token(force=True)
            request.headers["x-amz-access-token"] = token
            yield request


class AmazonConnector(
    HttpConnector[AmazonCredentials, AmazonOptions],
    OrderSource,
    ListingSource,
    StockSink,
    InvoiceSink,
    TrackingSink,
    LabelSource,
):
    """Amazon Selling Partner API for one seller and marketplace (default Amazon.com.br)."""

    type: ClassVar[str] = "amazon"
    platform: ClassVar[str] = orders.PLATFORM
    # one JSON_LISTINGS_FEED holds up to 25,000 messages and createFeed refills once every two
    # minutes: hand the whole push over at once rather than one feed per 200 SKUs
    push_batch_size = 10_000
    # the seller's own shipping (MFN) only: FBA is Amazon's, and Easy Ship orders (logistic
    # type "EasyShip", connectors/amazon/orders.py) are collected and confirmed by Amazon
    # (the ordersV0 model's own getOrders example spells MFN "SellerFulfilled": taken too)
    tracking_logistic_types = frozenset({orders.MFN_CHANNEL, "SellerFulfilled"})
    # ref: https://developer-docs.amazon.com/sp-api/docs/sp-api-endpoints (BR is in the NA region)
    default_base_url = "https://sellingpartnerapi-na.amazon.com"
    # ref: https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api
    default_auth_url = "https://api.amazon.com/auth/o2/token"
    emulator = "erpsync.connectors.amazon.emulator:AmazonEmulator"
    #: SP-API usage plans (rate, burst) per operation: Amazon applies one token bucket per
    #: operation and selling-partner/app pair. Each value is the "Usage Plan" table in the
    #: operation's description in the official models (amzn/selling-partner-api-models), which
    #: developer-docs.amazon.com renders on each reference page.
    #: ref: https://developer-docs.amazon.com/sp-api/docs/usage-plans-and-rate-limits
    rate_limits: ClassVar[Mapping[str, RateLimit]] = {
        "default": RateLimit(rate=0.5, burst=10),
        # models/orders-api-model/ordersV0.json: getOrders "0.0167 | 20" (one a minute)
        "getOrders": RateLimit(rate=0.0167, burst=20),
        # ordersV0.json: getOrder, getOrderItems "0.5 | 30"
        "getOrder": RateLimit(rate=0.5, burst=30),
        "getOrderItems": RateLimit(rate=0.5, burst=30),
        # models/tokens-api-model/tokens_2021-03-01.json: createRestrictedDataToken "1 | 10"
        "createRestrictedDataToken": RateLimit(rate=1, burst=10),
        # models/listings-items-api-model/listingsItems_2021-08-01.json (current):
        # searchListingsItems "5 | 5"; patchListingsItem "5 | 5" (older docs said 5 | 10);
        # getListingsItem "5 | 10"
        "searchListingsItems": RateLimit(rate=5, burst=5),
        "patchListingsItem": RateLimit(rate=5, burst=5),
        "getListingsItem": RateLimit(rate=5, burst=10),
        # models/feeds-api-model/feeds_2021-06-30.json: createFeedDocument "0.5 | 15",
        # createFeed "0.0083 | 15", getFeed "2 | 15", getFeedDocument "0.0222 | 10"
        "createFeedDocument": RateLimit(rate=0.5, burst=15),
        # Delivery by Amazon 2022-07-01 (shared API notes §2.6): submitInvoice about 1.133 | 25;
        # getInvoiceStatus is not given there, the same bucket is assumed [U]
        "submitInvoice": RateLimit(rate=1.133, burst=25),
        "getInvoiceStatus": RateLimit(rate=1.133, burst=25),
        # ordersV0.json: confirmShipment "2 | 10"
        "confirmShipment": RateLimit(rate=2, burst=10),
        "createFeed": RateLimit(rate=0.0083, burst=15),
        "getFeed": RateLimit(rate=2, burst=15),
        "getFeedDocument": RateLimit(rate=0.0222, burst=10),
        # pre-signed S3 document URLs (feed upload, report download) are not SP-API operations:
        # no documented plan; a generous local bucket only keeps a runaway loop polite
        "documentTransfer": RateLimit(rate=10, burst=10),
    }
    # SP-API requires a user-agent naming the app and language
    # (ref: https://developer-docs.amazon.com/sp-api/docs/include-a-user-agent-header-in-all-requests)
    default_headers: ClassVar[Mapping[str, str]] = {
        "User-Agent": f"erpsync/0.1 (Language=Python/{sys.version_info[0]}.{sys.version_info[1]})"
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rdt: tuple[str, datetime] | None = None
        #: SKUs fetch_listings saw fulfilled by Amazon (FBA): push_stock never sends them
        self.fba_skus: set[str] = set()

    # -- auth -----------------------------------------------------------------------------------

    def build_auth(self) -> httpx.Auth:
        """LWA refresh-token grant; the access token goes in ``x-amz-access-token`` and is
        cached until expires_in (3600 s) runs out; an expired one comes back as 403."""
        return self.oauth_refresh(
            header="x-amz-access-token",
            value_format="{}",
            body_format="form",
            is_expired=access_token_expired,
        )

    def restricted_data_token(self, *, force: bool = False) -> str:
        """A cached RDT for getOrders with buyerInfo + shippingAddress.

        The list ("bulk orders") form of the path, ``/orders/v0/orders``, covers every page of
        getOrders, so one RDT per pull replaces a token and a getOrder call per order. The
        per-order form is ``/orders/v0/orders/{orderId}`` (tokens_2021-03-01.json, the
        RestrictedResource.path description; developer-docs "Get authorization to access PII
        for bulk orders").
        ref: https://developer-docs.amazon.com/sp-api/docs/tokens-api-v2021-03-01-reference
        """
        if self._rdt is not None and not force and self._rdt[1] - RDT_LEEWAY > self.now():
            return self._rdt[0]
        resource = {
            "method": "GET",
            "path": "/orders/v0/orders",
            "dataElements": ["buyerInfo", "shippingAddress"],
        }
        response = self.request(
            "POST",
            "/tokens/2021-03-01/restrictedDataToken",
            operation="createRestrictedDataToken",
            json={"restrictedResources": [resource]},
        )
        data = response.json()
        expires = self.now() + timedelta(seconds=int(data.get("expiresIn", 3600)))
        self._rdt = (str(data["restrictedDataToken"]), expires)
        self.http.redactor.add(self._rdt[0])
        return self._rdt[0]

    def classify_error(self, response: httpx.Response) -> Exception | None:
        """403 from SP-API: a role or authorisation is missing (an expired token was already
        refreshed once by the auth flow). 400/404: the platform's code, message and details."""
        path = response.request.url.path
        area = next((prefix for prefix in ROLES if path.startswith(prefix)), None)
        if area is None:
            return None  # not SP-API (a pre-signed S3 document URL): the default applies
        error = sp_error(response)
        text = said(error)
        if response.status_code == 403:
            if "expired" in error.get("details", "").lower():
                return AuthError(
                    f"access token still rejected as expired after a refresh ({text}); "
                    "check this machine's clock and the app's LWA credentials"
                )
            role = ROLES[area]
            if area == "/orders/" and self.options.restricted_data:
                role += " (and, for restricted_data, Direct to Consumer Shipping (Restricted))"
            return AuthError(
                f"access denied (HTTP 403 {text or 'Unauthorized'}): the app lacks the {role} "
                f"role or the seller has not authorised it; add the role to the app, then "
                f"re-authorise: erpsync connectors authorize {self.name}"
            )
        if response.status_code in (400, 404) and error:
            details = f" ({error['details']})" if error.get("details") else ""
            return FatalError(f"HTTP {response.status_code}: {text}{details}")
        return None

    # -- orders ---------------------------------------------------------------------------------

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        """getOrders by LastUpdatedAfter/Before, 100 a page, then getOrderItems for the new or
        changed orders only. The checkpoint (Amazon's LastUpdatedBefore) rides on the LAST
        page: pages come in no time order, so the window is done only when all are in.
        ref: https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#getorders
        """
        end = min(window.end, self.now() - orders.ORDERS_LAG)
        if window.start >= end:
            # nothing Amazon will answer for yet: a checkpoint at `end` keeps the cursor where
            # it is (it never moves back), instead of the engine moving it to the window's end
            yield OrderPage([], checkpoint=end)
            return
        restricted = bool(self.options.restricted_data)
        params = orders.orders_query(self.options.marketplace_id, window.start, end)
        # keep_params: the current ordersV0 reference says "NextToken doesn't affect any
        # filters that you include in your request; it only impacts the pagination for the
        # filtered orders response", so the filters are sent again with every NextToken (older
        # text: "If NextToken is present, that will be used ... instead of other criteria").
        paginator = CursorPaginator(
            lambda r: r.json()["payload"].get("NextToken"), keep_params=True
        )
        extra: dict[str, Any] = {"auth": RestrictedDataAuth(self)} if restricted else {}
        for page in self.paginate(
            paginator,
            "/orders/v0/orders",
            records=_orders_of,
            operation="getOrders",
            params=params,
            **extra,
        ):
            found = page.records
            if not found and not page.last:
                continue
            versions = {str(o["AmazonOrderId"]): to_utc(o["LastUpdateDate"]) for o in found}
            current = seen.current_of(versions) if versions else set()
            # unchanged since stored: no getOrderItems call; the others' calls go out together
            # (the getOrderItems bucket paces them), a failed one fails its order only
            changed = [o for o in found if str(o["AmazonOrderId"]) not in current]
            raw = [
                self._raw_order(o, restricted, outcome)
                for o, outcome in zip(
                    changed, self.each(self._order_items_of, changed), strict=True
                )
            ]
            # the window is done only when the last page is in: the checkpoint rides on it
            checkpoint = orders.checkpoint(page.response.json(), end) if page.last else None
            yield OrderPage(raw, checkpoint=checkpoint)

    def _raw_order(
        self, order: dict[str, Any], restricted: bool, items: Outcome[list[dict[str, Any]]]
    ) -> RawOrder:
        order_id = str(order["AmazonOrderId"])
        updated = to_utc(order["LastUpdateDate"])
        payload = {"order": order, "items": items.value or [], "restricted_data": restricted}
        return RawOrder(order_id, updated, payload, failure=items.error)

    def _order_items_of(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        return self._order_items(str(order["AmazonOrderId"]))

    def _order_items(self, order_id: str) -> list[dict[str, Any]]:
        """ref: https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#getorderitems"""
        paginator = CursorPaginator(lambda r: r.json()["payload"].get("NextToken"))
        items: list[dict[str, Any]] = []
        for page in self.paginate(
            paginator,
            f"/orders/v0/orders/{quote(order_id, safe='')}/orderItems",
            records=lambda r: list(r.json()["payload"].get("OrderItems") or []),
            operation="getOrderItems",
        ):
            items.extend(page.records)
        return items

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        return orders.order_from_payload(payload, connector=self.name)

    # -- listings -------------------------------------------------------------------------------

    def listings_path(self, sku: str | None = None) -> str:
        """Listings Items paths; seller id and SKU URL-encoded (SKUs may hold "/" or spaces;
        ref: https://developer-docs.amazon.com/sp-api/docs/url-encoding)."""
        base = f"/listings/2021-08-01/items/{quote(self.options.seller_id, safe='')}"
        return base if sku is None else f"{base}/{quote(sku, safe='')}"

    def fetch_listings(self) -> Iterator[list[Listing]]:
        """searchListingsItems, 20 a page (the model's maximum), with summaries, attributes and
        fulfillmentAvailability; a channel code other than DEFAULT means FBA.
        ref: https://developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference#searchlistingsitems
        """
        params = {
            "marketplaceIds": self.options.marketplace_id,
            "includedData": "summaries,attributes,fulfillmentAvailability",
            "pageSize": listings.PAGE_SIZE,
        }
        paginator = CursorPaginator(
            lambda r: (r.json().get("pagination") or {}).get("nextToken"),
            token_param="pageToken",  # noqa: S106 - a parameter name
        )
        # the next page is read while this one's listings are stored (HttpConnector.read_ahead)
        for page in self.read_ahead(
            self.paginate(
                paginator,
                self.listings_path(),
                records=lambda r: list(r.json().get("items") or []),
                operation="searchListingsItems",
                params=params,
            )
        ):
            if not page.records:
                continue
            found = [
                listings.listing_from_payload(
                    item, connector=self.name, marketplace_id=self.options.marketplace_id
                )
                for item in page.records
            ]
            self.fba_skus.update(x.item_id for x in found if x.fulfilled_by_channel)
            yield found

    # -- invoices (Brazil: Delivery by Amazon API; see connectors/amazon/invoices.py) ------------

    def push_invoices(self, invoices: Sequence[Invoice]) -> list[SendResult]:
        """`submitInvoice` per order: accepted for processing (pending), read back next run."""
        return [self._submit_invoice(invoice) for invoice in invoices]

    def _submit_invoice(self, invoice: Invoice) -> SendResult:
        ref = invoice.access_key
        if not invoice.order_external_id or invoice.xml is None:
            return SendResult(
                ref=ref, ok=False, error="the NF-e names no Amazon order or has no XML"
            )
        try:
            self.request(
                "POST",
                invoice_map.SUBMIT_PATH,
                operation="submitInvoice",
                params={"orderId": invoice.order_external_id},
                json=invoice_map.submit_body(
                    invoice, self.options.marketplace_id, self.options.invoice_program
                ),
            )
        except RetriableError as exc:
            return SendResult(ref=ref, ok=False, retry=True, error=str(exc))
        except FatalError as exc:
            return SendResult(ref=ref, ok=False, error=str(exc))
        return SendResult(ref=ref, ok=True, pending=True, remote_id=invoice.order_external_id)

    def verify_invoices(self, invoices: Sequence[Invoice]) -> list[SendResult]:
        """`getInvoiceStatus` per order: Accepted, still Processing, or Errored (refused)."""
        results = []
        for invoice in invoices:
            params = invoice_map.status_params(
                invoice.order_external_id or "",
                self.options.marketplace_id,
                self.options.invoice_program,
            )
            try:
                answer = self.request(
                    "GET", invoice_map.STATUS_PATH, operation="getInvoiceStatus", params=params
                ).json()
            except RetriableError as exc:
                results.append(
                    SendResult(ref=invoice.access_key, ok=True, pending=True, error=str(exc))
                )
                continue
            results.append(invoice_map.status_result(invoice, answer))
        return results

    # -- tracking (MFN: Orders v0 confirmShipment; see connectors/amazon/shipping.py) ----------

    def push_tracking(self, updates: Sequence[TrackingUpdate]) -> list[SendResult]:
        """getOrder and getOrderItems, then `confirmShipment` with the lines not shipped yet;
        an order Amazon already shows as shipped is taken as done (a replay). The orders go
        together (each operation's bucket paces them); a failed one fails its own result."""
        outcomes = self.each(self._confirm, updates)
        results = []
        for update, outcome in zip(updates, outcomes, strict=True):
            error = outcome.error
            if error is None and outcome.value is not None:
                results.append(outcome.value)
            elif isinstance(error, RetriableError):
                results.append(
                    SendResult(ref=update.shipment_ref, ok=False, retry=True, error=str(error))
                )
            else:
                results.append(SendResult(ref=update.shipment_ref, ok=False, error=str(error)))
        return results

    def _confirm(self, update: TrackingUpdate) -> SendResult:
        order_id = update.order_external_id
        order = self._order(order_id)
        early = shipping.precheck(update, order)
        if early is not None:
            return early
        lines = shipping.unshipped_lines(self._order_items(order_id))
        if not lines:  # every unit already shipped: the confirmation is there
            return SendResult(ref=update.shipment_ref, ok=True, remote_id=order_id)
        body = shipping.confirm_body(
            update, lines, marketplace_id=self.options.marketplace_id, now=self.now()
        )
        # not idempotent: a lost answer is not resent blind (RetriableError; the next run's
        # getOrder then shows whether Amazon took it)
        self.request(
            "POST",
            shipping.path(order_id),
            operation="confirmShipment",
            json=body,
            idempotent=False,
        )
        return SendResult(ref=update.shipment_ref, ok=True, remote_id=order_id)

    # -- labels (none served for Amazon.com.br; see connectors/amazon/labels.py) ---------------

    label_formats = labels.FORMATS

    def fetch_labels(self, requests: Sequence[LabelRequest], *, format: str) -> list[LabelResult]:
        """Where each label comes from, never the label: Amazon documents no label download
        for Amazon.com.br (Easy Ship's documents feed and bulk ZIP serve other marketplaces)
        and booking a pickup without its label would leave the seller worse off. Only open
        Easy Ship orders cost a request (getOrder: is the pickup scheduled yet); an order that
        cannot be read now is asked again next run."""
        asked = [r for r in requests if labels.needs_order(r)]
        read = dict(
            zip(
                (r.shipment_ref for r in asked),
                self.each(lambda r: self._order(r.order_external_id), asked),
                strict=True,
            )
        )
        results = []
        for request in requests:
            outcome = read.get(request.shipment_ref)
            if outcome is None:
                results.append(labels.label_result(request))
            elif outcome.error is not None:
                results.append(
                    LabelResult(
                        ref=request.shipment_ref,
                        reason=f"could not read the order at Amazon: {outcome.error}",
                    )
                )
            else:
                results.append(labels.label_result(request, outcome.value))
        return results

    def _order(self, order_id: str) -> dict[str, Any]:
        """Orders v0 getOrder: the order's current state (no PII asked)."""
        path = f"/orders/v0/orders/{quote(order_id, safe='')}"
        payload = self.request("GET", path, operation="getOrder").json().get("payload")
        return dict(payload or {})

    # -- stock ----------------------------------------------------------------------------------

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """patchListingsItem per SKU, or one JSON_LISTINGS_FEED above ``feed_threshold``; SKUs
        fetch_listings saw as FBA are refused without a request."""
        plan = stock.plan(
            updates, fba_skus=self.fba_skus, feed_threshold=self.options.feed_threshold
        )
        results = dict(plan.refused)
        # one PATCH per SKU, together (the patchListingsItem bucket paces them)
        patched = self.each(lambda todo: self._patch(todo[1], todo[2]), plan.patches)
        results.update(
            {todo[0]: out.get() for todo, out in zip(plan.patches, patched, strict=True)}
        )
        for batch in plan.feeds:
            results.update(self._push_feed(batch))
        return [results[n] for n in range(len(updates))]

    def _patch(self, update: StockUpdate, sku: str) -> PushResult:
        body = stock.patch_body(update, default_product_type=self.options.product_type)
        try:
            response = self.request(
                "PATCH",
                self.listings_path(sku),
                operation="patchListingsItem",
                params={
                    "marketplaceIds": self.options.marketplace_id,
                    "issueLocale": self.options.issue_locale,
                },
                json=body,
            )
        except FatalError as exc:  # this SKU's request was refused (400/404): its result only
            return stock.result(update, ok=False, error=str(exc))
        answer = stock.push_result(sku, response.json())
        return answer.model_copy(update={"item_id": update.item_id, "variation_id": None})

    def _push_feed(self, batch: Sequence[stock.Todo]) -> dict[int, PushResult]:
        document = stock.feed_document(
            batch,
            seller_id=self.options.seller_id,
            issue_locale=self.options.issue_locale,
            default_product_type=self.options.product_type,
        )
        feed_id = feeds.submit(self, document)
        feed = feeds.wait(self, feed_id)
        return stock.feed_results(batch, feed_id, feed, feeds.report(self, feed))

    def verify_pending(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """Read back accepted pushes (searchListingsItems by SKU, 20 a call): applied, refused,
        or not yet."""
        found: dict[str, dict[str, Any]] = {}
        skus = [u.sku or u.item_id for u in updates]
        for start in range(0, len(skus), stock.IDENTIFIERS_PER_SEARCH):
            chunk = skus[start : start + stock.IDENTIFIERS_PER_SEARCH]
            response = self.request(
                "GET",
                self.listings_path(),
                operation="searchListingsItems",
                params=stock.verify_query(chunk, self.options.marketplace_id),
            )
            found.update({str(i["sku"]): i for i in response.json().get("items") or []})
        return [stock.verified(u, found.get(sku)) for u, sku in zip(updates, skus, strict=True)]

    def check(self) -> str:
        """Authenticate and read one listing page."""
        response = self.request(
            "GET",
            self.listings_path(),
            operation="searchListingsItems",
            params={"marketplaceIds": self.options.marketplace_id, "pageSize": 1},
        )
        count = response.json().get("numberOfResults", 0)
        return (
            f"authenticated as seller {self.options.seller_id} on marketplace "
            f"{self.options.marketplace_id} ({count} listings)"
        )


def _orders_of(response: httpx.Response) -> list[dict[str, Any]]:
    return list(response.json()["payload"].get("Orders") or [])


__all__ = ["AmazonConnector"]
