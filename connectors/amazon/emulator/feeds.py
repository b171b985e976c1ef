"""The emulator's Feeds 2021-06-30 side and its pre-signed S3 documents (a mixin of AmazonEmulator).

A feed moves one processing step per getFeed poll (IN_QUEUE, IN_PROGRESS, then DONE with a GZIP
processing report), so a client's polling loop is exercised without waiting; its messages are
applied through the listings side's ``_submit``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.amazon.emulator.wire import (
    INVALID_ATTRIBUTES,
    Endpoint,
    Handler,
    invalid_input,
    iso,
    sp_errors,
)

#: processingStatus after the n-th getFeed poll (then DONE)
FEED_STEPS = ("IN_QUEUE", "IN_PROGRESS")
S3_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>{}</Code><Message>{}</Message></Error>'
)


class FeedsMixin:
    """Feed documents, feeds and their processing; AmazonEmulator supplies auth, the listings
    side applies each message."""

    if TYPE_CHECKING:
        seller_id: str
        clock: Callable[[], datetime]
        seed: int

        def _api(self, operation: str, handler: Handler) -> Endpoint: ...
        def _next_id(self, kind: str) -> str: ...
        def _submit(
            self, sku: str, product_type: Any, patches: Any, *, apply: bool
        ) -> list[dict[str, Any]]: ...

    def setup_feeds(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.feeds: dict[str, dict[str, Any]] = {}

    def feed_routes(self) -> list[BaseRoute]:
        api = self._api
        return [
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


def _feed_issue(message_id: Any, sku: Any, message: str) -> dict[str, Any]:
    issue = {"messageId": message_id, "code": INVALID_ATTRIBUTES, "severity": "ERROR"}
    return {**issue, "message": message, **({"sku": sku} if sku else {})}


def _s3_error(status: int, code: str, message: str) -> Response:
    return Response(
        S3_ERROR.format(code, message), status_code=status, media_type="application/xml"
    )
