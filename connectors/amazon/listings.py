"""The emulator's Listings Items 2021-08-01 and Feeds 2021-06-30 side (a mixin of AmazonEmulator).

Submissions are applied at once (Amazon queues them for minutes); a feed moves one processing
step per getFeed poll (IN_QUEUE, IN_PROGRESS, then DONE with a GZIP processing report), so a
client's polling loop is exercised without waiting.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.amazon.sandbox import iso
from erpsync.connectors.amazon.wire import DENIED, fingerprint, invalid_input, sp_errors

Handler = Callable[[Request, frozenset[str]], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
STOCK_PATH = "/attributes/fulfillment_availability"
PATCH_OPS = frozenset({"add", "replace", "merge", "delete"})
INVALID_ATTRIBUTES = "90000900"  # the models' example code for "The attributes are invalid."
#: processingStatus after the n-th getFeed poll (then DONE)
FEED_STEPS = ("IN_QUEUE", "IN_PROGRESS")
S3_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>{}</Code><Message>{}</Message></Error>'
)


class ListingsMixin:
    """Listings and feeds state and endpoints; AmazonEmulator supplies auth and tokens."""

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
        self.documents: dict[str, dict[str, Any]] = {}
        self.feeds: dict[str, dict[str, Any]] = {}
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
            Route(
                "/feeds/2021-06-30/documents",
                api("createFeedDocument", self._create_document),
                methods=["POST"],
            ),
            Route(
                "/feeds/2021-06-30/documents/{documentId}",
                api("getFeedDocument", self._get_document),
            ),
            Route(
                "/feeds/2021-06-30/feeds", api("createFeed", self._create_feed), methods=["POST"]
            ),
            Route("/feeds/2021-06-30/feeds/{feedId}", api("getFeed", self._get_feed)),
            Route("/s3/feed-documents/{documentId}", self._s3_object, methods=["GET", "PUT"]),
        ]

    # -- contract-suite API -----------------------------------------------------------------

    def listing_refs(self) -> list[tuple[str, str | None, str]]:
        return [(sku, None, sku) for sku in sorted(self.listings)]

    def stock_of(self, item_id: str, variation_id: str | None = None) -> int | None:
        listing = self.listings.get(item_id)
        return None if listing is None else listing.get("quantity")

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

    # -- feeds -------------------------------------------------------------------------------

    def _next_id(self, kind: str) -> str:
        self._serial += 1
        digest = hashlib.sha256(f"{kind}:{self.seed}:{self._serial}".encode()).hexdigest()
        if kind == "feed":
            return str(50_000_000_000 + self._serial)
        return f"amzn1.tortuga.4.na.{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:28]}"

    async def _create_document(self, request: Request, _: frozenset[str]) -> Response:
        """ref: https://developer-docs.amazon.com/sp-api/docs/feeds-api-v2021-06-30-reference#createfeeddocument"""
        try:
            content_type = (await request.json())["contentType"]
        except (ValueError, KeyError, TypeError):
            return invalid_input("Invalid input", "contentType is required.")
        doc_id = self._next_id("doc")
        self.documents[doc_id] = {"content_type": content_type, "content": None}
        url = self._presigned(request, doc_id)
        return JSONResponse({"feedDocumentId": doc_id, "url": url}, status_code=201)

    def _presigned(self, request: Request, doc_id: str) -> str:
        signature = hashlib.sha256(f"{self.seed}:{doc_id}".encode()).hexdigest()
        base = str(request.base_url).rstrip("/")
        return (
            f"{base}/s3/feed-documents/{quote(doc_id)}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Expires=300&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature={signature}"
        )

    async def _s3_object(self, request: Request) -> Response:
        """The pre-signed S3 URL: no SP-API auth; unsigned x-amz-* headers are refused."""
        doc = self.documents.get(request.path_params["documentId"])
        if doc is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        if "x-amz-access-token" in request.headers:
            return _s3_error(
                403,
                "AccessDenied",
                "There were headers present in the request which were not signed",
            )
        if request.method == "GET":
            if doc["content"] is None:
                return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
            return Response(doc["content"], media_type=doc["content_type"])
        if request.headers.get("content-type") != doc["content_type"]:
            return _s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        doc["content"] = await request.body()
        return Response(status_code=200)

    async def _create_feed(self, request: Request, _: frozenset[str]) -> Response:
        """ref: https://developer-docs.amazon.com/sp-api/docs/feeds-api-v2021-06-30-reference#createfeed"""
        try:
            spec = await request.json()
            feed_type, doc_id = spec["feedType"], spec["inputFeedDocumentId"]
            marketplaces = list(spec["marketplaceIds"])
        except (ValueError, KeyError, TypeError):
            return invalid_input(
                "Invalid input", "feedType, marketplaceIds and inputFeedDocumentId"
            )
        doc = self.documents.get(doc_id)
        if doc is None or doc["content"] is None:
            return invalid_input("Invalid input", f"Feed document {doc_id} has no content.")
        if feed_type != "JSON_LISTINGS_FEED":
            return invalid_input("Invalid input", f"Feed type {feed_type} is not supported.")
        feed_id = self._next_id("feed")
        self.feeds[feed_id] = {
            "feedId": feed_id,
            "feedType": feed_type,
            "marketplaceIds": marketplaces,
            "createdTime": iso(self.clock()),
            "processingStatus": "IN_QUEUE",
            "_polls": 0,
            "_input": doc_id,
        }
        return JSONResponse({"feedId": feed_id}, status_code=202)

    async def _get_feed(self, request: Request, _: frozenset[str]) -> Response:
        feed = self.feeds.get(request.path_params["feedId"])
        if feed is None:
            return sp_errors(404, "NotFound", "The specified resource does not exist.")
        feed["_polls"] += 1
        if feed["_polls"] <= len(FEED_STEPS):
            feed["processingStatus"] = FEED_STEPS[feed["_polls"] - 1]
            feed.setdefault("processingStartTime", iso(self.clock()))
        elif "resultFeedDocumentId" not in feed:
            self._process_feed(feed)
        return JSONResponse({k: v for k, v in feed.items() if not k.startswith("_")})

    def _process_feed(self, feed: dict[str, Any]) -> None:
        try:
            document = json.loads(self.documents[feed["_input"]]["content"])
            messages = document["messages"]
            valid = document["header"]["sellerId"] == self.seller_id
        except (ValueError, KeyError, TypeError):
            valid, messages = False, []
        issues = (
            [] if valid else [_feed_issue(0, None, "The feed is not a valid JSON listings feed.")]
        )
        accepted = 0
        for message in messages if valid else []:
            found = self._feed_message(message)
            issues += found
            accepted += not found
        report = {
            "header": {"sellerId": self.seller_id, "version": "2.0", "feedId": feed["feedId"]},
            "issues": issues,
            "summary": {
                "errors": len(issues),
                "warnings": 0,
                "messagesProcessed": len(messages),
                "messagesAccepted": accepted,
                "messagesInvalid": len(messages) - accepted,
            },
        }
        doc_id = self._next_id("doc")
        content = gzip.compress(json.dumps(report).encode(), mtime=0)
        self.documents[doc_id] = {
            "content_type": "application/json",
            "content": content,
            "compression": "GZIP",
        }
        feed.update(
            processingStatus="DONE" if valid else "FATAL",
            processingEndTime=iso(self.clock()),
            resultFeedDocumentId=doc_id,
        )

    def _feed_message(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        message_id, sku = message.get("messageId"), message.get("sku")
        if message.get("operationType") != "PATCH":
            return [_feed_issue(message_id, sku, "operationType PATCH is the one emulated.")]
        found = self._submit(
            str(sku), message.get("productType"), message.get("patches"), apply=True
        )
        return [{"messageId": message_id, "sku": sku, **issue} for issue in found]

    async def _get_document(self, request: Request, _: frozenset[str]) -> Response:
        doc_id = request.path_params["documentId"]
        doc = self.documents.get(doc_id)
        if doc is None:
            return sp_errors(404, "NotFound", "The specified resource does not exist.")
        body = {"feedDocumentId": doc_id, "url": self._presigned(request, doc_id)}
        if doc.get("compression"):
            body["compressionAlgorithm"] = doc["compression"]
        return JSONResponse(body)


def _issue(code: str, message: str, attributes: Sequence[str] = ()) -> dict[str, Any]:
    issue: dict[str, Any] = {"code": code, "message": message, "severity": "ERROR"}
    if attributes:
        issue["attributeNames"] = list(attributes)
    return issue


def _feed_issue(message_id: Any, sku: Any, message: str) -> dict[str, Any]:
    issue = {"messageId": message_id, "code": INVALID_ATTRIBUTES, "severity": "ERROR"}
    return {**issue, "message": message, **({"sku": sku} if sku else {})}


def _stock_of_patch(patch: Any) -> int | str | None:
    """The DEFAULT quantity a patch sets, None for other attributes, or what is wrong."""
    if not isinstance(patch, dict) or patch.get("op") not in PATCH_OPS or not patch.get("path"):
        return "Each patch needs an op (add, replace, merge, delete) and a path."
    if patch["path"] != STOCK_PATH or patch["op"] == "delete":
        return None
    values = patch.get("value")
    entry = values[0] if isinstance(values, list) and values else None
    quantity = entry.get("quantity") if isinstance(entry, dict) else None
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        return "'fulfillment_availability.quantity' must be a whole number of 0 or more."
    if entry.get("fulfillment_channel_code") != "DEFAULT":  # type: ignore[union-attr]
        return "Only the DEFAULT (merchant) fulfillment channel quantity can be set."
    return quantity


def _not_found(sku: str, marketplace: str) -> Response:
    return sp_errors(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {marketplace}")


def _s3_error(status: int, code: str, message: str) -> Response:
    return Response(
        S3_ERROR.format(code, message), status_code=status, media_type="application/xml"
    )
