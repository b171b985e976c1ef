"""The emulator's Listings Items 2021-08-01 side (a mixin of AmazonEmulator).

Submissions are applied at once (Amazon queues them for minutes); feeds.py applies a feed's
messages through the same ``_submit``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.amazon.emulator.wire import (
    DENIED,
    INVALID_ATTRIBUTES,
    Endpoint,
    Handler,
    fingerprint,
    invalid_input,
    iso,
    sp_errors,
)

STOCK_PATH = "/attributes/fulfillment_availability"
BAD_QUANTITY = "'fulfillment_availability.quantity' must be a whole number of 0 or more."
PATCH_OPS = frozenset({"add", "replace", "merge", "delete"})


class ListingsMixin:
    """Listings state and endpoints; AmazonEmulator supplies auth and tokens."""

    if TYPE_CHECKING:
        seller_id: str
        catalog: list[dict[str, Any]]
        clock: Callable[[], datetime]
        seed: int

        def _api(self, operation: str, handler: Handler) -> Endpoint: ...
        def page_token(self, kind: str, state: dict[str, Any]) -> str: ...
        def read_page_token(self, kind: str, token: str) -> dict[str, Any] | None: ...

    def setup_listings(self) -> None:
        now = iso(self.clock())
        self.listings: dict[str, dict[str, Any]] = {
            p["sku"]: {**p, "created": now, "updated": now} for p in self.catalog
        }
        #: SKU -> message: submissions for it come back INVALID with that ERROR issue
        self.reject_skus: dict[str, str] = {}
        self._serial = 0

    def listing_routes(self) -> list[BaseRoute]:
        api = self._api
        items = "/listings/2021-08-01/items/{sellerId}"
        return [
            Route(items, api("searchListingsItems", self._search_listings)),
            Route(items + "/{sku:path}", api("getListingsItem", self._get_listing)),
            Route(
                items + "/{sku:path}",
                api("patchListingsItem", self._patch_listing),
                methods=["PATCH"],
            ),
        ]

    # -- contract-suite API -----------------------------------------------------------------

    def listing_refs(self) -> list[tuple[str, str | None, str]]:
        return [(sku, None, sku) for sku in sorted(self.listings)]

    def stock_of(self, item_id: str, variation_id: str | None = None) -> int | None:
        listing = self.listings.get(item_id)
        return None if listing is None else listing.get("quantity")

    def _next_id(self, kind: str) -> str:
        self._serial += 1
        digest = hashlib.sha256(f"{kind}:{self.seed}:{self._serial}".encode()).hexdigest()
        if kind == "feed":
            return str(50_000_000_000 + self._serial)
        return f"amzn1.tortuga.4.na.{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:28]}"

    # -- listings ----------------------------------------------------------------------------

    def _render(self, sku: str, included: set[str], marketplace: str) -> dict[str, Any]:
        listing = self.listings[sku]
        code = "AMAZON_NA" if listing["fba"] else "DEFAULT"
        availability = {"fulfillmentChannelCode": code, "quantity": listing["quantity"]}
        item: dict[str, Any] = {"sku": sku}
        if "summaries" in included:
            item["summaries"] = [
                {
                    "marketplaceId": marketplace,
                    "asin": listing["asin"],
                    "productType": listing["product_type"],
                    "conditionType": "new_new",
                    "status": ["BUYABLE", "DISCOVERABLE"],
                    "itemName": listing["title"],
                    "createdDate": listing["created"],
                    "lastUpdatedDate": listing["updated"],
                }
            ]
        if "attributes" in included:
            item["attributes"] = {
                "item_name": [{"value": listing["title"], "marketplace_id": marketplace}],
                "fulfillment_availability": [
                    {"fulfillment_channel_code": code, "quantity": listing["quantity"]}
                ],
            }
        if "fulfillmentAvailability" in included:
            item["fulfillmentAvailability"] = [availability]
        if "issues" in included:
            item["issues"] = []
        return item

    def _seller_problem(self, request: Request) -> Response | None:
        if request.path_params["sellerId"] != self.seller_id:
            return sp_errors(403, "Unauthorized", DENIED)
        if not request.query_params.get("marketplaceIds"):
            return invalid_input("Missing required parameter: marketplaceIds")
        return None

    async def _search_listings(self, request: Request, _: frozenset[str]) -> Response:
        """ref: https://developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference#searchlistingsitems"""
        problem = self._seller_problem(request)
        if problem is not None:
            return problem
        query = {k: v for k, v in request.query_params.items() if k != "pageToken"}
        size = query.get("pageSize", "10")
        if not size.isdigit() or not 1 <= int(size) <= 20:
            return invalid_input("pageSize must be between 1 and 20.")
        skus = sorted(self.listings)
        if "identifiers" in query:
            if query.get("identifiersType") != "SKU":
                return invalid_input("identifiersType is required when identifiers is provided.")
            wanted = query["identifiers"].split(",")
            skus = [s for s in wanted if s in self.listings]
        offset = 0
        if "pageToken" in request.query_params:
            state = self.read_page_token("listings", request.query_params["pageToken"])
            if state is None or state["f"] != fingerprint(query):
                return invalid_input("Invalid pageToken.")
            offset = int(state["o"])
        included = set(query.get("includedData", "summaries").split(","))
        page = skus[offset : offset + int(size)]
        body: dict[str, Any] = {
            "numberOfResults": len(skus),
            "items": [self._render(s, included, query["marketplaceIds"]) for s in page],
        }
        if offset + int(size) < len(skus):
            state = {"o": offset + int(size), "f": fingerprint(query)}
            body["pagination"] = {"nextToken": self.page_token("listings", state)}
        return JSONResponse(body)

    async def _get_listing(self, request: Request, _: frozenset[str]) -> Response:
        problem = self._seller_problem(request)
        if problem is not None:
            return problem
        sku = request.path_params["sku"]
        if sku not in self.listings:
            return _not_found(sku, request.query_params["marketplaceIds"])
        included = set(request.query_params.get("includedData", "summaries").split(","))
        return JSONResponse(self._render(sku, included, request.query_params["marketplaceIds"]))

    async def _patch_listing(self, request: Request, _: frozenset[str]) -> Response:
        """ref: https://developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference#patchlistingsitem"""
        problem = self._seller_problem(request)
        if problem is not None:
            return problem
        try:
            body = await request.json()
        except ValueError:
            return invalid_input("Invalid input", "The request body is not valid JSON.")
        sku = request.path_params["sku"]
        preview = request.query_params.get("mode") == "VALIDATION_PREVIEW"
        issues = self._submit(sku, body.get("productType"), body.get("patches"), apply=not preview)
        status = "INVALID" if issues else "VALID" if preview else "ACCEPTED"
        return JSONResponse(
            {"sku": sku, "status": status, "submissionId": self._next_id("sub"), "issues": issues}
        )

    def _submit(
        self, sku: str, product_type: Any, patches: Any, *, apply: bool
    ) -> list[dict[str, Any]]:
        """Validate (and apply) one SKU's patches; the ERROR issues, empty when accepted."""
        listing = self.listings.get(sku)
        if listing is None:
            # [R] a PATCH cannot create a listing: the SKU has to exist in the catalogue
            return [_issue("NOT_FOUND", f"SKU '{sku}' not found in the seller's catalog.")]
        if not product_type:
            return [_issue(INVALID_ATTRIBUTES, "'productType' is required but not supplied.")]
        if sku in self.reject_skus:
            return [_issue(INVALID_ATTRIBUTES, self.reject_skus[sku], ["fulfillment_availability"])]
        quantity: int | None = None
        for patch in patches if isinstance(patches, list) else [None]:
            found = _stock_of_patch(patch)
            if isinstance(found, str):
                return [_issue(INVALID_ATTRIBUTES, found, ["fulfillment_availability"])]
            quantity = found if found is not None else quantity
        if apply and quantity is not None:
            listing["quantity"] = quantity
            listing["fba"] = False  # a DEFAULT channel quantity makes the offer merchant-fulfilled
            listing["updated"] = iso(self.clock())
        return []


def _issue(code: str, message: str, attributes: Sequence[str] = ()) -> dict[str, Any]:
    issue: dict[str, Any] = {"code": code, "message": message, "severity": "ERROR"}
    if attributes:
        issue["attributeNames"] = list(attributes)
    return issue


def _stock_of_patch(patch: Any) -> int | str | None:
    """The DEFAULT quantity a patch sets, None for other attributes, or what is wrong."""
    if not isinstance(patch, dict) or patch.get("op") not in PATCH_OPS or not patch.get("path"):
        return "Each patch needs an op (add, replace, merge, delete) and a path."
    if patch["path"] != STOCK_PATH or patch["op"] == "delete":
        return None
    values = patch.get("value")
    entry = values[0] if isinstance(values, list) and values else None
    if not isinstance(entry, dict):
        return BAD_QUANTITY
    quantity = entry.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        return BAD_QUANTITY
    if entry.get("fulfillment_channel_code") != "DEFAULT":
        return "Only the DEFAULT (merchant) fulfillment channel quantity can be set."
    return quantity


def _not_found(sku: str, marketplace: str) -> Response:
    return sp_errors(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {marketplace}")
