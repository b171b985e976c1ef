"""Stock pushes to Amazon: patchListingsItem per SKU, or one JSON_LISTINGS_FEED for many."""

from __future__ import annotations

import gzip
import json
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from erpsync.connectors.amazon import mapping
from erpsync.domain import PushResult, StockUpdate
from erpsync.errors import FatalError

if TYPE_CHECKING:
    from erpsync.connectors.amazon.connector import AmazonConnector

log = logging.getLogger("erpsync.connectors.amazon")

FEED_CONTENT_TYPE = "application/json; charset=UTF-8"
FEED_TYPE = "JSON_LISTINGS_FEED"
#: listings-feed-schema-v2: at most 25,000 messages per feed
FEED_MAX_MESSAGES = 25_000
FINAL_FEED_STATES = frozenset({"DONE", "FATAL", "CANCELLED"})
#: searchListingsItems takes at most 20 identifiers per call (listingsItems_2021-08-01.json)
IDENTIFIERS_PER_SEARCH = 20
FBA_REFUSED = "fulfilled by Amazon (FBA): Amazon holds this stock; not pushed"


def stock_patch(quantity: int) -> dict[str, Any]:
    """The merchant (DEFAULT channel) quantity as one JSON Patch operation."""
    return {
        "op": "replace",
        "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
    }


class StockPusher:
    """One push_stock (or verify_pending) call of an AmazonConnector."""

    def __init__(self, connector: AmazonConnector) -> None:
        self.connector = connector
        self.options = connector.options

    def push(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        results: dict[int, PushResult] = {}
        todo: list[tuple[int, StockUpdate, str]] = []
        for n, update in enumerate(updates):
            sku = update.sku or update.item_id  # the listing's item id is its seller SKU
            if sku in self.connector.fba_skus:
                results[n] = _result(update, ok=False, error=FBA_REFUSED)
            else:
                todo.append((n, update, sku))
        if len(todo) > self.options.feed_threshold:
            for start in range(0, len(todo), FEED_MAX_MESSAGES):
                results.update(self._feed(todo[start : start + FEED_MAX_MESSAGES]))
        else:
            results.update({n: self._patch(update, sku) for n, update, sku in todo})
        return [results[n] for n in range(len(updates))]

    def _product_type(self, update: StockUpdate) -> str:
        return str(update.extra.get("product_type") or self.options.product_type)

    # -- one SKU ------------------------------------------------------------------------------

    def _patch(self, update: StockUpdate, sku: str) -> PushResult:
        """ref: https://developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference#patchlistingsitem"""
        body = {
            "productType": self._product_type(update),
            "patches": [stock_patch(update.quantity)],
        }
        try:
            response = self.connector.request(
                "PATCH",
                self.connector.listings_path(sku),
                operation="patchListingsItem",
                params={
                    "marketplaceIds": self.options.marketplace_id,
                    "issueLocale": self.options.issue_locale,
                },
                json=body,
            )
        except FatalError as exc:  # this SKU's request was refused (400/404): its result only
            return _result(update, ok=False, error=str(exc))
        answer = mapping.push_result(sku, response.json())
        return answer.model_copy(update={"item_id": update.item_id, "variation_id": None})

    # -- many SKUs: JSON_LISTINGS_FEED ---------------------------------------------------------

    def _feed(self, todo: Sequence[tuple[int, StockUpdate, str]]) -> dict[int, PushResult]:
        """Create a document, upload it, create the feed, poll it, read its report.
        ref: https://developer-docs.amazon.com/sp-api/docs/feeds-api-v2021-06-30-use-case-guide
        """
        messages = [
            {
                "messageId": m,
                "sku": sku,
                "operationType": "PATCH",
                "productType": self._product_type(update),
                "patches": [stock_patch(update.quantity)],
            }
            for m, (_, update, sku) in enumerate(todo, start=1)
        ]
        header = {
            "sellerId": self.options.seller_id,
            "version": "2.0",
            "issueLocale": self.options.issue_locale,
        }
        feed_id = self._submit_feed({"header": header, "messages": messages})
        feed = self._wait(feed_id)
        skus = {m: sku for m, (_, _, sku) in enumerate(todo, start=1)}
        errors, fatal = self._outcome(feed_id, feed, skus)
        results: dict[int, PushResult] = {}
        for n, update, sku in todo:
            error = errors.get(sku) or fatal
            if feed is None:  # still processing after the polls: read back next run
                results[n] = _result(update, ok=True, pending=True)
            else:
                results[n] = _result(update, ok=error is None, error=error)
        return results

    def _submit_feed(self, document: dict[str, Any]) -> str:
        connector = self.connector
        created = connector.request(
            "POST",
            "/feeds/2021-06-30/documents",
            operation="createFeedDocument",
            json={"contentType": FEED_CONTENT_TYPE},
        ).json()
        # the pre-signed S3 URL takes no SP-API token (auth=None: this request only)
        connector.request(
            "PUT",
            created["url"],
            operation="documentTransfer",
            auth=None,
            expect_json=False,
            content=json.dumps(document).encode(),
            headers={"Content-Type": FEED_CONTENT_TYPE},
        )
        spec = {
            "feedType": FEED_TYPE,
            "marketplaceIds": [self.options.marketplace_id],
            "inputFeedDocumentId": created["feedDocumentId"],
        }
        answer = connector.request(
            "POST", "/feeds/2021-06-30/feeds", operation="createFeed", json=spec
        )
        feed_id = str(answer.json()["feedId"])
        log.info(
            "%s: feed %s submitted (%d SKUs)", connector.name, feed_id, len(document["messages"])
        )
        return feed_id

    def _wait(self, feed_id: str) -> dict[str, Any] | None:
        """getFeed until DONE/FATAL/CANCELLED, at most ``feed_max_polls`` times."""
        sleep = self.connector.context.sleep or time.sleep
        for poll in range(self.options.feed_max_polls):
            if poll:
                sleep(self.options.feed_poll_seconds)
            feed: dict[str, Any] = self.connector.request(
                "GET", f"/feeds/2021-06-30/feeds/{feed_id}", operation="getFeed"
            ).json()
            if feed.get("processingStatus") in FINAL_FEED_STATES:
                return feed
        log.warning(
            "%s: feed %s still processing; pushes stay pending", self.connector.name, feed_id
        )
        return None

    def _outcome(
        self, feed_id: str, feed: dict[str, Any] | None, skus: dict[int, str]
    ) -> tuple[dict[str, str], str | None]:
        """(SKU -> error) from the processing report, and the error every SKU shares."""
        if feed is None:
            return {}, None
        status = feed.get("processingStatus")
        report = (
            self._report(str(feed["resultFeedDocumentId"]))
            if feed.get("resultFeedDocumentId")
            else {}
        )
        errors = mapping.feed_errors(report, skus)
        if status == "DONE":
            return errors, None
        general = mapping.issue_text(
            i for i in report.get("issues") or [] if not i.get("sku") and not i.get("messageId")
        )
        reason = f"feed {feed_id} ended {status}" + (f": {general}" if general else "")
        return errors, reason

    def _report(self, document_id: str) -> dict[str, Any]:
        """getFeedDocument, then the (maybe GZIP) processing report from its pre-signed URL."""
        connector = self.connector
        info = connector.request(
            "GET", f"/feeds/2021-06-30/documents/{document_id}", operation="getFeedDocument"
        ).json()
        raw = connector.request(
            "GET", info["url"], operation="documentTransfer", auth=None, expect_json=False
        ).content
        if info.get("compressionAlgorithm") == "GZIP":
            raw = gzip.decompress(raw)
        report: dict[str, Any] = json.loads(raw)
        return report

    # -- read back ------------------------------------------------------------------------------

    def verify(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """searchListingsItems by SKU (20 a call): the pushed quantity shows, an ERROR issue
        explains a refusal, anything else is "not applied yet" (the engine sends it again)."""
        found: dict[str, dict[str, Any]] = {}
        skus = [u.sku or u.item_id for u in updates]
        for start in range(0, len(skus), IDENTIFIERS_PER_SEARCH):
            chunk = skus[start : start + IDENTIFIERS_PER_SEARCH]
            response = self.connector.request(
                "GET",
                self.connector.listings_path(),
                operation="searchListingsItems",
                params={
                    "marketplaceIds": self.options.marketplace_id,
                    "identifiers": ",".join(chunk),
                    "identifiersType": "SKU",
                    "includedData": "fulfillmentAvailability,issues",
                    "pageSize": IDENTIFIERS_PER_SEARCH,
                },
            )
            found.update({str(i["sku"]): i for i in response.json().get("items") or []})
        return [_verified(u, found.get(sku)) for u, sku in zip(updates, skus, strict=True)]


def _verified(update: StockUpdate, item: dict[str, Any] | None) -> PushResult:
    if item is None:
        return _result(update, ok=False, error="SKU not found on Amazon")
    shown = next(
        (
            a.get("quantity")
            for a in item.get("fulfillmentAvailability") or []
            if a.get("fulfillmentChannelCode") == "DEFAULT"
        ),
        None,
    )
    if shown == update.quantity:
        return _result(update, ok=True)
    issues = mapping.issue_text(item.get("issues") or [])
    error = issues or f"Amazon shows {shown}, not the {update.quantity} pushed (not applied yet)"
    return _result(update, ok=False, error=error)


def _result(
    update: StockUpdate, *, ok: bool, pending: bool = False, error: str | None = None
) -> PushResult:
    return PushResult(item_id=update.item_id, ok=ok, pending=pending, error=error)
